//! Single logout as chsim's built-in parties do it (issue #9 §3; saml-profiles §4.4; reference
//! §3.4): the demo user systems and the test IdPs each talk to chsim at one HTTP-Redirect
//! SingleLogoutService URL of their own, where chsim's LogoutRequests and chsim's
//! LogoutResponses (to their own requests) both arrive. What is the same for both kinds of party
//! lives here; whose session a request ends is each party's business.
//!
//! The party knows chsim only from chsim's published metadata (its entityID, signing
//! certificates and the Redirect SingleLogoutService of the face it talks to), as an outside
//! party would. Every message is signed over the query string (saml-bindings §3.4.4.1).
//!
//! Receiving, in order:
//! 1. Decode and read the message within the size bound ([`crate::saml::logout::receive_request`]).
//! 2. The Issuer is chsim (no one else's certificates are known).
//! 3. For a LogoutResponse, its InResponseTo names a LogoutRequest this party sent and has not
//!    seen answered — looked at now, taken only once the signature proves it is chsim's, so a
//!    forged answer cannot use it up (the rule the ACS follows).
//! 4. Verify: signature with chsim's certificates, Destination = this party's SLO URL, IssueInstant
//!    within the skew, NotOnOrAfter ([`crate::saml::logout::Unverified::verify`]).
//! 5. For a LogoutRequest, its ID was not answered before (a replay is refused).

mod sessions;
#[cfg(test)]
pub(crate) mod testing;

pub use sessions::{Ended, Ending, SessionView, Sessions};

use crate::clock::Clock;
use crate::ids::new_saml_id;
use crate::saml::logout::{
    self, Binding, Expectations, Incoming, LogoutError, NameId, NewLogoutRequest,
    NewLogoutResponse, Outgoing, SloEndpoint, VerifiedLogoutRequest, VerifiedLogoutResponse,
};
use crate::saml::response::Status;
use crate::saml::signing::AlgorithmPolicy;
use crate::saml::{status, Credential, SamlError};
use chrono::{DateTime, Duration, Utc};
use moka::sync::Cache;
use std::sync::Arc;
use url::Url;

/// How far a message's IssueInstant may be from the party's clock (as the demo ACS allows).
pub const CLOCK_SKEW_SECONDS: i64 = 60;
/// The largest logout message a party inflates.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;
/// How long a LogoutRequest the party sent waits for chsim's answer.
const OUTSTANDING_SECONDS: u64 = 30 * 60;
/// How long the ID of an answered LogoutRequest is remembered: longer than the window in which
/// step 4 would accept it again.
const ANSWERED_SECONDS: u64 = 30 * 60;

/// Why a built-in party refused a logout message or could not send one.
#[derive(Debug, thiserror::Error)]
pub enum SloError {
    /// The SLO URL was called with neither `SAMLRequest` nor `SAMLResponse`.
    #[error("the single logout address takes a SAMLRequest or a SAMLResponse in the query string; this request has neither")]
    NoMessage,
    /// Steps 1 and 4: the message could not be read, or failed verification (signature,
    /// Destination, IssueInstant, NotOnOrAfter); the [`LogoutError`] names the check.
    #[error("chsim's {element} is refused: {error}")]
    Refused {
        /// `LogoutRequest` or `LogoutResponse`.
        element: &'static str,
        /// The failed check, with what was found.
        error: LogoutError,
    },
    /// Step 2: the message is not from chsim.
    #[error("the {element} is from `{found}`; this party takes logout messages only from chsim (`{expected}`)")]
    NotChsim {
        /// `LogoutRequest` or `LogoutResponse`.
        element: &'static str,
        /// chsim's entityID.
        expected: String,
        /// The Issuer found.
        found: String,
    },
    /// Step 3: the LogoutResponse answers no LogoutRequest this party has outstanding.
    #[error("chsim's LogoutResponse answers no LogoutRequest this party is waiting for (InResponseTo `{in_response_to}`): it was answered already, expired, or never sent")]
    UnknownInResponseTo {
        /// The InResponseTo found.
        in_response_to: String,
    },
    /// Step 5: this LogoutRequest was answered before.
    #[error("chsim's LogoutRequest `{id}` was answered already; a replayed request is refused")]
    Replay {
        /// Its ID.
        id: String,
    },
    /// "Log out" was pressed without a session at this party.
    #[error("there is no session to log out of here (not logged in, or it has ended)")]
    NotLoggedIn,
    /// chsim's metadata publishes no HTTP-Redirect SingleLogoutService for this party to use.
    #[error("chsim's metadata has no HTTP-Redirect SingleLogoutService, so this party cannot send it logout messages")]
    NoChsimEndpoint,
    /// Building or signing a message failed.
    #[error("the logout message could not be built: {0}")]
    Build(SamlError),
}

/// chsim as the party knows it from chsim's metadata.
#[derive(Debug, Clone)]
pub struct Chsim {
    /// chsim's entityID.
    pub entity_id: String,
    /// chsim's signing certificates.
    pub certs: Vec<crate::saml::TrustedCert>,
    /// chsim's HTTP-Redirect SingleLogoutService (of the face this party talks to).
    pub endpoint: Option<SloEndpoint>,
}

/// What chsim's answer to the party's own LogoutRequest says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogoutResult {
    /// `Success`: every party was logged out.
    LoggedOut,
    /// `Success` with second-level `PartialLogout`: some were not; chsim's StatusMessage says who.
    Partial {
        /// chsim's StatusMessage.
        message: Option<String>,
    },
    /// Any other status.
    Failed(Status),
}

impl LogoutResult {
    /// What `status` means.
    pub fn of(status: &Status) -> Self {
        match (status.is_success(), status.sub_code.as_deref()) {
            (true, Some(status::PARTIAL_LOGOUT)) => LogoutResult::Partial {
                message: status.message.clone(),
            },
            (true, _) => LogoutResult::LoggedOut,
            (false, _) => LogoutResult::Failed(status.clone()),
        }
    }
}

/// A LogoutRequest the party sent and is waiting to see answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outstanding {
    /// When it was sent.
    pub sent: DateTime<Utc>,
    /// Whose session it ended (shown with the answer).
    pub who: String,
}

/// A message that arrived at the party's SLO URL and passed every step.
#[derive(Debug)]
pub enum Received {
    /// chsim asks the party to end a session; answer it with [`PartyLogout::answer`].
    Request(VerifiedLogoutRequest),
    /// chsim answers the party's own LogoutRequest.
    Response {
        /// The verified response.
        response: VerifiedLogoutResponse,
        /// The request it answers, as the party remembered it.
        request: Outstanding,
        /// What it says.
        result: LogoutResult,
    },
}

/// What the party did with a message at its SLO URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SloOutcome {
    /// chsim's LogoutRequest was answered: send the browser to chsim with the LogoutResponse.
    Answered {
        /// chsim's SingleLogoutService ResponseLocation with the signed LogoutResponse.
        redirect: Url,
        /// How many of the party's sessions it ended (0: answered `UnknownPrincipal`).
        ended: usize,
    },
    /// chsim answered the party's own LogoutRequest.
    Finished {
        /// Whose session the request ended.
        who: String,
        /// What chsim's answer says.
        result: LogoutResult,
    },
}

/// One party's side of single logout: who it is, chsim as it knows it, and what it remembers
/// (its outstanding requests, the requests it answered).
#[derive(Debug)]
pub struct PartyLogout {
    entity_id: String,
    slo_url: String,
    credential: Credential,
    chsim: Chsim,
    clock: Arc<dyn Clock>,
    outstanding: Cache<String, Outstanding>,
    answered: Cache<String, ()>,
}

impl PartyLogout {
    /// The logout side of the party `entity_id`, whose SingleLogoutService is `slo_url`.
    pub fn new(
        entity_id: &str,
        slo_url: &str,
        credential: Credential,
        chsim: Chsim,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            entity_id: entity_id.to_string(),
            slo_url: slo_url.to_string(),
            credential,
            chsim,
            clock,
            outstanding: cache(OUTSTANDING_SECONDS),
            answered: cache(ANSWERED_SECONDS),
        }
    }

    fn endpoint(&self) -> Result<&SloEndpoint, SloError> {
        self.chsim
            .endpoint
            .as_ref()
            .ok_or(SloError::NoChsimEndpoint)
    }

    /// A signed HTTP-Redirect LogoutRequest to chsim's SingleLogoutService Location, naming
    /// `name_id` and `session_index`, Reason `user`; remembered until chsim answers. `who` is
    /// shown with the answer.
    pub fn request(
        &self,
        name_id: NameId,
        session_index: &str,
        who: &str,
    ) -> Result<Url, SloError> {
        let now = self.clock.now();
        let request = NewLogoutRequest {
            id: new_saml_id(),
            issue_instant: now,
            destination: self.endpoint()?.request_url().to_string(),
            issuer: self.entity_id.clone(),
            name_id,
            session_indexes: vec![session_index.to_string()],
            not_on_or_after: Some(now + Duration::minutes(5)),
            reason: Some(logout::reason::USER.to_string()),
        };
        let url = redirect(request.encode(Binding::Redirect, None, &self.credential))?;
        self.outstanding.insert(
            request.id,
            Outstanding {
                sent: now,
                who: who.to_string(),
            },
        );
        Ok(url)
    }

    /// Reads what arrived at the SLO URL (its raw query string) and takes it through the steps
    /// in this file's header.
    pub fn receive(&self, raw_query: &str) -> Result<Received, SloError> {
        let has = |name: &str| {
            raw_query
                .split('&')
                .any(|p| p.split_once('=').map_or(p, |(k, _)| k) == name)
        };
        let incoming = || Incoming::Redirect {
            raw_query: raw_query.to_string(),
        };
        if has("SAMLRequest") {
            self.receive_request(incoming())
        } else if has("SAMLResponse") {
            self.receive_response(incoming())
        } else {
            Err(SloError::NoMessage)
        }
    }

    fn expectations<'a>(&'a self) -> Expectations<'a> {
        Expectations {
            trusted_certs: &self.chsim.certs,
            algorithms: AlgorithmPolicy::default(),
            destination: &self.slo_url,
            now: self.clock.now(),
            clock_skew: Duration::seconds(CLOCK_SKEW_SECONDS),
        }
    }

    fn check_issuer(&self, element: &'static str, issuer: &str) -> Result<(), SloError> {
        if issuer == self.chsim.entity_id {
            Ok(())
        } else {
            Err(SloError::NotChsim {
                element,
                expected: self.chsim.entity_id.clone(),
                found: issuer.to_string(),
            })
        }
    }

    fn receive_request(&self, incoming: Incoming) -> Result<Received, SloError> {
        const ELEMENT: &str = "LogoutRequest";
        let refused = |error| SloError::Refused {
            element: ELEMENT,
            error,
        };
        // 1. Read.
        let unverified = logout::receive_request(incoming, MAX_MESSAGE_BYTES).map_err(refused)?;
        // 2. From chsim.
        self.check_issuer(ELEMENT, &unverified.message().issuer)?;
        // 4. Verified.
        let verified = unverified.verify(&self.expectations()).map_err(refused)?;
        // 5. Not answered before.
        let id = verified.message().id.clone();
        let entry = self.answered.entry(id.clone()).or_insert(());
        if !entry.is_fresh() {
            return Err(SloError::Replay { id });
        }
        Ok(Received::Request(verified))
    }

    fn receive_response(&self, incoming: Incoming) -> Result<Received, SloError> {
        const ELEMENT: &str = "LogoutResponse";
        let refused = |error| SloError::Refused {
            element: ELEMENT,
            error,
        };
        // 1. Read.
        let unverified = logout::receive_response(incoming, MAX_MESSAGE_BYTES).map_err(refused)?;
        let message = unverified.message();
        // 2. From chsim.
        self.check_issuer(ELEMENT, &message.issuer)?;
        // 3. Answers a request of ours: looked at now, taken once verified.
        let in_response_to = message.in_response_to.clone();
        let unknown = || SloError::UnknownInResponseTo {
            in_response_to: in_response_to.clone(),
        };
        if !self.outstanding.contains_key(&in_response_to) {
            return Err(unknown());
        }
        // 4. Verified.
        let response = unverified.verify(&self.expectations()).map_err(refused)?;
        let request = self
            .outstanding
            .remove(&in_response_to)
            .ok_or_else(unknown)?;
        let result = LogoutResult::of(&response.message().status);
        Ok(Received::Response {
            response,
            request,
            result,
        })
    }

    /// The signed HTTP-Redirect LogoutResponse to chsim's `request`, with `status`, to chsim's
    /// SingleLogoutService ResponseLocation (else Location); chsim's RelayState goes back as it
    /// came.
    pub fn answer(&self, request: &VerifiedLogoutRequest, status: Status) -> Result<Url, SloError> {
        let response = NewLogoutResponse {
            id: new_saml_id(),
            issue_instant: self.clock.now(),
            destination: Some(self.endpoint()?.response_url().to_string()),
            issuer: self.entity_id.clone(),
            in_response_to: request.message().id.clone(),
            status,
        };
        redirect(response.encode(Binding::Redirect, request.relay_state(), &self.credential))
    }

    /// Takes what arrived at the SLO URL through [`Self::receive`]: a LogoutRequest is answered
    /// after `end` has ended the sessions it names (returning how many), `Success` or
    /// `UnknownPrincipal` ([`answer_status`], naming `party`); a LogoutResponse is reported.
    pub fn handle(
        &self,
        raw_query: &str,
        party: &str,
        end: impl FnOnce(&logout::ParsedLogoutRequest) -> usize,
    ) -> Result<SloOutcome, SloError> {
        match self.receive(raw_query)? {
            Received::Request(request) => {
                let ended = end(request.message());
                let redirect = self.answer(&request, answer_status(ended, party))?;
                Ok(SloOutcome::Answered { redirect, ended })
            }
            Received::Response {
                request, result, ..
            } => Ok(SloOutcome::Finished {
                who: request.who,
                result,
            }),
        }
    }
}

/// The status of an answer to a LogoutRequest that ended `ended` sessions: `Success`, or
/// `Requester` + `UnknownPrincipal` when it named no session of the party (saml-core §3.7.3.2).
pub fn answer_status(ended: usize, party: &str) -> Status {
    if ended > 0 {
        Status::success()
    } else {
        Status {
            code: status::REQUESTER.to_string(),
            sub_code: Some(status::UNKNOWN_PRINCIPAL.to_string()),
            message: Some(format!(
                "{party} has no session with that NameID and SessionIndex"
            )),
        }
    }
}

fn cache<V: Clone + Send + Sync + 'static>(seconds: u64) -> Cache<String, V> {
    Cache::builder()
        .max_capacity(10_000)
        .time_to_live(std::time::Duration::from_secs(seconds))
        .build()
}

fn redirect(out: Result<Outgoing, SamlError>) -> Result<Url, SloError> {
    match out.map_err(SloError::Build)? {
        Outgoing::Redirect(url) => Ok(url),
        other => Err(SloError::Build(SamlError::BadEncoding {
            reason: format!("HTTP-Redirect encoding gave {other:?}"),
        })),
    }
}
