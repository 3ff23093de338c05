//! Unit tests of the test IdP's single logout: chsim is played with its demo key; Karen logs in
//! through a real signed AuthnRequest, then chsim's LogoutRequest ends her IdP session, or the
//! IdP's "Log out" starts IdP-initiated logout.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::party_logout::testing::*;
use crate::party_logout::{LogoutResult, SessionView, SloOutcome};
use crate::saml::authn_request::NewAuthnRequest;
use crate::saml::logout::{reason, LogoutError, NameId, SloEndpoints};

fn test_idp() -> TestIdp {
    let config = crate::config::load(crate::config::ConfigSource::Embedded)
        .unwrap()
        .test_idps
        .test_idp
        .into_iter()
        .find(|t| t.id == "korsbaek")
        .unwrap();
    let chsim = ChsimAsSp {
        entity_id: CHSIM.into(),
        acs_url: "https://chsim.example/runtime/saml2auth/consume.idp".into(),
        signing_certs: vec![broker().trusted_cert()],
        encryption_cert: None,
        slo: SloEndpoints {
            redirect: Some(endpoint(SIGNOFF_REQUEST, SIGNOFF_RESPONSE)),
            ..Default::default()
        },
    };
    TestIdp::new(
        config,
        "https://chsim.example",
        key("test-idp-korsbaek"),
        chsim,
        clock(),
    )
}

/// Karen logged in at the IdP through chsim's signed AuthnRequest: the IdP, her browser handle
/// and the SessionIndex the IdP sent chsim.
fn logged_in() -> (TestIdp, String, String) {
    let idp = test_idp();
    let request = NewAuthnRequest {
        id: crate::ids::new_saml_id(),
        issue_instant: now(),
        destination: idp.sso_url(),
        issuer: CHSIM.into(),
        acs_url: None,
        force_authn: false,
        is_passive: false,
        name_id_format: None,
        requested_authn_context: None,
        requester_ids: vec![],
    };
    let url = binding::encode_redirect(
        &request.destination,
        MessageKind::Request,
        &request.to_xml(None).unwrap(),
        Some("r"),
        Some(broker().key()),
    )
    .unwrap();
    let (handle, _) = idp.begin(&query(&url)).unwrap();
    let (_, browser) = idp.login_in_session(&handle, "karen", None).unwrap();
    let index = idp.session(Some(&browser)).unwrap().session_index;
    (idp, browser, index)
}

fn karen(idp: &TestIdp) -> String {
    idp.name_id(idp.config.user.iter().find(|u| u.id == "karen").unwrap())
}

fn refusal(idp: &TestIdp, raw_query: &str) -> SloError {
    match idp.slo(raw_query) {
        Err(TestIdpError::Logout(e)) => e,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn answers_chsims_logout_request_by_ending_the_idp_session_with_that_session_index() {
    let (idp, browser, index) = logged_in();
    let request = chsim_request(&idp.slo_url(), &karen(&idp), &index);
    let SloOutcome::Answered { redirect, ended } =
        idp.slo(&signed_request(&request, &broker())).unwrap()
    else {
        panic!("not answered")
    };
    assert_eq!(ended, 1);
    // To chsim's SP-face ResponseLocation, signed with the IdP's key, RelayState echoed.
    let answer = verified_answer(&redirect, &key("test-idp-korsbaek"), SIGNOFF_RESPONSE);
    assert_eq!(answer.message().status, Status::success());
    assert_eq!(answer.message().in_response_to, request.id);
    assert_eq!(answer.message().issuer, idp.entity_id());
    assert_eq!(answer.relay_state(), Some(RELAY));
    assert_eq!(idp.session_with_index(&index), None);
    assert!(idp.session(Some(&browser)).is_none());
    match idp.session_view(Some(&browser)) {
        SessionView::Ended(e) => assert_eq!(
            e.how,
            Ending::SingleLogout {
                issuer: CHSIM.into(),
                reason: Some(reason::USER.into())
            }
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn answers_unknown_principal_for_a_session_index_it_never_sent() {
    let (idp, browser, _) = logged_in();
    let request = chsim_request(&idp.slo_url(), &karen(&idp), "_not-ours");
    let SloOutcome::Answered { redirect, ended } =
        idp.slo(&signed_request(&request, &broker())).unwrap()
    else {
        panic!("not answered")
    };
    assert_eq!(ended, 0);
    let status = verified_answer(&redirect, &key("test-idp-korsbaek"), SIGNOFF_RESPONSE)
        .into_message()
        .status;
    assert_eq!(
        (status.code.as_str(), status.sub_code.as_deref()),
        (status::REQUESTER, Some(status::UNKNOWN_PRINCIPAL))
    );
    assert!(idp.session(Some(&browser)).is_some());
}

#[test]
fn refuses_a_logout_request_not_signed_by_chsim() {
    let (idp, browser, index) = logged_in();
    let request = chsim_request(&idp.slo_url(), &karen(&idp), &index);
    let e = refusal(&idp, &signed_request(&request, &key("test-idp-bakkeby")));
    assert!(
        matches!(
            &e,
            SloError::Refused {
                error: LogoutError::Signature { .. },
                ..
            }
        ),
        "{e}"
    );
    assert!(idp.session(Some(&browser)).is_some());
}

#[test]
fn refuses_a_logout_request_addressed_elsewhere() {
    let (idp, _, index) = logged_in();
    let request = chsim_request(
        "https://chsim.example/test-idp/bakkeby/slo",
        &karen(&idp),
        &index,
    );
    let e = refusal(&idp, &signed_request(&request, &broker()));
    assert!(
        matches!(
            &e,
            SloError::Refused {
                error: LogoutError::WrongDestination { .. },
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn log_out_starts_idp_initiated_logout_with_the_name_id_and_session_index_it_issued() {
    let (idp, browser, index) = logged_in();
    let url = idp.start_logout(Some(&browser)).unwrap();
    let request = verified_request(&url, &key("test-idp-korsbaek"), SIGNOFF_REQUEST);
    let m = request.message();
    assert_eq!(m.issuer, idp.entity_id());
    assert_eq!(m.name_id, NameId::x509(karen(&idp)));
    assert_eq!(m.session_indexes, vec![index]);
    assert_eq!(m.reason.as_deref(), Some(reason::USER));
    assert!(matches!(
        idp.session_view(Some(&browser)),
        SessionView::Ended(_)
    ));

    // chsim's answer arrives at the same SLO URL.
    let answer = chsim_response(&idp.slo_url(), &m.id, Status::success());
    assert_eq!(
        idp.slo(&signed_response(&answer)).unwrap(),
        SloOutcome::Finished {
            who: "Karen Sagsbehandler".into(),
            result: LogoutResult::LoggedOut
        }
    );
}

#[test]
fn refuses_a_logout_response_to_a_request_it_never_sent() {
    let (idp, _, _) = logged_in();
    let answer = chsim_response(&idp.slo_url(), "_never-sent", Status::success());
    let e = refusal(&idp, &signed_response(&answer));
    assert!(matches!(e, SloError::UnknownInResponseTo { .. }), "{e}");
}

#[test]
fn log_out_without_an_idp_session_is_refused() {
    let idp = test_idp();
    assert!(matches!(
        idp.start_logout(Some("_nobody")),
        Err(TestIdpError::Logout(SloError::NotLoggedIn))
    ));
}
