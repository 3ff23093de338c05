//! The last step of a login whose level is met (reference §1.1 steps 4–5): the person's
//! privileges (from the IdP or the municipality's attribute service, issue #4 §4), mapped to this
//! user system's roles (issue #4 §3), and the token issued, with a report of what happened.

use super::privileges::{self, PrivilegeInputs};
use super::{Broker, BrokerError, Consumed, Delivery, Failure, LoginReport};
use crate::assurance::AssertedLevel;
use crate::attribute_service::Provenance;
use crate::audit;
use crate::ids::new_saml_id;
use crate::saml::binding;
use crate::token::Recipient;
use crate::trust::Profile;

impl Broker {
    /// The rest of a login whose level is met: the privileges (from the IdP or the attribute
    /// service), the mapping, and the token.
    pub(super) async fn finish(
        &self,
        login: &super::PendingLogin,
        user_system: &crate::trust::TrustedUserSystem,
        idp: &crate::trust::TrustedIdp,
        mut facts: crate::token::Identity,
        mut attributes: Vec<(String, Vec<String>)>,
    ) -> Result<Consumed, Failure> {
        let fail = |e: BrokerError| self.fail_to_user_system(login, user_system, e);
        let now = self.clock.now();
        // The issued assertion states the level achieved in the user system's profile: OIOSAML2
        // carries only the NIST attribute, so an NSIS login is stated by its equivalent.
        if user_system.profile == Profile::Oiosaml2 {
            let asserted = AssertedLevel {
                nist: facts.nist_level,
                nsis: facts.nsis_level,
            };
            facts.nist_level =
                crate::assurance::Requirement::stated_nist(&asserted, &self.settings.equivalence);
        }
        // Issue #4 §4: an IdP that knows no roles, or sent none, is backed by the municipality's
        // attribute service. Its faults end the login; they never become "no roles".
        let mut provenance = Provenance::Idp;
        let mut source = format!("the identity provider `{}`", idp.entity_id);
        let asked_service = !idp.knows_roles || facts.privileges.is_none();
        if !idp.knows_roles {
            // Issue #8 §5: nor its parametric values — they come from the attribute service only.
            attributes.clear();
        }
        if let (true, Some(service)) =
            (asked_service, self.trust.attribute_services.get(&facts.cvr))
        {
            let (answer, from) = self
                .attribute_services
                .fetch(service, &facts.cvr, &facts.name_id)
                .await
                .map_err(|error| {
                    fail(BrokerError::AttributeService {
                        municipality: idp.municipality.name.clone(),
                        error,
                    })
                })?;
            facts.privileges = answer.privileges;
            attributes.extend(answer.attributes);
            source = format!(
                "{}'s attribute service `{}`",
                idp.municipality.name, service.entity_id
            );
            provenance = from;
        } else if !idp.knows_roles {
            // The IdP's own privilege attribute is not trusted for roles (KenderRoller = false).
            facts.privileges = None;
        }
        // Issue #4 §3: job-function roles → this user system's roles, with constraints.
        let decision = privileges::decide(PrivilegeInputs {
            received: facts.privileges.as_deref(),
            source: &source,
            person_cvr: &facts.cvr,
            job_roles: &self.trust.job_roles,
            idp,
            user_system,
            attributes: &attributes,
        })
        .map_err(fail)?;
        for d in &decision.dropped {
            audit::privilege_dropped(
                login.id.as_str(),
                user_system.entity_id.as_str(),
                &d.scope,
                &d.privilege,
                &d.reason.to_string(),
            );
        }
        facts.privileges = decision.attribute.clone();
        let to = Recipient {
            user_system,
            acs_url: &login.acs_url,
            in_response_to: &login.request_id,
        };
        let session_index = new_saml_id();
        let xml = self
            .tokens
            .issue(&facts, to, now, &session_index)
            .map_err(|e| fail(BrokerError::Token(e.to_string())))?;
        audit::token_issued(
            login.id.as_str(),
            user_system.entity_id.as_str(),
            idp.entity_id.as_str(),
            &facts.name_id,
            facts.privileges.is_some(),
            provenance.describe(),
        );
        let report = LoginReport {
            issued_at: now,
            user_system: user_system.entity_id.to_string(),
            idp: idp.entity_id.to_string(),
            name_id: facts.name_id.clone(),
            provenance,
            received: decision.received,
            issued: decision.issued,
            dropped: decision.dropped,
        };
        // The report is a debugging aid: a store that cannot keep it does not fail the login.
        if let Err(e) = self.store.put_report(&session_index, &report).await {
            tracing::warn!(error = %e, "the login report was not kept");
        }
        Ok(Consumed::Deliver(Delivery {
            acs_url: login.acs_url.clone(),
            saml_response: binding::encode_post(&xml),
            relay_state: login.relay_state.clone(),
            user_system_name: user_system.name.clone(),
            passive: login.is_passive,
        }))
    }
}
