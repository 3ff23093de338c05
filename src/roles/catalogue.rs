//! The role catalogue at run time (reference §6.1): job-function roles with their owner and
//! delegations, and per user system its roles and role mappings. Built from the configuration.

use crate::config::{JobRoleConfig, RoleMappingConfig, UserSystemRoleConfig};
use crate::ids::Cvr;
use crate::privileges::Text;
use std::collections::HashMap;

/// A job-function role (Jobfunktionsrolle).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRole {
    /// Role URI.
    pub id: String,
    /// Display name.
    pub name: Option<String>,
    /// The owning municipality.
    pub owner: Cvr,
    /// Municipalities it is delegated to.
    pub delegated_to: Vec<Cvr>,
}

/// All job-function roles, by URI.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobRoleCatalogue {
    roles: HashMap<String, JobRole>,
}

impl JobRoleCatalogue {
    /// From `[[job_role]]` entries.
    pub fn from_config(roles: &[JobRoleConfig]) -> Self {
        Self {
            roles: roles
                .iter()
                .map(|r| {
                    (
                        r.id.clone(),
                        JobRole {
                            id: r.id.clone(),
                            name: r.name.clone(),
                            owner: r.owner.clone(),
                            delegated_to: r.delegated_to.clone(),
                        },
                    )
                })
                .collect(),
        }
    }

    /// The role with this URI.
    pub fn get(&self, id: &str) -> Option<&JobRole> {
        self.roles.get(id)
    }
}

/// Where a mapped constraint's values come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConstraintSource {
    /// Fixed values.
    Static(std::sync::Arc<[Text]>),
    /// The value the IdP supplies under this parametric identifier.
    Parametric(String),
}

/// One constraint of a role mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedConstraint {
    /// Constraint-type URI.
    pub constraint_type: Text,
    /// Its values' source.
    pub source: ConstraintSource,
    /// Whether the role requires it (a missing parametric value then refuses the mapping).
    pub required: bool,
}

/// One role mapping of a user system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleMapping {
    /// From this job-function role.
    pub job_role: String,
    /// To this user-system role.
    pub role: Text,
    /// With these constraints, in configuration order.
    pub constraints: Vec<MappedConstraint>,
}

/// A user system's roles and mappings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SystemRoles {
    /// Its user-system role URIs with display names.
    pub roles: Vec<(String, Option<String>)>,
    /// Its mappings, in configuration order.
    pub mappings: Vec<RoleMapping>,
    /// Positions in `mappings` by job-function role, in configuration order.
    by_job_role: HashMap<String, Vec<usize>>,
}

impl SystemRoles {
    /// From a `[[user_system]]` or `[[oidc_user_system]]` entry's `role` and `mapping` tables
    /// (already checked by `check-config`).
    pub fn from_config(role: &[UserSystemRoleConfig], mapping: &[RoleMappingConfig]) -> Self {
        let required = |id: &str, constraint_type: &str| {
            role.iter()
                .find(|r| r.id == id)
                .and_then(|r| {
                    r.constraints
                        .iter()
                        .find(|t| t.constraint_type == constraint_type)
                })
                .is_some_and(|t| t.required)
        };
        // One shared string per distinct text: equal roles and constraint types then compare by
        // pointer when the mapping merges duplicates.
        let mut interned: HashMap<String, Text> = HashMap::new();
        let mut intern = |s: &str| -> Text {
            interned
                .entry(s.to_string())
                .or_insert_with(|| Text::from(s))
                .clone()
        };

        let mut mappings = Vec::with_capacity(mapping.len());
        for m in mapping {
            let mut constraints = Vec::with_capacity(m.constraints.len());
            for v in &m.constraints {
                constraints.push(MappedConstraint {
                    constraint_type: intern(&v.constraint_type),
                    source: match &v.parametric {
                        Some(p) => ConstraintSource::Parametric(p.clone()),
                        None => {
                            ConstraintSource::Static(v.values.iter().map(|s| intern(s)).collect())
                        }
                    },
                    required: required(&m.role, &v.constraint_type),
                });
            }
            mappings.push(RoleMapping {
                job_role: m.job_role.clone(),
                role: intern(&m.role),
                constraints,
            });
        }
        let mut by_job_role: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, m) in mapping.iter().enumerate() {
            by_job_role.entry(m.job_role.clone()).or_default().push(i);
        }
        Self {
            by_job_role,
            roles: role
                .iter()
                .map(|r| (r.id.clone(), r.name.clone()))
                .collect(),
            mappings,
        }
    }

    /// The mappings from `job_role`, in configuration order.
    pub fn mappings_from<'a>(&'a self, job_role: &str) -> impl Iterator<Item = &'a RoleMapping> {
        self.by_job_role
            .get(job_role)
            .into_iter()
            .flatten()
            .map(|&i| &self.mappings[i])
    }

    /// True when `id` is one of this system's roles.
    pub fn has_role(&self, id: &str) -> bool {
        self.roles.iter().any(|(r, _)| r == id)
    }
}
