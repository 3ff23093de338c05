//! Every attribute-service fault ends the login with a specific, human-readable error page and a
//! non-success SAML Response to the user system — never a token with empty roles (issue #4 §4).
//! Each test runs a real local HTTP server that misbehaves on purpose, registered (by metadata
//! URL) as Søby Kommune's attribute service.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use chrono::Duration;
use chsim::saml::attribute_query::soap_fault;
use common::attribute_service::*;
use common::*;

#[derive(Clone, Copy, Debug)]
enum Fault {
    Slow,
    Refused,
    Http503,
    Soap500,
    Unsigned,
    WrongKey,
    Garbage,
    BadPrivileges,
    Huge,
    WrongSubject,
    WrongInResponseTo,
    WrongIssuer,
    Expired,
}

/// Serves metadata (naming the genuine Søby service key) and a misbehaving SOAP endpoint.
async fn misbehaving_service(fault: Fault) -> String {
    let soap_url = match fault {
        Fault::Refused => {
            // A port that was just free: nothing listens there.
            let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let url = format!(
                "http://127.0.0.1:{}/soap",
                closed.local_addr().unwrap().port()
            );
            drop(closed);
            Some(url)
        }
        _ => None,
    };
    serve(
        soap_url,
        move |body: String, entity_id: String| async move {
            let (signer, wrong) = (genuine(), key("demo-sp-oiosaml2"));
            let (entity_id, genuine, wrong) = (&entity_id, &signer, &wrong);
            match fault {
                Fault::Slow => {
                    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                    (200, answer(&body, entity_id, genuine, false, GOOD))
                }
                Fault::Http503 => (503, "<html>Service Unavailable</html>".to_string()),
                Fault::Soap500 => (500, soap_fault("s:Server", "the role database is down")),
                Fault::Unsigned => (200, answer(&body, entity_id, genuine, true, GOOD)),
                Fault::WrongKey => (200, answer(&body, entity_id, wrong, false, GOOD)),
                Fault::Huge => (200, "x".repeat(4 << 20)),
                Fault::WrongSubject => (
                    200,
                    answer_tweaked(&body, entity_id, genuine, false, GOOD, |_, a| {
                        a.name_id = "C=DK,O=44444444,CN=Someone Else,Serial=x".into()
                    }),
                ),
                Fault::WrongInResponseTo => (
                    200,
                    answer_tweaked(&body, entity_id, genuine, false, GOOD, |r, a| {
                        r.in_response_to = Some("_another_query".into());
                        a.in_response_to = Some("_another_query".into());
                    }),
                ),
                Fault::WrongIssuer => (
                    200,
                    answer_tweaked(&body, entity_id, genuine, false, GOOD, |r, a| {
                        r.issuer = "https://impostor.example".into();
                        a.issuer = "https://impostor.example".into();
                    }),
                ),
                Fault::Expired => (
                    200,
                    answer_tweaked(&body, entity_id, genuine, false, GOOD, |_, a| {
                        a.not_before -= Duration::hours(2);
                        a.not_on_or_after = a.not_before + Duration::minutes(5);
                    }),
                ),
                Fault::BadPrivileges => (
                    200,
                    answer(&body, entity_id, genuine, false, "<<not OIOBPP"),
                ),
                Fault::Garbage => (200, "hello, this is not SOAP".to_string()),
                Fault::Refused => (200, String::new()),
            }
        },
    )
    .await
}

/// Logs Sara in through chsim with the misbehaving service; returns chsim's error page.
async fn login_with(fault: Fault) -> Outcome {
    let metadata_url = misbehaving_service(fault).await;
    let chsim = start(config_with(&metadata_url)).await;
    let browser = Browser::new();
    let out = login_as(&chsim, &browser, "oiosaml3", "soeby", "sara").await;
    assert_eq!(out.status, 502, "{fault:?}: {}", out.body);
    assert!(
        out.body.contains("could not be fetched from Søby Kommune")
            || out
                .body
                .contains("from Søby Kommune&#x27;s attribute service")
            || out.body.contains("from Søby Kommune's attribute service"),
        "{}",
        out.body
    );
    // No token reached the user system; the page offers it a non-success Response instead.
    assert!(out.posted_to("/demo-sp/", "SAMLResponse").is_none());
    let (action, fields) = forms(&out.body)
        .into_iter()
        .next()
        .expect("a Return button");
    assert!(action.ends_with("/demo-sp/oiosaml3/acs"));
    let sp_page = browser
        .client
        .post(&action)
        .form(&fields)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        sp_page.contains("chsim answered urn:oasis:names:tc:SAML:2.0:status:Responder"),
        "{sp_page}"
    );
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_attribute_service_times_out_with_a_clear_error() {
    let out = login_with(Fault::Slow).await;
    assert!(
        out.body.contains("did not answer within 1 s"),
        "{}",
        out.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_is_named() {
    let out = login_with(Fault::Refused).await;
    assert!(
        out.body.contains("cannot be reached") && out.body.contains("onnection refused"),
        "{}",
        out.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_error_is_named_with_its_status() {
    let out = login_with(Fault::Http503).await;
    assert!(out.body.contains("answered HTTP 503"), "{}", out.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_soap_fault_is_passed_on_with_its_message() {
    let out = login_with(Fault::Soap500).await;
    assert!(
        out.body
            .contains("SOAP fault s:Server: the role database is down"),
        "{}",
        out.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsigned_answer_is_refused() {
    let out = login_with(Fault::Unsigned).await;
    assert!(
        out.body
            .contains("neither the Response nor the Assertion is signed"),
        "{}",
        out.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_signed_with_a_key_not_in_the_metadata_is_refused() {
    let out = login_with(Fault::WrongKey).await;
    assert!(out.body.contains("signature check failed"), "{}", out.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_is_refused_as_garbage() {
    let out = login_with(Fault::Garbage).await;
    assert!(
        out.body.contains("not a SOAP-wrapped SAML Response"),
        "{}",
        out.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_answer_with_a_malformed_privilege_list_is_refused_not_read_as_no_roles() {
    let out = login_with(Fault::BadPrivileges).await;
    assert!(
        out.body.contains("attribute service")
            && out
                .body
                .contains("could not be read: the privilege list is not well-formed XML"),
        "{}",
        out.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_answer_is_cut_off_not_buffered() {
    let out = login_with(Fault::Huge).await;
    assert!(
        out.body.contains("larger than the limit of 262144 bytes"),
        "{}",
        out.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_about_another_person_is_refused() {
    let out = login_with(Fault::WrongSubject).await;
    assert!(out.body.contains("Someone Else"), "{}", out.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_to_another_query_is_refused() {
    let out = login_with(Fault::WrongInResponseTo).await;
    assert!(out.body.contains("_another_query"), "{}", out.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_from_another_issuer_is_refused() {
    let out = login_with(Fault::WrongIssuer).await;
    assert!(
        out.body.contains("https://impostor.example"),
        "{}",
        out.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_answer_is_refused() {
    let out = login_with(Fault::Expired).await;
    assert!(out.body.contains("Conditions expired at"), "{}", out.body);
}
