//! Job-function roles → user-system roles with data constraints (issue #4 §3; reference §6.3 and
//! the inferred algorithm of §6.4, made precise here):
//!
//! 1. A job-role group is accepted only when the role is known, its scope is its owner
//!    municipality, and that owner is the person's municipality or has delegated the role to it.
//! 2. For each of the user system's mappings from an accepted role: the user-system role with the
//!    group's scope and its constraints — static values as configured, parametric values from the
//!    group's constraint (or a SAML attribute) named by the parametric identifier. A required
//!    parametric value that was not sent refuses that mapping.
//! 3. Duplicates (same scope, role and constraints) are merged; order is stable.
//! 4. Privileges that already are user-system roles of the system pass only where the IdP may
//!    send them.
//!
//! Everything dropped is recorded with its reason for the audit log and the demo pages.

use super::catalogue::{ConstraintSource, JobRoleCatalogue, SystemRoles};
use crate::ids::Cvr;
use crate::privileges::{scope_kind, Constraint, PrivilegeGroup, PrivilegeList, ScopeKind, Text};
use std::collections::HashMap;
use std::fmt;

/// Why a privilege did not reach the user system.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DropReason {
    /// Neither a configured job-function role nor one of the system's roles.
    UnknownRole,
    /// The group's scope is not the role's owner municipality.
    ForeignScope {
        /// The owner's CVR.
        owner: Cvr,
    },
    /// The owner is another municipality that has not delegated the role to the person's.
    NotDelegated {
        /// The owner's CVR.
        owner: Cvr,
        /// The person's municipality.
        person: Cvr,
    },
    /// A known job role that this user system maps to nothing (it may serve other systems).
    NotMappedHere,
    /// A required parametric constraint value was not sent.
    MissingParametric {
        /// The user-system role that was refused.
        role: String,
        /// The parametric identifier looked for.
        parametric: String,
    },
    /// A user-system role sent directly by an IdP that may not do so.
    UserSystemRoleNotAllowed,
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DropReason::UnknownRole => f.write_str("unknown role: neither a configured job-function role nor a role of this user system"),
            DropReason::ForeignScope { owner } => write!(f, "foreign scope: the role belongs to CVR {owner}, so its group must be scoped to that CVR"),
            DropReason::NotDelegated { owner, person } => write!(f, "not delegated: the role belongs to CVR {owner}, which has not delegated it to CVR {person}"),
            DropReason::NotMappedHere => f.write_str("not mapped: this user system has no mapping from this job-function role"),
            DropReason::MissingParametric { role, parametric } => write!(f, "mapping to {role} refused: the required parametric value {parametric} was not sent"),
            DropReason::UserSystemRoleNotAllowed => f.write_str("a user-system role sent by the IdP, which may not send them (may_send_user_system_roles = false)"),
        }
    }
}

/// One dropped privilege.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Dropped {
    /// The group's scope.
    pub scope: String,
    /// The privilege as sent.
    pub privilege: String,
    /// Why.
    pub reason: DropReason,
}

/// What the user system receives, and what was dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingOutcome {
    /// One group per (scope, user-system role, constraints), in stable order.
    pub privileges: PrivilegeList,
    /// Everything that did not make it, with reasons.
    pub dropped: Vec<Dropped>,
}

/// The facts the mapping needs about one login.
#[derive(Debug, Clone, Copy)]
pub struct MappingContext<'a> {
    /// The person's municipality.
    pub person_cvr: &'a Cvr,
    /// All job-function roles.
    pub job_roles: &'a JobRoleCatalogue,
    /// The target user system's roles and mappings.
    pub system: &'a SystemRoles,
    /// Whether the IdP may send user-system roles directly (rule 4).
    pub pass_through_system_roles: bool,
    /// SAML attributes of the IdP's assertion (parametric values may arrive as attributes).
    pub attributes: &'a [(String, Vec<String>)],
}

fn scope_cvr(scope: &str) -> Option<Cvr> {
    match scope_kind(scope) {
        ScopeKind::Cvr(cvr) => Some(cvr),
        _ => None,
    }
}

/// Maps the privileges from the IdP (or attribute service) for one user system.
pub fn map(input: &PrivilegeList, ctx: &MappingContext<'_>) -> MappingOutcome {
    let mut out: Vec<PrivilegeGroup> = Vec::new();
    let mut dropped = Vec::new();
    let mut drop = |scope: &str, privilege: &str, reason: DropReason| {
        dropped.push(Dropped {
            scope: scope.to_string(),
            privilege: privilege.to_string(),
            reason,
        })
    };
    for group in &input.groups {
        for privilege in &group.privileges {
            // Rule 1: known job role, scoped to its owner, owner is or delegated to the person's.
            if let Some(role) = ctx.job_roles.get(privilege) {
                if scope_cvr(&group.scope).as_ref() != Some(&role.owner) {
                    drop(
                        &group.scope,
                        privilege,
                        DropReason::ForeignScope {
                            owner: role.owner.clone(),
                        },
                    );
                    continue;
                }
                if &role.owner != ctx.person_cvr && !role.delegated_to.contains(ctx.person_cvr) {
                    drop(
                        &group.scope,
                        privilege,
                        DropReason::NotDelegated {
                            owner: role.owner.clone(),
                            person: ctx.person_cvr.clone(),
                        },
                    );
                    continue;
                }
                // Rule 2: every mapping of this system from the role.
                let mut mapped = false;
                for mapping in ctx.system.mappings_from(privilege) {
                    mapped = true;
                    match constraints_for(mapping, group, ctx) {
                        Ok(constraints) => out.push(PrivilegeGroup {
                            scope: group.scope.clone(),
                            privileges: vec![mapping.role.clone()],
                            constraints,
                        }),
                        Err(parametric) => drop(
                            &group.scope,
                            privilege,
                            DropReason::MissingParametric {
                                role: mapping.role.to_string(),
                                parametric,
                            },
                        ),
                    }
                }
                if !mapped {
                    drop(&group.scope, privilege, DropReason::NotMappedHere);
                }
            } else if ctx.system.has_role(privilege) {
                // Rule 4: a user-system role sent directly, by an IdP allowed to, scoped to the
                // person's own municipality (a municipality assigns only its own roles).
                if ctx.pass_through_system_roles
                    && scope_cvr(&group.scope).as_ref() != Some(ctx.person_cvr)
                {
                    drop(
                        &group.scope,
                        privilege,
                        DropReason::ForeignScope {
                            owner: ctx.person_cvr.clone(),
                        },
                    );
                } else if ctx.pass_through_system_roles {
                    out.push(PrivilegeGroup {
                        scope: group.scope.clone(),
                        privileges: vec![privilege.clone()],
                        constraints: group.constraints.clone(),
                    });
                } else {
                    drop(
                        &group.scope,
                        privilege,
                        DropReason::UserSystemRoleNotAllowed,
                    );
                }
            } else {
                drop(&group.scope, privilege, DropReason::UnknownRole);
            }
        }
    }
    // Rule 3: merge duplicates, keeping the first occurrence's position. Groups are bucketed by
    // role (cheap to hash) and compared in full only within a bucket, constraints first: a person
    // with many roles meets a system with many mappings on every login.
    let keep: Vec<bool> = {
        let mut seen: HashMap<&str, Vec<usize>> = HashMap::with_capacity(out.len());
        (0..out.len())
            .map(|i| {
                let role = out[i].privileges.first().map_or("", |p| &**p);
                let earlier = seen.entry(role).or_default();
                let fresh = !earlier.iter().any(|&j| same_group(&out[j], &out[i]));
                if fresh {
                    earlier.push(i);
                }
                fresh
            })
            .collect()
    };
    let mut keep = keep.into_iter();
    let mut privileges = out;
    privileges.retain(|_| keep.next().unwrap_or(false));
    MappingOutcome {
        privileges: PrivilegeList { groups: privileges },
        dropped,
    }
}

/// Equality of two output groups, testing first what differs most often (constraint values; the
/// scope is usually the same for all of a person's groups).
fn same_group(a: &PrivilegeGroup, b: &PrivilegeGroup) -> bool {
    a.constraints == b.constraints && a.privileges == b.privileges && a.scope == b.scope
}

/// The constraints of one mapping, or the parametric identifier that a required value lacked.
fn constraints_for(
    mapping: &super::catalogue::RoleMapping,
    group: &PrivilegeGroup,
    ctx: &MappingContext<'_>,
) -> Result<Vec<Constraint>, String> {
    let mut constraints = Vec::with_capacity(mapping.constraints.len());
    for c in &mapping.constraints {
        let values: std::sync::Arc<[Text]> = match &c.source {
            ConstraintSource::Static(values) => values.clone(),
            ConstraintSource::Parametric(p) => {
                let mut named = group.constraints.iter().filter(|k| *k.name == **p);
                match (named.next(), named.next()) {
                    // Parsing merges same-named constraints: usually one, shared as it is.
                    (Some(k), None) if !k.values.is_empty() => k.values.clone(),
                    (Some(first), Some(second)) => first
                        .values
                        .iter()
                        .chain(second.values.iter())
                        .chain(named.flat_map(|k| k.values.iter()))
                        .cloned()
                        .collect(),
                    _ => ctx
                        .attributes
                        .iter()
                        .filter(|(name, _)| name == p)
                        .flat_map(|(_, v)| v.iter())
                        // As in a Constraint element: several values may be comma-separated.
                        .flat_map(|v| v.split(','))
                        .map(|v| v.trim())
                        .filter(|v| !v.is_empty())
                        .map(Text::from)
                        .collect(),
                }
            }
        };
        if values.is_empty() {
            match (&c.source, c.required) {
                (ConstraintSource::Parametric(p), true) => return Err(p.clone()),
                _ => continue,
            }
        }
        constraints.push(Constraint {
            name: c.constraint_type.clone(),
            values,
        });
    }
    Ok(constraints)
}
