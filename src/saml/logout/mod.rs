//! Single logout messages: `LogoutRequest` and `LogoutResponse` (saml-core §3.7, saml-profiles
//! §4.4; reference §3.4) over all three bindings the Context Handler publishes — HTTP-Redirect
//! with a query-string signature, HTTP-POST and SOAP 1.1 with an enveloped signature.
//!
//! Pure: no I/O, no clock (the caller passes `now`), no state. A message from outside goes
//! through two steps, and only the second one's output may be acted on:
//!
//! 1. [`receive_request`] / [`receive_response`] decode the binding within the size bound, read
//!    the XML through the bounded parser ([`crate::saml::xml::parse`], issue #8's limits) and
//!    return an [`Unverified`] message: its Issuer, ID and InResponseTo are there to find the
//!    sender's certificates and the broker's state, nothing else.
//! 2. [`Unverified::verify`] checks, in order, the spec steps numbered in `receive.rs`: signed as
//!    the binding requires, the signature valid with the sender's certificates, the signed content
//!    being the message that was read, Destination, IssueInstant within the clock skew, and a
//!    request's NotOnOrAfter. It returns a [`Verified`] message read only from verified text.
//!
//! What needs state stays with the broker: the ID not seen before (replay), the InResponseTo
//! naming a LogoutRequest it sent, and the NameID/SessionIndex naming a live session.
//!
//! samael 0.0.22's `LogoutRequest` schema type writes `SessionIndex` as an attribute and before
//! the NameID (the schema has an element after it), holds one SessionIndex, and lacks
//! `NotOnOrAfter` and `Reason`; so these messages are built with [`crate::saml::xml::Element`]
//! like the AuthnRequests.

mod endpoints;
mod error;
mod receive;
mod request;
mod response;
#[cfg(test)]
mod tests;

pub use endpoints::{SloEndpoint, SloEndpoints};
pub use error::LogoutError;
pub use receive::{
    receive_request, receive_response, Expectations, LogoutMessage, Unverified,
    UnverifiedLogoutRequest, UnverifiedLogoutResponse, Verified, VerifiedLogoutRequest,
    VerifiedLogoutResponse,
};
pub use request::{NewLogoutRequest, ParsedLogoutRequest};
pub use response::{NewLogoutResponse, ParsedLogoutResponse};

use super::binding::MessageKind;
use super::bindings;

/// `Reason` URIs of a LogoutRequest (saml-core §3.7.3).
pub mod reason {
    /// The person asked to log out (the Context Handler's samples, reference §3.4).
    pub const USER: &str = "urn:oasis:names:tc:SAML:2.0:logout:user";
    /// An administrator ended the session.
    pub const ADMIN: &str = "urn:oasis:names:tc:SAML:2.0:logout:admin";
}

/// The SAML bindings a logout message travels by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Binding {
    /// HTTP-Redirect: DEFLATE + base64 in the query string, signed over the query string.
    Redirect,
    /// HTTP-POST: base64 in a form field, enveloped signature.
    Post,
    /// SOAP 1.1 (back channel): the message in the envelope's Body, enveloped signature.
    Soap,
}

impl Binding {
    /// The binding's URI, as in metadata.
    pub fn uri(self) -> &'static str {
        match self {
            Binding::Redirect => bindings::REDIRECT,
            Binding::Post => bindings::POST,
            Binding::Soap => bindings::SOAP,
        }
    }

    /// The binding with this URI, if it is one of the three.
    pub fn from_uri(uri: &str) -> Option<Self> {
        [Binding::Redirect, Binding::Post, Binding::Soap]
            .into_iter()
            .find(|b| b.uri() == uri)
    }
}

impl std::fmt::Display for Binding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Binding::Redirect => "HTTP-Redirect",
            Binding::Post => "HTTP-POST",
            Binding::Soap => "SOAP",
        })
    }
}

/// A `saml:NameID` with its attributes (saml-core §2.2.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameId {
    /// The identifier.
    pub value: String,
    /// `Format`.
    pub format: Option<String>,
    /// `NameQualifier`.
    pub name_qualifier: Option<String>,
    /// `SPNameQualifier`.
    pub sp_name_qualifier: Option<String>,
}

impl NameId {
    /// An X509SubjectName NameID, as the Context Handler issues and receives (reference §2.2).
    pub fn x509(value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            format: Some(super::NAMEID_X509.to_string()),
            name_qualifier: None,
            sp_name_qualifier: None,
        }
    }
}

/// A logout message on its way out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    /// Redirect the browser to this URL (query-string signed).
    Redirect(url::Url),
    /// Auto-submit this form from the browser.
    Post(PostForm),
    /// POST this SOAP envelope (`text/xml`) to the destination, or answer with it.
    Soap(String),
}

/// An HTTP-POST form carrying a logout message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostForm {
    /// The form's action: the message's Destination.
    pub action: String,
    /// `SAMLRequest` or `SAMLResponse`.
    pub field: &'static str,
    /// The base64 message.
    pub value: String,
    /// RelayState, if any.
    pub relay_state: Option<String>,
}

/// A logout message as it arrived, still encoded for its binding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// HTTP-Redirect: everything after `?`, undecoded (the signature covers the raw octets).
    Redirect {
        /// The raw query string.
        raw_query: String,
    },
    /// HTTP-POST: the form fields.
    Post {
        /// The `SAMLRequest` or `SAMLResponse` field (base64).
        message: String,
        /// The `RelayState` field.
        relay_state: Option<String>,
    },
    /// SOAP: the request or response body, a SOAP 1.1 envelope.
    Soap {
        /// The envelope text.
        envelope: String,
    },
}

/// How a built message is encoded for `binding`: `xml_unsigned` for a Redirect (signed over the
/// query string), `xml_signed` (enveloped signature) otherwise.
fn encode(
    binding: Binding,
    kind: MessageKind,
    destination: Option<&str>,
    relay_state: Option<&str>,
    signer: &super::Credential,
    xml_unsigned: impl FnOnce() -> Result<String, super::SamlError>,
    xml_signed: impl FnOnce() -> Result<String, super::SamlError>,
) -> Result<Outgoing, super::SamlError> {
    let needs_destination = || super::SamlError::BadEncoding {
        reason: format!("a logout message sent by {binding} needs a Destination"),
    };
    Ok(match binding {
        Binding::Redirect => Outgoing::Redirect(super::binding::encode_redirect(
            destination.ok_or_else(needs_destination)?,
            kind,
            &xml_unsigned()?,
            relay_state,
            Some(signer.key()),
        )?),
        Binding::Post => Outgoing::Post(PostForm {
            action: destination.ok_or_else(needs_destination)?.to_string(),
            field: kind.param(),
            value: super::binding::encode_post(&xml_signed()?),
            relay_state: relay_state.map(str::to_string),
        }),
        Binding::Soap => Outgoing::Soap(super::soap::soap_envelope(
            super::response::strip_declaration(&xml_signed()?),
        )),
    })
}
