//! Memory stays flat while messages are validated (issue #10 §1).
//!
//! libxml2 allocates outside Rust's allocator, so the check reads the process's resident set from
//! `/proc/self/statm`: validate the usual OS2faktor shape — a Response whose Assertion alone is
//! signed — a few thousand times and require that the resident set does not grow with the count.
//! samael 0.0.22's reduction leaked the whole Response envelope (about 2.6 KB) on every such
//! Response when it made the Assertion the document root; 3,000 validations would then add about
//! 8 MB.

#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Duration, Utc};
use chsim::saml::response::{self, NewAssertion, NewAttribute, NewResponse, SignedElement, Status};
use chsim::saml::signing::AlgorithmPolicy;
use chsim::saml::validate::{self, Expectations};
use chsim::saml::{Credential, NAMEID_X509};

const IDP: &str = "https://idp.example/bakkeby";
const CHSIM: &str = "http://localhost:8080/runtime";
const ACS: &str = "http://localhost:8080/runtime/saml2auth/consume.idp";

fn resident_kib() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-03T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn assertion_signed_response(idp: &Credential) -> String {
    let t = now();
    let assertion = NewAssertion {
        id: "_a1".into(),
        issue_instant: t,
        issuer: IDP.into(),
        name_id: "C=DK,O=29189978,CN=Karen Jensen,Serial=1234".into(),
        name_id_format: NAMEID_X509.into(),
        in_response_to: Some("_req".into()),
        recipient: ACS.into(),
        not_before: t - Duration::minutes(1),
        not_on_or_after: t + Duration::minutes(5),
        audience: CHSIM.into(),
        authn_instant: t,
        session_index: Some("_s".into()),
        authn_context_class_ref: "urn:dk:gov:saml:attribute:AssuranceLevel:3".into(),
        authenticating_authority: None,
        attributes: vec![NewAttribute {
            name: "dk:gov:saml:attribute:CvrNumberIdentifier".into(),
            name_format: "urn:oasis:names:tc:SAML:2.0:attrname-format:basic".into(),
            friendly_name: None,
            values: vec!["29189978".into()],
        }],
    };
    let envelope = NewResponse {
        id: "_r1".into(),
        issue_instant: t,
        destination: ACS.into(),
        in_response_to: Some("_req".into()),
        issuer: IDP.into(),
        status: Status::success(),
    };
    response::build(
        &envelope,
        Some(&assertion),
        idp,
        SignedElement::Assertion,
        None,
    )
    .unwrap()
}

#[test]
fn validating_assertion_signed_responses_does_not_grow_memory() {
    let idp = Credential::from_pem(
        include_bytes!("../keys/test-idp-bakkeby.key.pem"),
        include_bytes!("../keys/test-idp-bakkeby.cert.pem"),
    )
    .unwrap();
    let xml = assertion_signed_response(&idp);
    let certs = vec![idp.trusted_cert()];
    let expect = Expectations {
        issuer: IDP,
        trusted_certs: &certs,
        audience: CHSIM,
        acs_url: ACS,
        in_response_to: "_req",
        now: now(),
        clock_skew: Duration::seconds(60),
        algorithms: AlgorithmPolicy::default(),
        decryption_key: None,
        queried_subject: None,
    };
    let validate = || {
        let a = validate::validate_response(&xml, &expect).unwrap();
        assert_eq!(a.name_id, "C=DK,O=29189978,CN=Karen Jensen,Serial=1234");
    };
    // Warm up: allocator arenas, xmlsec's and OpenSSL's one-time state.
    for _ in 0..500 {
        validate();
    }
    let before = resident_kib();
    for _ in 0..3_000 {
        validate();
    }
    let grown = resident_kib().saturating_sub(before);
    assert!(
        grown < 2 * 1024,
        "the resident set grew by {grown} KiB over 3,000 validations (a leak of about {} bytes each)",
        grown * 1024 / 3_000
    );
}

#[test]
fn signing_assertions_does_not_grow_memory() {
    let idp = Credential::from_pem(
        include_bytes!("../keys/test-idp-bakkeby.key.pem"),
        include_bytes!("../keys/test-idp-bakkeby.cert.pem"),
    )
    .unwrap();
    for _ in 0..300 {
        assertion_signed_response(&idp);
    }
    let before = resident_kib();
    for _ in 0..3_000 {
        assertion_signed_response(&idp);
    }
    let grown = resident_kib().saturating_sub(before);
    assert!(
        grown < 2 * 1024,
        "the resident set grew by {grown} KiB over 3,000 signatures (a leak of about {} bytes each)",
        grown * 1024 / 3_000
    );
}
