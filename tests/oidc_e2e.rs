//! chsim as an OpenID Provider end to end (issue #11 §5), over real HTTP: the code flow behind
//! the same broker as SAML (test IdP, roles, SSO session), the token endpoint's refusals each
//! with its OAuth error, single-use codes, refresh rotation with reuse detection, revocation,
//! `prompt=none`, and tokens checked with the keys chsim publishes.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use common::oidc::*;
use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_code_flow_gives_verified_tokens_with_the_persons_roles_and_userinfo() {
    let chsim = start(demo_config()).await;
    let browser = browser(&chsim);
    let (verifier, challenge) = pkce();
    let q = login(&chsim, &browser, "karen", &challenge).await;
    assert_eq!(q["state"], "st-1");
    assert_eq!(q["iss"], format!("{}/runtime/oauth2", chsim.base));
    let (status, tokens) = exchange(&chsim, &q["code"], &verifier).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3600);
    assert!(tokens["refresh_token"].is_string(), "{tokens}");
    let id = verified(&chsim, tokens["id_token"].as_str().unwrap(), "JWT").await;
    assert_eq!(id["nonce"], "n-1");
    // `sub` is the NameID the IdP gave (X509SubjectName), as a SAML user system gets it.
    let sub = id["sub"].as_str().unwrap();
    assert!(
        sub.contains("O=11111111") && sub.contains("Serial="),
        "{sub}"
    );
    assert_eq!(
        id["acr"],
        "https://data.gov.dk/concept/core/nsis/loa/Substantial"
    );
    assert_eq!(
        id["https://data.gov.dk/concept/core/nsis/loa"],
        "Substantial"
    );
    assert!(id["sid"].is_string() && id["auth_time"].is_i64());
    // The roles are system C's, mapped from Karen's job-function roles.
    let privileges =
        String::from_utf8(STANDARD.decode(id[PRIVILEGES].as_str().unwrap()).unwrap()).unwrap();
    assert!(
        privileges.contains("http://fagsystem-c.demo/roles/usersystemrole/laes-sag/1"),
        "{privileges}"
    );
    let access = tokens["access_token"].as_str().unwrap();
    let at = verified(&chsim, access, "at+jwt").await;
    assert_eq!(at["sub"], id["sub"]);
    assert_eq!(at["client_id"], CLIENT);
    let (status, info, _) = userinfo(&chsim, access).await;
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["sub"], id["sub"]);
    assert_eq!(info[PRIVILEGES], id[PRIVILEGES]);
    assert!(
        info.get("aud").is_none() && info.get("jti").is_none(),
        "{info}"
    );

    // A code is good once; a second use fails and revokes what the first gave.
    let (status, again) = exchange(&chsim, &q["code"], &verifier).await;
    assert_eq!(
        (status, again["error"].as_str()),
        (400, Some("invalid_grant")),
        "{again}"
    );
    assert!(again["error_description"]
        .as_str()
        .unwrap()
        .contains("already used"));
    let (status, _, challenge) = userinfo(&chsim, access).await;
    assert_eq!(status, 401);
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_endpoint_refuses_each_fault_with_its_oauth_error() {
    let chsim = start(demo_config()).await;
    // A new browser for each login, so that each goes to the IdP (no SSO session).
    let cb = callback(&chsim);
    // A wrong PKCE verifier (the code is spent by the attempt).
    let (_, challenge) = pkce();
    let q = login(&chsim, &browser(&chsim), "karen", &challenge).await;
    let (wrong, _) = pkce();
    let (status, e) = exchange(&chsim, &q["code"], &wrong).await;
    assert_eq!(
        (status, e["error"].as_str()),
        (400, Some("invalid_grant")),
        "{e}"
    );
    assert!(
        e["error_description"].as_str().unwrap().contains("PKCE"),
        "{e}"
    );
    // A wrong redirect_uri.
    let (verifier, challenge) = pkce();
    let q = login(&chsim, &browser(&chsim), "karen", &challenge).await;
    let (status, e) = post(
        &chsim,
        "/runtime/oauth2/token.idp",
        Some((CLIENT, SECRET)),
        &[
            ("grant_type", "authorization_code"),
            ("code", &q["code"]),
            ("redirect_uri", &format!("{cb}/other")),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(
        (status, e["error"].as_str()),
        (400, Some("invalid_grant")),
        "{e}"
    );
    assert!(
        e["error_description"]
            .as_str()
            .unwrap()
            .contains("redirect_uri"),
        "{e}"
    );
    // A wrong secret: 401 invalid_client, challenged as Basic; nothing says which part failed.
    let (verifier, challenge) = pkce();
    let q = login(&chsim, &browser(&chsim), "karen", &challenge).await;
    let (status, e) = post(
        &chsim,
        "/runtime/oauth2/token.idp",
        Some((CLIENT, "wrong")),
        &[
            ("grant_type", "authorization_code"),
            ("code", &q["code"]),
            ("redirect_uri", &cb),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(
        (status, e["error"].as_str()),
        (401, Some("invalid_client")),
        "{e}"
    );
    // The code survived the failed authentication and still works.
    let (status, tokens) = exchange(&chsim, &q["code"], &verifier).await;
    assert_eq!(status, 200, "{tokens}");
    // An unknown grant type, and a missing verifier.
    let (status, e) = post(
        &chsim,
        "/runtime/oauth2/token.idp",
        Some((CLIENT, SECRET)),
        &[("grant_type", "password")],
    )
    .await;
    assert_eq!(
        (status, e["error"].as_str()),
        (400, Some("unsupported_grant_type")),
        "{e}"
    );
    let (status, e) = post(
        &chsim,
        "/runtime/oauth2/token.idp",
        Some((CLIENT, SECRET)),
        &[
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("redirect_uri", &cb),
        ],
    )
    .await;
    assert_eq!(
        (status, e["error"].as_str()),
        (400, Some("invalid_request")),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_code_is_refused_as_expired() {
    let clock = fixed_clock();
    let chsim = start_with_clock(demo_config(), clock.clone()).await;
    let browser = browser(&chsim);
    let (verifier, challenge) = pkce();
    let q = login(&chsim, &browser, "karen", &challenge).await;
    clock.advance(chrono::Duration::seconds(61));
    let (status, e) = exchange(&chsim, &q["code"], &verifier).await;
    assert_eq!(
        (status, e["error"].as_str()),
        (400, Some("invalid_grant")),
        "{e}"
    );
    assert!(
        e["error_description"].as_str().unwrap().contains("expired"),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_requests_are_refused_on_a_page_or_at_the_redirect_uri() {
    let chsim = start(demo_config()).await;
    let browser = browser(&chsim);
    let (_, challenge) = pkce();
    // Unknown redirect URI: nowhere safe to send the error, so chsim's page says it.
    let out = browser
        .get(&authorize_url(
            &chsim,
            &challenge,
            &[("redirect_uri", "https://evil.example/cb")],
        ))
        .await;
    assert_eq!(out.status, 400, "{}", out.body);
    assert!(out.body.contains("redirect_uri"), "{}", out.body);
    // Missing state, nonce or PKCE: invalid_request at the redirect URI.
    for missing in ["nonce", "code_challenge"] {
        let out = browser
            .get(&authorize_url(&chsim, &challenge, &[(missing, "")]))
            .await;
        let q = redirect_query(&out);
        assert_eq!(q["error"], "invalid_request", "{missing}: {q:?}");
        assert_eq!(q["state"], "st-1");
        assert!(q["error_description"].contains(missing), "{q:?}");
    }
    let out = browser
        .get(&authorize_url(&chsim, &challenge, &[("state", "")]))
        .await;
    let q = redirect_query(&out);
    assert_eq!(q["error"], "invalid_request", "{q:?}");
    assert!(!q.contains_key("state"));
    // prompt=none without a session: login_required, without showing anything.
    let out = browser
        .get(&authorize_url(&chsim, &challenge, &[("prompt", "none")]))
        .await;
    let q = redirect_query(&out);
    assert_eq!(q["error"], "login_required", "{q:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saml_session_answers_the_oidc_system_without_the_idp_and_prompt_none_works() {
    let chsim = start(demo_config()).await;
    let browser = browser(&chsim);
    let saml = login_as(&chsim, &browser, "oiosaml3", "korsbaek", "karen").await;
    assert!(saml
        .posted_to("/demo-sp/oiosaml3/acs", "SAMLResponse")
        .is_some());
    let (verifier, challenge) = pkce();
    let out = browser
        .get(&authorize_url(&chsim, &challenge, &[("prompt", "none")]))
        .await;
    assert!(
        !out.url.contains("/test-idp/"),
        "went to the IdP: {}",
        out.url
    );
    let q = redirect_query(&out);
    assert!(q.contains_key("code"), "{q:?}");
    let (status, tokens) = exchange(&chsim, &q["code"], &verifier).await;
    assert_eq!(status, 200, "{tokens}");
    // prompt=login forces the IdP again.
    let out = browser
        .get(&authorize_url(&chsim, &challenge, &[("prompt", "login")]))
        .await;
    assert!(out.url.contains("/test-idp/korsbaek/sso"), "{}", out.url);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_rotates_and_a_rotated_out_token_revokes_its_family() {
    let chsim = start(demo_config()).await;
    let browser = browser(&chsim);
    let (verifier, challenge) = pkce();
    let q = login(&chsim, &browser, "karen", &challenge).await;
    let (_, first) = exchange(&chsim, &q["code"], &verifier).await;
    let r1 = first["refresh_token"].as_str().unwrap().to_string();
    let (status, second) = refresh(&chsim, &r1).await;
    assert_eq!(status, 200, "{second}");
    let r2 = second["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(r1, r2);
    let id = verified(&chsim, second["id_token"].as_str().unwrap(), "JWT").await;
    assert_eq!(id["nonce"], "n-1");
    let (status, _, _) = userinfo(&chsim, second["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    // The rotated-out token again: refused, and the whole family with it.
    let (status, e) = refresh(&chsim, &r1).await;
    assert_eq!(
        (status, e["error"].as_str()),
        (400, Some("invalid_grant")),
        "{e}"
    );
    let (status, e) = refresh(&chsim, &r2).await;
    assert_eq!(
        (status, e["error"].as_str()),
        (400, Some("invalid_grant")),
        "{e}"
    );
    let (status, _, _) = userinfo(&chsim, second["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_ends_an_access_token_and_a_refresh_tokens_grant() {
    let chsim = start(demo_config()).await;
    let browser = browser(&chsim);
    let (verifier, challenge) = pkce();
    let q = login(&chsim, &browser, "karen", &challenge).await;
    let (_, tokens) = exchange(&chsim, &q["code"], &verifier).await;
    let access = tokens["access_token"].as_str().unwrap();
    let (status, _) = post(
        &chsim,
        "/runtime/oauth2/revoke.idp",
        Some((CLIENT, SECRET)),
        &[("token", access), ("token_type_hint", "access_token")],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(userinfo(&chsim, access).await.0, 401);
    // An unknown token is answered as revoked (RFC 7009 §2.2).
    let (status, _) = post(
        &chsim,
        "/runtime/oauth2/revoke.idp",
        Some((CLIENT, SECRET)),
        &[("token", "no-such-token")],
    )
    .await;
    assert_eq!(status, 200);
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (status, _) = post(
        &chsim,
        "/runtime/oauth2/revoke.idp",
        Some((CLIENT, SECRET)),
        &[("token", refresh)],
    )
    .await;
    assert_eq!(status, 200);
    let (status, e) = post(
        &chsim,
        "/runtime/oauth2/token.idp",
        Some((CLIENT, SECRET)),
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_eq!(
        (status, e["error"].as_str()),
        (400, Some("invalid_grant")),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_age_sends_an_old_session_back_to_the_idp_with_force_authn() {
    let clock = fixed_clock();
    let chsim = start_with_clock(demo_config(), clock.clone()).await;
    let browser = browser(&chsim);
    let (verifier, challenge) = pkce();
    let q = login(&chsim, &browser, "karen", &challenge).await;
    let (_, tokens) = exchange(&chsim, &q["code"], &verifier).await;
    // The fixed clock stands in the past, so the tokens are read, not verified, here.
    let auth_time = |tokens: &serde_json::Value| {
        let payload = tokens["id_token"]
            .as_str()
            .unwrap()
            .split('.')
            .nth(1)
            .unwrap();
        let claims: serde_json::Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .unwrap(),
        )
        .unwrap();
        claims["auth_time"].as_i64().unwrap()
    };
    let first = auth_time(&tokens);
    clock.advance(chrono::Duration::seconds(600));
    // A max_age beyond any duration is no bound (and no panic): the session answers.
    let out = browser
        .get(&authorize_url(
            &chsim,
            &challenge,
            &[("max_age", "1000000000000000000")],
        ))
        .await;
    assert!(redirect_query(&out).contains_key("code"), "{}", out.url);
    // max_age=60 after ten minutes: to the IdP, asked for a fresh login.
    let stop_at_idp = Browser {
        stop_at: Some(format!("{}/test-idp/", chsim.base)),
        client: browser.client.clone(),
    };
    let (verifier, challenge) = pkce();
    let out = stop_at_idp
        .get(&authorize_url(&chsim, &challenge, &[("max_age", "60")]))
        .await;
    assert!(out.url.contains("/test-idp/korsbaek/sso"), "{}", out.url);
    assert!(redirect_request(&out.url)
        .xml
        .contains(r#"ForceAuthn="true""#));
    let idp_page = browser.get(&out.url).await;
    let out = pick_user(&browser, &idp_page, "karen").await;
    let q = redirect_query(&out);
    let (_, tokens) = exchange(&chsim, &q["code"], &verifier).await;
    assert_eq!(auth_time(&tokens), first + 600);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_refresh_families_and_revocations_hold_in_the_shared_redis_store() {
    let redis = common::redis::RedisServer::start();
    let mut config = demo_config();
    config.chsim.store.backend = chsim::config::StoreBackend::Redis;
    config.chsim.store.redis_url = Some(redis.url());
    let chsim = start(config).await;
    let browser = browser(&chsim);
    let (verifier, challenge) = pkce();
    let q = login(&chsim, &browser, "karen", &challenge).await;
    let (status, first) = exchange(&chsim, &q["code"], &verifier).await;
    assert_eq!(status, 200, "{first}");
    let r1 = first["refresh_token"].as_str().unwrap().to_string();
    let (status, second) = refresh(&chsim, &r1).await;
    assert_eq!(status, 200, "{second}");
    let access = second["access_token"].as_str().unwrap();
    assert_eq!(userinfo(&chsim, access).await.0, 200);
    // Revoking the access token is remembered in Redis.
    let (status, _) = post(
        &chsim,
        "/runtime/oauth2/revoke.idp",
        Some((CLIENT, SECRET)),
        &[("token", access)],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(userinfo(&chsim, access).await.0, 401);
    // The rotated-out token again revokes the family; the code again is refused.
    let (status, e) = refresh(&chsim, &r1).await;
    assert_eq!(
        (status, e["error"].as_str()),
        (400, Some("invalid_grant")),
        "{e}"
    );
    let r2 = second["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(refresh(&chsim, &r2).await.0, 400);
    let (status, e) = exchange(&chsim, &q["code"], &verifier).await;
    assert_eq!(
        (status, e["error"].as_str()),
        (400, Some("invalid_grant")),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oidc_login_answers_a_saml_user_system_without_the_idp() {
    let chsim = start(demo_config()).await;
    let browser = browser(&chsim);
    let (_, challenge) = pkce();
    login(&chsim, &browser, "karen", &challenge).await;
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("idp", &format!("{}/test-idp/korsbaek", chsim.base));
    let out = browser
        .get(&format!(
            "{}/demo-sp/oiosaml3/login?{}",
            chsim.base,
            q.finish()
        ))
        .await;
    assert!(
        !out.url.contains("/test-idp/"),
        "went to the IdP: {}",
        out.url
    );
    assert!(
        out.posted_to("/demo-sp/oiosaml3/acs", "SAMLResponse")
            .is_some(),
        "{}",
        out.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_registered_encryption_gets_its_id_token_as_a_nested_jwe() {
    let mut config = demo_config();
    let text = r#"
client_id = "enc-client"
name = "Encrypting client"
cvr = "29189846"
application_type = "web"
token_endpoint_auth_method = "client_secret_post"
client_secret = "enc-secret-of-some-length"
redirect_uris = ["{public_url}/demo-oidc/enc-callback"]
backchannel_logout_uri = "https://enc.example/bc"
nsis_level = "Substantial"
encrypted_response_alg = "A256KW"
"#;
    config
        .user_systems
        .oidc_user_system
        .push(toml::from_str(text).unwrap());
    let chsim = start(config).await;
    let browser = browser(&chsim);
    let (verifier, challenge) = pkce();
    let cb = format!("{}/demo-oidc/enc-callback", chsim.base);
    let idp_page = browser
        .get(&authorize_url(
            &chsim,
            &challenge,
            &[("client_id", "enc-client"), ("redirect_uri", &cb)],
        ))
        .await;
    let out = pick_user(&browser, &idp_page, "karen").await;
    let q = redirect_query(&out);
    let (status, tokens) = post(
        &chsim,
        "/runtime/oauth2/token.idp",
        None,
        &[
            ("grant_type", "authorization_code"),
            ("code", &q["code"]),
            ("redirect_uri", &cb),
            ("code_verifier", &verifier),
            ("client_id", "enc-client"),
            ("client_secret", "enc-secret-of-some-length"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    let jwe = tokens["id_token"].as_str().unwrap();
    assert_eq!(jwe.split('.').count(), 5, "{jwe}");
    // OIDC Core §10.2: the A256KW key is SHA-256 of the client secret.
    let key = openssl::sha::sha256(b"enc-secret-of-some-length");
    let decrypter = josekit::jwe::A256KW.decrypter_from_bytes(key).unwrap();
    let (inner, header) = josekit::jwe::deserialize_compact(jwe, &decrypter).unwrap();
    assert_eq!(header.content_type(), Some("JWT"));
    assert_eq!(header.content_encryption(), Some("A256GCM"));
    let claims = verified_for(
        &chsim,
        std::str::from_utf8(&inner).unwrap(),
        "JWT",
        "enc-client",
    )
    .await;
    assert_eq!(claims["nonce"], "n-1");
}
