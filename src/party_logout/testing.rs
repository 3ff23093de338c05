//! What the parties' unit tests share: chsim played with its demo key (`keys/broker.key.pem`),
//! building logout messages as chsim would and reading the parties' answers as chsim would.
#![allow(clippy::unwrap_used)]

use crate::clock::FixedClock;
use crate::ids::new_saml_id;
use crate::saml::logout::{
    self, Binding, Expectations, Incoming, NameId, NewLogoutRequest, NewLogoutResponse, Outgoing,
    SloEndpoint, VerifiedLogoutRequest, VerifiedLogoutResponse,
};
use crate::saml::response::Status;
use crate::saml::signing::AlgorithmPolicy;
use crate::saml::Credential;
use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;
use url::Url;

/// chsim's entityID in these tests.
pub const CHSIM: &str = "https://chsim.example/runtime";
/// chsim's IdP-face SingleLogoutService (Redirect Location).
pub const ISSUE: &str = "https://chsim.example/runtime/saml2/issue.idp";
/// Its ResponseLocation.
pub const SIGNOFF: &str = "https://chsim.example/runtime/saml2/signoff.idp";
/// chsim's SP-face SingleLogoutService (Redirect Location).
pub const SIGNOFF_REQUEST: &str = "https://chsim.example/runtime/saml2auth/signoffrequest.idp";
/// Its ResponseLocation.
pub const SIGNOFF_RESPONSE: &str = "https://chsim.example/runtime/saml2auth/signoffresponse.idp";
/// The RelayState chsim sends with its LogoutRequests (its logout handle).
pub const RELAY: &str = "chsim-logout-7";

/// A demo key pair from `keys/`.
pub fn key(name: &str) -> Credential {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/keys/");
    Credential::from_pem(
        &std::fs::read(format!("{dir}{name}.key.pem")).unwrap(),
        &std::fs::read(format!("{dir}{name}.cert.pem")).unwrap(),
    )
    .unwrap()
}

/// chsim's signing key.
pub fn broker() -> Credential {
    key("broker")
}

/// The tests' instant.
pub fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// A clock standing at [`now`].
pub fn clock() -> Arc<FixedClock> {
    Arc::new(FixedClock::new(now()))
}

/// A Redirect SingleLogoutService with a ResponseLocation.
pub fn endpoint(location: &str, response_location: &str) -> SloEndpoint {
    SloEndpoint {
        location: location.into(),
        response_location: Some(response_location.into()),
    }
}

/// A LogoutRequest as chsim sends it to the party at `destination`.
pub fn chsim_request(destination: &str, name_id: &str, session_index: &str) -> NewLogoutRequest {
    NewLogoutRequest {
        id: new_saml_id(),
        issue_instant: now(),
        destination: destination.into(),
        issuer: CHSIM.into(),
        name_id: NameId::x509(name_id),
        session_indexes: vec![session_index.into()],
        not_on_or_after: Some(now() + Duration::minutes(5)),
        reason: Some(logout::reason::USER.into()),
    }
}

/// A LogoutResponse as chsim sends it to the party at `destination`.
pub fn chsim_response(
    destination: &str,
    in_response_to: &str,
    status: Status,
) -> NewLogoutResponse {
    NewLogoutResponse {
        id: new_saml_id(),
        issue_instant: now(),
        destination: Some(destination.into()),
        issuer: CHSIM.into(),
        in_response_to: in_response_to.into(),
        status,
    }
}

/// The query string of a Redirect URL.
pub fn query(url: &Url) -> String {
    url.query().unwrap().to_string()
}

/// The HTTP-Redirect query string of `out`.
pub fn redirect_query(out: Outgoing) -> String {
    match out {
        Outgoing::Redirect(url) => query(&url),
        other => panic!("not a redirect: {other:?}"),
    }
}

/// `request` signed by `signer` with RelayState [`RELAY`], as it arrives at the party.
pub fn signed_request(request: &NewLogoutRequest, signer: &Credential) -> String {
    redirect_query(
        request
            .encode(Binding::Redirect, Some(RELAY), signer)
            .unwrap(),
    )
}

/// `response` signed by chsim, as it arrives at the party.
pub fn signed_response(response: &NewLogoutResponse) -> String {
    redirect_query(response.encode(Binding::Redirect, None, &broker()).unwrap())
}

fn expect<'a>(certs: &'a [crate::saml::TrustedCert], destination: &'a str) -> Expectations<'a> {
    Expectations {
        trusted_certs: certs,
        algorithms: AlgorithmPolicy::default(),
        destination,
        now: now(),
        clock_skew: Duration::seconds(60),
    }
}

/// The party's LogoutResponse in `url`, read and verified as chsim would: signed by `party`,
/// addressed to `destination` (where `url` leads).
pub fn verified_answer(url: &Url, party: &Credential, destination: &str) -> VerifiedLogoutResponse {
    assert!(
        url.as_str().starts_with(&format!("{destination}?")),
        "{url}"
    );
    let certs = [party.trusted_cert()];
    logout::receive_response(
        Incoming::Redirect {
            raw_query: query(url),
        },
        1 << 20,
    )
    .unwrap()
    .verify(&expect(&certs, destination))
    .unwrap()
}

/// The party's LogoutRequest in `url`, read and verified as chsim would.
pub fn verified_request(url: &Url, party: &Credential, destination: &str) -> VerifiedLogoutRequest {
    assert!(
        url.as_str().starts_with(&format!("{destination}?")),
        "{url}"
    );
    let certs = [party.trusted_cert()];
    logout::receive_request(
        Incoming::Redirect {
            raw_query: query(url),
        },
        1 << 20,
    )
    .unwrap()
    .verify(&expect(&certs, destination))
    .unwrap()
}
