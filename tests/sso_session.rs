//! chsim's SSO session end to end (issue #9 §2), over real HTTP with a browser that keeps
//! cookies: a second user system is answered without the chooser or the IdP; a higher
//! requirement steps up at the same IdP and upgrades the session; ForceAuthn bypasses it;
//! IsPassive is answered from it (or refused without one); it ends by idling and by logging out.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use common::*;

const NS_SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";

/// The (AuthnInstant, SessionIndex) of an assertion.
fn authn_statement(assertion_xml: &str) -> (String, String) {
    use chsim::saml::xml;
    let doc = xml::parse(assertion_xml).unwrap();
    let s = doc
        .descendants()
        .find(|n| xml::is(n, NS_SAML, "AuthnStatement"))
        .unwrap();
    (
        s.attribute("AuthnInstant").unwrap().to_string(),
        s.attribute("SessionIndex").unwrap().to_string(),
    )
}

fn name_id(assertion_xml: &str) -> String {
    use chsim::saml::xml;
    let doc = xml::parse(assertion_xml).unwrap();
    xml::text_of(
        &doc.descendants()
            .find(|n| xml::is(n, NS_SAML, "NameID"))
            .unwrap(),
    )
}

/// chsim's session as the browser's `/runtime/session` JSON shows it.
async fn session_json(chsim: &Chsim, browser: &Browser) -> serde_json::Value {
    browser
        .client
        .get(format!("{}/runtime/session", chsim.base))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap()
}

fn visited_an_idp(out: &Outcome) -> bool {
    out.url.contains("/test-idp/") || out.carried.iter().any(|c| c.action.contains("/test-idp/"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_user_system_is_answered_from_the_session_without_chooser_or_idp() {
    let chsim = start(demo_config()).await;
    let browser = Browser::with_cookies();
    let first = login_as(&chsim, &browser, "oiosaml3", "korsbaek", "karen").await;
    assert!(first.body.contains("Logged in."), "{}", first.body);
    let first_assertion = issued_assertion(&chsim, &first, "oiosaml3").await;

    // No ?idp=: without a session the chooser would appear (three IdPs).
    let second = browser
        .get(&format!("{}/demo-sp/oiosaml2/login", chsim.base))
        .await;
    assert!(second.body.contains("Logged in."), "{}", second.body);
    assert!(!visited_an_idp(&second), "{:?}", second.url);
    assert!(!second.body.contains("Choose your organisation"));
    let second_assertion = issued_assertion(&chsim, &second, "oiosaml2").await;

    // The same person and the original AuthnInstant; chsim's own SessionIndex per user system.
    assert_eq!(name_id(&first_assertion), name_id(&second_assertion));
    let (instant_1, index_1) = authn_statement(&first_assertion);
    let (instant_2, index_2) = authn_statement(&second_assertion);
    assert_eq!(instant_1, instant_2);
    assert_ne!(index_1, index_2);
    // The level in system B's profile (OIOSAML2: NIST only) and B's own roles.
    assert_eq!(
        attribute_values(&second_assertion, "dk:gov:saml:attribute:AssuranceLevel"),
        Some(vec!["3".to_string()])
    );
    let privileges = attribute_values(
        &second_assertion,
        "dk:gov:saml:attribute:Privileges_intermediate",
    )
    .expect("karen has roles in system B");
    let xml = String::from_utf8(
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &privileges[0]).unwrap(),
    )
    .unwrap();
    assert!(xml.contains("fagsystem-b.demo"), "{xml}");
    assert!(!xml.contains("fagsystem-a.demo"), "{xml}");

    // The session page lists both user systems with the SessionIndex each received.
    let session = session_json(&chsim, &browser).await;
    let systems = session["session"]["user_systems"].as_array().unwrap();
    assert_eq!(systems.len(), 2, "{session}");
    assert!(systems
        .iter()
        .any(|s| s["session_index"] == index_1.as_str()));
    assert!(systems
        .iter()
        .any(|s| s["session_index"] == index_2.as_str()));
    assert_eq!(session["session"]["nsis_level"], "Substantial");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_cookie_is_http_only_and_lax_on_plain_http() {
    let chsim = start(demo_config()).await;
    let browser = Browser::with_cookies();
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("idp", &format!("{}/test-idp/korsbaek", chsim.base));
    let idp_page = browser
        .get(&format!(
            "{}/demo-sp/oiosaml3/login?{}",
            chsim.base,
            q.finish()
        ))
        .await;
    let (action, fields) = user_form(&idp_page.body, "karen");
    let url = reqwest::Url::parse(&idp_page.url)
        .unwrap()
        .join(&action)
        .unwrap();
    let to_chsim = browser.client.post(url).form(&fields).send().await.unwrap();
    let body = to_chsim.text().await.unwrap();
    let (consume, fields) = auto_post_form(&body).unwrap();
    let answer = browser
        .client
        .post(&consume)
        .form(&fields)
        .send()
        .await
        .unwrap();
    let cookie = answer
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("chsim_session="))
        .expect("chsim sets its session cookie with the token");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    assert!(cookie.contains("Max-Age=28800"), "{cookie}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_higher_requirement_steps_up_at_the_same_idp_and_upgrades_the_session() {
    let mut config = demo_config();
    // System B asks only NIST 2 here, so vikar's password login (NIST 2, NSIS Low) suffices.
    config.user_systems.user_system[1].nist_level = Some(chsim::assurance::NistLevel::TWO);
    let chsim = start(config).await;
    let browser = Browser::with_cookies();
    let first = login_as(&chsim, &browser, "oiosaml2", "korsbaek", "vikar").await;
    assert!(first.body.contains("Logged in."), "{}", first.body);
    assert_eq!(
        session_json(&chsim, &browser).await["session"]["nsis_level"],
        "Low"
    );

    // System A requires NSIS Substantial: chsim sends the person to korsbaek (no chooser).
    let idp_page = browser
        .get(&format!("{}/demo-sp/oiosaml3/login", chsim.base))
        .await;
    assert!(
        idp_page.url.contains("/test-idp/korsbaek/sso"),
        "{}",
        idp_page.url
    );
    assert!(
        idp_page.body.contains("nsis/loa/Substantial"),
        "the IdP is asked for the level: {}",
        idp_page.body
    );
    // vikar's password login is still Low: chsim asks once more with ForceAuthn, and vikar's
    // second factor reaches Substantial.
    let again = pick_user(&browser, &idp_page, "vikar").await;
    assert!(
        again.url.contains("/test-idp/korsbaek/sso"),
        "{}",
        again.url
    );
    let done = pick_user(&browser, &again, "vikar").await;
    assert!(done.body.contains("Logged in."), "{}", done.body);

    let session = session_json(&chsim, &browser).await;
    assert_eq!(session["session"]["nsis_level"], "Substantial", "{session}");
    assert_eq!(
        session["session"]["user_systems"].as_array().unwrap().len(),
        2,
        "the upgraded session keeps system B: {session}"
    );
    // And system B is answered from the upgraded session.
    let b = browser
        .get(&format!("{}/demo-sp/oiosaml2/login", chsim.base))
        .await;
    assert!(b.body.contains("Logged in."), "{}", b.body);
    assert!(!visited_an_idp(&b));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn force_authn_bypasses_the_session() {
    let chsim = start(demo_config()).await;
    let browser = Browser::with_cookies();
    let first = login_as(&chsim, &browser, "oiosaml3", "korsbaek", "karen").await;
    assert!(first.body.contains("Logged in."), "{}", first.body);
    let forced = browser
        .get(&format!("{}/demo-sp/oiosaml2/login?force=1", chsim.base))
        .await;
    assert!(
        forced.body.contains("Choose your organisation"),
        "ForceAuthn needs a fresh IdP login: {}",
        forced.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn is_passive_is_answered_from_the_session_and_refused_without_one() {
    let chsim = start(demo_config()).await;
    let browser = Browser::with_cookies();
    // Without a session (and three IdPs to choose from): NoPassive to the user system.
    let refused = browser
        .get(&format!("{}/demo-sp/oiosaml2/login?passive=1", chsim.base))
        .await;
    let answer = refused
        .posted_to("/demo-sp/oiosaml2/acs", "SAMLResponse")
        .expect("the refusal goes back to the user system");
    assert!(
        answer
            .xml
            .contains("urn:oasis:names:tc:SAML:2.0:status:NoPassive"),
        "{}",
        answer.xml
    );

    let first = login_as(&chsim, &browser, "oiosaml3", "korsbaek", "karen").await;
    assert!(first.body.contains("Logged in."), "{}", first.body);
    let passive = browser
        .get(&format!("{}/demo-sp/oiosaml2/login?passive=1", chsim.base))
        .await;
    assert!(passive.body.contains("Logged in."), "{}", passive.body);
    assert!(!visited_an_idp(&passive));

    // A passive request the session's level does not meet: NoPassive, not the IdP.
    let high = "https://data.gov.dk/concept/core/nsis/loa/High";
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("passive", "1");
    q.append_pair("level", high);
    let too_low = browser
        .get(&format!(
            "{}/demo-sp/oiosaml3/login?{}",
            chsim.base,
            q.finish()
        ))
        .await;
    assert!(!visited_an_idp(&too_low));
    let answer = too_low
        .posted_to("/demo-sp/oiosaml3/acs", "SAMLResponse")
        .expect("the refusal goes back to the user system");
    assert!(answer.xml.contains("status:NoPassive"), "{}", answer.xml);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_session_expires_and_the_next_login_goes_to_an_idp() {
    let clock = fixed_clock();
    let chsim = start_with_clock(demo_config(), clock.clone()).await;
    let browser = Browser::with_cookies();
    let first = login_as(&chsim, &browser, "oiosaml3", "korsbaek", "karen").await;
    assert!(first.body.contains("Logged in."), "{}", first.body);
    clock.advance(chrono::Duration::minutes(59));
    let within = browser
        .get(&format!("{}/demo-sp/oiosaml2/login", chsim.base))
        .await;
    assert!(within.body.contains("Logged in."), "{}", within.body);
    // An hour after the last login through it (the default idle timeout), it is gone.
    clock.advance(chrono::Duration::minutes(61));
    let after = browser
        .get(&format!("{}/demo-sp/oiosaml2/login", chsim.base))
        .await;
    assert!(
        after.body.contains("Choose your organisation"),
        "{}",
        after.body
    );
    assert_eq!(
        session_json(&chsim, &browser).await["session"],
        serde_json::Value::Null
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logging_out_on_the_session_page_ends_the_session() {
    let chsim = start(demo_config()).await;
    let browser = Browser::with_cookies();
    let first = login_as(&chsim, &browser, "oiosaml3", "korsbaek", "karen").await;
    assert!(first.body.contains("Logged in."), "{}", first.body);
    let start_page = browser.get(&format!("{}/", chsim.base)).await;
    assert!(start_page.body.contains("Log out"), "{}", start_page.body);
    assert!(
        start_page.body.contains("Demo-fagsystem A"),
        "{}",
        start_page.body
    );
    let out = browser
        .post(&format!("{}/runtime/session/logout", chsim.base), &[])
        .await;
    assert!(out.body.contains("logged out"), "{}", out.body);
    assert_eq!(
        session_json(&chsim, &browser).await["session"],
        serde_json::Value::Null
    );
    let next = browser
        .get(&format!("{}/demo-sp/oiosaml2/login", chsim.base))
        .await;
    assert!(
        next.body.contains("Choose your organisation"),
        "{}",
        next.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_made_up_session_cookie_is_ignored() {
    let chsim = start(demo_config()).await;
    for value in [
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "x",
        "../../etc",
    ] {
        let page = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .get(format!("{}/runtime/session", chsim.base))
            .header("cookie", format!("chsim_session={value}"))
            .header("accept", "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        let json: serde_json::Value = serde_json::from_str(&page.text().await.unwrap()).unwrap();
        assert_eq!(json["session"], serde_json::Value::Null);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_idp_keeps_its_own_session_and_offers_to_continue() {
    let clock = fixed_clock();
    let chsim = start_with_clock(demo_config(), clock.clone()).await;
    let browser = Browser::with_cookies();
    let first = login_as(&chsim, &browser, "oiosaml3", "korsbaek", "karen").await;
    assert!(first.body.contains("Logged in."), "{}", first.body);
    // chsim's session idles out (an hour); the IdP's own session (8 hours) remains.
    clock.advance(chrono::Duration::minutes(61));
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("idp", &format!("{}/test-idp/korsbaek", chsim.base));
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
    assert!(
        idp_page.body.contains("Continue as Karen"),
        "{}",
        idp_page.body
    );
    let again = pick_user(&browser, &idp_page, "karen").await;
    assert!(again.body.contains("Logged in."), "{}", again.body);
    // The IdP answered from its session: chsim's token carries the IdP's first AuthnInstant.
    let before = issued_assertion(&chsim, &first, "oiosaml3").await;
    let after = issued_assertion(&chsim, &again, "oiosaml3").await;
    assert_eq!(authn_statement(&before).0, authn_statement(&after).0);

    // IsPassive with chsim's session gone but the IdP's alive: answered through the IdP.
    clock.advance(chrono::Duration::minutes(61));
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("idp", &format!("{}/test-idp/korsbaek", chsim.base));
    q.append_pair("passive", "1");
    let passive = browser
        .get(&format!(
            "{}/demo-sp/oiosaml3/login?{}",
            chsim.base,
            q.finish()
        ))
        .await;
    assert!(passive.body.contains("Logged in."), "{}", passive.body);
}
