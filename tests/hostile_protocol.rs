//! Issue #8 §6 and §7 from outside: each test sends the message of the item over real HTTP on
//! loopback to the real router (demo config, fixed clock, the demo user systems' and test IdPs'
//! real keys) and asserts the specific refusal — the page text and HTTP status, or the signed SAML
//! status the user system receives — and that the process still answers afterwards.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use chsim::broker::BrokerError;
use chsim::saml::authn_request::{self, NewAuthnRequest};
use chsim::saml::binding::{self, MessageKind};
use chsim::saml::response::{self, SignedElement};
use chsim::saml::validate::ValidationError;
use chsim::saml::{signing, status, xml, Credential, SamlError};
use common::idp::*;
use common::*;
use openssl::hash::MessageDigest;
use std::io::Write as _;

const ISSUE: &str = "/runtime/saml2/issue.idp";
const CONSUME: &str = "/runtime/saml2auth/consume.idp";
const CHOOSER: &str = "Choose your organisation's identity provider";
const RSA_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
const RSA_SHA384: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384";
const RSA_SHA512: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512";

/// A demo user system's real key (`keys/demo-sp-<sp>.*.pem`).
fn sp_key(sp: &str) -> Credential {
    key(&format!("demo-sp-{sp}"))
}

impl Setup {
    /// A fresh AuthnRequest from demo user system `sp`, issued `issued` by chsim's clock.
    fn request(&self, sp: &str, issued: DateTime<Utc>) -> NewAuthnRequest {
        authn_request_from(&self.chsim, &self.url(&format!("/demo-sp/{sp}")), issued)
    }

    /// The HTTP-Redirect URL for `req`, signed by `sp`'s key with `sig_alg` over
    /// `SAMLRequest=…[&RelayState=…]&SigAlg=…` (saml-bindings §3.4.4.1), built here with openssl.
    fn redirect_url(
        &self,
        req: &NewAuthnRequest,
        sp: &str,
        relay_state: Option<&str>,
        (sig_alg, digest): (&str, MessageDigest),
    ) -> String {
        let unsigned = binding::encode_redirect(
            "http://x/",
            MessageKind::Request,
            &req.to_xml(None).unwrap(),
            relay_state,
            None,
        )
        .unwrap();
        let mut octets = unsigned.query().unwrap().to_string();
        octets.push_str("&SigAlg=");
        octets.push_str(
            &url::form_urlencoded::byte_serialize(sig_alg.as_bytes()).collect::<String>(),
        );
        let key = sp_key(sp);
        let mut signer = openssl::sign::Signer::new(digest, key.key()).unwrap();
        signer.update(octets.as_bytes()).unwrap();
        let signature =
            base64::engine::general_purpose::STANDARD.encode(signer.sign_to_vec().unwrap());
        let signature: String =
            url::form_urlencoded::byte_serialize(signature.as_bytes()).collect();
        self.url(&format!("{ISSUE}?{octets}&Signature={signature}"))
    }

    /// GETs the Redirect URL of `req` signed rsa-sha256 by `sp`.
    async fn send_redirect(&self, req: &NewAuthnRequest, sp: &str, rs: Option<&str>) -> Outcome {
        let url = self.redirect_url(req, sp, rs, (RSA_SHA256, MessageDigest::sha256()));
        self.browser.get(&url).await
    }

    /// POSTs `req`, its XML signed by `sp`'s key, to issue.idp.
    async fn send_post(&self, req: &NewAuthnRequest, sp: &str, rs: Option<&str>) -> Outcome {
        let xml = req.to_xml(Some(&sp_key(sp))).unwrap();
        let mut form = vec![("SAMLRequest".to_string(), binding::encode_post(&xml))];
        if let Some(rs) = rs {
            form.push(("RelayState".to_string(), rs.to_string()));
        }
        self.browser.post(&self.url(ISSUE), &form).await
    }

    /// Bakkeby's answer to `request_id` with `edit` applied to the text before it is signed with
    /// Bakkeby's real key (the assertion is the signed element).
    fn signed_after(&self, request_id: &str, edit: impl Fn(&str) -> String) -> String {
        let (r, a) = self.parts("bakkeby", request_id);
        let idp = self.bakkeby();
        let unsigned = response::build_unsigned(&r, &a, idp.credential(), SignedElement::Assertion);
        let edited = edit(&unsigned);
        assert_ne!(edited, unsigned, "the edit changed nothing");
        signing::sign(&edited, idp.credential()).unwrap()
    }
}

fn assert_chooser(out: &Outcome) {
    assert_eq!(out.status, 200, "{}", out.body);
    assert!(out.body.contains(CHOOSER), "{}", out.body);
}

/// The top-level and second-level StatusCode of a Response.
fn saml_status(xml_text: &str) -> (String, Option<String>) {
    let doc = xml::parse(xml_text).unwrap();
    let ns = "urn:oasis:names:tc:SAML:2.0:protocol";
    let top = doc
        .descendants()
        .find(|n| xml::is(n, ns, "StatusCode"))
        .unwrap();
    let sub =
        xml::child(&top, ns, "StatusCode").and_then(|s| s.attribute("Value").map(String::from));
    (top.attribute("Value").unwrap().to_string(), sub)
}

fn deflate(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

// ---------------------------------------------------------------------------------------------
// §6 — bounded memory under floods
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_state_over_80_bytes_is_refused_on_both_bindings_and_exactly_80_is_accepted() {
    let s = setup().await;
    let too_long = "r".repeat(81);
    let refused = BrokerError::RelayStateTooLong { length: 81 }.to_string();
    assert!(
        refused.starts_with("RelayState is 81 bytes; the SAML bindings allow at most 80 bytes"),
        "{refused}"
    );
    // HTTP-Redirect, the RelayState covered by the user system's query-string signature.
    let out = s
        .send_redirect(&s.request("oiosaml3", s.now()), "oiosaml3", Some(&too_long))
        .await;
    assert_page(&out, 400, &refused);
    // HTTP-POST.
    let out = s
        .send_post(&s.request("oiosaml2", s.now()), "oiosaml2", Some(&too_long))
        .await;
    assert_page(&out, 400, &refused);
    // Exactly 80 bytes (multi-byte characters count as bytes) is what the bindings allow.
    let eighty = format!("{}{}", "æ".repeat(20), "r".repeat(40));
    assert_eq!(eighty.len(), 80);
    let out = s
        .send_redirect(&s.request("oiosaml3", s.now()), "oiosaml3", Some(&eighty))
        .await;
    assert_chooser(&out);
    let out = s
        .send_post(&s.request("oiosaml3", s.now()), "oiosaml3", Some(&eighty))
        .await;
    assert_chooser(&out);
    s.assert_still_answers().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_signed_authn_request_sent_twice_is_refused_the_second_time_as_a_replay() {
    let s = setup().await;
    let req = s.request("oiosaml3", s.now());
    let url = s.redirect_url(
        &req,
        "oiosaml3",
        Some("rs"),
        (RSA_SHA256, MessageDigest::sha256()),
    );
    assert_chooser(&s.browser.get(&url).await);
    let out = s.browser.get(&url).await;
    let replay = BrokerError::AuthnRequestReplay {
        issuer: req.issuer.clone(),
        id: req.id.clone(),
    }
    .to_string();
    assert!(
        replay.contains(&format!(
            "the AuthnRequest `{}` from `{}` was already received once (replay)",
            req.id, req.issuer
        )),
        "{replay}"
    );
    assert_page(&out, 403, &replay);
    // The same ID over the other binding, signed anew, is the same replay.
    let out = s.send_post(&req, "oiosaml3", None).await;
    assert_page(&out, 403, &replay);
    s.assert_still_answers().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_authn_request_issued_outside_the_clock_skew_is_refused_and_one_within_it_is_accepted() {
    let s = setup().await;
    let now = s.now();
    for offset in [-61, 61, -3600] {
        let issued = now + Duration::seconds(offset);
        let stale = BrokerError::StaleAuthnRequest {
            issue_instant: issued,
            now,
            skew_seconds: 60,
        }
        .to_string();
        assert!(
            stale.starts_with(&format!(
                "the AuthnRequest was issued at {issued}, but chsim's clock says {now} and allows 60 s of difference"
            )),
            "{stale}"
        );
        let out = s
            .send_redirect(&s.request("oiosaml3", issued), "oiosaml3", None)
            .await;
        assert_page(&out, 400, &stale);
        let out = s
            .send_post(&s.request("oiosaml3", issued), "oiosaml3", None)
            .await;
        assert_page(&out, 400, &stale);
    }
    for offset in [-60, -59, 0, 59, 60] {
        let issued = now + Duration::seconds(offset);
        let out = s
            .send_redirect(&s.request("oiosaml3", issued), "oiosaml3", None)
            .await;
        assert_chooser(&out);
    }
    s.assert_still_answers().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_than_4_concurrent_scripted_logins_get_503_and_a_later_one_succeeds() {
    let s = setup().await;
    let busy = "4 scripted logins are already running; try again in a moment";
    let login_url = {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("user_system", &s.url("/demo-sp/oiosaml3"));
        q.append_pair("idp", &s.url("/test-idp/korsbaek"));
        q.append_pair("user", "karen");
        s.url(&format!("/runtime/scripted/login?{}", q.finish()))
    };
    let client = reqwest::Client::new();
    // Twelve at once; a few rounds so that a fast machine still has them overlap.
    let mut saw_busy = false;
    for _round in 0..5 {
        let calls: Vec<_> = (0..12)
            .map(|_| {
                let (client, url) = (client.clone(), login_url.clone());
                tokio::spawn(async move {
                    let resp = client.get(url).send().await.unwrap();
                    let status = resp.status().as_u16();
                    let json: serde_json::Value =
                        serde_json::from_str(&resp.text().await.unwrap()).unwrap();
                    (status, json)
                })
            })
            .collect();
        for call in calls {
            let (status, json) = call.await.unwrap();
            match status {
                200 | 403 => assert!(json["admitted"].is_boolean(), "{json}"),
                503 => {
                    assert_eq!(json, serde_json::json!({ "error": busy }));
                    saw_busy = true;
                }
                other => panic!("HTTP {other}: {json}"),
            }
        }
        if saw_busy {
            break;
        }
    }
    assert!(
        saw_busy,
        "twelve concurrent scripted logins never met the bound of 4"
    );
    // The slots are given back: a scripted login after the flood logs in.
    let resp = client.get(&login_url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let json: serde_json::Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    assert_eq!(json["admitted"], true, "{json}");
    s.assert_still_answers().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_forbids_framing_sniffing_and_referrers() {
    let s = setup().await;
    let client = &s.browser.client;
    let chooser = s.redirect_url(
        &s.request("oiosaml3", s.now()),
        "oiosaml3",
        None,
        (RSA_SHA256, MessageDigest::sha256()),
    );
    let test_idp_page = {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("idp", &s.url("/test-idp/korsbaek"));
        let out = s
            .browser
            .get(&s.url(&format!("/demo-sp/oiosaml3/login?{}", q.finish())))
            .await;
        assert!(out.url.contains("/test-idp/korsbaek/sso"), "{}", out.url);
        // The page the browser stopped at: the test IdP's login form, asked for once more.
        out.url
    };
    let pages = [
        ("start page", s.url("/"), 200),
        ("chooser", chooser, 200),
        ("error page", s.url(ISSUE), 400),
        ("metadata", s.url("/runtime/saml2/metadata.idp"), 200),
        ("test IdP page", test_idp_page, 200),
        ("404", s.url("/no/such/page"), 404),
    ];
    for (name, url, status) in pages {
        let resp = client.get(&url).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), status, "{name}: {url}");
        let h = resp.headers();
        for (header, value) in [
            ("x-frame-options", "DENY"),
            ("content-security-policy", "frame-ancestors 'none'"),
            ("x-content-type-options", "nosniff"),
            ("referrer-policy", "no-referrer"),
        ] {
            assert_eq!(
                h.get(header).and_then(|v| v.to_str().ok()),
                Some(value),
                "{name} ({url}): {header}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// §7 — smaller correctness defects
// ---------------------------------------------------------------------------------------------

/// The Response chsim auto-posted to the demo user system `sp` in `out`: verified with chsim's published
/// certificate; its (status, sub-status).
async fn status_to_demo_sp(s: &Setup, out: &Outcome, sp: &str) -> (String, Option<String>) {
    let acs = format!("/demo-sp/{sp}/acs");
    let answer = out
        .posted_to(&acs, "SAMLResponse")
        .unwrap_or_else(|| panic!("nothing was posted to {acs}: {} {}", out.status, out.body));
    // The browser went on by itself: the person ends at the user system, not at a button.
    assert!(out.url.ends_with(&acs), "{} {}", out.url, out.body);
    let verified = signing::verify_and_reduce(
        &answer.xml,
        &chsim_signing_certs(&s.chsim).await,
        Default::default(),
    )
    .unwrap();
    assert!(!answer.xml.contains("Assertion"), "{}", answer.xml);
    saml_status(&verified)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn is_passive_with_a_choice_of_idps_gets_no_passive_without_showing_the_chooser() {
    let s = setup().await;
    let out = s
        .browser
        .get(&s.url("/demo-sp/oiosaml3/login?passive=1"))
        .await;
    assert!(!out.body.contains(CHOOSER), "{}", out.body);
    assert_eq!(
        status_to_demo_sp(&s, &out, "oiosaml3").await,
        (
            status::REQUESTER.to_string(),
            Some(status::NO_PASSIVE.to_string())
        )
    );
    s.assert_still_answers().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn is_passive_is_passed_on_to_the_idp_and_its_no_passive_reaches_the_user_system() {
    let s = setup().await;
    let korsbaek = s.url("/test-idp/korsbaek");
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("idp", &korsbaek);
    q.append_pair("passive", "1");
    let login = s.url(&format!("/demo-sp/oiosaml3/login?{}", q.finish()));
    // First stop where chsim hands over to the test IdP, to read what chsim asked.
    let at_idp = Browser {
        stop_at: Some(format!("{korsbaek}/sso")),
        ..Browser::new()
    }
    .get(&login)
    .await;
    assert!(
        at_idp.url.starts_with(&format!("{korsbaek}/sso")),
        "{}",
        at_idp.url
    );
    let to_idp = redirect_request(&at_idp.url).xml;
    assert!(to_idp.contains(r#"IsPassive="true""#), "{to_idp}");
    assert!(authn_request::parse(&to_idp).unwrap().is_passive);
    // The whole way: the test IdP answers NoPassive without a login page.
    let out = s.browser.get(&login).await;
    assert!(
        !out.body.contains(r#"name="user""#),
        "a login form was shown: {}",
        out.body
    );
    let from_idp = out.posted_to(CONSUME, "SAMLResponse").unwrap();
    assert_eq!(
        saml_status(&from_idp.xml),
        (
            status::REQUESTER.to_string(),
            Some(status::NO_PASSIVE.to_string())
        )
    );
    assert_eq!(
        status_to_demo_sp(&s, &out, "oiosaml3").await,
        (
            status::REQUESTER.to_string(),
            Some(status::NO_PASSIVE.to_string())
        )
    );
    s.assert_still_answers().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_requests_signed_rsa_sha384_and_rsa_sha512_are_accepted_and_rsa_sha1_is_refused() {
    let s = setup().await;
    for alg in [
        (RSA_SHA384, MessageDigest::sha384()),
        (RSA_SHA512, MessageDigest::sha512()),
    ] {
        let url = s.redirect_url(&s.request("oiosaml3", s.now()), "oiosaml3", Some("rs"), alg);
        assert_chooser(&s.browser.get(&url).await);
    }
    let req = s.request("oiosaml3", s.now());
    let url = s.redirect_url(
        &req,
        "oiosaml3",
        Some("rs"),
        (RSA_SHA1, MessageDigest::sha1()),
    );
    let out = s.browser.get(&url).await;
    let refused = BrokerError::BadAuthnRequestSignature {
        issuer: req.issuer.clone(),
        reason: SamlError::WeakSignatureAlgorithm {
            found: RSA_SHA1.to_string(),
        },
    }
    .to_string();
    assert!(
        refused.contains("not allowed (rsa-sha256 or stronger"),
        "{refused}"
    );
    assert_page(&out, 403, &refused);
    s.assert_still_answers().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_audience_restriction_must_name_chsim_and_audience_is_read_only_from_one() {
    let s = setup().await;
    let chsim_id = s
        .chsim
        .state
        .broker
        .settings()
        .entity_id
        .as_str()
        .to_string();
    let idp = s.bakkeby().entity_id().to_string();
    let restriction = |aud: &str| {
        format!("<saml:AudienceRestriction><saml:Audience>{aud}</saml:Audience></saml:AudienceRestriction>")
    };
    let ours = restriction(&chsim_id);
    // Two restrictions, both naming chsim: addressed to chsim.
    let req = s.pending("bakkeby").await;
    let xml = s.signed_after(&req, |doc| doc.replacen(&ours, &format!("{ours}{ours}"), 1));
    let out = s
        .post(CONSUME, "SAMLResponse", binding::encode_post(&xml))
        .await;
    assert!(out.body.contains("Logged in."), "{}", out.body);
    // The second names only another audience: the intersection is empty.
    let other = "https://other-sp.example";
    let req = s.pending("bakkeby").await;
    let xml = s.signed_after(&req, |doc| {
        doc.replacen(&ours, &format!("{ours}{}", restriction(other)), 1)
    });
    let out = s
        .post(CONSUME, "SAMLResponse", binding::encode_post(&xml))
        .await;
    let mismatch = |found: Vec<String>| {
        BrokerError::Invalid {
            idp: idp.clone(),
            error: ValidationError::AudienceMismatch {
                expected: chsim_id.clone(),
                found,
            },
        }
        .to_string()
    };
    let refused = mismatch(vec![chsim_id.clone(), other.to_string()]);
    assert!(
        refused.contains("every AudienceRestriction must name chsim"),
        "{refused}"
    );
    assert_page(&out, 403, &refused);
    // chsim's entityID as an Audience only outside AudienceRestriction: loose in Conditions, in
    // a made-up condition, in Advice — none of them addresses the assertion.
    let loose = format!("<saml:Audience>{chsim_id}</saml:Audience>");
    let elsewhere = [
        loose.clone(),
        format!(
            r#"<x:AudienceRestriction xmlns:x="urn:example:made-up">{loose}</x:AudienceRestriction>"#
        ),
    ];
    for replacement in elsewhere {
        let req = s.pending("bakkeby").await;
        let xml = s.signed_after(&req, |doc| doc.replacen(&ours, &replacement, 1));
        let out = s
            .post(CONSUME, "SAMLResponse", binding::encode_post(&xml))
            .await;
        assert_page(&out, 403, &mismatch(vec![]));
    }
    let req = s.pending("bakkeby").await;
    let xml = s.signed_after(&req, |doc| {
        doc.replacen(&ours, "", 1).replacen(
            "<saml:AuthnStatement",
            &format!("<saml:Advice>{ours}</saml:Advice><saml:AuthnStatement"),
            1,
        )
    });
    let out = s
        .post(CONSUME, "SAMLResponse", binding::encode_post(&xml))
        .await;
    assert_page(&out, 403, &mismatch(vec![]));
    s.assert_still_answers().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deflate_compressed_message_over_http_post_is_refused_saying_it_looks_deflate_compressed()
{
    let s = setup().await;
    let looks_deflated = || SamlError::BadEncoding {
        reason: "the posted SAML message looks DEFLATE-compressed; the HTTP-POST binding carries \
                 the XML only base64-encoded (DEFLATE belongs to HTTP-Redirect)"
            .into(),
    };
    let key = sp_key("oiosaml2");
    let request = s.request("oiosaml2", s.now()).to_xml(Some(&key)).unwrap();
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let out = s
        .post(ISSUE, "SAMLRequest", b64(&deflate(request.as_bytes())))
        .await;
    assert_page(
        &out,
        400,
        &BrokerError::BadAuthnRequest(looks_deflated()).to_string(),
    );
    let req = s.pending("bakkeby").await;
    let (r, a) = s.parts("bakkeby", &req);
    let genuine = response::build(
        &r,
        Some(&a),
        s.bakkeby().credential(),
        SignedElement::Assertion,
        None,
    )
    .unwrap();
    let out = s
        .post(CONSUME, "SAMLResponse", b64(&deflate(genuine.as_bytes())))
        .await;
    assert_page(
        &out,
        400,
        &BrokerError::BadIdpResponse(looks_deflated()).to_string(),
    );
    // Sent as the binding says, the same Response still logs the person in.
    let out = s
        .post(CONSUME, "SAMLResponse", binding::encode_post(&genuine))
        .await;
    assert!(out.body.contains("Logged in."), "{}", out.body);
}
