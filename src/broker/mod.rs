//! One brokered login as a state machine (reference §1.1):
//! user system's AuthnRequest → (IdP chooser) → chsim's AuthnRequest to the IdP → the IdP's
//! Response, validated → privileges for the user system → assurance (issue #3) → token issued.
//!
//! The login path reads straight down: `start` (the user system's request) → `outbound` (to the
//! IdP, or a failure back to the user system) → `consume` (the IdP's answer) → `identity` →
//! `nemlogin` (a second leg, when needed) → `issue` (privileges, mapping, token). What the broker
//! remembers between requests lives behind `store`. No axum here: the HTTP layer hands in decoded
//! inputs and renders the outcomes.

mod consume;
mod error;
mod identity;
mod idp_status;
mod issue;
pub mod logout;
mod nemlogin;
pub mod oidc;
mod outbound;
mod privileges;
mod report;
pub mod session;
mod start;
pub mod store;

pub use error::{BrokerError, Failure};
pub use report::LoginReport;
pub use start::{IdpChoice, IncomingRequest, Next};

use crate::assurance::Requirement;
use crate::attribute_service::AttributeServiceClient;
use crate::clock::Clock;
use crate::ids::{EntityId, LoginId, SessionId};
use crate::saml::authn_request::RequestedAuthnContext;
use crate::saml::signing::AlgorithmPolicy;
use crate::saml::Credential;
use crate::token::TokenIssuer;
use crate::trust::Trust;
use chrono::Duration;
use std::sync::Arc;
use store::Store;

/// The broker's settings (from `[broker]` and the public URL).
#[derive(Debug, Clone)]
pub struct BrokerSettings {
    /// entityID of both faces.
    pub entity_id: EntityId,
    /// `…/runtime/saml2/issue.idp`.
    pub sso_url: String,
    /// `…/runtime/saml2auth/consume.idp`.
    pub acs_url: String,
    /// `…/runtime/saml2/signoff.idp`: user systems' LogoutResponses (their LogoutRequests come
    /// to `sso_url`, as the IdP-face metadata says).
    pub slo_response_url: String,
    /// `…/runtime/services/signoff/saml2/soap`: back-channel LogoutRequests.
    pub slo_soap_url: String,
    /// `…/runtime/saml2auth/signoffrequest.idp`: IdPs' LogoutRequests.
    pub sp_slo_request_url: String,
    /// `…/runtime/saml2auth/signoffresponse.idp`: IdPs' LogoutResponses.
    pub sp_slo_response_url: String,
    /// Signing key (metadata, AuthnRequests, tokens).
    pub credential: Credential,
    /// Decryption key: the `use="encryption"` certificate of chsim's SP metadata.
    pub decryption: Credential,
    /// Allowed clock skew.
    pub clock_skew: Duration,
    /// Lifetime of issued assertions.
    pub assertion_lifetime: Duration,
    /// How long a login may wait for the IdP.
    pub login_timeout: Duration,
    /// Bound on SAML message size.
    pub max_message_bytes: usize,
    /// Refuse unsigned AuthnRequests.
    pub require_signed_authn_requests: bool,
    /// Signature algorithms accepted.
    pub algorithms: AlgorithmPolicy,
    /// What NIST level an NSIS login counts as.
    pub equivalence: crate::assurance::Equivalence,
    /// How long SSO sessions last.
    pub session: session::SessionSettings,
    /// The OpenID Provider's URLs (issue #11 §2).
    pub oidc_endpoints: crate::oidc::discovery::Endpoints,
    /// chsim's JWT signer (its signing key, decoded once), issuer `oidc_endpoints.issuer`.
    pub jwt: crate::token::jwt::JwtSigner,
}

/// A user system's login waiting for an IdP. Stored as JSON for every pending login, so absent
/// options and false flags are left out (issue #10 §4); older items with them still read.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PendingLogin {
    /// chsim's handle.
    pub id: LoginId,
    /// The user system.
    pub user_system: EntityId,
    /// Its AuthnRequest ID (the token's InResponseTo).
    pub request_id: String,
    /// Where the token goes.
    pub acs_url: String,
    /// RelayState to give back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relay_state: Option<String>,
    /// ForceAuthn from the user system.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub force_authn: bool,
    /// IsPassive from the user system: chsim and the IdP must answer without interaction.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_passive: bool,
    /// RequestedAuthnContext from the user system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_authn_context: Option<RequestedAuthnContext>,
    /// The level this login must reach: the user system's, raised by its request.
    pub requirement: Requirement,
    /// Whether chsim already asked the IdP again for a higher level (step-up happens once).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stepped_up: bool,
    /// The municipality's answer, kept while the person continues at NemLog-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_leg: Option<std::sync::Arc<nemlogin::FirstLeg>>,
    /// The browser's live SSO session when the login started (upgraded by this login when it
    /// is the same person).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<SessionId>,
    /// The AuthnRequest chsim sent an IdP from the chooser, replaced when the person chooses
    /// again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idp_request: Option<String>,
    /// SHA-256 of the browser's `chsim_browser` cookie when the login started: only an IdP
    /// answer carried by the same browser starts or upgrades an SSO session (else a stranger's
    /// browser could be made to carry the attacker's answer and be logged in as the attacker
    /// everywhere — login CSRF).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub browser: Option<String>,
    /// An OIDC login's request (its redirect URI is in `acs_url`); None for SAML.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc: Option<Box<oidc::OidcLogin>>,
}

/// What an IdP's answer leads to.
#[derive(Debug, Clone)]
pub enum Consumed {
    /// The token, to be POSTed to the user system.
    Deliver(Delivery),
    /// The level was too low and the IdP supports step-up: send the browser back to it.
    StepUp(url::Url),
}

/// A request chsim sent to an IdP.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct IdpRequest {
    /// The login it was sent for.
    pub login: LoginId,
    /// The IdP (or NemLog-in) it was sent to: only its certificates may verify the answer.
    pub idp: EntityId,
}

/// A user system's answer, ready for the browser: a SAML token POSTed to its ACS, or an OIDC
/// redirect to its redirect URI with a code or an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The ACS URL (SAML), or the whole redirect with its query (OIDC).
    pub url: String,
    /// The SAML form to POST to `url`; None for an OIDC redirect.
    pub saml: Option<SamlPost>,
    /// The user system's name, for the page.
    pub user_system_name: String,
    /// The login was passive (IsPassive, `prompt=none`): a failure goes back at once, without
    /// asking the person to press anything (saml-core §3.4.1, OIDC Core §3.1.2.1).
    pub passive: bool,
    /// The SSO session the browser is in after this login (its cookie is set with the token).
    pub session: Option<SessionId>,
}

/// The fields of a SAML HTTP-POST delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamlPost {
    /// Base64 SAMLResponse.
    pub saml_response: String,
    /// RelayState to return.
    pub relay_state: Option<String>,
}

/// The SHA-256 (hex) of a browser's `chsim_browser` cookie, as pending logins keep it.
pub fn browser_digest(cookie: &str) -> String {
    openssl::sha::sha256(cookie.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The broker.
#[derive(Debug)]
pub struct Broker {
    settings: BrokerSettings,
    trust: Trust,
    tokens: TokenIssuer,
    clock: Arc<dyn Clock>,
    attribute_services: AttributeServiceClient,
    store: Store,
    /// For back-channel (SOAP) logout.
    http: reqwest::Client,
}

impl Broker {
    /// A broker remembering what it needs in `store`.
    pub fn new(
        settings: BrokerSettings,
        trust: Trust,
        attribute_services: AttributeServiceClient,
        store: Store,
        http: reqwest::Client,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let tokens = TokenIssuer {
            entity_id: settings.entity_id.clone(),
            credential: settings.credential.clone(),
            lifetime: settings.assertion_lifetime,
        };
        Self {
            tokens,
            trust,
            clock,
            attribute_services,
            store,
            http,
            settings,
        }
    }

    /// How long the in-memory store keeps each kind of item, from the settings.
    pub fn lifetimes(settings: &BrokerSettings) -> store::Lifetimes {
        let seconds = |d: Duration, fallback: u64| {
            d.to_std()
                .unwrap_or(std::time::Duration::from_secs(fallback))
        };
        store::Lifetimes {
            login: seconds(settings.login_timeout, 900),
            // A request older than the skew is refused anyway, so its ID need not be kept longer.
            authn_request: seconds(settings.clock_skew, 60) * 2 + std::time::Duration::from_secs(1),
            report: std::time::Duration::from_secs(3600),
        }
    }

    /// The settings.
    pub fn settings(&self) -> &BrokerSettings {
        &self.settings
    }

    /// The trusted parties.
    pub fn trust(&self) -> &Trust {
        &self.trust
    }

    /// The user system a pending login is for.
    fn user_system_of(
        &self,
        login: &PendingLogin,
    ) -> Result<&crate::trust::TrustedUserSystem, BrokerError> {
        self.trust
            .user_systems
            .get(&login.user_system)
            .ok_or_else(|| BrokerError::UnknownUserSystem {
                issuer: login.user_system.to_string(),
            })
    }

    /// The report of the login that got chsim's SessionIndex `session_index` (kept an hour; the most recent few thousand).
    pub async fn report(&self, session_index: &str) -> Result<Option<LoginReport>, BrokerError> {
        Ok(self.store.report(session_index).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pending_login_is_stored_without_its_absent_options_and_reads_back() {
        let login = PendingLogin {
            id: LoginId::new("l1"),
            user_system: EntityId::new("https://us.example"),
            request_id: "_r1".to_string(),
            acs_url: "https://us.example/acs".to_string(),
            relay_state: None,
            force_authn: false,
            is_passive: false,
            requested_authn_context: None,
            requirement: Requirement::Nist(crate::assurance::NistLevel::new(3).unwrap()),
            stepped_up: false,
            first_leg: None,
            session: None,
            idp_request: None,
            browser: None,
            oidc: None,
        };
        let json = serde_json::to_string(&login).unwrap();
        for absent in [
            "relay_state",
            "force_authn",
            "is_passive",
            "stepped_up",
            "idp_request",
            "browser",
            "null",
        ] {
            assert!(!json.contains(absent), "{absent} in {json}");
        }
        let back: PendingLogin = serde_json::from_str(&json).unwrap();
        assert_eq!(back.request_id, "_r1");
        assert!(!back.is_passive && back.relay_state.is_none());
        // An item written with every field (an older chsim, a shared store) still reads.
        let full = json.replacen(
            '{',
            r#"{"relay_state":"rs","is_passive":true,"session":null,"#,
            1,
        );
        let back: PendingLogin = serde_json::from_str(&full).unwrap();
        assert!(back.is_passive);
        assert_eq!(back.relay_state.as_deref(), Some("rs"));
    }
}
