//! SOAP 1.1 envelopes around SAML messages (saml-bindings-2.0-os §3.2): the attribute-service
//! AttributeQuery (reference §8.1) and back-channel single logout (reference §3.4) travel in them.
//! The envelope is read through the bounded parser like every message from outside.

use super::xml::{self, Element};
use super::SamlError;

/// SOAP 1.1 envelope namespace.
pub const NS_SOAP11: &str = "http://schemas.xmlsoap.org/soap/envelope/";

/// Wraps an XML element (text) in a SOAP 1.1 envelope.
pub fn soap_envelope(body_xml: &str) -> String {
    format!(
        r#"<s:Envelope xmlns:s="{NS_SOAP11}"><s:Header/><s:Body>{body_xml}</s:Body></s:Envelope>"#
    )
}

/// A SOAP 1.1 fault envelope.
pub fn soap_fault(code: &str, message: &str) -> String {
    soap_envelope(
        &Element::new("s:Fault")
            .child(Element::new("faultcode").text(code))
            .child(Element::new("faultstring").text(message))
            .to_xml(),
    )
}

/// What a SOAP body held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SoapBody {
    /// The body's single element, as a standalone XML document.
    Message(String),
    /// A SOAP fault.
    Fault {
        /// `faultcode`.
        code: String,
        /// `faultstring`.
        message: String,
    },
}

/// Reads a SOAP 1.1 envelope.
pub fn read_soap(text: &str) -> Result<SoapBody, SamlError> {
    let doc = xml::parse(text)?;
    let malformed = |reason: &str| SamlError::Malformed {
        expected: "SOAP 1.1 envelope",
        reason: reason.to_string(),
    };
    let root = doc.root_element();
    if !xml::is(&root, NS_SOAP11, "Envelope") {
        return Err(malformed(&format!(
            "the root element is `{}`",
            root.tag_name().name()
        )));
    }
    let body = xml::child(&root, NS_SOAP11, "Body").ok_or_else(|| malformed("it has no Body"))?;
    let mut elements = body.children().filter(|c| c.is_element());
    let first = elements
        .next()
        .ok_or_else(|| malformed("its Body is empty"))?;
    if elements.next().is_some() {
        return Err(malformed("its Body holds more than one element"));
    }
    if xml::is(&first, NS_SOAP11, "Fault") {
        let field = |name: &str| {
            first
                .children()
                .find(|c| c.is_element() && c.tag_name().name() == name)
                .map(|c| xml::text_of(&c))
                .unwrap_or_default()
        };
        return Ok(SoapBody::Fault {
            code: field("faultcode"),
            message: field("faultstring"),
        });
    }
    xml::standalone_subtree(&first, text)
        .map(SoapBody::Message)
        .ok_or_else(|| malformed("cannot extract the Body's element"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_soap_fault_is_read_with_its_code_and_message() {
        let body = read_soap(&soap_fault("s:Server", "database down")).unwrap();
        assert_eq!(
            body,
            SoapBody::Fault {
                code: "s:Server".into(),
                message: "database down".into()
            }
        );
    }

    #[test]
    fn refuses_what_is_not_a_soap_envelope() {
        assert!(matches!(
            read_soap("<x/>"),
            Err(SamlError::Malformed {
                expected: "SOAP 1.1 envelope",
                ..
            })
        ));
        assert!(matches!(
            read_soap("not xml"),
            Err(SamlError::NotXml { .. })
        ));
    }
}
