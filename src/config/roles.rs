//! The role catalogue in the configuration (reference §6.1): municipalities' job-function roles
//! (jobfunktionsroller), user systems' roles (brugersystemroller) with the data-constraint types
//! they take, and the role mappings with static or parametric constraint values.

use super::{Config, ConfigProblem};
use crate::ids::Cvr;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};

/// `[[job_role]]` in `municipalities.toml`: a job-function role (Jobfunktionsrolle).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobRoleConfig {
    /// Role URI, e.g. `http://korsbaek.dk/roles/jobrole/sagsbehandler/1` (the privilege IdPs send).
    pub id: String,
    /// Name shown on the demo pages.
    #[serde(default)]
    pub name: Option<String>,
    /// CVR of the municipality that owns the role (its Anvenderkontekst).
    pub owner: Cvr,
    /// CVRs of the municipalities the role is delegated to (DelegeretTil).
    #[serde(default)]
    pub delegated_to: Vec<Cvr>,
}

/// `[[user_system.role]]`: a user-system role (Brugersystemrolle).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSystemRoleConfig {
    /// Role URI, e.g. `http://sapa.demo/roles/usersystemrole/laes-sag/1`.
    pub id: String,
    /// Name shown on the demo pages.
    #[serde(default)]
    pub name: Option<String>,
    /// The data-constraint types (Dataafgrænsningstyper) the role takes.
    #[serde(default)]
    pub constraints: Vec<ConstraintTypeConfig>,
}

/// A data-constraint type a user-system role takes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConstraintTypeConfig {
    /// Constraint-type URI, e.g. `http://sts.kombit.dk/constraints/KLE/1`.
    #[serde(rename = "type")]
    pub constraint_type: String,
    /// Whether every mapping to the role must give it a value (kraevet).
    #[serde(default)]
    pub required: bool,
}

/// `[[user_system.mapping]]`: one job-function role → one user-system role (RoleMapping).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleMappingConfig {
    /// The job-function role URI.
    pub job_role: String,
    /// The user-system role URI (one of this system's `role`s).
    pub role: String,
    /// Constraint values (Dataafgrænsninger).
    #[serde(default)]
    pub constraints: Vec<ConstraintValueConfig>,
}

/// A constraint value in a mapping: static values, or a parametric identifier whose value the IdP
/// supplies at login (in the job role's group, or as a SAML attribute of that name).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConstraintValueConfig {
    /// Constraint-type URI; the role must take it.
    #[serde(rename = "type")]
    pub constraint_type: String,
    /// Static values.
    #[serde(default)]
    pub values: Vec<String>,
    /// Parametric identifier ending in `/1/parametric`.
    #[serde(default)]
    pub parametric: Option<String>,
}

/// The suffix of a parametric identifier (reference §5.4).
pub const PARAMETRIC_SUFFIX: &str = "/1/parametric";

/// Checks the role catalogue: unknown owners and delegations, duplicate role URIs, mappings to
/// roles a system does not define or from job roles nobody defined, constraint types a role does
/// not take, required constraints without a value, and malformed constraint values.
pub(super) fn check(c: &Config, problems: &mut Vec<ConfigProblem>) {
    const MUN: &str = "municipalities.toml";
    const US: &str = "user_systems.toml";
    let cvrs: HashSet<&str> = c
        .municipalities
        .municipality
        .iter()
        .map(|m| m.cvr.as_str())
        .collect();
    let mut job_roles = HashSet::new();
    for (i, r) in c.municipalities.job_role.iter().enumerate() {
        let key = format!("job_role[{i}]");
        if !job_roles.insert(r.id.as_str()) {
            problems.push(ConfigProblem::new(
                MUN,
                format!("{key}.id"),
                format!("the role `{}` is defined twice", r.id),
            ));
        }
        if !cvrs.contains(r.owner.as_str()) {
            problems.push(ConfigProblem::new(
                MUN,
                format!("{key}.owner"),
                format!(
                    "the role `{}` is owned by CVR {}, which is no configured municipality",
                    r.id, r.owner
                ),
            ));
        }
        for (j, d) in r.delegated_to.iter().enumerate() {
            if !cvrs.contains(d.as_str()) {
                problems.push(ConfigProblem::new(
                    MUN,
                    format!("{key}.delegated_to[{j}]"),
                    format!("CVR {d} is no configured municipality"),
                ));
            }
        }
    }
    let mut all_system_roles: HashMap<&str, usize> = HashMap::new();
    // SAML and OIDC user systems keep the same catalogue; a role id is unique across both.
    let systems = c
        .user_systems
        .user_system
        .iter()
        .enumerate()
        .map(|(u, us)| (format!("user_system[{u}]"), &us.role, &us.mapping))
        .chain(
            c.user_systems
                .oidc_user_system
                .iter()
                .enumerate()
                .map(|(u, us)| (format!("oidc_user_system[{u}]"), &us.role, &us.mapping)),
        );
    for (u, (prefix, system_roles, mappings)) in systems.enumerate() {
        let mut roles = HashMap::new();
        for (i, r) in system_roles.iter().enumerate() {
            let key = format!("{prefix}.role[{i}]");
            if roles.insert(r.id.as_str(), r).is_some()
                || all_system_roles.insert(r.id.as_str(), u).is_some()
            {
                problems.push(ConfigProblem::new(
                    US,
                    format!("{key}.id"),
                    format!(
                        "the role `{}` is defined twice (a user-system role belongs to one system)",
                        r.id
                    ),
                ));
            }
            let mut types = HashSet::new();
            for (j, t) in r.constraints.iter().enumerate() {
                if !types.insert(t.constraint_type.as_str()) {
                    problems.push(ConfigProblem::new(
                        US,
                        format!("{key}.constraints[{j}]"),
                        format!(
                            "the constraint type `{}` is listed twice",
                            t.constraint_type
                        ),
                    ));
                }
            }
        }
        for (m, mapping) in mappings.iter().enumerate() {
            let key = format!("{prefix}.mapping[{m}]");
            if !job_roles.contains(mapping.job_role.as_str()) {
                problems.push(ConfigProblem::new(
                    US,
                    format!("{key}.job_role"),
                    format!(
                        "`{}` is no job-function role in municipalities.toml",
                        mapping.job_role
                    ),
                ));
            }
            let Some(role) = roles.get(mapping.role.as_str()) else {
                problems.push(ConfigProblem::new(
                    US,
                    format!("{key}.role"),
                    format!("`{}` is not one of this user system's roles", mapping.role),
                ));
                continue;
            };
            let mut given = HashSet::new();
            for (j, v) in mapping.constraints.iter().enumerate() {
                let ckey = format!("{key}.constraints[{j}]");
                if !role
                    .constraints
                    .iter()
                    .any(|t| t.constraint_type == v.constraint_type)
                {
                    problems.push(ConfigProblem::new(
                        US,
                        format!("{ckey}.type"),
                        format!(
                            "the role `{}` does not take the constraint type `{}`",
                            role.id, v.constraint_type
                        ),
                    ));
                }
                if !given.insert(v.constraint_type.as_str()) {
                    problems.push(ConfigProblem::new(
                        US,
                        format!("{ckey}.type"),
                        format!("the constraint type `{}` is given twice", v.constraint_type),
                    ));
                }
                for (k, value) in v.values.iter().enumerate() {
                    // Values are emitted one Constraint element each and read back split on
                    // commas (reference §5.3): an empty value or a comma would not survive.
                    if value.trim().is_empty() || value.contains(',') || value.trim() != value {
                        problems.push(ConfigProblem::new(
                            US,
                            format!("{ckey}.values[{k}]"),
                            format!("`{value}` is not a usable constraint value: values must be non-empty, without a comma (a comma separates values) and without surrounding spaces"),
                        ));
                    }
                }
                match (&v.parametric, v.values.is_empty()) {
                    (Some(_), false) => problems.push(ConfigProblem::new(US, ckey, "give either static `values` or a `parametric` identifier, not both")),
                    (None, true) => problems.push(ConfigProblem::new(US, ckey, "has no value: give static `values` or a `parametric` identifier")),
                    (Some(p), true) if !p.ends_with(PARAMETRIC_SUFFIX) => problems.push(ConfigProblem::new(US, format!("{ckey}.parametric"), format!("`{p}` is not a parametric identifier (it must end in {PARAMETRIC_SUFFIX})"))),
                    _ => {}
                }
            }
            for t in role.constraints.iter().filter(|t| t.required) {
                if !given.contains(t.constraint_type.as_str()) {
                    problems.push(ConfigProblem::new(
                        US,
                        key.clone(),
                        format!(
                            "the role `{}` requires a value for the constraint type `{}`",
                            role.id, t.constraint_type
                        ),
                    ));
                }
            }
        }
    }
    for (i, m) in c.municipalities.municipality.iter().enumerate() {
        for (j, idp) in m.idp.iter().enumerate() {
            if !idp.knows_roles && m.attribute_service.is_none() {
                problems.push(ConfigProblem::new(
                    MUN,
                    format!("municipality[{i}].idp[{j}].knows_roles"),
                    format!(
                        "the IdP knows no roles, so {} needs an attribute_service",
                        m.name
                    ),
                ));
            }
        }
    }
}
