//! End-to-end logins through the real router on a loopback port, for both demo user systems:
//! user system → chsim → (chooser) → test IdP → chsim → user system. Every signature is checked
//! here again, independently of the demo SP, with the certificates from the published metadata.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use base64::Engine as _;
use chsim::saml::{metadata, signing, xml, TrustedCert};
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

async fn signing_certs_of(url: &str) -> (metadata::EntityMetadata, Vec<TrustedCert>) {
    let md_xml = reqwest::get(url).await.unwrap().text().await.unwrap();
    let md = metadata::parse(&md_xml).unwrap();
    let certs = md
        .idp
        .as_ref()
        .map(|i| i.signing_certs.clone())
        .or(md.sp.as_ref().map(|s| s.signing_certs.clone()))
        .unwrap()
        .iter()
        .map(|der| TrustedCert::from_der(der).unwrap())
        .collect::<Vec<_>>();
    // Metadata is signed by its own key.
    signing::verify_and_reduce(&md_xml, &certs, Default::default()).unwrap();
    (md, certs)
}

/// Verifies the query-string signature of the HTTP-Redirect AuthnRequest in `url` with the
/// signing certificate of the SP metadata at `metadata_url`.
async fn verify_redirect_request(url: &str, metadata_url: &str) {
    let msg = redirect_request(url);
    assert!(msg.is_signed(), "{url}");
    let md_xml = reqwest::get(metadata_url)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let md = metadata::parse(&md_xml).unwrap();
    let der = &md.sp.unwrap().signing_certs[0];
    let cert = TrustedCert::from_der(der).unwrap();
    msg.verify(cert.public_key(), Default::default()).unwrap();
}

fn uri(name: &str, value: &str) -> (String, String, Vec<String>) {
    (
        name.to_string(),
        "urn:oasis:names:tc:SAML:2.0:attrname-format:uri".to_string(),
        vec![value.to_string()],
    )
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
    // The demo SP's HTTP-POST AuthnRequest carries an enveloped signature by its metadata key …
    let (_, sp_certs) =
        signing_certs_of(&format!("{}/demo-sp/oiosaml2/metadata", chsim.base)).await;
    let request = chooser
        .posted_to("/runtime/saml2/issue.idp", "SAMLRequest")
        .unwrap();
    signing::verify_and_reduce(&request.xml, &sp_certs, Default::default()).unwrap();
    // … and chsim's HTTP-Redirect AuthnRequest to the IdP is signed with chsim's SP metadata key.
    verify_redirect_request(
        &idp_page.url,
        &format!("{}/runtime/saml2auth/metadata.idp", chsim.base),
    )
    .await;
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
        r#"<bpp:PrivilegeList xmlns:bpp="http://itst.dk/oiosaml/basic_privilege_profile"><PrivilegeGroup Scope="urn:dk:gov:saml:cvrNumberIdentifier:22222222"><Privilege>http://fagsystem-b.demo/roles/usersystemrole/bruger/1</Privilege><Constraint Name="http://sts.kombit.dk/constraints/orgenhed/1">7d1e9b20-2222-4c3f-8a2d-0000000000b2</Constraint></PrivilegeGroup></bpp:PrivilegeList>"#,
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oiosaml3_user_system_logs_in_with_encrypted_assertions_on_both_legs() {
    let chsim = start(demo_config()).await;
    let browser = Browser::new();
    let korsbaek = format!("{}/test-idp/korsbaek", chsim.base);
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("idp", &korsbaek);
    let query = q.finish();
    // The demo SP's HTTP-Redirect AuthnRequest is signed with the key of its metadata.
    let first = browser
        .client
        .get(format!("{}/demo-sp/oiosaml3/login?{query}", chsim.base))
        .send()
        .await
        .unwrap();
    let to_chsim_request = first.headers()["location"].to_str().unwrap().to_string();
    assert!(
        to_chsim_request.contains("/runtime/saml2/issue.idp?"),
        "{to_chsim_request}"
    );
    verify_redirect_request(
        &to_chsim_request,
        &format!("{}/demo-sp/oiosaml3/metadata", chsim.base),
    )
    .await;
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("idp", &korsbaek);
    // `?idp=` preselects the IdP: no chooser.
    let idp_page = browser
        .get(&format!(
            "{}/demo-sp/oiosaml3/login?{}",
            chsim.base,
            q.finish()
        ))
        .await;
    assert!(
        idp_page.url.contains("/test-idp/korsbaek/sso"),
        "{}",
        idp_page.url
    );
    verify_redirect_request(
        &idp_page.url,
        &format!("{}/runtime/saml2auth/metadata.idp", chsim.base),
    )
    .await;
    let done = pick_user(&browser, &idp_page, "karen").await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(
        done.body.contains("after decrypting the assertion"),
        "{}",
        done.body
    );

    // IdP → chsim: an EncryptedAssertion (AES-256-GCM, RSA-OAEP) that chsim decrypted.
    let to_chsim = done
        .posted_to("/runtime/saml2auth/consume.idp", "SAMLResponse")
        .unwrap();
    assert!(to_chsim.xml.contains("EncryptedAssertion"));
    assert!(to_chsim
        .xml
        .contains("http://www.w3.org/2009/xmlenc11#aes256-gcm"));
    // Decrypted with chsim's encryption key (not its signing key), the IdP's assertion verifies
    // with the IdP's metadata key.
    let doc = xml::parse(&to_chsim.xml).unwrap();
    let enc = doc
        .descendants()
        .find(|n| xml::is(n, NS_SAML, "EncryptedAssertion"))
        .unwrap();
    let enc_xml = xml::standalone_subtree(&enc, &to_chsim.xml).unwrap();
    let signing_key = chsim::saml::Credential::from_pem(
        include_bytes!("../keys/broker.key.pem"),
        include_bytes!("../keys/broker.cert.pem"),
    )
    .unwrap();
    assert!(chsim::saml::encryption::decrypt_assertion(&enc_xml, signing_key.key()).is_err());
    let broker_key = chsim::saml::Credential::from_pem(
        include_bytes!("../keys/broker-encryption.key.pem"),
        include_bytes!("../keys/broker-encryption.cert.pem"),
    )
    .unwrap();
    let idp_assertion =
        chsim::saml::encryption::decrypt_assertion(&enc_xml, broker_key.key()).unwrap();
    let (_, idp_certs) = signing_certs_of(&format!("{korsbaek}/metadata")).await;
    let verified =
        signing::verify_and_reduce(&idp_assertion, &idp_certs, Default::default()).unwrap();
    assert!(verified.contains("Karen Sagsbehandler"));

    // chsim → user system: encrypted to the demo SP's key; decrypt it here and verify the
    // signature with the certificate from chsim's published IdP metadata.
    let token = done
        .posted_to("/demo-sp/oiosaml3/acs", "SAMLResponse")
        .unwrap();
    let doc = xml::parse(&token.xml).unwrap();
    let enc = doc
        .descendants()
        .find(|n| xml::is(n, NS_SAML, "EncryptedAssertion"))
        .expect("chsim encrypts for a user system with an encryption key");
    let enc_xml = xml::standalone_subtree(&enc, &token.xml).unwrap();
    assert!(enc_xml.contains("http://www.w3.org/2009/xmlenc11#rsa-oaep"));
    let sp_key = chsim::saml::Credential::from_pem(
        include_bytes!("../keys/demo-sp-oiosaml3.key.pem"),
        include_bytes!("../keys/demo-sp-oiosaml3.cert.pem"),
    )
    .unwrap();
    let plain = chsim::saml::encryption::decrypt_assertion(&enc_xml, sp_key.key()).unwrap();
    let (_, chsim_certs) =
        signing_certs_of(&format!("{}/runtime/saml2/metadata.idp", chsim.base)).await;
    let assertion = signing::verify_and_reduce(&plain, &chsim_certs, Default::default()).unwrap();

    let privileges = b64(
        r#"<bpp:PrivilegeList xmlns:bpp="http://digst.dk/oiosaml/basic_privilege_profile"><PrivilegeGroup Scope="urn:dk:gov:saml:cvrNumberIdentifier:11111111"><Privilege>http://fagsystem-a.demo/roles/usersystemrole/laes-sag/1</Privilege><Constraint Name="http://sts.kombit.dk/constraints/KLE/1">25.*</Constraint><Constraint Name="http://sts.kombit.dk/constraints/KLE/1">27.35.04</Constraint></PrivilegeGroup><PrivilegeGroup Scope="urn:dk:gov:saml:cvrNumberIdentifier:11111111"><Privilege>http://fagsystem-a.demo/roles/usersystemrole/skriv-sag/1</Privilege><Constraint Name="http://sts.kombit.dk/constraints/KLE/1">27.35.04</Constraint></PrivilegeGroup></bpp:PrivilegeList>"#,
    );
    assert_eq!(
        attributes(&assertion),
        vec![
            uri("https://data.gov.dk/model/core/specVersion", "OIO-SAML-3.0"),
            uri("dk:gov:saml:attribute:KombitSpecVer", "2.0"),
            uri("https://data.gov.dk/concept/core/nsis/loa", "Substantial"),
            uri(
                "https://data.gov.dk/model/core/eid/professional/cvr",
                "11111111"
            ),
            uri(
                "https://data.gov.dk/model/core/eid/professional/orgName",
                "Korsbæk Kommune"
            ),
            uri(
                "https://data.gov.dk/model/core/eid/email",
                "karen@korsbaek.dk"
            ),
            uri(
                "https://data.gov.dk/model/core/eid/privilegesIntermediate",
                &privileges
            ),
        ]
    );
    assert_eq!(
        text_of(&assertion, "NameID"),
        vec![
            "C=DK,O=11111111,CN=Karen Sagsbehandler,Serial=4b7b2e0a-6f1c-4b8e-9d0a-11111111a001"
                .to_string()
        ]
    );
    assert_eq!(
        text_of(&assertion, "AuthenticatingAuthority"),
        vec![korsbaek]
    );
    assert_eq!(
        text_of(&assertion, "Audience"),
        vec![format!("{}/demo-sp/oiosaml3", chsim.base)]
    );
    assert_eq!(
        text_of(&assertion, "AuthnContextClassRef"),
        vec!["https://data.gov.dk/concept/core/nsis/loa/Substantial".to_string()]
    );
}
