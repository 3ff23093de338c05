//! `samlp:LogoutRequest` (saml-core §3.7.1): built for sending, read when received.

use super::receive::{read_header, Header};
use super::{encode, Binding, LogoutError, NameId, Outgoing};
use crate::saml::binding::MessageKind;
use crate::saml::xml::{self, Element, NS_SAML, NS_SAMLP};
use crate::saml::{signing, Credential, SamlError};
use chrono::{DateTime, SecondsFormat, Utc};

/// A LogoutRequest to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLogoutRequest {
    /// Its `ID`.
    pub id: String,
    /// When it is issued.
    pub issue_instant: DateTime<Utc>,
    /// The receiver's SingleLogoutService URL for the binding used.
    pub destination: String,
    /// The sender's entityID.
    pub issuer: String,
    /// Whose session ends: the NameID the sender and the receiver share.
    pub name_id: NameId,
    /// `SessionIndex` values: the sessions to end (all of the principal's when empty).
    pub session_indexes: Vec<String>,
    /// `NotOnOrAfter`: when the request expires.
    pub not_on_or_after: Option<DateTime<Utc>>,
    /// `Reason`, a URI such as [`super::reason::USER`].
    pub reason: Option<String>,
}

impl NewLogoutRequest {
    /// Serialises the request; with `signer` an enveloped XML signature is added (HTTP-POST and
    /// SOAP). For HTTP-Redirect pass `None`: the query string is signed instead.
    pub fn to_xml(&self, signer: Option<&Credential>) -> Result<String, SamlError> {
        let mut req = Element::new("samlp:LogoutRequest")
            .attr("xmlns:samlp", NS_SAMLP)
            .attr("xmlns:saml", NS_SAML)
            .attr("ID", &self.id)
            .attr("Version", "2.0")
            .attr("IssueInstant", ts(self.issue_instant))
            .attr("Destination", &self.destination)
            .attr_opt("NotOnOrAfter", self.not_on_or_after.map(ts))
            .attr_opt("Reason", self.reason.clone())
            .child(Element::new("saml:Issuer").text(&self.issuer));
        if let Some(signer) = signer {
            req = req.child(signing::template(&self.id, &signer.cert_base64()));
        }
        let n = &self.name_id;
        req = req
            .child(
                Element::new("saml:NameID")
                    .attr_opt("NameQualifier", n.name_qualifier.clone())
                    .attr_opt("SPNameQualifier", n.sp_name_qualifier.clone())
                    .attr_opt("Format", n.format.clone())
                    .text(&n.value),
            )
            .children(
                self.session_indexes
                    .iter()
                    .map(|s| Element::new("samlp:SessionIndex").text(s)),
            );
        let xml = req.to_xml();
        match signer {
            Some(signer) => signing::sign(&xml, signer),
            None => Ok(xml),
        }
    }

    /// The signed request, encoded for `binding` toward [`Self::destination`].
    pub fn encode(
        &self,
        binding: Binding,
        relay_state: Option<&str>,
        signer: &Credential,
    ) -> Result<Outgoing, SamlError> {
        encode(
            binding,
            MessageKind::Request,
            Some(&self.destination),
            relay_state,
            signer,
            || self.to_xml(None),
            || self.to_xml(Some(signer)),
        )
    }
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// What a received LogoutRequest says. Whether it may be believed is [`super::Verified`]'s
/// business: this is only the reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedLogoutRequest {
    /// `ID`.
    pub id: String,
    /// `IssueInstant`.
    pub issue_instant: DateTime<Utc>,
    /// `Issuer`.
    pub issuer: String,
    /// `Destination`, if present.
    pub destination: Option<String>,
    /// The NameID with its attributes.
    pub name_id: NameId,
    /// `SessionIndex` values, in order.
    pub session_indexes: Vec<String>,
    /// `NotOnOrAfter`, if present.
    pub not_on_or_after: Option<DateTime<Utc>>,
    /// `Reason`, if present.
    pub reason: Option<String>,
}

impl ParsedLogoutRequest {
    /// Reads a `samlp:LogoutRequest` element, naming the first structural problem.
    pub(super) fn read(root: &roxmltree::Node<'_, '_>) -> Result<Self, LogoutError> {
        let Header {
            id,
            issue_instant,
            issuer,
            destination,
        } = read_header(root, "LogoutRequest")?;
        let malformed = |reason: String| SamlError::Malformed {
            expected: "LogoutRequest",
            reason,
        };
        let time = |name: &str| -> Result<Option<DateTime<Utc>>, SamlError> {
            root.attribute(name)
                .map(|v| {
                    DateTime::parse_from_rfc3339(v)
                        .map(|t| t.with_timezone(&Utc))
                        .map_err(|e| malformed(format!("{name}=`{v}` is not a dateTime: {e}")))
                })
                .transpose()
        };
        let not_on_or_after = time("NotOnOrAfter")?;
        let name_id = match xml::child(root, NS_SAML, "NameID") {
            Some(n) => NameId {
                value: xml::text_of(&n),
                format: n.attribute("Format").map(str::to_string),
                name_qualifier: n.attribute("NameQualifier").map(str::to_string),
                sp_name_qualifier: n.attribute("SPNameQualifier").map(str::to_string),
            },
            None => {
                let found = ["BaseID", "EncryptedID"]
                    .into_iter()
                    .find(|local| xml::child(root, NS_SAML, local).is_some())
                    .map(str::to_string);
                return Err(LogoutError::MissingNameId { found });
            }
        };
        if name_id.value.is_empty() {
            return Err(LogoutError::MissingNameId { found: None });
        }
        let session_indexes = root
            .children()
            .filter(|c| xml::is(c, NS_SAMLP, "SessionIndex"))
            .map(|c| xml::text_of(&c))
            .collect();
        Ok(Self {
            id,
            issue_instant,
            issuer,
            destination,
            name_id,
            session_indexes,
            not_on_or_after,
            reason: root.attribute("Reason").map(str::to_string),
        })
    }
}
