//! OIOBPP — the OIO Basic Privilege Profile (reference §5): the PrivilegeList that IdPs and the
//! attribute service send (job-function roles) and that chsim issues (user-system roles), with
//! KOMBIT's `Constraint` data constraints. Pure: text in, typed list out, and back.
//!
//! - [`parse`](parse::parse): every shape seen in the wild (§5.2, §5.3): both namespaces, prefixed
//!   or default namespace, qualified or unqualified children, base64 or raw XML, whitespace and
//!   CRLF, `Constraint` before or after `Privilege`, comma lists or repeated `Constraint`s.
//! - [`emit`](emit::emit): what chsim sends — `digst.dk` (OIOSAML3) or `itst.dk` (OIOSAML2), one
//!   group per (scope, privilege), one `Constraint` element per value, base64 of UTF-8.

mod emit;
mod error;
mod parse;
#[cfg(test)]
mod tests;

pub use emit::{emit, encode};
pub use error::PrivilegeError;
pub use parse::parse;

use crate::ids::Cvr;
use std::sync::Arc;

/// Text in a privilege list. Shared rather than copied: the same scope, role and constraint
/// strings recur in every group a person's roles map to, on every login.
pub type Text = Arc<str>;

/// The OIOBPP 1.0.1 namespace: what municipal IdPs send and what Context Handler 1 issues.
pub const NS_ITST: &str = "http://itst.dk/oiosaml/basic_privilege_profile";
/// The OIOBPP 1.2 namespace: what Context Handler 2 issues to OIOSAML3 user systems.
pub const NS_DIGST: &str = "http://digst.dk/oiosaml/basic_privilege_profile";

/// Scope prefix of a CVR number (reference §5.1).
pub const SCOPE_CVR: &str = "urn:dk:gov:saml:cvrNumberIdentifier:";
/// Scope prefix of a production unit (P-nummer).
pub const SCOPE_PRODUCTION_UNIT: &str = "urn:dk:gov:saml:productionUnitIdentifier:";
/// Scope prefix of an SE number.
pub const SCOPE_SE: &str = "urn:dk:gov:saml:seNumberIdentifier:";
/// Scope prefix of a CPR number.
pub const SCOPE_CPR: &str = "urn:dk:gov:saml:cprNumberIdentifier:";

/// Which OIOBPP namespace a list is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Namespace {
    /// `http://itst.dk/oiosaml/basic_privilege_profile` (1.0.1; OIOSAML2 output, IdP input).
    Itst,
    /// `http://digst.dk/oiosaml/basic_privilege_profile` (1.2; OIOSAML3 output).
    Digst,
}

impl Namespace {
    /// The namespace URI.
    pub fn uri(self) -> &'static str {
        match self {
            Namespace::Itst => NS_ITST,
            Namespace::Digst => NS_DIGST,
        }
    }
}

/// A data constraint (`<Constraint Name="…">`): a constraint type (or a parametric identifier on
/// input) and its values, in order, without duplicates.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Constraint {
    /// The `Name` attribute: a constraint-type URI such as `http://sts.kombit.dk/constraints/KLE/1`,
    /// or a parametric identifier ending in `/1/parametric`.
    pub name: Text,
    /// Its values (a comma list and repeated elements both become one value each); shared, since
    /// a role mapping's static values go unchanged into every login's output.
    pub values: Arc<[Text]>,
}

/// A `PrivilegeGroup`: privileges under one scope, with the constraints that apply to them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct PrivilegeGroup {
    /// The `Scope` attribute, kept exactly as sent (trimmed), e.g.
    /// `urn:dk:gov:saml:cvrNumberIdentifier:11111111`.
    pub scope: Text,
    /// Privilege URIs, in order.
    pub privileges: Vec<Text>,
    /// Constraints, one per name, in the order their names first appeared.
    pub constraints: Vec<Constraint>,
}

/// A `PrivilegeList`: groups in the order they were sent (groups with the same scope stay apart).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct PrivilegeList {
    /// The groups.
    pub groups: Vec<PrivilegeGroup>,
}

impl PrivilegeList {
    /// True when no group holds a privilege.
    pub fn is_empty(&self) -> bool {
        self.groups.iter().all(|g| g.privileges.is_empty())
    }

    /// One entry per privilege — `{scope, privilege, constraints: [{name, values}]}` — as the
    /// demo user systems (SAML and OIDC) report what they received.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        json!(self
            .groups
            .iter()
            .flat_map(|g| g.privileges.iter().map(move |p| json!({
                "scope": &*g.scope,
                "privilege": &**p,
                "constraints": g.constraints.iter().map(|c| json!({
                    "name": &*c.name,
                    "values": c.values.iter().map(|v| &**v).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            })))
            .collect::<Vec<_>>())
    }
}

/// What kind of scope a group has (reference §5.1). Unknown kinds are kept as they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeKind<'a> {
    /// `urn:dk:gov:saml:cvrNumberIdentifier:<cvr>` with a well-formed CVR.
    Cvr(Cvr),
    /// `urn:dk:gov:saml:productionUnitIdentifier:<p>`.
    ProductionUnit(&'a str),
    /// `urn:dk:gov:saml:seNumberIdentifier:<se>`.
    Se(&'a str),
    /// `urn:dk:gov:saml:cprNumberIdentifier:<cpr>`.
    Cpr(&'a str),
    /// Anything else, including a CVR scope whose number is malformed.
    Other(&'a str),
}

/// Classifies a scope.
pub fn scope_kind(scope: &str) -> ScopeKind<'_> {
    if let Some(c) = scope.strip_prefix(SCOPE_CVR) {
        return Cvr::parse(c).map_or(ScopeKind::Other(scope), ScopeKind::Cvr);
    }
    if let Some(p) = scope.strip_prefix(SCOPE_PRODUCTION_UNIT) {
        return ScopeKind::ProductionUnit(p);
    }
    if let Some(p) = scope.strip_prefix(SCOPE_SE) {
        return ScopeKind::Se(p);
    }
    if let Some(p) = scope.strip_prefix(SCOPE_CPR) {
        return ScopeKind::Cpr(p);
    }
    ScopeKind::Other(scope)
}

/// The scope URI of a CVR number.
pub fn cvr_scope(cvr: &Cvr) -> Text {
    format!("{SCOPE_CVR}{cvr}").into()
}
