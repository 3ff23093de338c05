//! Issue #8 §1, §2 and §7 for what chsim reads from the parties it trusts rather than from a
//! browser: the municipality's attribute service's SOAP answers (a local service on loopback that
//! answers as the test says), metadata files (the real binary's `check-config` on an edited copy
//! of the demo configuration), and an HTTP-Redirect AuthnRequest signed with ECDSA by a user
//! system whose metadata carries an EC certificate. Each test asserts the specific refusal (or
//! acceptance), and — where a signature's shape is the attack — that a local listener received
//! no connection.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use chsim::saml::SamlError;
use chsim::xml_limits::LimitError;
use common::attribute_service::{answer, config_with, genuine, serve, GOOD};
use common::*;

const DEPTH_LIMIT: LimitError = LimitError::TooDeep { limit: 32 };
const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
const XPATH: &str = "http://www.w3.org/TR/1999/REC-xpath-19991116";

/// `<a>` nested `n` deep.
fn nested(n: usize) -> String {
    format!("{}{}", "<a>".repeat(n), "</a>".repeat(n))
}

/// The ID the (first) signature in `xml` references: `URI="#<id>"`.
fn referenced_id(xml: &str) -> String {
    regex::Regex::new(r##"URI="#([^"]+)""##)
        .unwrap()
        .captures(xml)
        .unwrap()[1]
        .to_string()
}

/// `xml` with its signature's Reference pointing at `uri` instead of `#<id>`.
fn external_reference(xml: &str, uri: &str) -> String {
    let id = referenced_id(xml);
    xml.replacen(&format!(r##"URI="#{id}""##), &format!(r#"URI="{uri}""#), 1)
}

/// `xml` with its signature's enveloped-signature transform replaced by an XPath one.
fn xpath_transform(xml: &str) -> String {
    let from = format!(r#"<ds:Transform Algorithm="{ENVELOPED}"/>"#);
    assert!(xml.contains(&from), "{xml}");
    xml.replacen(
        &from,
        &format!(r#"<ds:Transform Algorithm="{XPATH}"><ds:XPath>count(//. | //@* | //namespace::*)</ds:XPath></ds:Transform>"#),
        1,
    )
}

/// `reason` as chsim words a signature refused for its shape.
fn shape_error(reason: &str) -> String {
    SamlError::SignatureShape {
        reason: reason.to_string(),
    }
    .to_string()
}

fn external_reason(uri: &str, id: &str) -> String {
    shape_error(&format!(
        "the Reference URI is `{uri}`; it must be `#{id}`, the ID of the signed element"
    ))
}

fn xpath_reason() -> String {
    shape_error(&format!(
        "transform `{XPATH}` is not allowed (only enveloped-signature and exclusive c14n, each once)"
    ))
}

/// chsim's IdP metadata still answers 200: the process survived.
async fn assert_still_answers(chsim: &Chsim) {
    let resp = reqwest::get(format!("{}/runtime/saml2/metadata.idp", chsim.base))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().contains("EntityDescriptor"));
}

/// Logs Sara in at Søby (whose IdP has knows_roles = false) with the attribute service whose
/// metadata is at `metadata_url`; asserts the login ended in an attribute-service error page
/// that offers the user system no token, and returns the page.
async fn soeby_login_fails(metadata_url: &str) -> (Chsim, Outcome) {
    let chsim = start(config_with(metadata_url)).await;
    let out = login_as(&chsim, &Browser::new(), "oiosaml3", "soeby", "sara").await;
    assert_eq!(out.status, 502, "{}", out.body);
    assert!(
        out.body
            .contains(&on_page("Søby Kommune's attribute service")),
        "{}",
        out.body
    );
    assert!(out.posted_to("/demo-sp/", "SAMLResponse").is_none());
    (chsim, out)
}

// ---------------------------------------------------------------------------------------------
// The attribute service's SOAP answers
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attribute_service_answer_nested_deeper_than_32_ends_the_login_naming_the_depth_limit() {
    // The genuine service's signed answer, with 40 nested elements in the Response's Extensions.
    let metadata_url = serve(None, |body: String, entity_id: String| async move {
        let signed = answer(&body, &entity_id, &genuine(), false, GOOD);
        let deep = format!(
            "<samlp:Extensions>{}</samlp:Extensions><samlp:Status>",
            nested(40)
        );
        assert!(signed.contains("<samlp:Status>"), "{signed}");
        (200, signed.replacen("<samlp:Status>", &deep, 1))
    })
    .await;
    let (chsim, out) = soeby_login_fails(&metadata_url).await;
    assert_page(
        &out,
        502,
        &format!("answered something that is not a SOAP-wrapped SAML Response: the SAML message was refused before parsing: {DEPTH_LIMIT}"),
    );
    assert_still_answers(&chsim).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attribute_service_answer_with_a_hostile_signature_shape_is_refused_before_anything_is_fetched(
) {
    let listener = Listener::new();
    let target = listener.url();
    // The ID the genuine signature referenced, which the refusal names.
    let signed_id = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let seen = signed_id.clone();
    // An external Reference to the listener, then an XPath transform.
    let external = serve(None, move |body: String, entity_id: String| {
        let (target, seen) = (target.clone(), seen.clone());
        async move {
            let signed = answer(&body, &entity_id, &genuine(), false, GOOD);
            *seen.lock().unwrap() = referenced_id(&signed);
            (200, external_reference(&signed, &target))
        }
    })
    .await;
    let (chsim, out) = soeby_login_fails(&external).await;
    let id = signed_id.lock().unwrap().clone();
    assert!(!id.is_empty(), "the service was never asked");
    assert_page(
        &out,
        502,
        &format!(
            "was refused: signature check failed: {}",
            external_reason(&listener.url(), &id)
        ),
    );
    assert_still_answers(&chsim).await;

    let xpath = serve(None, |body: String, entity_id: String| async move {
        (
            200,
            xpath_transform(&answer(&body, &entity_id, &genuine(), false, GOOD)),
        )
    })
    .await;
    let (chsim, out) = soeby_login_fails(&xpath).await;
    assert_page(
        &out,
        502,
        &format!("was refused: signature check failed: {}", xpath_reason()),
    );
    assert_still_answers(&chsim).await;
    listener.assert_never_contacted();
}
