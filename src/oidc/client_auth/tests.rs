use super::*;
use crate::oidc::registration::{parse_jwks, ApplicationType, SigningAlg};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{EncodingKey, Header};
use openssl::rsa::Rsa;
use serde_json::json;
use std::sync::OnceLock;

const TOKEN_URL: &str = "https://chsim.example.dk/runtime/oauth2/token.idp";
const WEB: &str = "web-app";
const POST: &str = "post-app";
const JWT: &str = "jwt-app";
const SPA: &str = "spa-app";
const SECRET: &str = "s3cret:with&odd=chars";

fn now() -> DateTime<Utc> {
    Utc.timestamp_opt(1_760_000_000, 0).unwrap()
}

fn skew() -> Duration {
    Duration::seconds(60)
}

/// The client's freshly generated RSA key (PKCS#1 DER) and its public JWK parts.
fn client_key() -> &'static (Vec<u8>, String, String) {
    static KEY: OnceLock<(Vec<u8>, String, String)> = OnceLock::new();
    KEY.get_or_init(|| {
        let rsa = Rsa::generate(2048).unwrap();
        (
            rsa.private_key_to_der().unwrap(),
            URL_SAFE_NO_PAD.encode(rsa.n().to_vec()),
            URL_SAFE_NO_PAD.encode(rsa.e().to_vec()),
        )
    })
}

fn registered(id: &str, method: AuthMethod) -> Arc<OidcClient> {
    let (_, n, e) = client_key();
    let jwks = json!({"keys": [
        {"kty": "RSA", "use": "enc", "kid": "enc-1", "n": n, "e": e},
        {"kty": "RSA", "use": "sig", "kid": "sig-1", "n": n, "e": e},
    ]})
    .to_string();
    Arc::new(OidcClient {
        client_id: id.into(),
        application_type: ApplicationType::Web,
        auth_method: method,
        client_secret: (method != AuthMethod::None).then(|| SECRET.to_string()),
        jwks: (method == AuthMethod::PrivateKeyJwt).then(|| parse_jwks(&jwks).unwrap()),
        redirect_uris: vec!["https://app.example.dk/cb".into()],
        post_logout_redirect_uri: None,
        frontchannel_logout_uri: Some("https://app.example.dk/fc".into()),
        backchannel_logout_uri: None,
        signed_response_alg: SigningAlg::PS256,
        encryption: None,
        token_lifetime: Duration::minutes(60),
        refresh: None,
    })
}

fn lookup(id: &str) -> Option<Arc<OidcClient>> {
    match id {
        WEB => Some(registered(WEB, AuthMethod::ClientSecretBasic)),
        POST => Some(registered(POST, AuthMethod::ClientSecretPost)),
        JWT => Some(registered(JWT, AuthMethod::PrivateKeyJwt)),
        SPA => Some(registered(SPA, AuthMethod::None)),
        _ => None,
    }
}

fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

fn basic_header(id: &str, secret: &str) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", enc(id), enc(secret)))
    )
}

fn assertion(claims: Value, kid: Option<&str>, alg: Algorithm) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_string);
    jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_rsa_der(&client_key().0),
    )
    .unwrap()
}

fn good_claims() -> Value {
    json!({
        "iss": JWT, "sub": JWT, "aud": TOKEN_URL, "jti": "j-1",
        "iat": now().timestamp(), "exp": (now() + Duration::minutes(5)).timestamp(),
    })
}

fn jwt_form(a: &str) -> Vec<(String, String)> {
    form(&[
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", a),
    ])
}

fn auth(header: Option<&str>, f: &[(String, String)]) -> Result<Authenticated, ClientAuthFailure> {
    authenticate(header, f, TOKEN_URL, now(), skew(), lookup)
}

/// Asserts the uniform invalid_client and that the log names `reason`.
fn refused(r: Result<Authenticated, ClientAuthFailure>, reason: &str) {
    let e = r.unwrap_err();
    assert_eq!(
        e.public,
        OAuthError::new(ErrorCode::InvalidClient, "client authentication failed")
    );
    assert!(e.log.contains(reason), "log `{}` lacks `{reason}`", e.log);
}

#[test]
fn client_secret_basic_with_form_urlencoded_parts_authenticates() {
    let h = basic_header(WEB, SECRET);
    let a = auth(Some(&h), &form(&[("grant_type", "authorization_code")])).unwrap();
    assert_eq!(a.client.client_id, WEB);
    assert!(a.assertion.is_none());
    refused(
        auth(Some(&basic_header(WEB, "wrong")), &[]),
        "wrong client_secret",
    );
    // Not form-urlencoded: the raw `&` and `=` are refused.
    let raw = format!("Basic {}", STANDARD.encode(format!("{WEB}:{SECRET}")));
    refused(auth(Some(&raw), &[]), "unencoded");
    refused(auth(Some("Bearer abc"), &[]), "not Basic");
}

#[test]
fn client_secret_post_authenticates() {
    let a = auth(
        None,
        &form(&[("client_id", POST), ("client_secret", SECRET)]),
    )
    .unwrap();
    assert_eq!(a.client.client_id, POST);
    refused(
        auth(
            None,
            &form(&[("client_id", POST), ("client_secret", "s3cret")]),
        ),
        "wrong client_secret",
    );
}

#[test]
fn a_method_other_than_the_registered_one_is_invalid_client() {
    refused(
        auth(
            None,
            &form(&[("client_id", WEB), ("client_secret", SECRET)]),
        ),
        "registered for client_secret_basic but used client_secret_post",
    );
    refused(auth(None, &form(&[("client_id", POST)])), "used none");
}

#[test]
fn two_methods_at_once_are_invalid_request() {
    let h = basic_header(WEB, SECRET);
    let e = auth(
        Some(&h),
        &form(&[("client_id", WEB), ("client_secret", SECRET)]),
    )
    .unwrap_err();
    assert_eq!(e.public.code, ErrorCode::InvalidRequest);
    let e = auth(
        None,
        &form(&[
            ("client_id", POST),
            ("client_id", POST),
            ("client_secret", SECRET),
        ]),
    )
    .unwrap_err();
    assert_eq!(e.public.code, ErrorCode::InvalidRequest);
}

#[test]
fn an_unknown_client_is_the_same_invalid_client() {
    refused(
        auth(None, &form(&[("client_id", "nobody")])),
        "not registered",
    );
    refused(auth(None, &[]), "no client_id");
}

#[test]
fn none_authenticates_by_client_id_alone() {
    let a = auth(None, &form(&[("client_id", SPA)])).unwrap();
    assert_eq!(a.client.client_id, SPA);
}

#[test]
fn a_good_private_key_jwt_authenticates_and_returns_its_jti() {
    for kid in [Some("sig-1"), None] {
        let a = auth(
            None,
            &jwt_form(&assertion(good_claims(), kid, Algorithm::RS256)),
        )
        .unwrap();
        assert_eq!(a.client.client_id, JWT);
        assert_eq!(
            a.assertion,
            Some(("j-1".to_string(), now() + Duration::minutes(5)))
        );
    }
    // aud may be an array holding the token URL; client_id in the body may accompany it.
    let mut c = good_claims();
    c["aud"] = json!(["https://other", TOKEN_URL]);
    let mut f = jwt_form(&assertion(c, None, Algorithm::RS256));
    f.push(("client_id".into(), JWT.into()));
    assert!(auth(None, &f).is_ok());
}

#[test]
fn private_key_jwt_refusals_name_the_failed_check_in_the_log() {
    let with = |name: &str, v: Value| {
        let mut c = good_claims();
        c[name] = v;
        jwt_form(&assertion(c, None, Algorithm::RS256))
    };
    let without = |name: &str| {
        let mut c = good_claims();
        c.as_object_mut().unwrap().remove(name);
        jwt_form(&assertion(c, None, Algorithm::RS256))
    };
    refused(
        auth(None, &with("aud", json!("https://elsewhere"))),
        "does not verify",
    );
    refused(
        auth(None, &with("sub", json!("someone-else"))),
        "does not verify",
    );
    refused(
        auth(
            None,
            &with("exp", json!((now() - Duration::seconds(61)).timestamp())),
        ),
        "expired",
    );
    refused(
        auth(
            None,
            &with("exp", json!((now() + Duration::minutes(12)).timestamp())),
        ),
        "more than 10 minutes ahead",
    );
    refused(
        auth(
            None,
            &with("iat", json!((now() + Duration::minutes(2)).timestamp())),
        ),
        "in the future",
    );
    refused(auth(None, &without("jti")), "no jti");
    refused(auth(None, &without("exp")), "does not verify");
    // Within the skew, an assertion just past exp still counts.
    assert!(auth(
        None,
        &with("exp", json!((now() - Duration::seconds(30)).timestamp()))
    )
    .is_ok());
}

#[test]
fn private_key_jwt_takes_only_rs256_and_known_keys() {
    refused(
        auth(
            None,
            &jwt_form(&assertion(good_claims(), None, Algorithm::PS256)),
        ),
        "only RS256",
    );
    refused(
        auth(
            None,
            &jwt_form(&assertion(good_claims(), Some("enc-1"), Algorithm::RS256)),
        ),
        "no RSA signature key with kid `enc-1`",
    );
    // Signed by a key the client never registered.
    let other = Rsa::generate(2048).unwrap().private_key_to_der().unwrap();
    let forged = jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        &good_claims(),
        &EncodingKey::from_rsa_der(&other),
    )
    .unwrap();
    refused(auth(None, &jwt_form(&forged)), "does not verify");
    let a = assertion(good_claims(), None, Algorithm::RS256);
    refused(
        auth(
            None,
            &form(&[
                ("client_assertion_type", "urn:other"),
                ("client_assertion", &a),
            ]),
        ),
        "client_assertion_type",
    );
}
