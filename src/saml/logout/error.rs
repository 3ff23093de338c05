//! Why a logout message was refused: each variant names the failed check and carries what was
//! found. The broker maps them to a `Requester` LogoutResponse or a page (one place, STYLE.md).

use super::Binding;
use crate::saml::SamlError;
use chrono::{DateTime, Utc};

/// Why a LogoutRequest or LogoutResponse was refused.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum LogoutError {
    /// The message could not be read: encoding, size, XML bounds or DTD, or not the element
    /// expected (a Response where a LogoutRequest belongs, no ID, Version not 2.0, …).
    #[error(transparent)]
    Unreadable(#[from] SamlError),
    /// A SOAP answer was a SOAP fault, not a LogoutResponse.
    #[error("the SOAP answer is a fault `{code}`: {message}")]
    SoapFault {
        /// `faultcode`.
        code: String,
        /// `faultstring`.
        message: String,
    },
    /// RelayState is longer than the 80 bytes saml-bindings §3.4.3 and §3.5.3 allow.
    #[error("RelayState is {length} bytes; SAML allows at most 80")]
    RelayStateTooLong {
        /// Its length in bytes.
        length: usize,
    },
    /// The message has no Issuer, which saml-profiles §4.4.4.1 requires; without it the sender
    /// and its certificates cannot be known.
    #[error("the {element} has no Issuer")]
    MissingIssuer {
        /// `LogoutRequest` or `LogoutResponse`.
        element: &'static str,
    },
    /// A LogoutRequest names no one: it has no NameID (BaseID and EncryptedID are not supported).
    #[error("the LogoutRequest has no NameID{}", .found.as_deref().map(|f| format!(" (it has a {f}, which chsim does not support)")).unwrap_or_default())]
    MissingNameId {
        /// The identifier element it has instead, if any.
        found: Option<String>,
    },
    /// A LogoutResponse answers no request: it has no InResponseTo.
    #[error("the LogoutResponse has no InResponseTo, so it answers no LogoutRequest")]
    MissingInResponseTo,
    /// A LogoutResponse has no Status/StatusCode.
    #[error("the LogoutResponse has no Status with a StatusCode")]
    MissingStatus,
    /// Step 1: the message is not signed as its binding requires (query-string `Signature` and
    /// `SigAlg` for HTTP-Redirect, an enveloped `ds:Signature` on the message for POST and SOAP).
    #[error("the {element} from `{issuer}` is not signed ({binding} needs {})", match .binding { Binding::Redirect => "a Signature and SigAlg in the query string", _ => "an enveloped ds:Signature on the message" })]
    Unsigned {
        /// `LogoutRequest` or `LogoutResponse`.
        element: &'static str,
        /// Its Issuer.
        issuer: String,
        /// The binding it came by.
        binding: Binding,
    },
    /// Step 2: the signature does not verify with any of the sender's certificates, uses an
    /// algorithm outside the allowed list, has a shape chsim refuses, or there is no certificate.
    #[error("the signature of `{issuer}` is refused: {reason}")]
    Signature {
        /// The Issuer whose certificates were tried.
        issuer: String,
        /// What failed.
        reason: SamlError,
    },
    /// Step 3: what the signature covers is not the message that was read (signature wrapping).
    #[error(
        "the signed content is not the {element} that was read (signature wrapping?): {reason}"
    )]
    SignedContentMismatch {
        /// `LogoutRequest` or `LogoutResponse`.
        element: &'static str,
        /// What differs.
        reason: String,
    },
    /// Step 4: Destination is absent or not the endpoint the message arrived at.
    #[error("Destination is `{found}`, expected `{expected}` (the endpoint it arrived at)")]
    WrongDestination {
        /// The endpoint URL.
        expected: String,
        /// The Destination found (empty when absent).
        found: String,
    },
    /// Step 5: IssueInstant is further from now than the allowed clock skew.
    #[error("IssueInstant {issue_instant} is more than {skew_seconds} s from now ({now})")]
    StaleIssueInstant {
        /// The message's IssueInstant.
        issue_instant: DateTime<Utc>,
        /// Now.
        now: DateTime<Utc>,
        /// The allowed skew.
        skew_seconds: i64,
    },
    /// Step 6: the LogoutRequest's NotOnOrAfter has passed.
    #[error(
        "the LogoutRequest expired at {not_on_or_after} (now {now}, allowed skew {skew_seconds} s)"
    )]
    Expired {
        /// Its NotOnOrAfter.
        not_on_or_after: DateTime<Utc>,
        /// Now.
        now: DateTime<Utc>,
        /// The allowed skew.
        skew_seconds: i64,
    },
}
