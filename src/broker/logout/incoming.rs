//! Logout messages arriving at chsim: a LogoutRequest from a user system or an IdP (which starts
//! a logout), and the LogoutResponses of the parties chsim asked. Each is read and verified by
//! `saml::logout` on the CPU pool, then checked against chsim's state here.

use super::{Initiator, Logout, LogoutFailure, LogoutStep, PartyResult, Target};
use crate::broker::session::{idp_index, user_system_index, Session};
use crate::broker::store::Kind;
use crate::broker::{Broker, BrokerError};
use crate::ids::{EntityId, SessionId};
use crate::saml::logout::{
    receive_request, receive_response, Expectations, Incoming, ParsedLogoutRequest, Unverified,
};
use crate::saml::response::Status;
use crate::saml::status;
use crate::saml::TrustedCert;

/// Which of chsim's faces a LogoutResponse arrived at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Face {
    /// `signoff.idp`: from user systems.
    UserSystems,
    /// `signoffresponse.idp`: from IdPs.
    Idps,
}

impl Broker {
    /// A user system's LogoutRequest: at `issue.idp` (Redirect, POST) or the SOAP endpoint.
    pub async fn logout_from_user_system(
        &self,
        incoming: Incoming,
    ) -> Result<LogoutStep, LogoutFailure> {
        let s = &self.settings;
        let destination = match incoming {
            Incoming::Soap { .. } => s.slo_soap_url.clone(),
            _ => s.sso_url.clone(),
        };
        let unverified = self.receive_request(incoming).await?;
        let issuer = EntityId::new(unverified.message().issuer.clone());
        let user_system = self
            .trust
            .saml_user_system(issuer.as_str())
            .ok_or_else(|| LogoutFailure::UnknownIssuer {
                issuer: issuer.to_string(),
                kind: "user system",
            })?;
        let verified = self
            .verify(unverified, user_system.signing_certs.clone(), destination)
            .await?;
        let binding = verified.binding();
        let relay_state = verified.relay_state().map(str::to_string);
        let request = verified.into_message();
        let initiator = Initiator::UserSystem {
            entity: issuer.clone(),
            request_id: request.id.clone(),
            relay_state,
            binding: binding.into(),
        };
        let session = match self.check_request(&request).await? {
            Some(refusal) => return self.refuse(&initiator, refusal),
            None => {
                self.session_named(
                    &request,
                    |index| user_system_index(&issuer, index),
                    |session| {
                        session
                            .participants
                            .iter()
                            .any(|p| p.user_system == issuer && p.name_id == request.name_id.value)
                    },
                )
                .await?
            }
        };
        match session {
            Some(session) => self.begin_logout(session, initiator).await,
            None => self.refuse(&initiator, unknown_session(&request)),
        }
    }

    /// An IdP's LogoutRequest, at the SP face's `signoffrequest.idp`.
    pub async fn logout_from_idp(&self, incoming: Incoming) -> Result<LogoutStep, LogoutFailure> {
        let unverified = self.receive_request(incoming).await?;
        let issuer = EntityId::new(unverified.message().issuer.clone());
        let idp = self
            .trust
            .idp(issuer.as_str())
            .ok_or_else(|| LogoutFailure::UnknownIssuer {
                issuer: issuer.to_string(),
                kind: "identity provider",
            })?;
        let certs = idp.signing_certs.clone();
        let verified = self
            .verify(unverified, certs, self.settings.sp_slo_request_url.clone())
            .await?;
        let relay_state = verified.relay_state().map(str::to_string);
        let request = verified.into_message();
        let initiator = Initiator::Idp {
            entity: issuer.clone(),
            request_id: request.id.clone(),
            relay_state,
        };
        let session = match self.check_request(&request).await? {
            Some(refusal) => return self.refuse(&initiator, refusal),
            None => {
                self.session_named(
                    &request,
                    |index| idp_index(&issuer, index),
                    |session| {
                        session
                            .idp_legs
                            .iter()
                            .any(|l| l.idp == issuer && l.name_id == request.name_id.value)
                    },
                )
                .await?
            }
        };
        match session {
            Some(session) => self.begin_logout(session, initiator).await,
            None => self.refuse(&initiator, unknown_session(&request)),
        }
    }

    /// The "Log out" button of chsim's session page: a logout chsim starts itself.
    pub async fn logout_from_chsim(
        &self,
        session: Option<&SessionId>,
    ) -> Result<LogoutStep, LogoutFailure> {
        match self.live_session(session).await? {
            Some(session) => self.begin_logout(session, Initiator::Person).await,
            None => Ok(LogoutStep::Done(super::LogoutSummary::default())),
        }
    }

    /// A party's LogoutResponse to chsim's LogoutRequest; the logout goes on with the next party.
    pub async fn logout_response(
        &self,
        incoming: Incoming,
        face: Face,
    ) -> Result<LogoutStep, LogoutFailure> {
        let max = self.settings.max_message_bytes;
        let unverified = crate::cpu::run(move || receive_response(incoming, max))
            .await
            .map_err(BrokerError::Cpu)??;
        let in_response_to = unverified.message().in_response_to.clone();
        // Looked at only: it is taken once the answer is shown to come from the party asked, so
        // a stranger who learned the request's ID cannot break the chain with a forged answer.
        let Some(logout_id) = self
            .store
            .get::<String>(Kind::LogoutSent, &in_response_to)
            .await
            .map_err(BrokerError::from)?
        else {
            return Err(LogoutFailure::Unsolicited { in_response_to });
        };
        let Some(mut logout) = self
            .store
            .get::<Logout>(Kind::Logout, &logout_id)
            .await
            .map_err(BrokerError::from)?
        else {
            return Err(LogoutFailure::Unsolicited { in_response_to });
        };
        let Some((target, request_id)) = logout.awaiting.take() else {
            return Err(LogoutFailure::Unsolicited { in_response_to });
        };
        let found = unverified.message().issuer.clone();
        if request_id != in_response_to || found != target.entity().as_str() {
            return Err(LogoutFailure::WrongResponder {
                expected: target.entity().to_string(),
                found,
            });
        }
        let (certs, destination) = match (&target, face) {
            (Target::UserSystem(p), Face::UserSystems) => (
                self.trust
                    .user_systems
                    .get(&p.user_system)
                    .map(|u| u.signing_certs.clone())
                    .unwrap_or_default(),
                self.settings.slo_response_url.clone(),
            ),
            (Target::Idp(l), Face::Idps) => (
                self.trust
                    .idp(l.idp.as_str())
                    .map(|i| i.signing_certs.clone())
                    .unwrap_or_default(),
                self.settings.sp_slo_response_url.clone(),
            ),
            _ => {
                return Err(LogoutFailure::WrongResponder {
                    expected: target.entity().to_string(),
                    found,
                })
            }
        };
        let response = self
            .verify(unverified, certs, destination)
            .await?
            .into_message();
        // Taken once: a second answer (or a replay) finds nothing.
        if self
            .store
            .take::<String>(Kind::LogoutSent, &in_response_to)
            .await
            .map_err(BrokerError::from)?
            .is_none()
        {
            return Err(LogoutFailure::Unsolicited { in_response_to });
        }
        logout
            .results
            .push(result_of(&target, "front channel", &response.status));
        self.next_front(logout).await
    }

    async fn receive_request(
        &self,
        incoming: Incoming,
    ) -> Result<Unverified<ParsedLogoutRequest>, LogoutFailure> {
        let max = self.settings.max_message_bytes;
        Ok(crate::cpu::run(move || receive_request(incoming, max))
            .await
            .map_err(BrokerError::Cpu)??)
    }

    /// Verifies a logout message on the CPU pool with the sender's certificates.
    pub(super) async fn verify<M>(
        &self,
        unverified: Unverified<M>,
        certs: Vec<TrustedCert>,
        destination: String,
    ) -> Result<crate::saml::logout::Verified<M>, LogoutFailure>
    where
        M: crate::saml::logout::LogoutMessage + Send + 'static,
    {
        let algorithms = self.settings.algorithms;
        let now = self.clock.now();
        let clock_skew = self.settings.clock_skew;
        Ok(crate::cpu::run(move || {
            unverified.verify(&Expectations {
                trusted_certs: &certs,
                algorithms,
                destination: &destination,
                now,
                clock_skew,
            })
        })
        .await
        .map_err(BrokerError::Cpu)??)
    }

    /// The state checks of a verified LogoutRequest: its ID once, and a SessionIndex named.
    /// `Some` is the status to refuse it with.
    async fn check_request(
        &self,
        request: &ParsedLogoutRequest,
    ) -> Result<Option<Status>, LogoutFailure> {
        let keep = (self.settings.clock_skew * 2)
            .to_std()
            .unwrap_or(std::time::Duration::from_secs(120))
            + std::time::Duration::from_secs(1);
        let key = format!("{}\n{}", request.issuer, request.id);
        if !self
            .store
            .first_use(Kind::LogoutRequest, &key, keep)
            .await
            .map_err(BrokerError::from)?
        {
            return Ok(Some(requester(
                status::REQUEST_DENIED,
                format!(
                    "the LogoutRequest `{}` was received before (replay)",
                    request.id
                ),
            )));
        }
        if request.session_indexes.is_empty() {
            return Ok(Some(requester(
                status::UNKNOWN_PRINCIPAL,
                "the LogoutRequest names no SessionIndex; chsim ends only the session it names"
                    .to_string(),
            )));
        }
        Ok(None)
    }

    /// The live session one of the request's SessionIndexes names, when `belongs` confirms the
    /// NameID too.
    async fn session_named(
        &self,
        request: &ParsedLogoutRequest,
        key: impl Fn(&str) -> String,
        belongs: impl Fn(&Session) -> bool,
    ) -> Result<Option<Session>, LogoutFailure> {
        for index in &request.session_indexes {
            if let Some(session) = self.session_by_index(&key(index)).await? {
                if belongs(&session) {
                    return Ok(Some(session));
                }
            }
        }
        Ok(None)
    }
}

/// A `Requester` status with a second-level code and chsim's message.
fn requester(sub_code: &str, message: String) -> Status {
    Status {
        code: status::REQUESTER.to_string(),
        sub_code: Some(sub_code.to_string()),
        message: Some(message),
    }
}

fn unknown_session(request: &ParsedLogoutRequest) -> Status {
    requester(
        status::UNKNOWN_PRINCIPAL,
        format!(
            "no live chsim session has SessionIndex {} for NameID `{}` (it ended, expired, or was never chsim's)",
            request.session_indexes.join(", "),
            request.name_id.value
        ),
    )
}

/// What a party's answer means for the summary.
pub(super) fn result_of(target: &Target, channel: &str, status: &Status) -> PartyResult {
    let ended = status.code == status::SUCCESS && status.sub_code.is_none();
    let detail = if ended {
        format!("logged out ({channel})")
    } else {
        format!(
            "answered {}{}{} ({channel})",
            status.code.rsplit(':').next().unwrap_or(&status.code),
            status
                .sub_code
                .as_deref()
                .map(|s| format!("/{}", s.rsplit(':').next().unwrap_or(s)))
                .unwrap_or_default(),
            status
                .message
                .as_deref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        )
    };
    PartyResult {
        party: target.entity().clone(),
        ended,
        detail,
    }
}
