//! Single logout in metadata (issue #9 §3; reference §1.2, §2.4, §3.4): the SingleLogoutService
//! endpoints chsim publishes on both faces, those its built-in parties publish and chsim reads
//! into its trust, and `chsim check-config` warning about metadata the Context Handler would
//! refuse for lacking an HTTP-Redirect one.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use chsim::saml::logout::{Binding, SloEndpoint, SloEndpoints};
use chsim::saml::metadata::{self, Endpoint, RoleSpec};
use chsim::saml::{bindings, Credential};
use common::on_disk::{demo_copy, run_chsim};
use std::path::Path;
use std::sync::Arc;

async fn demo_state() -> (String, chsim::http::AppState) {
    let config = common::demo_config();
    let base = config.public_url().to_string();
    let state = chsim::app::build(&config, Arc::new(chsim::clock::SystemClock))
        .await
        .unwrap();
    (base, state)
}

#[tokio::test]
async fn chsim_publishes_single_logout_on_its_idp_face_for_redirect_post_and_soap() {
    let (base, state) = demo_state().await;
    let idp = metadata::parse(&state.idp_metadata).unwrap().idp.unwrap();
    let issue = format!("{base}/runtime/saml2/issue.idp");
    let signoff = format!("{base}/runtime/saml2/signoff.idp");
    assert_eq!(
        idp.slo,
        vec![
            Endpoint::new(bindings::REDIRECT, &issue).with_response_location(&signoff),
            Endpoint::new(bindings::POST, &issue).with_response_location(&signoff),
            Endpoint::new(
                bindings::SOAP,
                format!("{base}/runtime/services/signoff/saml2/soap")
            ),
        ]
    );
    // The demo user systems learn it from the metadata, as an outside user system would.
    let seen = chsim::demo_sp::ChsimAsIdp::from_metadata(&state.idp_metadata)
        .unwrap()
        .slo;
    assert_eq!(seen.get(Binding::Post).unwrap().request_url(), issue);
    assert_eq!(seen.get(Binding::Redirect).unwrap().response_url(), signoff);
    assert!(seen.soap.is_some());
    let s = state.broker.settings();
    assert_eq!(
        (s.slo_response_url.as_str(), s.slo_soap_url.as_str()),
        (
            signoff.as_str(),
            format!("{base}/runtime/services/signoff/saml2/soap").as_str()
        )
    );
}

#[tokio::test]
async fn chsim_publishes_single_logout_on_its_sp_face_for_redirect() {
    let (base, state) = demo_state().await;
    let sp = metadata::parse(&state.sp_metadata).unwrap().sp.unwrap();
    let request = format!("{base}/runtime/saml2auth/signoffrequest.idp");
    let response = format!("{base}/runtime/saml2auth/signoffresponse.idp");
    assert_eq!(
        sp.slo,
        vec![Endpoint::new(bindings::REDIRECT, &request).with_response_location(&response)]
    );
    let s = state.broker.settings();
    assert_eq!(s.sp_slo_request_url, request);
    assert_eq!(s.sp_slo_response_url, response);
    // The test IdPs learn it from the metadata, as an outside IdP would.
    let seen = chsim::test_idp::ChsimAsSp::from_metadata(&state.sp_metadata)
        .unwrap()
        .slo;
    let redirect = seen.get(Binding::Redirect).unwrap();
    assert_eq!(
        (redirect.request_url(), redirect.response_url()),
        (request.as_str(), response.as_str())
    );
}

#[tokio::test]
async fn built_in_parties_publish_redirect_single_logout_and_chsim_trusts_them_with_it() {
    let (base, state) = demo_state().await;
    let trust = state.broker.trust();
    assert!(trust.warnings.is_empty(), "{:?}", trust.warnings);
    assert!(!trust.idps.is_empty() && !trust.user_systems.is_empty());
    let redirect_only = |url: String| SloEndpoints {
        redirect: Some(SloEndpoint {
            location: url,
            response_location: None,
        }),
        post: None,
        soap: None,
    };
    for idp in &trust.idps {
        let id = idp.entity_id.as_str().rsplit('/').next().unwrap();
        assert_eq!(idp.slo, redirect_only(format!("{base}/test-idp/{id}/slo")));
        assert_eq!(
            idp.slo.get(Binding::Redirect).unwrap().response_url(),
            format!("{base}/test-idp/{id}/slo")
        );
    }
    // SAML user systems; an OIDC one (demo-oidc) is logged out by front or back channel.
    for us in trust.user_systems.values().filter(|u| u.oidc.is_none()) {
        let id = us.entity_id.as_str().rsplit('/').next().unwrap();
        assert_eq!(us.slo, redirect_only(format!("{base}/demo-sp/{id}/slo")));
    }
    assert_eq!(
        state.test_idps["korsbaek"].slo_url(),
        format!("{base}/test-idp/korsbaek/slo")
    );
    assert_eq!(
        state.demo_sps["oiosaml3"].slo_url(),
        format!("{base}/demo-sp/oiosaml3/slo")
    );
}

fn key(name: &str) -> Credential {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("keys");
    Credential::from_pem(
        &std::fs::read(root.join(format!("{name}.key.pem"))).unwrap(),
        &std::fs::read(root.join(format!("{name}.cert.pem"))).unwrap(),
    )
    .unwrap()
}

fn append(dir: &Path, file: &str, text: &str) {
    let path = dir.join(file);
    let mut all = std::fs::read_to_string(&path).unwrap();
    all.push_str(text);
    std::fs::write(&path, all).unwrap();
}

#[test]
fn check_config_warns_that_the_context_handler_would_refuse_metadata_without_redirect_single_logout(
) {
    let (_tmp, dir) = demo_copy();
    // A user system with no SingleLogoutService at all.
    let sp = metadata::build_signed(
        "https://fagsystem.example.dk",
        &RoleSpec::Sp {
            acs: vec![Endpoint::new(
                bindings::POST,
                "https://fagsystem.example.dk/acs",
            )],
            slo: Vec::new(),
            authn_requests_signed: true,
            want_assertions_signed: true,
        },
        &key("demo-sp-oiosaml2"),
        None,
    )
    .unwrap();
    std::fs::write(dir.join("no-slo-sp.xml"), sp).unwrap();
    append(
        &dir,
        "user_systems.toml",
        "\n[[user_system]]\nname = \"No SLO\"\nmetadata = \"no-slo-sp.xml\"\nprofile = \"OIOSAML3\"\nnsis_level = \"Substantial\"\n",
    );
    // An IdP with SOAP single logout only.
    let idp = metadata::build_signed(
        "https://idp.example.dk",
        &RoleSpec::Idp {
            sso: vec![Endpoint::new(
                bindings::REDIRECT,
                "https://idp.example.dk/sso",
            )],
            slo: vec![Endpoint::new(
                bindings::SOAP,
                "https://idp.example.dk/slo-soap",
            )],
            want_authn_requests_signed: true,
        },
        &key("test-idp-soeby"),
        None,
    )
    .unwrap();
    std::fs::write(dir.join("soap-slo-idp.xml"), idp).unwrap();
    append(
        &dir,
        "municipalities.toml",
        "\n[[municipality]]\nname = \"Soap Kommune\"\ncvr = \"55555555\"\n[[municipality.idp]]\npresentation_name = \"Soap Kommune\"\nmetadata = \"soap-slo-idp.xml\"\nprofile = \"OIOSAML3\"\nnist_level = 3\nnsis_level = \"Substantial\"\n",
    );
    let (code, out) = run_chsim(
        &["check-config", "--config", dir.to_str().unwrap()],
        &[("CHSIM_PUBLIC_URL", "http://localhost:8080")],
    );
    assert_eq!(code, 0, "a warning is not an error: {out}");
    let municipalities = std::fs::read_to_string(dir.join("municipalities.toml")).unwrap();
    let idp_index = municipalities
        .lines()
        .filter(|l| l.trim() == "[[municipality]]")
        .count()
        - 1;
    assert!(
        out.contains(&format!("warning: municipalities.toml: municipality[{idp_index}].idp[0].metadata: the Context Handler would refuse this metadata: `https://idp.example.dk` has no HTTP-Redirect SingleLogoutService (required of every IdP and user system); chsim accepts it, but single logout can reach it only by SOAP")),
        "{out}"
    );
    let user_systems = std::fs::read_to_string(dir.join("user_systems.toml")).unwrap();
    let us_index = user_systems
        .lines()
        .filter(|l| l.trim() == "[[user_system]]")
        .count()
        - 1;
    assert!(
        out.contains(&format!("warning: user_systems.toml: user_system[{us_index}].metadata: the Context Handler would refuse this metadata: `https://fagsystem.example.dk` has no HTTP-Redirect SingleLogoutService (required of every IdP and user system); chsim accepts it, but it has no SingleLogoutService at all, so single logout cannot reach it")),
        "{out}"
    );
}
