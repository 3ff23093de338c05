//! Reading who the person is from a validated IdP assertion, in either attribute profile
//! (reference §2.2 NameID, §4.1 and §4.2 attributes).

use super::BrokerError;
use crate::assurance::{read_asserted, Asserted};
use crate::ids::Cvr;
use crate::saml::validate::ValidatedAssertion;
use crate::saml::{name_id_part, NAMEID_X509};
use crate::token::attributes::{oiosaml2, oiosaml3};
use crate::token::LoginFacts;
use crate::trust::TrustedIdp;

fn first(assertion: &ValidatedAssertion, names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| assertion.attribute(n).and_then(|v| v.first().cloned()))
        .filter(|v| !v.is_empty())
}

/// Builds the login facts, checking that the person belongs to the IdP's municipality.
pub fn facts_from(
    assertion: &ValidatedAssertion,
    idp: &TrustedIdp,
) -> Result<LoginFacts, BrokerError> {
    // The Context Handler's SP metadata names one NameID format (reference §2.2); chsim passes
    // the NameID on to user systems as X509SubjectName, so anything else would be relabelled.
    if assertion.name_id_format.as_deref() != Some(NAMEID_X509) {
        return Err(BrokerError::NameIdFormat {
            idp: idp.entity_id.to_string(),
            found: assertion.name_id_format.clone(),
        });
    }
    let cvr_text = first(assertion, &[oiosaml3::CVR, oiosaml2::CVR])
        .or_else(|| name_id_part(&assertion.name_id, "O"))
        .ok_or_else(|| BrokerError::MissingCvr {
            idp: idp.entity_id.to_string(),
        })?;
    // Issue #3 §3: the loa attribute is authoritative for NSIS, AssuranceLevel for NIST, the
    // class ref stands in for a missing one; a malformed level refuses the answer.
    let level = read_asserted(Asserted {
        loa_attribute: first(assertion, &[oiosaml3::LOA]).as_deref(),
        nist_attribute: first(assertion, &[oiosaml2::ASSURANCE_LEVEL]).as_deref(),
        class_ref: assertion.authn_context_class_ref.as_deref(),
    })
    .map_err(|error| BrokerError::Assurance {
        idp: idp.entity_id.to_string(),
        error,
    })?;
    let cvr = Cvr::parse(&cvr_text).map_err(|_| BrokerError::MissingCvr {
        idp: idp.entity_id.to_string(),
    })?;
    if cvr != idp.municipality.cvr {
        return Err(BrokerError::ForeignCvr {
            idp: idp.entity_id.to_string(),
            municipality: idp.municipality.name.clone(),
            expected: idp.municipality.cvr.to_string(),
            found: cvr.to_string(),
        });
    }
    Ok(LoginFacts {
        name_id: assertion.name_id.clone(),
        idp: idp.entity_id.clone(),
        org_name: first(assertion, &[oiosaml3::ORG_NAME]).or(Some(idp.municipality.name.clone())),
        cvr,
        email: first(assertion, &[oiosaml3::EMAIL]),
        // Not filtered like the others: an empty privilege value is malformed, not "no roles".
        privileges: [oiosaml3::PRIVILEGES, oiosaml2::PRIVILEGES]
            .iter()
            .find_map(|n| assertion.attribute(n))
            .map(|v| v.first().cloned().unwrap_or_default()),
        nist_level: level.nist,
        nsis_level: level.nsis,
        authn_instant: assertion.authn_instant.unwrap_or(assertion.not_on_or_after),
    })
}
