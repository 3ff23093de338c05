//! The last step of a login whose level is met (reference §1.1 steps 4–5): the person's
//! job-function roles (from the IdP or the municipality's attribute service, issue #4 §4) are
//! kept in the SSO session, mapped to this user system's roles (issue #4 §3), and the token is
//! issued, with a report of what happened. A login answered from an existing session (issue #9
//! §2) takes only the second half: mapping and token.

use super::privileges::{self, PrivilegeInputs};
use super::session::{HeldRoles, IdpLeg, Session};
use super::{
    Broker, BrokerError, Consumed, Delivery, Failure, LoginReport, PendingLogin, SamlPost,
};
use crate::attribute_service::Provenance;
use crate::audit;
use crate::ids::new_saml_id;
use crate::saml::binding;
use crate::token::{Identity, Recipient};
use crate::trust::{Profile, TrustedIdp, TrustedUserSystem};

impl Broker {
    /// The rest of a login at an IdP whose level is met: the roles, the session, the token.
    /// `bound`: the answer came back in the browser that started the login; only then does it
    /// start or upgrade the browser's SSO session (else the token is issued without one).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn finish(
        &self,
        login: &PendingLogin,
        user_system: &TrustedUserSystem,
        idp: &TrustedIdp,
        identity: Identity,
        attributes: Vec<(String, Vec<String>)>,
        legs: Vec<IdpLeg>,
        bound: bool,
    ) -> Result<Consumed, Failure> {
        let fail = |e: BrokerError| self.fail_to_user_system(login, user_system, e);
        let roles = self
            .held_roles(idp, &identity, attributes)
            .await
            .map_err(fail)?;
        let existing = login.session.as_ref().filter(|_| bound);
        let mut session = self
            .session_after_login(existing, &idp.entity_id, &identity, roles, legs)
            .await
            .map_err(fail)?;
        let started = session.participants.is_empty();
        let delivery = self
            .issue_from_session(login, user_system, &mut session, bound)
            .await?;
        if !bound {
            audit::session_not_started(
                login.id.as_str(),
                "the IdP's answer came in a browser without the login's chsim_browser cookie",
            );
        } else if started {
            audit::session_started(
                &session.reference,
                idp.entity_id.as_str(),
                &session.identity.name_id,
                user_system.entity_id.as_str(),
            );
        }
        Ok(Consumed::Deliver(delivery))
    }

    /// The job-function roles to keep: the IdP's, or — for an IdP that knows no roles, or sent
    /// none — the municipality's attribute service's. Its faults end the login; they never
    /// become "no roles".
    async fn held_roles(
        &self,
        idp: &TrustedIdp,
        identity: &Identity,
        mut attributes: Vec<(String, Vec<String>)>,
    ) -> Result<HeldRoles, BrokerError> {
        let mut roles = HeldRoles {
            privileges: identity.privileges.clone(),
            attributes: Vec::new(),
            source: format!("the identity provider `{}`", idp.entity_id),
            provenance: Provenance::Idp,
        };
        let asked_service = !idp.knows_roles || identity.privileges.is_none();
        if !idp.knows_roles {
            // Issue #8 §5: nor its parametric values — they come from the attribute service only.
            attributes.clear();
            // The IdP's own privilege attribute is not trusted for roles (KenderRoller = false).
            roles.privileges = None;
        }
        if let (true, Some(service)) = (
            asked_service,
            self.trust.attribute_services.get(&identity.cvr),
        ) {
            let (answer, from) = self
                .attribute_services
                .fetch(service, &identity.cvr, &identity.name_id)
                .await
                .map_err(|error| BrokerError::AttributeService {
                    municipality: idp.municipality.name.clone(),
                    error,
                })?;
            roles.privileges = answer.privileges;
            attributes.extend(answer.attributes);
            roles.source = format!(
                "{}'s attribute service `{}`",
                idp.municipality.name, service.entity_id
            );
            roles.provenance = from;
        }
        roles.attributes = attributes;
        Ok(roles)
    }

    /// Maps the session's roles for `user_system`, issues its token at the session's level and
    /// original AuthnInstant, records the user system in the session and keeps the session
    /// (when `keep`; else the token goes out without a session).
    pub(super) async fn issue_from_session(
        &self,
        login: &PendingLogin,
        user_system: &TrustedUserSystem,
        session: &mut Session,
        keep: bool,
    ) -> Result<Delivery, Failure> {
        let fail = |e: BrokerError| self.fail_to_user_system(login, user_system, e);
        let now = self.clock.now();
        let idp = self.trust.idp(session.idp.as_str()).ok_or_else(|| {
            fail(BrokerError::UnknownIdp {
                entity_id: session.idp.to_string(),
            })
        })?;
        let mut identity = session.identity.clone();
        // The issued assertion states the level achieved in the user system's profile: OIOSAML2
        // carries only the NIST attribute, so an NSIS login is stated by its equivalent.
        if user_system.profile == Profile::Oiosaml2 {
            identity.nist_level = crate::assurance::Requirement::stated_nist(
                &session.level(),
                &self.settings.equivalence,
            );
        }
        // Issue #4 §3: job-function roles → this user system's roles, with constraints.
        let roles = session.roles.clone();
        let decision = privileges::decide(PrivilegeInputs {
            received: roles.privileges.as_deref(),
            source: &roles.source,
            person_cvr: &identity.cvr,
            job_roles: &self.trust.job_roles,
            idp,
            user_system,
            attributes: &roles.attributes,
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
        identity.privileges = decision.attribute.clone();
        let session_index = new_saml_id();
        // SAML: the signed assertion, POSTed. OIDC (issue #11 §3): a code in a redirect, which
        // the token endpoint exchanges for JWTs saying what this assertion would have said.
        // The system's place in the session: the SAML SessionIndex, or the OIDC `sid` — a value
        // of its own, since tokens travel to resource servers and the report's key
        // (`/runtime/logins/<SessionIndex>`) must not be readable from them.
        let mut participant_index = session_index.clone();
        let (url, saml) = match &login.oidc {
            None => {
                let to = Recipient {
                    user_system,
                    acs_url: &login.acs_url,
                    in_response_to: &login.request_id,
                };
                let xml = self
                    .tokens
                    .issue(&identity, to, now, &session_index)
                    .map_err(|e| fail(BrokerError::Token(e.to_string())))?;
                let post = SamlPost {
                    saml_response: binding::encode_post(&xml),
                    relay_state: login.relay_state.clone(),
                };
                (login.acs_url.clone(), Some(post))
            }
            Some(oidc) => {
                participant_index = new_saml_id();
                let url = self
                    .issue_code(
                        login,
                        oidc,
                        &identity,
                        &participant_index,
                        &session.reference,
                        now,
                    )
                    .await
                    .map_err(fail)?;
                (url, None)
            }
        };
        session.join(
            &user_system.entity_id,
            &identity.name_id,
            &participant_index,
            now,
        );
        if keep {
            self.save_session(session).await.map_err(fail)?;
        }
        audit::token_issued(
            login.id.as_str(),
            user_system.entity_id.as_str(),
            idp.entity_id.as_str(),
            &identity.name_id,
            identity.privileges.is_some(),
            roles.provenance.describe(),
        );
        let report = LoginReport {
            issued_at: now,
            user_system: user_system.entity_id.to_string(),
            idp: idp.entity_id.to_string(),
            name_id: identity.name_id.clone(),
            provenance: roles.provenance,
            received: decision.received,
            issued: decision.issued,
            dropped: decision.dropped,
        };
        // The report is a debugging aid: a store that cannot keep it does not fail the login.
        if let Err(e) = self.store.put_report(&session_index, &report).await {
            tracing::warn!(error = %e, "the login report was not kept");
        }
        Ok(Delivery {
            url,
            saml,
            user_system_name: user_system.name.clone(),
            passive: login.is_passive,
            session: keep.then(|| session.id.clone()),
        })
    }
}
