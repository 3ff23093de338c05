//! chsim's built-in demo OIDC user system (issue #11 §4): a relying party served at
//! `/demo-oidc/` that logs in through chsim's OpenID Provider exactly as a vendor's system would,
//! and shows what it received — the ID token's header and claims with the key that verified it,
//! the access token's claims, the userinfo answer and the decoded privilege list.
//!
//! It is a separate party: it talks to chsim only over HTTP, at chsim's public URL (discovery,
//! JWK Set, token and userinfo endpoints, the browser's redirects), and its protocol code is the
//! `openidconnect` crate's, not chsim's — so it checks chsim the way an independent RP does. What it
//! shares with chsim is what a real RP shares with the Context Handler: its registration (client
//! id, secret, redirect and logout URIs), read from the `[[oidc_user_system]]` entry whose
//! `client_id` is [`CLIENT_ID`].
//!
//! [`flow`] is the login (authorization request, callback, code exchange); [`verify`] checks the
//! tokens; [`session`] is its own sessions, the Refresh and Userinfo buttons and both logouts.

mod flow;
pub mod session;
#[cfg(test)]
mod tests;
mod verify;

pub use flow::{Callback, LoginOptions};
pub use session::{OidcSession, Shown};

use crate::clock::Clock;
use crate::party_logout::Sessions;
use moka::sync::Cache;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreRevocableToken,
    CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet,
    ProviderMetadataWithLogout, StandardErrorResponse, StandardTokenResponse,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The demo OIDC user system's `client_id` in `user_systems.toml`.
pub const CLIENT_ID: &str = "demo-oidc";
/// Its path under chsim's public URL.
pub const PATH: &str = "/demo-oidc";
/// The JWS algorithms it accepts for ID and access tokens: those chsim signs with (an explicit
/// list, STYLE.md habit 3; never `none` or HMAC).
pub const ALGORITHMS: [CoreJwsSigningAlgorithm; 3] = [
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
];

/// chsim's claims beyond OIDC's standard ones (the OIOSAML3 attribute URIs, `sid`, and the
/// access token's `client_id`, `scope`, `jti`), kept by name.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ChsimClaims {
    /// Every claim that is not a standard one.
    #[serde(flatten)]
    pub claims: serde_json::Map<String, serde_json::Value>,
}
impl AdditionalClaims for ChsimClaims {}

type IdTokenFields = openidconnect::IdTokenFields<
    ChsimClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type TokenResponse = StandardTokenResponse<IdTokenFields, CoreTokenType>;
type IdToken = openidconnect::IdToken<
    ChsimClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type IdTokenClaims = openidconnect::IdTokenClaims<ChsimClaims, CoreGenderClaim>;
/// The RP's client, as discovery makes it (authorization endpoint set; token and userinfo
/// endpoints as discovery states them).
type OidcClient = openidconnect::Client<
    ChsimClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    TokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// How it authenticates at chsim's token endpoint (its registration's method).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// `client_secret_basic`.
    Basic,
    /// `client_secret_post`.
    Post,
    /// `none` (a public client: PKCE only).
    None,
}

/// What the demo OIDC user system is configured with: its registration at chsim.
#[derive(Clone)]
pub struct DemoOidcConfig {
    /// Shown on its pages (the registration's `name`).
    pub name: String,
    /// `client_id`.
    pub client_id: String,
    /// The secret for `client_secret_basic`/`client_secret_post`.
    pub client_secret: Option<String>,
    /// How it authenticates at the token endpoint.
    pub auth: ClientAuth,
    /// chsim's public URL (the issuer is `<public_url>/runtime/oauth2`).
    pub public_url: String,
}

impl std::fmt::Debug for DemoOidcConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoOidcConfig")
            .field("name", &self.name)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("auth", &self.auth)
            .field("public_url", &self.public_url)
            .finish()
    }
}

/// Why the demo OIDC user system did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum DemoOidcError {
    /// Its registration cannot be used by this RP.
    #[error("the demo OIDC user system cannot use its registration: {0}")]
    Registration(String),
    /// chsim's discovery document or JWK Set could not be fetched or read.
    #[error(
        "the demo OIDC user system could not read chsim's discovery document at {url}: {reason}"
    )]
    Discovery {
        /// The discovery URL.
        url: String,
        /// What failed.
        reason: String,
    },
    /// chsim answered the authorization request with an error (RFC 6749 §4.1.2.1).
    #[error("chsim answered the authorization request with `{error}`{}", description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Authorization {
        /// `error`.
        error: String,
        /// `error_description`.
        description: Option<String>,
        /// `state`, as it came back.
        state: Option<String>,
    },
    /// The callback's `state` names no login this browser started here (or one already finished).
    #[error("the callback's state `{0}` names no login this browser started at the demo OIDC user system (a forged or replayed callback, or one older than 10 minutes)")]
    UnknownState(String),
    /// The callback's `iss` is not chsim's issuer (RFC 9207 §2.4: a mix-up attack).
    #[error("the callback's iss is `{found}`, not chsim's issuer `{expected}` (RFC 9207)")]
    WrongIssuer {
        /// chsim's issuer.
        expected: String,
        /// What came, or `(none)`.
        found: String,
    },
    /// The callback has neither `code` nor `error`.
    #[error("the callback carries no code")]
    NoCode,
    /// chsim's token endpoint refused the code or refresh token, or its answer was unreadable.
    #[error("chsim's token endpoint: {0}")]
    Token(String),
    /// The token response has no ID token.
    #[error("chsim's token response carries no id_token")]
    NoIdToken,
    /// The ID token failed verification (OIDC Core §3.1.3.7).
    #[error("the ID token failed verification: {0}")]
    IdToken(String),
    /// `at_hash` does not match the access token (OIDC Core §3.1.3.8).
    #[error("the ID token's at_hash does not match the access token: {0}")]
    AtHash(String),
    /// A refreshed ID token names another person or login (OIDC Core §12.2).
    #[error("the refreshed ID token's {claim} is `{found}`, not `{expected}` as in the first (OIDC Core §12.2)")]
    RefreshMismatch {
        /// The claim.
        claim: &'static str,
        /// The first ID token's value.
        expected: String,
        /// The refreshed one's.
        found: String,
    },
    /// A button that needs a session was pressed without one.
    #[error("the demo OIDC user system has no session for this browser: log in first")]
    NotLoggedIn,
    /// Refresh was asked for, but chsim issued no refresh token.
    #[error("chsim issued no refresh token to this session")]
    NoRefreshToken,
    /// chsim's discovery document names no `end_session_endpoint`.
    #[error("chsim's discovery document names no end_session_endpoint")]
    NoEndSession,
    /// A front-channel logout names another issuer than chsim's (OIDC Front-Channel Logout §2).
    #[error("the front-channel logout names issuer `{found}`, not chsim's `{expected}`")]
    FrontChannelIssuer {
        /// chsim's issuer.
        expected: String,
        /// What came, or `(none)`.
        found: String,
    },
    /// A front-channel logout without `sid` (this RP registered with session-bound logout).
    #[error("the front-channel logout carries no sid")]
    FrontChannelSid,
}

/// A login the browser started: what the callback must match.
#[derive(Clone)]
struct Pending {
    /// The browser's handle (the cookie) that started it.
    browser: String,
    nonce: openidconnect::Nonce,
    verifier: String,
    requested: LoginOptions,
}

/// The demo OIDC user system.
pub struct DemoOidc {
    config: DemoOidcConfig,
    http: openidconnect::reqwest::Client,
    clock: Arc<dyn Clock>,
    /// Logins started, by `state` (10 minutes, bounded).
    pending: Cache<String, Pending>,
    /// RP-initiated logouts sent to chsim, by `state`: the browser handle that sent them.
    logouts: Cache<String, String>,
    sessions: Sessions<OidcSession>,
}

impl std::fmt::Debug for DemoOidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoOidc")
            .field("config", &self.config)
            .field("sessions", &self.sessions)
            .finish()
    }
}

impl DemoOidc {
    /// A demo OIDC user system with `config`. Its HTTP client follows no redirects (an RP must
    /// not let the token endpoint send its secret elsewhere) and gives up after 10 s.
    pub fn new(config: DemoOidcConfig, clock: Arc<dyn Clock>) -> Result<Self, DemoOidcError> {
        if config.auth != ClientAuth::None && config.client_secret.is_none() {
            return Err(DemoOidcError::Registration(
                "a client_secret_basic or client_secret_post client needs its client_secret".into(),
            ));
        }
        let http = openidconnect::reqwest::Client::builder()
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| DemoOidcError::Registration(format!("no HTTP client: {e}")))?;
        Ok(Self {
            config,
            http,
            clock,
            pending: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(std::time::Duration::from_secs(600))
                .build(),
            logouts: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(std::time::Duration::from_secs(600))
                .build(),
            sessions: Sessions::default(),
        })
    }

    /// Its configuration.
    pub fn config(&self) -> &DemoOidcConfig {
        &self.config
    }

    /// chsim's issuer, as this RP is configured with it.
    pub fn issuer(&self) -> String {
        format!(
            "{}{}",
            self.config.public_url.trim_end_matches('/'),
            crate::oidc::discovery::ISSUER_PATH
        )
    }

    /// Its base URL (`<public_url>/demo-oidc`).
    pub fn base_url(&self) -> String {
        format!("{}{PATH}", self.config.public_url.trim_end_matches('/'))
    }

    /// Its redirect URI (registered).
    pub fn redirect_uri(&self) -> String {
        format!("{}/callback", self.base_url())
    }

    /// Where chsim sends the browser after RP-initiated logout (registered).
    pub fn post_logout_redirect_uri(&self) -> String {
        format!("{}/", self.base_url())
    }

    /// The origin of chsim (scheme, host, port), which may frame its front-channel logout page.
    pub fn chsim_origin(&self) -> String {
        url::Url::parse(&self.config.public_url)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_else(|_| self.config.public_url.clone())
    }

    /// Discovery (OIDC Discovery 1.0 §4) and chsim's JWK Set, fetched at every step, as an RP that
    /// caches nothing: a key rollover at chsim is seen at once.
    async fn discover(&self) -> Result<(ProviderMetadataWithLogout, OidcClient), DemoOidcError> {
        let issuer = self.issuer();
        let fail = |reason: String| DemoOidcError::Discovery {
            url: format!("{issuer}/.well-known/openid-configuration"),
            reason,
        };
        let issuer_url =
            openidconnect::IssuerUrl::new(issuer.clone()).map_err(|e| fail(e.to_string()))?;
        let metadata = ProviderMetadataWithLogout::discover_async(issuer_url, &self.http)
            .await
            .map_err(|e| fail(error_chain(&e)))?;
        let redirect = openidconnect::RedirectUrl::new(self.redirect_uri())
            .map_err(|e| fail(e.to_string()))?;
        let client = OidcClient::from_provider_metadata(
            metadata.clone(),
            openidconnect::ClientId::new(self.config.client_id.clone()),
            self.config
                .client_secret
                .clone()
                .map(openidconnect::ClientSecret::new),
        )
        .set_redirect_uri(redirect)
        .set_auth_type(match self.config.auth {
            ClientAuth::Post => openidconnect::AuthType::RequestBody,
            ClientAuth::Basic | ClientAuth::None => openidconnect::AuthType::BasicAuth,
        });
        Ok((metadata, client))
    }
}

/// An error with its sources, for a page (openidconnect's errors nest the HTTP cause).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}
