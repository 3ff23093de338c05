//! The demo OIDC user system's own rules, without chsim (the whole flow over real HTTP is in
//! `tests/demo_oidc.rs`).
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use super::*;
use crate::clock::FixedClock;

fn rp(auth: ClientAuth, secret: Option<&str>) -> Result<DemoOidc, DemoOidcError> {
    DemoOidc::new(
        DemoOidcConfig {
            name: "Demo C".into(),
            client_id: CLIENT_ID.into(),
            client_secret: secret.map(str::to_string),
            auth,
            public_url: "http://localhost:8080".into(),
        },
        Arc::new(FixedClock::new(
            chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
        )),
    )
}

#[test]
fn its_urls_are_those_its_registration_names() {
    let rp = rp(ClientAuth::Basic, Some("s")).unwrap();
    assert_eq!(rp.issuer(), "http://localhost:8080/runtime/oauth2");
    assert_eq!(
        rp.redirect_uri(),
        "http://localhost:8080/demo-oidc/callback"
    );
    assert_eq!(
        rp.post_logout_redirect_uri(),
        "http://localhost:8080/demo-oidc/"
    );
    assert_eq!(rp.chsim_origin(), "http://localhost:8080");
}

#[test]
fn a_secret_method_without_a_secret_is_refused_and_the_secret_never_printed() {
    assert!(matches!(
        rp(ClientAuth::Post, None),
        Err(DemoOidcError::Registration(_))
    ));
    let printed = format!("{:?}", rp(ClientAuth::Basic, Some("hunter2")).unwrap());
    assert!(!printed.contains("hunter2") && printed.contains("[redacted]"));
}

#[tokio::test]
async fn a_callback_with_a_state_it_never_sent_is_refused_before_anything_else() {
    let rp = rp(ClientAuth::Basic, Some("s")).unwrap();
    let answer = Callback {
        code: Some("c".into()),
        state: Some("forged".into()),
        ..Default::default()
    };
    assert!(matches!(
        rp.callback(Some("browser"), answer).await,
        Err(DemoOidcError::UnknownState(s)) if s == "forged"
    ));
}

#[test]
fn front_channel_logout_needs_chsims_issuer_and_a_sid() {
    let rp = rp(ClientAuth::Basic, Some("s")).unwrap();
    assert!(matches!(
        rp.frontchannel_logout(Some("https://evil.example"), Some("x")),
        Err(DemoOidcError::FrontChannelIssuer { found, .. }) if found == "https://evil.example"
    ));
    assert!(matches!(
        rp.frontchannel_logout(None, Some("x")),
        Err(DemoOidcError::FrontChannelIssuer { found, .. }) if found == "(none)"
    ));
    assert!(matches!(
        rp.frontchannel_logout(Some("http://localhost:8080/runtime/oauth2"), Some("")),
        Err(DemoOidcError::FrontChannelSid)
    ));
    assert_eq!(
        rp.frontchannel_logout(
            Some("http://localhost:8080/runtime/oauth2"),
            Some("none-here")
        )
        .unwrap(),
        0
    );
}

#[test]
fn a_logout_return_matches_only_the_browser_that_sent_it_and_only_once() {
    let rp = rp(ClientAuth::Basic, Some("s")).unwrap();
    rp.logouts.insert("st".into(), "browser-a".into());
    assert!(!rp.logout_returned(Some("browser-b"), "st"));
    rp.logouts.insert("st".into(), "browser-a".into());
    assert!(rp.logout_returned(Some("browser-a"), "st"));
    assert!(!rp.logout_returned(Some("browser-a"), "st"));
}

#[test]
fn a_token_part_is_decoded_for_display_and_garbage_shows_as_null() {
    let jwt = "eyJhbGciOiJQUzI1NiIsImtpZCI6ImsifQ.eyJzdWIiOiJhIn0.sig";
    assert_eq!(verify::part_of(jwt, 0)["alg"], "PS256");
    assert_eq!(verify::part_of(jwt, 1)["sub"], "a");
    assert_eq!(verify::part_of("not a jwt", 1), serde_json::Value::Null);
}
