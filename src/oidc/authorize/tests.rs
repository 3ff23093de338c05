use super::*;
use crate::assurance::{NistLevel, NsisLevel};
use crate::oidc::registration::{ApplicationType, AuthMethod, SigningAlg};
use chrono::Duration;

const CLIENT: &str = "https://spa.example.dk";
const REDIRECT: &str = "https://spa.example.dk/callback?tenant=bakkeby";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const ISS: &str = "https://chsim.example.dk/runtime/oauth2";

fn client() -> Arc<OidcClient> {
    Arc::new(OidcClient {
        client_id: CLIENT.into(),
        application_type: ApplicationType::Javascript,
        auth_method: AuthMethod::None,
        client_secret: None,
        jwks: None,
        redirect_uris: vec![REDIRECT.into()],
        post_logout_redirect_uri: None,
        frontchannel_logout_uri: Some("https://spa.example.dk/fclogout".into()),
        backchannel_logout_uri: None,
        signed_response_alg: SigningAlg::PS256,
        encryption: None,
        token_lifetime: Duration::minutes(60),
        refresh: None,
    })
}

fn lookup(id: &str) -> Option<Arc<OidcClient>> {
    (id == CLIENT).then(client)
}

/// A request every rule accepts.
fn good() -> Vec<(String, String)> {
    [
        ("response_type", "code"),
        ("client_id", CLIENT),
        ("redirect_uri", REDIRECT),
        ("scope", "openid"),
        ("state", "s-1"),
        ("nonce", "n-1"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]
    .iter()
    .map(|(n, v)| (n.to_string(), v.to_string()))
    .collect()
}

fn with(mut p: Vec<(String, String)>, name: &str, value: &str) -> Vec<(String, String)> {
    p.retain(|(n, _)| n != name);
    p.push((name.into(), value.into()));
    p
}

fn without(mut p: Vec<(String, String)>, name: &str) -> Vec<(String, String)> {
    p.retain(|(n, _)| n != name);
    p
}

fn run(p: &[(String, String)]) -> Result<AuthorizationRequest, AuthorizeRefusal> {
    parse(p, &Equivalence::default(), lookup).map(|(_, r)| r)
}

/// The redirect error's code and description, with the state it returns.
fn redirected(p: &[(String, String)]) -> (ErrorCode, String, Option<String>) {
    match run(p) {
        Err(AuthorizeRefusal::Redirect {
            redirect_uri,
            state,
            error,
        }) => {
            assert_eq!(redirect_uri, REDIRECT);
            (error.code, error.description, state)
        }
        other => panic!("expected a redirect, got {other:?}"),
    }
}

fn page(p: &[(String, String)]) -> String {
    match run(p) {
        Err(AuthorizeRefusal::Page(why)) => why,
        other => panic!("expected an error page, got {other:?}"),
    }
}

#[test]
fn a_request_by_the_context_handlers_rules_is_accepted() {
    let r = run(&good()).unwrap();
    assert_eq!(r.client_id, CLIENT);
    assert_eq!(r.redirect_uri, REDIRECT);
    assert_eq!(r.state, "s-1");
    assert_eq!(r.nonce, "n-1");
    assert_eq!(r.code_challenge, CHALLENGE);
    assert_eq!(r.scope, vec!["openid".to_string()]);
    assert_eq!(r.prompt, Prompt::Unspecified);
    assert_eq!(r.acr_minimum, None);
    assert_eq!(r.max_age, None);
}

#[test]
fn an_unknown_or_missing_client_is_an_error_page_never_a_redirect() {
    assert!(page(&with(good(), "client_id", "https://evil.example")).contains("not a registered"));
    assert!(page(&without(good(), "client_id")).contains("no client_id"));
}

#[test]
fn an_unregistered_or_missing_redirect_uri_is_an_error_page() {
    let why = page(&with(
        good(),
        "redirect_uri",
        "https://spa.example.dk/callback",
    ));
    assert!(why.contains("not registered"), "{why}");
    assert!(page(&without(good(), "redirect_uri")).contains("no redirect_uri"));
    let mut twice = good();
    twice.push(("redirect_uri".into(), "https://evil.example/cb".into()));
    assert!(page(&twice).contains("more than once"));
}

#[test]
fn requests_out_of_bounds_are_refused_before_reading() {
    let mut many = good();
    for i in 0..30 {
        many.push((format!("x{i}"), "1".into()));
    }
    assert!(page(&many).contains("at most 30"));
    assert!(page(&with(good(), "login_hint", &"a".repeat(2049))).contains("login_hint"));
}

#[test]
fn a_repeated_parameter_is_invalid_request_naming_it() {
    let mut p = good();
    p.push(("nonce".into(), "n-2".into()));
    let (code, why, state) = redirected(&p);
    assert_eq!(code, ErrorCode::InvalidRequest);
    assert!(why.contains("`nonce`"), "{why}");
    assert_eq!(state.as_deref(), Some("s-1"));
}

#[test]
fn response_type_must_be_code() {
    let (code, _, _) = redirected(&with(good(), "response_type", "code id_token"));
    assert_eq!(code, ErrorCode::UnsupportedResponseType);
    let (code, _, _) = redirected(&without(good(), "response_type"));
    assert_eq!(code, ErrorCode::InvalidRequest);
}

#[test]
fn scope_without_openid_is_invalid_scope() {
    let (code, _, _) = redirected(&with(good(), "scope", "profile email"));
    assert_eq!(code, ErrorCode::InvalidScope);
    assert_eq!(
        run(&with(good(), "scope", "profile openid")).unwrap().scope,
        vec!["profile".to_string(), "openid".to_string()]
    );
}

#[test]
fn state_nonce_and_code_challenge_are_required_by_name() {
    for name in ["state", "nonce", "code_challenge"] {
        let (code, why, _) = redirected(&without(good(), name));
        assert_eq!(code, ErrorCode::InvalidRequest);
        assert!(why.contains(&format!("`{name}`")), "{why}");
    }
    // An empty value counts as omitted (RFC 6749 §3.1).
    let (_, why, state) = redirected(&with(good(), "state", ""));
    assert!(why.contains("`state`"));
    assert_eq!(state, None);
}

#[test]
fn only_the_s256_method_is_accepted() {
    let (code, why, _) = redirected(&without(good(), "code_challenge_method"));
    assert_eq!(code, ErrorCode::InvalidRequest);
    assert!(why.contains("S256"), "{why}");
    let (_, why, _) = redirected(&with(good(), "code_challenge_method", "plain"));
    assert!(why.contains("`plain` is refused"), "{why}");
    let (_, why, _) = redirected(&with(good(), "code_challenge", "too-short"));
    assert!(why.contains("43"), "{why}");
}

#[test]
fn the_context_handlers_prohibited_parameters_are_refused_by_name() {
    for name in ["display", "response_mode", "id_token_hint"] {
        let (code, why, _) = redirected(&with(good(), name, "x"));
        assert_eq!(code, ErrorCode::InvalidRequest);
        assert!(
            why.contains(&format!("`{name}`")) && why.contains("refuses"),
            "{why}"
        );
    }
}

#[test]
fn request_objects_are_not_supported() {
    let (code, _, _) = redirected(&with(good(), "request", "eyJ..."));
    assert_eq!(code, ErrorCode::RequestNotSupported);
    let (code, _, _) = redirected(&with(good(), "request_uri", "urn:x"));
    assert_eq!(code, ErrorCode::RequestUriNotSupported);
}

#[test]
fn acr_values_give_the_highest_level_as_minimum() {
    let nsis = |l: &str| format!("https://data.gov.dk/concept/core/nsis/loa/{l}");
    let r = run(&with(
        good(),
        "acr_values",
        &format!("{} {}", nsis("Low"), nsis("High")),
    ))
    .unwrap();
    assert_eq!(r.acr_minimum, Some(Requirement::Nsis(NsisLevel::High)));
    let r = run(&with(
        good(),
        "acr_values",
        "urn:dk:gov:saml:attribute:AssuranceLevel:2 urn:dk:gov:saml:attribute:AssuranceLevel:3",
    ))
    .unwrap();
    assert_eq!(
        r.acr_minimum,
        Some(Requirement::Nist(NistLevel::new(3).unwrap()))
    );
    // Mixed: NIST 4 with NSIS Low needs NSIS High under the default equivalence.
    let r = run(&with(
        good(),
        "acr_values",
        &format!("urn:dk:gov:saml:attribute:AssuranceLevel:4 {}", nsis("Low")),
    ))
    .unwrap();
    assert_eq!(r.acr_minimum, Some(Requirement::Nsis(NsisLevel::High)));
}

#[test]
fn an_unknown_acr_value_is_invalid_request_naming_it() {
    for v in [
        "urn:oasis:names:tc:SAML:2.0:ac:classes:Password",
        "http://schemas.microsoft.com/claims/multipleauthn",
        "urn:dk:gov:saml:attribute:AssuranceLevel:5",
    ] {
        let (code, why, _) = redirected(&with(good(), "acr_values", v));
        assert_eq!(code, ErrorCode::InvalidRequest);
        assert!(why.contains(v), "{why}");
    }
}

#[test]
fn max_age_is_a_non_negative_integer() {
    assert_eq!(run(&with(good(), "max_age", "0")).unwrap().max_age, Some(0));
    assert_eq!(
        run(&with(good(), "max_age", "3600")).unwrap().max_age,
        Some(3600)
    );
    for bad in ["-1", "+5", "1.5", "99999999999999999999999"] {
        let (code, _, _) = redirected(&with(good(), "max_age", bad));
        assert_eq!(code, ErrorCode::InvalidRequest, "{bad}");
    }
}

#[test]
fn prompt_none_stands_alone_and_consent_is_ignored() {
    assert_eq!(
        run(&with(good(), "prompt", "none")).unwrap().prompt,
        Prompt::None
    );
    assert_eq!(
        run(&with(good(), "prompt", "login consent"))
            .unwrap()
            .prompt,
        Prompt::Login
    );
    assert_eq!(
        run(&with(good(), "prompt", "select_account"))
            .unwrap()
            .prompt,
        Prompt::Unspecified
    );
    let (code, why, _) = redirected(&with(good(), "prompt", "none login"));
    assert_eq!(code, ErrorCode::InvalidRequest);
    assert!(why.contains("none"));
    let (code, _, _) = redirected(&with(good(), "prompt", "create"));
    assert_eq!(code, ErrorCode::InvalidRequest);
}

#[test]
fn unknown_parameters_are_ignored() {
    let r = run(&with(good(), "ui_locales", "da")).unwrap();
    assert_eq!(r.state, "s-1");
}

#[test]
fn redirects_keep_the_registered_query_and_encode_values() {
    let url = code_redirect(REDIRECT, "c/+1", "s 1&x=2", ISS);
    let parsed = url::Url::parse(&url).unwrap();
    let q: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
    assert_eq!(
        q,
        vec![
            ("tenant".into(), "bakkeby".into()),
            ("code".into(), "c/+1".into()),
            ("state".into(), "s 1&x=2".into()),
            ("iss".into(), ISS.into()),
        ]
    );
    let e = OAuthError::new(ErrorCode::LoginRequired, "no session");
    let url = error_redirect("https://a.example/cb", Some("s"), &e, ISS);
    assert_eq!(
        url,
        "https://a.example/cb?error=login_required&error_description=no+session&state=s&iss=https%3A%2F%2Fchsim.example.dk%2Fruntime%2Foauth2"
    );
    assert!(!error_redirect("https://a.example/cb", None, &e, ISS).contains("state="));
}
