//! SAML 2.0 messages, bindings, signatures and validation — pure, no I/O (STYLE.md).
//!
//! - [`xml`]: element builder for outgoing messages, secure parsing of incoming ones.
//! - [`keys`]: signing credentials.
//! - [`signing`]: XML-DSig via samael/xmlsec; verification returns only the signed content.
//! - [`binding`]: HTTP-Redirect (with query-string signatures) and HTTP-POST.
//! - [`encryption`]: EncryptedAssertion (AES-GCM/CBC with RSA-OAEP), which samael lacks.
//! - [`soap`]: SOAP 1.1 envelopes (attribute queries, back-channel logout).
//! - [`attribute_query`]: SOAP AttributeQuery to attribute services (reference §8.1).
//! - [`authn_request`]: AuthnRequests chsim sends and receives.
//! - [`response`]: Responses and Assertions chsim (and its built-in parties) issue.
//! - [`validate`]: the numbered checks on an IdP's Response (issue #2 §4).
//! - [`logout`]: LogoutRequest/LogoutResponse over HTTP-Redirect, HTTP-POST and SOAP.
//! - [`metadata`]: SAML metadata, published (signed) and read.

pub mod attribute_query;
pub mod authn_request;
pub mod binding;
pub mod encryption;
pub mod keys;
pub mod logout;
pub mod metadata;
pub mod name_id;
pub mod oiosaml;
pub mod response;
pub mod signing;
pub mod soap;
pub mod validate;
pub mod xml;

pub use keys::{Credential, TrustedCert};
pub use name_id::{SubjectName, SubjectNameError};

/// Status code URIs (saml-core §3.2.2.2).
pub mod status {
    /// Success.
    pub const SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
    /// The request could not be performed due to an error on the part of the requester.
    pub const REQUESTER: &str = "urn:oasis:names:tc:SAML:2.0:status:Requester";
    /// The request could not be performed due to an error on the part of the responder.
    pub const RESPONDER: &str = "urn:oasis:names:tc:SAML:2.0:status:Responder";
    /// The responding provider could not authenticate the principal.
    pub const AUTHN_FAILED: &str = "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed";
    /// The specified authentication context requirements cannot be met.
    pub const NO_AUTHN_CONTEXT: &str = "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext";
    /// The SAML responder or SAML authority does not support the request.
    pub const REQUEST_UNSUPPORTED: &str = "urn:oasis:names:tc:SAML:2.0:status:RequestUnsupported";
    /// The request was denied (chsim: the requester is not a trusted party).
    pub const REQUEST_DENIED: &str = "urn:oasis:names:tc:SAML:2.0:status:RequestDenied";
    /// The responder cannot authenticate the principal passively, as IsPassive asked.
    pub const NO_PASSIVE: &str = "urn:oasis:names:tc:SAML:2.0:status:NoPassive";
    /// The SAML responder cannot answer for the principal (chsim: no usable IdP).
    pub const NO_AVAILABLE_IDP: &str = "urn:oasis:names:tc:SAML:2.0:status:NoAvailableIDP";
    /// Second-level: a logout reached only some of the session's participants (saml-core §3.7.3.2).
    pub const PARTIAL_LOGOUT: &str = "urn:oasis:names:tc:SAML:2.0:status:PartialLogout";
    /// Second-level: the responder does not know the principal (e.g. no such session).
    pub const UNKNOWN_PRINCIPAL: &str = "urn:oasis:names:tc:SAML:2.0:status:UnknownPrincipal";
}

/// Binding URIs.
pub mod bindings {
    /// HTTP-Redirect.
    pub const REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
    /// HTTP-POST.
    pub const POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
    /// SOAP.
    pub const SOAP: &str = "urn:oasis:names:tc:SAML:2.0:bindings:SOAP";
}

/// The NameID format of the Context Handler profile (reference §2.2).
pub const NAMEID_X509: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName";
/// Bearer subject confirmation.
pub const CM_BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";

/// What went wrong below the level of validation rules: encoding, parsing, signatures.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum SamlError {
    /// A required query or form parameter is absent.
    #[error("the request has no `{name}` parameter")]
    MissingParameter {
        /// The parameter name.
        name: &'static str,
    },
    /// base64/DEFLATE/UTF-8 decoding failed.
    #[error("the SAML message could not be decoded: {reason}")]
    BadEncoding {
        /// What the decoder said.
        reason: String,
    },
    /// The message exceeds the size bound.
    #[error("the SAML message is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The configured limit.
        limit: usize,
    },
    /// Not well-formed XML, or it contains a DTD.
    #[error("the SAML message is not acceptable XML: {reason}")]
    NotXml {
        /// The parser's complaint.
        reason: String,
    },
    /// The XML exceeds a bound (depth, elements, attributes, text) or carries a DTD; checked
    /// before any tree parser sees it.
    #[error("the SAML message was refused before parsing: {0}")]
    XmlLimit(#[from] crate::xml_limits::LimitError),
    /// The XML is well-formed but is not the expected SAML element.
    #[error("the SAML message is not a valid {expected}: {reason}")]
    Malformed {
        /// The element that was expected.
        expected: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The message carries no signature at all.
    #[error("the message is not signed")]
    NotSigned,
    /// A signature uses an algorithm outside the allowed list.
    #[error("the signature uses `{found}`, which is not allowed (rsa-sha256 or stronger; SHA-1 only with insecure_allow_sha1)")]
    WeakSignatureAlgorithm {
        /// The algorithm URI found.
        found: String,
    },
    /// A `ds:Signature` has a shape chsim does not verify (issue #8 §2): checked before xmlsec,
    /// which would otherwise dereference and transform first.
    #[error("the signature is refused before verification: {reason} (chsim accepts one same-document Reference `#ID` to the signed element, with enveloped-signature and exclusive c14n transforms only)")]
    SignatureShape {
        /// What is wrong with it.
        reason: String,
    },
    /// There is no trusted certificate to verify with.
    #[error("no trusted signing certificate is known for the sender")]
    NoTrustedCertificate,
    /// The signature does not verify with any trusted certificate.
    #[error(
        "the signature does not verify with the sender's certificate from its metadata: {reason}"
    )]
    BadSignature {
        /// xmlsec's or openssl's reason.
        reason: String,
    },
    /// Signing failed (a key or template problem on our side).
    #[error("signing failed: {reason}")]
    Signing {
        /// xmlsec's reason.
        reason: String,
    },
    /// Encrypting or decrypting an assertion failed.
    #[error("assertion encryption: {0}")]
    Encryption(String),
}

impl From<roxmltree::Error> for SamlError {
    fn from(e: roxmltree::Error) -> Self {
        SamlError::NotXml {
            reason: e.to_string(),
        }
    }
}
