//! The built-in demo OIDC user system `/demo-oidc/` (issue #11 §4) over real HTTP: a browser logs
//! in through it (its authorization request, chsim, Korsbæk's test IdP, its callback) and sees
//! the verified tokens; its Refresh, Userinfo and Log out buttons; front-channel logout from
//! chsim's session page; and its refusals. (`builtin_parties = false`: tests/hostile_deployment.rs.)
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use common::oidc::PRIVILEGES;
use common::*;

/// `/demo-oidc/login` with `query`, at Korsbæk's test IdP as `user`, followed to the end.
async fn log_in(chsim: &Chsim, browser: &Browser, user: &str, extra: &[(&str, &str)]) -> Outcome {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("idp", &format!("{}/test-idp/korsbaek", chsim.base));
    for (k, v) in extra {
        q.append_pair(k, v);
    }
    let idp_page = browser
        .get(&format!("{}/demo-oidc/login?{}", chsim.base, q.finish()))
        .await;
    assert!(
        idp_page.url.contains("/test-idp/korsbaek/sso"),
        "{} {}",
        idp_page.url,
        idp_page.body
    );
    pick_user(browser, &idp_page, user).await
}

/// POSTs one of the demo system's buttons and follows.
async fn press(chsim: &Chsim, browser: &Browser, button: &str) -> Outcome {
    let resp = browser
        .client
        .post(format!("{}/demo-oidc/{button}", chsim.base))
        .send()
        .await
        .unwrap();
    browser.follow(resp, Vec::new()).await
}

/// The text of the `<pre id="{id}">` on a page, unescaped.
fn pre(body: &str, id: &str) -> String {
    let start = format!(r#"<pre id="{id}">"#);
    let i = body
        .find(&start)
        .unwrap_or_else(|| panic!("no {start} on:\n{body}"))
        + start.len();
    let j = body[i..].find("</pre>").unwrap() + i;
    unescape(&body[i..j])
}

/// Loads every front-channel logout iframe of chsim's page as the browser would; their answers.
async fn load_frames(browser: &Browser, page: &str) -> Vec<reqwest::Response> {
    let re = regex::Regex::new(r#"<iframe class="frontchannel-logout" src="([^"]*)""#).unwrap();
    let mut out = Vec::new();
    for c in re.captures_iter(page) {
        out.push(browser.client.get(unescape(&c[1])).send().await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_oidc_system_logs_in_and_shows_the_verified_tokens() {
    let chsim = start(demo_config()).await;
    let browser = Browser::with_cookies();
    let out = log_in(&chsim, &browser, "karen", &[]).await;
    assert_eq!(out.url, format!("{}/demo-oidc/", chsim.base));
    assert_page(&out, 200, "Logged in as");
    assert!(out.body.contains("Karen Sagsbehandler"), "{}", out.body);
    assert!(out.body.contains("level NSIS Substantial"), "{}", out.body);
    // The key named is one chsim publishes.
    let jwks: serde_json::Value = serde_json::from_str(
        &reqwest::get(format!("{}/runtime/oauth2/certs.idp", chsim.base))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    let kid = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .find(|kid| kid.ends_with("-PS256"))
        .unwrap();
    assert!(
        out.body.contains(&format!(
            "Signature verified with key <code>{}</code> from chsim's JWKS",
            on_page(&kid)
        )),
        "{}",
        out.body
    );
    let claims: serde_json::Value =
        serde_json::from_str(&pre(&out.body, "id-token-claims")).unwrap();
    assert_eq!(claims["iss"], format!("{}/runtime/oauth2", chsim.base));
    assert_eq!(claims["aud"], "demo-oidc");
    assert_eq!(
        claims["acr"],
        "https://data.gov.dk/concept/core/nsis/loa/Substantial"
    );
    assert!(
        claims["sid"].is_string() && claims[PRIVILEGES].is_string(),
        "{claims}"
    );
    let access: serde_json::Value =
        serde_json::from_str(&pre(&out.body, "access-token-claims")).unwrap();
    assert_eq!(access["client_id"], "demo-oidc");
    assert_eq!(access["sub"], claims["sub"]);
    let userinfo: serde_json::Value = serde_json::from_str(&pre(&out.body, "userinfo")).unwrap();
    assert_eq!(userinfo["sub"], claims["sub"]);
    assert_eq!(userinfo[PRIVILEGES], claims[PRIVILEGES]);
    // The privilege list, decoded: system C's role mapped from Karen's job-function role.
    let xml = pre(&out.body, "privileges-xml");
    assert!(
        xml.contains("http://fagsystem-c.demo/roles/usersystemrole/laes-sag/1"),
        "{xml}"
    );
    assert!(out
        .body
        .contains("<td>http://fagsystem-c.demo/roles/usersystemrole/laes-sag/1</td>"));
    // chsim's start page links to it.
    let home = browser.get(&format!("{}/", chsim.base)).await;
    assert!(home.body.contains(r#"href="/demo-oidc/""#), "{}", home.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_refresh_and_userinfo_buttons_ask_chsim_again() {
    let chsim = start(demo_config()).await;
    let browser = Browser::with_cookies();
    let first = log_in(&chsim, &browser, "karen", &[]).await;
    let first_access = pre(&first.body, "access-token-claims");
    let out = press(&chsim, &browser, "refresh").await;
    assert_page(&out, 200, "Refreshed: a new access token, a new ID token and a new refresh token (the old one is retired).");
    assert!(out.body.contains("a rotated refresh token"), "{}", out.body);
    let second_access = pre(&out.body, "access-token-claims");
    let jti = |text: &str| serde_json::from_str::<serde_json::Value>(text).unwrap()["jti"].clone();
    assert_ne!(jti(&first_access), jti(&second_access));
    // The rotated token works again (the RP keeps the newest).
    let out = press(&chsim, &browser, "refresh").await;
    assert_page(&out, 200, "Refreshed: a new access token");
    let out = press(&chsim, &browser, "userinfo").await;
    assert_page(&out, 200, "chsim's userinfo endpoint answered again.");
    let userinfo: serde_json::Value = serde_json::from_str(&pre(&out.body, "userinfo")).unwrap();
    assert!(
        userinfo["sub"].as_str().unwrap().contains("Karen"),
        "{userinfo}"
    );
    // Without a session the buttons say so.
    let stranger = Browser::with_cookies();
    let out = press(&chsim, &stranger, "refresh").await;
    assert_page(&out, 409, "has no session for this browser");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn its_logout_ends_chsims_session_and_returns_logged_out() {
    let chsim = start(demo_config()).await;
    let browser = Browser::with_cookies();
    log_in(&chsim, &browser, "karen", &[]).await;
    let resp = browser
        .client
        .post(format!("{}/demo-oidc/logout", chsim.base))
        .send()
        .await
        .unwrap();
    let to_chsim = resp.headers()["location"].to_str().unwrap().to_string();
    assert!(
        to_chsim.starts_with(&format!("{}/runtime/openidconnect/logout.idp?", chsim.base)),
        "{to_chsim}"
    );
    let q: std::collections::HashMap<String, String> = reqwest::Url::parse(&to_chsim)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    assert!(
        q.contains_key("id_token_hint") && q.contains_key("state"),
        "{q:?}"
    );
    assert_eq!(
        q["post_logout_redirect_uri"],
        format!("{}/demo-oidc/", chsim.base)
    );
    let mut out = browser.follow(resp, Vec::new()).await;
    // chsim's logout page may first load front-channel frames, then continue.
    if let Some(c) = regex::Regex::new(r#"<a id="chsim-continue" class="button" href="([^"]*)""#)
        .unwrap()
        .captures(&out.body)
    {
        load_frames(&browser, &out.body).await;
        out = browser.get(&unescape(&c[1])).await;
    }
    assert!(
        out.url.starts_with(&format!("{}/demo-oidc/?", chsim.base)),
        "{} {}",
        out.url,
        out.body
    );
    assert_page(&out, 200, "Logged out.");
    assert!(out.body.contains("You logged out here at"), "{}", out.body);
    assert!(out.body.contains(r#"id="login-form""#), "{}", out.body);
    // chsim's session ended too: a new login goes to the IdP again.
    let again = browser
        .get(&format!(
            "{}/demo-oidc/login?idp={}",
            chsim.base,
            url::form_urlencoded::byte_serialize(
                format!("{}/test-idp/korsbaek", chsim.base).as_bytes()
            )
            .collect::<String>()
        ))
        .await;
    assert!(
        again.url.contains("/test-idp/korsbaek/sso"),
        "{}",
        again.url
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn front_channel_logout_from_chsims_session_page_ends_its_session() {
    let chsim = start(demo_config()).await;
    let browser = Browser::with_cookies();
    log_in(&chsim, &browser, "karen", &[]).await;
    let resp = browser
        .client
        .post(format!("{}/runtime/session/logout", chsim.base))
        .send()
        .await
        .unwrap();
    let out = browser.follow(resp, Vec::new()).await;
    assert_eq!(out.status, 200, "{}", out.body);
    let frames = load_frames(&browser, &out.body).await;
    assert_eq!(frames.len(), 1, "{}", out.body);
    let frame = frames.into_iter().next().unwrap();
    assert_eq!(frame.status(), 200);
    // Framable by chsim (the router's DENY is replaced), never cached.
    assert_eq!(frame.headers()["x-frame-options"], "SAMEORIGIN");
    assert_eq!(
        frame.headers()["content-security-policy"],
        format!("frame-ancestors {}", chsim.base).as_str()
    );
    assert_eq!(frame.headers()["cache-control"], "no-store");
    assert!(frame.text().await.unwrap().contains("1 session ended"));
    let page = browser.get(&format!("{}/demo-oidc/", chsim.base)).await;
    assert_page(&page, 200, "told this system by front-channel logout");
    assert!(page.body.contains("Not logged in."), "{}", page.body);
    // A front-channel request naming another issuer ends nothing.
    let wrong = browser
        .client
        .get(format!(
            "{}/demo-oidc/frontchannel-logout?iss=https%3A%2F%2Fevil.example&sid=x",
            chsim.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 400);
    assert!(wrong.text().await.unwrap().contains(", not chsim"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_callback_and_chsims_error_answer_are_shown_not_accepted() {
    let chsim = start(demo_config()).await;
    let browser = Browser::with_cookies();
    // A callback whose state this browser never sent.
    let out = browser
        .get(&format!(
            "{}/demo-oidc/callback?code=abc&state=forged",
            chsim.base
        ))
        .await;
    assert_page(&out, 403, "names no login this browser started");
    // prompt=none without a chsim session: chsim answers login_required at once.
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("prompt", "none");
    let out = browser
        .get(&format!("{}/demo-oidc/login?{}", chsim.base, q.finish()))
        .await;
    assert!(out.url.contains("/demo-oidc/callback?"), "{}", out.url);
    assert_page(&out, 200, "login_required");
    assert!(
        out.body.contains("<td>error_description</td>"),
        "{}",
        out.body
    );
    assert!(out.body.contains("<td>state</td>"), "{}", out.body);
}
