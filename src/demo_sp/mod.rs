//! chsim's built-in demo user systems: separate SAML parties (own entityID, keys, metadata) that
//! log in through chsim exactly as a vendor's system would, and show what they received — the
//! attributes, the decoded privilege list and the raw assertion (reference §3.1, §3.2, §4.3, §4.4).
//!
//! They know chsim only from its published IdP metadata, and check chsim's Response with the same
//! rules chsim applies to IdPs. A login opens a session of their own, which single logout ends
//! either way ([`logout`], [`session`]).

mod logout;
pub mod session;
#[cfg(test)]
mod tests;

pub use session::SpSession;

use crate::clock::Clock;
use crate::config::{BindingChoice, DemoSpConfig, Profile};
use crate::ids::new_saml_id;
use crate::party_logout::{self, PartyLogout, SloError};
use crate::saml::authn_request::{NewAuthnRequest, RequestedAuthnContext};
use crate::saml::binding::{self, MessageKind};
use crate::saml::logout::SloEndpoints;
use crate::saml::metadata::{self, Endpoint, RoleSpec};
use crate::saml::oiosaml::{oiosaml2, oiosaml3};
use crate::saml::response::Status;
use crate::saml::signing::AlgorithmPolicy;
use crate::saml::validate::{self, Expectations, ValidatedAssertion, ValidationError};
use crate::saml::{bindings, xml, Credential, SamlError, TrustedCert, NAMEID_X509};
use base64::Engine as _;
use chrono::Duration;
use moka::sync::Cache;
use std::sync::Arc;
use url::Url;

/// What a demo SP knows about chsim (from chsim's IdP metadata).
#[derive(Debug, Clone)]
pub struct ChsimAsIdp {
    /// chsim's entityID.
    pub entity_id: String,
    /// HTTP-Redirect SSO URL.
    pub sso_redirect: String,
    /// HTTP-POST SSO URL.
    pub sso_post: String,
    /// Signing certificates, decoded once.
    pub signing_certs: Vec<TrustedCert>,
    /// chsim's SingleLogoutService (IdP face).
    pub slo: SloEndpoints,
}

impl ChsimAsIdp {
    /// Reads chsim's IdP metadata as any user system would.
    pub fn from_metadata(xml: &str) -> Result<Self, SamlError> {
        let md = metadata::parse(xml)?;
        let idp = md.idp.ok_or(SamlError::Malformed {
            expected: "IdP metadata",
            reason: "no IDPSSODescriptor".into(),
        })?;
        let find = |b: &str| {
            idp.sso
                .iter()
                .find(|e| e.binding == b)
                .map(|e| e.location.clone())
                .ok_or(SamlError::Malformed {
                    expected: "IdP metadata",
                    reason: format!("no SingleSignOnService with binding {b}"),
                })
        };
        Ok(Self {
            entity_id: md.entity_id,
            sso_redirect: find(bindings::REDIRECT)?,
            sso_post: find(bindings::POST)?,
            slo: SloEndpoints::from_metadata(&idp.slo),
            signing_certs: idp
                .signing_certs
                .iter()
                .map(|der| TrustedCert::from_der(der))
                .collect::<Result<_, _>>()
                .map_err(|reason| SamlError::Malformed {
                    expected: "IdP metadata",
                    reason,
                })?,
        })
    }
}

/// How the demo SP sends its request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    /// Redirect the browser here.
    Redirect(Url),
    /// Auto-submit this form.
    Post {
        /// chsim's SSO URL.
        action: String,
        /// Base64 SAMLRequest.
        saml_request: String,
        /// RelayState.
        relay_state: String,
    },
}

/// What the demo SP asks chsim for, beyond its defaults (the start page's links set these).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoginOptions {
    /// A `RequestedAuthnContext Comparison="minimum"` with this class ref.
    pub requested_class_ref: Option<String>,
    /// ForceAuthn.
    pub force_authn: bool,
    /// IsPassive.
    pub is_passive: bool,
}

/// What the demo SP received in a successful login.
#[derive(Debug, Clone)]
pub struct ReceivedLogin {
    /// The verified assertion.
    pub assertion: ValidatedAssertion,
    /// The privilege list, decoded from base64 (XML text), if present.
    pub privileges_xml: Option<String>,
    /// The privilege list read as OIOBPP, if present (an error when it is malformed).
    pub privileges:
        Option<Result<crate::privileges::PrivilegeList, crate::privileges::PrivilegeError>>,
    /// Attribute names the profile requires but the assertion lacks.
    pub missing_attributes: Vec<&'static str>,
    /// RelayState that came back.
    pub relay_state: Option<String>,
    /// The handle of the session the login opened (the session cookie's value).
    pub session: String,
}

/// Why the demo SP did not log the person in.
#[derive(Debug, thiserror::Error)]
pub enum DemoSpError {
    /// Building the request failed.
    #[error("the demo user system could not build its AuthnRequest: {0}")]
    Request(SamlError),
    /// The Response could not be read.
    #[error("the demo user system could not read chsim's Response: {0}")]
    Unreadable(SamlError),
    /// The Response answers no request of this demo SP.
    #[error(
        "chsim's Response answers no pending request of this demo user system (InResponseTo `{0}`)"
    )]
    Unsolicited(String),
    /// chsim answered with a non-success status.
    #[error("chsim answered {}{}", .0.code, .0.message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Status(Status),
    /// The Response failed validation.
    #[error("chsim's Response failed validation: {0}")]
    Invalid(ValidationError),
    /// Single logout: a logout message was refused, or could not be sent.
    #[error("single logout at the demo user system: {0}")]
    Logout(#[from] SloError),
}

/// One demo user system.
#[derive(Debug)]
pub struct DemoSp {
    config: DemoSpConfig,
    entity_id: String,
    base_url: String,
    credential: Credential,
    chsim: ChsimAsIdp,
    clock: Arc<dyn Clock>,
    pending: Cache<String, ()>,
    sessions: party_logout::Sessions<SpSession>,
    logout: PartyLogout,
}

impl DemoSp {
    /// A demo SP served under `<public_url>/demo-sp/<id>`.
    pub fn new(
        config: DemoSpConfig,
        public_url: &str,
        credential: Credential,
        chsim: ChsimAsIdp,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let base_url = format!("{public_url}/demo-sp/{}", config.id);
        let logout = PartyLogout::new(
            &base_url,
            &format!("{base_url}/slo"),
            credential.clone(),
            party_logout::Chsim {
                entity_id: chsim.entity_id.clone(),
                certs: chsim.signing_certs.clone(),
                endpoint: chsim.slo.redirect.clone(),
            },
            clock.clone(),
        );
        Self {
            entity_id: base_url.clone(),
            base_url,
            config,
            credential,
            chsim,
            clock,
            pending: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(std::time::Duration::from_secs(1800))
                .build(),
            sessions: party_logout::Sessions::default(),
            logout,
        }
    }

    /// Its configuration.
    pub fn config(&self) -> &DemoSpConfig {
        &self.config
    }

    /// Its entityID.
    pub fn entity_id(&self) -> &str {
        &self.entity_id
    }

    /// Its ACS URL.
    pub fn acs_url(&self) -> String {
        format!("{}/acs", self.base_url)
    }

    /// Its SingleLogoutService (HTTP-Redirect, for LogoutRequests and LogoutResponses alike).
    pub fn slo_url(&self) -> String {
        format!("{}/slo", self.base_url)
    }

    /// Its signed metadata.
    pub fn metadata_xml(&self) -> Result<String, SamlError> {
        metadata::build_signed(
            &self.entity_id,
            &RoleSpec::Sp {
                acs: vec![Endpoint::new(bindings::POST, self.acs_url())],
                slo: vec![Endpoint::new(bindings::REDIRECT, self.slo_url())],
                authn_requests_signed: true,
                want_assertions_signed: true,
            },
            &self.credential,
            self.config.encrypt.then_some(&self.credential),
        )
    }

    /// Starts a login: a signed AuthnRequest to chsim. `idp` preselects a municipal IdP.
    pub fn start_login(
        &self,
        idp: Option<&str>,
        relay_state: &str,
        options: LoginOptions,
    ) -> Result<Outgoing, DemoSpError> {
        let (destination, binding_choice) = match self.config.binding {
            BindingChoice::Redirect => (&self.chsim.sso_redirect, BindingChoice::Redirect),
            BindingChoice::Post => (&self.chsim.sso_post, BindingChoice::Post),
        };
        let request = NewAuthnRequest {
            id: new_saml_id(),
            issue_instant: self.clock.now(),
            destination: destination.clone(),
            issuer: self.entity_id.clone(),
            acs_url: Some(self.acs_url()),
            force_authn: options.force_authn,
            is_passive: options.is_passive,
            name_id_format: Some(NAMEID_X509.to_string()),
            requested_authn_context: options.requested_class_ref.map(|c| RequestedAuthnContext {
                comparison: "minimum".into(),
                class_refs: vec![c],
            }),
            requester_ids: Vec::new(),
        };
        self.pending.insert(request.id.clone(), ());
        let mut target = destination.clone();
        if let Some(idp) = idp {
            let mut url = Url::parse(&target).map_err(|e| {
                DemoSpError::Request(SamlError::BadEncoding {
                    reason: e.to_string(),
                })
            })?;
            url.query_pairs_mut().append_pair("idp", idp);
            target = url.to_string();
        }
        match binding_choice {
            BindingChoice::Redirect => {
                let xml = request.to_xml(None).map_err(DemoSpError::Request)?;
                binding::encode_redirect(
                    &target,
                    MessageKind::Request,
                    &xml,
                    Some(relay_state),
                    Some(self.credential.key()),
                )
                .map(Outgoing::Redirect)
                .map_err(DemoSpError::Request)
            }
            BindingChoice::Post => {
                let xml = request
                    .to_xml(Some(&self.credential))
                    .map_err(DemoSpError::Request)?;
                Ok(Outgoing::Post {
                    action: target,
                    saml_request: binding::encode_post(&xml),
                    relay_state: relay_state.to_string(),
                })
            }
        }
    }

    /// Consumes chsim's Response at the ACS.
    pub fn acs(
        &self,
        saml_response: &str,
        relay_state: Option<String>,
    ) -> Result<ReceivedLogin, DemoSpError> {
        let xml_text =
            binding::decode_post(saml_response, 1024 * 1024).map_err(DemoSpError::Unreadable)?;
        let in_response_to = xml::parse(&xml_text)
            .map_err(DemoSpError::Unreadable)?
            .root_element()
            .attribute("InResponseTo")
            .unwrap_or("")
            .to_string();
        // Looked at now, taken only once the Response proves it is chsim's: a forged one must
        // not end the login (the same rule chsim applies to IdPs, issue #8 §5).
        if !self.pending.contains_key(&in_response_to) {
            return Err(DemoSpError::Unsolicited(in_response_to));
        }
        let acs = self.acs_url();
        let expect = Expectations {
            issuer: &self.chsim.entity_id,
            trusted_certs: &self.chsim.signing_certs,
            audience: &self.entity_id,
            acs_url: &acs,
            in_response_to: &in_response_to,
            now: self.clock.now(),
            clock_skew: Duration::seconds(60),
            algorithms: AlgorithmPolicy::default(),
            decryption_key: Some(self.credential.key()),
            queried_subject: None,
        };
        let checked = validate::validate_response(&xml_text, &expect);
        if checked
            .as_ref()
            .err()
            .is_none_or(ValidationError::proves_sender)
            && self.pending.remove(&in_response_to).is_none()
        {
            return Err(DemoSpError::Unsolicited(in_response_to));
        }
        let assertion = checked.map_err(|e| match e {
            ValidationError::IdpStatus { status } => DemoSpError::Status(status),
            other => DemoSpError::Invalid(other),
        })?;
        let privileges_name = match self.config.profile {
            Profile::Oiosaml3 => oiosaml3::PRIVILEGES,
            Profile::Oiosaml2 => oiosaml2::PRIVILEGES,
        };
        let privileges_xml = assertion
            .attribute(privileges_name)
            .and_then(|v| v.first())
            .map(|b64| {
                base64::engine::general_purpose::STANDARD
                    .decode(b64.split_whitespace().collect::<String>())
                    .ok()
                    .and_then(|bytes| String::from_utf8(bytes).ok())
                    .unwrap_or_else(|| format!("(not base64 UTF-8: {b64})"))
            });
        let privileges = assertion
            .attribute(privileges_name)
            .and_then(|v| v.first())
            .map(|b64| crate::privileges::parse(b64));
        let required: &[&'static str] = match self.config.profile {
            Profile::Oiosaml3 => &[
                oiosaml3::SPEC_VERSION,
                oiosaml3::KOMBIT_SPEC_VER,
                oiosaml3::CVR,
            ],
            Profile::Oiosaml2 => &[
                oiosaml2::SPEC_VER,
                oiosaml2::KOMBIT_SPEC_VER,
                oiosaml2::ASSURANCE_LEVEL,
                oiosaml2::CVR,
            ],
        };
        let missing_attributes = required
            .iter()
            .copied()
            .filter(|n| assertion.attribute(n).is_none())
            .collect();
        let session = self.open_session(&assertion);
        Ok(ReceivedLogin {
            assertion,
            privileges_xml,
            privileges,
            missing_attributes,
            relay_state,
            session,
        })
    }
}

impl ReceivedLogin {
    /// What the demo user system received, as JSON (its ACS answers this to `Accept:
    /// application/json`, which the scripted login uses).
    pub fn to_json(&self, user_system: &str) -> serde_json::Value {
        use crate::saml::oiosaml::{oiosaml2, oiosaml3};
        use serde_json::json;
        let a = &self.assertion;
        let first = |name: &str| a.attribute(name).and_then(|v| v.first().cloned());
        let (privileges, privileges_error) = match &self.privileges {
            None => (serde_json::Value::Null, serde_json::Value::Null),
            Some(Err(e)) => (serde_json::Value::Null, json!(e.to_string())),
            Some(Ok(list)) => (list.to_json(), serde_json::Value::Null),
        };
        json!({
            "admitted": true,
            "user_system": user_system,
            "issuer": a.issuer,
            "name_id": a.name_id,
            "authenticating_authority": a.authenticating_authorities,
            "authn_context_class_ref": a.authn_context_class_ref,
            "session_index": a.session_index,
            "level": {
                "nsis": first(oiosaml3::LOA),
                "nist": first(oiosaml2::ASSURANCE_LEVEL),
            },
            "privileges": privileges,
            "privileges_error": privileges_error,
            "attributes": a.attributes.iter().map(|at| json!({
                "name": at.name,
                "name_format": at.name_format,
                "values": at.values,
            })).collect::<Vec<_>>(),
            "missing_attributes": self.missing_attributes,
            "relay_state": self.relay_state,
        })
    }
}
