//! Issue #8 §1, §2 and §7 for what chsim reads from the parties it trusts rather than from a
//! browser: the municipality's attribute service's SOAP answers (a local service on loopback that
//! answers as the test says), metadata files (the real binary's `check-config` on an edited copy
//! of the demo configuration), and an HTTP-Redirect AuthnRequest signed with ECDSA by a user
//! system whose metadata carries an EC certificate. Each test asserts the specific refusal (or
//! acceptance), and — where a signature's shape is the attack — that a local listener received
//! no connection.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use chsim::saml::binding::{self, MessageKind};
use chsim::saml::metadata::{self, Endpoint, RoleSpec};
use chsim::saml::{bindings, SamlError};
use chsim::xml_limits::LimitError;
use common::attribute_service::{answer, config_with, genuine, serve, GOOD};
use common::on_disk::*;
use common::*;
use std::path::Path;

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

// ---------------------------------------------------------------------------------------------
// Metadata files, through the real binary's check-config
// ---------------------------------------------------------------------------------------------

/// Runs `chsim check-config --config dir`; returns exit code and output.
fn check_config(dir: &Path) -> (i32, String) {
    run_chsim(&["check-config", "--config", dir.to_str().unwrap()], &[])
}

/// Metadata for `entity_id` in `role`, signed with the demo key `signer`.
fn signed_metadata(entity_id: &str, role: RoleSpec, signer: &str) -> String {
    metadata::build_signed(entity_id, &role, &key(signer), None).unwrap()
}

fn sp_role(entity_id: &str) -> RoleSpec {
    RoleSpec::Sp {
        acs: vec![Endpoint::new(bindings::POST, format!("{entity_id}/acs"))],
        slo: vec![Endpoint::new(
            bindings::REDIRECT,
            format!("{entity_id}/slo"),
        )],
        authn_requests_signed: true,
        want_assertions_signed: true,
    }
}

fn idp_role(entity_id: &str) -> RoleSpec {
    RoleSpec::Idp {
        sso: vec![Endpoint::new(
            bindings::REDIRECT,
            format!("{entity_id}/sso"),
        )],
        slo: vec![Endpoint::new(
            bindings::REDIRECT,
            format!("{entity_id}/slo"),
        )],
        want_authn_requests_signed: true,
    }
}

/// `xml` with 40 nested elements in an `md:Extensions` before the role descriptor `role`.
fn nested_before(xml: &str, role: &str) -> String {
    let open = format!("<md:{role}");
    assert!(xml.contains(&open), "{xml}");
    xml.replacen(
        &open,
        &format!("<md:Extensions>{}</md:Extensions>{open}", nested(40)),
        1,
    )
}

#[test]
fn metadata_files_nested_deeper_than_32_are_configuration_errors_naming_the_depth_limit() {
    let (_tmp, dir) = demo_copy();
    let sp = "https://fagsystem.example.dk";
    let idp = "https://idp.bakkeby.example.dk";
    std::fs::write(
        dir.join("deep-sp.xml"),
        nested_before(
            &signed_metadata(sp, sp_role(sp), "demo-sp-oiosaml3"),
            "SPSSODescriptor",
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("deep-idp.xml"),
        nested_before(
            &signed_metadata(idp, idp_role(idp), "test-idp-bakkeby"),
            "IDPSSODescriptor",
        ),
    )
    .unwrap();
    edit(
        &dir,
        "user_systems.toml",
        "metadata = \"builtin:demo-sp/oiosaml3\"",
        "metadata = \"deep-sp.xml\"",
    );
    edit(
        &dir,
        "municipalities.toml",
        "metadata = \"builtin:test-idp/bakkeby\"",
        "metadata = \"deep-idp.xml\"",
    );
    let (code, out) = check_config(&dir);
    assert_eq!(code, 1, "{out}");
    let refused = format!("the SAML message was refused before parsing: {DEPTH_LIMIT}");
    for expected in [
        format!("user_systems.toml: user_system[0].metadata: `deep-sp.xml`: {refused}"),
        format!("municipalities.toml: municipality[1].idp[0].metadata: `deep-idp.xml`: {refused}"),
    ] {
        assert!(out.contains(&expected), "missing {expected:?} in\n{out}");
    }
}

#[test]
fn signed_metadata_files_with_a_hostile_signature_shape_are_refused_before_anything_is_fetched() {
    let (_tmp, dir) = demo_copy();
    let listener = Listener::new();
    let sp = "https://fagsystem.example.dk";
    let idp = "https://idp.bakkeby.example.dk";
    let sp_xml = signed_metadata(sp, sp_role(sp), "demo-sp-oiosaml3");
    let idp_xml = signed_metadata(idp, idp_role(idp), "test-idp-bakkeby");
    std::fs::write(dir.join("signed-sp.xml"), &sp_xml).unwrap();
    std::fs::write(dir.join("signed-idp.xml"), &idp_xml).unwrap();
    edit(
        &dir,
        "user_systems.toml",
        "metadata = \"builtin:demo-sp/oiosaml3\"",
        "metadata = \"signed-sp.xml\"\nmetadata_signing_cert = \"../keys/demo-sp-oiosaml3.cert.pem\"",
    );
    edit(
        &dir,
        "municipalities.toml",
        "metadata = \"builtin:test-idp/bakkeby\"",
        "metadata = \"signed-idp.xml\"\nmetadata_signing_cert = \"../keys/test-idp-bakkeby.cert.pem\"",
    );
    // As signed, both files are accepted: only the changes below are refused.
    let (code, out) = check_config(&dir);
    assert_eq!(code, 0, "{out}");
    std::fs::write(dir.join("signed-sp.xml"), xpath_transform(&sp_xml)).unwrap();
    std::fs::write(
        dir.join("signed-idp.xml"),
        external_reference(&idp_xml, &listener.url()),
    )
    .unwrap();
    let (code, out) = check_config(&dir);
    assert_eq!(code, 1, "{out}");
    for expected in [
        format!(
            "user_systems.toml: user_system[0].metadata: the metadata from `signed-sp.xml` is not signed by `../keys/demo-sp-oiosaml3.cert.pem` (user_system[0].metadata_signing_cert): {}",
            xpath_reason()
        ),
        format!(
            "municipalities.toml: municipality[1].idp[0].metadata: the metadata from `signed-idp.xml` is not signed by `../keys/test-idp-bakkeby.cert.pem` (municipality[1].idp[0].metadata_signing_cert): {}",
            external_reason(&listener.url(), &referenced_id(&idp_xml))
        ),
    ] {
        assert!(out.contains(&expected), "missing {expected:?} in\n{out}");
    }
    listener.assert_never_contacted();
}

// ---------------------------------------------------------------------------------------------
// An HTTP-Redirect AuthnRequest signed with ECDSA P-256 (issue #8 §7)
// ---------------------------------------------------------------------------------------------

const ECDSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256";

/// A fresh P-256 key and a self-signed certificate for it.
fn ec_key_and_cert() -> (
    openssl::pkey::PKey<openssl::pkey::Private>,
    openssl::x509::X509,
) {
    use openssl::ec::{EcGroup, EcKey};
    let group = EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap();
    let key = openssl::pkey::PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap();
    let mut name = openssl::x509::X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", "EC-fagsystem").unwrap();
    let name = name.build();
    let mut b = openssl::x509::X509Builder::new().unwrap();
    b.set_version(2).unwrap();
    b.set_serial_number(
        &openssl::bn::BigNum::from_u32(1)
            .unwrap()
            .to_asn1_integer()
            .unwrap(),
    )
    .unwrap();
    b.set_subject_name(&name).unwrap();
    b.set_issuer_name(&name).unwrap();
    b.set_pubkey(&key).unwrap();
    b.set_not_before(&openssl::asn1::Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    b.set_not_after(&openssl::asn1::Asn1Time::days_from_now(365).unwrap())
        .unwrap();
    b.sign(&key, openssl::hash::MessageDigest::sha256())
        .unwrap();
    (key, b.build())
}

/// Unsigned SP metadata for `entity_id` whose only certificate is `cert` (an HTTP-POST ACS at
/// `<entity_id>/acs`), as a vendor with an EC key publishes it.
fn ec_sp_metadata(entity_id: &str, cert: &openssl::x509::X509) -> String {
    use base64::Engine as _;
    let cert = base64::engine::general_purpose::STANDARD.encode(cert.to_der().unwrap());
    format!(
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity_id}">
  <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" AuthnRequestsSigned="true" WantAssertionsSigned="true">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:AssertionConsumerService Binding="{}" Location="{entity_id}/acs" index="0" isDefault="true"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>"#,
        bindings::POST
    )
}

/// `unsigned` (an HTTP-Redirect URL carrying SAMLRequest) with `SigAlg` ecdsa-sha256 and the
/// `Signature` by `key` over the query as sent, in XML-DSig's raw `r || s` form (RFC 4051 §3.3).
fn ecdsa_signed(
    unsigned: &reqwest::Url,
    key: &openssl::pkey::PKey<openssl::pkey::Private>,
) -> String {
    use base64::Engine as _;
    let mut q = url::form_urlencoded::Serializer::new(unsigned.query().unwrap().to_string());
    q.append_pair("SigAlg", ECDSA_SHA256);
    let octets = q.finish();
    let mut signer =
        openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), key).unwrap();
    signer.update(octets.as_bytes()).unwrap();
    let der = openssl::ecdsa::EcdsaSig::from_der(&signer.sign_to_vec().unwrap()).unwrap();
    let mut raw = der.r().to_vec_padded(32).unwrap();
    raw.extend(der.s().to_vec_padded(32).unwrap());
    let mut q = url::form_urlencoded::Serializer::new(octets);
    q.append_pair(
        "Signature",
        &base64::engine::general_purpose::STANDARD.encode(raw),
    );
    let mut url = unsigned.clone();
    url.set_query(Some(&q.finish()));
    url.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_request_signed_with_ecdsa_p256_by_a_user_system_with_an_ec_certificate_reaches_the_chooser(
) {
    let (_tmp, dir) = demo_copy();
    let entity_id = "https://ec-fagsystem.example.dk";
    let (ec_key, ec_cert) = ec_key_and_cert();
    std::fs::write(dir.join("ec-sp.xml"), ec_sp_metadata(entity_id, &ec_cert)).unwrap();
    let mut users = std::fs::read_to_string(dir.join("user_systems.toml")).unwrap();
    users.push_str("\n[[user_system]]\nname = \"EC-fagsystem\"\nmetadata = \"ec-sp.xml\"\nprofile = \"OIOSAML3\"\nnsis_level = \"Substantial\"\n");
    std::fs::write(dir.join("user_systems.toml"), users).unwrap();
    let config = chsim::config::load(chsim::config::ConfigSource::Dir(dir.clone())).unwrap();
    let chsim = start(config).await;
    let browser = Browser::new();
    let now = chsim::clock::Clock::now(&chsim::clock::SystemClock);
    let request = |now| {
        let xml = authn_request_from(&chsim, entity_id, now)
            .to_xml(None)
            .unwrap();
        binding::encode_redirect(
            &format!("{}/runtime/saml2/issue.idp", chsim.base),
            MessageKind::Request,
            &xml,
            None,
            None,
        )
        .unwrap()
    };
    // Signed with the key of the EC certificate in the user system's metadata: accepted.
    let chooser = browser.get(&ecdsa_signed(&request(now), &ec_key)).await;
    assert_eq!(chooser.status, 200, "{}", chooser.body);
    for idp in [
        "Bakkeby Kommune (test-IdP, OIOSAML2)",
        "Korsbæk Kommune (test-IdP, OIOSAML3)",
    ] {
        assert!(chooser.body.contains(&on_page(idp)), "{}", chooser.body);
    }
    // Signed the same way with another P-256 key: the signature is really checked.
    let (stranger, _) = ec_key_and_cert();
    let out = browser.get(&ecdsa_signed(&request(now), &stranger)).await;
    assert_page(
        &out,
        403,
        &format!("the AuthnRequest from `{entity_id}` has a bad signature: the signature does not verify with the sender's certificate from its metadata: the query-string signature does not match the trusted certificate"),
    );
    assert!(!out.body.contains("Korsbæk Kommune"), "{}", out.body);
}

// ---------------------------------------------------------------------------------------------
// The scripted-login driver's page bound (issue #8 §6)
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scripted_login_driver_refuses_a_page_larger_than_2_mib() {
    // A server in chsim's place whose login page is 4 MiB.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let app = axum::Router::new().route(
        "/demo-sp/oiosaml3/login",
        axum::routing::get(|| async { "x".repeat(4 << 20) }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let login = chsim::scripted::ScriptedLogin {
        base_url: base.clone(),
        user_system: format!("{base}/demo-sp/oiosaml3"),
        municipality: Some("11111111".into()),
        user: "karen".into(),
        ..Default::default()
    };
    match chsim::scripted::run(&login).await {
        Err(chsim::scripted::ScriptError::Http { url, reason }) => {
            assert_eq!(url, format!("{base}/demo-sp/oiosaml3/login"));
            assert_eq!(reason, "the answer is larger than 2097152 bytes");
        }
        other => panic!("expected the page bound, got {other:?}"),
    }
}
