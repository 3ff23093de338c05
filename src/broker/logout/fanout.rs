//! Carrying a logout to every party (saml-profiles §4.4.3.4 "the session authority ... MUST
//! attempt to contact each session participant"): the session ends first, then the back channel
//! (SOAP) parties are asked at once, then the front channel parties one after another through
//! the browser, and finally the initiator is answered.

use super::incoming::result_of;
use super::{Initiator, Logout, LogoutFailure, LogoutStep, PartyResult, SerdeBinding, Target};
use crate::audit;
use crate::broker::session::Session;
use crate::broker::store::Kind;
use crate::broker::{Broker, BrokerError};
use crate::ids::new_saml_id;
use crate::saml::logout::{
    reason, receive_response, Binding, Expectations, Incoming, NameId, NewLogoutRequest,
    NewLogoutResponse, Outgoing, SloEndpoint, SloEndpoints,
};
use crate::saml::response::Status;
use crate::saml::status;

/// How long a back-channel party may take to answer.
const SOAP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// Bound on a back-channel answer.
const SOAP_MAX_BYTES: usize = 256 * 1024;

/// The outcome of a logout chsim started itself, for the page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogoutSummary {
    /// Each party reached and what became of it.
    pub results: Vec<PartyResult>,
}

impl LogoutSummary {
    /// Whether every party ended its session.
    pub fn complete(&self) -> bool {
        self.results.iter().all(|r| r.ended)
    }
}

impl Broker {
    /// Ends `session` and starts carrying the logout to its other parties.
    pub(super) async fn begin_logout(
        &self,
        session: Session,
        initiator: Initiator,
    ) -> Result<LogoutStep, LogoutFailure> {
        self.store
            .remove(Kind::Session, session.id.as_str())
            .await
            .map_err(BrokerError::from)?;
        let started_by = match &initiator {
            Initiator::UserSystem { entity, .. } | Initiator::Idp { entity, .. } => {
                entity.to_string()
            }
            Initiator::Person => "the person, at chsim".to_string(),
            Initiator::OidcClient { entity, .. } => entity
                .as_ref()
                .map_or("an OIDC user system".to_string(), ToString::to_string),
        };
        audit::logout_started(&session.reference, &started_by);
        // Every OIDC code and token issued in the session ends with it (also the initiator's).
        if session
            .participants
            .iter()
            .any(|p| self.trust.oidc_client(p.user_system.as_str()).is_some())
        {
            self.end_oidc_grants(&session.reference).await?;
        }
        let by_soap = matches!(
            initiator,
            Initiator::UserSystem {
                binding: SerdeBinding::Soap,
                ..
            }
        );
        let initiator_entity = match &initiator {
            Initiator::UserSystem { entity, .. } | Initiator::Idp { entity, .. } => {
                Some(entity.clone())
            }
            Initiator::OidcClient { entity, .. } => entity.clone(),
            Initiator::Person => None,
        };
        let targets: Vec<Target> = session
            .participants
            .iter()
            .cloned()
            .map(Target::UserSystem)
            .chain(session.idp_legs.iter().cloned().map(Target::Idp))
            .filter(|t| Some(t.entity()) != initiator_entity.as_ref())
            .collect();
        let mut logout = Logout {
            id: new_saml_id(),
            session: session.reference.clone(),
            initiator,
            front: Vec::new(),
            awaiting: None,
            results: Vec::new(),
            frames: Vec::new(),
        };
        for target in targets {
            if let Target::UserSystem(p) = &target {
                if let Some((_, client)) = self.trust.oidc_client(p.user_system.as_str()) {
                    let result = self
                        .oidc_participant(p, client, by_soap, &mut logout.frames)
                        .await;
                    logout.results.push(result);
                    continue;
                }
            }
            let endpoints = self.endpoints_of(&target);
            match endpoints.and_then(|e| e.soap.clone()) {
                Some(soap) => {
                    let result = self.soap_logout(&target, &soap).await;
                    logout.results.push(result);
                }
                None if by_soap => logout.results.push(PartyResult {
                    party: target.entity().clone(),
                    ended: false,
                    detail: "not reached: the logout came by SOAP, and the party has no SOAP SingleLogoutService".into(),
                }),
                None if endpoints.is_some_and(|e| e.redirect.is_some() || e.post.is_some()) => {
                    logout.front.push(target)
                }
                None => logout.results.push(PartyResult {
                    party: target.entity().clone(),
                    ended: false,
                    detail: "not reached: no SingleLogoutService in its metadata".into(),
                }),
            }
        }
        self.next_front(logout).await
    }

    /// The SingleLogoutService endpoints of a party.
    fn endpoints_of(&self, target: &Target) -> Option<&SloEndpoints> {
        match target {
            Target::UserSystem(p) => self.trust.user_systems.get(&p.user_system).map(|u| &u.slo),
            Target::Idp(l) => self.trust.idp(l.idp.as_str()).map(|i| &i.slo),
        }
    }

    /// chsim's LogoutRequest to `target` at `destination`.
    fn request_to(&self, target: &Target, destination: &str) -> NewLogoutRequest {
        let now = self.clock.now();
        let (name_id, session_indexes) = match target {
            Target::UserSystem(p) => (NameId::x509(&p.name_id), vec![p.session_index.clone()]),
            Target::Idp(l) => (
                NameId {
                    value: l.name_id.clone(),
                    format: l.name_id_format.clone(),
                    name_qualifier: None,
                    sp_name_qualifier: None,
                },
                l.session_index.iter().cloned().collect(),
            ),
        };
        NewLogoutRequest {
            id: new_saml_id(),
            issue_instant: now,
            destination: destination.to_string(),
            issuer: self.settings.entity_id.to_string(),
            name_id,
            session_indexes,
            not_on_or_after: Some(now + self.settings.login_timeout),
            reason: Some(reason::USER.to_string()),
        }
    }

    /// Asks a back-channel party by SOAP, waiting at most [`SOAP_TIMEOUT`].
    async fn soap_logout(&self, target: &Target, endpoint: &SloEndpoint) -> PartyResult {
        let failed = |detail: String| PartyResult {
            party: target.entity().clone(),
            ended: false,
            detail,
        };
        let request = self.request_to(target, endpoint.request_url());
        let envelope = match request.encode(Binding::Soap, None, &self.settings.credential) {
            Ok(Outgoing::Soap(envelope)) => envelope,
            Ok(_) | Err(_) => return failed("chsim could not sign its SOAP LogoutRequest".into()),
        };
        let sent = self
            .http
            .post(endpoint.request_url())
            .timeout(SOAP_TIMEOUT)
            .header("content-type", "text/xml; charset=utf-8")
            .header(
                "soapaction",
                "http://www.oasis-open.org/committees/security",
            )
            .body(envelope)
            .send()
            .await;
        let answer = match sent {
            Ok(r) => crate::fetch::text_bounded(r, SOAP_MAX_BYTES).await,
            Err(e) if e.is_timeout() => {
                return failed(format!(
                    "did not answer within {} s (SOAP)",
                    SOAP_TIMEOUT.as_secs()
                ))
            }
            Err(e) => return failed(format!("could not be reached (SOAP): {e}")),
        };
        let answer = match answer {
            Ok(a) => a,
            Err(e) => return failed(format!("answered unreadably (SOAP): {e}")),
        };
        let certs = match target {
            Target::UserSystem(p) => self
                .trust
                .user_systems
                .get(&p.user_system)
                .map(|u| u.signing_certs.clone())
                .unwrap_or_default(),
            Target::Idp(l) => self
                .trust
                .idp(l.idp.as_str())
                .map(|i| i.signing_certs.clone())
                .unwrap_or_default(),
        };
        let max = self.settings.max_message_bytes;
        let algorithms = self.settings.algorithms;
        let (now, clock_skew) = (self.clock.now(), self.settings.clock_skew);
        let destination = self.settings.slo_soap_url.clone();
        let checked = crate::cpu::run(move || {
            receive_response(Incoming::Soap { envelope: answer }, max)?.verify(&Expectations {
                trusted_certs: &certs,
                algorithms,
                destination: &destination,
                now,
                clock_skew,
            })
        })
        .await;
        match checked {
            Ok(Ok(verified)) => {
                let response = verified.into_message();
                if response.in_response_to != request.id {
                    return failed(format!(
                        "answered another request (`{}`) (SOAP)",
                        response.in_response_to
                    ));
                }
                if response.issuer != target.entity().as_str() {
                    return failed(format!("answered as `{}` (SOAP)", response.issuer));
                }
                result_of(target, "SOAP", &response.status)
            }
            Ok(Err(e)) => failed(format!(
                "answered with a LogoutResponse chsim refused (SOAP): {e}"
            )),
            Err(e) => failed(format!("its answer could not be checked (SOAP): {e}")),
        }
    }

    /// Sends the browser to the next front-channel party, or answers the initiator.
    pub(super) async fn next_front(&self, mut logout: Logout) -> Result<LogoutStep, LogoutFailure> {
        while !logout.front.is_empty() {
            let target = logout.front.remove(0);
            let Some(endpoints) = self.endpoints_of(&target) else {
                logout.results.push(PartyResult {
                    party: target.entity().clone(),
                    ended: false,
                    detail: "not reached: no longer trusted".into(),
                });
                continue;
            };
            let (binding, endpoint) = match (&endpoints.redirect, &endpoints.post) {
                (Some(e), _) => (Binding::Redirect, e.clone()),
                (None, Some(e)) => (Binding::Post, e.clone()),
                (None, None) => continue,
            };
            let request = self.request_to(&target, endpoint.request_url());
            let out = request
                .encode(binding, Some(&logout.id), &self.settings.credential)
                .map_err(|e| BrokerError::Token(e.to_string()))?;
            let keep = self
                .settings
                .login_timeout
                .to_std()
                .unwrap_or(std::time::Duration::from_secs(900));
            logout.awaiting = Some((target, request.id.clone()));
            self.store
                .put(Kind::Logout, &logout.id, &logout, keep)
                .await
                .map_err(BrokerError::from)?;
            self.store
                .put(Kind::LogoutSent, &request.id, &logout.id, keep)
                .await
                .map_err(BrokerError::from)?;
            return Ok(step(out));
        }
        self.finish_logout(logout).await
    }

    /// Every party was tried: the initiator learns the outcome.
    async fn finish_logout(&self, logout: Logout) -> Result<LogoutStep, LogoutFailure> {
        self.store
            .remove(Kind::Logout, &logout.id)
            .await
            .map_err(BrokerError::from)?;
        for r in &logout.results {
            audit::logout_party(&logout.session, r.party.as_str(), r.ended, &r.detail);
        }
        audit::session_ended(&logout.session, "single logout");
        let failed: Vec<String> = logout
            .results
            .iter()
            .filter(|r| !r.ended)
            // The initiator learns which parties did not confirm, not why (internal addresses
            // and errors stay in the audit log and on the person's own summary page).
            .map(|r| r.party.to_string())
            .collect();
        let status = if failed.is_empty() {
            Status::success()
        } else {
            // saml-core §3.7.3.2: Success for chsim's own session, PartialLogout for the rest.
            Status {
                code: status::SUCCESS.to_string(),
                sub_code: Some(status::PARTIAL_LOGOUT.to_string()),
                message: Some(format!(
                    "not every party confirmed the logout: {}",
                    failed.join(", ")
                )),
            }
        };
        let then = match &logout.initiator {
            Initiator::Person | Initiator::OidcClient { redirect: None, .. } => {
                LogoutStep::Done(LogoutSummary {
                    results: logout.results,
                })
            }
            // RP-initiated logout: back to the client (OIDC has no partial-logout status).
            Initiator::OidcClient {
                redirect: Some(url),
                ..
            } => LogoutStep::Redirect(super::oidc::parse_url(url)?),
            initiator => self.respond(initiator, status)?,
        };
        Ok(match (logout.frames.is_empty(), then) {
            (true, then) | (false, then @ LogoutStep::Soap(_)) => then,
            (false, then) => LogoutStep::Frames {
                urls: logout.frames,
                then: Box::new(then),
            },
        })
    }

    /// Answers an initiator whose request was refused after it was verified.
    pub(super) fn refuse(
        &self,
        initiator: &Initiator,
        status: Status,
    ) -> Result<LogoutStep, LogoutFailure> {
        audit::refused(
            "logout",
            status
                .message
                .as_deref()
                .unwrap_or("refused logout request"),
        );
        self.respond(initiator, status)
    }

    /// chsim's signed LogoutResponse to the initiator, by the binding it asked with (a user
    /// system), or by HTTP-Redirect (an IdP).
    fn respond(&self, initiator: &Initiator, status: Status) -> Result<LogoutStep, LogoutFailure> {
        let (entity, request_id, relay_state, binding, slo) = match initiator {
            Initiator::UserSystem {
                entity,
                request_id,
                relay_state,
                binding,
            } => (
                entity,
                request_id,
                relay_state,
                Binding::from(*binding),
                self.trust.user_systems.get(entity).map(|u| &u.slo),
            ),
            Initiator::Idp {
                entity,
                request_id,
                relay_state,
            } => (
                entity,
                request_id,
                relay_state,
                Binding::Redirect,
                self.trust.idp(entity.as_str()).map(|i| &i.slo),
            ),
            Initiator::Person | Initiator::OidcClient { .. } => {
                return Ok(LogoutStep::Done(LogoutSummary::default()));
            }
        };
        let no_endpoint = || LogoutFailure::NoEndpoint {
            party: entity.to_string(),
        };
        let (binding, destination) = match binding {
            Binding::Soap => (Binding::Soap, None),
            preferred => {
                let slo = slo.ok_or_else(no_endpoint)?;
                let (binding, endpoint) = match (preferred, &slo.redirect, &slo.post) {
                    (Binding::Post, _, Some(e)) => (Binding::Post, e),
                    (_, Some(e), _) => (Binding::Redirect, e),
                    (_, None, Some(e)) => (Binding::Post, e),
                    _ => return Err(no_endpoint()),
                };
                (binding, Some(endpoint.response_url().to_string()))
            }
        };
        let response = NewLogoutResponse {
            id: new_saml_id(),
            issue_instant: self.clock.now(),
            destination,
            issuer: self.settings.entity_id.to_string(),
            in_response_to: request_id.clone(),
            status,
        };
        let out = response
            .encode(binding, relay_state.as_deref(), &self.settings.credential)
            .map_err(|e| BrokerError::Token(e.to_string()))?;
        Ok(step(out))
    }
}

fn step(out: Outgoing) -> LogoutStep {
    match out {
        Outgoing::Redirect(url) => LogoutStep::Redirect(url),
        Outgoing::Post(form) => LogoutStep::Post(form),
        Outgoing::Soap(envelope) => LogoutStep::Soap(envelope),
    }
}
