//! The attribute-service fallback (reference §8.1; issue #4 §4): when a municipality's IdP knows no
//! roles, chsim asks the municipality's attribute service with a signed SAML AttributeQuery over
//! SOAP 1.1, verifies the answer as strictly as an IdP's Response (signature by the service's
//! metadata certificate, Issuer, InResponseTo, validity, and the Subject asked about), and caches
//! it per (municipality, NameID).
//!
//! Every fault — timeout, connection refused, HTTP error, SOAP fault, unsigned or wrongly signed
//! answer, garbage — is its own error; none of them ever becomes "no roles".

mod client;

pub use client::{AttributeServiceClient, ClientSettings};

use crate::ids::EntityId;
use crate::saml::validate::ValidationError;
use crate::saml::SamlError;

/// A municipality's attribute service, from its metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeService {
    /// Its entityID (the Issuer of its answers).
    pub entity_id: EntityId,
    /// Its SOAP AttributeService endpoint.
    pub soap_url: String,
    /// Its signing certificates, decoded once; never empty.
    pub signing_certs: Vec<crate::saml::TrustedCert>,
}

/// Where a login's privileges came from (shown on the demo pages and in the audit log).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Provenance {
    /// The IdP's assertion.
    Idp,
    /// A fresh answer from the attribute service.
    AttributeService,
    /// The attribute service's cached answer.
    AttributeServiceCache,
}

impl Provenance {
    /// A short description.
    pub fn describe(self) -> &'static str {
        match self {
            Provenance::Idp => "the identity provider",
            Provenance::AttributeService => "the attribute service",
            Provenance::AttributeServiceCache => "the attribute service (cached answer)",
        }
    }
}

/// The attribute service's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The privilege attribute's value (base64 OIOBPP), or None when the person has none.
    pub privileges: Option<String>,
    /// All attributes of the answer (parametric constraint values may be among them).
    pub attributes: Vec<(String, Vec<String>)>,
}

/// Why the attribute service could not supply privileges.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum AttributeServiceError {
    /// No answer within the timeout.
    #[error("the attribute service at {url} did not answer within {seconds} s")]
    Timeout {
        /// The endpoint.
        url: String,
        /// The timeout.
        seconds: u64,
    },
    /// The connection failed (refused, DNS, TLS).
    #[error("the attribute service at {url} cannot be reached: {reason}")]
    Unreachable {
        /// The endpoint.
        url: String,
        /// What the HTTP client said.
        reason: String,
    },
    /// An HTTP error status.
    #[error("the attribute service at {url} answered HTTP {status}")]
    HttpStatus {
        /// The endpoint.
        url: String,
        /// The status code.
        status: u16,
    },
    /// A SOAP fault.
    #[error("the attribute service at {url} answered with SOAP fault {code}: {message}")]
    SoapFault {
        /// The endpoint.
        url: String,
        /// `faultcode`.
        code: String,
        /// `faultstring`.
        message: String,
    },
    /// Not a SOAP envelope with a SAML Response.
    #[error("the attribute service at {url} answered something that is not a SOAP-wrapped SAML Response: {reason}")]
    Garbage {
        /// The endpoint.
        url: String,
        /// What is wrong.
        reason: SamlError,
    },
    /// The Response failed validation (unsigned, wrong signature, wrong Issuer, …).
    #[error("the answer of the attribute service `{service}` was refused: {error}")]
    Invalid {
        /// The service's entityID.
        service: String,
        /// Which rule and the evidence.
        error: ValidationError,
    },
    /// chsim could not build its query (a key problem on our side).
    #[error("chsim could not build the AttributeQuery: {0}")]
    Query(SamlError),
}
