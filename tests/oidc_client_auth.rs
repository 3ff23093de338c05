//! Client authentication at the token endpoint over real HTTP, for each method a registration may
//! name besides the demo client's `client_secret_basic` (reference §4, RFC 6749 §2.3, RFC 7523
//! §3, OIDC Core §9): `client_secret_post`, `none` (public clients, PKCE alone),
//! `private_key_jwt` (RS256 against the registered JWK Set, each `jti` once) and Basic with
//! form-urlencoded id and secret. Every refusal is checked by its status and OAuth `error`.
//!
//! The clients are registered in the test, on top of the demo configuration; the browser logs
//! Karen in at the Korsbæk test IdP and stops at the client's redirect URI.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use chsim::clock::{Clock, SystemClock};
use chsim::config::{Config, OidcUserSystemConfig};
use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

const TOKEN_PATH: &str = "/runtime/oauth2/token.idp";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A registration as `[[oidc_user_system]]` in user_systems.toml would give it: Karen's
/// sagsbehandler role maps to one role of its own; `extra` adds or overrides keys.
fn registration(
    client_id: &str,
    application_type: &str,
    method: &str,
    redirect_uri: &str,
    extra: &str,
) -> OidcUserSystemConfig {
    let role = format!("http://chsim-test.example/{method}/roles/laes/1");
    let text = format!(
        r#"
client_id = {client_id:?}
name = "Test client ({method})"
cvr = "29189846"
application_type = {application_type:?}
token_endpoint_auth_method = {method:?}
redirect_uris = [{redirect_uri:?}]
frontchannel_logout_uri = "{{public_url}}/demo-oidc/frontchannel-logout"
nsis_level = "Substantial"
{extra}

[[role]]
id = {role:?}

[[mapping]]
job_role = "http://korsbaek.dk/roles/jobrole/sagsbehandler/1"
role = {role:?}
"#
    );
    toml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// The demo configuration plus `clients`.
async fn chsim_with(clients: Vec<OidcUserSystemConfig>) -> Chsim {
    let mut config: Config = demo_config();
    config.user_systems.oidc_user_system.extend(clients);
    start(config).await
}

/// A PKCE pair (RFC 7636 §4.1–4.2).
fn pkce() -> (String, String) {
    let mut bytes = [0u8; 32];
    openssl::rand::rand_bytes(&mut bytes).unwrap();
    let verifier = URL_SAFE_NO_PAD.encode(bytes);
    let challenge = URL_SAFE_NO_PAD.encode(openssl::sha::sha256(verifier.as_bytes()));
    (verifier, challenge)
}

/// Logs Karen in at Korsbæk through `authorize.idp` for `client_id`, in a fresh browser that
/// stops at `redirect_uri`; returns the code and its PKCE verifier.
async fn login(chsim: &Chsim, client_id: &str, redirect_uri: &str) -> (String, String) {
    let (verifier, challenge) = pkce();
    let idp = format!("{}/test-idp/korsbaek", chsim.base);
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in [
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("scope", "openid"),
        ("state", "st-auth"),
        ("nonce", "n-auth"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
        ("idp", &idp),
    ] {
        q.append_pair(k, v);
    }
    let browser = Browser {
        stop_at: Some(redirect_uri.to_string()),
        ..Browser::with_cookies()
    };
    let url = format!("{}/runtime/oauth2/authorize.idp?{}", chsim.base, q.finish());
    let idp_page = browser.get(&url).await;
    assert!(
        idp_page.url.contains("/test-idp/korsbaek/sso"),
        "{} {}",
        idp_page.url,
        idp_page.body
    );
    let out = pick_user(&browser, &idp_page, "karen").await;
    assert!(
        out.url.starts_with(redirect_uri),
        "{} {}",
        out.url,
        out.body
    );
    let query: std::collections::HashMap<String, String> = reqwest::Url::parse(&out.url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    assert_eq!(query["state"], "st-auth", "{query:?}");
    (query["code"].clone(), verifier)
}

/// The token endpoint's answer: status, JSON body, `WWW-Authenticate`.
struct Answer {
    status: u16,
    body: Value,
    challenge: Option<String>,
}

impl Answer {
    fn error(&self) -> (u16, Option<&str>) {
        (self.status, self.body["error"].as_str())
    }
}

/// POSTs `form` to the token endpoint, with `authorization` as the header when given.
async fn token(chsim: &Chsim, authorization: Option<String>, form: &[(&str, &str)]) -> Answer {
    let mut req = reqwest::Client::new()
        .post(format!("{}{TOKEN_PATH}", chsim.base))
        .form(form);
    if let Some(value) = authorization {
        req = req.header("authorization", value);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let challenge = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string());
    let text = resp.text().await.unwrap();
    Answer {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
        challenge,
    }
}

/// The code-exchange form with `auth` (the client's credentials in the body) added.
fn code_form<'a>(
    code: &'a str,
    verifier: &'a str,
    redirect_uri: &'a str,
    auth: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("code_verifier", verifier),
    ];
    form.extend_from_slice(auth);
    form
}

/// `Authorization: Basic` with id and secret form-urlencoded first (RFC 6749 §2.3.1, reference §4).
fn basic(id: &str, secret: &str) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", enc(id), enc(secret)))
    )
}

/// The ID token of a successful answer, verified with chsim's published key for `client_id`.
async fn id_token_of(chsim: &Chsim, answer: &Answer, client_id: &str) -> Value {
    assert_eq!(answer.status, 200, "{}", answer.body);
    let jwks: jsonwebtoken::jwk::JwkSet =
        reqwest::get(format!("{}/runtime/oauth2/certs.idp", chsim.base))
            .await
            .unwrap()
            .text()
            .await
            .map(|t| serde_json::from_str(&t).unwrap())
            .unwrap();
    let token = answer.body["id_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    let key =
        jsonwebtoken::DecodingKey::from_jwk(jwks.find(header.kid.as_deref().unwrap()).unwrap())
            .unwrap();
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.set_audience(&[client_id]);
    validation.set_issuer(&[format!("{}/runtime/oauth2", chsim.base)]);
    let claims = jsonwebtoken::decode::<Value>(token, &key, &validation)
        .unwrap()
        .claims;
    assert_eq!(claims["nonce"], "n-auth");
    claims
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_secret_post_gets_tokens_and_a_wrong_secret_is_invalid_client() {
    let cb = "http://127.0.0.1/post/callback";
    let chsim = chsim_with(vec![registration(
        "test-post",
        "web",
        "client_secret_post",
        cb,
        r#"client_secret = "post-secret""#,
    )])
    .await;
    let (code, verifier) = login(&chsim, "test-post", cb).await;
    // A wrong secret: 401 invalid_client; no Authorization header was used, so no challenge.
    let wrong = [("client_id", "test-post"), ("client_secret", "wrong")];
    let e = token(&chsim, None, &code_form(&code, &verifier, cb, &wrong)).await;
    assert_eq!(e.error(), (401, Some("invalid_client")), "{}", e.body);
    assert_eq!(e.challenge, None);
    // The right secret sent as Basic: the registered method only.
    let e = token(
        &chsim,
        Some(basic("test-post", "post-secret")),
        &code_form(&code, &verifier, cb, &[]),
    )
    .await;
    assert_eq!(e.error(), (401, Some("invalid_client")), "{}", e.body);
    assert_eq!(e.challenge.as_deref(), Some("Basic realm=\"chsim\""));
    // No client_id: nothing to authenticate.
    let e = token(
        &chsim,
        None,
        &code_form(&code, &verifier, cb, &[("client_secret", "post-secret")]),
    )
    .await;
    assert_eq!(e.error(), (401, Some("invalid_client")), "{}", e.body);
    // The code survived the failed attempts; the right secret in the body gets the tokens.
    let right = [("client_id", "test-post"), ("client_secret", "post-secret")];
    let ok = token(&chsim, None, &code_form(&code, &verifier, cb, &right)).await;
    let id = id_token_of(&chsim, &ok, "test-post").await;
    assert!(id["sub"].as_str().unwrap().contains("O=11111111"), "{id}");
    assert!(ok.body["access_token"].is_string(), "{}", ok.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_clients_use_pkce_alone_and_a_secret_they_send_is_invalid_client() {
    let native_cb = "http://127.0.0.1/native/callback";
    let spa_cb = "https://spa.chsim-test.example/callback";
    let chsim = chsim_with(vec![
        registration("test-native", "native", "none", native_cb, ""),
        registration("test-spa", "javascript", "none", spa_cb, ""),
    ])
    .await;
    for (client, cb) in [("test-native", native_cb), ("test-spa", spa_cb)] {
        let (code, verifier) = login(&chsim, client, cb).await;
        // A secret in the body: the client is registered for `none`, so it is refused.
        let with_secret = [("client_id", client), ("client_secret", "anything")];
        let e = token(&chsim, None, &code_form(&code, &verifier, cb, &with_secret)).await;
        assert_eq!(
            e.error(),
            (401, Some("invalid_client")),
            "{client}: {}",
            e.body
        );
        // The same as Basic, challenged as Basic.
        let e = token(
            &chsim,
            Some(basic(client, "anything")),
            &code_form(&code, &verifier, cb, &[]),
        )
        .await;
        assert_eq!(
            e.error(),
            (401, Some("invalid_client")),
            "{client}: {}",
            e.body
        );
        assert_eq!(e.challenge.as_deref(), Some("Basic realm=\"chsim\""));
        // Without the verifier PKCE cannot bind the code: invalid_request.
        let mut no_verifier = code_form(&code, &verifier, cb, &[("client_id", client)]);
        no_verifier.retain(|(k, _)| *k != "code_verifier");
        let e = token(&chsim, None, &no_verifier).await;
        assert_eq!(
            e.error(),
            (400, Some("invalid_request")),
            "{client}: {}",
            e.body
        );
        // client_id and the verifier alone get the tokens.
        let form = code_form(&code, &verifier, cb, &[("client_id", client)]);
        let ok = token(&chsim, None, &form).await;
        id_token_of(&chsim, &ok, client).await;
        // A code is good once.
        let again = token(&chsim, None, &form).await;
        assert_eq!(
            again.error(),
            (400, Some("invalid_grant")),
            "{}",
            again.body
        );
    }
}

/// A client's RSA key pair: the registration's JWK Set and the key that signs its assertions.
struct ClientKey {
    kid: String,
    jwks: String,
    private_pem: Vec<u8>,
    public_pem: Vec<u8>,
}

fn client_key(kid: &str) -> ClientKey {
    let rsa = openssl::rsa::Rsa::generate(2048).unwrap();
    let b64 = |b: Vec<u8>| URL_SAFE_NO_PAD.encode(b);
    let jwks = json!({"keys": [{
        "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
        "n": b64(rsa.n().to_vec()), "e": b64(rsa.e().to_vec()),
    }]});
    ClientKey {
        kid: kid.to_string(),
        jwks: jwks.to_string(),
        private_pem: rsa.private_key_to_pem().unwrap(),
        public_pem: rsa.public_key_to_pem().unwrap(),
    }
}

/// A client assertion (reference §4: `iss` = `sub` = client_id, `aud`, `jti`, `iat`,
/// `exp` = `iat` + 5 min), signed RS256 with `key`.
fn assertion(key: &ClientKey, client_id: &str, aud: &str, jti: &str) -> String {
    let iat = SystemClock.now().timestamp();
    let claims = json!({
        "iss": client_id, "sub": client_id, "aud": aud, "jti": jti,
        "iat": iat, "exp": iat + 300,
    });
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(key.kid.clone());
    let signer = EncodingKey::from_rsa_pem(&key.private_pem).unwrap();
    jsonwebtoken::encode(&header, &claims, &signer).unwrap()
}

/// Fresh `jti`s.
fn jti() -> String {
    let mut bytes = [0u8; 16];
    openssl::rand::rand_bytes(&mut bytes).unwrap();
    URL_SAFE_NO_PAD.encode(bytes)
}

const JWT_CLIENT: &str = "test-jwt";
const JWT_CB: &str = "http://127.0.0.1/jwt/callback";

async fn chsim_with_jwt_client(key: &ClientKey) -> Chsim {
    let extra = format!("jwks = '{}'", key.jwks);
    chsim_with(vec![registration(
        JWT_CLIENT,
        "web",
        "private_key_jwt",
        JWT_CB,
        &extra,
    )])
    .await
}

/// The form fields of `private_key_jwt` (reference §4: with `client_id`).
fn jwt_auth(assertion: &str) -> [(&str, &str); 3] {
    [
        ("client_id", JWT_CLIENT),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", assertion),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_key_jwt_gets_tokens_and_a_replayed_assertion_is_invalid_client() {
    let key = client_key("test-jwt-key-1");
    let chsim = chsim_with_jwt_client(&key).await;
    let aud = format!("{}{TOKEN_PATH}", chsim.base);
    let first = assertion(&key, JWT_CLIENT, &aud, &jti());
    let (code, verifier) = login(&chsim, JWT_CLIENT, JWT_CB).await;
    let ok = token(
        &chsim,
        None,
        &code_form(&code, &verifier, JWT_CB, &jwt_auth(&first)),
    )
    .await;
    let id = id_token_of(&chsim, &ok, JWT_CLIENT).await;
    assert_eq!(
        id["acr"],
        "https://data.gov.dk/concept/core/nsis/loa/Substantial"
    );
    // The same assertion (same jti) on the next token request: a replay.
    let (code, verifier) = login(&chsim, JWT_CLIENT, JWT_CB).await;
    let e = token(
        &chsim,
        None,
        &code_form(&code, &verifier, JWT_CB, &jwt_auth(&first)),
    )
    .await;
    assert_eq!(e.error(), (401, Some("invalid_client")), "{}", e.body);
    assert_eq!(e.body["error_description"], "client authentication failed");
    // The code survived; a fresh assertion gets its tokens.
    let fresh = assertion(&key, JWT_CLIENT, &aud, &jti());
    let ok = token(
        &chsim,
        None,
        &code_form(&code, &verifier, JWT_CB, &jwt_auth(&fresh)),
    )
    .await;
    id_token_of(&chsim, &ok, JWT_CLIENT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_assertions_for_another_audience_signed_hs256_or_by_another_key_are_invalid_client()
{
    let key = client_key("test-jwt-key-1");
    let chsim = chsim_with_jwt_client(&key).await;
    let aud = format!("{}{TOKEN_PATH}", chsim.base);
    let (code, verifier) = login(&chsim, JWT_CLIENT, JWT_CB).await;
    // HS256 keyed with the client's public key (the algorithm-confusion attack).
    let hs256 = {
        let iat = SystemClock.now().timestamp();
        let claims = json!({
            "iss": JWT_CLIENT, "sub": JWT_CLIENT, "aud": aud, "jti": jti(),
            "iat": iat, "exp": iat + 300,
        });
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(key.kid.clone());
        jsonwebtoken::encode(
            &header,
            &claims,
            &EncodingKey::from_secret(&key.public_pem).unwrap(),
        )
        .unwrap()
    };
    // A key of the same kid that is not the registered one.
    let impostor = ClientKey {
        kid: key.kid.clone(),
        ..client_key("other")
    };
    let cases = [
        (
            "aud is chsim's userinfo endpoint",
            assertion(
                &key,
                JWT_CLIENT,
                &format!("{}/runtime/openidconnect/userinfo.idp", chsim.base),
                &jti(),
            ),
        ),
        (
            "aud is another server's token endpoint",
            assertion(
                &key,
                JWT_CLIENT,
                "https://n2adgangsstyring.stoettesystemerne.dk/runtime/oauth2/token.idp",
                &jti(),
            ),
        ),
        ("HS256", hs256),
        (
            "signed by an unregistered key",
            assertion(&impostor, JWT_CLIENT, &aud, &jti()),
        ),
    ];
    for (what, bad) in &cases {
        let e = token(
            &chsim,
            None,
            &code_form(&code, &verifier, JWT_CB, &jwt_auth(bad)),
        )
        .await;
        assert_eq!(
            e.error(),
            (401, Some("invalid_client")),
            "{what}: {}",
            e.body
        );
        assert_eq!(e.challenge, None, "{what}");
    }
    // None of them spent the code.
    let good = assertion(&key, JWT_CLIENT, &aud, &jti());
    let ok = token(
        &chsim,
        None,
        &code_form(&code, &verifier, JWT_CB, &jwt_auth(&good)),
    )
    .await;
    id_token_of(&chsim, &ok, JWT_CLIENT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_credentials_are_form_urlencoded_before_base64() {
    // An id and a secret with characters form-urlencoding changes: `:` (the separator), `+`
    // (a space once decoded), `%`, `&`, `=`, `/` and a non-ASCII letter.
    let id = "urn:chsim:test basic/ø";
    let secret = "s3cr:t+plus%&=/ø";
    let cb = "http://127.0.0.1/basic/callback";
    let extra = format!("client_secret = {secret:?}");
    let chsim = chsim_with(vec![registration(
        id,
        "web",
        "client_secret_basic",
        cb,
        &extra,
    )])
    .await;
    let (code, verifier) = login(&chsim, id, cb).await;
    // Sent raw, the way a client that skips the encoding would: the id is cut at its first `:`,
    // so the credentials name no registered client.
    let raw = format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")));
    let e = token(&chsim, Some(raw), &code_form(&code, &verifier, cb, &[])).await;
    assert_eq!(e.error(), (401, Some("invalid_client")), "{}", e.body);
    assert_eq!(e.challenge.as_deref(), Some("Basic realm=\"chsim\""));
    // The id encoded but the secret raw: its `+` decodes to a space, `%&=` are not form parts.
    let enc_id = url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>();
    let half = format!("Basic {}", STANDARD.encode(format!("{enc_id}:{secret}")));
    let e = token(&chsim, Some(half), &code_form(&code, &verifier, cb, &[])).await;
    assert_eq!(e.error(), (401, Some("invalid_client")), "{}", e.body);
    // Encoded, but with a client_id in the body that differs from the Basic one.
    let e = token(
        &chsim,
        Some(basic(id, secret)),
        &code_form(&code, &verifier, cb, &[("client_id", "demo-oidc")]),
    )
    .await;
    assert_eq!(e.error(), (401, Some("invalid_client")), "{}", e.body);
    // Both encoded: the tokens (the failed attempts did not spend the code).
    let ok = token(
        &chsim,
        Some(basic(id, secret)),
        &code_form(&code, &verifier, cb, &[]),
    )
    .await;
    id_token_of(&chsim, &ok, id).await;
}
