//! Step 4 of a login: from the privileges received (IdP or attribute service) to the privileges
//! the user system gets (issue #4 §1, §3). The received text is parsed strictly — a malformed list
//! ends the login, it never becomes "no roles" —, mapped with the role catalogue, and emitted in
//! the namespace of the user system's profile; an empty result omits the attribute (OIOBPP).

use super::BrokerError;
use crate::ids::Cvr;
use crate::privileges::{self, Namespace, PrivilegeList};
use crate::roles::{self, Dropped, JobRoleCatalogue, MappingContext};
use crate::trust::Profile;
use crate::trust::{TrustedIdp, TrustedUserSystem};

/// What the privilege step decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivilegeDecision {
    /// The list as received, decoded (None when nothing was received).
    pub received: Option<PrivilegeList>,
    /// What the user system receives (may be empty).
    pub issued: PrivilegeList,
    /// The attribute value to issue (base64 OIOBPP), None when `issued` is empty.
    pub attribute: Option<String>,
    /// What was dropped, with reasons.
    pub dropped: Vec<Dropped>,
}

/// The inputs of the step.
#[derive(Debug, Clone, Copy)]
pub struct PrivilegeInputs<'a> {
    /// The privilege attribute value received, if any.
    pub received: Option<&'a str>,
    /// Who sent it, for error messages ("the IdP `…`", "Søby Kommune's attribute service").
    pub source: &'a str,
    /// The person's municipality.
    pub person_cvr: &'a Cvr,
    /// All job-function roles.
    pub job_roles: &'a JobRoleCatalogue,
    /// The IdP that authenticated the person.
    pub idp: &'a TrustedIdp,
    /// The target user system.
    pub user_system: &'a TrustedUserSystem,
    /// SAML attributes that may carry parametric values (IdP assertion, attribute service).
    pub attributes: &'a [(String, Vec<String>)],
}

/// Parses, maps and emits the privileges for the user system.
pub fn decide(inputs: PrivilegeInputs<'_>) -> Result<PrivilegeDecision, BrokerError> {
    let received = inputs
        .received
        .map(privileges::parse)
        .transpose()
        .map_err(|error| BrokerError::Privileges {
            source_name: inputs.source.to_string(),
            error,
        })?;
    let empty = PrivilegeList::default();
    let outcome = roles::map(
        received.as_ref().unwrap_or(&empty),
        &MappingContext {
            person_cvr: inputs.person_cvr,
            job_roles: inputs.job_roles,
            system: &inputs.user_system.roles,
            pass_through_system_roles: inputs.idp.may_send_user_system_roles,
            attributes: inputs.attributes,
        },
    );
    let namespace = match inputs.user_system.profile {
        Profile::Oiosaml3 => Namespace::Digst,
        Profile::Oiosaml2 => Namespace::Itst,
    };
    let attribute = (!outcome.privileges.is_empty())
        .then(|| privileges::encode(&outcome.privileges, namespace));
    Ok(PrivilegeDecision {
        received,
        issued: outcome.privileges,
        attribute,
        dropped: outcome.dropped,
    })
}
