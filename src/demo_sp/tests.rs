//! Unit tests of the demo user system's session and single logout: chsim is played with its demo
//! key, each handler step has a test, and each refusal asserts its specific error.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::party_logout::testing::*;
use crate::party_logout::{Ending, LogoutResult, SessionView, SloOutcome};
use crate::saml::logout::{reason, LogoutError, NameId, SloEndpoint};
use crate::saml::validate::ReceivedAttribute;
use crate::saml::{status, NAMEID_X509};

const KAREN: &str = "C=DK,O=11111111,CN=Karen Sagsbehandler,Serial=4b7b2e0a";
const INDEX: &str = "_chsim-session-index-1";

fn demo_sp() -> DemoSp {
    let config = crate::config::load(crate::config::ConfigSource::Embedded)
        .unwrap()
        .demo_sps
        .demo_sp
        .into_iter()
        .find(|d| d.id == "oiosaml3")
        .unwrap();
    let chsim = ChsimAsIdp {
        entity_id: CHSIM.into(),
        sso_redirect: ISSUE.into(),
        sso_post: ISSUE.into(),
        signing_certs: vec![broker().trusted_cert()],
        slo: SloEndpoints {
            redirect: Some(endpoint(ISSUE, SIGNOFF)),
            ..Default::default()
        },
    };
    DemoSp::new(
        config,
        "https://chsim.example",
        key("demo-sp-oiosaml3"),
        chsim,
        clock(),
    )
}

fn assertion(name_id: &str, session_index: &str) -> ValidatedAssertion {
    ValidatedAssertion {
        id: "_a1".into(),
        issuer: CHSIM.into(),
        name_id: name_id.into(),
        name_id_format: Some(NAMEID_X509.into()),
        session_index: Some(session_index.into()),
        authn_instant: Some(now()),
        authn_context_class_ref: None,
        authenticating_authorities: vec![],
        attributes: vec![ReceivedAttribute {
            name: oiosaml3::LOA.into(),
            name_format: None,
            values: vec!["Substantial".into()],
        }],
        not_on_or_after: now(),
        was_encrypted: false,
        xml: String::new(),
    }
}

/// A demo SP with Karen logged in; the handle of her session.
fn logged_in() -> (DemoSp, String) {
    let sp = demo_sp();
    let handle = sp.open_session(&assertion(KAREN, INDEX));
    (sp, handle)
}

fn refusal(sp: &DemoSp, raw_query: &str) -> SloError {
    match sp.slo(raw_query) {
        Err(DemoSpError::Logout(e)) => e,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn answered(outcome: SloOutcome) -> (Url, usize) {
    match outcome {
        SloOutcome::Answered { redirect, ended } => (redirect, ended),
        other => panic!("expected an answer to chsim, got {other:?}"),
    }
}

#[test]
fn a_login_opens_a_session_with_who_level_name_id_and_session_index() {
    let (sp, handle) = logged_in();
    let SessionView::Live(s) = sp.session_view(Some(&handle)) else {
        panic!("no live session")
    };
    assert_eq!(s.who, "Karen Sagsbehandler");
    assert_eq!(s.level, "NSIS Substantial");
    assert_eq!(
        (s.name_id.as_str(), s.session_index.as_str()),
        (KAREN, INDEX)
    );
    assert_eq!(s.since, now());
    assert_eq!(sp.session_view(Some("_other")), SessionView::None);
}

#[test]
fn answers_chsims_logout_request_with_a_signed_success_and_ends_the_session_it_names() {
    let (sp, handle) = logged_in();
    let request = chsim_request(&sp.slo_url(), KAREN, INDEX);
    let (url, ended) = answered(sp.slo(&signed_request(&request, &broker())).unwrap());
    assert_eq!(ended, 1);
    // chsim reads the answer at its ResponseLocation, signed with the demo SP's key.
    let answer = verified_answer(&url, &key("demo-sp-oiosaml3"), SIGNOFF);
    let m = answer.message();
    assert_eq!(m.status, Status::success());
    assert_eq!(m.in_response_to, request.id);
    assert_eq!(m.issuer, sp.entity_id());
    assert_eq!(answer.relay_state(), Some(RELAY));
    // The session ended; its marker says how.
    match sp.session_view(Some(&handle)) {
        SessionView::Ended(e) => {
            assert_eq!(e.at, now());
            assert_eq!(
                e.how,
                Ending::SingleLogout {
                    issuer: CHSIM.into(),
                    reason: Some(reason::USER.into())
                }
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn answers_requester_unknown_principal_when_no_session_has_that_session_index() {
    let (sp, handle) = logged_in();
    let request = chsim_request(&sp.slo_url(), KAREN, "_another-index");
    let (url, ended) = answered(sp.slo(&signed_request(&request, &broker())).unwrap());
    assert_eq!(ended, 0);
    let status = verified_answer(&url, &key("demo-sp-oiosaml3"), SIGNOFF)
        .into_message()
        .status;
    assert_eq!(status.code, status::REQUESTER);
    assert_eq!(status.sub_code.as_deref(), Some(status::UNKNOWN_PRINCIPAL));
    assert!(matches!(
        sp.session_view(Some(&handle)),
        SessionView::Live(_)
    ));
}

#[test]
fn answers_unknown_principal_when_the_session_index_is_someone_elses() {
    let (sp, handle) = logged_in();
    let request = chsim_request(&sp.slo_url(), "C=DK,O=11111111,CN=Mallory", INDEX);
    let (_, ended) = answered(sp.slo(&signed_request(&request, &broker())).unwrap());
    assert_eq!(ended, 0);
    assert!(matches!(
        sp.session_view(Some(&handle)),
        SessionView::Live(_)
    ));
}

#[test]
fn refuses_a_logout_request_signed_with_a_key_not_in_chsims_metadata() {
    let (sp, handle) = logged_in();
    let request = chsim_request(&sp.slo_url(), KAREN, INDEX);
    let e = refusal(&sp, &signed_request(&request, &key("demo-sp-oiosaml2")));
    assert!(
        matches!(
            &e,
            SloError::Refused {
                element: "LogoutRequest",
                error: LogoutError::Signature { .. }
            }
        ),
        "{e}"
    );
    assert!(matches!(
        sp.session_view(Some(&handle)),
        SessionView::Live(_)
    ));
}

#[test]
fn refuses_an_unsigned_logout_request() {
    let (sp, _) = logged_in();
    let request = chsim_request(&sp.slo_url(), KAREN, INDEX);
    let url = crate::saml::binding::encode_redirect(
        &request.destination,
        crate::saml::binding::MessageKind::Request,
        &request.to_xml(None).unwrap(),
        None,
        None,
    )
    .unwrap();
    let e = refusal(&sp, &query(&url));
    assert!(
        matches!(
            &e,
            SloError::Refused {
                error: LogoutError::Unsigned { .. },
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn refuses_a_logout_request_addressed_to_another_endpoint() {
    let (sp, _) = logged_in();
    let mut request = chsim_request(&sp.slo_url(), KAREN, INDEX);
    request.destination = "https://chsim.example/demo-sp/oiosaml2/slo".into();
    let e = refusal(&sp, &signed_request(&request, &broker()));
    match e {
        SloError::Refused {
            error: LogoutError::WrongDestination { expected, found },
            ..
        } => {
            assert_eq!(expected, sp.slo_url());
            assert_eq!(found, "https://chsim.example/demo-sp/oiosaml2/slo");
        }
        other => panic!("{other}"),
    }
}

#[test]
fn refuses_a_stale_logout_request() {
    let (sp, _) = logged_in();
    let mut request = chsim_request(&sp.slo_url(), KAREN, INDEX);
    request.issue_instant = now() - chrono::Duration::minutes(10);
    let e = refusal(&sp, &signed_request(&request, &broker()));
    assert!(
        matches!(
            &e,
            SloError::Refused {
                error: LogoutError::StaleIssueInstant { .. },
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn refuses_a_logout_request_from_anyone_but_chsim() {
    let (sp, _) = logged_in();
    let mut request = chsim_request(&sp.slo_url(), KAREN, INDEX);
    request.issuer = "https://idp.example".into();
    let e = refusal(&sp, &signed_request(&request, &broker()));
    assert!(
        matches!(&e, SloError::NotChsim { found, .. } if found == "https://idp.example"),
        "{e}"
    );
}

#[test]
fn refuses_a_replayed_logout_request() {
    let (sp, _) = logged_in();
    let request = chsim_request(&sp.slo_url(), KAREN, INDEX);
    let query = signed_request(&request, &broker());
    sp.slo(&query).unwrap();
    let e = refusal(&sp, &query);
    assert!(
        matches!(&e, SloError::Replay { id } if *id == request.id),
        "{e}"
    );
}

#[test]
fn refuses_a_call_with_no_logout_message() {
    let (sp, _) = logged_in();
    assert!(matches!(refusal(&sp, "RelayState=x"), SloError::NoMessage));
}

#[test]
fn log_out_sends_chsim_a_signed_logout_request_with_the_sessions_name_id_and_session_index() {
    let (sp, handle) = logged_in();
    let url = sp.start_logout(Some(&handle)).unwrap();
    let request = verified_request(&url, &key("demo-sp-oiosaml3"), ISSUE);
    let m = request.message();
    assert_eq!(m.issuer, sp.entity_id());
    assert_eq!(m.name_id, NameId::x509(KAREN));
    assert_eq!(m.session_indexes, vec![INDEX.to_string()]);
    assert_eq!(m.reason.as_deref(), Some(reason::USER));
    match sp.session_view(Some(&handle)) {
        SessionView::Ended(e) => assert_eq!(e.how, Ending::LoggedOutHere),
        other => panic!("{other:?}"),
    }
    // The session is gone: a second press has nothing to log out of.
    assert!(matches!(
        sp.start_logout(Some(&handle)),
        Err(DemoSpError::Logout(SloError::NotLoggedIn))
    ));
}

#[test]
fn log_out_without_a_session_is_refused() {
    let sp = demo_sp();
    assert!(matches!(
        sp.start_logout(None),
        Err(DemoSpError::Logout(SloError::NotLoggedIn))
    ));
}

/// Karen pressed "Log out"; the ID of the LogoutRequest sent.
fn logged_out_here() -> (DemoSp, String) {
    let (sp, handle) = logged_in();
    let url = sp.start_logout(Some(&handle)).unwrap();
    let id = verified_request(&url, &key("demo-sp-oiosaml3"), ISSUE)
        .message()
        .id
        .clone();
    (sp, id)
}

#[test]
fn shows_logged_out_when_chsim_answers_success() {
    let (sp, id) = logged_out_here();
    let answer = chsim_response(&sp.slo_url(), &id, Status::success());
    assert_eq!(
        sp.slo(&signed_response(&answer)).unwrap(),
        SloOutcome::Finished {
            who: "Karen Sagsbehandler".into(),
            result: LogoutResult::LoggedOut
        }
    );
    // Answered once: the same answer again answers nothing outstanding.
    let e = refusal(&sp, &signed_response(&answer));
    assert!(matches!(e, SloError::UnknownInResponseTo { .. }), "{e}");
}

#[test]
fn shows_partial_logout_with_chsims_status_message() {
    let (sp, id) = logged_out_here();
    let partial = Status {
        code: status::SUCCESS.into(),
        sub_code: Some(status::PARTIAL_LOGOUT.into()),
        message: Some("Demo-fagsystem B did not answer".into()),
    };
    let outcome = sp
        .slo(&signed_response(&chsim_response(
            &sp.slo_url(),
            &id,
            partial,
        )))
        .unwrap();
    assert!(matches!(
        outcome,
        SloOutcome::Finished { result: LogoutResult::Partial { message: Some(m) }, .. }
            if m == "Demo-fagsystem B did not answer"
    ));
}

#[test]
fn shows_chsims_error_status() {
    let (sp, id) = logged_out_here();
    let failed = Status {
        code: status::REQUESTER.into(),
        sub_code: Some(status::UNKNOWN_PRINCIPAL.into()),
        message: None,
    };
    let outcome = sp
        .slo(&signed_response(&chsim_response(
            &sp.slo_url(),
            &id,
            failed.clone(),
        )))
        .unwrap();
    assert!(
        matches!(outcome, SloOutcome::Finished { result: LogoutResult::Failed(s), .. } if s == failed)
    );
}

#[test]
fn refuses_a_logout_response_that_answers_no_request_it_sent() {
    let (sp, _) = logged_out_here();
    let answer = chsim_response(&sp.slo_url(), "_never-sent", Status::success());
    let e = refusal(&sp, &signed_response(&answer));
    assert!(
        matches!(&e, SloError::UnknownInResponseTo { in_response_to } if in_response_to == "_never-sent"),
        "{e}"
    );
}

#[test]
fn a_forged_logout_response_does_not_use_up_the_request_it_names() {
    let (sp, id) = logged_out_here();
    let answer = chsim_response(&sp.slo_url(), &id, Status::success());
    let forged = redirect_query(
        answer
            .encode(
                crate::saml::logout::Binding::Redirect,
                None,
                &key("test-idp-korsbaek"),
            )
            .unwrap(),
    );
    let e = refusal(&sp, &forged);
    assert!(
        matches!(
            &e,
            SloError::Refused {
                element: "LogoutResponse",
                error: LogoutError::Signature { .. }
            }
        ),
        "{e}"
    );
    assert!(matches!(
        sp.slo(&signed_response(&answer)).unwrap(),
        SloOutcome::Finished {
            result: LogoutResult::LoggedOut,
            ..
        }
    ));
}

#[test]
fn without_chsims_redirect_endpoint_log_out_says_so() {
    let mut sp = demo_sp();
    let mut chsim = sp.chsim.clone();
    chsim.slo.redirect = None;
    chsim.slo.post = Some(SloEndpoint {
        location: ISSUE.into(),
        response_location: None,
    });
    sp = DemoSp::new(
        sp.config.clone(),
        "https://chsim.example",
        key("demo-sp-oiosaml3"),
        chsim,
        clock(),
    );
    let handle = sp.open_session(&assertion(KAREN, INDEX));
    assert!(matches!(
        sp.start_logout(Some(&handle)),
        Err(DemoSpError::Logout(SloError::NoChsimEndpoint))
    ));
}
