//! The broker's OpenID Provider face (issue #11 §3): an authorization request becomes a
//! [`PendingLogin`] that goes through the same login as a SAML AuthnRequest (chooser, IdP,
//! level, step-up, NemLog-in, roles, SSO session); where a SAML login ends in a signed
//! assertion, an OIDC login ends in a single-use authorization code, which the token endpoint
//! exchanges for JWTs.
//!
//! What is remembered, each under its own store [`Kind`](super::store::Kind), keyed by the
//! SHA-256 of the secret (so a store dump holds no usable code or token):
//! - a **code** → [`CodeGrant`]: who logged in, for which client, redirect URI, PKCE challenge;
//! - a used code → its grant, so a second use revokes what the first issued (RFC 6749 §4.1.2);
//! - a **grant** → [`Grant`]: what the tokens of one code (and its refresh family) say; revoking
//!   the grant revokes every access and refresh token of it;
//! - a **refresh token** → [`RefreshRecord`]; with rotation, a rotated-out one used again
//!   revokes the grant (reuse detection);
//! - marks: client assertion `jti`s and revoked access-token `jti`s.

mod authorize;
mod code;
mod token;
mod userinfo;

pub use token::{TokenFailure, TokenRequest};
pub use userinfo::UserinfoFailure;

use super::{BrokerError, PendingLogin};
use crate::oidc::{ErrorCode, OAuthError};
use crate::saml::status;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// How long an authorization code may wait for the token endpoint. Short, as RFC 6749 §4.1.2
/// asks (it recommends at most ten minutes); the Context Handler's value is not published.
pub const CODE_LIFETIME_SECONDS: i64 = 60;

/// What an OIDC login carries besides a SAML one (kept in its [`PendingLogin`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OidcLogin {
    /// `state`, returned with the code or the error.
    pub state: String,
    /// `nonce`, put in the ID token.
    pub nonce: String,
    /// `code_challenge` (S256).
    pub code_challenge: String,
    /// `scope`, space-separated.
    pub scope: String,
    /// `max_age` in seconds: a session whose IdP login is older is not reused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u64>,
}

/// Who a token is about and how they logged in, as the tokens of a grant state it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claimed {
    /// `sub`: the person's NameID.
    pub sub: String,
    /// `sid`: this system's place in the SSO session.
    pub sid: String,
    /// The chsim session's public reference: when it ends, so do this grant's codes and tokens.
    #[serde(default)]
    pub session: String,
    /// `acr`.
    pub acr: String,
    /// `auth_time` (seconds).
    pub auth_time: i64,
    /// The person's OIOSAML3 claims, roles mapped for this system.
    pub person: Map<String, Value>,
}

/// An authorization code's binding (RFC 6749 §4.1.3, RFC 7636 §4.6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodeGrant {
    /// The client it was issued to.
    pub client_id: String,
    /// The redirect URI it was sent to.
    pub redirect_uri: String,
    /// The PKCE S256 challenge.
    pub code_challenge: String,
    /// The authorization request's nonce.
    pub nonce: String,
    /// The scope.
    pub scope: String,
    /// When it expires (seconds).
    pub expires_at: i64,
    /// What its tokens say.
    pub claimed: Claimed,
}

/// The tokens of one code and its refresh family. Written once, when the code is exchanged,
/// and never again: revoking it (removing it) cannot be undone by a concurrent refresh.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grant {
    /// The client.
    pub client_id: String,
    /// When the family ends (seconds): the code's exchange plus the longer of the token and
    /// refresh-token lifetimes — an absolute bound however often it is refreshed.
    pub expires_at: i64,
    /// The nonce of the authorization request (repeated in refreshed ID tokens).
    pub nonce: String,
    /// The scope.
    pub scope: String,
    /// What its tokens say.
    pub claimed: Claimed,
}

/// A refresh token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshRecord {
    /// Its grant (family).
    pub grant: String,
    /// The client it was issued to.
    pub client_id: String,
    /// When it expires (seconds).
    pub expires_at: i64,
    /// Replaced by a newer one (rotation): using it again means it was stolen.
    #[serde(default)]
    pub rotated_out: bool,
}

/// SHA-256 (hex) of a code or token: the store keeps no usable secret.
pub(super) fn digest(secret: &str) -> String {
    super::browser_digest(secret)
}

/// A fresh secret handle (256 bits, base64url) for a code, a grant or a refresh token.
pub(super) fn fresh_handle() -> Result<String, BrokerError> {
    crate::ids::random_handle().map_err(|e| BrokerError::Token(format!("no random bytes: {e}")))
}

/// A store lifetime from seconds (never negative).
pub(super) fn ttl(seconds: i64) -> std::time::Duration {
    std::time::Duration::from_secs(u64::try_from(seconds).unwrap_or(0))
}

impl PendingLogin {
    /// Whether `session` may answer this login: always for SAML; for OIDC only when its IdP
    /// login is no older than `max_age` (OIDC Core §3.1.2.1).
    pub(super) fn fresh_enough(
        &self,
        session: &super::session::Session,
        now: DateTime<Utc>,
    ) -> bool {
        self.authenticated_within_max_age(session.identity.authn_instant, now)
    }

    /// Whether an authentication at `authn_instant` satisfies the OIDC `max_age` (always true
    /// without one; a `max_age` beyond what a duration holds is no bound).
    pub(super) fn authenticated_within_max_age(
        &self,
        authn_instant: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> bool {
        let max = self
            .oidc
            .as_ref()
            .and_then(|o| o.max_age)
            .and_then(|m| i64::try_from(m).ok())
            .and_then(Duration::try_seconds);
        max.is_none_or(|max| now - authn_instant <= max)
    }
}

impl BrokerError {
    /// The OAuth error an OIDC user system receives for this failure (its redirect's `error`):
    /// `prompt=none` failures are `login_required` without a session and
    /// `interaction_required` with one; a level that cannot be met is `access_denied`.
    pub fn oauth_error(&self, had_session: bool) -> OAuthError {
        let saml = self.saml_status();
        let code = match (self, saml.sub_code.as_deref()) {
            (BrokerError::OidcRequest(e), _) => e.code,
            (_, Some(status::NO_PASSIVE)) if had_session => ErrorCode::InteractionRequired,
            (_, Some(status::NO_PASSIVE)) => ErrorCode::LoginRequired,
            (BrokerError::Cpu(_) | BrokerError::Store(_), _) => ErrorCode::TemporarilyUnavailable,
            (BrokerError::Token(_), _) => ErrorCode::ServerError,
            (BrokerError::UnknownIdp { .. }, _) => ErrorCode::InvalidRequest,
            _ if saml.code == status::RESPONDER => ErrorCode::AccessDenied,
            _ => ErrorCode::InvalidRequest,
        };
        // The redirect's query ends up in browser histories and the client's access logs: it
        // says what kind of failure it was; the details (IdPs, NameIDs, internal errors) stay
        // on chsim's page and in its log.
        let description = match (self, code) {
            (BrokerError::OidcRequest(e), _) => e.description.as_str(),
            (_, ErrorCode::LoginRequired) => {
                "the person must log in, which prompt=none does not allow"
            }
            (_, ErrorCode::InteractionRequired) => {
                "the login needs the person (a higher level), which prompt=none does not allow"
            }
            (_, ErrorCode::TemporarilyUnavailable) => {
                "chsim could not carry out the login now; try again"
            }
            (_, ErrorCode::ServerError) => "chsim could not issue the token; see chsim's log",
            (
                BrokerError::NoIdpMeetsLevel { .. }
                | BrokerError::IdpCannotMeetLevel { .. }
                | BrokerError::LevelTooLow { .. },
                _,
            ) => "the required assurance level was not reached",
            (BrokerError::UnknownIdp { .. } | BrokerError::NoIdpAvailable, _) => {
                "no identity provider could be used for this login"
            }
            _ => "the login was refused; chsim's page and log say why",
        };
        OAuthError::new(code, description)
    }
}
