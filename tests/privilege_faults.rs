//! A privilege list chsim cannot read ends the login (issue #4 §1): the person sees a page that
//! names the problem, the user system gets a signed `Responder` Response — never a token with
//! empty roles. Each case is a real login over loopback HTTP whose IdP answer is crafted with the
//! test IdP's real key, posted to chsim's ACS like a browser would.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use chsim::saml::binding;
use chsim::saml::response::{self, SignedElement};
use chsim::saml::status;
use common::idp::*;
use common::*;

/// Starts a login at demo SP B via Bakkeby's IdP and answers it with Bent's assertion whose
/// privilege attribute is `privileges`; returns chsim's page.
async fn answer_with_privileges(chsim: &Chsim, privileges: &str) -> Outcome {
    answer_with_values(chsim, vec![privileges.to_string()]).await
}

/// As [`answer_with_privileges`], with the attribute's values given one by one.
async fn answer_with_values(chsim: &Chsim, values: Vec<String>) -> Outcome {
    let browser = Browser::new();
    let idp = chsim.state.test_idps["bakkeby"].clone();
    let request_id = pending_login(chsim, &browser, "oiosaml2", "bakkeby").await;
    let (r, mut assertion) = answer(&idp, &idp.config().user[0], &request_id);
    let attr = assertion
        .attributes
        .iter_mut()
        .find(|a| a.name == "dk:gov:saml:attribute:Privileges_intermediate")
        .unwrap();
    attr.values = values;
    let xml = response::build(
        &r,
        Some(&assertion),
        idp.credential(),
        SignedElement::Response,
        None,
    )
    .unwrap();
    browser
        .post(
            &format!("{}/runtime/saml2auth/consume.idp", chsim.base),
            &[("SAMLResponse".into(), binding::encode_post(&xml))],
        )
        .await
}

fn assert_refused(page: &Outcome, problem: &str) {
    assert_eq!(page.status, 502, "{}", page.body);
    assert!(page.body.contains("The login failed"), "{}", page.body);
    assert!(
        page.body
            .contains(&html_escape::encode_text(problem).to_string()),
        "expected {problem:?} on the page:\n{}",
        page.body
    );
    // The person can return to the user system with a non-success status, not a token.
    assert!(
        page.body
            .contains(&format!("<code>{}</code>", status::RESPONDER)),
        "{}",
        page.body
    );
    let (_, fields) = forms(&page.body)
        .into_iter()
        .find(|(a, _)| a.ends_with("/demo-sp/oiosaml2/acs"))
        .unwrap();
    let xml = binding::decode_post(&fields[0].1, 1_000_000).unwrap();
    assert!(xml.contains(status::RESPONDER), "{xml}");
    assert!(
        !xml.contains("Assertion"),
        "no assertion in a refusal: {xml}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_privilege_list_that_is_not_base64_ends_the_login_naming_the_problem() {
    let chsim = start(demo_config()).await;
    let page = answer_with_privileges(&chsim, "%%% not base64 %%%").await;
    assert_refused(&page, "the privilege list from the identity provider");
    assert_refused(&page, "is not base64");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_privilege_group_without_scope_ends_the_login_naming_the_group() {
    let chsim = start(demo_config()).await;
    let page = answer_with_privileges(
        &chsim,
        r#"<bpp:PrivilegeList xmlns:bpp="http://itst.dk/oiosaml/basic_privilege_profile"><PrivilegeGroup><Privilege>http://bakkeby.dk/roles/jobrole/sagsbehandler/1</Privilege></PrivilegeGroup></bpp:PrivilegeList>"#,
    )
    .await;
    assert_refused(&page, "PrivilegeGroup number 1 has no Scope attribute");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_privilege_list_with_entity_declarations_is_refused() {
    use base64::Engine as _;
    let chsim = start(demo_config()).await;
    let evil = base64::engine::general_purpose::STANDARD.encode(
        r#"<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]><bpp:PrivilegeList xmlns:bpp="http://itst.dk/oiosaml/basic_privilege_profile"><PrivilegeGroup Scope="s"><Privilege>&b;</Privilege></PrivilegeGroup></bpp:PrivilegeList>"#,
    );
    let page = answer_with_privileges(&chsim, &evil).await;
    assert_refused(&page, "carries a DTD/entity declarations");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_privilege_list_with_an_unknown_root_is_refused() {
    let chsim = start(demo_config()).await;
    let page = answer_with_privileges(
        &chsim,
        r#"<Roles xmlns="urn:example"><Role>x</Role></Roles>"#,
    )
    .await;
    assert_refused(&page, "the root element is {urn:example}Roles");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_privilege_value_is_refused_not_read_as_no_roles() {
    let chsim = start(demo_config()).await;
    let page = answer_with_privileges(&chsim, "").await;
    assert_refused(&page, "the privilege attribute is empty");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_privilege_attribute_with_two_values_is_refused() {
    let chsim = start(demo_config()).await;
    let good = "PGJwcDpQcml2aWxlZ2VMaXN0IHhtbG5zOmJwcD0iaHR0cDovL2l0c3QuZGsvb2lvc2FtbC9iYXNpY19wcml2aWxlZ2VfcHJvZmlsZSI+PFByaXZpbGVnZUdyb3VwIFNjb3BlPSJ1cm46ZGs6Z292OnNhbWw6Y3ZyTnVtYmVySWRlbnRpZmllcjoyMjIyMjIyMiI+PFByaXZpbGVnZT5odHRwOi8vYmFra2VieS5kay9yb2xlcy9qb2Jyb2xlL3NhZ3NiZWhhbmRsZXIvMTwvUHJpdmlsZWdlPjwvUHJpdmlsZWdlR3JvdXA+PC9icHA6UHJpdmlsZWdlTGlzdD4=";
    let page = answer_with_values(&chsim, vec![good.to_string(), good.to_string()]).await;
    assert_refused(&page, "the privilege attribute has 2 values");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_privilege_list_is_refused() {
    let chsim = start(demo_config()).await;
    let page = answer_with_privileges(
        &chsim,
        r#"<bpp:PrivilegeList xmlns:bpp="http://itst.dk/oiosaml/basic_privilege_profile"/>"#,
    )
    .await;
    assert_refused(&page, "holds no PrivilegeGroup");
}
