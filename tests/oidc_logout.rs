//! Logout of OIDC user systems end to end (issue #11 §3, §5), over real HTTP: RP-initiated
//! logout at `logout.idp` ends the chsim session — and through it the SAML user systems — and
//! returns to the registered `post_logout_redirect_uri` with `state`; a session ended at chsim
//! reaches OIDC systems by back-channel `logout_token` and by front-channel iframe; a logout
//! without `id_token_hint` is confirmed on chsim's own page.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use common::oidc::*;
use common::*;
use std::sync::{Arc, Mutex};

/// Logs Karen in for the demo client in `browser` and returns its token answer.
async fn tokens(chsim: &Chsim, browser: &Browser) -> serde_json::Value {
    let (verifier, challenge) = pkce();
    let out = browser.get(&authorize_url(chsim, &challenge, &[])).await;
    let q = if out.url.contains("/test-idp/korsbaek/sso") {
        let out = pick_user(browser, &out, "karen").await;
        redirect_query(&out)
    } else {
        redirect_query(&out)
    };
    let (status, tokens) = exchange(chsim, &q["code"], &verifier).await;
    assert_eq!(status, 200, "{tokens}");
    tokens
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rp_initiated_logout_ends_the_session_everywhere_and_returns_with_state() {
    let chsim = start(demo_config()).await;
    let browser = browser(&chsim);
    login_as(&chsim, &browser, "oiosaml3", "korsbaek", "karen").await;
    let tokens = tokens(&chsim, &browser).await;
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("id_token_hint", tokens["id_token"].as_str().unwrap());
    q.append_pair(
        "post_logout_redirect_uri",
        &format!("{}/demo-oidc/", chsim.base),
    );
    q.append_pair("state", "bye 1");
    let out = browser
        .get(&format!(
            "{}/runtime/openidconnect/logout.idp?{}",
            chsim.base,
            q.finish()
        ))
        .await;
    // Through the SAML user system's front-channel logout, back to the client with state.
    assert_eq!(
        out.url,
        format!("{}/demo-oidc/?state=bye+1", chsim.base),
        "{}",
        out.body
    );
    // The client's tokens ended with the session.
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(userinfo(&chsim, access).await.0, 401);
    // The session is gone: a silent login now needs the person.
    let (_, challenge) = pkce();
    let out = browser
        .get(&authorize_url(&chsim, &challenge, &[("prompt", "none")]))
        .await;
    assert_eq!(redirect_query(&out)["error"], "login_required");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_without_a_hint_is_confirmed_on_chsims_page_and_bad_requests_are_refused() {
    let chsim = start(demo_config()).await;
    let browser = browser(&chsim);
    tokens(&chsim, &browser).await;
    let logout = format!("{}/runtime/openidconnect/logout.idp", chsim.base);
    let out = browser.get(&format!("{logout}?client_id={CLIENT}")).await;
    assert_eq!(out.status, 200);
    let (action, fields) = forms(&out.body)
        .into_iter()
        .find(|(a, _)| a.ends_with("/logout.idp"))
        .unwrap();
    assert!(
        fields.contains(&("confirm".into(), "yes".into())),
        "{fields:?}"
    );
    // Another site cannot press the button for the person.
    let resp = browser
        .client
        .post(format!("{}{action}", chsim.base))
        .header("origin", "https://evil.example")
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    // An unregistered post_logout_redirect_uri, or nothing named: chsim's error page.
    let out = browser
        .get(&format!(
            "{logout}?client_id={CLIENT}&post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F"
        ))
        .await;
    assert_page(&out, 400, "is not the one registered");
    let out = browser.get(&format!("{logout}?state=x")).await;
    assert_page(&out, 400, "names nothing");
    let out = browser
        .get(&format!("{logout}?id_token_hint=eyJhbGciOiJub25lIn0.e30."))
        .await;
    assert_page(&out, 400, "id_token_hint is not an ID token chsim issued");
    // The person confirms on chsim's page: logged out.
    let resp = browser
        .client
        .post(format!("{}{action}", chsim.base))
        .form(&fields)
        .send()
        .await
        .unwrap();
    let out = browser.follow(resp, Vec::new()).await;
    assert_eq!(out.status, 200);
    assert!(out.body.contains("Logged out"), "{}", out.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_ended_at_chsim_reaches_oidc_systems_by_front_and_back_channel() {
    // A back-channel receiver of the test's own.
    let received: Arc<Mutex<Vec<String>>> = Arc::default();
    let keep = received.clone();
    let app = axum::Router::new().route(
        "/bc",
        axum::routing::post(
            move |axum::Form(form): axum::Form<std::collections::HashMap<String, String>>| {
                let keep = keep.clone();
                async move {
                    keep.lock().unwrap().push(form["logout_token"].clone());
                    ""
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bc = format!("http://{}/bc", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let mut config = demo_config();
    let text = format!(
        r#"
client_id = "bc-client"
name = "Back-channel client"
cvr = "29189846"
application_type = "web"
token_endpoint_auth_method = "client_secret_basic"
client_secret = "bc-secret"
redirect_uris = ["{{public_url}}/demo-oidc/bc-callback"]
backchannel_logout_uri = "{bc}"
nsis_level = "Substantial"
"#
    );
    config
        .user_systems
        .oidc_user_system
        .push(toml::from_str(&text).unwrap());
    let chsim = start(config).await;
    let browser = browser(&chsim);
    // The demo client (front channel) and the back-channel client in one session.
    let demo = tokens(&chsim, &browser).await;
    let demo_sid = verified(&chsim, demo["id_token"].as_str().unwrap(), "JWT").await["sid"].clone();
    let (verifier, challenge) = pkce();
    let cb = format!("{}/demo-oidc/bc-callback", chsim.base);
    let out = browser
        .get(&authorize_url(
            &chsim,
            &challenge,
            &[("client_id", "bc-client"), ("redirect_uri", &cb)],
        ))
        .await;
    let q = redirect_query(&out);
    let (status, bc_tokens) = post(
        &chsim,
        "/runtime/oauth2/token.idp",
        Some(("bc-client", "bc-secret")),
        &[
            ("grant_type", "authorization_code"),
            ("code", &q["code"]),
            ("redirect_uri", &cb),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(status, 200, "{bc_tokens}");
    let bc_id = verified_for(
        &chsim,
        bc_tokens["id_token"].as_str().unwrap(),
        "JWT",
        "bc-client",
    )
    .await;
    // The person logs out on chsim's session page.
    let resp = browser
        .client
        .post(format!("{}/runtime/session/logout", chsim.base))
        .send()
        .await
        .unwrap();
    // (through the IdP's front-channel SAML logout)
    let out = browser.follow(resp, Vec::new()).await;
    assert_eq!(out.status, 200, "{}", out.body);
    let page = out.body;
    // Front channel: the demo client's logout page in an iframe, with iss and sid.
    let mut fc = url::form_urlencoded::Serializer::new(String::new());
    fc.append_pair("iss", &format!("{}/runtime/oauth2", chsim.base));
    fc.append_pair("sid", demo_sid.as_str().unwrap());
    let frame = format!(
        "{}/demo-oidc/frontchannel-logout?{}",
        chsim.base,
        fc.finish()
    );
    assert!(
        page.contains(&format!(
            r#"<iframe class="frontchannel-logout" src="{}""#,
            on_page_attr(&frame)
        )),
        "{page}"
    );
    assert!(page.contains("back-channel: answered 200"), "{page}");
    // Back channel: one logout token, signed by chsim, for that client and session.
    let tokens = received.lock().unwrap().clone();
    assert_eq!(tokens.len(), 1);
    let claims = verified_for(&chsim, &tokens[0], "logout+jwt", "bc-client").await;
    assert_eq!(claims["sid"], bc_id["sid"]);
    assert_eq!(claims["sub"], bc_id["sub"]);
    assert!(claims["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
    assert!(claims.get("nonce").is_none());
}

/// `text` as an HTML attribute value shows it.
fn on_page_attr(text: &str) -> String {
    html_escape::encode_double_quoted_attribute(text).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_persons_hint_ends_nothing_and_a_code_from_an_ended_session_is_refused() {
    let chsim = start(demo_config()).await;
    // The attacker's own, valid, ID token.
    let attacker = tokens(&chsim, &browser(&chsim)).await;
    // The victim's browser: a live session, and a code not yet redeemed.
    let victim = browser(&chsim);
    tokens(&chsim, &victim).await;
    let (verifier, challenge) = pkce();
    let out = victim
        .get(&authorize_url(&chsim, &challenge, &[("prompt", "none")]))
        .await;
    let pending_code = redirect_query(&out)["code"].clone();
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("id_token_hint", attacker["id_token"].as_str().unwrap());
    let resp = victim
        .client
        .get(format!(
            "{}/runtime/openidconnect/logout.idp?{}",
            chsim.base,
            q.finish()
        ))
        .send()
        .await
        .unwrap();
    assert!(resp.headers().get("set-cookie").is_none(), "{resp:?}");
    assert!(resp.text().await.unwrap().contains("nothing was ended"));
    // The victim's session still answers.
    let (_, challenge2) = pkce();
    let out = victim
        .get(&authorize_url(&chsim, &challenge2, &[("prompt", "none")]))
        .await;
    assert!(redirect_query(&out).contains_key("code"), "{}", out.url);
    // The victim logs out; the code issued before is worth nothing now.
    let resp = victim
        .client
        .post(format!("{}/runtime/session/logout", chsim.base))
        .send()
        .await
        .unwrap();
    victim.follow(resp, Vec::new()).await;
    let (status, e) = exchange(&chsim, &pending_code, &verifier).await;
    assert_eq!(
        (status, e["error"].as_str()),
        (400, Some("invalid_grant")),
        "{e}"
    );
    assert!(
        e["error_description"].as_str().unwrap().contains("ended"),
        "{e}"
    );
}
