//! One test per validation rule of issue #2 §4: chsim refuses an IdP's Response that breaks the
//! rule, with that rule's specific error. Each test starts a real login over loopback HTTP (so the
//! pending request exists), then hands chsim's ACS logic a Response crafted with the test IdP's
//! real key (or a deliberately wrong one).
#![allow(clippy::unwrap_used, clippy::result_large_err)] // test code: a failed unwrap is a failed test

mod common;

use chrono::Duration;
use chsim::broker::{BrokerError, Failure};
use chsim::saml::binding;
use chsim::saml::encryption::EncryptionSuite;
use chsim::saml::response::{self, NewAssertion, SignedElement, Status};
use chsim::saml::validate::ValidationError;
use chsim::saml::{signing, status, Credential, SamlError};
use common::idp::*;
use common::*;

impl Setup {
    async fn consume_xml(&self, xml: &str) -> Result<chsim::broker::Delivery, Failure> {
        match self
            .chsim
            .state
            .broker
            .consume(&binding::encode_post(xml), None)
            .await?
        {
            chsim::broker::Consumed::Deliver(d) => Ok(d),
            chsim::broker::Consumed::StepUp(url) => panic!("unexpected step-up to {url}"),
        }
    }
}

fn invalid(result: Result<chsim::broker::Delivery, Failure>) -> (ValidationError, Failure) {
    match result {
        Err(f) => match &f.error {
            BrokerError::Invalid { error, .. } => (error.clone(), f),
            other => panic!("expected a validation error, got {other:?}"),
        },
        Ok(_) => panic!("expected a refusal, the response was accepted"),
    }
}

/// A real key that is not the IdP's: a demo user system's.
fn other_key() -> Credential {
    key("demo-sp-oiosaml2")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepts_a_correct_response_signed_on_the_assertion_or_on_the_response() {
    let s = setup().await;
    for what in [SignedElement::Assertion, SignedElement::Response] {
        let req = s.pending("bakkeby").await;
        let (r, a) = s.parts("bakkeby", &req);
        let delivery = s
            .consume_xml(&s.signed("bakkeby", &r, &a, what))
            .await
            .unwrap();
        assert!(delivery.url.ends_with("/demo-sp/oiosaml2/acs"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule1_refuses_a_response_where_nothing_is_signed() {
    let s = setup().await;
    let req = s.pending("bakkeby").await;
    let (r, a) = s.parts("bakkeby", &req);
    let idp = s.idp("bakkeby");
    let unsigned = response::build_unsigned(&r, &a, idp.credential(), SignedElement::Assertion)
        .replace(
            &signing::template(&a.id, &idp.credential().cert_base64()).to_xml(),
            "",
        );
    let (error, failure) = invalid(s.consume_xml(&unsigned).await);
    assert_eq!(error, ValidationError::Unsigned);
    // Anyone can send an unsigned Response: it does not end the login (issue #8 §5), so the user
    // system is not told, and the IdP's real answer still gets through.
    assert!(failure.to_user_system.is_none());
    s.consume_xml(&s.signed("bakkeby", &r, &a, SignedElement::Assertion))
        .await
        .expect("the genuine answer is accepted after the forged one");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule1_refuses_a_signature_by_a_key_not_in_the_idps_metadata() {
    let s = setup().await;
    let req = s.pending("bakkeby").await;
    let (r, a) = s.parts("bakkeby", &req);
    let forged =
        response::build(&r, Some(&a), &other_key(), SignedElement::Assertion, None).unwrap();
    let (error, _) = invalid(s.consume_xml(&forged).await);
    assert!(
        matches!(
            error,
            ValidationError::Signature(SamlError::BadSignature { .. })
        ),
        "{error:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule1_refuses_a_response_whose_signed_content_was_changed() {
    let s = setup().await;
    let req = s.pending("bakkeby").await;
    let (r, a) = s.parts("bakkeby", &req);
    let tampered = s
        .signed("bakkeby", &r, &a, SignedElement::Assertion)
        .replace("Bent Bakkeby", "Eve Attacker");
    let (error, _) = invalid(s.consume_xml(&tampered).await);
    assert!(
        matches!(
            error,
            ValidationError::Signature(SamlError::BadSignature { .. })
        ),
        "{error:?}"
    );
}

fn sha1_signed(s: &Setup, req: &str) -> String {
    let (r, a) = s.parts("bakkeby", req);
    let idp = s.idp("bakkeby");
    let unsigned = response::build_unsigned(&r, &a, idp.credential(), SignedElement::Assertion)
        .replace(signing::RSA_SHA256, signing::RSA_SHA1)
        .replace(
            "http://www.w3.org/2001/04/xmlenc#sha256",
            "http://www.w3.org/2000/09/xmldsig#sha1",
        );
    signing::sign(&unsigned, idp.credential()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule2_refuses_rsa_sha1_signatures_by_default() {
    let s = setup().await;
    let req = s.pending("bakkeby").await;
    let (error, _) = invalid(s.consume_xml(&sha1_signed(&s, &req)).await);
    assert_eq!(
        error,
        ValidationError::Signature(SamlError::WeakSignatureAlgorithm {
            found: signing::RSA_SHA1.to_string()
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule2_accepts_rsa_sha1_only_with_insecure_allow_sha1() {
    let mut config = demo_config();
    config.chsim.broker.insecure_allow_sha1 = true;
    let s = setup_with(config).await;
    let req = s.pending("bakkeby").await;
    s.consume_xml(&sha1_signed(&s, &req)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule3_refuses_an_assertion_issued_by_another_idp() {
    let s = setup().await;
    let req = s.pending("bakkeby").await;
    let (r, mut a) = s.parts("bakkeby", &req);
    a.issuer = s.idp("korsbaek").entity_id().to_string();
    let (error, _) = invalid(
        s.consume_xml(&s.signed("bakkeby", &r, &a, SignedElement::Assertion))
            .await,
    );
    assert!(
        matches!(error, ValidationError::IssuerMismatch { ref found, .. } if found.ends_with("/test-idp/korsbaek")),
        "{error:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule3_refuses_a_response_from_an_idp_other_than_the_one_asked() {
    // The request went to Bakkeby; Korsbæk answers it with its own (valid) key.
    let s = setup().await;
    let req = s.pending("bakkeby").await;
    let (mut r, mut a) = s.parts("bakkeby", &req);
    let korsbaek = s.idp("korsbaek");
    a.issuer = korsbaek.entity_id().to_string();
    r.issuer = korsbaek.entity_id().to_string();
    let xml = response::build(
        &r,
        Some(&a),
        korsbaek.credential(),
        SignedElement::Assertion,
        None,
    )
    .unwrap();
    let (error, failure) = invalid(s.consume_xml(&xml).await);
    // Only Bakkeby's certificates count for the signature, which is checked before anything the
    // Response says; the login stays pending.
    assert!(matches!(error, ValidationError::Signature(_)), "{error:?}");
    assert!(failure.to_user_system.is_none());
    // Signed with Bakkeby's key but naming Korsbæk: the verified Issuer is wrong.
    let xml = s.signed("bakkeby", &r, &a, SignedElement::Assertion);
    let (error, _) = invalid(s.consume_xml(&xml).await);
    assert!(
        matches!(error, ValidationError::IssuerMismatch { ref expected, ref found }
        if expected.ends_with("/test-idp/bakkeby") && found.ends_with("/test-idp/korsbaek")),
        "{error:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule4_refuses_a_wrong_destination() {
    let s = setup().await;
    let req = s.pending("bakkeby").await;
    let (mut r, a) = s.parts("bakkeby", &req);
    r.destination = "https://elsewhere.example/acs".into();
    let (error, _) = invalid(
        s.consume_xml(&s.signed("bakkeby", &r, &a, SignedElement::Response))
            .await,
    );
    assert!(
        matches!(error, ValidationError::DestinationMismatch { ref found, .. } if found == "https://elsewhere.example/acs"),
        "{error:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule4_refuses_a_wrong_subject_confirmation_recipient() {
    let s = setup().await;
    let req = s.pending("bakkeby").await;
    let (r, mut a) = s.parts("bakkeby", &req);
    a.recipient = "https://elsewhere.example/acs".into();
    let (error, _) = invalid(
        s.consume_xml(&s.signed("bakkeby", &r, &a, SignedElement::Assertion))
            .await,
    );
    assert!(
        matches!(error, ValidationError::RecipientMismatch { ref found, .. } if found == "https://elsewhere.example/acs"),
        "{error:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule5_refuses_an_unsolicited_response() {
    let s = setup().await;
    let (mut r, mut a) = s.parts("bakkeby", "_never_sent");
    r.in_response_to = None;
    a.in_response_to = None;
    let result = s
        .consume_xml(&s.signed("bakkeby", &r, &a, SignedElement::Assertion))
        .await;
    assert!(
        matches!(
            result,
            Err(Failure {
                error: BrokerError::Unsolicited { .. },
                to_user_system: None
            })
        ),
        "{result:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule5_refuses_a_second_answer_to_the_same_request() {
    let s = setup().await;
    let req = s.pending("bakkeby").await;
    let (r, a) = s.parts("bakkeby", &req);
    s.consume_xml(&s.signed("bakkeby", &r, &a, SignedElement::Assertion))
        .await
        .unwrap();
    let (r2, a2) = s.parts("bakkeby", &req);
    let result = s
        .consume_xml(&s.signed("bakkeby", &r2, &a2, SignedElement::Assertion))
        .await;
    assert!(
        matches!(result, Err(Failure { error: BrokerError::AlreadyAnswered { ref in_response_to }, .. }) if *in_response_to == req),
        "{result:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule5_refuses_a_subject_confirmation_for_another_request() {
    let s = setup().await;
    let req = s.pending("bakkeby").await;
    let (r, mut a) = s.parts("bakkeby", &req);
    a.in_response_to = Some("_other_request".into());
    // Signed on the Response: the verified envelope answers this request, so the mismatch in
    // the assertion is the IdP's own, named as such.
    let (error, _) = invalid(
        s.consume_xml(&s.signed("bakkeby", &r, &a, SignedElement::Response))
            .await,
    );
    assert!(
        matches!(error, ValidationError::InResponseToMismatch { ref found, .. } if found == "_other_request"),
        "{error:?}"
    );
    // Signed only on the Assertion: an assertion made for another request, in an unsigned
    // envelope naming this one, proves nothing about this login (anyone holding a genuine
    // assertion could wrap it so), and leaves it pending.
    let req = s.pending("bakkeby").await;
    let (r, mut a) = s.parts("bakkeby", &req);
    a.in_response_to = Some("_other_request".into());
    let (error, failure) = invalid(
        s.consume_xml(&s.signed("bakkeby", &r, &a, SignedElement::Assertion))
            .await,
    );
    assert!(
        matches!(error, ValidationError::SignedContentMismatch { ref reason } if reason.contains("does not answer the request")),
        "{error:?}"
    );
    assert!(!error.proves_sender());
    assert!(failure.to_user_system.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule6_refuses_an_assertion_for_another_audience() {
    let s = setup().await;
    let req = s.pending("bakkeby").await;
    let (r, mut a) = s.parts("bakkeby", &req);
    a.audience = "https://some-other-sp.example".into();
    let (error, _) = invalid(
        s.consume_xml(&s.signed("bakkeby", &r, &a, SignedElement::Assertion))
            .await,
    );
    assert_eq!(
        error,
        ValidationError::AudienceMismatch {
            expected: format!("{}/runtime", s.chsim.base),
            found: vec!["https://some-other-sp.example".into()],
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule7_refuses_an_expired_assertion_beyond_the_clock_skew() {
    let s = setup().await;
    let req = s.pending("bakkeby").await;
    let (r, a) = s.parts("bakkeby", &req);
    let xml = s.signed("bakkeby", &r, &a, SignedElement::Assertion);
    // Valid for 5 minutes; 5 min + 60 s skew later it is refused.
    s.clock
        .advance(Duration::minutes(5) + Duration::seconds(60));
    let (error, _) = invalid(s.consume_xml(&xml).await);
    assert!(
        matches!(
            error,
            ValidationError::Expired {
                skew_seconds: 60,
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule7_accepts_an_assertion_that_expired_within_the_clock_skew() {
    let s = setup().await;
    let req = s.pending("bakkeby").await;
    let (r, a) = s.parts("bakkeby", &req);
    let xml = s.signed("bakkeby", &r, &a, SignedElement::Assertion);
    s.clock
        .advance(Duration::minutes(5) + Duration::seconds(59));
    s.consume_xml(&xml).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule7_refuses_an_assertion_not_yet_valid_beyond_the_clock_skew() {
    let s = setup().await;
    let req = s.pending("bakkeby").await;
    let (r, mut a) = s.parts("bakkeby", &req);
    a.not_before = a.issue_instant + Duration::seconds(61);
    let (error, _) = invalid(
        s.consume_xml(&s.signed("bakkeby", &r, &a, SignedElement::Assertion))
            .await,
    );
    assert!(
        matches!(
            error,
            ValidationError::NotYetValid {
                element: "Conditions",
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule7_honours_a_configured_clock_skew() {
    let mut config = demo_config();
    config.chsim.broker.clock_skew_seconds = 300;
    let s = setup_with(config).await;
    let req = s.pending("bakkeby").await;
    let (r, mut a) = s.parts("bakkeby", &req);
    a.not_before = a.issue_instant + Duration::seconds(200);
    s.consume_xml(&s.signed("bakkeby", &r, &a, SignedElement::Assertion))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule8_refuses_an_assertion_id_seen_before() {
    let s = setup().await;
    let req1 = s.pending("bakkeby").await;
    let (r, a) = s.parts("bakkeby", &req1);
    s.consume_xml(&s.signed("bakkeby", &r, &a, SignedElement::Assertion))
        .await
        .unwrap();
    // A new login, answered with an assertion that reuses the first one's ID.
    let req2 = s.pending("bakkeby").await;
    let (r2, mut a2) = s.parts("bakkeby", &req2);
    a2.id = a.id.clone();
    let result = s
        .consume_xml(&s.signed("bakkeby", &r2, &a2, SignedElement::Assertion))
        .await;
    assert!(
        matches!(result, Err(Failure { error: BrokerError::Replay { ref assertion_id }, .. }) if *assertion_id == a.id),
        "{result:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_a_name_id_that_is_not_x509_subject_name() {
    let s = setup().await;
    let req = s.pending("bakkeby").await;
    let (r, mut a) = s.parts("bakkeby", &req);
    a.name_id_format = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent".into();
    let result = s
        .consume_xml(&s.signed("bakkeby", &r, &a, SignedElement::Assertion))
        .await;
    match result {
        Err(Failure {
            error: BrokerError::NameIdFormat { ref found, .. },
            ref to_user_system,
        }) => {
            assert_eq!(
                found.as_deref(),
                Some("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent")
            );
            assert!(to_user_system.is_some(), "the user system is told");
        }
        other => panic!("expected NameIdFormat, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule9_passes_a_non_success_status_to_the_person_and_the_user_system() {
    let s = setup().await;
    let req = s.pending("bakkeby").await;
    let (mut r, _) = s.parts("bakkeby", &req);
    r.status = Status {
        code: status::RESPONDER.into(),
        sub_code: Some(status::AUTHN_FAILED.into()),
        message: Some("wrong password".into()),
    };
    let xml = response::build(
        &r,
        None,
        s.idp("bakkeby").credential(),
        SignedElement::Response,
        None,
    )
    .unwrap();
    let (error, failure) = invalid(s.consume_xml(&xml).await);
    assert_eq!(
        error,
        ValidationError::IdpStatus {
            status: r.status.clone()
        }
    );
    // Issue #8 §5: the standard codes are passed on, with chsim's own message.
    let passed_on = failure.error.saml_status();
    assert_eq!(
        (&passed_on.code, &passed_on.sub_code),
        (&r.status.code, &r.status.sub_code)
    );
    assert!(
        passed_on
            .message
            .as_deref()
            .is_some_and(|m| m.contains("did not authenticate the person")),
        "{passed_on:?}"
    );
    let to_sp = failure.to_user_system.expect("the user system is told");
    let sp_xml = String::from_utf8(
        base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            &to_sp.saml.as_ref().unwrap().saml_response,
        )
        .unwrap(),
    )
    .unwrap();
    assert!(
        sp_xml.contains(status::AUTHN_FAILED) && !sp_xml.contains("wrong password"),
        "{sp_xml}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule9_cancel_at_the_test_idp_shows_a_page_and_tells_the_user_system() {
    let s = setup().await;
    let idp = s.idp("bakkeby");
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("idp", idp.entity_id());
    let page = s
        .browser
        .get(&format!(
            "{}/demo-sp/oiosaml2/login?{}",
            s.chsim.base,
            q.finish()
        ))
        .await;
    let (action, fields) = forms(&page.body)
        .into_iter()
        .find(|(_, f)| f.iter().any(|(k, _)| k == "cancel"))
        .unwrap();
    let url = reqwest::Url::parse(&page.url)
        .unwrap()
        .join(&action)
        .unwrap();
    let resp = s
        .browser
        .client
        .post(url)
        .form(&fields)
        .send()
        .await
        .unwrap();
    let out = s.browser.follow(resp, vec![]).await;
    assert_eq!(out.status, 403, "{}", out.body);
    assert!(
        out.body.contains("AuthnFailed") && out.body.contains("cancelled"),
        "{}",
        out.body
    );
    // The page offers to return to the user system with the failure Response.
    let (action, fields) = forms(&out.body).into_iter().next().unwrap();
    assert!(action.ends_with("/demo-sp/oiosaml2/acs"));
    let resp = s
        .browser
        .client
        .post(&action)
        .form(&fields)
        .send()
        .await
        .unwrap();
    let sp_page = resp.text().await.unwrap();
    assert!(
        sp_page.contains("chsim answered urn:oasis:names:tc:SAML:2.0:status:Responder"),
        "{sp_page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_a_response_with_two_assertions() {
    let s = setup().await;
    let req = s.pending("bakkeby").await;
    let (r, a) = s.parts("bakkeby", &req);
    let xml = s.signed("bakkeby", &r, &a, SignedElement::Assertion);
    // Signature wrapping: an extra, unsigned assertion beside the signed one.
    let extra = NewAssertion {
        id: "_evil".into(),
        name_id: "C=DK,O=22222222,CN=Eve,Serial=x".into(),
        ..a.clone()
    };
    let unsigned_extra = response::build_unsigned(
        &r,
        &extra,
        s.idp("bakkeby").credential(),
        SignedElement::Response,
    );
    let start = unsigned_extra.find("<saml:Assertion").unwrap();
    let end = unsigned_extra.find("</saml:Assertion>").unwrap() + "</saml:Assertion>".len();
    let wrapped = xml.replacen(
        "</samlp:Response>",
        &format!("{}</samlp:Response>", &unsigned_extra[start..end]),
        1,
    );
    let (error, _) = invalid(s.consume_xml(&wrapped).await);
    assert_eq!(error, ValidationError::AssertionCount { found: 2 });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_a_response_with_a_dtd() {
    let s = setup().await;
    let req = s.pending("bakkeby").await;
    let (r, a) = s.parts("bakkeby", &req);
    let xml = s.signed("bakkeby", &r, &a, SignedElement::Assertion);
    let with_dtd = format!(
        "<!DOCTYPE r [<!ENTITY x \"y\">]>{}",
        response::strip_declaration(&xml)
    );
    let result = s.consume_xml(&with_dtd).await;
    assert!(
        matches!(
            result,
            Err(Failure {
                error: BrokerError::BadIdpResponse(SamlError::XmlLimit(
                    chsim::xml_limits::LimitError::Dtd
                )),
                ..
            })
        ),
        "{result:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_garbage_with_a_clear_error_and_no_panic() {
    let s = setup().await;
    for input in ["", "not base64!!", "PHh4", "PD94bWwgdmVyc2lvbj0iMS4wIj8+"] {
        let result = s.chsim.state.broker.consume(input, None).await;
        assert!(
            matches!(
                result,
                Err(Failure {
                    error: BrokerError::BadIdpResponse(_) | BrokerError::Unsolicited { .. },
                    ..
                })
            ),
            "{input}: {result:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survives_hundreds_of_mutated_responses_without_panicking() {
    use chsim::saml::validate::{validate_response, Expectations};
    let s = setup().await;
    let req = s.pending("bakkeby").await;
    let (r, a) = s.parts("bakkeby", &req);
    let valid = s.signed("bakkeby", &r, &a, SignedElement::Assertion);
    let idp = s.idp("bakkeby");
    let certs = vec![idp.credential().trusted_cert()];
    let broker = s.chsim.state.broker.settings();
    let expect = Expectations {
        issuer: idp.entity_id(),
        trusted_certs: &certs,
        audience: broker.entity_id.as_str(),
        acs_url: &broker.acs_url,
        in_response_to: &req,
        now: chsim::clock::Clock::now(s.clock.as_ref()),
        clock_skew: Duration::seconds(60),
        algorithms: Default::default(),
        decryption_key: Some(broker.credential.key()),
        queried_subject: None,
    };
    let original = validate_response(&valid, &expect).unwrap();
    // A deterministic xorshift generator: the same mutations on every run.
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move |bound: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % bound as u64) as usize
    };
    let bytes = valid.as_bytes();
    let mut refused = 0;
    let mut accepted_changes: Vec<String> = Vec::new();
    for round in 0..400 {
        let mut m = bytes.to_vec();
        let at = next(m.len());
        match round % 4 {
            0 => {
                let len = next(40).min(m.len() - at);
                m.drain(at..at + len);
            }
            1 => m.insert(at, b"<>&\"'=/ x"[next(9)]),
            2 => m[at] = m[at].wrapping_add(1 + next(200) as u8),
            _ => {
                let len = next(200).min(m.len() - at);
                let copy = m[at..at + len].to_vec();
                let to = next(m.len());
                m.splice(to..to, copy);
            }
        }
        let text = String::from_utf8_lossy(&m);
        match validate_response(&text, &expect) {
            Err(_) => refused += 1,
            // A mutant may only pass when it touched nothing signed (the unsigned envelope,
            // whitespace, the informational KeyInfo): what was verified must be unchanged.
            Ok(v) => {
                let facts = (
                    &v.id,
                    &v.name_id,
                    &v.attributes,
                    v.not_on_or_after,
                    &v.issuer,
                );
                let expected = (
                    &original.id,
                    &original.name_id,
                    &original.attributes,
                    original.not_on_or_after,
                    &original.issuer,
                );
                if facts != expected {
                    accepted_changes.push(text.to_string());
                }
            }
        }
    }
    // None may panic, no accepted mutant may change the verified facts, and most are refused.
    assert!(
        accepted_changes.is_empty(),
        "accepted changed content: {accepted_changes:#?}"
    );
    assert!(
        refused > 250,
        "only {refused} of 400 mutations were refused"
    );
}

fn encrypted(s: &Setup, req: &str, suite: EncryptionSuite, to: &openssl::x509::X509) -> String {
    let (r, a) = s.parts("bakkeby", req);
    let enc = response::EncryptFor { cert: to, suite };
    response::build(
        &r,
        Some(&a),
        s.idp("bakkeby").credential(),
        SignedElement::Assertion,
        Some(enc),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule10_decrypts_aes256_gcm_with_rsa_oaep_sha256() {
    let s = setup().await;
    let req = s.pending("bakkeby").await;
    let chsim_cert = s.chsim.state.broker.settings().decryption.cert().clone();
    let xml = encrypted(
        &s,
        &req,
        EncryptionSuite::Aes256GcmRsaOaepSha256,
        &chsim_cert,
    );
    assert!(xml.contains("http://www.w3.org/2009/xmlenc11#aes256-gcm"));
    s.consume_xml(&xml).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule10_decrypts_aes256_cbc_with_rsa_oaep_mgf1p() {
    let s = setup().await;
    let req = s.pending("bakkeby").await;
    let chsim_cert = s.chsim.state.broker.settings().decryption.cert().clone();
    let xml = encrypted(
        &s,
        &req,
        EncryptionSuite::Aes256CbcRsaOaepMgf1p,
        &chsim_cert,
    );
    assert!(xml.contains("http://www.w3.org/2001/04/xmlenc#aes256-cbc"));
    s.consume_xml(&xml).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule10_refuses_an_assertion_encrypted_for_someone_else() {
    let s = setup().await;
    let req = s.pending("bakkeby").await;
    let xml = encrypted(
        &s,
        &req,
        EncryptionSuite::Aes256GcmRsaOaepSha256,
        other_key().cert(),
    );
    let (error, _) = invalid(s.consume_xml(&xml).await);
    assert!(matches!(error, ValidationError::Decryption), "{error:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule10_refuses_an_encrypted_assertion_that_is_not_signed() {
    let s = setup().await;
    let req = s.pending("bakkeby").await;
    let (r, a) = s.parts("bakkeby", &req);
    let chsim_cert = s.chsim.state.broker.settings().decryption.cert().clone();
    // Unsigned assertion, encrypted, in an unsigned Response: encryption is not a signature.
    let idp = s.idp("bakkeby");
    let plain = response::build_unsigned(&r, &a, idp.credential(), SignedElement::Assertion)
        .replace(
            &signing::template(&a.id, &idp.credential().cert_base64()).to_xml(),
            "",
        );
    let doc = chsim::saml::xml::parse(&plain).unwrap();
    let node = doc
        .descendants()
        .find(|n| n.tag_name().name() == "Assertion")
        .unwrap();
    let assertion_xml = chsim::saml::xml::standalone_subtree(&node, &plain).unwrap();
    let enc = chsim::saml::encryption::encrypt_assertion(
        &assertion_xml,
        &chsim_cert,
        EncryptionSuite::Aes256GcmRsaOaepSha256,
    )
    .unwrap();
    let start = plain.find("<saml:Assertion").unwrap();
    let xml = format!("{}{}</samlp:Response>", &plain[..start], enc);
    let (error, _) = invalid(s.consume_xml(&xml).await);
    // Issue #8 §3: what an encrypted assertion decrypts to is judged only as "decrypted to an
    // assertion signed by the IdP, or not": telling "not signed" apart would be an oracle.
    assert_eq!(error, ValidationError::Decryption);
}
