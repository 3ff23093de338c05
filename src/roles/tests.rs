//! Unit tests of the role mapping, one per rule of issue #4 §3.
#![allow(clippy::unwrap_used)]

use super::catalogue::*;
use super::mapping::*;
use crate::config::{JobRoleConfig, UserSystemConfig};
use crate::ids::Cvr;
use crate::privileges::{Constraint, PrivilegeGroup, PrivilegeList, SCOPE_CVR as CVR_SCOPE_PREFIX};

const KORSBAEK: &str = "11111111";
const BAKKEBY: &str = "22222222";
const SAGSBEHANDLER: &str = "http://korsbaek.dk/roles/jobrole/sagsbehandler/1";
const LEDER: &str = "http://korsbaek.dk/roles/jobrole/leder/1";
const BAKKEBY_ROLE: &str = "http://bakkeby.dk/roles/jobrole/sagsbehandler/1";
const LAES: &str = "http://sapa.demo/roles/usersystemrole/laes-sag/1";
const SKRIV: &str = "http://sapa.demo/roles/usersystemrole/skriv-sag/1";
const KLE: &str = "http://sts.kombit.dk/constraints/KLE/1";
const ORG: &str = "http://sts.kombit.dk/constraints/orgenhed/1";
const KLE_PARAM: &str = "http://korsbaek.dk/constraints/KLE/1/parametric";

fn cvr(c: &str) -> Cvr {
    Cvr::parse(c).unwrap()
}

fn catalogue() -> JobRoleCatalogue {
    let role = |id: &str, owner: &str, delegated: &[&str]| JobRoleConfig {
        id: id.into(),
        name: None,
        owner: cvr(owner),
        delegated_to: delegated.iter().map(|d| cvr(d)).collect(),
    };
    JobRoleCatalogue::from_config(&[
        role(SAGSBEHANDLER, KORSBAEK, &[BAKKEBY]),
        role(LEDER, KORSBAEK, &[]),
        role(BAKKEBY_ROLE, BAKKEBY, &[]),
    ])
}

fn system(toml_text: &str) -> SystemRoles {
    let us: UserSystemConfig = toml::from_str(&format!(
        "name = \"S\"\nmetadata = \"builtin:demo-sp/x\"\nprofile = \"OIOSAML3\"\n{toml_text}"
    ))
    .unwrap();
    SystemRoles::from_config(&us.role, &us.mapping)
}

fn sapa() -> SystemRoles {
    system(&format!(
        r#"
[[role]]
id = "{LAES}"
constraints = [{{ type = "{KLE}", required = true }}, {{ type = "{ORG}" }}]
[[role]]
id = "{SKRIV}"
[[mapping]]
job_role = "{SAGSBEHANDLER}"
role = "{LAES}"
constraints = [{{ type = "{KLE}", values = ["25.*", "27.35.04"] }}]
[[mapping]]
job_role = "{SAGSBEHANDLER}"
role = "{SKRIV}"
[[mapping]]
job_role = "{BAKKEBY_ROLE}"
role = "{LAES}"
constraints = [{{ type = "{KLE}", parametric = "{KLE_PARAM}" }}, {{ type = "{ORG}", parametric = "http://bakkeby.dk/orgenhed/1/parametric" }}]
"#
    ))
}

fn group(scope_cvr: &str, privilege: &str, constraints: Vec<Constraint>) -> PrivilegeGroup {
    PrivilegeGroup {
        scope: format!("{CVR_SCOPE_PREFIX}{scope_cvr}").into(),
        privileges: vec![privilege.into()],
        constraints,
    }
}

fn c(name: &str, values: &[&str]) -> Constraint {
    Constraint {
        name: name.into(),
        values: values.iter().map(|v| (*v).into()).collect(),
    }
}

fn run(
    person: &str,
    groups: Vec<PrivilegeGroup>,
    system: &SystemRoles,
    pass: bool,
    attrs: &[(String, Vec<String>)],
) -> MappingOutcome {
    let person = cvr(person);
    let job_roles = catalogue();
    map(
        &PrivilegeList { groups },
        &MappingContext {
            person_cvr: &person,
            job_roles: &job_roles,
            system,
            pass_through_system_roles: pass,
            attributes: attrs,
        },
    )
}

#[test]
fn an_owned_role_maps_to_every_user_system_role_with_static_constraints() {
    let out = run(
        KORSBAEK,
        vec![group(KORSBAEK, SAGSBEHANDLER, vec![])],
        &sapa(),
        false,
        &[],
    );
    assert_eq!(
        out.privileges.groups,
        vec![
            group(KORSBAEK, LAES, vec![c(KLE, &["25.*", "27.35.04"])]),
            group(KORSBAEK, SKRIV, vec![])
        ]
    );
    assert!(out.dropped.is_empty());
}

#[test]
fn an_unknown_role_is_dropped_with_its_reason() {
    let out = run(
        KORSBAEK,
        vec![group(
            KORSBAEK,
            "http://korsbaek.dk/roles/jobrole/ukendt/1",
            vec![],
        )],
        &sapa(),
        false,
        &[],
    );
    assert!(out.privileges.groups.is_empty());
    assert_eq!(out.dropped[0].reason, DropReason::UnknownRole);
}

#[test]
fn a_role_scoped_to_another_municipality_than_its_owner_is_dropped() {
    let out = run(
        KORSBAEK,
        vec![group(BAKKEBY, SAGSBEHANDLER, vec![])],
        &sapa(),
        false,
        &[],
    );
    assert!(out.privileges.groups.is_empty());
    assert_eq!(
        out.dropped[0].reason,
        DropReason::ForeignScope {
            owner: cvr(KORSBAEK)
        }
    );
}

#[test]
fn a_delegated_role_is_accepted_for_the_municipality_it_is_delegated_to() {
    // Korsbæk delegated sagsbehandler to Bakkeby; a Bakkeby person's group is scoped to Korsbæk.
    let out = run(
        BAKKEBY,
        vec![group(KORSBAEK, SAGSBEHANDLER, vec![])],
        &sapa(),
        false,
        &[],
    );
    assert_eq!(out.privileges.groups.len(), 2);
    assert_eq!(
        &*out.privileges.groups[0].scope,
        format!("{CVR_SCOPE_PREFIX}{KORSBAEK}").as_str()
    );
}

#[test]
fn a_role_of_another_municipality_that_was_not_delegated_is_dropped() {
    let out = run(
        BAKKEBY,
        vec![group(KORSBAEK, LEDER, vec![])],
        &sapa(),
        false,
        &[],
    );
    assert!(out.privileges.groups.is_empty());
    assert_eq!(
        out.dropped[0].reason,
        DropReason::NotDelegated {
            owner: cvr(KORSBAEK),
            person: cvr(BAKKEBY)
        }
    );
}

#[test]
fn a_known_role_this_system_does_not_map_is_reported() {
    let out = run(
        KORSBAEK,
        vec![group(KORSBAEK, LEDER, vec![])],
        &sapa(),
        false,
        &[],
    );
    assert!(out.privileges.groups.is_empty());
    assert_eq!(out.dropped[0].reason, DropReason::NotMappedHere);
}

#[test]
fn a_parametric_value_is_taken_from_the_job_roles_group() {
    let sent = vec![group(
        BAKKEBY,
        BAKKEBY_ROLE,
        vec![
            c(KLE_PARAM, &["10.4.1"]),
            c("http://bakkeby.dk/orgenhed/1/parametric", &["a", "b"]),
        ],
    )];
    let out = run(BAKKEBY, sent, &sapa(), false, &[]);
    assert_eq!(
        out.privileges.groups,
        vec![group(
            BAKKEBY,
            LAES,
            vec![c(KLE, &["10.4.1"]), c(ORG, &["a", "b"])]
        )]
    );
}

#[test]
fn a_parametric_value_is_taken_from_a_separate_saml_attribute() {
    let attrs = vec![(KLE_PARAM.to_string(), vec!["2.4.1".to_string()])];
    let out = run(
        BAKKEBY,
        vec![group(BAKKEBY, BAKKEBY_ROLE, vec![])],
        &sapa(),
        false,
        &attrs,
    );
    assert_eq!(
        out.privileges.groups,
        vec![group(BAKKEBY, LAES, vec![c(KLE, &["2.4.1"])])]
    );
}

#[test]
fn a_missing_required_parametric_value_refuses_that_mapping_with_its_reason() {
    let out = run(
        BAKKEBY,
        vec![group(BAKKEBY, BAKKEBY_ROLE, vec![])],
        &sapa(),
        false,
        &[],
    );
    assert!(out.privileges.groups.is_empty());
    assert_eq!(
        out.dropped[0].reason,
        DropReason::MissingParametric {
            role: LAES.into(),
            parametric: KLE_PARAM.into()
        }
    );
}

#[test]
fn a_missing_optional_parametric_value_omits_only_that_constraint() {
    let sent = vec![group(BAKKEBY, BAKKEBY_ROLE, vec![c(KLE_PARAM, &["10"])])];
    let out = run(BAKKEBY, sent, &sapa(), false, &[]);
    assert_eq!(
        out.privileges.groups,
        vec![group(BAKKEBY, LAES, vec![c(KLE, &["10"])])]
    );
}

#[test]
fn duplicates_are_merged_and_the_order_is_stable() {
    let sent = vec![
        group(KORSBAEK, SAGSBEHANDLER, vec![]),
        group(KORSBAEK, LEDER, vec![]),
        group(KORSBAEK, SAGSBEHANDLER, vec![]),
    ];
    let out = run(KORSBAEK, sent.clone(), &sapa(), false, &[]);
    assert_eq!(out.privileges.groups.len(), 2);
    assert_eq!(
        run(KORSBAEK, sent, &sapa(), false, &[]),
        out,
        "deterministic"
    );
}

#[test]
fn user_system_roles_sent_by_the_idp_pass_only_where_allowed() {
    let sent = vec![group(KORSBAEK, SKRIV, vec![c(ORG, &["x"])])];
    let allowed = run(KORSBAEK, sent.clone(), &sapa(), true, &[]);
    assert_eq!(allowed.privileges.groups, sent);
    let refused = run(KORSBAEK, sent, &sapa(), false, &[]);
    assert!(refused.privileges.groups.is_empty());
    assert_eq!(
        refused.dropped[0].reason,
        DropReason::UserSystemRoleNotAllowed
    );
}

#[test]
fn a_group_with_several_privileges_is_mapped_privilege_by_privilege() {
    let sent = vec![PrivilegeGroup {
        scope: format!("{CVR_SCOPE_PREFIX}{KORSBAEK}").into(),
        privileges: vec![LEDER.into(), SAGSBEHANDLER.into()],
        constraints: vec![],
    }];
    let out = run(KORSBAEK, sent, &sapa(), false, &[]);
    assert_eq!(out.privileges.groups.len(), 2);
    assert_eq!(out.dropped.len(), 1);
}

#[test]
fn the_same_role_with_different_constraints_is_not_merged_and_keeps_its_order() {
    // Two job roles map to laes-sag: sagsbehandler with static KLE, bakkeby's with parametric.
    let sent = vec![
        group(KORSBAEK, SAGSBEHANDLER, vec![]),
        group(BAKKEBY, BAKKEBY_ROLE, vec![c(KLE_PARAM, &["10.4.1"])]),
        group(KORSBAEK, SAGSBEHANDLER, vec![]),
    ];
    let out = run(KORSBAEK, sent, &sapa(), false, &[]);
    let roles: Vec<(&str, &str)> = out
        .privileges
        .groups
        .iter()
        .map(|g| (&*g.scope, &*g.privileges[0]))
        .collect();
    // Bakkeby's role is not delegated to Korsbæk: dropped; the repeated group merged.
    assert_eq!(
        roles,
        vec![
            (format!("{CVR_SCOPE_PREFIX}{KORSBAEK}").as_str(), LAES),
            (format!("{CVR_SCOPE_PREFIX}{KORSBAEK}").as_str(), SKRIV),
        ]
    );
    let person = BAKKEBY;
    let sent = vec![
        group(BAKKEBY, BAKKEBY_ROLE, vec![c(KLE_PARAM, &["10.4.1"])]),
        group(BAKKEBY, BAKKEBY_ROLE, vec![c(KLE_PARAM, &["20.1"])]),
        group(BAKKEBY, BAKKEBY_ROLE, vec![c(KLE_PARAM, &["10.4.1"])]),
    ];
    let out = run(person, sent, &sapa(), false, &[]);
    assert_eq!(
        out.privileges.groups,
        vec![
            group(BAKKEBY, LAES, vec![c(KLE, &["10.4.1"])]),
            group(BAKKEBY, LAES, vec![c(KLE, &["20.1"])]),
        ],
        "same role, different constraints: both kept, in order; the exact repeat merged"
    );
}

#[test]
fn a_parametric_attribute_value_may_be_a_comma_list() {
    let attrs = vec![(KLE_PARAM.to_string(), vec!["2.4.1, 2.4.2".to_string()])];
    let out = run(
        BAKKEBY,
        vec![group(BAKKEBY, BAKKEBY_ROLE, vec![])],
        &sapa(),
        false,
        &attrs,
    );
    assert_eq!(
        out.privileges.groups,
        vec![group(BAKKEBY, LAES, vec![c(KLE, &["2.4.1", "2.4.2"])])]
    );
}

#[test]
fn a_user_system_role_passed_through_must_be_scoped_to_the_persons_municipality() {
    let sent = vec![group(BAKKEBY, SKRIV, vec![])];
    let out = run(KORSBAEK, sent, &sapa(), true, &[]);
    assert!(out.privileges.groups.is_empty());
    assert_eq!(
        out.dropped[0].reason,
        DropReason::ForeignScope {
            owner: cvr(KORSBAEK)
        }
    );
}
