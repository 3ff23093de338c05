//! Single logout at the built-in parties over real HTTP (issue #9 §3), the parties' side only:
//! their own sessions and pages, the signed LogoutRequests their "Log out" buttons send chsim
//! (the browser stops there), and their answers to a LogoutRequest signed with chsim's key as
//! chsim sends it. Each message is read and verified here as chsim would, with the certificate
//! from the party's published metadata. The flows through chsim's broker side are in
//! `tests/interop.rs` (pysaml2) and, once it lands, here.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use chsim::saml::logout::{
    self, Binding, Expectations, Incoming, NameId, NewLogoutRequest, VerifiedLogoutRequest,
    VerifiedLogoutResponse,
};
use chsim::saml::TrustedCert;
use chsim::saml::{status, xml};
use common::*;

const NS_SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";

/// The NameID and SessionIndex of an assertion.
fn subject(assertion_xml: &str) -> (String, String) {
    let doc = xml::parse(assertion_xml).unwrap();
    let find = |name: &str| {
        doc.descendants()
            .find(|n| xml::is(n, NS_SAML, name))
            .unwrap()
    };
    (
        xml::text_of(&find("NameID")),
        find("AuthnStatement")
            .attribute("SessionIndex")
            .unwrap()
            .to_string(),
    )
}

/// Karen logs into the OIOSAML3 demo user system at Korsbæk: the login's outcome and the NameID
/// and SessionIndex chsim issued to the user system.
async fn karen_logs_in(chsim: &Chsim, browser: &Browser) -> (Outcome, String, String) {
    let done = login_as(chsim, browser, "oiosaml3", "korsbaek", "karen").await;
    assert!(done.body.contains("Logged in."), "{}", done.body);
    let (name_id, index) = subject(&issued_assertion(chsim, &done, "oiosaml3").await);
    (done, name_id, index)
}

/// The NameID and SessionIndex the test IdP sent chsim in `outcome` (its assertion decrypted
/// with chsim's key).
fn idp_subject(outcome: &Outcome) -> (String, String) {
    let response = outcome
        .posted_to("/runtime/saml2auth/consume.idp", "SAMLResponse")
        .expect("the test IdP answered chsim");
    let doc = xml::parse(&response.xml).unwrap();
    let plain = match doc
        .descendants()
        .find(|n| xml::is(n, NS_SAML, "EncryptedAssertion"))
    {
        Some(enc) => chsim::saml::encryption::decrypt_assertion(
            &xml::standalone_subtree(&enc, &response.xml).unwrap(),
            key("broker-encryption").key(),
        )
        .unwrap(),
        None => response.xml.clone(),
    };
    subject(&plain)
}

/// A party's signing certificate, from its published metadata.
async fn published_cert(chsim: &Chsim, metadata_path: &str) -> TrustedCert {
    let md = reqwest::get(format!("{}{metadata_path}", chsim.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let md = chsim::saml::metadata::parse(&md).unwrap();
    let der = match (md.sp, md.idp) {
        (Some(sp), _) => sp.signing_certs[0].clone(),
        (None, Some(idp)) => idp.signing_certs[0].clone(),
        _ => panic!("no role in {metadata_path}"),
    };
    TrustedCert::from_der(&der).unwrap()
}

fn expect<'a>(certs: &'a [TrustedCert], destination: &'a str) -> Expectations<'a> {
    Expectations {
        trusted_certs: certs,
        algorithms: Default::default(),
        destination,
        now: fixed_clock_now(),
        clock_skew: chrono::Duration::seconds(60),
    }
}

fn fixed_clock_now() -> chrono::DateTime<chrono::Utc> {
    use chsim::clock::Clock;
    fixed_clock().now()
}

fn query(url: &str) -> String {
    reqwest::Url::parse(url)
        .unwrap()
        .query()
        .unwrap()
        .to_string()
}

/// The LogoutRequest the browser was sent to chsim with, verified as chsim would.
fn sent_request(url: &str, cert: &TrustedCert, destination: &str) -> VerifiedLogoutRequest {
    assert!(
        url.starts_with(&format!("{destination}?SAMLRequest=")),
        "{url}"
    );
    logout::receive_request(
        Incoming::Redirect {
            raw_query: query(url),
        },
        1 << 20,
    )
    .unwrap()
    .verify(&expect(std::slice::from_ref(cert), destination))
    .unwrap()
}

/// The LogoutResponse the browser was sent to chsim with, verified as chsim would.
fn sent_response(url: &str, cert: &TrustedCert, destination: &str) -> VerifiedLogoutResponse {
    assert!(
        url.starts_with(&format!("{destination}?SAMLResponse=")),
        "{url}"
    );
    logout::receive_response(
        Incoming::Redirect {
            raw_query: query(url),
        },
        1 << 20,
    )
    .unwrap()
    .verify(&expect(std::slice::from_ref(cert), destination))
    .unwrap()
}

/// A LogoutRequest as chsim sends it to the party SLO URL `slo`, signed by `signer`, with
/// chsim's RelayState: the URL the browser is redirected to.
fn chsim_logout_request(
    chsim: &Chsim,
    slo: &str,
    name_id: &str,
    index: &str,
    signer: &str,
) -> (String, String) {
    let now = fixed_clock_now();
    let request = NewLogoutRequest {
        id: chsim::ids::new_saml_id(),
        issue_instant: now,
        destination: slo.to_string(),
        issuer: chsim.state.broker.settings().entity_id.to_string(),
        name_id: NameId::x509(name_id),
        session_indexes: vec![index.to_string()],
        not_on_or_after: Some(now + chrono::Duration::minutes(5)),
        reason: Some(logout::reason::USER.into()),
    };
    let url = match request
        .encode(Binding::Redirect, Some("chsim-logout-1"), &key(signer))
        .unwrap()
    {
        logout::Outgoing::Redirect(url) => url.to_string(),
        other => panic!("{other:?}"),
    };
    (url, request.id)
}

async fn page(browser: &Browser, url: &str) -> String {
    let out = browser.get(url).await;
    assert_eq!(out.status, 200, "{}", out.body);
    out.body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_user_system_shows_its_own_session_with_a_log_out_button() {
    let chsim = start_with_clock(demo_config(), fixed_clock()).await;
    let browser = Browser::with_cookies();
    let front = format!("{}/demo-sp/oiosaml3/", chsim.base);
    assert!(page(&browser, &front).await.contains("Not logged in."));
    let (done, name_id, index) = karen_logs_in(&chsim, &browser).await;
    assert!(done.body.contains("Logged in as <strong>Karen Sagsbehandler</strong> since 2026-11-22 10:00:00 UTC (level NSIS Substantial)"), "{}", done.body);
    let body = page(&browser, &front).await;
    assert!(
        body.contains(
            "Logged in as <strong>Karen Sagsbehandler</strong> since 2026-11-22 10:00:00 UTC"
        ),
        "{body}"
    );
    assert!(
        body.contains(&on_page(&name_id)) && body.contains(&index),
        "{body}"
    );
    assert!(
        forms(&body).iter().any(|(action, _)| action == "logout"),
        "{body}"
    );
    // Another browser, another session: none.
    assert!(page(&Browser::with_cookies(), &front)
        .await
        .contains("Not logged in."));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_out_at_a_demo_user_system_sends_chsim_a_signed_logout_request_for_what_chsim_issued() {
    let chsim = start_with_clock(demo_config(), fixed_clock()).await;
    let mut browser = Browser::with_cookies();
    let (_, name_id, index) = karen_logs_in(&chsim, &browser).await;
    let issue = format!("{}/runtime/saml2/issue.idp", chsim.base);
    browser.stop_at = Some(issue.clone());
    let out = browser
        .post(&format!("{}/demo-sp/oiosaml3/logout", chsim.base), &[])
        .await;
    let cert = published_cert(&chsim, "/demo-sp/oiosaml3/metadata").await;
    let request = sent_request(&out.url, &cert, &issue);
    let m = request.message();
    assert_eq!(m.issuer, format!("{}/demo-sp/oiosaml3", chsim.base));
    assert_eq!(m.name_id, NameId::x509(&name_id));
    assert_eq!(m.session_indexes, vec![index]);
    assert_eq!(m.reason.as_deref(), Some(logout::reason::USER));
    browser.stop_at = None;
    let body = page(&browser, &format!("{}/demo-sp/oiosaml3/", chsim.base)).await;
    assert!(
        body.contains("You logged out here at 2026-11-22 10:00:00 UTC."),
        "{body}"
    );
    // Nothing left to log out of.
    let again = browser
        .post(&format!("{}/demo-sp/oiosaml3/logout", chsim.base), &[])
        .await;
    assert_page(&again, 409, "there is no session to log out of here");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demo_user_system_answers_chsims_logout_request_and_its_page_says_so() {
    let chsim = start_with_clock(demo_config(), fixed_clock()).await;
    let mut browser = Browser::with_cookies();
    let (_, name_id, index) = karen_logs_in(&chsim, &browser).await;
    let slo = format!("{}/demo-sp/oiosaml3/slo", chsim.base);
    let (url, id) = chsim_logout_request(&chsim, &slo, &name_id, &index, "broker");
    let signoff = format!("{}/runtime/saml2/signoff.idp", chsim.base);
    browser.stop_at = Some(signoff.clone());
    let out = browser.get(&url).await;
    let cert = published_cert(&chsim, "/demo-sp/oiosaml3/metadata").await;
    let answer = sent_response(&out.url, &cert, &signoff);
    assert_eq!(answer.message().status.code, status::SUCCESS);
    assert_eq!(answer.message().in_response_to, id);
    assert_eq!(answer.relay_state(), Some("chsim-logout-1"));
    browser.stop_at = None;
    let body = page(&browser, &format!("{}/demo-sp/oiosaml3/", chsim.base)).await;
    let expected = format!(
        "You were logged out by single logout at 2026-11-22 10:00:00 UTC (started by {}/runtime, reason {})",
        chsim.base,
        logout::reason::USER
    );
    assert!(body.contains(&on_page(&expected)), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demo_user_system_answers_unknown_principal_for_a_session_it_does_not_have() {
    let chsim = start_with_clock(demo_config(), fixed_clock()).await;
    let mut browser = Browser::new();
    let slo = format!("{}/demo-sp/oiosaml2/slo", chsim.base);
    let (url, _) = chsim_logout_request(&chsim, &slo, "C=DK,CN=Nobody", "_nothing", "broker");
    let signoff = format!("{}/runtime/saml2/signoff.idp", chsim.base);
    browser.stop_at = Some(signoff.clone());
    let out = browser.get(&url).await;
    let cert = published_cert(&chsim, "/demo-sp/oiosaml2/metadata").await;
    let status = sent_response(&out.url, &cert, &signoff)
        .into_message()
        .status;
    assert_eq!(status.code, status::REQUESTER);
    assert_eq!(status.sub_code.as_deref(), Some(status::UNKNOWN_PRINCIPAL));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demo_user_system_refuses_a_logout_request_chsim_did_not_sign_or_address_to_it() {
    let chsim = start_with_clock(demo_config(), fixed_clock()).await;
    let browser = Browser::with_cookies();
    let (_, name_id, index) = karen_logs_in(&chsim, &browser).await;
    let slo = format!("{}/demo-sp/oiosaml3/slo", chsim.base);

    let (forged, _) = chsim_logout_request(&chsim, &slo, &name_id, &index, "demo-sp-oiosaml2");
    let out = browser.get(&forged).await;
    assert_page(
        &out,
        403,
        "chsim's LogoutRequest is refused: the signature of",
    );
    assert!(out
        .body
        .contains("The demo user system refused a logout message"));

    let elsewhere = format!("{}/demo-sp/oiosaml2/slo", chsim.base);
    let (misaddressed, _) = chsim_logout_request(&chsim, &elsewhere, &name_id, &index, "broker");
    let out = browser
        .get(&misaddressed.replace("/demo-sp/oiosaml2/slo", "/demo-sp/oiosaml3/slo"))
        .await;
    assert_page(
        &out,
        403,
        &format!("Destination is `{elsewhere}`, expected `{slo}`"),
    );

    let out = browser.get(&slo).await;
    assert_page(&out, 400, "this request has neither");

    // Karen is still logged in there.
    let body = page(&browser, &format!("{}/demo-sp/oiosaml3/", chsim.base)).await;
    assert!(body.contains("Logged in as"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_test_idps_log_out_starts_idp_initiated_logout_with_what_it_issued() {
    let chsim = start_with_clock(demo_config(), fixed_clock()).await;
    let mut browser = Browser::with_cookies();
    let (done, _, _) = karen_logs_in(&chsim, &browser).await;
    let (name_id, index) = idp_subject(&done);
    let idp_page = format!("{}/test-idp/korsbaek/", chsim.base);
    let body = page(&browser, &idp_page).await;
    assert!(
        body.contains("You are logged in here as <strong>Karen Sagsbehandler</strong> since 2026-11-22 10:00:00 UTC."),
        "{body}"
    );
    let signoff_request = format!("{}/runtime/saml2auth/signoffrequest.idp", chsim.base);
    browser.stop_at = Some(signoff_request.clone());
    let out = browser
        .post(&format!("{}/test-idp/korsbaek/logout", chsim.base), &[])
        .await;
    let cert = published_cert(&chsim, "/test-idp/korsbaek/metadata").await;
    let request = sent_request(&out.url, &cert, &signoff_request);
    let m = request.message();
    assert_eq!(m.issuer, format!("{}/test-idp/korsbaek", chsim.base));
    assert_eq!(m.name_id, NameId::x509(&name_id));
    assert_eq!(m.session_indexes, vec![index]);
    browser.stop_at = None;
    let body = page(&browser, &idp_page).await;
    assert!(body.contains("You logged out here at"), "{body}");
    assert!(body.contains("Not logged in at this IdP."), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_idp_answers_chsims_logout_request_by_ending_its_session() {
    let chsim = start_with_clock(demo_config(), fixed_clock()).await;
    let mut browser = Browser::with_cookies();
    let (done, _, _) = karen_logs_in(&chsim, &browser).await;
    let (name_id, index) = idp_subject(&done);
    let slo = format!("{}/test-idp/korsbaek/slo", chsim.base);
    let (url, id) = chsim_logout_request(&chsim, &slo, &name_id, &index, "broker");
    let signoff_response = format!("{}/runtime/saml2auth/signoffresponse.idp", chsim.base);
    browser.stop_at = Some(signoff_response.clone());
    let out = browser.get(&url).await;
    let cert = published_cert(&chsim, "/test-idp/korsbaek/metadata").await;
    let answer = sent_response(&out.url, &cert, &signoff_response);
    assert_eq!(answer.message().status.code, status::SUCCESS);
    assert_eq!(answer.message().in_response_to, id);
    assert_eq!(answer.relay_state(), Some("chsim-logout-1"));
    browser.stop_at = None;
    let body = page(&browser, &format!("{}/test-idp/korsbaek/", chsim.base)).await;
    assert!(
        body.contains("You were logged out by single logout at"),
        "{body}"
    );
    // The same request again is a replay.
    let out = browser.get(&url).await;
    assert_page(&out, 403, "was answered already");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_test_idps_login_page_links_its_session_page() {
    let clock = fixed_clock();
    let chsim = start_with_clock(demo_config(), clock.clone()).await;
    let browser = Browser::with_cookies();
    karen_logs_in(&chsim, &browser).await;
    // chsim's session idles out (an hour): the next login goes back to the IdP, which
    // remembers Karen (its own session lasts 8 hours).
    clock.advance(chrono::Duration::minutes(61));
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("idp", &format!("{}/test-idp/korsbaek", chsim.base));
    let idp_page = browser
        .get(&format!(
            "{}/demo-sp/oiosaml2/login?{}",
            chsim.base,
            q.finish()
        ))
        .await;
    assert!(
        idp_page.body.contains("Continue as Karen Sagsbehandler"),
        "{}",
        idp_page.body
    );
    assert!(
        idp_page
            .body
            .contains(r#"<a href="./">Your session at this IdP</a>"#),
        "{}",
        idp_page.body
    );
}
