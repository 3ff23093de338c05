//! `samlp:LogoutResponse` (saml-core §3.7.2, a StatusResponseType): built for sending, read
//! when received.

use super::receive::{read_header, Header};
use super::{encode, Binding, LogoutError, Outgoing};
use crate::saml::binding::MessageKind;
use crate::saml::response::Status;
use crate::saml::xml::{self, Element, NS_SAML, NS_SAMLP};
use crate::saml::{signing, Credential, SamlError};
use chrono::{DateTime, SecondsFormat, Utc};

/// A LogoutResponse to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLogoutResponse {
    /// Its `ID`.
    pub id: String,
    /// When it is issued.
    pub issue_instant: DateTime<Utc>,
    /// The requester's SingleLogoutService response URL (ResponseLocation, else Location). `None`
    /// only for a SOAP answer, which goes back on the requester's own connection.
    pub destination: Option<String>,
    /// The sender's entityID.
    pub issuer: String,
    /// The ID of the LogoutRequest answered.
    pub in_response_to: String,
    /// `Success`, or e.g. `Success` with second-level `PartialLogout`, or `Requester`.
    pub status: Status,
}

impl NewLogoutResponse {
    /// Serialises the response; with `signer` an enveloped XML signature is added (HTTP-POST
    /// and SOAP). For HTTP-Redirect pass `None`: the query string is signed instead.
    pub fn to_xml(&self, signer: Option<&Credential>) -> Result<String, SamlError> {
        let mut r = Element::new("samlp:LogoutResponse")
            .attr("xmlns:samlp", NS_SAMLP)
            .attr("xmlns:saml", NS_SAML)
            .attr("ID", &self.id)
            .attr("InResponseTo", &self.in_response_to)
            .attr("Version", "2.0")
            .attr(
                "IssueInstant",
                self.issue_instant
                    .to_rfc3339_opts(SecondsFormat::Secs, true),
            )
            .attr_opt("Destination", self.destination.clone())
            .child(Element::new("saml:Issuer").text(&self.issuer));
        if let Some(signer) = signer {
            r = r.child(signing::template(&self.id, &signer.cert_base64()));
        }
        let xml = r.child(self.status.element()).to_xml();
        match signer {
            Some(signer) => signing::sign(&xml, signer),
            None => Ok(xml),
        }
    }

    /// The signed response, encoded for `binding` toward [`Self::destination`] (a SOAP answer
    /// is the envelope to return).
    pub fn encode(
        &self,
        binding: Binding,
        relay_state: Option<&str>,
        signer: &Credential,
    ) -> Result<Outgoing, SamlError> {
        encode(
            binding,
            MessageKind::Response,
            self.destination.as_deref(),
            relay_state,
            signer,
            || self.to_xml(None),
            || self.to_xml(Some(signer)),
        )
    }
}

/// What a received LogoutResponse says. Whether it may be believed is [`super::Verified`]'s
/// business: this is only the reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedLogoutResponse {
    /// `ID`.
    pub id: String,
    /// `IssueInstant`.
    pub issue_instant: DateTime<Utc>,
    /// `Issuer`.
    pub issuer: String,
    /// `Destination`, if present.
    pub destination: Option<String>,
    /// `InResponseTo`: the LogoutRequest answered.
    pub in_response_to: String,
    /// The status: top-level code, optional second-level code and message.
    pub status: Status,
}

impl ParsedLogoutResponse {
    /// Reads a `samlp:LogoutResponse` element, naming the first structural problem.
    pub(super) fn read(root: &roxmltree::Node<'_, '_>) -> Result<Self, LogoutError> {
        let Header {
            id,
            issue_instant,
            issuer,
            destination,
        } = read_header(root, "LogoutResponse")?;
        let in_response_to = root
            .attribute("InResponseTo")
            .filter(|v| !v.is_empty())
            .ok_or(LogoutError::MissingInResponseTo)?
            .to_string();
        let status_el = xml::child(root, NS_SAMLP, "Status").ok_or(LogoutError::MissingStatus)?;
        let code_el =
            xml::child(&status_el, NS_SAMLP, "StatusCode").ok_or(LogoutError::MissingStatus)?;
        let code = code_el
            .attribute("Value")
            .filter(|v| !v.is_empty())
            .ok_or(LogoutError::MissingStatus)?;
        Ok(Self {
            id,
            issue_instant,
            issuer,
            destination,
            in_response_to,
            status: Status {
                code: code.to_string(),
                sub_code: xml::child(&code_el, NS_SAMLP, "StatusCode")
                    .and_then(|c| c.attribute("Value"))
                    .map(str::to_string),
                message: xml::child(&status_el, NS_SAMLP, "StatusMessage")
                    .map(|m| xml::text_of(&m)),
            },
        })
    }
}
