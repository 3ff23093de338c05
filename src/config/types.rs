//! The typed configuration tree, one struct per TOML file. Every key is documented in place in the
//! demo files under `config/`; defaults live here.

use super::roles::{JobRoleConfig, RoleMappingConfig, UserSystemRoleConfig};
use crate::assurance::{Equivalence, IdpProfile, NistLevel, NsisLevel};
use crate::ids::Cvr;
use serde::Deserialize;

/// `chsim.toml`: the server and the broker.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChsimFile {
    /// `[server]`.
    pub server: ServerConfig,
    /// `[broker]`.
    pub broker: BrokerConfig,
    /// `[attribute_service]`.
    #[serde(default)]
    pub attribute_service: AttributeServiceConfig,
    /// `[assurance]`.
    #[serde(default)]
    pub assurance: AssuranceConfig,
    /// `[demo]`.
    #[serde(default)]
    pub demo: DemoConfig,
    /// `[store]`.
    #[serde(default)]
    pub store: StoreConfig,
    /// `[session]`.
    #[serde(default)]
    pub session: SessionConfig,
}

/// `[session]`: chsim's single sign-on session (issue #9 §2). The real Context Handler's
/// lifetimes are not public; the defaults are a working day and an hour of inactivity.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionConfig {
    /// How long a session lasts from the IdP login, at most (default 8 hours).
    #[serde(default = "default_session_lifetime")]
    pub lifetime_seconds: u32,
    /// How long a session lasts without a login through it (default 1 hour).
    #[serde(default = "default_session_idle")]
    pub idle_timeout_seconds: u32,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            lifetime_seconds: default_session_lifetime(),
            idle_timeout_seconds: default_session_idle(),
        }
    }
}

fn default_session_lifetime() -> u32 {
    8 * 3600
}

fn default_session_idle() -> u32 {
    3600
}

/// Where chsim keeps what it remembers between requests (issue #9 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreBackend {
    /// In this process: one instance only.
    Memory,
    /// In a Redis that several instances share.
    Redis,
}

impl StoreBackend {
    /// The name used in chsim.toml.
    pub fn name(self) -> &'static str {
        match self {
            StoreBackend::Memory => "memory",
            StoreBackend::Redis => "redis",
        }
    }
}

/// `[store]`: the state store — in memory (one instance) or Redis (several behind one URL).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// `memory` (default) or `redis`.
    #[serde(default = "default_store_backend")]
    pub backend: StoreBackend,
    /// The Redis server, required with `backend = "redis"`.
    #[serde(default)]
    pub redis_url: Option<String>,
    /// The first part of every Redis key. Default `chsim`.
    #[serde(default = "default_key_prefix")]
    pub key_prefix: String,
    /// The bound on each Redis operation, in milliseconds. Default 1000.
    #[serde(default = "default_store_timeout")]
    pub timeout_ms: u32,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            backend: default_store_backend(),
            redis_url: None,
            key_prefix: default_key_prefix(),
            timeout_ms: default_store_timeout(),
        }
    }
}

fn default_store_backend() -> StoreBackend {
    StoreBackend::Memory
}
fn default_key_prefix() -> String {
    "chsim".to_string()
}
fn default_store_timeout() -> u32 {
    1000
}

/// `[demo]`: what chsim brings along for demos and tests.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoConfig {
    /// Serve the built-in test IdPs (and the simulated NemLog-in), demo user systems, test
    /// attribute services and scripted logins. Default true; false for a real set-up.
    #[serde(default = "default_true")]
    pub builtin_parties: bool,
}

impl Default for DemoConfig {
    fn default() -> Self {
        Self {
            builtin_parties: true,
        }
    }
}

/// `[assurance]`: the NIST level each NSIS level counts as for user systems that require a NIST
/// level (reference §7.1; default KOMBIT's rule of thumb Low 2, Substantial 3, High 4).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssuranceConfig {
    /// NSIS Low counts as this NIST level.
    #[serde(default = "nist2")]
    pub nsis_low_as_nist: NistLevel,
    /// NSIS Substantial counts as this NIST level.
    #[serde(default = "nist3")]
    pub nsis_substantial_as_nist: NistLevel,
    /// NSIS High counts as this NIST level.
    #[serde(default = "nist4")]
    pub nsis_high_as_nist: NistLevel,
}

fn nist2() -> NistLevel {
    NistLevel::TWO
}
fn nist3() -> NistLevel {
    NistLevel::THREE
}
fn nist4() -> NistLevel {
    NistLevel::FOUR
}

impl Default for AssuranceConfig {
    fn default() -> Self {
        Self {
            nsis_low_as_nist: nist2(),
            nsis_substantial_as_nist: nist3(),
            nsis_high_as_nist: nist4(),
        }
    }
}

impl AssuranceConfig {
    /// The equivalence table.
    pub fn equivalence(&self) -> Equivalence {
        Equivalence {
            low: self.nsis_low_as_nist,
            substantial: self.nsis_substantial_as_nist,
            high: self.nsis_high_as_nist,
        }
    }
}

/// `[attribute_service]`: how chsim asks municipalities' attribute services.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeServiceConfig {
    /// Seconds to wait for an answer.
    #[serde(default = "default_as_timeout")]
    pub timeout_seconds: u32,
    /// Seconds an answer is reused for the same (municipality, NameID).
    #[serde(default = "default_as_ttl")]
    pub cache_ttl_seconds: u32,
    /// At most this many cached answers.
    #[serde(default = "default_as_size")]
    pub cache_size: u64,
}

impl Default for AttributeServiceConfig {
    fn default() -> Self {
        Self {
            timeout_seconds: default_as_timeout(),
            cache_ttl_seconds: default_as_ttl(),
            cache_size: default_as_size(),
        }
    }
}

fn default_as_timeout() -> u32 {
    3
}
fn default_as_ttl() -> u32 {
    300
}
fn default_as_size() -> u64 {
    10_000
}

/// `[server]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Socket address to listen on.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// The base URL browsers use to reach chsim (no trailing slash).
    #[serde(default = "default_public_url")]
    pub public_url: String,
}

fn default_listen() -> String {
    "127.0.0.1:8080".to_string()
}
fn default_public_url() -> String {
    "http://localhost:8080".to_string()
}

/// `[broker]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrokerConfig {
    /// entityID of both faces; default `<public_url>/runtime`.
    pub entity_id: Option<String>,
    /// PEM private key file.
    pub signing_key: String,
    /// PEM certificate file.
    pub signing_cert: String,
    /// PEM private key file IdPs encrypt to (only decrypts; never the signing key).
    pub encryption_key: String,
    /// PEM certificate file published as chsim's SP encryption certificate.
    pub encryption_cert: String,
    /// Allowed clock skew in seconds.
    #[serde(default = "default_skew")]
    pub clock_skew_seconds: u32,
    /// Validity of issued assertions in seconds.
    #[serde(default = "default_lifetime")]
    pub assertion_lifetime_seconds: u32,
    /// How long a login may take from the user system's request to the IdP's answer.
    #[serde(default = "default_login_timeout")]
    pub login_timeout_seconds: u32,
    /// Upper bound for a SAML message (decoded XML) and for request bodies.
    #[serde(default = "default_max_bytes")]
    pub max_message_bytes: usize,
    /// Refuse unsigned AuthnRequests from user systems.
    #[serde(default = "default_true")]
    pub require_signed_authn_requests: bool,
    /// Accept rsa-sha1 signatures and SHA-1 digests (logs a warning at start).
    #[serde(default)]
    pub insecure_allow_sha1: bool,
    /// Accept RSA 1.5 key transport in encrypted assertions from IdPs (logs a warning at start).
    #[serde(default)]
    pub insecure_allow_rsa1_5: bool,
}

fn default_skew() -> u32 {
    60
}
fn default_lifetime() -> u32 {
    300
}
fn default_login_timeout() -> u32 {
    900
}
fn default_max_bytes() -> usize {
    256 * 1024
}
fn default_true() -> bool {
    true
}

/// `municipalities.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MunicipalitiesFile {
    /// `[[municipality]]`.
    #[serde(default)]
    pub municipality: Vec<MunicipalityConfig>,
    /// `[[job_role]]`: the job-function roles of all municipalities.
    #[serde(default)]
    pub job_role: Vec<JobRoleConfig>,
    /// `[nemlogin]`: the NemLog-in/MitID IdP municipalities may fall back to for NSIS.
    #[serde(default)]
    pub nemlogin: Option<NemloginConfig>,
}

/// `[nemlogin]`: the national NemLog-in IdP (MitID Erhverv), which municipalities whose own IdP
/// cannot reach an NSIS level may use to reach it (issue #3 §3).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NemloginConfig {
    /// `builtin:test-idp/<id>`, a metadata file or an http(s) URL.
    pub metadata: String,
    /// PEM certificate whose XML signature the metadata must carry (required for an http:// URL).
    #[serde(default)]
    pub metadata_signing_cert: Option<String>,
    /// The entityID to trust, required when the metadata is an aggregate of several entities.
    #[serde(default)]
    pub entity_id: Option<String>,
    /// The highest NSIS level it can assert.
    pub nsis_level: NsisLevel,
}

/// One municipality (anvenderkontekst).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MunicipalityConfig {
    /// Name shown to people.
    pub name: String,
    /// CVR number.
    pub cvr: Cvr,
    /// Its identity providers (with a federation agreement).
    #[serde(default)]
    pub idp: Vec<IdpConfig>,
    /// Its attribute service: `builtin:attribute-service/<id>`, a metadata file or an http(s) URL.
    #[serde(default)]
    pub attribute_service: Option<String>,
    /// PEM certificate whose XML signature the attribute service's metadata must carry.
    #[serde(default)]
    pub attribute_service_metadata_signing_cert: Option<String>,
    /// The attribute service's entityID, when its metadata is an aggregate of several entities.
    #[serde(default)]
    pub attribute_service_entity_id: Option<String>,
    /// When its IdP's answer is below a required NSIS level, the person continues at NemLog-in
    /// (`[nemlogin]`) for the level; roles still come from the municipality. Default false.
    #[serde(default)]
    pub nemlogin_fallback: bool,
}

/// One municipal IdP.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdpConfig {
    /// Name in the IdP chooser (Præsentationsnavn).
    pub presentation_name: String,
    /// `builtin:test-idp/<id>`, a file path relative to the config directory, or an http(s) URL.
    pub metadata: String,
    /// PEM certificate whose XML signature the metadata must carry (required for an http:// URL).
    #[serde(default)]
    pub metadata_signing_cert: Option<String>,
    /// The entityID to trust, required when the metadata is an aggregate of several entities.
    #[serde(default)]
    pub entity_id: Option<String>,
    /// IP ranges (CIDR) whose users are sent straight to this IdP.
    #[serde(default)]
    pub ip_ranges: Vec<String>,
    /// Whether the IdP sends job-function roles (KenderRoller). Default true.
    #[serde(default = "default_true")]
    pub knows_roles: bool,
    /// Whether privileges it sends that already are user-system roles pass through. Default false.
    #[serde(default)]
    pub may_send_user_system_roles: bool,
    /// How chsim tells it the required level (OIOSAMLProfile, reference §7.4).
    pub profile: IdpProfile,
    /// The highest NIST level it can assert (Udbudt assurance level).
    pub nist_level: NistLevel,
    /// The highest NSIS level it can assert, when it is an NSIS IdP (OIOSAML3 profiles only).
    #[serde(default)]
    pub nsis_level: Option<NsisLevel>,
    /// Whether chsim may ask it again, with ForceAuthn, for a higher level (SupportsStepUp).
    #[serde(default)]
    pub supports_step_up: bool,
    /// Whether it takes `<Scoping><RequesterID>` naming the user system (SupportsScope).
    #[serde(default)]
    pub supports_scoping: bool,
}

/// `user_systems.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSystemsFile {
    /// `[[user_system]]`.
    #[serde(default)]
    pub user_system: Vec<UserSystemConfig>,
    /// `[[oidc_user_system]]`.
    #[serde(default)]
    pub oidc_user_system: Vec<OidcUserSystemConfig>,
}

pub use crate::trust::Profile;

pub use crate::oidc::registration::{
    ApplicationType, AuthMethod, ContentEnc, KeyWrapAlg, SigningAlg,
};

/// One OIDC user system (`OIDCBrugervendtSystem`, issue #11 §1): the registration's fields as
/// Context Handler 2's admin API names them, and the role catalogue of a SAML user system.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcUserSystemConfig {
    /// `client_id` (the registration's `Id`): unique across all user systems.
    pub client_id: String,
    /// Name shown to people.
    pub name: String,
    /// The CVR the system is registered under.
    pub cvr: Cvr,
    /// `web`, `native` or `javascript`.
    pub application_type: ApplicationType,
    /// How it authenticates at the token endpoint.
    pub token_endpoint_auth_method: AuthMethod,
    /// Its secret (`client_secret_post`/`client_secret_basic`; A*KW encryption).
    #[serde(default)]
    pub client_secret: Option<String>,
    /// A JWK Set: inline JSON (starting with `{`) or a file relative to the configuration
    /// directory. Its `use=sig` RSA keys verify `private_key_jwt` assertions; its `use=enc` key
    /// encrypts the ID token.
    #[serde(default)]
    pub jwks: Option<String>,
    /// Where codes may be sent: exact match, no wildcards. `{public_url}` is replaced by chsim's
    /// public URL.
    pub redirect_uris: Vec<String>,
    /// Where `logout.idp` may send the browser after logout.
    #[serde(default)]
    pub post_logout_redirect_uri: Option<String>,
    /// Front-channel logout (loaded in an iframe with `iss` and `sid`).
    #[serde(default)]
    pub frontchannel_logout_uri: Option<String>,
    /// Back-channel logout (a `logout_token` POSTed).
    #[serde(default)]
    pub backchannel_logout_uri: Option<String>,
    /// The minimum NIST level (exclusive with `nsis_level`).
    #[serde(default)]
    pub nist_level: Option<NistLevel>,
    /// The minimum NSIS level.
    #[serde(default)]
    pub nsis_level: Option<NsisLevel>,
    /// The JWS algorithm of its ID and access tokens.
    #[serde(default)]
    pub signed_response_alg: SigningAlg,
    /// Encrypt its ID token (JWE) with this key wrapping.
    #[serde(default)]
    pub encrypted_response_alg: Option<KeyWrapAlg>,
    /// …and this content encryption (default A256GCM when `encrypted_response_alg` is set).
    #[serde(default)]
    pub encrypted_response_enc: Option<ContentEnc>,
    /// Lifetime of the ID and access tokens.
    #[serde(default = "default_token_minutes")]
    pub token_lifetime_minutes: u32,
    /// Issue refresh tokens.
    #[serde(default)]
    pub issue_refresh_token: bool,
    /// Rotate refresh tokens on use (a rotated-out one used again revokes the family).
    #[serde(default)]
    pub use_token_rotation: bool,
    /// Lifetime of refresh tokens.
    #[serde(default = "default_token_minutes")]
    pub refresh_token_lifetime_minutes: u32,
    /// Its user-system roles.
    #[serde(default)]
    pub role: Vec<UserSystemRoleConfig>,
    /// Its role mappings.
    #[serde(default)]
    pub mapping: Vec<RoleMappingConfig>,
}

fn default_token_minutes() -> u32 {
    60
}

/// One user system (brugervendt system).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSystemConfig {
    /// Name shown to people.
    pub name: String,
    /// `builtin:demo-sp/<id>`, a file path relative to the config directory, or an http(s) URL.
    pub metadata: String,
    /// PEM certificate whose XML signature the metadata must carry (required for an http:// URL).
    #[serde(default)]
    pub metadata_signing_cert: Option<String>,
    /// The entityID to trust, required when the metadata is an aggregate of several entities.
    #[serde(default)]
    pub entity_id: Option<String>,
    /// Attribute profile.
    pub profile: Profile,
    /// The minimum NIST level it requires (AssuranceLevel); exclusive with `nsis_level`.
    #[serde(default)]
    pub nist_level: Option<NistLevel>,
    /// The minimum NSIS level it requires (NSISAssuranceLevel; OIOSAML3 only).
    #[serde(default)]
    pub nsis_level: Option<NsisLevel>,
    /// Its user-system roles.
    #[serde(default)]
    pub role: Vec<UserSystemRoleConfig>,
    /// Its role mappings.
    #[serde(default)]
    pub mapping: Vec<RoleMappingConfig>,
}

/// `test_idps.toml`: chsim's built-in municipal test IdPs.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestIdpsFile {
    /// `[[test_idp]]`.
    #[serde(default)]
    pub test_idp: Vec<TestIdpConfig>,
    /// `[[test_attribute_service]]`.
    #[serde(default)]
    pub test_attribute_service: Vec<TestAttributeServiceConfig>,
}

/// One built-in test attribute service: answers AttributeQueries with the roles of a test IdP's
/// users.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestAttributeServiceConfig {
    /// Path segment: served under `/test-attribute-service/<id>/`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The `id` of the test IdP whose users (and their roles) it knows.
    pub answers_for: String,
    /// PEM private key file.
    pub signing_key: String,
    /// PEM certificate file.
    pub signing_cert: String,
}

/// Which element a test IdP signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignWhat {
    /// The Assertion (as OS2faktor does).
    Assertion,
    /// The Response (as the Safewhere sample does).
    Response,
}

/// One built-in test IdP.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestIdpConfig {
    /// Path segment: served under `/test-idp/<id>/`.
    pub id: String,
    /// Display name on its login page.
    pub name: String,
    /// CVR of the municipality its users belong to.
    pub cvr: Cvr,
    /// Municipality name (orgName attribute).
    pub org_name: String,
    /// PEM private key file.
    pub signing_key: String,
    /// PEM certificate file.
    pub signing_cert: String,
    /// Which element to sign.
    #[serde(default = "default_sign")]
    pub sign: SignWhat,
    /// Encrypt assertions to chsim.
    #[serde(default)]
    pub encrypt: bool,
    /// Attribute profile it speaks to chsim.
    pub profile: Profile,
    /// Whether it sends the users' job-function roles (false: the Entra ID case). Default true.
    #[serde(default = "default_true")]
    pub sends_roles: bool,
    /// A simulated NemLog-in (MitID Erhverv): users of any municipality (their own `cvr`), the
    /// professional UUID attribute, no roles. Default false.
    #[serde(default)]
    pub nemlogin: bool,
    /// Test users.
    #[serde(default)]
    pub user: Vec<TestUserConfig>,
}

fn default_sign() -> SignWhat {
    SignWhat::Assertion
}

/// One test user (or robot).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestUserConfig {
    /// Short login name.
    pub id: String,
    /// Display name (NameID CN).
    pub name: String,
    /// Serial / UUID (NameID Serial).
    pub serial: String,
    /// E-mail.
    #[serde(default)]
    pub email: Option<String>,
    /// Job-function role URIs, scoped to the IdP's CVR.
    #[serde(default)]
    pub roles: Vec<String>,
    /// The user's CVR when it is not the IdP's (NemLog-in serves every municipality).
    #[serde(default)]
    pub cvr: Option<Cvr>,
    /// Job-function roles sent with another scope or with constraints (`[[test_idp.user.privilege]]`).
    #[serde(default)]
    pub privilege: Vec<TestPrivilegeConfig>,
    /// Extra SAML attributes the IdP sends (`[[test_idp.user.attribute]]`), e.g. a parametric value.
    #[serde(default)]
    pub attribute: Vec<TestAttributeConfig>,
    /// NIST level 1–4 reached by this user.
    pub nist_level: u8,
    /// NSIS level reached (`Low`, `Substantial`, `High`), if the user has an NSIS identity.
    #[serde(default)]
    pub nsis_level: Option<String>,
    /// NIST level reached when the IdP is made to authenticate again (ForceAuthn): the person
    /// (or robot) then uses a second factor. Default: `nist_level`.
    #[serde(default)]
    pub forced_nist_level: Option<u8>,
    /// NSIS level reached when the IdP is made to authenticate again. Default: `nsis_level`.
    #[serde(default)]
    pub forced_nsis_level: Option<String>,
    /// A robot (RPA) account.
    #[serde(default)]
    pub robot: bool,
}

/// A job-function role a test IdP sends with a chosen scope and constraints.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestPrivilegeConfig {
    /// The role URI.
    pub role: String,
    /// The CVR the group is scoped to. Default: the test IdP's own CVR.
    #[serde(default)]
    pub scope: Option<Cvr>,
    /// Constraints sent in the group (for parametric values: name = the parametric identifier).
    #[serde(default)]
    pub constraints: Vec<TestConstraintConfig>,
}

/// A constraint a test IdP sends inside a privilege group.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestConstraintConfig {
    /// The `Name` attribute (constraint type or parametric identifier).
    pub name: String,
    /// The values, sent as repeated `Constraint` elements.
    pub values: Vec<String>,
}

/// An extra SAML attribute a test IdP sends.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestAttributeConfig {
    /// Attribute name.
    pub name: String,
    /// Its values.
    pub values: Vec<String>,
}

/// `demo_sps.toml`: chsim's built-in demo user systems.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoSpsFile {
    /// `[[demo_sp]]`.
    #[serde(default)]
    pub demo_sp: Vec<DemoSpConfig>,
}

/// How a demo SP sends its AuthnRequest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BindingChoice {
    /// HTTP-Redirect with a query-string signature.
    Redirect,
    /// HTTP-POST with an enveloped XML signature.
    Post,
}

/// One demo user system.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoSpConfig {
    /// Path segment: served under `/demo-sp/<id>/`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Attribute profile it expects.
    pub profile: Profile,
    /// PEM private key file.
    pub signing_key: String,
    /// PEM certificate file.
    pub signing_cert: String,
    /// Publish an encryption key (chsim then encrypts assertions to it).
    #[serde(default)]
    pub encrypt: bool,
    /// Binding for its AuthnRequests.
    #[serde(default = "default_binding")]
    pub binding: BindingChoice,
}

fn default_binding() -> BindingChoice {
    BindingChoice::Redirect
}

/// The whole configuration as read.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where it came from.
    pub source: super::ConfigSource,
    /// `chsim.toml`.
    pub chsim: ChsimFile,
    /// `municipalities.toml`.
    pub municipalities: MunicipalitiesFile,
    /// `user_systems.toml`.
    pub user_systems: UserSystemsFile,
    /// `test_idps.toml`.
    pub test_idps: TestIdpsFile,
    /// `demo_sps.toml`.
    pub demo_sps: DemoSpsFile,
    /// Set by `--insecure-demo-keys` on the command line, never by a file: serve with the public
    /// demo keys from `keys/` although `public_url` is not loopback.
    pub insecure_demo_keys: bool,
}

impl Config {
    /// chsim's entityID.
    pub fn entity_id(&self) -> String {
        self.chsim
            .broker
            .entity_id
            .clone()
            .unwrap_or_else(|| format!("{}/runtime", self.public_url()))
    }

    /// The public base URL without a trailing slash.
    pub fn public_url(&self) -> &str {
        self.chsim.server.public_url.trim_end_matches('/')
    }
}
