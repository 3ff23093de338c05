//! The attribute-service fallback end to end (issue #4 §4): Søby's IdP knows no roles, so chsim asks
//! Søby's built-in attribute service — a separate SAML party reached over real HTTP with a signed
//! SOAP AttributeQuery — and issues the roles it answered; the second login uses the cache.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use base64::Engine as _;
use common::*;

async fn login_sara(chsim: &Chsim, browser: &Browser) -> Outcome {
    login_as(chsim, browser, "oiosaml2", "soeby", "sara").await
}

fn session_index(page: &str) -> String {
    regex::Regex::new(r#"href="/runtime/logins/([^"]+)""#)
        .unwrap()
        .captures(page)
        .expect("the demo SP links to chsim's report")[1]
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_come_from_the_attribute_service_when_the_idp_knows_none_then_from_the_cache() {
    let chsim = start(demo_config()).await;
    let browser = Browser::new();
    let done = login_sara(&chsim, &browser).await;
    assert_eq!(done.status, 200, "{}", done.body);
    // The IdP sent no privilege attribute …
    let to_chsim = done
        .posted_to("/runtime/saml2auth/consume.idp", "SAMLResponse")
        .unwrap();
    assert!(!to_chsim.xml.contains("privilegesIntermediate"));
    // … yet the user system got the user-system role mapped from Sara's job role, which the
    // attribute service answered.
    let expected = base64::engine::general_purpose::STANDARD.encode(
        r#"<bpp:PrivilegeList xmlns:bpp="http://itst.dk/oiosaml/basic_privilege_profile"><PrivilegeGroup Scope="urn:dk:gov:saml:cvrNumberIdentifier:44444444"><Privilege>http://fagsystem-b.demo/roles/usersystemrole/bruger/1</Privilege><Constraint Name="http://sts.kombit.dk/constraints/orgenhed/1">9a4c7e10-4444-4b2a-9c3d-0000000000c1</Constraint></PrivilegeGroup></bpp:PrivilegeList>"#,
    );
    let assertion = issued_assertion(&chsim, &done, "oiosaml2").await;
    assert_eq!(
        attribute_values(&assertion, "dk:gov:saml:attribute:Privileges_intermediate"),
        Some(vec![expected.clone()])
    );
    let report = reqwest::get(format!(
        "{}/runtime/logins/{}",
        chsim.base,
        session_index(&done.body)
    ))
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    assert!(
        report.contains("<td>Privileges came from</td><td>the attribute service</td>"),
        "{report}"
    );

    // The second login is answered from the cache.
    let again = login_sara(&chsim, &browser).await;
    assert_eq!(again.status, 200, "{}", again.body);
    let report = reqwest::get(format!(
        "{}/runtime/logins/{}",
        chsim.base,
        session_index(&again.body)
    ))
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    assert!(
        report.contains("the attribute service (cached answer)"),
        "{report}"
    );
    let assertion = issued_assertion(&chsim, &again, "oiosaml2").await;
    assert_eq!(
        attribute_values(&assertion, "dk:gov:saml:attribute:Privileges_intermediate"),
        Some(vec![expected])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idp_that_knows_roles_but_sent_none_is_backed_by_the_attribute_service() {
    let mut config = demo_config();
    // Søby's IdP now claims to know roles, yet (like the Entra ID stand-in) sends none.
    config.municipalities.municipality[2].idp[0].knows_roles = true;
    let chsim = start(config).await;
    let browser = Browser::new();
    let done = login_sara(&chsim, &browser).await;
    assert_eq!(done.status, 200, "{}", done.body);
    let assertion = issued_assertion(&chsim, &done, "oiosaml2").await;
    assert!(
        attribute_values(&assertion, "dk:gov:saml:attribute:Privileges_intermediate").is_some(),
        "{assertion}"
    );
    let report = login_report(&chsim, &done.body).await;
    assert!(
        report.contains("<td>Privileges came from</td><td>the attribute service</td>"),
        "{report}"
    );
}
