//! Reading who the person is from a validated IdP assertion, in either attribute profile
//! (reference §2.2 NameID, §4.1 and §4.2 attributes). Every identity field means one thing
//! (issue #8 §5):
//! 1. the NameID is an X509SubjectName, read as RFC 4514 (`saml::name_id`);
//! 2. each identity attribute comes in one Attribute element with one value;
//! 3. every CVR the answer states — the NameID's `O=`, the OIOSAML3 and the OIOSAML2 CVR
//!    attribute — is eight digits, they agree, and they are the IdP's municipality's.

use super::BrokerError;
use crate::assurance::{read_asserted, Asserted};
use crate::ids::Cvr;
use crate::saml::oiosaml::{oiosaml2, oiosaml3};
use crate::saml::validate::ValidatedAssertion;
use crate::saml::{SubjectName, NAMEID_X509};
use crate::token::Identity;
use crate::trust::TrustedIdp;

/// The one value of the attribute `name`, or None when it is absent. Several Attribute elements
/// of that name, or several values, are refused: which one counts would be a guess.
pub(super) fn single(
    assertion: &ValidatedAssertion,
    name: &str,
    idp: &str,
) -> Result<Option<String>, BrokerError> {
    let elements: Vec<_> = assertion
        .attributes
        .iter()
        .filter(|a| a.name == name)
        .collect();
    let values: Vec<String> = elements
        .iter()
        .flat_map(|a| a.values.iter().cloned())
        .collect();
    if elements.len() > 1 || values.len() > 1 {
        return Err(BrokerError::SeveralValues {
            idp: idp.to_string(),
            attribute: name.to_string(),
            elements: elements.len(),
            values,
        });
    }
    Ok(values.into_iter().next())
}

/// [`single`], with an empty value counting as absent.
fn single_nonempty(
    assertion: &ValidatedAssertion,
    name: &str,
    idp: &str,
) -> Result<Option<String>, BrokerError> {
    Ok(single(assertion, name, idp)?.filter(|v| !v.trim().is_empty()))
}

/// Step 3 above: the person's CVR from every source that states one.
fn person_cvr(
    subject: &SubjectName,
    assertion: &ValidatedAssertion,
    idp: &TrustedIdp,
) -> Result<Cvr, BrokerError> {
    let idp_id = idp.entity_id.to_string();
    let mut stated: Vec<(String, String)> = Vec::new();
    if let Some(o) = &subject.o {
        stated.push(("the NameID's O=".to_string(), o.clone()));
    }
    for name in [oiosaml3::CVR, oiosaml2::CVR] {
        if let Some(value) = single(assertion, name, &idp_id)? {
            stated.push((format!("the attribute `{name}`"), value));
        }
    }
    let mut cvrs = Vec::with_capacity(stated.len());
    for (source, value) in &stated {
        let cvr = Cvr::parse(value.trim()).map_err(|_| BrokerError::MalformedCvr {
            idp: idp_id.clone(),
            source_name: source.clone(),
            found: value.clone(),
        })?;
        cvrs.push((source, cvr));
    }
    let Some((first_source, first)) = cvrs.first() else {
        return Err(BrokerError::MissingCvr { idp: idp_id });
    };
    if let Some((second_source, second)) = cvrs.iter().find(|(_, c)| c != first) {
        return Err(BrokerError::CvrDisagreement {
            idp: idp_id,
            first_source: (*first_source).clone(),
            first: first.to_string(),
            second_source: (*second_source).clone(),
            second: second.to_string(),
        });
    }
    if *first != idp.municipality.cvr {
        return Err(BrokerError::ForeignCvr {
            idp: idp_id,
            municipality: idp.municipality.name.clone(),
            expected: idp.municipality.cvr.to_string(),
            source_name: (*first_source).clone(),
            found: first.to_string(),
        });
    }
    Ok(first.clone())
}

/// Builds the person's [`Identity`](crate::token::Identity), checking that the person belongs to the IdP's municipality.
pub fn identity_from(
    assertion: &ValidatedAssertion,
    idp: &TrustedIdp,
) -> Result<Identity, BrokerError> {
    let idp_id = idp.entity_id.to_string();
    // The Context Handler's SP metadata names one NameID format (reference §2.2); chsim passes
    // the NameID on to user systems as X509SubjectName, so anything else would be relabelled.
    if assertion.name_id_format.as_deref() != Some(NAMEID_X509) {
        return Err(BrokerError::NameIdFormat {
            idp: idp_id,
            found: assertion.name_id_format.clone(),
        });
    }
    // Step 1.
    let subject = SubjectName::parse(&assertion.name_id).map_err(|error| BrokerError::NameId {
        idp: idp_id.clone(),
        name_id: assertion.name_id.clone(),
        error,
    })?;
    // Step 3 (with step 2 for the CVR attributes).
    let cvr = person_cvr(&subject, assertion, idp)?;
    // Issue #3 §3: the loa attribute is authoritative for NSIS, AssuranceLevel for NIST, the
    // class ref stands in for a missing one; a malformed level refuses the answer.
    let level = read_asserted(Asserted {
        loa_attribute: single_nonempty(assertion, oiosaml3::LOA, &idp_id)?.as_deref(),
        nist_attribute: single_nonempty(assertion, oiosaml2::ASSURANCE_LEVEL, &idp_id)?.as_deref(),
        class_ref: assertion.authn_context_class_ref.as_deref(),
    })
    .map_err(|error| BrokerError::Assurance {
        idp: idp_id.clone(),
        error,
    })?;
    // Several privilege Attribute elements are refused here; several values of one are refused
    // with the privilege rules when the IdP's roles count (consume).
    let privileges = [oiosaml3::PRIVILEGES, oiosaml2::PRIVILEGES]
        .iter()
        .find(|n| assertion.attribute(n).is_some())
        .map(|n| {
            let elements = assertion.attributes.iter().filter(|a| a.name == *n).count();
            if elements > 1 {
                return Err(BrokerError::SeveralValues {
                    idp: idp_id.clone(),
                    attribute: (*n).to_string(),
                    elements,
                    values: Vec::new(),
                });
            }
            // Not filtered like the others: an empty privilege value is malformed, not "no roles".
            Ok(assertion
                .attribute(n)
                .and_then(|v| v.first().cloned())
                .unwrap_or_default())
        })
        .transpose()?;
    Ok(Identity {
        name_id: assertion.name_id.clone(),
        idp: idp.entity_id.clone(),
        org_name: single_nonempty(assertion, oiosaml3::ORG_NAME, &idp_id)?
            .or(Some(idp.municipality.name.clone())),
        cvr,
        email: single_nonempty(assertion, oiosaml3::EMAIL, &idp_id)?,
        privileges,
        nist_level: level.nist,
        nsis_level: level.nsis,
        authn_instant: assertion.authn_instant.unwrap_or(assertion.not_on_or_after),
    })
}
