//! Unit tests: every binding round-trips with real signatures (the demo keys under `keys/`), and
//! every refusal has a test that asserts its specific error.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::saml::binding::{encode_post, encode_redirect, MessageKind};
use crate::saml::response::Status;
use crate::saml::signing::AlgorithmPolicy;
use crate::saml::soap::{soap_envelope, soap_fault};
use crate::saml::{signing, status, Credential, SamlError};
use crate::xml_limits::LimitError;
use chrono::{DateTime, Duration, Utc};

const CHSIM_SLO: &str = "https://chsim.example/runtime/saml2/issue.idp";
const CHSIM_SIGNOFF: &str = "https://chsim.example/runtime/saml2/signoff.idp";
const USER_SYSTEM: &str = "https://fagsystem.example";
const MAX: usize = 256 * 1024;

/// The sender: a user system (the demo user system's key).
fn sender() -> Credential {
    Credential::from_pem(
        include_bytes!("../../../keys/demo-sp-oiosaml2.key.pem"),
        include_bytes!("../../../keys/demo-sp-oiosaml2.cert.pem"),
    )
    .unwrap()
}

/// Someone else (chsim's own key): its signatures must not pass for the sender's.
fn stranger() -> Credential {
    Credential::from_pem(
        include_bytes!("../../../keys/broker.key.pem"),
        include_bytes!("../../../keys/broker.cert.pem"),
    )
    .unwrap()
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn request() -> NewLogoutRequest {
    NewLogoutRequest {
        id: "_lr1".into(),
        issue_instant: now(),
        destination: CHSIM_SLO.into(),
        issuer: USER_SYSTEM.into(),
        name_id: NameId {
            value: "C=DK,O=29189846,CN=Karen Sø & Co,Serial=8f1c".into(),
            format: Some(crate::saml::NAMEID_X509.into()),
            name_qualifier: Some("https://idp.example".into()),
            sp_name_qualifier: Some(USER_SYSTEM.into()),
        },
        session_indexes: vec!["_s1".into(), "_s2".into()],
        not_on_or_after: Some(now() + Duration::minutes(5)),
        reason: Some(reason::USER.into()),
    }
}

fn response() -> NewLogoutResponse {
    NewLogoutResponse {
        id: "_lresp1".into(),
        issue_instant: now(),
        destination: Some(CHSIM_SIGNOFF.into()),
        issuer: USER_SYSTEM.into(),
        in_response_to: "_lr0".into(),
        status: Status {
            code: status::SUCCESS.into(),
            sub_code: Some(status::PARTIAL_LOGOUT.into()),
            message: Some("one of two".into()),
        },
    }
}

fn expect<'a>(certs: &'a [crate::saml::TrustedCert], destination: &'a str) -> Expectations<'a> {
    Expectations {
        trusted_certs: certs,
        algorithms: AlgorithmPolicy::default(),
        destination,
        now: now(),
        clock_skew: Duration::seconds(180),
    }
}

fn sender_certs() -> Vec<crate::saml::TrustedCert> {
    vec![sender().trusted_cert()]
}

/// What arrives at chsim for an outgoing message.
fn arriving(out: Outgoing) -> Incoming {
    match out {
        Outgoing::Redirect(url) => Incoming::Redirect {
            raw_query: url.query().unwrap().to_string(),
        },
        Outgoing::Post(form) => Incoming::Post {
            message: form.value,
            relay_state: form.relay_state,
        },
        Outgoing::Soap(envelope) => Incoming::Soap { envelope },
    }
}

fn verify_request(incoming: Incoming) -> Result<VerifiedLogoutRequest, LogoutError> {
    receive_request(incoming, MAX)?.verify(&expect(&sender_certs(), CHSIM_SLO))
}

fn verify_response(incoming: Incoming) -> Result<VerifiedLogoutResponse, LogoutError> {
    receive_response(incoming, MAX)?.verify(&expect(&sender_certs(), CHSIM_SIGNOFF))
}

fn round_trip_request(binding: Binding) {
    let relay = (binding != Binding::Soap).then_some("back to page 3");
    let out = request().encode(binding, relay, &sender()).unwrap();
    let verified = verify_request(arriving(out)).unwrap();
    let r = request();
    let m = verified.message();
    assert_eq!(verified.binding(), binding);
    assert_eq!(verified.relay_state(), relay);
    assert_eq!(
        (m.id.as_str(), m.issuer.as_str(), m.issue_instant),
        ("_lr1", USER_SYSTEM, now())
    );
    assert_eq!(m.destination.as_deref(), Some(CHSIM_SLO));
    assert_eq!(m.name_id, r.name_id);
    assert_eq!(m.session_indexes, r.session_indexes);
    assert_eq!(m.not_on_or_after, r.not_on_or_after);
    assert_eq!(m.reason.as_deref(), Some(reason::USER));
}

fn round_trip_response(binding: Binding) {
    let relay = (binding != Binding::Soap).then_some("rs");
    let out = response().encode(binding, relay, &sender()).unwrap();
    let verified = verify_response(arriving(out)).unwrap();
    let m = verified.message();
    assert_eq!(verified.binding(), binding);
    assert_eq!(verified.relay_state(), relay);
    assert_eq!(
        (m.id.as_str(), m.issuer.as_str(), m.in_response_to.as_str()),
        ("_lresp1", USER_SYSTEM, "_lr0")
    );
    assert_eq!(m.status, response().status);
}

#[test]
fn a_logout_request_round_trips_over_http_redirect_with_a_query_signature() {
    round_trip_request(Binding::Redirect);
}

#[test]
fn a_logout_request_round_trips_over_http_post_with_an_enveloped_signature() {
    round_trip_request(Binding::Post);
}

#[test]
fn a_logout_request_round_trips_over_soap_with_an_enveloped_signature() {
    round_trip_request(Binding::Soap);
}

#[test]
fn a_logout_response_round_trips_over_http_redirect_with_a_query_signature() {
    round_trip_response(Binding::Redirect);
}

#[test]
fn a_logout_response_round_trips_over_http_post_with_an_enveloped_signature() {
    round_trip_response(Binding::Post);
}

#[test]
fn a_logout_response_round_trips_over_soap_with_an_enveloped_signature() {
    round_trip_response(Binding::Soap);
}

#[test]
fn a_built_logout_request_has_the_schema_order_and_the_parameter_for_its_binding() {
    let xml = request().to_xml(Some(&sender())).unwrap();
    let at = |s: &str| xml.find(s).unwrap();
    assert!(at("<saml:Issuer") < at("<ds:Signature"));
    assert!(at("<ds:Signature") < at("<saml:NameID"));
    assert!(at("<saml:NameID") < at("<samlp:SessionIndex>_s1"));
    assert!(at("<samlp:SessionIndex>_s1") < at("<samlp:SessionIndex>_s2"));
    let Outgoing::Post(form) = request().encode(Binding::Post, None, &sender()).unwrap() else {
        panic!("expected a form")
    };
    assert_eq!(
        (form.field, form.action.as_str()),
        ("SAMLRequest", CHSIM_SLO)
    );
    let Outgoing::Post(form) = response().encode(Binding::Post, None, &sender()).unwrap() else {
        panic!("expected a form")
    };
    assert_eq!(form.field, "SAMLResponse");
}

#[test]
fn a_soap_logout_response_may_leave_out_its_destination() {
    let mut r = response();
    r.destination = None;
    let verified = verify_response(arriving(r.encode(Binding::Soap, None, &sender()).unwrap()));
    assert!(verified.unwrap().message().destination.is_none());
}

#[test]
fn a_logout_response_by_http_post_without_a_destination_cannot_be_encoded() {
    let mut r = response();
    r.destination = None;
    assert!(matches!(
        r.encode(Binding::Post, None, &sender()),
        Err(SamlError::BadEncoding { .. })
    ));
}

// Step 1: signed as the binding requires.

#[test]
fn refuses_an_unsigned_http_redirect_logout_request() {
    let url = encode_redirect(
        CHSIM_SLO,
        MessageKind::Request,
        &request().to_xml(None).unwrap(),
        None,
        None,
    )
    .unwrap();
    let err = verify_request(arriving(Outgoing::Redirect(url))).unwrap_err();
    assert_eq!(
        err,
        LogoutError::Unsigned {
            element: "LogoutRequest",
            issuer: USER_SYSTEM.into(),
            binding: Binding::Redirect
        }
    );
}

#[test]
fn refuses_an_http_redirect_logout_request_whose_only_signature_is_inside_the_xml() {
    let url = encode_redirect(
        CHSIM_SLO,
        MessageKind::Request,
        &request().to_xml(Some(&sender())).unwrap(),
        None,
        None,
    )
    .unwrap();
    let err = verify_request(arriving(Outgoing::Redirect(url))).unwrap_err();
    assert!(
        matches!(
            err,
            LogoutError::Unsigned {
                binding: Binding::Redirect,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn refuses_an_http_redirect_logout_request_with_a_signature_but_no_sig_alg() {
    let out = request()
        .encode(Binding::Redirect, None, &sender())
        .unwrap();
    let Incoming::Redirect { raw_query } = arriving(out) else {
        unreachable!()
    };
    let without: Vec<&str> = raw_query
        .split('&')
        .filter(|p| !p.starts_with("SigAlg="))
        .collect();
    let err = verify_request(Incoming::Redirect {
        raw_query: without.join("&"),
    })
    .unwrap_err();
    assert!(matches!(err, LogoutError::Unsigned { .. }), "{err}");
}

#[test]
fn refuses_an_unsigned_http_post_logout_request() {
    let err = verify_request(Incoming::Post {
        message: encode_post(&request().to_xml(None).unwrap()),
        relay_state: None,
    })
    .unwrap_err();
    assert!(
        matches!(
            err,
            LogoutError::Unsigned {
                binding: Binding::Post,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn refuses_an_unsigned_soap_logout_response() {
    let err = verify_response(Incoming::Soap {
        envelope: soap_envelope(&response().to_xml(None).unwrap()),
    })
    .unwrap_err();
    assert_eq!(
        err,
        LogoutError::Unsigned {
            element: "LogoutResponse",
            issuer: USER_SYSTEM.into(),
            binding: Binding::Soap
        }
    );
}

#[test]
fn refuses_a_genuine_signed_logout_request_wrapped_in_an_unsigned_one() {
    let genuine = request().to_xml(Some(&sender())).unwrap();
    let genuine = crate::saml::response::strip_declaration(&genuine);
    let mut outer = request();
    outer.id = "_outer".into();
    outer.name_id = NameId::x509("C=DK,O=1,CN=Victim,Serial=v");
    let wrapped = outer.to_xml(None).unwrap().replace(
        "<saml:NameID",
        &format!("<samlp:Extensions>{genuine}</samlp:Extensions><saml:NameID"),
    );
    let err = verify_request(Incoming::Post {
        message: encode_post(&wrapped),
        relay_state: None,
    })
    .unwrap_err();
    assert!(matches!(err, LogoutError::Unsigned { .. }), "{err}");
}

// Step 2: the signature verifies with the sender's certificates, by an allowed algorithm and shape.

fn signature_reason(err: LogoutError) -> SamlError {
    match err {
        LogoutError::Signature { issuer, reason } => {
            assert_eq!(issuer, USER_SYSTEM);
            reason
        }
        other => panic!("expected a signature refusal, got {other:?}"),
    }
}

#[test]
fn refuses_an_http_redirect_logout_request_signed_with_another_key() {
    let out = request()
        .encode(Binding::Redirect, None, &stranger())
        .unwrap();
    let reason = signature_reason(verify_request(arriving(out)).unwrap_err());
    assert!(matches!(reason, SamlError::BadSignature { .. }), "{reason}");
}

#[test]
fn refuses_an_http_post_logout_request_signed_with_another_key() {
    let out = request().encode(Binding::Post, None, &stranger()).unwrap();
    let reason = signature_reason(verify_request(arriving(out)).unwrap_err());
    assert!(matches!(reason, SamlError::BadSignature { .. }), "{reason}");
}

#[test]
fn refuses_an_http_redirect_logout_request_whose_relay_state_was_changed() {
    let out = request()
        .encode(Binding::Redirect, Some("one"), &sender())
        .unwrap();
    let Incoming::Redirect { raw_query } = arriving(out) else {
        unreachable!()
    };
    let err = verify_request(Incoming::Redirect {
        raw_query: raw_query.replace("RelayState=one", "RelayState=two"),
    })
    .unwrap_err();
    assert!(matches!(
        signature_reason(err),
        SamlError::BadSignature { .. }
    ));
}

#[test]
fn refuses_an_http_post_logout_request_whose_name_id_was_changed_after_signing() {
    let xml = request()
        .to_xml(Some(&sender()))
        .unwrap()
        .replace("Serial=8f1c", "Serial=0000");
    let err = verify_request(Incoming::Post {
        message: encode_post(&xml),
        relay_state: None,
    })
    .unwrap_err();
    assert!(matches!(
        signature_reason(err),
        SamlError::BadSignature { .. }
    ));
}

#[test]
fn refuses_a_logout_request_when_no_certificate_is_trusted_for_its_issuer() {
    for binding in [Binding::Redirect, Binding::Post] {
        let out = request().encode(binding, None, &sender()).unwrap();
        let err = receive_request(arriving(out), MAX)
            .unwrap()
            .verify(&expect(&[], CHSIM_SLO))
            .unwrap_err();
        assert_eq!(signature_reason(err), SamlError::NoTrustedCertificate);
    }
}

#[test]
fn refuses_an_rsa_sha1_query_signature_unless_sha1_is_allowed() {
    use base64::Engine as _;
    use openssl::hash::MessageDigest;
    let url = encode_redirect(
        CHSIM_SLO,
        MessageKind::Request,
        &request().to_xml(None).unwrap(),
        None,
        None,
    )
    .unwrap();
    let mut q = url::form_urlencoded::Serializer::new(url.query().unwrap().to_string());
    q.append_pair("SigAlg", signing::RSA_SHA1);
    let octets = q.finish();
    let mut signer = openssl::sign::Signer::new(MessageDigest::sha1(), sender().key()).unwrap();
    signer.update(octets.as_bytes()).unwrap();
    let sig = base64::engine::general_purpose::STANDARD.encode(signer.sign_to_vec().unwrap());
    let mut q = url::form_urlencoded::Serializer::new(octets);
    q.append_pair("Signature", &sig);
    let raw_query = q.finish();
    let err = verify_request(Incoming::Redirect {
        raw_query: raw_query.clone(),
    })
    .unwrap_err();
    assert!(matches!(
        signature_reason(err),
        SamlError::WeakSignatureAlgorithm { found } if found == signing::RSA_SHA1
    ));
    let certs = sender_certs();
    let mut allowing = expect(&certs, CHSIM_SLO);
    allowing.algorithms.allow_sha1 = true;
    receive_request(Incoming::Redirect { raw_query }, MAX)
        .unwrap()
        .verify(&allowing)
        .unwrap();
}

#[test]
fn refuses_an_enveloped_signature_with_an_xpath_transform_before_verifying_it() {
    let xml = request().to_xml(Some(&sender())).unwrap().replacen(
        r#"<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>"#,
        r#"<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"/>"#,
        1,
    );
    assert!(xml.contains("REC-xpath"));
    let err = verify_request(Incoming::Post {
        message: encode_post(&xml),
        relay_state: None,
    })
    .unwrap_err();
    assert!(matches!(
        signature_reason(err),
        SamlError::SignatureShape { .. }
    ));
}

// Step 4: Destination.

#[test]
fn refuses_a_logout_request_for_another_destination() {
    let mut r = request();
    r.destination = "https://elsewhere.example/slo".into();
    let err =
        verify_request(arriving(r.encode(Binding::Post, None, &sender()).unwrap())).unwrap_err();
    assert_eq!(
        err,
        LogoutError::WrongDestination {
            expected: CHSIM_SLO.into(),
            found: "https://elsewhere.example/slo".into()
        }
    );
}

#[test]
fn refuses_an_http_post_logout_response_without_a_destination() {
    let mut r = response();
    r.destination = None;
    let xml = r.to_xml(Some(&sender())).unwrap();
    let err = verify_response(Incoming::Post {
        message: encode_post(&xml),
        relay_state: None,
    })
    .unwrap_err();
    assert_eq!(
        err,
        LogoutError::WrongDestination {
            expected: CHSIM_SIGNOFF.into(),
            found: String::new()
        }
    );
}

#[test]
fn refuses_a_soap_logout_request_that_names_another_destination() {
    let mut r = request();
    r.destination = "https://elsewhere.example/soap".into();
    let err =
        verify_request(arriving(r.encode(Binding::Soap, None, &sender()).unwrap())).unwrap_err();
    assert!(matches!(err, LogoutError::WrongDestination { .. }), "{err}");
}

// Steps 5 and 6: time.

#[test]
fn refuses_a_logout_request_issued_longer_ago_than_the_clock_skew() {
    let mut r = request();
    r.issue_instant = now() - Duration::seconds(181);
    r.not_on_or_after = None;
    let err = verify_request(arriving(
        r.encode(Binding::Redirect, None, &sender()).unwrap(),
    ))
    .unwrap_err();
    assert_eq!(
        err,
        LogoutError::StaleIssueInstant {
            issue_instant: now() - Duration::seconds(181),
            now: now(),
            skew_seconds: 180
        }
    );
}

#[test]
fn refuses_a_logout_response_issued_further_in_the_future_than_the_clock_skew() {
    let mut r = response();
    r.issue_instant = now() + Duration::seconds(181);
    let err =
        verify_response(arriving(r.encode(Binding::Post, None, &sender()).unwrap())).unwrap_err();
    assert!(
        matches!(err, LogoutError::StaleIssueInstant { .. }),
        "{err}"
    );
}

#[test]
fn refuses_a_logout_request_whose_not_on_or_after_has_passed() {
    let mut r = request();
    r.issue_instant = now() - Duration::seconds(100);
    r.not_on_or_after = Some(now() - Duration::seconds(181));
    let err =
        verify_request(arriving(r.encode(Binding::Post, None, &sender()).unwrap())).unwrap_err();
    assert_eq!(
        err,
        LogoutError::Expired {
            not_on_or_after: now() - Duration::seconds(181),
            now: now(),
            skew_seconds: 180
        }
    );
}

// Reading: what a logout message must hold, refused before verification.

fn posted(xml: &str) -> Incoming {
    Incoming::Post {
        message: encode_post(xml),
        relay_state: None,
    }
}

const HEAD: &str = r#"xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_x" Version="2.0" IssueInstant="2026-11-22T10:00:00Z""#;

#[test]
fn refuses_a_logout_request_without_an_issuer() {
    let xml = format!(
        r#"<samlp:LogoutRequest {HEAD}><saml:NameID>n</saml:NameID></samlp:LogoutRequest>"#
    );
    assert_eq!(
        receive_request(posted(&xml), MAX).unwrap_err(),
        LogoutError::MissingIssuer {
            element: "LogoutRequest"
        }
    );
}

#[test]
fn refuses_a_logout_request_without_a_name_id() {
    let xml = format!(
        r#"<samlp:LogoutRequest {HEAD}><saml:Issuer>i</saml:Issuer><samlp:SessionIndex>s</samlp:SessionIndex></samlp:LogoutRequest>"#
    );
    assert_eq!(
        receive_request(posted(&xml), MAX).unwrap_err(),
        LogoutError::MissingNameId { found: None }
    );
}

#[test]
fn refuses_a_logout_request_with_an_encrypted_id_naming_what_it_found() {
    let xml = format!(
        r#"<samlp:LogoutRequest {HEAD}><saml:Issuer>i</saml:Issuer><saml:EncryptedID/></samlp:LogoutRequest>"#
    );
    assert_eq!(
        receive_request(posted(&xml), MAX).unwrap_err(),
        LogoutError::MissingNameId {
            found: Some("EncryptedID".into())
        }
    );
}

#[test]
fn refuses_a_logout_response_without_in_response_to() {
    let xml = format!(
        r#"<samlp:LogoutResponse {HEAD}><saml:Issuer>i</saml:Issuer><samlp:Status><samlp:StatusCode Value="{}"/></samlp:Status></samlp:LogoutResponse>"#,
        status::SUCCESS
    );
    assert_eq!(
        receive_response(posted(&xml), MAX).unwrap_err(),
        LogoutError::MissingInResponseTo
    );
}

#[test]
fn refuses_a_logout_response_without_a_status_code() {
    let xml = format!(
        r#"<samlp:LogoutResponse {HEAD} InResponseTo="_r"><saml:Issuer>i</saml:Issuer><samlp:Status/></samlp:LogoutResponse>"#
    );
    assert_eq!(
        receive_response(posted(&xml), MAX).unwrap_err(),
        LogoutError::MissingStatus
    );
}

#[test]
fn refuses_a_logout_response_where_a_logout_request_belongs() {
    let out = response().encode(Binding::Post, None, &sender()).unwrap();
    let Outgoing::Post(form) = out else {
        unreachable!()
    };
    let err = receive_request(
        Incoming::Post {
            message: form.value,
            relay_state: None,
        },
        MAX,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            LogoutError::Unreadable(SamlError::Malformed {
                expected: "LogoutRequest",
                ..
            })
        ),
        "{err}"
    );
}

#[test]
fn refuses_a_logout_request_that_is_not_saml_version_2_0() {
    let xml = request()
        .to_xml(None)
        .unwrap()
        .replace(r#"Version="2.0""#, r#"Version="1.1""#);
    assert!(matches!(
        receive_request(posted(&xml), MAX).unwrap_err(),
        LogoutError::Unreadable(SamlError::Malformed { reason, .. }) if reason.contains("Version")
    ));
}

#[test]
fn refuses_a_relay_state_longer_than_80_bytes() {
    let out = request()
        .encode(Binding::Redirect, Some(&"r".repeat(81)), &sender())
        .unwrap();
    assert_eq!(
        receive_request(arriving(out), MAX).unwrap_err(),
        LogoutError::RelayStateTooLong { length: 81 }
    );
}

#[test]
fn reports_a_soap_fault_instead_of_a_logout_response() {
    let err = receive_response(
        Incoming::Soap {
            envelope: soap_fault("s:Server", "session store down"),
        },
        MAX,
    )
    .unwrap_err();
    assert_eq!(
        err,
        LogoutError::SoapFault {
            code: "s:Server".into(),
            message: "session store down".into()
        }
    );
}

// Issue #8's bounds apply to every binding.

#[test]
fn refuses_a_logout_request_carrying_a_dtd() {
    let xml = format!(
        "<!DOCTYPE x [<!ENTITY e \"boom\">]>{}",
        request().to_xml(None).unwrap()
    );
    assert_eq!(
        receive_request(posted(&xml), MAX).unwrap_err(),
        LogoutError::Unreadable(SamlError::XmlLimit(LimitError::Dtd))
    );
}

#[test]
fn refuses_a_soap_logout_request_nested_deeper_than_the_message_limit() {
    let deep = "<x>".repeat(40) + &"</x>".repeat(40);
    let xml = request().to_xml(None).unwrap().replace(
        "<saml:NameID",
        &format!("<samlp:Extensions>{deep}</samlp:Extensions><saml:NameID"),
    );
    let err = receive_request(
        Incoming::Soap {
            envelope: soap_envelope(&xml),
        },
        MAX,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            LogoutError::Unreadable(SamlError::XmlLimit(LimitError::TooDeep { .. }))
        ),
        "{err}"
    );
}

#[test]
fn refuses_a_deflate_bomb_over_http_redirect_without_inflating_it() {
    let mut r = request();
    r.reason = Some("x".repeat(300_000));
    let out = r.encode(Binding::Redirect, None, &sender()).unwrap();
    assert_eq!(
        receive_request(arriving(out), 100_000).unwrap_err(),
        LogoutError::Unreadable(SamlError::TooLarge { limit: 100_000 })
    );
}

#[test]
fn refuses_a_soap_envelope_larger_than_the_bound() {
    let out = request().encode(Binding::Soap, None, &sender()).unwrap();
    assert_eq!(
        receive_request(arriving(out), 1000).unwrap_err(),
        LogoutError::Unreadable(SamlError::TooLarge { limit: 1000 })
    );
}

#[test]
fn binding_uris_are_read_back() {
    for b in [Binding::Redirect, Binding::Post, Binding::Soap] {
        assert_eq!(Binding::from_uri(b.uri()), Some(b));
    }
    assert_eq!(Binding::from_uri("urn:x"), None);
}
