//! End-to-end logins through the real router on a loopback port, for both demo user systems:
//! user system → chsim → (chooser) → test IdP → chsim → user system. Every signature is checked
//! here again, independently of the demo SP, with the certificates from the published metadata.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use base64::Engine as _;
use chsim::saml::{metadata, signing, xml};
use common::*;

const NS_SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";

/// (Name, NameFormat, values) of every attribute, in order.
fn attributes(assertion_xml: &str) -> Vec<(String, String, Vec<String>)> {
    let doc = xml::parse(assertion_xml).unwrap();
    doc.descendants()
        .filter(|n| xml::is(n, NS_SAML, "Attribute"))
        .map(|a| {
            (
                a.attribute("Name").unwrap().to_string(),
                a.attribute("NameFormat").unwrap().to_string(),
                a.children()
                    .filter(|v| xml::is(v, NS_SAML, "AttributeValue"))
                    .map(|v| xml::text_of(&v))
                    .collect(),
            )
        })
        .collect()
}

fn text_of(assertion_xml: &str, local: &str) -> Vec<String> {
    let doc = xml::parse(assertion_xml).unwrap();
    doc.descendants()
        .filter(|n| xml::is(n, NS_SAML, local))
        .map(|n| xml::text_of(&n))
        .collect()
}

async fn signing_certs_of(url: &str) -> (metadata::EntityMetadata, Vec<Vec<u8>>) {
    let md_xml = reqwest::get(url).await.unwrap().text().await.unwrap();
    let md = metadata::parse(&md_xml).unwrap();
    let certs = md
        .idp
        .as_ref()
        .map(|i| i.signing_certs.clone())
        .or(md.sp.as_ref().map(|s| s.signing_certs.clone()))
        .unwrap();
    // Metadata is signed by its own key.
    signing::verify_and_reduce(&md_xml, &certs, Default::default()).unwrap();
    (md, certs)
}

fn basic(name: &str, value: &str) -> (String, String, Vec<String>) {
    (
        name.to_string(),
        "urn:oasis:names:tc:SAML:2.0:attrname-format:basic".to_string(),
        vec![value.to_string()],
    )
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oiosaml2_user_system_logs_in_through_the_chooser_with_exact_attributes() {
    let chsim = start(demo_config()).await;
    let browser = Browser::new();
    // The demo SP (HTTP-POST binding) → chsim: two IdPs, so the chooser appears.
    let chooser = browser
        .get(&format!("{}/demo-sp/oiosaml2/login", chsim.base))
        .await;
    assert_eq!(chooser.status, 200, "{}", chooser.body);
    assert!(chooser
        .body
        .contains("Bakkeby Kommune (test-IdP, OIOSAML2)"));
    assert!(chooser
        .body
        .contains("Korsbæk Kommune (test-IdP, OIOSAML3)"));
    let link = regex::Regex::new(r#"href="(/runtime/saml2/choose\?[^"]*test-idp%2Fbakkeby[^"]*)""#)
        .unwrap()
        .captures(&chooser.body)
        .unwrap()[1]
        .to_string();
    let idp_page = browser
        .get(&format!("{}{}", chsim.base, unescape(&link)))
        .await;
    assert!(
        idp_page.url.contains("/test-idp/bakkeby/sso"),
        "{}",
        idp_page.url
    );
    let done = pick_user(&browser, &idp_page, "bent").await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("Logged in."), "{}", done.body);

    // The IdP's response to chsim: signed (Response) with the IdP's metadata certificate.
    let (_, idp_certs) =
        signing_certs_of(&format!("{}/test-idp/bakkeby/metadata", chsim.base)).await;
    let to_chsim = done
        .posted_to("/runtime/saml2auth/consume.idp", "SAMLResponse")
        .unwrap();
    signing::verify_and_reduce(&to_chsim.xml, &idp_certs, Default::default()).unwrap();

    // chsim's token: the assertion is signed with the certificate from chsim's IdP metadata.
    let (_, chsim_certs) =
        signing_certs_of(&format!("{}/runtime/saml2/metadata.idp", chsim.base)).await;
    let token = done
        .posted_to("/demo-sp/oiosaml2/acs", "SAMLResponse")
        .unwrap();
    let assertion =
        signing::verify_and_reduce(&token.xml, &chsim_certs, Default::default()).unwrap();
    assert!(assertion.contains("Assertion"));
    assert!(token.relay_state.as_deref().unwrap().starts_with("demo-"));

    let privileges = b64(
        r#"<bpp:PrivilegeList xmlns:bpp="http://itst.dk/oiosaml/basic_privilege_profile"><PrivilegeGroup Scope="urn:dk:gov:saml:cvrNumberIdentifier:22222222"><Privilege>http://bakkeby.dk/roles/jobrole/sagsbehandler/1</Privilege></PrivilegeGroup></bpp:PrivilegeList>"#,
    );
    let mut privileges_attr = basic("dk:gov:saml:attribute:Privileges_intermediate", &privileges);
    privileges_attr.2 = vec![privileges];
    assert_eq!(
        attributes(&assertion),
        vec![
            basic("dk:gov:saml:attribute:SpecVer", "DK-SAML-2.0"),
            basic("dk:gov:saml:attribute:KombitSpecVer", "1.0"),
            basic("dk:gov:saml:attribute:AssuranceLevel", "3"),
            basic("dk:gov:saml:attribute:CvrNumberIdentifier", "22222222"),
            privileges_attr,
        ]
    );
    assert_eq!(
        text_of(&assertion, "NameID"),
        vec![
            "C=DK,O=22222222,CN=Bent Bakkeby,Serial=9c1d2f3e-0000-4000-8000-22222222b001"
                .to_string()
        ]
    );
    assert_eq!(
        text_of(&assertion, "AuthenticatingAuthority"),
        vec![format!("{}/test-idp/bakkeby", chsim.base)]
    );
    assert_eq!(
        text_of(&assertion, "Audience"),
        vec![format!("{}/demo-sp/oiosaml2", chsim.base)]
    );
    assert_eq!(
        text_of(&assertion, "Issuer"),
        vec![format!("{}/runtime", chsim.base)]
    );
    assert_eq!(
        text_of(&assertion, "AuthnContextClassRef"),
        vec!["urn:oasis:names:tc:SAML:2.0:ac:classes:X509".to_string()]
    );
}
