//! Everything the broker remembers between two HTTP requests (issue #9 §1): pending logins,
//! the AuthnRequests chsim sent to IdPs (taken atomically, once), which of those were answered,
//! used assertion IDs, AuthnRequests already accepted, and login reports — and, with the SSO
//! session, sessions and logouts in progress.
//!
//! Two layers, so that a backend is one small sibling file:
//! - [`LoginStore`], the backend: a handful of byte-valued operations with expiry — `put`, `get`,
//!   `take` (atomic get-and-delete: of two callers only one gets the value), `put_new` (set only
//!   when absent: the replay check) and `remove` — in one namespace per [`Kind`]. The in-memory
//!   backend ([`memory`]) is moka; the shared one ([`redis`]) maps each operation to one Redis
//!   command.
//! - [`Store`], the typed face the broker uses: it names each item, picks its lifetime and
//!   serialises it (JSON, so a Redis key can be read by a person debugging).
//!
//! Nothing else in the broker touches a cache.

pub mod memory;
pub mod redis;
pub mod seen;

use super::report::LoginReport;
use super::{IdpRequest, PendingLogin};
use crate::ids::LoginId;
use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

/// One namespace of the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A user system's login waiting for an IdP, by chsim's login handle.
    Login,
    /// An AuthnRequest chsim sent to an IdP, by its ID (the answer's InResponseTo).
    IdpRequest,
    /// An IdP request that was answered (only to tell "answered before" from "never asked").
    Answered,
    /// An assertion ID accepted once (rule 8), until the assertion expires.
    Assertion,
    /// A user system's AuthnRequest accepted once (`issuer \n ID`), for the clock-skew window.
    AuthnRequest,
    /// A login report, by chsim's SessionIndex.
    Report,
    /// An SSO session, by its cookie value.
    Session,
    /// A SessionIndex chsim issued to a user system, or an IdP issued to chsim → the session.
    SessionIndex,
    /// A single logout in progress, by its handle (the RelayState chsim sends).
    Logout,
    /// A LogoutRequest chsim sent, by its ID → the logout it belongs to.
    LogoutSent,
    /// A LogoutRequest received (`issuer \n ID`), accepted once.
    LogoutRequest,
    /// An OIDC authorization code (by its SHA-256) → what it grants.
    OidcCode,
    /// A code exchanged once (by its SHA-256) → the grant it gave, revoked on a second use.
    OidcCodeUsed,
    /// The tokens of one code and its refresh family, by grant handle.
    OidcGrant,
    /// A refresh token (by its SHA-256) → its grant.
    OidcRefresh,
    /// A revoked access token's `jti`, until it expires.
    OidcRevoked,
    /// A client assertion's `client_id \n jti`, accepted once (private_key_jwt replay).
    ClientAssertion,
    /// A chsim session (its public reference) that ended: its OIDC codes and tokens are refused.
    OidcSessionEnded,
}

impl Kind {
    /// Every kind, for backends that set up one space per kind.
    pub const ALL: [Kind; 18] = [
        Kind::Login,
        Kind::IdpRequest,
        Kind::Answered,
        Kind::Assertion,
        Kind::AuthnRequest,
        Kind::Report,
        Kind::Session,
        Kind::SessionIndex,
        Kind::Logout,
        Kind::LogoutSent,
        Kind::LogoutRequest,
        Kind::OidcCode,
        Kind::OidcCodeUsed,
        Kind::OidcGrant,
        Kind::OidcRefresh,
        Kind::OidcRevoked,
        Kind::ClientAssertion,
        Kind::OidcSessionEnded,
    ];

    /// The namespace's name (a Redis key prefix, a log field).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Login => "login",
            Kind::IdpRequest => "idp-request",
            Kind::Answered => "answered",
            Kind::Assertion => "assertion",
            Kind::AuthnRequest => "authn-request",
            Kind::Report => "report",
            Kind::Session => "session",
            Kind::SessionIndex => "session-index",
            Kind::Logout => "logout",
            Kind::LogoutSent => "logout-sent",
            Kind::LogoutRequest => "logout-request",
            Kind::OidcCode => "oidc-code",
            Kind::OidcCodeUsed => "oidc-code-used",
            Kind::OidcGrant => "oidc-grant",
            Kind::OidcRefresh => "oidc-refresh",
            Kind::OidcRevoked => "oidc-revoked",
            Kind::ClientAssertion => "client-assertion",
            Kind::OidcSessionEnded => "oidc-session-ended",
        }
    }
}

/// Why the store could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The backend did not answer (a shared store that is down or unreachable).
    #[error("chsim's {backend} state store did not answer: {reason}")]
    Unavailable {
        /// The backend (`redis`).
        backend: &'static str,
        /// What failed.
        reason: String,
    },
    /// An item could not be written, or read back (written by another chsim version?).
    #[error("chsim's state store could not encode or decode the {kind} item `{key}`: {reason}")]
    Corrupt {
        /// The namespace.
        kind: &'static str,
        /// The key.
        key: String,
        /// What failed.
        reason: String,
    },
    /// The in-memory replay marks of a kind reached their bound: chsim refuses new messages
    /// rather than forget IDs before their time (which would let a replay through).
    #[error(
        "chsim's in-memory store holds {ids} {kind} IDs, all its budget of {budget_bytes} bytes \
         allows; it refuses new ones until older ones expire rather than forget any early"
    )]
    Full {
        /// The namespace.
        kind: &'static str,
        /// How many IDs it holds.
        ids: usize,
        /// Its budget.
        budget_bytes: u64,
    },
}

/// A store backend: byte values under `(kind, key)` with an expiry.
#[async_trait]
pub trait LoginStore: Send + Sync + std::fmt::Debug {
    /// Stores `value`, replacing any, for `ttl`.
    async fn put(
        &self,
        kind: Kind,
        key: &str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> Result<(), StoreError>;
    /// The value, if present and not expired.
    async fn get(&self, kind: Kind, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Removes and returns the value, atomically: of concurrent callers only one gets it.
    async fn take(&self, kind: Kind, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Stores `value` only if nothing is stored under the key; true when it was stored.
    async fn put_new(
        &self,
        kind: Kind,
        key: &str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> Result<bool, StoreError>;
    /// Removes the value, if any.
    async fn remove(&self, kind: Kind, key: &str) -> Result<(), StoreError>;
}

/// How long each kind of item is kept.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    /// A pending login and the request sent for it: the login timeout.
    pub login: Duration,
    /// A user system's AuthnRequest ID: a request older than the skew is refused anyway.
    pub authn_request: Duration,
    /// A login report.
    pub report: Duration,
}

/// The broker's typed view of its store.
#[derive(Debug, Clone)]
pub struct Store {
    backend: Arc<dyn LoginStore>,
    lifetimes: Lifetimes,
}

impl Store {
    /// A store over `backend`.
    pub fn new(backend: Arc<dyn LoginStore>, lifetimes: Lifetimes) -> Self {
        Self { backend, lifetimes }
    }

    /// Stores a value of a kind the typed methods below do not cover (the logout module's).
    pub(in crate::broker) async fn put<T: Serialize>(
        &self,
        kind: Kind,
        key: &str,
        value: &T,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        self.backend
            .put(kind, key, encode(kind, key, value)?, ttl)
            .await
    }

    /// Reads a value stored with [`Self::put`].
    pub(in crate::broker) async fn get<T: DeserializeOwned>(
        &self,
        kind: Kind,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        decode(kind, key, self.backend.get(kind, key).await?)
    }

    /// Takes a value stored with [`Self::put`], once.
    pub(in crate::broker) async fn take<T: DeserializeOwned>(
        &self,
        kind: Kind,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        decode(kind, key, self.backend.take(kind, key).await?)
    }

    /// Records `key` for `ttl`; false when it was recorded before (a replay).
    pub(in crate::broker) async fn first_use(
        &self,
        kind: Kind,
        key: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        self.backend.put_new(kind, key, Vec::new(), ttl).await
    }

    /// Whether `key` was recorded with [`Self::first_use`].
    pub(in crate::broker) async fn marked(
        &self,
        kind: Kind,
        key: &str,
    ) -> Result<bool, StoreError> {
        Ok(self.backend.get(kind, key).await?.is_some())
    }

    /// Forgets `key`.
    pub(in crate::broker) async fn remove(&self, kind: Kind, key: &str) -> Result<(), StoreError> {
        self.backend.remove(kind, key).await
    }

    /// Remembers a pending login.
    pub async fn put_login(&self, login: &PendingLogin) -> Result<(), StoreError> {
        self.put(Kind::Login, login.id.as_str(), login, self.lifetimes.login)
            .await
    }

    /// A pending login.
    pub async fn login(&self, id: &LoginId) -> Result<Option<PendingLogin>, StoreError> {
        self.get(Kind::Login, id.as_str()).await
    }

    /// Forgets a pending login.
    pub async fn remove_login(&self, id: &LoginId) -> Result<(), StoreError> {
        self.backend.remove(Kind::Login, id.as_str()).await
    }

    /// Remembers a request chsim sent to an IdP.
    pub async fn put_idp_request(
        &self,
        request_id: &str,
        request: &IdpRequest,
    ) -> Result<(), StoreError> {
        self.put(Kind::IdpRequest, request_id, request, self.lifetimes.login)
            .await
    }

    /// A request chsim sent, looked at without taking it.
    pub async fn idp_request(&self, request_id: &str) -> Result<Option<IdpRequest>, StoreError> {
        self.get(Kind::IdpRequest, request_id).await
    }

    /// Takes a request chsim sent, once: the one caller that gets it has the answer; the request
    /// is then remembered as answered.
    pub async fn take_idp_request(
        &self,
        request_id: &str,
    ) -> Result<Option<IdpRequest>, StoreError> {
        let taken = decode(
            Kind::IdpRequest,
            request_id,
            self.backend.take(Kind::IdpRequest, request_id).await?,
        )?;
        if taken.is_some() {
            self.backend
                .put(
                    Kind::Answered,
                    request_id,
                    Vec::new(),
                    self.lifetimes.login * 2,
                )
                .await?;
        }
        Ok(taken)
    }

    /// Whether a request chsim sent was answered already.
    pub async fn was_answered(&self, request_id: &str) -> Result<bool, StoreError> {
        Ok(self
            .backend
            .get(Kind::Answered, request_id)
            .await?
            .is_some())
    }

    /// Records an assertion ID until `keep` has passed; false when it was recorded before.
    pub async fn first_use_of_assertion(
        &self,
        assertion_id: &str,
        keep: Duration,
    ) -> Result<bool, StoreError> {
        self.backend
            .put_new(Kind::Assertion, assertion_id, Vec::new(), keep)
            .await
    }

    /// Records a user system's AuthnRequest; false when it was accepted before.
    pub async fn first_use_of_authn_request(
        &self,
        issuer: &str,
        id: &str,
    ) -> Result<bool, StoreError> {
        self.backend
            .put_new(
                Kind::AuthnRequest,
                &format!("{issuer}\n{id}"),
                Vec::new(),
                self.lifetimes.authn_request,
            )
            .await
    }

    /// Keeps a login's report under chsim's SessionIndex.
    pub async fn put_report(
        &self,
        session_index: &str,
        report: &LoginReport,
    ) -> Result<(), StoreError> {
        self.put(Kind::Report, session_index, report, self.lifetimes.report)
            .await
    }

    /// The report of a login.
    pub async fn report(&self, session_index: &str) -> Result<Option<LoginReport>, StoreError> {
        self.get(Kind::Report, session_index).await
    }
}

/// The key as an error message may show it: a session's key is its cookie, a secret.
fn shown(kind: Kind, key: &str) -> String {
    match kind {
        Kind::Session => "[a session]".to_string(),
        Kind::Logout => "[a logout]".to_string(),
        // A grant handle is the prefix of its access tokens' jti: not for error pages.
        Kind::OidcGrant => "[a grant]".to_string(),
        _ => key.to_string(),
    }
}

fn encode<T: Serialize>(kind: Kind, key: &str, value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| StoreError::Corrupt {
        kind: kind.name(),
        key: shown(kind, key),
        reason: e.to_string(),
    })
}

fn decode<T: DeserializeOwned>(
    kind: Kind,
    key: &str,
    bytes: Option<Vec<u8>>,
) -> Result<Option<T>, StoreError> {
    bytes
        .map(|b| {
            serde_json::from_slice(&b).map_err(|e| StoreError::Corrupt {
                kind: kind.name(),
                key: shown(kind, key),
                reason: e.to_string(),
            })
        })
        .transpose()
}
