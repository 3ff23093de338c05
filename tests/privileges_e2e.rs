//! Role mapping end to end (issue #4 §3, §5): a login through the real router on a loopback port
//! for each demo case — plain, KLE, organisation, parametric, delegated, everything dropped —
//! asserting the exact privilege list each demo user system receives (verified with chsim's
//! metadata certificate, decrypted where encrypted), and chsim's login report of what it dropped.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use base64::Engine as _;
use chsim::privileges::{self, Constraint, PrivilegeGroup, PrivilegeList};
use common::*;

const KORSBAEK: &str = "urn:dk:gov:saml:cvrNumberIdentifier:11111111";
const BAKKEBY: &str = "urn:dk:gov:saml:cvrNumberIdentifier:22222222";
const KLE: &str = "http://sts.kombit.dk/constraints/KLE/1";
const ORG: &str = "http://sts.kombit.dk/constraints/orgenhed/1";
const SENS: &str = "http://sts.kombit.dk/constraints/foelsomhed/1";
const A_LAES: &str = "http://fagsystem-a.demo/roles/usersystemrole/laes-sag/1";
const A_SKRIV: &str = "http://fagsystem-a.demo/roles/usersystemrole/skriv-sag/1";
const A_ADMIN: &str = "http://fagsystem-a.demo/roles/usersystemrole/administrator/1";
const B_BRUGER: &str = "http://fagsystem-b.demo/roles/usersystemrole/bruger/1";
const B_LEDER: &str = "http://fagsystem-b.demo/roles/usersystemrole/leder/1";
const ORG_A1: &str = "3f0c2a51-1111-4a6e-9b1e-0000000000a1";
const ORG_A2: &str = "3f0c2a51-1111-4a6e-9b1e-0000000000a2";

fn g(scope: &str, role: &str, constraints: &[(&str, &[&str])]) -> PrivilegeGroup {
    PrivilegeGroup {
        scope: scope.into(),
        privileges: vec![role.into()],
        constraints: constraints
            .iter()
            .map(|(n, v)| Constraint {
                name: (*n).into(),
                values: v.iter().map(|s| (*s).into()).collect(),
            })
            .collect(),
    }
}

/// The privilege attribute the user system received: its decoded XML and the parsed list, or
/// None when the attribute was omitted.
async fn received(chsim: &Chsim, outcome: &Outcome, sp: &str) -> Option<(String, PrivilegeList)> {
    assert_eq!(outcome.status, 200, "{}", outcome.body);
    assert!(outcome.body.contains("Logged in."), "{}", outcome.body);
    let assertion = issued_assertion(chsim, outcome, sp).await;
    let name = match sp {
        "oiosaml3" => "https://data.gov.dk/model/core/eid/privilegesIntermediate",
        _ => "dk:gov:saml:attribute:Privileges_intermediate",
    };
    let values = attribute_values(&assertion, name)?;
    assert_eq!(values.len(), 1, "one AttributeValue");
    let xml = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(&values[0])
            .unwrap(),
    )
    .unwrap();
    Some((xml, privileges::parse(&values[0]).unwrap()))
}

async fn privileges_of(chsim: &Chsim, sp: &str, user: &str) -> Option<(String, PrivilegeList)> {
    let browser = Browser::new();
    let done = login_as(chsim, &browser, sp, "korsbaek", user).await;
    received(chsim, &done, sp).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_job_role_gives_kle_constrained_roles_in_one_system_and_an_organisation_role_in_another(
) {
    let chsim = start(demo_config()).await;
    let (xml, a) = privileges_of(&chsim, "oiosaml3", "karen").await.unwrap();
    assert!(xml.starts_with(
        r#"<bpp:PrivilegeList xmlns:bpp="http://digst.dk/oiosaml/basic_privilege_profile">"#
    ));
    assert_eq!(
        a.groups,
        vec![
            g(KORSBAEK, A_LAES, &[(KLE, &["25.*", "27.35.04"])]),
            g(KORSBAEK, A_SKRIV, &[(KLE, &["27.35.04"])]),
        ]
    );
    // The same job role, mapped by system B; OIOSAML2 gets the itst.dk namespace.
    let (xml, b) = privileges_of(&chsim, "oiosaml2", "karen").await.unwrap();
    assert_eq!(
        xml,
        format!(
            r#"<bpp:PrivilegeList xmlns:bpp="http://itst.dk/oiosaml/basic_privilege_profile"><PrivilegeGroup Scope="{KORSBAEK}"><Privilege>{B_BRUGER}</Privilege><Constraint Name="{ORG}">{ORG_A1}</Constraint></PrivilegeGroup></bpp:PrivilegeList>"#
        )
    );
    assert_eq!(b.groups, vec![g(KORSBAEK, B_BRUGER, &[(ORG, &[ORG_A1])])]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_job_roles_give_every_mapped_role_with_organisation_and_sensitivity_constraints() {
    let chsim = start(demo_config()).await;
    let (_, a) = privileges_of(&chsim, "oiosaml3", "leder").await.unwrap();
    assert_eq!(
        a.groups,
        vec![
            g(KORSBAEK, A_LAES, &[(KLE, &["25.*", "27.35.04"])]),
            g(KORSBAEK, A_SKRIV, &[(KLE, &["27.35.04"])]),
            g(KORSBAEK, A_ADMIN, &[]),
            g(KORSBAEK, A_LAES, &[(KLE, &["*"]), (ORG, &[ORG_A1, ORG_A2])]),
        ]
    );
    let (xml, b) = privileges_of(&chsim, "oiosaml2", "leder").await.unwrap();
    assert_eq!(
        b.groups,
        vec![
            g(KORSBAEK, B_BRUGER, &[(ORG, &[ORG_A1])]),
            g(
                KORSBAEK,
                B_LEDER,
                &[(ORG, &[ORG_A1, ORG_A2]), (SENS, &["2"])]
            ),
        ]
    );
    // Multiple values are repeated Constraint elements.
    assert!(xml.contains(&format!(
        r#"<Constraint Name="{ORG}">{ORG_A1}</Constraint><Constraint Name="{ORG}">{ORG_A2}</Constraint><Constraint Name="{SENS}">2</Constraint>"#
    )));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parametric_kle_constraint_takes_the_values_the_idp_sent() {
    let chsim = start(demo_config()).await;
    let (_, a) = privileges_of(&chsim, "oiosaml3", "pia").await.unwrap();
    assert_eq!(
        a.groups,
        vec![g(KORSBAEK, A_LAES, &[(KLE, &["27.35.04", "27.35.06"])])]
    );
    // System B maps nothing from that job role: the attribute is omitted.
    assert!(privileges_of(&chsim, "oiosaml2", "pia").await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_delegated_by_another_municipality_keeps_its_owners_scope() {
    let chsim = start(demo_config()).await;
    let (_, a) = privileges_of(&chsim, "oiosaml3", "dorte").await.unwrap();
    assert_eq!(
        a.groups,
        vec![
            g(KORSBAEK, A_LAES, &[(KLE, &["25.*", "27.35.04"])]),
            g(KORSBAEK, A_SKRIV, &[(KLE, &["27.35.04"])]),
            g(
                BAKKEBY,
                A_LAES,
                &[
                    (KLE, &["27.36.*"]),
                    (ORG, &["7d1e9b20-2222-4c3f-8a2d-0000000000b1"])
                ]
            ),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_everything_is_dropped_the_attribute_is_omitted_and_the_report_says_why() {
    let chsim = start(demo_config()).await;
    let browser = Browser::new();
    let done = login_as(&chsim, &browser, "oiosaml3", "korsbaek", "mads").await;
    assert!(received(&chsim, &done, "oiosaml3").await.is_none());
    assert!(
        done.body.contains("No privilege attribute"),
        "{}",
        done.body
    );
    let report = login_report(&chsim, &done.body).await;
    for reason in [
        "unknown role: neither a configured job-function role nor a role of this user system",
        "not delegated: the role belongs to CVR 22222222, which has not delegated it to CVR 11111111",
        "mapping to http://fagsystem-a.demo/roles/usersystemrole/laes-sag/1 refused: the required parametric value http://korsbaek.dk/constraints/KLE/1/parametric was not sent",
    ] {
        assert!(report.contains(reason), "{reason} missing in {report}");
    }
    assert!(
        report.contains("the privilege attribute was omitted"),
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_pages_show_the_mapped_privileges_as_a_table_and_the_report_shows_what_was_received(
) {
    let chsim = start(demo_config()).await;
    let browser = Browser::new();
    let done = login_as(&chsim, &browser, "oiosaml3", "korsbaek", "dorte").await;
    assert!(
        done.body.contains(&format!(
            "<tr><td>{BAKKEBY}</td><td>{A_LAES}</td><td>{KLE} = 27.36.*<br>{ORG} = 7d1e9b20-2222-4c3f-8a2d-0000000000b1</td></tr>"
        )),
        "{}",
        done.body
    );
    let report = login_report(&chsim, &done.body).await;
    // Received: the job roles as the IdP sent them, including the delegated one.
    assert!(
        report.contains(&format!(
            "<tr><td>{BAKKEBY}</td><td>http://bakkeby.dk/roles/jobrole/faelles-visitation/1</td>"
        )),
        "{report}"
    );
    assert!(report.contains("Nothing was dropped."), "{report}");
}
