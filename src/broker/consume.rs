//! Step 3 of a login: the IdP's Response arrives at `consume.idp` (reference §2.2). It is matched
//! to the request chsim sent (rule 5), validated (rules 1–4, 6, 7, 9, 10 in `saml::validate`),
//! checked for replay (rule 8), and turned into the user system's token.

use super::nemlogin::FirstLeg;
use super::session::IdpLeg;
use super::{identity, Broker, BrokerError, Consumed, Failure};
use crate::assurance::AssertedLevel;
use crate::audit;
use crate::saml::binding;
use crate::saml::oiosaml::{oiosaml2, oiosaml3};
use crate::saml::validate::{self, Expectations};
use crate::saml::xml;

impl Broker {
    /// Consumes an IdP's HTTP-POST Response and returns the token to deliver to the user system.
    /// `browser` is the `chsim_browser` cookie the answer came with.
    pub async fn consume(
        &self,
        saml_response: &str,
        browser: Option<&str>,
    ) -> Result<Consumed, Failure> {
        let s = &self.settings;
        let response_xml = binding::decode_post(saml_response, s.max_message_bytes)
            .map_err(BrokerError::BadIdpResponse)?;
        // Which request does it answer? Read InResponseTo (unverified) only to select the
        // pending request and the IdP whose certificates may verify it.
        let in_response_to = {
            let doc = xml::parse(&response_xml).map_err(BrokerError::BadIdpResponse)?;
            doc.root_element()
                .attribute("InResponseTo")
                .unwrap_or("")
                .to_string()
        };
        // Rule 5: a pending request we created and have not used. It is only looked at here and
        // taken once the answer is shown to come from the IdP (issue #8 §5): a stranger who
        // learned an InResponseTo cannot end someone's login with a forged Response.
        let unanswered = |in_response_to: String, answered: bool| {
            let error = if answered {
                BrokerError::AlreadyAnswered { in_response_to }
            } else {
                BrokerError::Unsolicited { in_response_to }
            };
            audit::refused("idp_response", &error.to_string());
            Failure::from(error)
        };
        let Some(sent) = self
            .store
            .idp_request(&in_response_to)
            .await
            .map_err(BrokerError::from)?
        else {
            let answered = self
                .store
                .was_answered(&in_response_to)
                .await
                .map_err(BrokerError::from)?;
            return Err(unanswered(in_response_to, answered));
        };
        let login = self
            .store
            .login(&sent.login)
            .await
            .map_err(BrokerError::from)?
            .ok_or(BrokerError::UnknownLogin {
                timeout_seconds: s.login_timeout.num_seconds(),
            })?;
        let user_system = self.user_system_of(&login)?;
        let fail = |e: BrokerError| self.fail_to_user_system(&login, user_system, e);
        let nemlogin = self
            .trust
            .nemlogin
            .as_ref()
            .filter(|n| n.entity_id == sent.idp);
        let idp = self.trust.idp(sent.idp.as_str());
        let (issuer, certs) = match (nemlogin, idp) {
            (Some(n), _) => (&n.entity_id, &n.signing_certs),
            (None, Some(idp)) => (&idp.entity_id, &idp.signing_certs),
            (None, None) => {
                return Err(fail(BrokerError::UnknownIdp {
                    entity_id: sent.idp.to_string(),
                }))
            }
        };
        let checked = self
            .validated(&response_xml, &in_response_to, issuer.as_str(), certs)
            .await;
        let checked = match checked {
            Err(e) if !proves_sender(&e) => {
                // The login stays pending: the person (or the real IdP) can still answer it.
                audit::refused("idp_response", &e.to_string());
                return Err(Failure::from(e));
            }
            other => other,
        };
        // From here the answer is the IdP's: take the pending request, once.
        if self
            .store
            .take_idp_request(&in_response_to)
            .await
            .map_err(BrokerError::from)?
            .is_none()
        {
            return Err(unanswered(in_response_to, true));
        }
        self.store
            .remove_login(&sent.login)
            .await
            .map_err(BrokerError::from)?;
        let assertion = checked.map_err(fail)?;
        // The same browser that started the login carries its answer (see PendingLogin::browser).
        let bound = login.browser.is_some() && login.browser == browser.map(super::browser_digest);
        // The second leg of a NemLog-in fallback (issue #3 §3).
        if let Some(nemlogin) = nemlogin {
            return self
                .consume_nemlogin(&login, user_system, nemlogin, &assertion, bound)
                .await;
        }
        let Some(idp) = idp else {
            return Err(fail(BrokerError::UnknownIdp {
                entity_id: sent.idp.to_string(),
            }));
        };
        let facts = identity::identity_from(&assertion, idp).map_err(fail)?;
        // Issue #3 §3: the level must meet the login's requirement; too low, chsim asks the IdP
        // once more with ForceAuthn (step-up) or sends the person on to NemLog-in.
        let asserted = AssertedLevel {
            nist: facts.nist_level,
            nsis: facts.nsis_level,
        };
        let eq = &s.equivalence;
        let attributes: Vec<(String, Vec<String>)> = assertion
            .attributes
            .iter()
            .map(|a| (a.name.clone(), a.values.clone()))
            .collect();
        if idp.knows_roles {
            let values = [oiosaml3::PRIVILEGES, oiosaml2::PRIVILEGES]
                .iter()
                .find_map(|n| assertion.attribute(n))
                .map_or(0, <[String]>::len);
            if values > 1 {
                return Err(fail(BrokerError::Privileges {
                    source_name: format!("the identity provider `{}`", idp.entity_id),
                    error: crate::privileges::PrivilegeError::SeveralValues { count: values },
                }));
            }
        }
        if !login.requirement.is_met_by(&asserted, eq) && login.is_passive {
            // Step-up and NemLog-in both need the person; IsPassive forbids that.
            return Err(fail(BrokerError::NoPassive {
                reason:
                    "the level reached is too low, and raising it needs the person to log in again",
            }));
        }
        if !login.requirement.is_met_by(&asserted, eq) {
            // First the IdP itself, once, when it can reach the level at all.
            if idp.can_meet(login.requirement, eq) && idp.supports_step_up && !login.stepped_up {
                let again = super::PendingLogin {
                    stepped_up: true,
                    force_authn: true,
                    ..login.clone()
                };
                let url = self
                    .send_to_idp(&again, idp.target(), user_system, true)
                    .await
                    .map(|(url, _)| url)
                    .map_err(fail)?;
                audit::step_up(
                    login.id.as_str(),
                    idp.entity_id.as_str(),
                    &login.requirement.to_string(),
                );
                self.store
                    .put_login(&again)
                    .await
                    .map_err(|e| fail(e.into()))?;
                return Ok(Consumed::StepUp(url));
            }
            // Then NemLog-in, for a municipality that falls back to it; the roles stay those of
            // this answer.
            if let Some(nemlogin) =
                self.trust.nemlogin.as_ref().filter(|n| {
                    idp.municipality.nemlogin_fallback && n.can_meet(login.requirement, eq)
                })
            {
                let first_leg = FirstLeg {
                    idp: idp.entity_id.clone(),
                    facts,
                    attributes,
                    leg: IdpLeg::of(&idp.entity_id, &assertion),
                };
                let url = self
                    .send_to_nemlogin(&login, nemlogin, first_leg)
                    .await
                    .map_err(fail)?;
                return Ok(Consumed::StepUp(url));
            }
            return Err(fail(BrokerError::LevelTooLow {
                user_system: user_system.name.clone(),
                requirement: login.requirement.to_string(),
                idp: idp.entity_id.to_string(),
                received: asserted.describe(),
                stepped_up: login.stepped_up,
                no_nsis_identity: matches!(
                    login.requirement,
                    crate::assurance::Requirement::Nsis(_)
                ) && asserted.nsis.is_none(),
            }));
        }
        let legs = vec![IdpLeg::of(&idp.entity_id, &assertion)];
        self.finish(&login, user_system, idp, facts, attributes, legs, bound)
            .await
    }

    /// Validates an IdP's Response (rules 1–4, 6, 7, 9, 10) off the async workers (issue #8
    /// §1) and checks its assertion for replay (rule 8).
    pub(super) async fn validated(
        &self,
        response_xml: &str,
        in_response_to: &str,
        issuer: &str,
        certs: &[crate::saml::TrustedCert],
    ) -> Result<crate::saml::validate::ValidatedAssertion, BrokerError> {
        let s = &self.settings;
        let now = self.clock.now();
        let job = OwnedExpectations {
            response_xml: response_xml.to_string(),
            issuer: issuer.to_string(),
            certs: certs.to_vec(),
            audience: s.entity_id.to_string(),
            acs_url: s.acs_url.clone(),
            in_response_to: in_response_to.to_string(),
            now,
            clock_skew: s.clock_skew,
            algorithms: s.algorithms,
            // The decryption credential, never the signing key (issue #8 §3).
            key: s.decryption.key().clone(),
        };
        let assertion = crate::cpu::run(move || job.validate())
            .await
            .map_err(BrokerError::Cpu)?
            .map_err(|error| BrokerError::Invalid {
                idp: issuer.to_string(),
                error,
            })?;
        // Rule 8: each assertion ID once, remembered until the assertion expires.
        let remaining = (assertion.not_on_or_after + s.clock_skew - now)
            .to_std()
            .unwrap_or(std::time::Duration::from_secs(1))
            .max(std::time::Duration::from_secs(1));
        if !self
            .store
            .first_use_of_assertion(&assertion.id, remaining)
            .await?
        {
            return Err(BrokerError::Replay {
                assertion_id: assertion.id.clone(),
            });
        }
        Ok(assertion)
    }
}

/// Whether `error` was found after the Response was shown to come from the IdP, so that it may
/// end the pending login and be reported to the user system.
fn proves_sender(error: &BrokerError) -> bool {
    match error {
        BrokerError::Invalid { error, .. } => error.proves_sender(),
        BrokerError::Replay { .. } | BrokerError::Cpu(_) => false,
        _ => true,
    }
}

/// What validating one Response needs, owned, so that it can run on the blocking pool.
struct OwnedExpectations {
    response_xml: String,
    issuer: String,
    certs: Vec<crate::saml::TrustedCert>,
    audience: String,
    acs_url: String,
    in_response_to: String,
    now: chrono::DateTime<chrono::Utc>,
    clock_skew: chrono::Duration,
    algorithms: crate::saml::signing::AlgorithmPolicy,
    key: openssl::pkey::PKey<openssl::pkey::Private>,
}

impl OwnedExpectations {
    fn validate(
        &self,
    ) -> Result<crate::saml::validate::ValidatedAssertion, validate::ValidationError> {
        validate::validate_response(
            &self.response_xml,
            &Expectations {
                issuer: &self.issuer,
                trusted_certs: &self.certs,
                audience: &self.audience,
                acs_url: &self.acs_url,
                in_response_to: &self.in_response_to,
                now: self.now,
                clock_skew: self.clock_skew,
                algorithms: self.algorithms,
                decryption_key: Some(&self.key),
                queried_subject: None,
            },
        )
    }
}
