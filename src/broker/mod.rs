//! One brokered login as a state machine (reference §1.1):
//! user system's AuthnRequest → (IdP chooser) → chsim's AuthnRequest to the IdP → the IdP's
//! Response, validated → privileges for the user system → assurance (issue #3) → token issued.
//!
//! State lives in moka caches: logins waiting for an IdP, requests sent to IdPs (keyed by their
//! ID, which the IdP's InResponseTo must name), requests already answered, and assertion IDs
//! already accepted (replay). No axum here: the HTTP layer hands in decoded inputs and renders
//! the outcomes.

mod consume;
mod error;
mod identity;
mod idp_status;
mod nemlogin;
mod privileges;
mod report;
mod start;

pub use error::{BrokerError, Failure};
pub use report::LoginReport;
pub use start::{IdpChoice, IncomingRequest, Next};

use crate::assurance::Requirement;
use crate::attribute_service::AttributeServiceClient;
use crate::clock::Clock;
use crate::ids::{EntityId, LoginId};
use crate::saml::authn_request::RequestedAuthnContext;
use crate::saml::signing::AlgorithmPolicy;
use crate::saml::Credential;
use crate::token::TokenIssuer;
use crate::trust::Trust;
use chrono::Duration;
use moka::sync::Cache;
use std::sync::Arc;

/// The broker's settings (from `[broker]` and the public URL).
#[derive(Debug, Clone)]
pub struct BrokerSettings {
    /// entityID of both faces.
    pub entity_id: EntityId,
    /// `…/runtime/saml2/issue.idp`.
    pub sso_url: String,
    /// `…/runtime/saml2auth/consume.idp`.
    pub acs_url: String,
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
}

/// A user system's login waiting for an IdP.
#[derive(Debug, Clone)]
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
    pub relay_state: Option<String>,
    /// ForceAuthn from the user system.
    pub force_authn: bool,
    /// IsPassive from the user system: chsim and the IdP must answer without interaction.
    pub is_passive: bool,
    /// RequestedAuthnContext from the user system.
    pub requested_authn_context: Option<RequestedAuthnContext>,
    /// The level this login must reach: the user system's, raised by its request.
    pub requirement: Requirement,
    /// Whether chsim already asked the IdP again for a higher level (step-up happens once).
    pub stepped_up: bool,
    /// The municipality's answer, kept while the person continues at NemLog-in.
    pub first_leg: Option<std::sync::Arc<nemlogin::FirstLeg>>,
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
#[derive(Debug, Clone)]
struct IdpRequest {
    login: LoginId,
    idp: EntityId,
}

/// A token ready to be POSTed to a user system's ACS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The ACS URL.
    pub acs_url: String,
    /// Base64 SAMLResponse.
    pub saml_response: String,
    /// RelayState to return.
    pub relay_state: Option<String>,
    /// The user system's name, for the page.
    pub user_system_name: String,
    /// The login was passive (IsPassive): a failure goes back at once, without asking the
    /// person to press anything (saml-core §3.4.1).
    pub passive: bool,
}

/// A cache weight in bytes, saturating.
fn weight(bytes: usize) -> u32 {
    u32::try_from(bytes).unwrap_or(u32::MAX)
}

impl PendingLogin {
    /// About how many bytes this login holds (for the cache's weight bound).
    fn weight(&self) -> usize {
        let first_leg = self.first_leg.as_ref().map_or(0, |f| {
            f.attributes
                .iter()
                .map(|(n, v)| n.len() + v.iter().map(String::len).sum::<usize>() + 32)
                .sum::<usize>()
                + 1024
        });
        256 + self.user_system.as_str().len()
            + self.request_id.len()
            + self.acs_url.len()
            + self.relay_state.as_ref().map_or(0, String::len)
            + self.requested_authn_context.as_ref().map_or(0, |r| {
                r.class_refs.iter().map(String::len).sum::<usize>() + 32
            })
            + first_leg
    }
}

/// Expiry per replay-cache entry: until the assertion itself expires (plus skew).
struct UntilExpiry;

impl moka::Expiry<String, std::time::Duration> for UntilExpiry {
    fn expire_after_create(
        &self,
        _key: &String,
        value: &std::time::Duration,
        _created_at: std::time::Instant,
    ) -> Option<std::time::Duration> {
        Some(*value)
    }
}

/// The broker.
#[derive(Debug)]
pub struct Broker {
    settings: BrokerSettings,
    trust: Trust,
    tokens: TokenIssuer,
    clock: Arc<dyn Clock>,
    logins: Cache<LoginId, PendingLogin>,
    idp_requests: Cache<String, IdpRequest>,
    answered: Cache<String, ()>,
    replay: Cache<String, std::time::Duration>,
    /// `issuer \n ID` of AuthnRequests accepted (issue #8 §6: each once).
    seen_requests: Cache<String, ()>,
    attribute_services: AttributeServiceClient,
    reports: Cache<String, LoginReport>,
}

impl Broker {
    /// A broker with empty state.
    pub fn new(
        settings: BrokerSettings,
        trust: Trust,
        attribute_services: AttributeServiceClient,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let ttl = settings
            .login_timeout
            .to_std()
            .unwrap_or(std::time::Duration::from_secs(900));
        let tokens = TokenIssuer {
            entity_id: settings.entity_id.clone(),
            credential: settings.credential.clone(),
            lifetime: settings.assertion_lifetime,
        };
        // Issue #8 §6: every cache is bounded by an estimate of the bytes it holds, not only by
        // entry count, so a flood of large requests cannot grow memory beyond these bounds.
        const MIB: u64 = 1024 * 1024;
        let skew = settings
            .clock_skew
            .to_std()
            .unwrap_or(std::time::Duration::from_secs(60));
        Self {
            tokens,
            trust,
            clock,
            logins: Cache::builder()
                .max_capacity(64 * MIB)
                .weigher(|k: &LoginId, v: &PendingLogin| weight(k.as_str().len() + v.weight()))
                .time_to_live(ttl)
                .build(),
            idp_requests: Cache::builder()
                .max_capacity(16 * MIB)
                .weigher(|k: &String, v: &IdpRequest| {
                    weight(k.len() + v.login.as_str().len() + v.idp.as_str().len() + 64)
                })
                .time_to_live(ttl)
                .build(),
            // Only tells "answered before" from "never asked" in an error message: small.
            answered: Cache::builder()
                .max_capacity(4 * MIB)
                .weigher(|k: &String, _: &()| weight(k.len() + 128))
                .time_to_live(ttl * 2)
                .build(),
            replay: Cache::builder()
                .max_capacity(64 * MIB)
                .weigher(|k: &String, _: &std::time::Duration| weight(k.len() + 64))
                .expire_after(UntilExpiry)
                .build(),
            // A request older than the skew is refused anyway, so its ID need not be kept longer.
            seen_requests: Cache::builder()
                .max_capacity(32 * MIB)
                .weigher(|k: &String, _: &()| weight(k.len() + 64))
                .time_to_live(skew * 2 + std::time::Duration::from_secs(1))
                .build(),
            attribute_services,
            // A debugging aid for the demo pages, not state a login needs: the most recent few
            // thousand (the weight counts heap overhead twice over the payload).
            reports: Cache::builder()
                .max_capacity(8 * MIB)
                .weigher(|k: &String, v: &LoginReport| weight(k.len() + 2 * v.weight()))
                .time_to_live(std::time::Duration::from_secs(3600))
                .build(),
            settings,
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
    pub fn report(&self, session_index: &str) -> Option<LoginReport> {
        self.reports.get(session_index)
    }
}
