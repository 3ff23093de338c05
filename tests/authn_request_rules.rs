//! What chsim does with user systems' AuthnRequests (issue #2 §3): accepted when signed by the
//! registered user system and addressed to chsim; refused with a specific error otherwise. Also
//! the IdP chooser, `?idp=` and IP-range pre-selection.
#![allow(clippy::unwrap_used, clippy::result_large_err)] // test code: a failed unwrap is a failed test

mod common;

use chsim::broker::{BrokerError, Failure, IncomingRequest, Next};
use chsim::saml::authn_request::NewAuthnRequest;
use chsim::saml::binding::{self, MessageKind};
use chsim::saml::{Credential, SamlError};
use common::*;

fn request(chsim: &Chsim, issuer: &str) -> NewAuthnRequest {
    authn_request_from(
        chsim,
        issuer,
        chsim::clock::Clock::now(&chsim::clock::SystemClock),
    )
}

fn redirect_query(req: &NewAuthnRequest, key: Option<&Credential>) -> String {
    let url = binding::encode_redirect(
        "http://x/",
        MessageKind::Request,
        &req.to_xml(None).unwrap(),
        Some("rs"),
        key.map(|k| k.key()),
    )
    .unwrap();
    url.query().unwrap().to_string()
}

async fn start(chsim: &Chsim, raw_query: String) -> Result<Next, Failure> {
    chsim
        .state
        .broker
        .start(
            IncomingRequest::Redirect { raw_query },
            None,
            None,
            None,
            None,
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepts_a_signed_redirect_request_and_shows_the_chooser() {
    let chsim = start_chsim().await;
    let req = request(&chsim, &format!("{}/demo-sp/oiosaml3", chsim.base));
    let next = start(&chsim, redirect_query(&req, Some(&key("demo-sp-oiosaml3"))))
        .await
        .unwrap();
    let Next::Choose { choices, .. } = next else {
        panic!("expected the chooser")
    };
    let names: Vec<_> = choices
        .iter()
        .map(|c| c.presentation_name.as_str())
        .collect();
    // System A requires NSIS Substantial: Bakkeby's OIOSAML2 IdP (NIST only) is offered only
    // because Bakkeby falls back to NemLog-in for NSIS.
    assert_eq!(
        names,
        [
            "Korsbæk Kommune (test-IdP, OIOSAML3)",
            "Bakkeby Kommune (test-IdP, OIOSAML2)",
            "Søby Kommune (Entra ID, roles from the attribute service)"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepts_a_signed_post_request() {
    let chsim = start_chsim().await;
    let key = key("demo-sp-oiosaml2");
    let req = request(&chsim, &format!("{}/demo-sp/oiosaml2", chsim.base));
    let incoming = IncomingRequest::Post {
        saml_request: binding::encode_post(&req.to_xml(Some(&key)).unwrap()),
        relay_state: None,
    };
    assert!(matches!(
        chsim
            .state
            .broker
            .start(incoming, None, None, None, None)
            .await,
        Ok(Next::Choose { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_a_request_from_an_unknown_user_system() {
    let chsim = start_chsim().await;
    let req = request(&chsim, "https://unknown.example");
    let result = start(&chsim, redirect_query(&req, Some(&key("demo-sp-oiosaml3")))).await;
    assert!(
        matches!(result, Err(Failure { error: BrokerError::UnknownUserSystem { ref issuer }, to_user_system: None }) if issuer == "https://unknown.example"),
        "{result:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_an_unsigned_request_when_signing_is_required() {
    let chsim = start_chsim().await;
    let req = request(&chsim, &format!("{}/demo-sp/oiosaml3", chsim.base));
    let result = start(&chsim, redirect_query(&req, None)).await;
    assert!(
        matches!(
            result,
            Err(Failure {
                error: BrokerError::UnsignedAuthnRequest { .. },
                ..
            })
        ),
        "{result:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_a_request_signed_with_another_systems_key() {
    let chsim = start_chsim().await;
    let req = request(&chsim, &format!("{}/demo-sp/oiosaml3", chsim.base));
    let result = start(&chsim, redirect_query(&req, Some(&key("demo-sp-oiosaml2")))).await;
    assert!(
        matches!(
            result,
            Err(Failure {
                error: BrokerError::BadAuthnRequestSignature {
                    reason: SamlError::BadSignature { .. },
                    ..
                },
                ..
            })
        ),
        "{result:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_a_redirect_request_whose_relay_state_was_changed() {
    let chsim = start_chsim().await;
    let req = request(&chsim, &format!("{}/demo-sp/oiosaml3", chsim.base));
    let query = redirect_query(&req, Some(&key("demo-sp-oiosaml3")))
        .replace("RelayState=rs", "RelayState=evil");
    let result = start(&chsim, query).await;
    assert!(
        matches!(
            result,
            Err(Failure {
                error: BrokerError::BadAuthnRequestSignature { .. },
                ..
            })
        ),
        "{result:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_a_post_request_whose_signed_content_was_changed() {
    let chsim = start_chsim().await;
    let key = key("demo-sp-oiosaml2");
    let req = request(&chsim, &format!("{}/demo-sp/oiosaml2", chsim.base));
    let xml = req
        .to_xml(Some(&key))
        .unwrap()
        .replace("ForceAuthn=\"false\"", "ForceAuthn=\"true\"");
    let incoming = IncomingRequest::Post {
        saml_request: binding::encode_post(&xml),
        relay_state: None,
    };
    let result = chsim
        .state
        .broker
        .start(incoming, None, None, None, None)
        .await;
    assert!(
        matches!(
            result,
            Err(Failure {
                error: BrokerError::BadAuthnRequestSignature { .. },
                ..
            })
        ),
        "{result:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_a_wrong_destination_and_tells_the_user_system() {
    let chsim = start_chsim().await;
    let mut req = request(&chsim, &format!("{}/demo-sp/oiosaml3", chsim.base));
    req.destination =
        "https://n2adgangsstyring.stoettesystemerne.dk/runtime/saml2/issue.idp".into();
    let result = start(&chsim, redirect_query(&req, Some(&key("demo-sp-oiosaml3")))).await;
    let Err(Failure {
        error: BrokerError::WrongDestination { found, .. },
        to_user_system: Some(d),
    }) = result
    else {
        panic!("{result:?}")
    };
    assert!(found.starts_with("https://n2adgangsstyring"));
    assert!(d.url.ends_with("/demo-sp/oiosaml3/acs"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_an_acs_the_metadata_does_not_list() {
    let chsim = start_chsim().await;
    let mut req = request(&chsim, &format!("{}/demo-sp/oiosaml3", chsim.base));
    req.acs_url = Some("https://attacker.example/acs".into());
    let result = start(&chsim, redirect_query(&req, Some(&key("demo-sp-oiosaml3")))).await;
    assert!(
        matches!(result, Err(Failure { error: BrokerError::UnknownAcs { ref requested, .. }, to_user_system: None }) if requested == "https://attacker.example/acs"),
        "{result:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_garbage_requests_over_http_with_a_page_that_names_the_problem() {
    let chsim = start_chsim().await;
    let client = reqwest::Client::new();
    for (query, expect) in [
        ("SAMLRequest=%%%", "not base64"),
        ("SAMLRequest=aGVsbG8%3D", "DEFLATE"),
        ("RelayState=x", "no `SAMLRequest` parameter"),
    ] {
        let resp = client
            .get(format!("{}/runtime/saml2/issue.idp?{query}", chsim.base))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{query}");
        let body = resp.text().await.unwrap();
        assert!(
            body.contains(expect) && body.contains("class=\"error\""),
            "{query}: {body}"
        );
    }
    let resp = client
        .get(format!("{}/runtime/saml2/issue.idp", chsim.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_a_body_larger_than_the_limit() {
    let chsim = start_chsim().await;
    let big = "A".repeat(chsim.config.chsim.broker.max_message_bytes * 3);
    let resp = reqwest::Client::new()
        .post(format!("{}/runtime/saml2auth/consume.idp", chsim.base))
        .form(&[("SAMLResponse", big)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    let page = resp.text().await.unwrap();
    assert!(
        page.contains("Request refused") && page.contains("larger than chsim accepts"),
        "{page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_a_post_that_is_not_a_form_with_a_page_saying_so() {
    let chsim = start_chsim().await;
    let resp = reqwest::Client::new()
        .post(format!("{}/runtime/saml2/issue.idp", chsim.base))
        .header("Content-Type", "application/json")
        .body(r#"{"SAMLRequest":"x"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 415);
    let page = resp.text().await.unwrap();
    assert!(page.contains("application/x-www-form-urlencoded"), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idp_parameter_skips_the_chooser_and_unknown_idps_are_refused() {
    let chsim = start_chsim().await;
    let issuer = format!("{}/demo-sp/oiosaml2", chsim.base);
    let key = key("demo-sp-oiosaml2");
    let bakkeby = format!("{}/test-idp/bakkeby", chsim.base);
    let next = chsim
        .state
        .broker
        .start(
            IncomingRequest::Redirect {
                raw_query: redirect_query(&request(&chsim, &issuer), Some(&key)),
            },
            Some(&bakkeby),
            None,
            None,
            None,
        )
        .await
        .unwrap();
    let Next::Redirect(url) = next else {
        panic!("expected a redirect to the IdP")
    };
    assert!(url
        .as_str()
        .starts_with(&format!("{bakkeby}/sso?SAMLRequest=")));
    assert!(
        url.query().unwrap().contains("&Signature="),
        "chsim signs its AuthnRequest"
    );
    let result = chsim
        .state
        .broker
        .start(
            IncomingRequest::Redirect {
                raw_query: redirect_query(&request(&chsim, &issuer), Some(&key)),
            },
            Some("https://no-such-idp.example"),
            None,
            None,
            None,
        )
        .await;
    assert!(
        matches!(
            result,
            Err(Failure {
                error: BrokerError::UnknownIdp { .. },
                to_user_system: Some(_)
            })
        ),
        "{result:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ip_range_preselects_the_only_idp_that_lists_the_address() {
    let mut config = demo_config();
    config.municipalities.municipality[1].idp[0].ip_ranges = vec!["127.0.0.0/8".into()];
    let chsim = common::start(config).await;
    let issuer = format!("{}/demo-sp/oiosaml2", chsim.base);
    let raw_query = redirect_query(&request(&chsim, &issuer), Some(&key("demo-sp-oiosaml2")));
    let next = chsim
        .state
        .broker
        .start(
            IncomingRequest::Redirect { raw_query },
            None,
            Some("127.0.0.1".parse().unwrap()),
            None,
            None,
        )
        .await
        .unwrap();
    let Next::Redirect(url) = next else {
        panic!("expected pre-selection")
    };
    assert!(url.as_str().contains("/test-idp/bakkeby/sso"));
    // Over real HTTP from loopback, too.
    let page = Browser::new()
        .get(&format!("{}/demo-sp/oiosaml2/login", chsim.base))
        .await;
    assert!(page.url.contains("/test-idp/bakkeby/sso"), "{}", page.url);
}

async fn start_chsim() -> Chsim {
    common::start(demo_config()).await
}
