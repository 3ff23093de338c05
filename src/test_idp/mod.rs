//! chsim's built-in municipal test IdP: a separate SAML party with its own entityID, keys and
//! metadata, that talks to chsim only through signed messages carried by the browser — exactly
//! as OS2faktor or AD FS would (reference §2.1, §2.2, §4.1, §4.2).
//!
//! It verifies chsim's signed HTTP-Redirect AuthnRequest against chsim's published SP metadata,
//! lets the person pick a test user, and answers with a signed (optionally encrypted) Response
//! carrying the user's NameID, attributes and job-function roles as OIOBPP. It keeps its own
//! SSO session ([`session`]) and does single logout with chsim both ways ([`logout`]).

pub mod attribute_service;
mod logout;
pub mod session;
#[cfg(test)]
mod tests;

pub use attribute_service::TestAttributeService;
pub use session::IdpSession;

use crate::clock::Clock;
use crate::config::{Profile, SignWhat, TestIdpConfig, TestUserConfig};
use crate::ids::new_saml_id;
use crate::party_logout::{self, Ending, PartyLogout, SloError};
use crate::saml::binding::{self, MessageKind};
use crate::saml::encryption::EncryptionSuite;
use crate::saml::logout::SloEndpoints;
use crate::saml::metadata::{self, Endpoint, RoleSpec};
use crate::saml::oiosaml::{oiosaml2, oiosaml3, FORMAT_BASIC, FORMAT_URI};
use crate::saml::response::{
    self, EncryptFor, NewAssertion, NewAttribute, NewResponse, SignedElement, Status,
};
use crate::saml::signing::AlgorithmPolicy;
use crate::saml::{
    authn_request, bindings, status, Credential, SamlError, TrustedCert, NAMEID_X509,
};
use chrono::Duration;
use moka::sync::Cache;
use openssl::x509::X509;
use std::sync::Arc;

/// What the test IdP knows about chsim (from chsim's SP metadata).
#[derive(Debug, Clone)]
pub struct ChsimAsSp {
    /// chsim's entityID.
    pub entity_id: String,
    /// chsim's ACS.
    pub acs_url: String,
    /// chsim's signing certificates, decoded once.
    pub signing_certs: Vec<TrustedCert>,
    /// chsim's encryption certificate.
    pub encryption_cert: Option<X509>,
    /// chsim's SingleLogoutService (SP face).
    pub slo: SloEndpoints,
}

impl ChsimAsSp {
    /// Reads chsim's SP metadata as any outside IdP would.
    pub fn from_metadata(xml: &str) -> Result<Self, SamlError> {
        let md = metadata::parse(xml)?;
        let sp = md.sp.ok_or(SamlError::Malformed {
            expected: "SP metadata",
            reason: "no SPSSODescriptor".into(),
        })?;
        let acs_url = sp
            .acs
            .iter()
            .find(|(_, e)| e.binding == bindings::POST)
            .map(|(_, e)| e.location.clone())
            .ok_or(SamlError::Malformed {
                expected: "SP metadata",
                reason: "no HTTP-POST AssertionConsumerService".into(),
            })?;
        let x509 = |d: &Vec<u8>| X509::from_der(d).ok();
        Ok(Self {
            entity_id: md.entity_id,
            acs_url,
            signing_certs: sp
                .signing_certs
                .iter()
                .map(|der| TrustedCert::from_der(der))
                .collect::<Result<_, _>>()
                .map_err(|reason| SamlError::Malformed {
                    expected: "SP metadata",
                    reason,
                })?,
            encryption_cert: sp.encryption_certs.first().and_then(x509),
            slo: SloEndpoints::from_metadata(&sp.slo),
        })
    }
}

/// Why the test IdP refused something.
#[derive(Debug, thiserror::Error)]
pub enum TestIdpError {
    /// The AuthnRequest could not be read or verified.
    #[error("the test IdP refused the AuthnRequest: {0}")]
    Request(SamlError),
    /// The AuthnRequest came from someone other than chsim.
    #[error("the test IdP only serves chsim (`{expected}`), not `{found}`")]
    NotChsim {
        /// chsim's entityID.
        expected: String,
        /// The Issuer found.
        found: String,
    },
    /// The login form refers to no request this IdP verified (expired or forged).
    #[error("this login request is unknown or has expired; start again from the user system")]
    UnknownRequest,
    /// No such test user.
    #[error("there is no test user `{0}` at this IdP")]
    UnknownUser(String),
    /// Building the response failed.
    #[error("the test IdP could not build its response: {0}")]
    Build(SamlError),
    /// Single logout: a logout message was refused, or could not be sent.
    #[error("single logout at the test IdP: {0}")]
    Logout(#[from] SloError),
}

/// A verified request waiting for the person to pick a user.
#[derive(Debug, Clone)]
pub struct PendingRequest {
    /// chsim's request ID.
    pub request_id: String,
    /// RelayState to return.
    pub relay_state: Option<String>,
    /// Requested class refs (shown on the page).
    pub requested: Vec<String>,
    /// ForceAuthn.
    pub force_authn: bool,
    /// IsPassive: answered from the IdP's session, or NoPassive without one.
    pub is_passive: bool,
}

/// An HTTP-POST form to auto-submit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostForm {
    /// Form action.
    pub action: String,
    /// Base64 SAMLResponse.
    pub saml_response: String,
    /// RelayState.
    pub relay_state: Option<String>,
}

/// One built-in test IdP.
#[derive(Debug)]
pub struct TestIdp {
    config: TestIdpConfig,
    entity_id: String,
    base_url: String,
    credential: Credential,
    chsim: ChsimAsSp,
    clock: Arc<dyn Clock>,
    pending: Cache<String, PendingRequest>,
    /// Its own SSO sessions, by the browser's handle.
    sessions: party_logout::Sessions<IdpSession>,
    logout: PartyLogout,
}

impl TestIdp {
    /// A test IdP served under `<public_url>/test-idp/<id>`.
    pub fn new(
        config: TestIdpConfig,
        public_url: &str,
        credential: Credential,
        chsim: ChsimAsSp,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let base_url = format!("{public_url}/test-idp/{}", config.id);
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
                .time_to_live(std::time::Duration::from_secs(900))
                .build(),
            sessions: party_logout::Sessions::default(),
            logout,
        }
    }

    /// Its configuration.
    pub fn config(&self) -> &TestIdpConfig {
        &self.config
    }

    /// Its entityID.
    pub fn entity_id(&self) -> &str {
        &self.entity_id
    }

    /// Its SSO endpoint.
    pub fn sso_url(&self) -> String {
        format!("{}/sso", self.base_url)
    }

    /// Its SingleLogoutService (HTTP-Redirect, for LogoutRequests and LogoutResponses alike).
    pub fn slo_url(&self) -> String {
        format!("{}/slo", self.base_url)
    }

    /// Its signed metadata.
    pub fn metadata_xml(&self) -> Result<String, SamlError> {
        metadata::build_signed(
            &self.entity_id,
            &RoleSpec::Idp {
                sso: vec![Endpoint::new(bindings::REDIRECT, self.sso_url())],
                slo: vec![Endpoint::new(bindings::REDIRECT, self.slo_url())],
                want_authn_requests_signed: true,
            },
            &self.credential,
            None,
        )
    }

    /// Verifies chsim's HTTP-Redirect AuthnRequest and remembers it for the login form.
    pub fn begin(&self, raw_query: &str) -> Result<(String, PendingRequest), TestIdpError> {
        let msg = binding::decode_redirect(raw_query, MessageKind::Request, 256 * 1024)
            .map_err(TestIdpError::Request)?;
        let mut verified = Err(SamlError::NotSigned);
        for cert in &self.chsim.signing_certs {
            verified = msg.verify(cert.public_key(), AlgorithmPolicy::default());
            if verified.is_ok() {
                break;
            }
        }
        verified.map_err(TestIdpError::Request)?;
        let request = authn_request::parse(&msg.xml).map_err(TestIdpError::Request)?;
        if request.issuer != self.chsim.entity_id {
            return Err(TestIdpError::NotChsim {
                expected: self.chsim.entity_id.clone(),
                found: request.issuer,
            });
        }
        let pending = PendingRequest {
            request_id: request.id.clone(),
            relay_state: msg.relay_state.clone(),
            requested: request
                .requested_authn_context
                .map(|r| r.class_refs)
                .unwrap_or_default(),
            force_authn: request.force_authn,
            is_passive: request.is_passive,
        };
        let handle = new_saml_id();
        self.pending.insert(handle.clone(), pending.clone());
        Ok((handle, pending))
    }

    /// The person picked `user_id` for the request `handle`: a signed Response to chsim.
    pub fn login(&self, handle: &str, user_id: &str) -> Result<PostForm, TestIdpError> {
        self.login_in_session(handle, user_id, None)
            .map(|(form, _)| form)
    }

    /// The live session the browser's handle names, if any.
    pub fn session(&self, browser: Option<&str>) -> Option<IdpSession> {
        browser.and_then(|b| self.sessions.live(b))
    }

    /// Ends a session (single logout at this IdP), keeping a marker of `how` for its page.
    pub fn end_session(&self, browser: &str, how: Ending) -> Option<IdpSession> {
        self.sessions.end(browser, self.clock.now(), how)
    }

    /// The browser handle of the session that sent `session_index`, if it is live.
    pub fn session_with_index(&self, session_index: &str) -> Option<String> {
        self.sessions.find(|s| s.session_index == session_index)
    }

    /// [`Self::login`] within the browser's IdP session `browser` (if any): continuing as the
    /// session's user keeps its AuthnInstant, SessionIndex and strength unless chsim forces a
    /// new authentication; anyone else starts a new session. Returns the answer and the
    /// session's browser handle (the cookie to set).
    pub fn login_in_session(
        &self,
        handle: &str,
        user_id: &str,
        browser: Option<&str>,
    ) -> Result<(PostForm, String), TestIdpError> {
        let pending = self
            .pending
            .remove(handle)
            .ok_or(TestIdpError::UnknownRequest)?;
        let user = self
            .config
            .user
            .iter()
            .find(|u| u.id == user_id)
            .ok_or_else(|| TestIdpError::UnknownUser(user_id.to_string()))?;
        let now = self.clock.now();
        let (browser, session) = match browser.and_then(|b| self.sessions.live(b).map(|s| (b, s))) {
            Some((b, s)) if s.user_id == user_id && !pending.force_authn => (b.to_string(), s),
            _ => (
                new_saml_id(),
                IdpSession {
                    user_id: user_id.to_string(),
                    session_index: new_saml_id(),
                    authn_instant: now,
                    strong: pending.force_authn,
                },
            ),
        };
        self.sessions.open(&browser, session.clone());
        let xml = self
            .response_for(user, &pending, &session)
            .map_err(TestIdpError::Build)?;
        Ok((
            PostForm {
                action: self.chsim.acs_url.clone(),
                saml_response: binding::encode_post(&xml),
                relay_state: pending.relay_state,
            },
            browser,
        ))
    }

    /// The person cancelled: a signed `Responder`/`AuthnFailed` Response to chsim.
    pub fn cancel(&self, handle: &str) -> Result<PostForm, TestIdpError> {
        self.refuse(
            handle,
            Status {
                code: status::RESPONDER.to_string(),
                sub_code: Some(status::AUTHN_FAILED.to_string()),
                message: Some("The user cancelled the login at the test IdP".to_string()),
            },
        )
    }

    /// chsim asked with IsPassive: the test IdP has no session to answer from, so it answers a
    /// signed `Requester`/`NoPassive` Response (saml-core §3.4.1) without showing anything.
    pub fn no_passive(&self, handle: &str) -> Result<PostForm, TestIdpError> {
        self.refuse(
            handle,
            Status {
                code: status::REQUESTER.to_string(),
                sub_code: Some(status::NO_PASSIVE.to_string()),
                message: Some("The test IdP cannot log anyone in passively".to_string()),
            },
        )
    }

    fn refuse(&self, handle: &str, status: Status) -> Result<PostForm, TestIdpError> {
        let pending = self
            .pending
            .remove(handle)
            .ok_or(TestIdpError::UnknownRequest)?;
        let envelope = self.envelope(&pending, status);
        let xml = response::build(
            &envelope,
            None,
            &self.credential,
            SignedElement::Response,
            None,
        )
        .map_err(TestIdpError::Build)?;
        Ok(PostForm {
            action: self.chsim.acs_url.clone(),
            saml_response: binding::encode_post(&xml),
            relay_state: pending.relay_state,
        })
    }

    fn envelope(&self, pending: &PendingRequest, status: Status) -> NewResponse {
        NewResponse {
            id: new_saml_id(),
            issue_instant: self.clock.now(),
            destination: self.chsim.acs_url.clone(),
            in_response_to: Some(pending.request_id.clone()),
            issuer: self.entity_id.clone(),
            status,
        }
    }

    /// The user's CVR: their own (NemLog-in), else the IdP's municipality.
    pub fn user_cvr<'a>(&'a self, user: &'a TestUserConfig) -> &'a crate::ids::Cvr {
        user.cvr.as_ref().unwrap_or(&self.config.cvr)
    }

    /// The NameID of a test user (reference §2.2 format, as OS2faktor builds it), each value
    /// escaped as RFC 4514 requires.
    pub fn name_id(&self, user: &TestUserConfig) -> String {
        crate::saml::SubjectName {
            c: Some("DK".to_string()),
            o: Some(self.user_cvr(user).to_string()),
            cn: Some(user.name.clone()),
            serial: Some(user.serial.clone()),
        }
        .to_string()
    }

    /// The assertion content for a user (also used by tests to craft variants).
    pub fn assertion_for(&self, user: &TestUserConfig, in_response_to: &str) -> NewAssertion {
        self.assertion_with(user, in_response_to, false)
    }

    /// The levels a user reaches: an existing session's, or — when the request forces a new
    /// authentication — the ones the user's strongest method gives (a second factor).
    fn levels(user: &TestUserConfig, forced: bool) -> (u8, Option<String>) {
        if forced {
            (
                user.forced_nist_level.unwrap_or(user.nist_level),
                user.forced_nsis_level.clone().or(user.nsis_level.clone()),
            )
        } else {
            (user.nist_level, user.nsis_level.clone())
        }
    }

    /// The assertion content for a user, after a forced authentication or not.
    pub fn assertion_with(
        &self,
        user: &TestUserConfig,
        in_response_to: &str,
        forced: bool,
    ) -> NewAssertion {
        let (nist_level, nsis_level) = Self::levels(user, forced);
        let now = self.clock.now();
        NewAssertion {
            id: new_saml_id(),
            issue_instant: now,
            issuer: self.entity_id.clone(),
            name_id: self.name_id(user),
            name_id_format: NAMEID_X509.to_string(),
            in_response_to: Some(in_response_to.to_string()),
            recipient: self.chsim.acs_url.clone(),
            not_before: now,
            not_on_or_after: now + Duration::minutes(5),
            audience: self.chsim.entity_id.clone(),
            authn_instant: now,
            session_index: Some(new_saml_id()),
            authn_context_class_ref: match (&nsis_level, self.config.profile) {
                (Some(loa), Profile::Oiosaml3) => format!("{}{loa}", oiosaml3::LOA_CLASS_PREFIX),
                _ => format!("{}{}", oiosaml2::LEVEL_CLASS_PREFIX, nist_level),
            },
            authenticating_authority: None,
            attributes: self.attributes(user, nist_level, nsis_level.as_deref()),
        }
    }

    fn attributes(
        &self,
        user: &TestUserConfig,
        nist_level: u8,
        nsis_level: Option<&str>,
    ) -> Vec<NewAttribute> {
        // An IdP that knows no roles (Entra ID) sends no privilege attribute at all.
        let privileges =
            (self.config.sends_roles && self.has_privileges(user)).then(|| self.oiobpp(user));
        let extra = |format: &'static str| {
            user.attribute.iter().map(move |x| NewAttribute {
                name: x.name.clone(),
                name_format: format.to_string(),
                friendly_name: None,
                values: x.values.clone(),
            })
        };
        let a = |name: &str, format: &str, value: String| NewAttribute {
            name: name.to_string(),
            name_format: format.to_string(),
            friendly_name: None,
            values: vec![value],
        };
        match self.config.profile {
            Profile::Oiosaml3 => {
                let f = FORMAT_URI;
                let mut out = vec![
                    a(
                        oiosaml3::SPEC_VERSION,
                        f,
                        oiosaml3::SPEC_VERSION_VALUE.into(),
                    ),
                    a(oiosaml3::KOMBIT_SPEC_VER, f, "2.0".into()),
                    a(oiosaml3::CVR, f, self.user_cvr(user).to_string()),
                    a(oiosaml3::ORG_NAME, f, self.config.org_name.clone()),
                ];
                // As OS2faktor: the loa for NSIS users, the NIST level for the others (§4.2).
                match nsis_level {
                    Some(loa) => out.push(a(oiosaml3::LOA, f, loa.to_string())),
                    None => out.push(a(oiosaml2::ASSURANCE_LEVEL, f, nist_level.to_string())),
                }
                if let Some(email) = &user.email {
                    out.push(a(oiosaml3::EMAIL, f, email.clone()));
                }
                if self.config.nemlogin {
                    // NemLog-in's persistent professional identifier (reference §4.2, §8.2).
                    out.push(a(
                        oiosaml3::PROFESSIONAL_UUID,
                        f,
                        format!("urn:uuid:{}", user.serial),
                    ));
                }
                if let Some(p) = privileges {
                    out.push(a(oiosaml3::PRIVILEGES, f, p));
                }
                out.extend(extra(f));
                out
            }
            Profile::Oiosaml2 => {
                let f = FORMAT_BASIC;
                let mut out = vec![
                    a(oiosaml2::SPEC_VER, f, oiosaml2::SPEC_VER_VALUE.into()),
                    a(oiosaml2::KOMBIT_SPEC_VER, f, "1.0".into()),
                    a(oiosaml2::ASSURANCE_LEVEL, f, nist_level.to_string()),
                    a(oiosaml2::CVR, f, self.user_cvr(user).to_string()),
                ];
                if let Some(p) = privileges {
                    out.push(a(oiosaml2::PRIVILEGES, f, p));
                }
                out.extend(extra(f));
                out
            }
        }
    }

    /// True when the user has job-function roles to send.
    pub fn has_privileges(&self, user: &TestUserConfig) -> bool {
        !user.roles.is_empty() || !user.privilege.is_empty()
    }

    /// The user's job-function roles as base64 OIOBPP in the itst.dk namespace, as municipal IdPs
    /// send it (reference §5.2): `roles` scoped to this IdP's CVR, then each `privilege` with its
    /// own scope and constraints.
    pub fn oiobpp(&self, user: &TestUserConfig) -> String {
        use crate::privileges::{
            self, cvr_scope, Constraint, Namespace, PrivilegeGroup, PrivilegeList,
        };
        let own = cvr_scope(&self.config.cvr);
        let simple = user.roles.iter().map(|role| PrivilegeGroup {
            scope: own.clone(),
            privileges: vec![role.as_str().into()],
            constraints: Vec::new(),
        });
        let detailed = user.privilege.iter().map(|p| PrivilegeGroup {
            scope: p.scope.as_ref().map_or(own.clone(), cvr_scope),
            privileges: vec![p.role.as_str().into()],
            constraints: p
                .constraints
                .iter()
                .map(|c| Constraint {
                    name: c.name.as_str().into(),
                    values: c.values.iter().map(|v| v.as_str().into()).collect(),
                })
                .collect(),
        });
        let list = PrivilegeList {
            groups: simple.chain(detailed).collect(),
        };
        privileges::encode(&list, Namespace::Itst)
    }

    fn response_for(
        &self,
        user: &TestUserConfig,
        pending: &PendingRequest,
        session: &IdpSession,
    ) -> Result<String, SamlError> {
        let mut assertion = self.assertion_with(user, &pending.request_id, session.strong);
        assertion.authn_instant = session.authn_instant;
        assertion.session_index = Some(session.session_index.clone());
        let signed = match self.config.sign {
            SignWhat::Assertion => SignedElement::Assertion,
            SignWhat::Response => SignedElement::Response,
        };
        let suite = match self.config.profile {
            Profile::Oiosaml3 => EncryptionSuite::Aes256GcmRsaOaepSha256,
            Profile::Oiosaml2 => EncryptionSuite::Aes256CbcRsaOaepMgf1p,
        };
        let encrypt = match (&self.chsim.encryption_cert, self.config.encrypt) {
            (Some(cert), true) => Some(EncryptFor { cert, suite }),
            _ => None,
        };
        response::build(
            &self.envelope(pending, Status::success()),
            Some(&assertion),
            &self.credential,
            signed,
            encrypt,
        )
    }

    /// Its signing credential (tests use it to craft deliberately broken responses).
    pub fn credential(&self) -> &Credential {
        &self.credential
    }

    /// chsim as this IdP knows it.
    pub fn chsim(&self) -> &ChsimAsSp {
        &self.chsim
    }
}
