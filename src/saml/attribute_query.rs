//! SAML 2.0 AttributeQuery over SOAP 1.1 (saml-core §3.3.2.3, saml-bindings §3.2; reference §8.1):
//! the signed query chsim sends a municipality's attribute service, in a SOAP envelope, and the
//! query as the built-in attribute service receives it. The envelope itself is [`super::soap`]'s.

use super::xml::{self, Element, NS_SAML, NS_SAMLP};
use super::{signing, Credential, SamlError, NAMEID_X509};
use chrono::{DateTime, SecondsFormat, Utc};

/// The SOAP helpers, where the attribute-service code has always found them.
pub use super::soap::{read_soap, soap_envelope, soap_fault, SoapBody, NS_SOAP11};

/// An AttributeQuery to send.
#[derive(Debug, Clone)]
pub struct NewAttributeQuery {
    /// Its `ID`.
    pub id: String,
    /// When it is issued.
    pub issue_instant: DateTime<Utc>,
    /// The sender's entityID.
    pub issuer: String,
    /// The service's endpoint.
    pub destination: String,
    /// The person's NameID (X509SubjectName, as the IdP sent it).
    pub name_id: String,
}

impl NewAttributeQuery {
    /// The signed query inside a SOAP 1.1 envelope.
    pub fn to_soap(&self, signer: &Credential) -> Result<String, SamlError> {
        let query = Element::new("samlp:AttributeQuery")
            .attr("xmlns:samlp", NS_SAMLP)
            .attr("xmlns:saml", NS_SAML)
            .attr("ID", &self.id)
            .attr("Version", "2.0")
            .attr(
                "IssueInstant",
                self.issue_instant
                    .to_rfc3339_opts(SecondsFormat::Secs, true),
            )
            .attr("Destination", &self.destination)
            .child(Element::new("saml:Issuer").text(&self.issuer))
            .child(signing::template(&self.id, &signer.cert_base64()))
            .child(
                Element::new("saml:Subject").child(
                    Element::new("saml:NameID")
                        .attr("Format", NAMEID_X509)
                        .text(&self.name_id),
                ),
            );
        let signed = signing::sign(&query.to_xml(), signer)?;
        Ok(soap_envelope(super::response::strip_declaration(&signed)))
    }
}

/// An AttributeQuery as received (by the built-in test attribute service).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedAttributeQuery {
    /// `ID`.
    pub id: String,
    /// `Issuer`.
    pub issuer: String,
    /// The NameID asked about.
    pub name_id: String,
}

/// Parses an AttributeQuery (after its signature was verified by the caller).
pub fn parse_query(text: &str) -> Result<ReceivedAttributeQuery, SamlError> {
    let doc = xml::parse(text)?;
    let root = doc.root_element();
    let malformed = |reason: &str| SamlError::Malformed {
        expected: "AttributeQuery",
        reason: reason.to_string(),
    };
    if !xml::is(&root, NS_SAMLP, "AttributeQuery") {
        return Err(malformed(&format!(
            "the root element is `{}`",
            root.tag_name().name()
        )));
    }
    Ok(ReceivedAttributeQuery {
        id: root
            .attribute("ID")
            .ok_or_else(|| malformed("it has no ID"))?
            .to_string(),
        issuer: xml::child(&root, NS_SAML, "Issuer")
            .map(|i| xml::text_of(&i))
            .ok_or_else(|| malformed("it has no Issuer"))?,
        name_id: xml::child(&root, NS_SAML, "Subject")
            .and_then(|s| xml::child(&s, NS_SAML, "NameID"))
            .map(|n| xml::text_of(&n))
            .ok_or_else(|| malformed("it has no Subject/NameID"))?,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn cred() -> Credential {
        Credential::from_pem(
            include_bytes!("../../keys/broker.key.pem"),
            include_bytes!("../../keys/broker.cert.pem"),
        )
        .unwrap()
    }

    #[test]
    fn a_signed_query_travels_in_soap_and_verifies() {
        let c = cred();
        let q = NewAttributeQuery {
            id: "_q1".into(),
            issue_instant: DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            issuer: "https://chsim/runtime".into(),
            destination: "https://as/soap".into(),
            name_id: "C=DK,O=33333333,CN=Åse & Co,Serial=1".into(),
        };
        let SoapBody::Message(xml) = read_soap(&q.to_soap(&c).unwrap()).unwrap() else {
            panic!("expected a message")
        };
        let reduced =
            signing::verify_and_reduce(&xml, &[c.trusted_cert()], Default::default()).unwrap();
        let parsed = parse_query(&reduced).unwrap();
        assert_eq!(parsed.id, "_q1");
        assert_eq!(parsed.name_id, "C=DK,O=33333333,CN=Åse & Co,Serial=1");
    }
}
