//! Step 1 and 2 of a login: accept the user system's AuthnRequest (reference §3.1), pick the IdP
//! (chooser, `?idp=`, or IP range) and send chsim's signed AuthnRequest to it (§2.1).

use super::store::Kind;
use super::{Broker, BrokerError, Failure, PendingLogin};
use crate::assurance::{requested_minimum, Requirement};
use crate::audit;
use crate::ids::{new_saml_id, EntityId, LoginId, SessionId};
use crate::saml::authn_request;
use crate::saml::binding::{self, MessageKind};
use crate::saml::signing::{self, AlgorithmPolicy};
use crate::saml::TrustedCert;
use crate::trust::{TrustedIdp, TrustedUserSystem};
use std::net::IpAddr;
use url::Url;

/// The user system's AuthnRequest as it arrived.
#[derive(Debug, Clone)]
pub enum IncomingRequest {
    /// HTTP-Redirect: the raw query string.
    Redirect {
        /// Everything after `?`, undecoded.
        raw_query: String,
    },
    /// HTTP-POST: the form fields.
    Post {
        /// `SAMLRequest`.
        saml_request: String,
        /// `RelayState`.
        relay_state: Option<String>,
    },
}

/// One entry of the IdP chooser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpChoice {
    /// The IdP's entityID.
    pub entity_id: EntityId,
    /// Its Præsentationsnavn.
    pub presentation_name: String,
    /// The municipality.
    pub municipality: String,
    /// The municipality's CVR.
    pub cvr: String,
}

/// What happens after the AuthnRequest was accepted.
#[derive(Debug, Clone)]
pub enum Next {
    /// Show the chooser.
    Choose {
        /// The login handle the choice refers to.
        login: LoginId,
        /// The user system's name.
        user_system_name: String,
        /// The IdPs that can serve the login.
        choices: Vec<IdpChoice>,
    },
    /// Redirect the browser to the IdP.
    Redirect(Url),
    /// Answered from the browser's SSO session: the token, to be POSTed to the user system.
    Deliver(super::Delivery),
    /// The request was a LogoutRequest: the next step of single logout.
    Logout(super::logout::LogoutStep),
}

impl Broker {
    /// Accepts a user system's AuthnRequest. `idp_hint` is the `?idp=` parameter;
    /// `client_ip` enables IP-range pre-selection; `session` is the browser's session cookie and
    /// `browser` its `chsim_browser` cookie (which the IdP's answer must come back with for the
    /// login to start an SSO session).
    pub async fn start(
        &self,
        incoming: IncomingRequest,
        idp_hint: Option<&str>,
        client_ip: Option<IpAddr>,
        session: Option<&SessionId>,
        browser: Option<&str>,
    ) -> Result<Next, Failure> {
        let s = &self.settings;
        // Decoding, parsing and the signature check are CPU work on a stranger's input: on the
        // blocking pool, bounded in number and time (issue #8 §1).
        let max = s.max_message_bytes;
        // issue.idp is also the SingleLogoutService (reference §3.4): a LogoutRequest goes to
        // single logout.
        let original = incoming.clone();
        let decoded = match crate::cpu::run(move || Decoded::from(incoming, max))
            .await
            .map_err(BrokerError::Cpu)??
        {
            Message::Authn(decoded) => *decoded,
            Message::Logout => {
                return self
                    .logout_from_user_system(original.into())
                    .await
                    .map(Next::Logout)
                    .map_err(|e| Failure::from(BrokerError::Logout(Box::new(e))));
            }
        };
        let request = decoded.request.clone();
        let relay_state = decoded.relay_state.clone();
        let user_system = self
            .trust
            .saml_user_system(&request.issuer)
            .ok_or_else(|| BrokerError::UnknownUserSystem {
                issuer: request.issuer.clone(),
            })?;
        if decoded.is_signed() {
            let certs = user_system.signing_certs.clone();
            let algorithms = s.algorithms;
            crate::cpu::run(move || decoded.verify(&certs, algorithms))
                .await
                .map_err(BrokerError::Cpu)??;
        } else if s.require_signed_authn_requests {
            return Err(BrokerError::UnsignedAuthnRequest {
                issuer: request.issuer.clone(),
            }
            .into());
        }
        // Issue #8 §6: a signed request is good once, and only while it is fresh.
        let now = self.clock.now();
        if (request.issue_instant - now).abs() > s.clock_skew {
            return Err(BrokerError::StaleAuthnRequest {
                issue_instant: request.issue_instant,
                now,
                skew_seconds: s.clock_skew.num_seconds(),
            }
            .into());
        }
        if !self
            .store
            .first_use_of_authn_request(&request.issuer, &request.id)
            .await
            .map_err(BrokerError::from)?
        {
            return Err(BrokerError::AuthnRequestReplay {
                issuer: request.issuer.clone(),
                id: request.id.clone(),
            }
            .into());
        }
        let acs_url = user_system
            .acs_for(request.acs_url.as_deref(), request.acs_index)
            .ok_or_else(|| BrokerError::UnknownAcs {
                issuer: request.issuer.clone(),
                requested: request
                    .acs_url
                    .clone()
                    .or(request.acs_index.map(|i| format!("index {i}")))
                    .unwrap_or_default(),
            })?
            .to_string();
        // Issue #3 §2: the user system's RequestedAuthnContext can raise its level, never lower
        // it. An OIOSAML2 user system cannot carry an NSIS level: its NSIS request counts as the
        // NIST level it is equivalent to.
        let requested = request
            .requested_authn_context
            .as_ref()
            .and_then(|r| requested_minimum(&r.comparison, &r.class_refs))
            .map(|r| match (r, user_system.profile) {
                (Requirement::Nsis(l), crate::trust::Profile::Oiosaml2) => {
                    Requirement::Nist(s.equivalence.nist_for(l))
                }
                (r, _) => r,
            });
        let raised = requested.map(|r| (r, user_system.requirement.raised_by(r, &s.equivalence)));
        let login = PendingLogin {
            id: LoginId::new(new_saml_id()),
            user_system: user_system.entity_id.clone(),
            request_id: request.id.clone(),
            acs_url,
            relay_state,
            force_authn: request.force_authn,
            is_passive: request.is_passive,
            requested_authn_context: request.requested_authn_context.clone(),
            requirement: match raised {
                Some((_, Some(r))) => r,
                _ => user_system.requirement,
            },
            stepped_up: false,
            first_leg: None,
            session: None,
            idp_request: None,
            browser: browser.map(super::browser_digest),
            oidc: None,
        };
        // From here on the user system is verified: failures are also reported to it.
        if request.destination.as_deref() != Some(s.sso_url.as_str()) {
            return Err(self.fail_to_user_system(
                &login,
                user_system,
                BrokerError::WrongDestination {
                    expected: s.sso_url.clone(),
                    found: request.destination.clone().unwrap_or_default(),
                },
            ));
        }
        if let Some((requested, None)) = raised {
            return Err(self.fail_to_user_system(
                &login,
                user_system,
                BrokerError::requested_level_unreachable(user_system, requested),
            ));
        }
        self.proceed(login, user_system, session, idp_hint, client_ip)
            .await
    }

    /// A verified login request (SAML AuthnRequest or OIDC authorization request) from here on:
    /// answered from the browser's SSO session, stepped up at the session's IdP, or sent to an
    /// IdP (by hint, IP range or the chooser).
    pub(super) async fn proceed(
        &self,
        login: PendingLogin,
        user_system: &TrustedUserSystem,
        session: Option<&SessionId>,
        idp_hint: Option<&str>,
        client_ip: Option<IpAddr>,
    ) -> Result<Next, Failure> {
        let s = &self.settings;
        audit::login_started(
            login.id.as_str(),
            user_system.entity_id.as_str(),
            &login.request_id,
        );
        // Issue #9 §2: the browser's SSO session answers without the chooser or the IdP when
        // its level is enough, unless the user system asks for a fresh login (ForceAuthn).
        let session = self.live_session(session).await?;
        let now = self.clock.now();
        // OIDC max_age: a session whose IdP login is older is not reused, and the IdP is asked
        // for a fresh login too (else it would answer from its own, older, session).
        let stale = session
            .as_ref()
            .is_some_and(|s| !login.fresh_enough(s, now));
        let login = PendingLogin {
            session: session.as_ref().map(|s| s.id.clone()),
            force_authn: login.force_authn || stale,
            ..login
        };
        if let Some(mut session) =
            session.filter(|s| !login.force_authn && login.fresh_enough(s, now))
        {
            if login
                .requirement
                .is_met_by(&session.level(), &s.equivalence)
            {
                let delivery = self
                    .issue_from_session(&login, user_system, &mut session, true)
                    .await?;
                audit::session_joined(
                    &session.reference,
                    user_system.entity_id.as_str(),
                    login.id.as_str(),
                );
                return Ok(Next::Deliver(delivery));
            }
            if login.is_passive {
                return Err(self.fail_to_user_system(
                    &login,
                    user_system,
                    BrokerError::NoPassive {
                        reason: "the session's level is too low for this user system, and raising it needs the person to log in again",
                    },
                ));
            }
            // Step-up: the same IdP, asked for the higher requirement; its answer upgrades the
            // session. (An IdP that cannot reach the level leaves the person at the chooser.)
            if let Some(idp) = self
                .trust
                .idp(session.idp.as_str())
                .filter(|idp| self.trust.offerable(idp, login.requirement, &s.equivalence))
            {
                self.store
                    .put_login(&login)
                    .await
                    .map_err(BrokerError::from)?;
                let next = self
                    .send_to_idp(&login, idp.target(), user_system, false)
                    .await
                    .map(|(url, _)| Next::Redirect(url))
                    .map_err(|e| self.fail_to_user_system(&login, user_system, e));
                return self.forget_failed(&login.id, next).await;
            }
        }
        self.store
            .put_login(&login)
            .await
            .map_err(BrokerError::from)?;
        let next = self
            .next_step(&login, user_system, idp_hint, client_ip)
            .await;
        self.forget_failed(&login.id, next).await
    }

    /// Forgets a stored login whose start or choice failed: the user system has its answer.
    async fn forget_failed(
        &self,
        login: &LoginId,
        next: Result<Next, Failure>,
    ) -> Result<Next, Failure> {
        if next.is_err() {
            if let Err(e) = self.store.remove_login(login).await {
                tracing::warn!(error = %e, "a failed login could not be forgotten; it expires with the login timeout");
            }
        }
        next
    }

    /// After the request is accepted: the IdP (`?idp=`, IP range, the only one) or the chooser.
    async fn next_step(
        &self,
        login: &PendingLogin,
        user_system: &TrustedUserSystem,
        idp_hint: Option<&str>,
        client_ip: Option<IpAddr>,
    ) -> Result<Next, Failure> {
        let s = &self.settings;
        if let Some(hint) = idp_hint.filter(|h| !h.is_empty()) {
            return self
                .send_chosen(login, user_system, hint)
                .await
                .map(|(url, _)| Next::Redirect(url));
        }
        // Only IdPs that can reach the level are offered; with none, the person learns why
        // before being sent anywhere.
        let candidates: Vec<&TrustedIdp> = self
            .trust
            .idps
            .iter()
            .filter(|idp| self.trust.offerable(idp, login.requirement, &s.equivalence))
            .collect();
        if candidates.is_empty() && !self.trust.idps.is_empty() {
            let offers = self
                .trust
                .idps
                .iter()
                .map(|idp| format!("{} offers {}", idp.presentation_name, idp.describe_offer()))
                .collect::<Vec<_>>()
                .join("; ");
            return Err(self.fail_to_user_system(
                login,
                user_system,
                BrokerError::NoIdpMeetsLevel {
                    user_system: user_system.name.clone(),
                    requirement: login.requirement.to_string(),
                    offers,
                },
            ));
        }
        if let Some(ip) = client_ip {
            let matching: Vec<&&TrustedIdp> = candidates
                .iter()
                .filter(|idp| idp.ip_ranges.iter().any(|r| r.contains(&ip)))
                .collect();
            if let [only] = matching.as_slice() {
                return self
                    .send_chosen(login, user_system, only.entity_id.as_str())
                    .await
                    .map(|(url, _)| Next::Redirect(url));
            }
        }
        match candidates.as_slice() {
            [] => Err(self.fail_to_user_system(login, user_system, BrokerError::NoIdpAvailable)),
            [only] => self
                .send_chosen(login, user_system, only.entity_id.as_str())
                .await
                .map(|(url, _)| Next::Redirect(url)),
            // The chooser needs the person (saml-core §3.4.1: IsPassive forbids that).
            _ if login.is_passive => Err(self.fail_to_user_system(
                login,
                user_system,
                BrokerError::NoPassive {
                    reason: "chsim would have to ask the person to choose their identity provider",
                },
            )),
            many => Ok(Next::Choose {
                login: login.id.clone(),
                user_system_name: user_system.name.clone(),
                choices: many
                    .iter()
                    .map(|idp| IdpChoice {
                        entity_id: idp.entity_id.clone(),
                        presentation_name: idp.presentation_name.clone(),
                        municipality: idp.municipality.name.clone(),
                        cvr: idp.municipality.cvr.to_string(),
                    })
                    .collect(),
            }),
        }
    }

    /// Sends the login `login` to the IdP `idp_entity_id` (the chooser's link): a signed
    /// HTTP-Redirect AuthnRequest.
    pub async fn choose(&self, login: &LoginId, idp_entity_id: &str) -> Result<Next, Failure> {
        let pending = self
            .store
            .login(login)
            .await
            .map_err(BrokerError::from)?
            .ok_or(BrokerError::UnknownLogin {
                timeout_seconds: self.settings.login_timeout.num_seconds(),
            })?;
        let user_system = self.user_system_of(&pending)?;
        // One outstanding IdP request per login: choosing again (the Back button, or a stranger
        // replaying the chooser's link) replaces the request, so it cannot pile up entries.
        if let Some(previous) = &pending.idp_request {
            self.store
                .remove(Kind::IdpRequest, previous)
                .await
                .map_err(BrokerError::from)?;
        }
        let next = match self.send_chosen(&pending, user_system, idp_entity_id).await {
            Ok((url, request_id)) => {
                let sent = PendingLogin {
                    idp_request: Some(request_id),
                    ..pending.clone()
                };
                self.store
                    .put_login(&sent)
                    .await
                    .map(|()| Next::Redirect(url))
                    .map_err(|e| self.fail_to_user_system(&pending, user_system, e.into()))
            }
            Err(failure) => Err(failure),
        };
        self.forget_failed(login, next).await
    }

    /// The signed AuthnRequest to the IdP `idp_entity_id`: the redirect and the request's ID.
    async fn send_chosen(
        &self,
        pending: &PendingLogin,
        user_system: &TrustedUserSystem,
        idp_entity_id: &str,
    ) -> Result<(Url, String), Failure> {
        let Some(idp) = self.trust.idp(idp_entity_id) else {
            return Err(self.fail_to_user_system(
                pending,
                user_system,
                BrokerError::UnknownIdp {
                    entity_id: idp_entity_id.to_string(),
                },
            ));
        };
        if !self
            .trust
            .offerable(idp, pending.requirement, &self.settings.equivalence)
        {
            return Err(self.fail_to_user_system(
                pending,
                user_system,
                BrokerError::IdpCannotMeetLevel {
                    user_system: user_system.name.clone(),
                    requirement: pending.requirement.to_string(),
                    idp: idp.presentation_name.clone(),
                    offers: idp.describe_offer(),
                },
            ));
        }
        self.send_to_idp(pending, idp.target(), user_system, pending.force_authn)
            .await
            .map_err(|e| self.fail_to_user_system(pending, user_system, e))
    }
}

/// What arrived at `issue.idp`.
enum Message {
    /// An AuthnRequest.
    Authn(Box<Decoded>),
    /// A LogoutRequest (read again by `saml::logout`).
    Logout,
}

impl From<IncomingRequest> for crate::saml::logout::Incoming {
    fn from(incoming: IncomingRequest) -> Self {
        match incoming {
            IncomingRequest::Redirect { raw_query } => Self::Redirect { raw_query },
            IncomingRequest::Post {
                saml_request,
                relay_state,
            } => Self::Post {
                message: saml_request,
                relay_state,
            },
        }
    }
}

/// A user system's AuthnRequest, decoded and parsed but not yet verified.
struct Decoded {
    xml: String,
    relay_state: Option<String>,
    /// The HTTP-Redirect message, whose signature is over the query string.
    redirect: Option<binding::RedirectMessage>,
    request: authn_request::ReceivedAuthnRequest,
}

impl Decoded {
    /// Decodes either binding and parses the request (bounded, issue #8 §1 and §6).
    fn from(incoming: IncomingRequest, max_message_bytes: usize) -> Result<Message, BrokerError> {
        let (xml, relay_state, redirect) = match incoming {
            IncomingRequest::Redirect { raw_query } => {
                let msg =
                    binding::decode_redirect(&raw_query, MessageKind::Request, max_message_bytes)
                        .map_err(BrokerError::BadAuthnRequest)?;
                (msg.xml.clone(), msg.relay_state.clone(), Some(msg))
            }
            IncomingRequest::Post {
                saml_request,
                relay_state,
            } => (
                binding::decode_post(&saml_request, max_message_bytes)
                    .map_err(BrokerError::BadAuthnRequest)?,
                relay_state,
                None,
            ),
        };
        // saml-bindings §3.4.3/§3.5.3: at most 80 bytes, refused before anything else is read.
        if let Some(length) = relay_state.as_ref().map(String::len).filter(|l| *l > 80) {
            return Err(BrokerError::RelayStateTooLong { length });
        }
        if crate::saml::xml::root_local_name(&xml).as_deref() == Some("LogoutRequest") {
            return Ok(Message::Logout);
        }
        let request = authn_request::parse(&xml).map_err(BrokerError::BadAuthnRequest)?;
        Ok(Message::Authn(Box::new(Self {
            xml,
            relay_state,
            redirect,
            request,
        })))
    }

    fn is_signed(&self) -> bool {
        match &self.redirect {
            Some(msg) => msg.is_signed(),
            None => self.request.has_xml_signature,
        }
    }

    /// The signature: over the query string (Redirect) or enveloped (POST), with the user
    /// system's metadata certificates only.
    fn verify(
        &self,
        certs: &[TrustedCert],
        algorithms: AlgorithmPolicy,
    ) -> Result<(), BrokerError> {
        let mut last_error = None;
        for cert in certs {
            let result = match &self.redirect {
                Some(msg) => msg.verify(cert.public_key(), algorithms),
                None => {
                    signing::verify_and_reduce(&self.xml, std::slice::from_ref(cert), algorithms)
                        .and_then(|reduced| {
                            // Read only what the signature covers.
                            let signed_request = authn_request::parse(&reduced)?;
                            if signed_request.id == self.request.id {
                                Ok(())
                            } else {
                                Err(crate::saml::SamlError::BadSignature {
                                    reason:
                                        "the signature covers another element than the AuthnRequest"
                                            .into(),
                                })
                            }
                        })
                }
            };
            match result {
                Ok(()) => return Ok(()),
                Err(e) => last_error = Some(e),
            }
        }
        Err(BrokerError::BadAuthnRequestSignature {
            issuer: self.request.issuer.clone(),
            reason: last_error.unwrap_or(crate::saml::SamlError::NoTrustedCertificate),
        })
    }
}
