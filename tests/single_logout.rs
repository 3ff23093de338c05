//! Single logout through chsim (issue #9 §3), over real HTTP with real signatures. The test
//! plays the other parties itself — each signs with its own demo key and answers chsim's
//! LogoutRequests at its published SingleLogoutService — so that every step of chsim's side is
//! checked here: the request chsim sends to each party (signed by chsim, naming what chsim
//! issued), the chain through the browser, the back channel, and the final LogoutResponse.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use chsim::saml::logout::{
    receive_request, receive_response, Binding, Expectations, Incoming, NameId, NewLogoutRequest,
    NewLogoutResponse, Outgoing, ParsedLogoutRequest, ParsedLogoutResponse,
};
use chsim::saml::response::Status;
use chsim::saml::status;
use common::*;

const NS_SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";

/// (NameID, SessionIndex) of the token `sp` received in `out`.
async fn issued(chsim: &Chsim, out: &Outcome, sp: &str) -> (String, String) {
    use chsim::saml::xml;
    let assertion = issued_assertion(chsim, out, sp).await;
    let doc = xml::parse(&assertion).unwrap();
    let name_id = xml::text_of(
        &doc.descendants()
            .find(|n| xml::is(n, NS_SAML, "NameID"))
            .unwrap(),
    );
    let index = doc
        .descendants()
        .find(|n| xml::is(n, NS_SAML, "AuthnStatement"))
        .unwrap()
        .attribute("SessionIndex")
        .unwrap()
        .to_string();
    (name_id, index)
}

async fn chsim_certs(chsim: &Chsim) -> Vec<chsim::saml::TrustedCert> {
    chsim_signing_certs(chsim).await
}

/// A browser with cookies that stops before any built-in party's SLO endpoint (the test answers
/// there itself).
fn browser(chsim: &Chsim) -> Browser {
    let mut b = Browser::with_cookies();
    b.stop_at = Some(format!("{}/demo-sp/oiosaml", chsim.base));
    b
}

/// The (NameID, SessionIndex) korsbaek sent chsim in `out` (decrypted with chsim's key).
fn from_idp(out: &Outcome) -> (String, String) {
    use chsim::saml::xml;
    let response = &out
        .posted_to("/runtime/saml2auth/consume.idp", "SAMLResponse")
        .unwrap()
        .xml;
    let doc = xml::parse(response).unwrap();
    let enc = doc
        .descendants()
        .find(|n| xml::is(n, NS_SAML, "EncryptedAssertion"))
        .expect("korsbaek encrypts to chsim");
    let enc_xml = xml::standalone_subtree(&enc, response).unwrap();
    let plain =
        chsim::saml::encryption::decrypt_assertion(&enc_xml, key("broker-encryption").key())
            .unwrap();
    let doc = xml::parse(&plain).unwrap();
    let name_id = xml::text_of(
        &doc.descendants()
            .find(|n| xml::is(n, NS_SAML, "NameID"))
            .unwrap(),
    );
    let index = doc
        .descendants()
        .find(|n| xml::is(n, NS_SAML, "AuthnStatement"))
        .unwrap()
        .attribute("SessionIndex")
        .unwrap()
        .to_string();
    (name_id, index)
}

/// What korsbaek told chsim when karen logged in, kept per test run.
static IDP_SESSION: std::sync::Mutex<Vec<(String, (String, String))>> =
    std::sync::Mutex::new(Vec::new());

/// Karen logs in to both demo user systems (the second by SSO); returns what each received.
async fn two_systems(chsim: &Chsim, b: &Browser) -> ((String, String), (String, String)) {
    let plain = Browser {
        client: b.client.clone(),
        stop_at: None,
    };
    let a = login_as(chsim, &plain, "oiosaml3", "korsbaek", "karen").await;
    assert!(a.body.contains("Logged in."), "{}", a.body);
    IDP_SESSION
        .lock()
        .unwrap()
        .push((chsim.base.clone(), from_idp(&a)));
    let second = plain
        .get(&format!("{}/demo-sp/oiosaml2/login", chsim.base))
        .await;
    assert!(second.body.contains("Logged in."), "{}", second.body);
    (
        issued(chsim, &a, "oiosaml3").await,
        issued(chsim, &second, "oiosaml2").await,
    )
}

/// The party `sp`'s signed HTTP-Redirect LogoutRequest to chsim's issue.idp.
fn logout_request_from(chsim: &Chsim, sp: &str, who: &(String, String)) -> (String, String) {
    let request = NewLogoutRequest {
        id: chsim::ids::new_saml_id(),
        issue_instant: now(),
        destination: format!("{}/runtime/saml2/issue.idp", chsim.base),
        issuer: format!("{}/demo-sp/{sp}", chsim.base),
        name_id: NameId::x509(&who.0),
        session_indexes: vec![who.1.clone()],
        not_on_or_after: None,
        reason: Some(chsim::saml::logout::reason::USER.to_string()),
    };
    let Outgoing::Redirect(url) = request
        .encode(
            Binding::Redirect,
            Some("sp-state"),
            &key(&format!("demo-sp-{sp}")),
        )
        .unwrap()
    else {
        panic!("redirect expected")
    };
    (url.to_string(), request.id)
}

/// chsim's LogoutRequest the browser was stopped at, verified with chsim's published key.
async fn chsim_request_at(
    chsim: &Chsim,
    url: &str,
    destination: &str,
) -> (ParsedLogoutRequest, Option<String>) {
    assert!(url.starts_with(destination), "{url}");
    let raw_query = url.split_once('?').unwrap().1.to_string();
    let verified = receive_request(Incoming::Redirect { raw_query }, 1 << 20)
        .unwrap()
        .verify(&Expectations {
            trusted_certs: &chsim_certs(chsim).await,
            algorithms: Default::default(),
            destination,
            now: now(),
            clock_skew: chrono::Duration::seconds(60),
        })
        .unwrap();
    let relay_state = verified.relay_state().map(str::to_string);
    (verified.into_message(), relay_state)
}

/// The party `issuer` (key `key_name`) answers chsim's `request` at `destination` with `status`.
fn answer(
    issuer: &str,
    key_name: &str,
    request: &ParsedLogoutRequest,
    relay_state: Option<&str>,
    destination: &str,
    status: Status,
) -> String {
    let response = NewLogoutResponse {
        id: chsim::ids::new_saml_id(),
        issue_instant: now(),
        destination: Some(destination.to_string()),
        issuer: issuer.to_string(),
        in_response_to: request.id.clone(),
        status,
    };
    let Outgoing::Redirect(url) = response
        .encode(Binding::Redirect, relay_state, &key(key_name))
        .unwrap()
    else {
        panic!("redirect expected")
    };
    url.to_string()
}

/// Korsbæk's `Success` answer to chsim's `to_idp`.
fn korsbaek_answers(chsim: &Chsim, to_idp: &ParsedLogoutRequest, relay: Option<&str>) -> String {
    answer(
        &format!("{}/test-idp/korsbaek", chsim.base),
        "test-idp-korsbaek",
        to_idp,
        relay,
        &format!("{}/runtime/saml2auth/signoffresponse.idp", chsim.base),
        Status::success(),
    )
}

/// chsim's LogoutRequest to Korsbæk the browser was stopped at.
async fn request_at_korsbaek(chsim: &Chsim, url: &str) -> (ParsedLogoutRequest, Option<String>) {
    chsim_request_at(chsim, url, &format!("{}/test-idp/korsbaek/slo", chsim.base)).await
}

/// chsim's LogoutResponse to demo user system `sp` the browser was stopped at.
async fn response_at_sp(
    chsim: &Chsim,
    url: &str,
    sp: &str,
) -> (ParsedLogoutResponse, Option<String>) {
    chsim_response_at(chsim, url, &format!("{}/demo-sp/{sp}/slo", chsim.base)).await
}

/// chsim's LogoutResponse the browser was stopped at, verified.
async fn chsim_response_at(
    chsim: &Chsim,
    url: &str,
    destination: &str,
) -> (ParsedLogoutResponse, Option<String>) {
    assert!(url.starts_with(destination), "{url}");
    let raw_query = url.split_once('?').unwrap().1.to_string();
    let verified = receive_response(Incoming::Redirect { raw_query }, 1 << 20)
        .unwrap()
        .verify(&Expectations {
            trusted_certs: &chsim_certs(chsim).await,
            algorithms: Default::default(),
            destination,
            now: now(),
            clock_skew: chrono::Duration::seconds(60),
        })
        .unwrap();
    let relay_state = verified.relay_state().map(str::to_string);
    (verified.into_message(), relay_state)
}

async fn session_is_gone(chsim: &Chsim, b: &Browser) {
    let json: serde_json::Value = serde_json::from_str(
        &b.client
            .get(format!("{}/runtime/session", chsim.base))
            .header("accept", "application/json")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(json["session"], serde_json::Value::Null, "{json}");
}

/// The test IdP korsbaek's (NameID, SessionIndex) as chsim received them in this chsim's login.
fn korsbaek_session(chsim: &Chsim) -> (String, String) {
    IDP_SESSION
        .lock()
        .unwrap()
        .iter()
        .rev()
        .find(|(base, _)| *base == chsim.base)
        .map(|(_, s)| s.clone())
        .expect("karen logged in at korsbaek")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_system_logs_out_and_chsim_logs_out_the_other_system_and_the_idp() {
    let chsim = start(demo_config()).await;
    let mut b = browser(&chsim);
    let (in_a, in_b) = two_systems(&chsim, &b).await;
    b.stop_at = Some(format!("{}/demo-sp/", chsim.base));
    let (url, request_id) = logout_request_from(&chsim, "oiosaml2", &in_b);

    // 1. chsim asks system A (front channel), naming what chsim issued to A.
    let at_a = b.get(&url).await;
    let slo_a = format!("{}/demo-sp/oiosaml3/slo", chsim.base);
    let (to_a, relay) = chsim_request_at(&chsim, &at_a.url, &slo_a).await;
    assert_eq!(to_a.name_id.value, in_a.0);
    assert_eq!(to_a.session_indexes, vec![in_a.1.clone()]);
    assert_eq!(to_a.issuer, format!("{}/runtime", chsim.base));
    session_is_gone(&chsim, &b).await;

    // 2. A answers; chsim asks the IdP, naming the IdP's own NameID and SessionIndex.
    let signoff = format!("{}/runtime/saml2/signoff.idp", chsim.base);
    let mut b_idp = Browser {
        client: b.client.clone(),
        stop_at: Some(format!("{}/test-idp/", chsim.base)),
    };
    let at_idp = b_idp
        .get(&answer(
            &format!("{}/demo-sp/oiosaml3", chsim.base),
            "demo-sp-oiosaml3",
            &to_a,
            relay.as_deref(),
            &signoff,
            Status::success(),
        ))
        .await;
    let slo_idp = format!("{}/test-idp/korsbaek/slo", chsim.base);
    let (to_idp, relay) = chsim_request_at(&chsim, &at_idp.url, &slo_idp).await;
    let (idp_name_id, idp_index) = korsbaek_session(&chsim);
    assert_eq!(to_idp.name_id.value, idp_name_id);
    assert_eq!(to_idp.session_indexes, vec![idp_index]);

    // 3. The IdP answers; chsim answers system B: Success.
    b_idp.stop_at = Some(format!("{}/demo-sp/", chsim.base));
    let back = b_idp
        .get(&korsbaek_answers(&chsim, &to_idp, relay.as_deref()))
        .await;
    let (final_answer, relay) = response_at_sp(&chsim, &back.url, "oiosaml2").await;
    assert_eq!(final_answer.in_response_to, request_id);
    assert_eq!(final_answer.status.code, status::SUCCESS);
    assert_eq!(final_answer.status.sub_code, None);
    assert_eq!(relay.as_deref(), Some("sp-state"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_party_that_refuses_makes_the_logout_partial_and_is_named() {
    let chsim = start(demo_config()).await;
    let mut b = browser(&chsim);
    let (_, in_b) = two_systems(&chsim, &b).await;
    b.stop_at = Some(format!("{}/demo-sp/", chsim.base));
    let (url, _) = logout_request_from(&chsim, "oiosaml2", &in_b);
    let at_a = b.get(&url).await;
    let (to_a, relay) = chsim_request_at(
        &chsim,
        &at_a.url,
        &format!("{}/demo-sp/oiosaml3/slo", chsim.base),
    )
    .await;
    let refusal = Status {
        code: status::RESPONDER.to_string(),
        sub_code: None,
        message: Some("system A is down for maintenance".into()),
    };
    let mut b_idp = Browser {
        client: b.client.clone(),
        stop_at: Some(format!("{}/test-idp/", chsim.base)),
    };
    let at_idp = b_idp
        .get(&answer(
            &format!("{}/demo-sp/oiosaml3", chsim.base),
            "demo-sp-oiosaml3",
            &to_a,
            relay.as_deref(),
            &format!("{}/runtime/saml2/signoff.idp", chsim.base),
            refusal,
        ))
        .await;
    let (to_idp, relay) = request_at_korsbaek(&chsim, &at_idp.url).await;
    b_idp.stop_at = Some(format!("{}/demo-sp/", chsim.base));
    let back = b_idp
        .get(&korsbaek_answers(&chsim, &to_idp, relay.as_deref()))
        .await;
    let (final_answer, _) = response_at_sp(&chsim, &back.url, "oiosaml2").await;
    assert_eq!(final_answer.status.code, status::SUCCESS);
    assert_eq!(
        final_answer.status.sub_code.as_deref(),
        Some(status::PARTIAL_LOGOUT)
    );
    let message = final_answer.status.message.unwrap();
    assert!(message.contains("/demo-sp/oiosaml3"), "{message}");
    // Which party, not why: the initiator does not learn another system's errors.
    assert!(!message.contains("maintenance"), "{message}");
    assert!(
        !message.contains("korsbaek"),
        "the IdP logged out: {message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idp_logs_out_and_chsim_logs_out_every_user_system() {
    let chsim = start(demo_config()).await;
    let mut b = browser(&chsim);
    let (in_a, in_b) = two_systems(&chsim, &b).await;
    let (idp_name_id, idp_index) = korsbaek_session(&chsim);
    let request = NewLogoutRequest {
        id: chsim::ids::new_saml_id(),
        issue_instant: now(),
        destination: format!("{}/runtime/saml2auth/signoffrequest.idp", chsim.base),
        issuer: format!("{}/test-idp/korsbaek", chsim.base),
        name_id: NameId::x509(&idp_name_id),
        session_indexes: vec![idp_index],
        not_on_or_after: None,
        reason: None,
    };
    let Outgoing::Redirect(url) = request
        .encode(
            Binding::Redirect,
            Some("idp-state"),
            &key("test-idp-korsbaek"),
        )
        .unwrap()
    else {
        panic!()
    };
    b.stop_at = Some(format!("{}/demo-sp/", chsim.base));
    let signoff = format!("{}/runtime/saml2/signoff.idp", chsim.base);
    let mut hop = b.get(url.as_str()).await;
    let mut reached = Vec::new();
    for _ in 0..2 {
        let sp = if hop.url.contains("/demo-sp/oiosaml3/") {
            "oiosaml3"
        } else {
            "oiosaml2"
        };
        let (to_sp, relay) = chsim_request_at(
            &chsim,
            &hop.url,
            &format!("{}/demo-sp/{sp}/slo", chsim.base),
        )
        .await;
        let expected = if sp == "oiosaml3" { &in_a } else { &in_b };
        assert_eq!(to_sp.session_indexes, vec![expected.1.clone()]);
        reached.push(sp);
        if reached.len() == 2 {
            b.stop_at = Some(format!("{}/test-idp/", chsim.base));
        }
        hop = b
            .get(&answer(
                &format!("{}/demo-sp/{sp}", chsim.base),
                &format!("demo-sp-{sp}"),
                &to_sp,
                relay.as_deref(),
                &signoff,
                Status::success(),
            ))
            .await;
    }
    reached.sort();
    assert_eq!(reached, ["oiosaml2", "oiosaml3"]);
    let (final_answer, relay) = chsim_response_at(
        &chsim,
        &hop.url,
        &format!("{}/test-idp/korsbaek/slo", chsim.base),
    )
    .await;
    assert_eq!(final_answer.in_response_to, request.id);
    assert_eq!(final_answer.status.code, status::SUCCESS);
    assert_eq!(final_answer.status.sub_code, None);
    assert_eq!(relay.as_deref(), Some("idp-state"));
    session_is_gone(&chsim, &b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_for_an_unknown_session_gets_a_signed_requester_answer() {
    let chsim = start(demo_config()).await;
    let mut b = browser(&chsim);
    b.stop_at = Some(format!("{}/demo-sp/", chsim.base));
    let who = (
        "C=DK,O=29189846,CN=Nobody,Serial=x".to_string(),
        "_no-such-index".to_string(),
    );
    let (url, request_id) = logout_request_from(&chsim, "oiosaml2", &who);
    let out = b.get(&url).await;
    let (answer, _) = response_at_sp(&chsim, &out.url, "oiosaml2").await;
    assert_eq!(answer.in_response_to, request_id);
    assert_eq!(answer.status.code, status::REQUESTER);
    assert_eq!(
        answer.status.sub_code.as_deref(),
        Some(status::UNKNOWN_PRINCIPAL)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_logout_request_is_refused_with_a_signed_answer() {
    let chsim = start(demo_config()).await;
    let mut b = browser(&chsim);
    let (_, in_b) = two_systems(&chsim, &b).await;
    b.stop_at = Some(format!("{}/demo-sp/", chsim.base));
    let (url, _) = logout_request_from(&chsim, "oiosaml2", &in_b);
    let first = b.get(&url).await;
    assert!(first.url.contains("/demo-sp/oiosaml3/slo"), "{}", first.url);
    let again = b.get(&url).await;
    let (answer, _) = response_at_sp(&chsim, &again.url, "oiosaml2").await;
    assert_eq!(answer.status.code, status::REQUESTER);
    assert_eq!(
        answer.status.sub_code.as_deref(),
        Some(status::REQUEST_DENIED)
    );
    assert!(answer.status.message.unwrap().contains("replay"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_logout_requests_are_refused_with_a_page_that_names_the_problem() {
    let chsim = start(demo_config()).await;
    let b = Browser::new();
    let (_, in_b) = {
        let cookies = browser(&chsim);
        two_systems(&chsim, &cookies).await
    };
    let base_request = || NewLogoutRequest {
        id: chsim::ids::new_saml_id(),
        issue_instant: now(),
        destination: format!("{}/runtime/saml2/issue.idp", chsim.base),
        issuer: format!("{}/demo-sp/oiosaml2", chsim.base),
        name_id: NameId::x509(&in_b.0),
        session_indexes: vec![in_b.1.clone()],
        not_on_or_after: None,
        reason: None,
    };
    let redirect = |r: &NewLogoutRequest, key_name: &str| {
        let Outgoing::Redirect(url) = r.encode(Binding::Redirect, None, &key(key_name)).unwrap()
        else {
            panic!()
        };
        url.to_string()
    };
    // Signed with another system's key.
    let out = b.get(&redirect(&base_request(), "demo-sp-oiosaml3")).await;
    assert_eq!(out.status, 403, "{}", out.body);
    assert!(out.body.contains("signature"), "{}", out.body);
    // Addressed elsewhere.
    let mut r = base_request();
    r.destination = format!("{}/somewhere-else", chsim.base);
    let query = redirect(&r, "demo-sp-oiosaml2")
        .split_once('?')
        .unwrap()
        .1
        .to_string();
    let out = b
        .get(&format!("{}/runtime/saml2/issue.idp?{query}", chsim.base))
        .await;
    assert_eq!(out.status, 400, "{}", out.body);
    assert!(out.body.contains("Destination"), "{}", out.body);
    // Stale.
    let mut r = base_request();
    r.issue_instant = now() - chrono::Duration::hours(1);
    let out = b.get(&redirect(&r, "demo-sp-oiosaml2")).await;
    assert!(out.body.contains("IssueInstant"), "{}", out.body);
    // From a stranger.
    let mut r = base_request();
    r.issuer = "https://stranger.example".into();
    let out = b.get(&redirect(&r, "demo-sp-oiosaml2")).await;
    assert_eq!(out.status, 403, "{}", out.body);
    assert!(out.body.contains("stranger.example"), "{}", out.body);
    // Unsigned.
    let xml = base_request().to_xml(None).unwrap();
    let url = chsim::saml::binding::encode_redirect(
        &format!("{}/runtime/saml2/issue.idp", chsim.base),
        chsim::saml::binding::MessageKind::Request,
        &xml,
        None,
        None,
    )
    .unwrap();
    let out = b.get(url.as_str()).await;
    assert!(out.status >= 400, "{}", out.body);
    assert!(
        out.body.to_lowercase().contains("signed") || out.body.contains("signature"),
        "{}",
        out.body
    );
    // None of these ended the session: the real request still works.
    let (good, _) = logout_request_from(&chsim, "oiosaml2", &in_b);
    let mut stopping = Browser::new();
    stopping.stop_at = Some(format!("{}/demo-sp/", chsim.base));
    let out = stopping.get(&good).await;
    assert!(out.url.contains("/demo-sp/oiosaml3/slo"), "{}", out.url);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_response_nobody_asked_for_is_refused() {
    let chsim = start(demo_config()).await;
    let fake = ParsedLogoutRequest {
        id: "_never-sent".into(),
        issue_instant: now(),
        issuer: format!("{}/runtime", chsim.base),
        destination: None,
        name_id: NameId::x509("x"),
        session_indexes: vec![],
        not_on_or_after: None,
        reason: None,
    };
    let url = answer(
        &format!("{}/demo-sp/oiosaml3", chsim.base),
        "demo-sp-oiosaml3",
        &fake,
        None,
        &format!("{}/runtime/saml2/signoff.idp", chsim.base),
        Status::success(),
    );
    let out = Browser::new().get(&url).await;
    assert_eq!(out.status, 403, "{}", out.body);
    assert!(out.body.contains("_never-sent"), "{}", out.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_page_logs_out_every_system_and_shows_the_result() {
    let chsim = start(demo_config()).await;
    let mut b = browser(&chsim);
    let (in_a, in_b) = two_systems(&chsim, &b).await;
    b.stop_at = Some(format!("{}/demo-sp/", chsim.base));
    let resp = b
        .client
        .post(format!("{}/runtime/session/logout", chsim.base))
        .send()
        .await
        .unwrap();
    let mut hop = b.follow(resp, Vec::new()).await;
    let signoff = format!("{}/runtime/saml2/signoff.idp", chsim.base);
    for (sp, who) in [("oiosaml3", &in_a), ("oiosaml2", &in_b)] {
        let (to_sp, relay) = chsim_request_at(
            &chsim,
            &hop.url,
            &format!("{}/demo-sp/{sp}/slo", chsim.base),
        )
        .await;
        assert_eq!(to_sp.session_indexes, vec![who.1.clone()]);
        if sp == "oiosaml2" {
            b.stop_at = Some(format!("{}/test-idp/", chsim.base));
        }
        hop = b
            .get(&answer(
                &format!("{}/demo-sp/{sp}", chsim.base),
                &format!("demo-sp-{sp}"),
                &to_sp,
                relay.as_deref(),
                &signoff,
                Status::success(),
            ))
            .await;
    }
    let (to_idp, relay) = request_at_korsbaek(&chsim, &hop.url).await;
    b.stop_at = None;
    let done = b
        .get(&korsbaek_answers(&chsim, &to_idp, relay.as_deref()))
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(
        done.body
            .contains("You are logged out of chsim and of every system"),
        "{}",
        done.body
    );
    session_is_gone(&chsim, &b).await;
}

fn now() -> chrono::DateTime<chrono::Utc> {
    use chsim::clock::Clock;
    chsim::clock::SystemClock.now()
}

/// What a back-channel party received, and how it answers.
#[derive(Default)]
struct SoapParty {
    received: std::sync::Mutex<Vec<ParsedLogoutRequest>>,
}

/// Serves a user system at `http://127.0.0.1:<port>/soap-sp` whose only SingleLogoutService is
/// SOAP at `…/slo`: it verifies chsim's SOAP LogoutRequest with chsim's certificate and answers
/// `Success`, signed with its own key. Returns its entityID.
async fn serve_soap_party(
    chsim_cert: chsim::saml::TrustedCert,
    party: std::sync::Arc<SoapParty>,
    dead_sp: &str,
) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let entity = format!(
        "http://127.0.0.1:{}/soap-sp",
        listener.local_addr().unwrap().port()
    );
    // Its metadata and the unreachable party's, served signed over plain http on loopback.
    let own_metadata = soap_only_metadata(&entity, &format!("{entity}/slo"));
    let dead_metadata = soap_only_metadata(dead_sp, &format!("{dead_sp}/slo"));
    let issuer = entity.clone();
    let slo = format!("{entity}/slo");
    let app = axum::Router::new()
        .route(
            "/soap-sp/metadata",
            axum::routing::get(move || async move { own_metadata }),
        )
        .route(
            "/dead-sp/metadata",
            axum::routing::get(move || async move { dead_metadata }),
        )
        .route(
            "/soap-sp/slo",
            axum::routing::post(move |body: String| {
                let (party, issuer, slo, cert) = (
                    party.clone(),
                    issuer.clone(),
                    slo.clone(),
                    chsim_cert.clone(),
                );
                async move {
                    let request = receive_request(Incoming::Soap { envelope: body }, 1 << 20)
                        .unwrap()
                        .verify(&Expectations {
                            trusted_certs: &[cert],
                            algorithms: Default::default(),
                            destination: &slo,
                            now: now(),
                            clock_skew: chrono::Duration::seconds(60),
                        })
                        .unwrap()
                        .into_message();
                    let response = NewLogoutResponse {
                        id: chsim::ids::new_saml_id(),
                        issue_instant: now(),
                        destination: None,
                        issuer,
                        in_response_to: request.id.clone(),
                        status: Status::success(),
                    };
                    party.received.lock().unwrap().push(request);
                    let Outgoing::Soap(envelope) = response
                        .encode(Binding::Soap, None, &key("demo-sp-oiosaml2"))
                        .unwrap()
                    else {
                        panic!()
                    };
                    ([("content-type", "text/xml")], envelope)
                }
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    entity
}

/// Signed SP metadata for `entity`: ACS `<entity>/acs`, SingleLogoutService only by SOAP.
fn soap_only_metadata(entity: &str, soap_slo: &str) -> String {
    use chsim::saml::bindings;
    use chsim::saml::metadata::{build_signed, Endpoint, RoleSpec};
    let xml = build_signed(
        entity,
        &RoleSpec::Sp {
            acs: vec![Endpoint::new(bindings::POST, format!("{entity}/acs"))],
            slo: vec![Endpoint::new(bindings::SOAP, soap_slo)],
            authn_requests_signed: true,
            want_assertions_signed: true,
        },
        &key("demo-sp-oiosaml2"),
        None,
    )
    .unwrap();
    xml
}

fn user_system(name: &str, metadata: String) -> chsim::config::UserSystemConfig {
    chsim::config::UserSystemConfig {
        name: name.into(),
        metadata,
        metadata_signing_cert: Some("../keys/demo-sp-oiosaml2.cert.pem".into()),
        entity_id: None,
        profile: chsim::config::Profile::Oiosaml3,
        nist_level: None,
        nsis_level: Some(chsim::assurance::NsisLevel::Substantial),
        role: Vec::new(),
        mapping: Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_channel_parties_are_logged_out_by_soap_and_one_that_cannot_be_reached_is_named() {
    // A second back-channel party whose SOAP endpoint nobody listens on.
    let dead_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dead_sp = format!("http://127.0.0.1:{dead_port}/dead-sp");
    let party = std::sync::Arc::new(SoapParty::default());
    let soap_sp = serve_soap_party(key("broker").trusted_cert(), party.clone(), &dead_sp).await;
    let host = soap_sp.trim_end_matches("/soap-sp").to_string();
    let mut config = demo_config();
    config
        .user_systems
        .user_system
        .push(user_system("SOAP system", format!("{soap_sp}/metadata")));
    config.user_systems.user_system.push(user_system(
        "Unreachable system",
        format!("{host}/dead-sp/metadata"),
    ));
    let chsim = start(config).await;
    let mut b = browser(&chsim);
    let plain = Browser {
        client: b.client.clone(),
        stop_at: None,
    };
    let a = login_as(&chsim, &plain, "oiosaml3", "korsbaek", "karen").await;
    assert!(a.body.contains("Logged in."), "{}", a.body);
    let in_a = issued(&chsim, &a, "oiosaml3").await;
    // Both back-channel systems join the session (answered without the IdP); the browser stops
    // at their ACS.
    let mut soap_index = String::new();
    for entity in [&soap_sp, &dead_sp] {
        let request = authn_request_from(&chsim, entity, now());
        let url = chsim::saml::binding::encode_redirect(
            &format!("{}/runtime/saml2/issue.idp", chsim.base),
            chsim::saml::binding::MessageKind::Request,
            &request.to_xml(None).unwrap(),
            None,
            Some(key("demo-sp-oiosaml2").key()),
        )
        .unwrap();
        let stopping = Browser {
            client: b.client.clone(),
            stop_at: Some(format!("{entity}/acs")),
        };
        let out = stopping.get(url.as_str()).await;
        let token = out
            .posted_to(&format!("{entity}/acs"), "SAMLResponse")
            .expect("answered from the session");
        assert!(token.xml.contains("status:Success"), "{}", token.xml);
        if entity == &soap_sp {
            let doc = chsim::saml::xml::parse(&token.xml).unwrap();
            soap_index = doc
                .descendants()
                .find(|n| chsim::saml::xml::is(n, NS_SAML, "AuthnStatement"))
                .unwrap()
                .attribute("SessionIndex")
                .unwrap()
                .to_string();
        }
    }
    // System A logs out; the SOAP parties are asked at once, then the IdP through the browser.
    b.stop_at = Some(format!("{}/test-idp/", chsim.base));
    let (url, request_id) = logout_request_from(&chsim, "oiosaml3", &in_a);
    let at_idp = b.get(&url).await;
    let received = party.received.lock().unwrap().clone();
    assert_eq!(received.len(), 1, "the SOAP system was asked once");
    assert_eq!(received[0].session_indexes, vec![soap_index]);
    assert_eq!(received[0].name_id.value, in_a.0);
    let (to_idp, relay) = request_at_korsbaek(&chsim, &at_idp.url).await;
    b.stop_at = Some(format!("{}/demo-sp/", chsim.base));
    let back = b
        .get(&korsbaek_answers(&chsim, &to_idp, relay.as_deref()))
        .await;
    let (final_answer, _) = response_at_sp(&chsim, &back.url, "oiosaml3").await;
    assert_eq!(final_answer.in_response_to, request_id);
    assert_eq!(
        final_answer.status.sub_code.as_deref(),
        Some(status::PARTIAL_LOGOUT)
    );
    let message = final_answer.status.message.unwrap();
    assert!(message.contains(&dead_sp), "{message}");
    assert!(
        !message.contains(&format!("{dead_sp}/slo")),
        "no internal address or error reaches the initiator: {message}"
    );
    assert!(
        !message.contains(&soap_sp),
        "the SOAP system logged out: {message}"
    );
}
