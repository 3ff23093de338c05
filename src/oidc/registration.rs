//! An OIDC user system's registration (`OIDCBrugervendtSystem`, `OIDCMetadata` in Context
//! Handler 2's admin API): the values, their defaults, and the rules the Context Handler applies
//! to them, as `check-config` enforces them (issue #11 §1).

use chrono::Duration;
use jsonwebtoken::jwk::JwkSet;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A registered OIDC user system as chsim trusts it, built from `[[oidc_user_system]]` once the
/// configuration is checked (its JWK Set decoded once).
#[derive(Debug, Clone)]
pub struct OidcClient {
    /// `client_id`.
    pub client_id: String,
    /// `application_type`.
    pub application_type: ApplicationType,
    /// `token_endpoint_auth_method`.
    pub auth_method: AuthMethod,
    /// `client_secret` (for the secret methods, and A*KW encryption).
    pub client_secret: Option<String>,
    /// `jwks`: `use=sig` keys for `private_key_jwt`, a `use=enc` key for an encrypted ID token.
    pub jwks: Option<JwkSet>,
    /// `redirect_uris`, matched exactly.
    pub redirect_uris: Vec<String>,
    /// `post_logout_redirect_uri`.
    pub post_logout_redirect_uri: Option<String>,
    /// `frontchannel_logout_uri` (wins over back-channel when both are set).
    pub frontchannel_logout_uri: Option<String>,
    /// `backchannel_logout_uri`.
    pub backchannel_logout_uri: Option<String>,
    /// `id_token.signed_response_alg` (also the access token's).
    pub signed_response_alg: SigningAlg,
    /// `encrypted_response_alg` and `encrypted_response_enc`, when the ID token is encrypted.
    pub encryption: Option<(KeyWrapAlg, ContentEnc)>,
    /// `token_lifetime`: ID and access tokens.
    pub token_lifetime: Duration,
    /// Refresh tokens, when issued.
    pub refresh: Option<RefreshPolicy>,
}

impl OidcClient {
    /// Whether `uri` is one of its redirect URIs (exact string match, as the Context Handler
    /// requires).
    pub fn allows_redirect(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|r| r == uri)
    }
}

/// Reads a registration's `jwks`: a JWK Set whose keys chsim can use — RSA keys (with `n` and
/// `e`) for signatures (`use` absent or `sig`) and encryption (`use=enc`). Other key types are
/// refused, not skipped, so a typo never leaves a client with fewer keys than it thinks.
pub fn parse_jwks(text: &str) -> Result<JwkSet, String> {
    let set: JwkSet = serde_json::from_str(text)
        .map_err(|e| format!("is not a JWK Set ({{\"keys\": [...]}}): {e}"))?;
    if set.keys.is_empty() {
        return Err("is a JWK Set without keys".into());
    }
    for (i, key) in set.keys.iter().enumerate() {
        if !matches!(
            key.algorithm,
            jsonwebtoken::jwk::AlgorithmParameters::RSA(_)
        ) {
            return Err(format!(
                "key {i} is not an RSA key (kty \"RSA\" with n and e): Context Handler 2 takes RS256 client assertions and RSA-OAEP encryption keys"
            ));
        }
    }
    Ok(set)
}

/// Whether the set holds a key for `use=enc` (an encrypted ID token needs one).
pub fn has_encryption_key(set: &JwkSet) -> bool {
    set.keys.iter().any(|k| {
        matches!(
            k.common.public_key_use,
            Some(jsonwebtoken::jwk::PublicKeyUse::Encryption)
        )
    })
}

/// Whether the set holds a key usable for signatures (`use` absent or `sig`).
pub fn has_signing_key(set: &JwkSet) -> bool {
    set.keys.iter().any(|k| {
        matches!(
            k.common.public_key_use,
            None | Some(jsonwebtoken::jwk::PublicKeyUse::Signature)
        )
    })
}

/// `refresh_token` of the registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshPolicy {
    /// `use_token_rotation`: each use gives a new refresh token and retires the old one.
    pub rotation: bool,
    /// `token_lifetime`.
    pub lifetime: Duration,
}

/// `application_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApplicationType {
    /// A server-side web application (confidential client).
    Web,
    /// A native app (public client: `none`, custom scheme or loopback redirect).
    Native,
    /// A browser app (public client: `none`, https redirect).
    Javascript,
}

impl ApplicationType {
    /// As written in the registration.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Web => "web",
            Self::Native => "native",
            Self::Javascript => "javascript",
        }
    }
}

/// `token_endpoint_auth_method`: how the client proves itself at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// `client_id` and `client_secret` in the form body.
    ClientSecretPost,
    /// `Authorization: Basic b64(urlenc(id):urlenc(secret))`.
    ClientSecretBasic,
    /// A JWT signed RS256 with a key from the registration's `jwks`.
    PrivateKeyJwt,
    /// A public client: `client_id` only (PKCE is what binds the code).
    None,
}

impl AuthMethod {
    /// Every method, as discovery lists them.
    pub const ALL: [AuthMethod; 4] = [
        Self::ClientSecretPost,
        Self::ClientSecretBasic,
        Self::PrivateKeyJwt,
        Self::None,
    ];

    /// As written in the registration and in discovery.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretPost => "client_secret_post",
            Self::ClientSecretBasic => "client_secret_basic",
            Self::PrivateKeyJwt => "private_key_jwt",
            Self::None => "none",
        }
    }
}

impl fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `id_token.signed_response_alg`: the JWS algorithm of the ID token and the access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum SigningAlg {
    /// RSASSA-PSS with SHA-256 (the default).
    #[default]
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
}

impl SigningAlg {
    /// Every algorithm chsim signs with, as discovery lists them.
    pub const ALL: [SigningAlg; 3] = [Self::PS256, Self::PS384, Self::PS512];

    /// The JWA name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PS256 => "PS256",
            Self::PS384 => "PS384",
            Self::PS512 => "PS512",
        }
    }
}

/// `encrypted_response_alg`: how the content key of an encrypted ID token is wrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum KeyWrapAlg {
    /// RSAES-OAEP with SHA-1.
    #[serde(rename = "RSA-OAEP")]
    RsaOaep,
    /// RSAES-OAEP with SHA-256 (the default).
    #[default]
    #[serde(rename = "RSA-OAEP-256")]
    RsaOaep256,
    /// AES key wrap with a key derived from `client_secret` (OIDC Core §10.2).
    A128KW,
    /// As A128KW, 192 bits.
    A192KW,
    /// As A128KW, 256 bits.
    A256KW,
}

impl KeyWrapAlg {
    /// Every algorithm, as discovery lists them.
    pub const ALL: [KeyWrapAlg; 5] = [
        Self::RsaOaep,
        Self::RsaOaep256,
        Self::A128KW,
        Self::A192KW,
        Self::A256KW,
    ];

    /// The JWA name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RsaOaep => "RSA-OAEP",
            Self::RsaOaep256 => "RSA-OAEP-256",
            Self::A128KW => "A128KW",
            Self::A192KW => "A192KW",
            Self::A256KW => "A256KW",
        }
    }

    /// Whether the key comes from the client's `use=enc` RSA key (else from its secret).
    pub fn is_rsa(self) -> bool {
        matches!(self, Self::RsaOaep | Self::RsaOaep256)
    }
}

/// `encrypted_response_enc`: the content encryption of an encrypted ID token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ContentEnc {
    /// AES-128-CBC with HMAC-SHA-256.
    #[serde(rename = "A128CBC-HS256")]
    A128CbcHs256,
    /// AES-192-CBC with HMAC-SHA-384.
    #[serde(rename = "A192CBC-HS384")]
    A192CbcHs384,
    /// AES-256-CBC with HMAC-SHA-512.
    #[serde(rename = "A256CBC-HS512")]
    A256CbcHs512,
    /// AES-128-GCM.
    A128GCM,
    /// AES-192-GCM.
    A192GCM,
    /// AES-256-GCM (the default).
    #[default]
    A256GCM,
}

impl ContentEnc {
    /// Every encryption, as discovery lists them.
    pub const ALL: [ContentEnc; 6] = [
        Self::A128CbcHs256,
        Self::A192CbcHs384,
        Self::A256CbcHs512,
        Self::A128GCM,
        Self::A192GCM,
        Self::A256GCM,
    ];

    /// The JWA name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::A128CbcHs256 => "A128CBC-HS256",
            Self::A192CbcHs384 => "A192CBC-HS384",
            Self::A256CbcHs512 => "A256CBC-HS512",
            Self::A128GCM => "A128GCM",
            Self::A192GCM => "A192GCM",
            Self::A256GCM => "A256GCM",
        }
    }
}

/// A redirect URI the way the Context Handler's registration rules read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirectKind {
    /// `https://…`.
    Https,
    /// `http://localhost…`, `http://127.x.x.x…`, `http://[::1]…`.
    HttpLoopback,
    /// Any other `http://`.
    HttpElsewhere,
    /// A private-use scheme (`com.example.app:/cb`).
    CustomScheme,
}

/// The verdict on one redirect (or logout) URI of a registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UriVerdict {
    /// The Context Handler accepts it.
    Fine,
    /// chsim accepts it, the Context Handler would not (said as a warning).
    Differs(String),
    /// Refused.
    Refused(String),
}

/// Classifies `uri`, refusing what no registration may hold: no absolute URI, a wildcard, a
/// fragment.
pub fn classify_uri(uri: &str) -> Result<RedirectKind, String> {
    if uri.contains('*') {
        return Err(format!("`{uri}` contains a wildcard; the Context Handler matches redirect URIs exactly, so list each one"));
    }
    let parsed =
        url::Url::parse(uri).map_err(|e| format!("`{uri}` is not an absolute URI ({e})"))?;
    if parsed.fragment().is_some() {
        return Err(format!(
            "`{uri}` has a fragment (#…), which a redirect URI must not have (RFC 6749 §3.1.2)"
        ));
    }
    Ok(match parsed.scheme() {
        "https" => RedirectKind::Https,
        "http" => match parsed.host() {
            Some(url::Host::Domain("localhost")) => RedirectKind::HttpLoopback,
            Some(url::Host::Ipv4(ip)) if ip.is_loopback() => RedirectKind::HttpLoopback,
            Some(url::Host::Ipv6(ip)) if ip.is_loopback() => RedirectKind::HttpLoopback,
            _ => RedirectKind::HttpElsewhere,
        },
        // Schemes a browser runs or reads locally are never a client's (RFC 8252 §7.1 wants a
        // reverse-DNS private scheme): a redirect there would run script on chsim's origin.
        "javascript" | "data" | "vbscript" | "file" | "blob" | "about" | "filesystem" => {
            return Err(format!(
                "`{uri}` uses the scheme `{}`, which no client may register; a native client uses a reverse-DNS scheme such as com.example.app:/callback",
                parsed.scheme()
            ))
        }
        _ => RedirectKind::CustomScheme,
    })
}

/// The Context Handler's rule for a redirect URI of an `application_type` client (reference §2):
/// web and javascript clients https only, native clients a custom scheme or http loopback.
/// chsim accepts http loopback for web and javascript clients too (a developer's laptop), with a
/// warning that the Context Handler would refuse it.
pub fn redirect_uri_verdict(application_type: ApplicationType, uri: &str) -> UriVerdict {
    let kind = match classify_uri(uri) {
        Ok(kind) => kind,
        Err(e) => return UriVerdict::Refused(e),
    };
    match (application_type, kind) {
        (ApplicationType::Native, RedirectKind::CustomScheme | RedirectKind::HttpLoopback)
        | (ApplicationType::Web | ApplicationType::Javascript, RedirectKind::Https) => {
            UriVerdict::Fine
        }
        (ApplicationType::Native, RedirectKind::Https) => UriVerdict::Differs(format!(
            "`{uri}`: the Context Handler takes only a custom scheme or an http loopback address (localhost, 127.0.0.1, [::1]) for a native client; chsim accepts https"
        )),
        (ApplicationType::Web | ApplicationType::Javascript, RedirectKind::HttpLoopback) => {
            UriVerdict::Differs(format!(
                "`{uri}`: the Context Handler takes only https redirect URIs for a {} client; chsim accepts http on loopback so the system can be tried on a laptop",
                application_type.as_str()
            ))
        }
        (_, RedirectKind::HttpElsewhere) => UriVerdict::Refused(format!(
            "`{uri}` is plain http away from loopback; use https (or, for a native client, a custom scheme or http://127.0.0.1)"
        )),
        (ApplicationType::Web | ApplicationType::Javascript, RedirectKind::CustomScheme) => {
            UriVerdict::Refused(format!(
                "`{uri}` has a custom scheme, which only a native client may use; a {} client needs https",
                application_type.as_str()
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_a_browser_runs_are_refused_for_every_client() {
        for uri in [
            "javascript:alert(document.domain)//",
            "data:text/html,hi",
            "vbscript:x",
            "file:///etc/passwd",
        ] {
            let e = classify_uri(uri).unwrap_err();
            assert!(e.contains("no client may register"), "{uri}: {e}");
            assert!(matches!(
                redirect_uri_verdict(ApplicationType::Native, uri),
                UriVerdict::Refused(_)
            ));
        }
        assert_eq!(
            classify_uri("com.example.app:/callback"),
            Ok(RedirectKind::CustomScheme)
        );
        assert_eq!(
            classify_uri("http://127.0.0.2:8080/cb"),
            Ok(RedirectKind::HttpLoopback)
        );
    }

    #[test]
    fn redirect_uris_follow_the_context_handlers_rules() {
        use ApplicationType::*;
        assert_eq!(
            redirect_uri_verdict(Web, "https://app.example.dk/cb"),
            UriVerdict::Fine
        );
        assert_eq!(
            redirect_uri_verdict(Native, "dk.example.app:/cb"),
            UriVerdict::Fine
        );
        assert_eq!(
            redirect_uri_verdict(Native, "http://127.0.0.1:7777/cb"),
            UriVerdict::Fine
        );
        assert!(matches!(
            redirect_uri_verdict(Web, "http://localhost:3000/cb"),
            UriVerdict::Differs(_)
        ));
        for refused in [
            "http://app.example.dk/cb",
            "https://*.example.dk/cb",
            "https://app.example.dk/cb#x",
            "/relative",
        ] {
            assert!(
                matches!(redirect_uri_verdict(Web, refused), UriVerdict::Refused(_)),
                "{refused}"
            );
        }
        assert!(matches!(
            redirect_uri_verdict(Javascript, "dk.example.app:/cb"),
            UriVerdict::Refused(_)
        ));
    }

    #[test]
    fn names_read_as_the_registration_writes_them() {
        #[derive(Deserialize)]
        struct R {
            m: AuthMethod,
            a: SigningAlg,
            k: KeyWrapAlg,
            e: ContentEnc,
            t: ApplicationType,
        }
        let r: R = toml::from_str(
            "m = \"private_key_jwt\"\na = \"PS384\"\nk = \"RSA-OAEP-256\"\ne = \"A128CBC-HS256\"\nt = \"javascript\"",
        )
        .unwrap();
        assert_eq!(r.m, AuthMethod::PrivateKeyJwt);
        assert_eq!(r.a, SigningAlg::PS384);
        assert_eq!(r.k, KeyWrapAlg::RsaOaep256);
        assert_eq!(r.e, ContentEnc::A128CbcHs256);
        assert_eq!(r.t, ApplicationType::Javascript);
    }
}
