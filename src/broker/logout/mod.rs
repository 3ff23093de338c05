//! Single logout (issue #9 §3; saml-profiles §4.4; reference §3.4): ending a chsim session and
//! every session that hangs off it. chsim is the session authority between the user systems it
//! answered and the IdPs the person logged in at. A logout starts at
//! - a user system (its LogoutRequest at `issue.idp` by Redirect/POST, or at the SOAP endpoint),
//! - an IdP (its LogoutRequest at the SP face's `signoffrequest.idp`), or
//! - chsim itself (the "Log out" button of the session page).
//!
//! chsim then ends the session, sends a LogoutRequest to every other participant — by SOAP
//! (back channel) where the party's metadata has a SOAP endpoint, else through the browser
//! (front channel, HTTP-Redirect or POST, one party after another, each answering at
//! `signoff.idp` or `signoffresponse.idp`) — and finally answers the initiator with a signed
//! LogoutResponse: `Success`, or `Success` with the second-level `PartialLogout` and a message
//! naming each party that failed (saml-core §3.7.3.2).
//!
//! Incoming requests are checked as strictly as logins: a known issuer, its metadata
//! signature, Destination, IssueInstant and NotOnOrAfter (all in `saml::logout`), the ID not seen
//! before, and NameID + SessionIndex naming a live session. A verified request that names no
//! live session is answered with a signed `Requester`/`UnknownPrincipal` LogoutResponse.

mod fanout;
mod incoming;
mod oidc;

use super::session::{IdpLeg, Participant};
use crate::ids::EntityId;
use crate::saml::logout::{Binding, LogoutError, PostForm};
use serde::{Deserialize, Serialize};

pub use fanout::LogoutSummary;
pub use incoming::Face;

/// What the browser (or SOAP caller) gets next in a logout.
#[derive(Debug, Clone)]
pub enum LogoutStep {
    /// Go to this URL (a LogoutRequest to the next party, or the LogoutResponse to the initiator).
    Redirect(url::Url),
    /// Auto-submit this form (HTTP-POST binding).
    Post(PostForm),
    /// The SOAP envelope answering a back-channel LogoutRequest.
    Soap(String),
    /// A logout chsim started itself is finished: show what happened.
    Done(LogoutSummary),
    /// An RP-initiated logout found no session of that login in the browser: nothing ended;
    /// go to the client's `post_logout_redirect_uri`, if it gave one.
    NothingEnded(Option<url::Url>),
    /// Load these front-channel logout URLs of OIDC user systems in iframes, then go on with
    /// `then` (issue #11 §3).
    Frames {
        /// The `frontchannel_logout_uri`s with `iss` and `sid`.
        urls: Vec<String>,
        /// The step after them (never `Soap`: a SOAP logout has no browser).
        then: Box<LogoutStep>,
    },
}

/// Who started a logout, and how they are answered.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Initiator {
    /// A user system's LogoutRequest.
    UserSystem {
        /// Its entityID.
        entity: EntityId,
        /// The request's ID (the answer's InResponseTo).
        request_id: String,
        /// Its RelayState, returned.
        relay_state: Option<String>,
        /// How it asked: the answer goes back by the same binding (SOAP on the connection).
        binding: SerdeBinding,
    },
    /// An IdP's LogoutRequest.
    Idp {
        /// Its entityID.
        entity: EntityId,
        /// The request's ID.
        request_id: String,
        /// Its RelayState, returned.
        relay_state: Option<String>,
    },
    /// The person, on chsim's session page.
    Person,
    /// An OIDC user system at `logout.idp` (RP-initiated logout).
    OidcClient {
        /// Its client_id, when the request named it.
        entity: Option<EntityId>,
        /// Its `post_logout_redirect_uri` with `state`, when it asked to get the browser back.
        redirect: Option<String>,
    },
}

/// A binding, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SerdeBinding {
    /// HTTP-Redirect.
    Redirect,
    /// HTTP-POST.
    Post,
    /// SOAP.
    Soap,
}

impl From<Binding> for SerdeBinding {
    fn from(b: Binding) -> Self {
        match b {
            Binding::Redirect => SerdeBinding::Redirect,
            Binding::Post => SerdeBinding::Post,
            Binding::Soap => SerdeBinding::Soap,
        }
    }
}

impl From<SerdeBinding> for Binding {
    fn from(b: SerdeBinding) -> Self {
        match b {
            SerdeBinding::Redirect => Binding::Redirect,
            SerdeBinding::Post => Binding::Post,
            SerdeBinding::Soap => Binding::Soap,
        }
    }
}

/// A party a logout must reach.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Target {
    /// A user system chsim answered in the session.
    UserSystem(Participant),
    /// An IdP the person logged in at.
    Idp(IdpLeg),
}

impl Target {
    /// The party's entityID.
    pub fn entity(&self) -> &EntityId {
        match self {
            Target::UserSystem(p) => &p.user_system,
            Target::Idp(l) => &l.idp,
        }
    }
}

/// What became of one party.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartyResult {
    /// The party's entityID.
    pub party: EntityId,
    /// Whether its session ended (a Success LogoutResponse).
    pub ended: bool,
    /// How it was reached and what it said, for the summary and the audit log.
    pub detail: String,
}

/// A logout in progress (kept in the store between the browser's hops).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Logout {
    /// The handle (RelayState of chsim's LogoutRequests).
    pub id: String,
    /// The ended session's public reference.
    pub session: String,
    /// Who started it.
    pub initiator: Initiator,
    /// Parties still to reach through the browser, in order.
    pub front: Vec<Target>,
    /// The party whose LogoutResponse chsim waits for, and chsim's request ID.
    pub awaiting: Option<(Target, String)>,
    /// What became of the parties reached so far.
    pub results: Vec<PartyResult>,
    /// Front-channel logout URLs of OIDC participants, loaded when the logout is done.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub frames: Vec<String>,
}

/// Why a logout message was refused before chsim could answer its sender.
#[derive(Debug, thiserror::Error)]
pub enum LogoutFailure {
    /// The message could not be read or verified.
    #[error("{0}")]
    Message(#[from] LogoutError),
    /// The Issuer is not a trusted party of that kind.
    #[error("the logout message's issuer `{issuer}` is not a {kind} chsim trusts (register its metadata)")]
    UnknownIssuer {
        /// The Issuer.
        issuer: String,
        /// "user system" or "identity provider".
        kind: &'static str,
    },
    /// A LogoutResponse answers nothing chsim is waiting for.
    #[error("the LogoutResponse answers `{in_response_to}`, which is no LogoutRequest chsim is waiting on (already answered, expired, or never sent)")]
    Unsolicited {
        /// Its InResponseTo.
        in_response_to: String,
    },
    /// A LogoutResponse came from another party than the one asked.
    #[error("the LogoutResponse comes from `{found}`, but chsim asked `{expected}`")]
    WrongResponder {
        /// Who was asked.
        expected: String,
        /// Who answered.
        found: String,
    },
    /// The party has no endpoint for the answer.
    #[error("`{party}` has no SingleLogoutService chsim can answer at; add one to its metadata")]
    NoEndpoint {
        /// The party.
        party: String,
    },
    /// chsim's state, signing or CPU limits failed.
    #[error("{0}")]
    Broker(#[from] super::BrokerError),
    /// An RP-initiated logout request at `logout.idp` was refused (issue #11 §3).
    #[error("the logout request was refused: {0}")]
    OidcRequest(String),
}

impl LogoutFailure {
    /// What the person (or the party's vendor) can do about it.
    pub fn advice(&self) -> &'static str {
        match self {
            LogoutFailure::Message(_) => "The logout message was refused. Its sender must sign it with the key in its registered metadata, address it to chsim's SingleLogoutService in chsim's metadata, and send it fresh.",
            LogoutFailure::UnknownIssuer { .. } => "Register the party's metadata (user_systems.toml or municipalities.toml) and restart chsim.",
            LogoutFailure::Unsolicited { .. } | LogoutFailure::WrongResponder { .. } => "Start the logout again from the user system or from chsim's start page.",
            LogoutFailure::NoEndpoint { .. } => "The party's metadata needs an HTTP-Redirect SingleLogoutService (the Context Handler requires one).",
            LogoutFailure::Broker(e) => e.advice(),
            LogoutFailure::OidcRequest(_) => "Send id_token_hint (an ID token chsim issued to the system), or client_id, and if the browser should come back, the post_logout_redirect_uri registered for the system in user_systems.toml, with state.",
        }
    }
}
