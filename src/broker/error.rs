//! What can go wrong in a brokered login, and the SAML status each failure gives the user system —
//! the one place where that mapping lives (HTTP statuses are mapped in `http::error`).

use super::Delivery;
use crate::attribute_service::AttributeServiceError;
use crate::privileges::PrivilegeError;
use crate::saml::response::Status;
use crate::saml::validate::ValidationError;
use crate::saml::{status, SamlError};

/// A brokered login failed. Every variant names what failed and carries the evidence.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// The user system's AuthnRequest could not be decoded or parsed.
    #[error("the user system's AuthnRequest could not be read: {0}")]
    BadAuthnRequest(SamlError),
    /// RelayState is longer than the bindings allow (saml-bindings §3.4.3, §3.5.3).
    #[error("RelayState is {length} bytes; the SAML bindings allow at most 80 bytes — keep a short handle in RelayState and the rest in the user system's own session")]
    RelayStateTooLong {
        /// Its length in bytes.
        length: usize,
    },
    /// The AuthnRequest's IssueInstant is outside the allowed clock skew.
    #[error("the AuthnRequest was issued at {issue_instant}, but chsim's clock says {now} and allows {skew_seconds} s of difference; send a fresh request, and check the user system's clock")]
    StaleAuthnRequest {
        /// The request's IssueInstant.
        issue_instant: chrono::DateTime<chrono::Utc>,
        /// Now, by chsim's clock.
        now: chrono::DateTime<chrono::Utc>,
        /// The allowed skew.
        skew_seconds: i64,
    },
    /// The same AuthnRequest ID from the same user system arrived twice.
    #[error("the AuthnRequest `{id}` from `{issuer}` was already received once (replay); every AuthnRequest needs a fresh ID")]
    AuthnRequestReplay {
        /// The user system.
        issuer: String,
        /// The request ID.
        id: String,
    },
    /// IsPassive was asked, and chsim cannot answer without the person's interaction.
    #[error("the user system asked for a passive login (IsPassive), but {reason}")]
    NoPassive {
        /// What would need the person.
        reason: &'static str,
    },
    /// The AuthnRequest's Issuer is not a configured user system.
    #[error("`{issuer}` is not a user system known to chsim; register its metadata in user_systems.toml")]
    UnknownUserSystem {
        /// The Issuer sent.
        issuer: String,
    },
    /// The AuthnRequest's Destination is not chsim's SSO endpoint.
    #[error("the AuthnRequest's Destination is `{found}`, expected `{expected}`; use the SingleSignOnService location from chsim's metadata")]
    WrongDestination {
        /// Our endpoint.
        expected: String,
        /// What was sent.
        found: String,
    },
    /// Signed requests are required and this one is not signed.
    #[error("the AuthnRequest from `{issuer}` is not signed, and chsim requires signed AuthnRequests (WantAuthnRequestsSigned)")]
    UnsignedAuthnRequest {
        /// The user system.
        issuer: String,
    },
    /// The request's signature does not verify with the user system's metadata certificate.
    #[error("the AuthnRequest from `{issuer}` has a bad signature: {reason}")]
    BadAuthnRequestSignature {
        /// The user system.
        issuer: String,
        /// Why.
        reason: SamlError,
    },
    /// The requested ACS is not in the user system's metadata.
    #[error("the AuthnRequest from `{issuer}` asks for the ACS `{requested}`, which its metadata does not list as an HTTP-POST AssertionConsumerService")]
    UnknownAcs {
        /// The user system.
        issuer: String,
        /// The URL or index asked for.
        requested: String,
    },
    /// The login handle is unknown or has expired.
    #[error("this login is unknown or has expired (logins must finish within {timeout_seconds} s); start again from the user system")]
    UnknownLogin {
        /// The configured timeout.
        timeout_seconds: i64,
    },
    /// An IdP was named that chsim does not know.
    #[error("`{entity_id}` is not an identity provider configured in municipalities.toml")]
    UnknownIdp {
        /// The entityID asked for.
        entity_id: String,
    },
    /// No IdP is configured at all.
    #[error("no identity provider is configured; add one to municipalities.toml")]
    NoIdpAvailable,
    /// No configured IdP can reach the level the login requires (issue #3 §2).
    #[error(
        "{user_system} requires {requirement}, and no identity provider can reach it: {offers}"
    )]
    NoIdpMeetsLevel {
        /// The user system.
        user_system: String,
        /// What is required.
        requirement: String,
        /// Each IdP with the levels it offers.
        offers: String,
    },
    /// The IdP named (`?idp=`) cannot reach the level the login requires.
    #[error(
        "{user_system} requires {requirement}, which `{idp}` cannot reach (it offers {offers})"
    )]
    IdpCannotMeetLevel {
        /// The user system.
        user_system: String,
        /// What is required.
        requirement: String,
        /// The IdP.
        idp: String,
        /// What it offers.
        offers: String,
    },
    /// The IdP's answer proves too low a level (issue #3 §3).
    #[error("{user_system} requires {requirement}, but `{idp}` asserted {received}{}", if *stepped_up { " even after chsim asked it again with ForceAuthn (step-up)" } else { "" })]
    LevelTooLow {
        /// The user system.
        user_system: String,
        /// What is required.
        requirement: String,
        /// The IdP.
        idp: String,
        /// What it asserted.
        received: String,
        /// Whether a step-up was tried.
        stepped_up: bool,
        /// An NSIS level was required and the login carries none: the person has no NSIS
        /// identity — robots (RPA) never have one.
        no_nsis_identity: bool,
    },
    /// The IdP's Response could not be decoded.
    #[error("the identity provider's Response could not be read: {0}")]
    BadIdpResponse(SamlError),
    /// The Response answers no request chsim sent (rule 5).
    #[error("the Response answers no pending request of chsim (InResponseTo `{in_response_to}`); unsolicited responses are refused — start the login from the user system")]
    Unsolicited {
        /// InResponseTo found (empty when absent).
        in_response_to: String,
    },
    /// The request was already answered once (rule 5).
    #[error(
        "the request `{in_response_to}` has already been answered; each request is answered once"
    )]
    AlreadyAnswered {
        /// The request ID.
        in_response_to: String,
    },
    /// A rule of issue #2 §4 failed.
    #[error("the Response from `{idp}` was refused: {error}")]
    Invalid {
        /// The IdP.
        idp: String,
        /// Which rule and the evidence.
        error: ValidationError,
    },
    /// Checking a signature or decrypting took too long, or failed inside chsim (issue #8 §1).
    #[error("{0}")]
    Cpu(crate::cpu::CpuError),
    /// chsim's state store (memory or Redis) failed.
    #[error("{0}")]
    Store(#[from] super::store::StoreError),
    /// A logout message was refused before its sender could be answered (issue #9 §3).
    #[error("{0}")]
    Logout(Box<super::logout::LogoutFailure>),
    /// The assertion was accepted before (rule 8).
    #[error("the assertion `{assertion_id}` was already used once (replay)")]
    Replay {
        /// The assertion ID.
        assertion_id: String,
    },
    /// The assertion's level of assurance could not be read (issue #3 §3).
    #[error("the assertion from `{idp}` states no usable assurance level: {error}")]
    Assurance {
        /// The IdP.
        idp: String,
        /// What is wrong.
        error: crate::assurance::AssuranceError,
    },
    /// NemLog-in vouched for another person than the municipality's IdP did.
    #[error("NemLog-in authenticated another person than the municipality's identity provider: expected {expected}, NemLog-in sent {found}")]
    NemloginMismatch {
        /// Who the municipality's IdP named.
        expected: String,
        /// Who NemLog-in named.
        found: String,
    },
    /// The NameID is not in the X509SubjectName format the Context Handler requires.
    #[error("the assertion from `{idp}` has a NameID {}, but the Context Handler requires Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName\"", found.as_deref().map(|f| format!("of Format `{f}`")).unwrap_or_else(|| "without a Format".to_string()))]
    NameIdFormat {
        /// The IdP.
        idp: String,
        /// The Format sent, if any.
        found: Option<String>,
    },
    /// The person's CVR could not be determined.
    #[error(
        "the assertion from `{idp}` names no CVR (neither a CVR attribute nor O= in the NameID)"
    )]
    MissingCvr {
        /// The IdP.
        idp: String,
    },
    /// The IdP vouched for a person of another municipality.
    #[error("the IdP `{idp}` serves {municipality} (CVR {expected}), but {source_name} names a person with CVR {found}")]
    ForeignCvr {
        /// The IdP.
        idp: String,
        /// Its municipality.
        municipality: String,
        /// Its CVR.
        expected: String,
        /// Where the answer states the CVR (the NameID's O=, or which attribute).
        source_name: String,
        /// What it asserted.
        found: String,
    },
    /// The NameID is not an RFC 4514 X509SubjectName of the Context Handler profile (issue #8 §5).
    #[error("the NameID `{name_id}` from `{idp}` cannot be read: {error}")]
    NameId {
        /// The IdP.
        idp: String,
        /// The NameID as sent.
        name_id: String,
        /// What is wrong with it.
        error: crate::saml::SubjectNameError,
    },
    /// A CVR the answer states is not eight digits (issue #8 §5).
    #[error(
        "{source_name} from `{idp}` is `{found}`, which is not a CVR number: expected 8 digits"
    )]
    MalformedCvr {
        /// The IdP.
        idp: String,
        /// Where the answer states it (the NameID's O=, or which attribute).
        source_name: String,
        /// The value as sent.
        found: String,
    },
    /// Two CVRs in one answer disagree: the person would belong to two municipalities.
    #[error("the assertion from `{idp}` names two municipalities: {first_source} says CVR {first}, {second_source} says CVR {second}; they must agree")]
    CvrDisagreement {
        /// The IdP.
        idp: String,
        /// Where the first CVR is stated.
        first_source: String,
        /// The first CVR.
        first: String,
        /// Where the other CVR is stated.
        second_source: String,
        /// The other CVR.
        second: String,
    },
    /// An identity attribute came in several Attribute elements or with several values.
    #[error("the assertion from `{idp}` gives the attribute `{attribute}` in {elements} Attribute element(s){}; chsim accepts exactly one value in one Attribute element", if values.is_empty() { String::new() } else { format!(" with {} values ({})", values.len(), values.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", ")) })]
    SeveralValues {
        /// The IdP.
        idp: String,
        /// The attribute name.
        attribute: String,
        /// How many Attribute elements carry that name.
        elements: usize,
        /// All their values (empty when too long to show, as for privilege lists).
        values: Vec<String>,
    },
    /// The attribute service could not supply the person's roles (issue #4 §4).
    #[error("the roles of this person could not be fetched from {municipality}'s attribute service: {error}")]
    AttributeService {
        /// The municipality.
        municipality: String,
        /// What failed.
        error: AttributeServiceError,
    },
    /// The privilege list received could not be read (issue #4 §1).
    #[error("the privilege list from {source_name} could not be read: {error}")]
    Privileges {
        /// Who sent it: the IdP or the attribute service.
        source_name: String,
        /// What is malformed.
        error: PrivilegeError,
    },
    /// Signing or encrypting the token failed.
    #[error("chsim could not issue the token: {0}")]
    Token(String),
    /// An OIDC authorization request was refused (issue #11 §3).
    #[error("the authorization request was refused: {}", .0.description)]
    OidcRequest(crate::oidc::OAuthError),
}

impl BrokerError {
    /// A level a user system asked for (RequestedAuthnContext, `acr_values`) that, together
    /// with its registered requirement, no level can meet under the NIST↔NSIS equivalence.
    pub fn requested_level_unreachable(
        user_system: &crate::trust::TrustedUserSystem,
        requested: crate::assurance::Requirement,
    ) -> Self {
        BrokerError::NoIdpMeetsLevel {
            user_system: user_system.name.clone(),
            requirement: format!(
                "{} together with the requested {requested}",
                user_system.requirement
            ),
            offers: "no NSIS level counts as that NIST level under [assurance] in chsim.toml"
                .into(),
        }
    }

    /// The SAML status the user system receives for this failure.
    pub fn saml_status(&self) -> Status {
        let (code, sub) = match self {
            BrokerError::Invalid {
                idp,
                error: ValidationError::IdpStatus { status },
            } => return super::idp_status::passed_on(idp, status),
            BrokerError::NoPassive { .. } => (status::REQUESTER, Some(status::NO_PASSIVE)),
            BrokerError::BadAuthnRequest(_)
            | BrokerError::RelayStateTooLong { .. }
            | BrokerError::StaleAuthnRequest { .. }
            | BrokerError::AuthnRequestReplay { .. }
            | BrokerError::WrongDestination { .. }
            | BrokerError::UnsignedAuthnRequest { .. }
            | BrokerError::BadAuthnRequestSignature { .. }
            | BrokerError::UnknownUserSystem { .. }
            | BrokerError::UnknownAcs { .. }
            | BrokerError::OidcRequest(_)
            | BrokerError::Logout(_) => (status::REQUESTER, Some(status::REQUEST_DENIED)),
            BrokerError::UnknownIdp { .. } | BrokerError::NoIdpAvailable => {
                (status::RESPONDER, Some(status::NO_AVAILABLE_IDP))
            }
            BrokerError::NoIdpMeetsLevel { .. }
            | BrokerError::IdpCannotMeetLevel { .. }
            | BrokerError::LevelTooLow { .. } => {
                (status::RESPONDER, Some(status::NO_AUTHN_CONTEXT))
            }
            BrokerError::UnknownLogin { .. }
            | BrokerError::BadIdpResponse(_)
            | BrokerError::Unsolicited { .. }
            | BrokerError::AlreadyAnswered { .. }
            | BrokerError::Invalid { .. }
            | BrokerError::Replay { .. }
            | BrokerError::Cpu(_)
            | BrokerError::Store(_)
            | BrokerError::NameIdFormat { .. }
            | BrokerError::NemloginMismatch { .. }
            | BrokerError::Assurance { .. }
            | BrokerError::MissingCvr { .. }
            | BrokerError::ForeignCvr { .. }
            | BrokerError::NameId { .. }
            | BrokerError::MalformedCvr { .. }
            | BrokerError::CvrDisagreement { .. }
            | BrokerError::SeveralValues { .. } => (status::RESPONDER, Some(status::AUTHN_FAILED)),
            BrokerError::AttributeService { .. } | BrokerError::Privileges { .. } => {
                (status::RESPONDER, None)
            }
            BrokerError::Token(_) => (status::RESPONDER, None),
        };
        Status {
            code: code.to_string(),
            sub_code: sub.map(str::to_string),
            message: Some(self.to_string()),
        }
    }

    /// What the person (or the municipality/vendor behind them) can do about it.
    pub fn advice(&self) -> &'static str {
        match self {
            BrokerError::OidcRequest(_) => {
                "The OIDC user system sent an authorization request chsim cannot accept. Its vendor should send the code flow request of the README's \"OIDC user systems\" section: response_type=code, scope=openid, a registered client_id and redirect_uri, state, nonce and a PKCE S256 code_challenge."
            }
            BrokerError::NoPassive { .. } => {
                "The user system asked chsim to log the person in without showing anything (IsPassive). That works only when chsim can pick the identity provider itself (one IdP, ?idp=, or an IP range) and that IdP can log the person in silently; otherwise the user system should ask again without IsPassive."
            }
            BrokerError::RelayStateTooLong { .. } | BrokerError::StaleAuthnRequest { .. } | BrokerError::AuthnRequestReplay { .. } => {
                "The user system sent a request chsim cannot accept. Its vendor should send a fresh AuthnRequest (new ID, current IssueInstant) with a RelayState of at most 80 bytes."
            }
            BrokerError::BadAuthnRequest(_) | BrokerError::WrongDestination { .. } => {
                "The user system sent a request chsim cannot accept. Its vendor should compare the request with chsim's IdP metadata (/runtime/saml2/metadata.idp)."
            }
            BrokerError::UnknownUserSystem { .. } | BrokerError::UnknownAcs { .. } => {
                "Register the user system's current metadata in user_systems.toml and restart chsim."
            }
            BrokerError::UnsignedAuthnRequest { .. } | BrokerError::BadAuthnRequestSignature { .. } => {
                "The user system must sign its AuthnRequests with the key whose certificate is in its registered metadata."
            }
            BrokerError::UnknownLogin { .. } | BrokerError::Unsolicited { .. } | BrokerError::AlreadyAnswered { .. } => {
                "Go back to the user system and log in again."
            }
            BrokerError::UnknownIdp { .. } | BrokerError::NoIdpAvailable => {
                "Pick an identity provider from the list, or configure one in municipalities.toml."
            }
            BrokerError::NoIdpMeetsLevel { .. } | BrokerError::IdpCannotMeetLevel { .. } => {
                "The municipality can register an identity provider that offers this level (nist_level / nsis_level in municipalities.toml), or the user system's requirement can be changed (user_systems.toml)."
            }
            BrokerError::LevelTooLow { no_nsis_identity: true, .. } => {
                "The login carries no NSIS level: the person has no NSIS identity at the municipality's IdP. A person can get one (MitID Erhverv / the municipality's NSIS IdP). Robots (RPA) never have one, so a user system that requires an NSIS level must offer robots an API (a system token) instead of the browser login; a user system that requires a NIST level admits a robot that reaches it, e.g. level 3 with its second factor."
            }
            BrokerError::LevelTooLow { .. } => {
                "The person must log in with a stronger method (a second factor, an NSIS identity). The municipality can let chsim ask its IdP again for the higher level (supports_step_up), or raise what its IdP offers; the user system's vendor can check its requirement."
            }
            BrokerError::Invalid { error: ValidationError::IdpStatus { .. }, .. } => {
                "The identity provider ended the login itself (the person cancelled, or the IdP refused them); the user system is told so with the IdP's status codes (when they are standard SAML codes) and chsim's own message. Log in again, or ask the municipality why its IdP refused."
            }
            BrokerError::BadIdpResponse(_) | BrokerError::Invalid { .. } | BrokerError::Replay { .. }
            | BrokerError::NameIdFormat { .. } | BrokerError::NemloginMismatch { .. } | BrokerError::Assurance { .. } | BrokerError::MissingCvr { .. } | BrokerError::ForeignCvr { .. } => {
                "The municipality's identity provider sent an answer chsim cannot trust. The municipality should check its IdP setup against chsim's SP metadata (/runtime/saml2auth/metadata.idp): keys, entityID, ACS URL, clocks and attributes."
            }
            BrokerError::NameId { .. } | BrokerError::MalformedCvr { .. } | BrokerError::CvrDisagreement { .. } | BrokerError::SeveralValues { .. } => {
                "The municipality's identity provider must state who the person is in one way only: a NameID `C=DK,O=<CVR>,CN=<name>,Serial=<id>` escaped as RFC 4514 requires, each of C, O, CN and Serial once, the municipality's own 8-digit CVR in O= and in the CVR attribute, and one value for each CVR and level attribute."
            }
            BrokerError::AttributeService { .. } => {
                "chsim did not issue a token without the person's roles. The municipality should check that its attribute service is running, reachable from chsim, answers within the timeout ([attribute_service] in chsim.toml) and signs its answers with the key from its registered metadata."
            }
            BrokerError::Privileges { .. } => {
                "chsim did not issue a token from a privilege list it cannot read. The municipality should make its IdP (or attribute service) send the job-function roles as OIOBPP: a base64 UTF-8 PrivilegeList in the itst.dk or digst.dk namespace, each PrivilegeGroup with a Scope and at least one Privilege."
            }
            BrokerError::Token(_) => "chsim's own signing or encryption key failed; check the keys named in chsim.toml.",
            BrokerError::Cpu(_) => "Try again in a moment. If it keeps happening, the message may be built to be slow, or chsim is overloaded.",
            BrokerError::Logout(f) => f.advice(),
            BrokerError::Store(super::store::StoreError::Full { .. }) => "chsim is receiving more logins than its in-memory replay check can hold; it refuses new ones rather than forget used IDs early. Try again in a few minutes, when older IDs have expired; whoever runs chsim should spread the load over several instances with a shared store (`[store]` in chsim.toml).",
            BrokerError::Store(_) => "chsim could not reach the state it shares with other chsim instances. Whoever runs chsim should check that the store in `[store]` of chsim.toml (redis_url) is running and reachable; then log in again.",
        }
    }
}

/// A failure, with the non-success Response for the user system when there is one to send.
#[derive(Debug)]
pub struct Failure {
    /// What failed.
    pub error: BrokerError,
    /// The signed non-success Response, when the user system is known and verified.
    pub to_user_system: Option<Delivery>,
}

impl From<BrokerError> for Failure {
    fn from(error: BrokerError) -> Self {
        Self {
            error,
            to_user_system: None,
        }
    }
}
