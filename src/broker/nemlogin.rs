//! The NemLog-in fallback (issue #3 §3; reference §7.5: "if the municipality's own IdP does not
//! support NSIS, MitID can be used as step-up to reach an NSIS level"). When a municipality's IdP
//! answers below a required NSIS level it cannot reach, and the municipality falls back to
//! NemLog-in, chsim keeps that answer (the first leg: who the person is and their roles) and asks
//! NemLog-in for the level. NemLog-in's answer must be about the same person — its professional
//! UUID equal to the first leg's NameID Serial, its CVR the municipality's —, and then the token
//! carries NemLog-in's level with the municipality's roles.

use super::session::IdpLeg;
use super::{Broker, BrokerError, Consumed, Failure, PendingLogin};
use crate::assurance::{read_asserted, Asserted, IdpProfile};
use crate::audit;
use crate::ids::EntityId;
use crate::saml::oiosaml::{oiosaml2, oiosaml3};
use crate::saml::validate::ValidatedAssertion;
use crate::saml::SubjectName;
use crate::token::Identity;
use crate::trust::{TrustedNemlogin, TrustedUserSystem};
use std::sync::Arc;
use url::Url;

/// What the municipality's IdP said, kept while the person continues at NemLog-in.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct FirstLeg {
    /// The municipality's IdP.
    pub idp: EntityId,
    /// Who the person is, their roles (raw) and the too-low level.
    pub facts: Identity,
    /// The first assertion's attributes (parametric values may be among them).
    pub attributes: Vec<(String, Vec<String>)>,
    /// What logout must name at the municipality's IdP.
    pub leg: IdpLeg,
}

/// The one value of an attribute of NemLog-in's answer (several are refused, issue #8 §5).
fn first_value(
    assertion: &ValidatedAssertion,
    name: &str,
    nemlogin: &TrustedNemlogin,
) -> Result<Option<String>, BrokerError> {
    Ok(
        super::identity::single(assertion, name, nemlogin.entity_id.as_str())?
            .filter(|v| !v.trim().is_empty()),
    )
}

impl Broker {
    /// Sends the person to NemLog-in for the level, keeping the first leg.
    pub(super) async fn send_to_nemlogin(
        &self,
        login: &PendingLogin,
        nemlogin: &TrustedNemlogin,
        first_leg: FirstLeg,
    ) -> Result<Url, BrokerError> {
        let user_system = self.user_system_of(login)?;
        let idp = first_leg.idp.clone();
        let continued = PendingLogin {
            first_leg: Some(Arc::new(first_leg)),
            ..login.clone()
        };
        // NemLog-in is an OIOSAML3 IdP: it is asked for the NSIS level, naming the user system.
        let target = super::outbound::IdpTarget {
            entity_id: &nemlogin.entity_id,
            sso_redirect_url: &nemlogin.sso_redirect_url,
            profile: IdpProfile::Oiosaml3,
            supports_scoping: true,
        };
        let url = self
            .send_to_idp(&continued, target, user_system, login.force_authn)
            .await?
            .0;
        audit::nemlogin_fallback(
            login.id.as_str(),
            idp.as_str(),
            &login.requirement.to_string(),
        );
        self.store.put_login(&continued).await?;
        Ok(url)
    }

    /// NemLog-in's answer: the same person, at the level; then the token with the first leg's
    /// roles.
    pub(super) async fn consume_nemlogin(
        &self,
        login: &PendingLogin,
        user_system: &TrustedUserSystem,
        nemlogin: &TrustedNemlogin,
        assertion: &ValidatedAssertion,
        bound: bool,
    ) -> Result<Consumed, Failure> {
        let fail = |e: BrokerError| self.fail_to_user_system(login, user_system, e);
        let Some(first) = login.first_leg.as_deref() else {
            return Err(fail(BrokerError::Unsolicited {
                in_response_to: "(a NemLog-in answer to a login that was never sent there)".into(),
            }));
        };
        let idp = self.trust.idp(first.idp.as_str()).ok_or_else(|| {
            fail(BrokerError::UnknownIdp {
                entity_id: first.idp.to_string(),
            })
        })?;
        // The same person: NemLog-in's professional UUID is the municipality's Serial.
        // (The first leg's NameID was read when it arrived; a missing Serial matches nothing.)
        let expected_serial = SubjectName::parse(&first.facts.name_id)
            .ok()
            .and_then(|n| n.serial)
            .unwrap_or_default();
        let value = |name| first_value(assertion, name, nemlogin).map_err(fail);
        let uuid = value(oiosaml3::PROFESSIONAL_UUID)?.unwrap_or_default();
        let uuid = uuid.strip_prefix("urn:uuid:").unwrap_or(&uuid).to_string();
        let cvr = value(oiosaml3::CVR)?.unwrap_or_default();
        if uuid.is_empty() || uuid != expected_serial || cvr != first.facts.cvr.as_str() {
            return Err(fail(BrokerError::NemloginMismatch {
                expected: format!(
                    "professional UUID {expected_serial}, CVR {}",
                    first.facts.cvr
                ),
                found: format!("professional UUID {uuid}, CVR {cvr}"),
            }));
        }
        let (loa, nist) = (value(oiosaml3::LOA)?, value(oiosaml2::ASSURANCE_LEVEL)?);
        let level = read_asserted(Asserted {
            loa_attribute: loa.as_deref(),
            nist_attribute: nist.as_deref(),
            class_ref: assertion.authn_context_class_ref.as_deref(),
        })
        .map_err(|error| {
            fail(BrokerError::Assurance {
                idp: nemlogin.entity_id.to_string(),
                error,
            })
        })?;
        let eq = &self.settings.equivalence;
        if !login.requirement.is_met_by(&level, eq) {
            return Err(fail(BrokerError::LevelTooLow {
                user_system: user_system.name.clone(),
                requirement: login.requirement.to_string(),
                idp: nemlogin.entity_id.to_string(),
                received: level.describe(),
                stepped_up: false,
                no_nsis_identity: level.nsis.is_none(),
            }));
        }
        // Who and which roles from the municipality; the level, and so the authenticating
        // authority, from NemLog-in.
        let facts = Identity {
            idp: nemlogin.entity_id.clone(),
            nist_level: level.nist,
            nsis_level: level.nsis,
            authn_instant: assertion.authn_instant.unwrap_or(first.facts.authn_instant),
            ..first.facts.clone()
        };
        let legs = vec![
            first.leg.clone(),
            IdpLeg::of(&nemlogin.entity_id, assertion),
        ];
        self.finish(
            login,
            user_system,
            idp,
            facts,
            first.attributes.clone(),
            legs,
            bound,
        )
        .await
    }
}
