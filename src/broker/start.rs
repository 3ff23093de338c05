//! Step 1 and 2 of a login: accept the user system's AuthnRequest (reference §3.1), pick the IdP
//! (chooser, `?idp=`, or IP range) and send chsim's signed AuthnRequest to it (§2.1).

use super::{Broker, BrokerError, Delivery, Failure, IdpRequest, PendingLogin};
use crate::assurance::{requested_minimum, Requirement};
use crate::audit;
use crate::ids::{new_saml_id, EntityId, LoginId};
use crate::saml::authn_request::{self, NewAuthnRequest, RequestedAuthnContext};
use crate::saml::binding::{self, MessageKind};
use crate::saml::{signing, NAMEID_X509};
use crate::token::Recipient;
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
}

impl Broker {
    /// Accepts a user system's AuthnRequest. `idp_hint` is the `?idp=` parameter;
    /// `client_ip` enables IP-range pre-selection.
    pub fn start(
        &self,
        incoming: IncomingRequest,
        idp_hint: Option<&str>,
        client_ip: Option<IpAddr>,
    ) -> Result<Next, Failure> {
        let s = &self.settings;
        let (xml, relay_state, redirect) = match incoming {
            IncomingRequest::Redirect { raw_query } => {
                let msg =
                    binding::decode_redirect(&raw_query, MessageKind::Request, s.max_message_bytes)
                        .map_err(BrokerError::BadAuthnRequest)?;
                (msg.xml.clone(), msg.relay_state.clone(), Some(msg))
            }
            IncomingRequest::Post {
                saml_request,
                relay_state,
            } => (
                binding::decode_post(&saml_request, s.max_message_bytes)
                    .map_err(BrokerError::BadAuthnRequest)?,
                relay_state,
                None,
            ),
        };
        // saml-bindings §3.4.3/§3.5.3: at most 80 bytes, refused before anything else is read.
        if let Some(length) = relay_state.as_ref().map(String::len).filter(|l| *l > 80) {
            return Err(BrokerError::RelayStateTooLong { length }.into());
        }
        let request = authn_request::parse(&xml).map_err(BrokerError::BadAuthnRequest)?;
        let user_system = self
            .trust
            .user_systems
            .get(&EntityId::new(request.issuer.clone()))
            .ok_or_else(|| BrokerError::UnknownUserSystem {
                issuer: request.issuer.clone(),
            })?;
        // Signature: over the query string (Redirect) or enveloped (POST), with the user
        // system's metadata certificates only.
        let signed = match &redirect {
            Some(msg) => msg.is_signed(),
            None => request.has_xml_signature,
        };
        if signed {
            let mut last_error = None;
            let verified = user_system.signing_certs.iter().any(|cert| {
                let result = match &redirect {
                    Some(msg) => msg.verify(cert.public_key(), s.algorithms),
                    None => {
                        signing::verify_and_reduce(&xml, std::slice::from_ref(cert), s.algorithms)
                            .and_then(|reduced| {
                                // Read only what the signature covers.
                                let signed_request = authn_request::parse(&reduced)?;
                                if signed_request.id == request.id {
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
                    Ok(()) => true,
                    Err(e) => {
                        last_error = Some(e);
                        false
                    }
                }
            });
            if !verified {
                return Err(BrokerError::BadAuthnRequestSignature {
                    issuer: request.issuer.clone(),
                    reason: last_error.unwrap_or(crate::saml::SamlError::NoTrustedCertificate),
                }
                .into());
            }
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
        let seen = self
            .seen_requests
            .entry(format!("{}\n{}", request.issuer, request.id))
            .or_insert(());
        if !seen.is_fresh() {
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
                (Requirement::Nsis(l), crate::config::Profile::Oiosaml2) => {
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
                BrokerError::NoIdpMeetsLevel {
                    user_system: user_system.name.clone(),
                    requirement: format!(
                        "{} together with the requested {requested}",
                        user_system.requirement
                    ),
                    offers:
                        "no NSIS level counts as that NIST level under [assurance] in chsim.toml"
                            .into(),
                },
            ));
        }
        audit::login_started(
            login.id.as_str(),
            user_system.entity_id.as_str(),
            &login.request_id,
        );
        self.logins.insert(login.id.clone(), login.clone());

        if let Some(hint) = idp_hint.filter(|h| !h.is_empty()) {
            return self.choose(&login.id, hint);
        }
        // Only IdPs that can reach the level are offered; with none, the person learns why
        // before being sent anywhere.
        let candidates: Vec<&TrustedIdp> = self
            .trust
            .idps
            .iter()
            .filter(|idp| {
                super::nemlogin::offerable(
                    idp,
                    self.trust.nemlogin.as_ref(),
                    login.requirement,
                    &s.equivalence,
                )
            })
            .collect();
        if candidates.is_empty() && !self.trust.idps.is_empty() {
            let offers = self
                .trust
                .idps
                .iter()
                .map(|idp| format!("{} offers {}", idp.presentation_name, offers(idp)))
                .collect::<Vec<_>>()
                .join("; ");
            return Err(self.fail_to_user_system(
                &login,
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
                return self.choose(&login.id, only.entity_id.as_str());
            }
        }
        match candidates.as_slice() {
            [] => Err(self.fail_to_user_system(&login, user_system, BrokerError::NoIdpAvailable)),
            [only] => self.choose(&login.id, only.entity_id.as_str()),
            // The chooser needs the person (saml-core §3.4.1: IsPassive forbids that).
            _ if login.is_passive => Err(self.fail_to_user_system(
                &login,
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

    /// Sends the login `login` to the IdP `idp_entity_id`: a signed HTTP-Redirect AuthnRequest.
    pub fn choose(&self, login: &LoginId, idp_entity_id: &str) -> Result<Next, Failure> {
        let pending = self.logins.get(login).ok_or(BrokerError::UnknownLogin {
            timeout_seconds: self.settings.login_timeout.num_seconds(),
        })?;
        let user_system = self.user_system_of(&pending)?;
        let Some(idp) = self.trust.idp(idp_entity_id) else {
            return Err(self.fail_to_user_system(
                &pending,
                user_system,
                BrokerError::UnknownIdp {
                    entity_id: idp_entity_id.to_string(),
                },
            ));
        };
        if !super::nemlogin::offerable(
            idp,
            self.trust.nemlogin.as_ref(),
            pending.requirement,
            &self.settings.equivalence,
        ) {
            return Err(self.fail_to_user_system(
                &pending,
                user_system,
                BrokerError::IdpCannotMeetLevel {
                    user_system: user_system.name.clone(),
                    requirement: pending.requirement.to_string(),
                    idp: idp.presentation_name.clone(),
                    offers: offers(idp),
                },
            ));
        }
        let url = self
            .send_to_idp(&pending, idp.target(), user_system, pending.force_authn)
            .map_err(|e| self.fail_to_user_system(&pending, user_system, e))?;
        Ok(Next::Redirect(url))
    }

    /// Chsim's signed HTTP-Redirect AuthnRequest to `idp` for `login`: the requirement as the
    /// IdP's profile wants it (issue #3 §2, reference §7.4), Scoping naming the user system when
    /// the IdP supports it.
    pub(super) fn send_to_idp(
        &self,
        login: &PendingLogin,
        idp: IdpTarget<'_>,
        user_system: &TrustedUserSystem,
        force_authn: bool,
    ) -> Result<Url, BrokerError> {
        let asked = idp.profile.request(login.requirement);
        let request = NewAuthnRequest {
            id: new_saml_id(),
            issue_instant: self.clock.now(),
            destination: idp.sso_redirect_url.to_string(),
            issuer: self.settings.entity_id.to_string(),
            acs_url: Some(self.settings.acs_url.clone()),
            force_authn,
            is_passive: login.is_passive,
            name_id_format: Some(NAMEID_X509.to_string()),
            requested_authn_context: asked.class_ref.map(|c| RequestedAuthnContext {
                comparison: "minimum".into(),
                class_refs: vec![c],
            }),
            requester_ids: if idp.supports_scoping {
                vec![user_system.entity_id.to_string()]
            } else {
                Vec::new()
            },
        };
        // chsim matches the answer by InResponseTo; RelayState is free to carry the level for
        // OIOSAML3_ADFS_RELAY_STATE (a URI, within SAML's 80-byte bound).
        let relay_state = asked
            .relay_state_level
            .unwrap_or_else(|| login.id.as_str().to_string());
        let url = request
            .to_xml(None)
            .and_then(|xml| {
                binding::encode_redirect(
                    idp.sso_redirect_url,
                    MessageKind::Request,
                    &xml,
                    Some(&relay_state),
                    Some(self.settings.credential.key()),
                )
            })
            .map_err(|e| BrokerError::Token(e.to_string()))?;
        self.idp_requests.insert(
            request.id.clone(),
            IdpRequest {
                login: login.id.clone(),
                idp: idp.entity_id.clone(),
            },
        );
        audit::sent_to_idp(login.id.as_str(), idp.entity_id.as_str(), &request.id);
        Ok(url)
    }

    /// Ends `login` with `error`, preparing the signed non-success Response for the user system.
    pub(super) fn fail_to_user_system(
        &self,
        login: &PendingLogin,
        user_system: &TrustedUserSystem,
        error: BrokerError,
    ) -> Failure {
        audit::refused("login", &error.to_string());
        self.logins.invalidate(&login.id);
        let to = Recipient {
            user_system,
            acs_url: &login.acs_url,
            in_response_to: &login.request_id,
        };
        let delivery = self
            .tokens
            .issue_failure(to, self.clock.now(), error.saml_status())
            .ok()
            .map(|xml| Delivery {
                acs_url: login.acs_url.clone(),
                saml_response: binding::encode_post(&xml),
                relay_state: login.relay_state.clone(),
                user_system_name: user_system.name.clone(),
                passive: login.is_passive,
            });
        Failure {
            error,
            to_user_system: delivery,
        }
    }
}

/// The levels an IdP offers, for messages.
fn offers(idp: &TrustedIdp) -> String {
    match idp.nsis_level {
        Some(l) => format!("NIST level {} and NSIS {l}", idp.nist_level),
        None => format!("NIST level {} and no NSIS level", idp.nist_level),
    }
}

/// Where and how chsim sends an AuthnRequest: a municipal IdP, or NemLog-in.
#[derive(Debug, Clone, Copy)]
pub(super) struct IdpTarget<'a> {
    /// entityID.
    pub entity_id: &'a EntityId,
    /// HTTP-Redirect SingleSignOnService.
    pub sso_redirect_url: &'a str,
    /// How it is told the level.
    pub profile: crate::assurance::IdpProfile,
    /// Whether it takes Scoping.
    pub supports_scoping: bool,
}

impl TrustedIdp {
    /// This IdP as a target of chsim's AuthnRequests.
    pub(super) fn target(&self) -> IdpTarget<'_> {
        IdpTarget {
            entity_id: &self.entity_id,
            sso_redirect_url: &self.sso_redirect_url,
            profile: self.profile,
            supports_scoping: self.supports_scoping,
        }
    }
}
