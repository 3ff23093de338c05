//! An OIDC relying party's side of the end-to-end tests (issue #11): PKCE, the authorization
//! request to chsim's `authorize.idp` for the demo client, a login at Korsbæk's test IdP, the
//! token and userinfo endpoints, and tokens verified with the keys chsim publishes.

use super::*;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::Value;

pub const CLIENT: &str = "demo-oidc";
pub const SECRET: &str = "demo-oidc-secret-not-for-production";
pub const PRIVILEGES: &str = "https://data.gov.dk/model/core/eid/privilegesIntermediate";

/// A PKCE pair (RFC 7636 §4.1–4.2).
pub fn pkce() -> (String, String) {
    let mut bytes = [0u8; 32];
    openssl::rand::rand_bytes(&mut bytes).unwrap();
    let verifier = URL_SAFE_NO_PAD.encode(bytes);
    let challenge = URL_SAFE_NO_PAD.encode(openssl::sha::sha256(verifier.as_bytes()));
    (verifier, challenge)
}

pub fn callback(chsim: &Chsim) -> String {
    format!("{}/demo-oidc/callback", chsim.base)
}

/// A browser that stops where the demo OIDC system would take over.
pub fn browser(chsim: &Chsim) -> Browser {
    Browser {
        stop_at: Some(format!("{}/demo-oidc/", chsim.base)),
        ..Browser::with_cookies()
    }
}

/// The authorization request URL with the usual parameters, `extra` added or (empty value)
/// removed.
pub fn authorize_url(chsim: &Chsim, challenge: &str, extra: &[(&str, &str)]) -> String {
    let idp = format!("{}/test-idp/korsbaek", chsim.base);
    let cb = callback(chsim);
    let mut params: Vec<(&str, &str)> = vec![
        ("response_type", "code"),
        ("client_id", CLIENT),
        ("redirect_uri", &cb),
        ("scope", "openid"),
        ("state", "st-1"),
        ("nonce", "n-1"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
        ("idp", &idp),
    ];
    for (k, v) in extra {
        params.retain(|(n, _)| n != k);
        if !v.is_empty() {
            params.push((k, v));
        }
    }
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        q.append_pair(k, v);
    }
    format!("{}/runtime/oauth2/authorize.idp?{}", chsim.base, q.finish())
}

/// The query of the redirect a login ended with.
pub fn redirect_query(out: &Outcome) -> std::collections::HashMap<String, String> {
    let url = reqwest::Url::parse(&out.url).unwrap();
    url.query_pairs().into_owned().collect()
}

/// Logs `user` in at Korsbæk's test IdP through `authorize.idp`; the code's redirect query.
pub async fn login(
    chsim: &Chsim,
    browser: &Browser,
    user: &str,
    challenge: &str,
) -> std::collections::HashMap<String, String> {
    let idp_page = browser.get(&authorize_url(chsim, challenge, &[])).await;
    assert!(
        idp_page.url.contains("/test-idp/korsbaek/sso"),
        "{} {}",
        idp_page.url,
        idp_page.body
    );
    let out = pick_user(browser, &idp_page, user).await;
    assert!(
        out.url.starts_with(&callback(chsim)),
        "{} {}",
        out.url,
        out.body
    );
    redirect_query(&out)
}

/// POSTs `form` to `path` with the demo client's Basic credentials (unless `basic` is None).
pub async fn post(
    chsim: &Chsim,
    path: &str,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{}{path}", chsim.base))
        .form(form);
    if let Some((id, secret)) = basic {
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        req = req.header(
            "authorization",
            format!(
                "Basic {}",
                STANDARD.encode(format!("{}:{}", enc(id), enc(secret)))
            ),
        );
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

pub async fn exchange(chsim: &Chsim, code: &str, verifier: &str) -> (u16, Value) {
    let cb = callback(chsim);
    post(
        chsim,
        "/runtime/oauth2/token.idp",
        Some((CLIENT, SECRET)),
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &cb),
            ("code_verifier", verifier),
        ],
    )
    .await
}

/// The refresh grant with the demo client's credentials.
pub async fn refresh(chsim: &Chsim, token: &str) -> (u16, Value) {
    post(
        chsim,
        "/runtime/oauth2/token.idp",
        Some((CLIENT, SECRET)),
        &[("grant_type", "refresh_token"), ("refresh_token", token)],
    )
    .await
}

pub async fn userinfo(chsim: &Chsim, access_token: &str) -> (u16, Value, String) {
    let resp = reqwest::Client::new()
        .get(format!("{}/runtime/openidconnect/userinfo.idp", chsim.base))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let challenge = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::Null),
        challenge,
    )
}

/// Verifies `token` with the key chsim publishes at its `jwks_uri` (found through discovery),
/// as a relying party does: the key by `kid`, the algorithm from the JWK.
pub async fn verified(chsim: &Chsim, token: &str, typ: &str) -> serde_json::Map<String, Value> {
    verified_for(chsim, token, typ, CLIENT).await
}

/// As [`verified`], for a token whose audience is `aud`.
pub async fn verified_for(
    chsim: &Chsim,
    token: &str,
    typ: &str,
    aud: &str,
) -> serde_json::Map<String, Value> {
    let get = |url: String| async move { reqwest::get(url).await.unwrap().text().await.unwrap() };
    let discovery: Value = serde_json::from_str(
        &get(format!(
            "{}/runtime/oauth2/.well-known/openid-configuration",
            chsim.base
        ))
        .await,
    )
    .unwrap();
    let jwks: jsonwebtoken::jwk::JwkSet =
        serde_json::from_str(&get(discovery["jwks_uri"].as_str().unwrap().to_string()).await)
            .unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.typ.as_deref(), Some(typ));
    let jwk = jwks.find(header.kid.as_deref().unwrap()).unwrap();
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.set_audience(&[aud]);
    validation.set_issuer(&[discovery["issuer"].as_str().unwrap()]);
    jsonwebtoken::decode::<serde_json::Map<String, Value>>(token, &key, &validation)
        .unwrap()
        .claims
}
