//! Attacks on the SSO session and single logout (issue #9, found in the attacker review),
//! over real HTTP: an IdP answer carried by another browser (login CSRF) starts no session
//! there; another site cannot press chsim's Log out; a forged LogoutResponse naming chsim's
//! outstanding request cannot break the logout chain; choosing at the IdP chooser again replaces
//! the login's request instead of piling up new ones.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use common::*;

async fn session_json(chsim: &Chsim, b: &Browser) -> serde_json::Value {
    let text = b
        .client
        .get(format!("{}/runtime/session", chsim.base))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idp_answer_carried_by_another_browser_starts_no_session_there() {
    let chsim = start(demo_config()).await;
    // The attacker logs in in their own browser and keeps the IdP's answer instead of posting it.
    let attacker = {
        let mut b = Browser::with_cookies();
        b.stop_at = Some(format!("{}/runtime/saml2auth/consume.idp", chsim.base));
        b
    };
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("idp", &format!("{}/test-idp/korsbaek", chsim.base));
    let idp_page = attacker
        .get(&format!(
            "{}/demo-sp/oiosaml3/login?{}",
            chsim.base,
            q.finish()
        ))
        .await;
    let held = pick_user(&attacker, &idp_page, "mads").await;
    let answer = held
        .posted_to("/runtime/saml2auth/consume.idp", "SAMLResponse")
        .unwrap()
        .clone();
    // The victim, logged in as Karen, is made to post it (a cross-site auto-submit).
    let victim = Browser::with_cookies();
    let own = login_as(&chsim, &victim, "oiosaml2", "korsbaek", "karen").await;
    assert!(own.body.contains("Logged in."), "{}", own.body);
    let before = session_json(&chsim, &victim).await;
    let mut form = vec![(
        "SAMLResponse".to_string(),
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &answer.xml),
    )];
    if let Some(rs) = answer.relay_state {
        form.push(("RelayState".into(), rs));
    }
    victim
        .post(
            &format!("{}/runtime/saml2auth/consume.idp", chsim.base),
            &form,
        )
        .await;
    // The victim's session is still Karen's: the attacker's login started no session in it.
    let after = session_json(&chsim, &victim).await;
    assert_eq!(before, after);
    assert!(
        after["session"]["name_id"]
            .as_str()
            .unwrap()
            .contains("Karen"),
        "{after}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_site_cannot_press_chsims_log_out() {
    let chsim = start(demo_config()).await;
    let b = Browser::with_cookies();
    let own = login_as(&chsim, &b, "oiosaml3", "korsbaek", "karen").await;
    assert!(own.body.contains("Logged in."), "{}", own.body);
    for (header, value) in [
        ("sec-fetch-site", "cross-site"),
        ("origin", "https://evil.example"),
    ] {
        let resp = b
            .client
            .post(format!("{}/runtime/session/logout", chsim.base))
            .header(header, value)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 403);
        let body = resp.text().await.unwrap();
        assert!(body.contains("another site"), "{body}");
        assert!(session_json(&chsim, &b).await["session"].is_object());
    }
    // chsim's own page may.
    let resp = b
        .client
        .post(format!("{}/runtime/session/logout", chsim.base))
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_redirection(), "{}", resp.status());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_logout_response_cannot_break_the_logout_chain() {
    let chsim = start(demo_config()).await;
    let mut b = Browser::with_cookies();
    let a = login_as(&chsim, &b, "oiosaml3", "korsbaek", "karen").await;
    assert!(a.body.contains("Logged in."), "{}", a.body);
    let second = b
        .get(&format!("{}/demo-sp/oiosaml2/login", chsim.base))
        .await;
    assert!(second.body.contains("Logged in."), "{}", second.body);
    // The person logs out on chsim's page; the browser stops at the first user system.
    b.stop_at = Some(format!("{}/demo-sp/", chsim.base));
    let resp = b
        .client
        .post(format!("{}/runtime/session/logout", chsim.base))
        .send()
        .await
        .unwrap();
    let hop = b.follow(resp, Vec::new()).await;
    let query = hop.url.split_once('?').unwrap().1.to_string();
    let request = chsim::saml::logout::receive_request(
        chsim::saml::logout::Incoming::Redirect { raw_query: query },
        1 << 20,
    )
    .unwrap();
    let outstanding = request.message().id.clone();
    // A stranger who saw that URL answers it with a LogoutResponse signed by the wrong key.
    let forged = chsim::saml::logout::NewLogoutResponse {
        id: chsim::ids::new_saml_id(),
        issue_instant: request.message().issue_instant,
        destination: Some(format!("{}/runtime/saml2/signoff.idp", chsim.base)),
        issuer: request
            .message()
            .destination
            .clone()
            .unwrap()
            .replace("/slo", ""),
        in_response_to: outstanding,
        status: chsim::saml::response::Status::success(),
    };
    let chsim::saml::logout::Outgoing::Redirect(url) = forged
        .encode(
            chsim::saml::logout::Binding::Redirect,
            request.relay_state(),
            &key("test-idp-soeby"),
        )
        .unwrap()
    else {
        panic!()
    };
    let refused = Browser::new().get(url.as_str()).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    // The genuine party still answers, and the chain goes on to the end.
    b.stop_at = None;
    let done = b.get(&hop.url).await;
    assert!(
        done.body
            .contains("You are logged out of chsim and of every system"),
        "{}",
        done.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn choosing_again_replaces_the_logins_request_to_an_idp() {
    let chsim = start(demo_config()).await;
    let b = Browser::new();
    let chooser = b
        .get(&format!("{}/demo-sp/oiosaml2/login", chsim.base))
        .await;
    let link =
        regex::Regex::new(r#"href="(/runtime/saml2/choose\?[^"]*test-idp%2Fkorsbaek[^"]*)""#)
            .unwrap()
            .captures(&chooser.body)
            .unwrap()[1]
            .to_string();
    let choose = format!("{}{}", chsim.base, unescape(&link));
    let mut stopping = Browser::new();
    stopping.stop_at = Some(format!("{}/test-idp/", chsim.base));
    let first = stopping.get(&choose).await;
    let second = stopping.get(&choose).await;
    let id_of = |url: &str| {
        chsim::saml::binding::decode_redirect(
            url.split_once('?').unwrap().1,
            chsim::saml::binding::MessageKind::Request,
            1 << 20,
        )
        .map(|m| chsim::saml::authn_request::parse(&m.xml).unwrap().id)
        .unwrap()
    };
    let (first_id, second_id) = (id_of(&first.url), id_of(&second.url));
    assert_ne!(first_id, second_id);
    // The first request is gone: Korsbæk's answer to it is refused as unsolicited, the second
    // one's is accepted.
    let idp = chsim.state.test_idps["korsbaek"].clone();
    for (url, accepted) in [(&first.url, false), (&second.url, true)] {
        let (handle, _) = idp.begin(url.split_once('?').unwrap().1).unwrap();
        let post = idp.login(&handle, "karen").unwrap();
        let mut form = vec![("SAMLResponse".to_string(), post.saml_response)];
        if let Some(rs) = post.relay_state {
            form.push(("RelayState".into(), rs));
        }
        let out = b.post(&post.action, &form).await;
        assert_eq!(out.body.contains("Logged in."), accepted, "{}", out.body);
    }
}
