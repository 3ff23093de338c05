//! Single logout messages against an independent XML-DSig implementation, `xmlsec1` (the
//! Debian package `make test` installs): xmlsec1 verifies an HTTP-POST LogoutRequest chsim signs,
//! and chsim verifies LogoutRequests and LogoutResponses that xmlsec1 signed — posted, and
//! inside a SOAP envelope. No server: the messages go straight through `saml::logout`.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use chrono::{DateTime, Duration, Utc};
use chsim::saml::binding::encode_post;
use chsim::saml::logout::{
    self, Binding, Expectations, Incoming, LogoutError, NameId, NewLogoutRequest, Outgoing,
};
use chsim::saml::signing::AlgorithmPolicy;
use chsim::saml::soap::soap_envelope;
use chsim::saml::{status, Credential};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const DESTINATION: &str = "https://chsim.example/runtime/saml2/issue.idp";
const SOAP: &str = "https://chsim.example/runtime/services/signoff/saml2/soap";
const ISSUER: &str = "https://fagsystem.example";

fn key(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("keys")
        .join(name)
}

fn credential(name: &str) -> Credential {
    Credential::from_pem(
        &std::fs::read(key(&format!("{name}.key.pem"))).unwrap(),
        &std::fs::read(key(&format!("{name}.cert.pem"))).unwrap(),
    )
    .unwrap()
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn xmlsec1(args: &[&str], dir: &Path) -> Output {
    Command::new("xmlsec1")
        .args(args)
        .current_dir(dir)
        .output()
        .expect(
            "xmlsec1 is not installed: run `make test` (it installs the Debian package xmlsec1)",
        )
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout)
}

#[test]
fn xmlsec1_verifies_a_post_signed_logout_request_and_refuses_it_changed() {
    let chsim = credential("broker");
    let request = NewLogoutRequest {
        id: "_chsim-lr".into(),
        issue_instant: now(),
        destination: "https://fagsystem.example/slo".into(),
        issuer: "https://chsim.example/runtime".into(),
        name_id: NameId::x509("C=DK,O=29189846,CN=Karen Sørensen,Serial=8f1c"),
        session_indexes: vec!["_session-1".into()],
        not_on_or_after: None,
        reason: Some(logout::reason::USER.into()),
    };
    let Outgoing::Post(form) = request.encode(Binding::Post, None, &chsim).unwrap() else {
        panic!("expected a form")
    };
    use base64::Engine as _;
    let xml = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(form.value)
            .unwrap(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lr.xml"), &xml).unwrap();
    std::fs::write(dir.path().join("changed.xml"), xml.replace("8f1c", "8f1d")).unwrap();
    let cert = key("broker.cert.pem");
    let verify = |file: &str| {
        xmlsec1(
            &[
                "--verify",
                "--id-attr:ID",
                "urn:oasis:names:tc:SAML:2.0:protocol:LogoutRequest",
                "--pubkey-cert-pem",
                cert.to_str().unwrap(),
                file,
            ],
            dir.path(),
        )
    };
    let ok = verify("lr.xml");
    assert!(
        ok.status.success() && text(&ok).contains("OK"),
        "{}",
        text(&ok)
    );
    let changed = verify("changed.xml");
    assert!(
        !changed.status.success(),
        "xmlsec1 accepted a changed LogoutRequest"
    );
}

/// `template` (with an empty ds:Signature) signed by xmlsec1 with the demo user system's key.
fn signed_by_xmlsec1(template: &str, element: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("template.xml"), template).unwrap();
    let key = key("demo-sp-oiosaml2.key.pem");
    let out = xmlsec1(
        &[
            "--sign",
            "--id-attr:ID",
            &format!("urn:oasis:names:tc:SAML:2.0:protocol:{element}"),
            "--privkey-pem",
            key.to_str().unwrap(),
            "--output",
            "signed.xml",
            "template.xml",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out));
    std::fs::read_to_string(dir.path().join("signed.xml")).unwrap()
}

const SIGNATURE_TEMPLATE: &str = r##"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI="#ID"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/></ds:Signature>"##;

fn expect<'a>(certs: &'a [chsim::saml::TrustedCert], destination: &'a str) -> Expectations<'a> {
    Expectations {
        trusted_certs: certs,
        algorithms: AlgorithmPolicy::default(),
        destination,
        now: now(),
        clock_skew: Duration::seconds(180),
    }
}

#[test]
fn chsim_verifies_a_logout_request_xmlsec1_signed_and_reads_it() {
    let template = format!(
        r#"<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_xmlsec-lr" Version="2.0" IssueInstant="2026-11-22T10:00:30Z" Destination="{DESTINATION}" Reason="urn:oasis:names:tc:SAML:2.0:logout:user"><saml:Issuer>{ISSUER}</saml:Issuer>{}<saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName" SPNameQualifier="{ISSUER}">C=DK,O=29189846,CN=Karen,Serial=8f1c</saml:NameID><samlp:SessionIndex>_s1</samlp:SessionIndex></samlp:LogoutRequest>"#,
        SIGNATURE_TEMPLATE.replace("#ID", "#_xmlsec-lr")
    );
    let signed = signed_by_xmlsec1(&template, "LogoutRequest");
    let certs = vec![credential("demo-sp-oiosaml2").trusted_cert()];
    let verified = logout::receive_request(
        Incoming::Post {
            message: encode_post(&signed),
            relay_state: Some("rs".into()),
        },
        256 * 1024,
    )
    .unwrap()
    .verify(&expect(&certs, DESTINATION))
    .unwrap();
    let m = verified.message();
    assert_eq!(m.id, "_xmlsec-lr");
    assert_eq!(m.name_id.value, "C=DK,O=29189846,CN=Karen,Serial=8f1c");
    assert_eq!(m.name_id.sp_name_qualifier.as_deref(), Some(ISSUER));
    assert_eq!(m.session_indexes, vec!["_s1".to_string()]);
    assert_eq!(verified.relay_state(), Some("rs"));

    // The same message checked against another party's certificate is refused.
    let other = vec![credential("broker").trusted_cert()];
    let err = logout::receive_request(
        Incoming::Post {
            message: encode_post(&signed),
            relay_state: None,
        },
        256 * 1024,
    )
    .unwrap()
    .verify(&expect(&other, DESTINATION))
    .unwrap_err();
    assert!(matches!(err, LogoutError::Signature { .. }), "{err}");
}

#[test]
fn chsim_verifies_a_soap_logout_response_xmlsec1_signed_inside_its_envelope() {
    let body = format!(
        r#"<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_xmlsec-resp" InResponseTo="_chsim-lr" Version="2.0" IssueInstant="2026-11-22T09:59:30Z"><saml:Issuer>{ISSUER}</saml:Issuer>{}<samlp:Status><samlp:StatusCode Value="{}"/></samlp:Status></samlp:LogoutResponse>"#,
        SIGNATURE_TEMPLATE.replace("#ID", "#_xmlsec-resp"),
        status::SUCCESS
    );
    let signed = signed_by_xmlsec1(&soap_envelope(&body), "LogoutResponse");
    let certs = vec![credential("demo-sp-oiosaml2").trusted_cert()];
    let verified = logout::receive_response(Incoming::Soap { envelope: signed }, 256 * 1024)
        .unwrap()
        .verify(&expect(&certs, SOAP))
        .unwrap();
    assert_eq!(verified.message().in_response_to, "_chsim-lr");
    assert!(verified.message().status.is_success());
    assert_eq!(verified.binding(), Binding::Soap);
}
