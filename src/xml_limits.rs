//! Bounds on XML from outside, checked *before* any tree parser sees it (issue #8 §1).
//!
//! roxmltree and libxml2 (inside samael/xmlsec) build trees and walk them recursively; a message
//! a few hundred bytes long that nests thousands of elements overflows a worker's stack and kills
//! the process. Every XML text chsim reads from outside — AuthnRequests, Responses, privilege
//! lists, attribute-service answers, decrypted assertions, metadata — first passes [`check`]: a
//! streaming pass (quick-xml, no recursion, no allocation per element) that counts depth,
//! elements, attributes per element and the size of text and attribute values, and refuses a DTD.

use quick_xml::events::Event;
use quick_xml::Reader;

/// The bounds one kind of XML must stay within.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XmlLimits {
    /// Deepest element nesting (the document element is depth 1).
    pub max_depth: usize,
    /// Most elements in the whole document.
    pub max_elements: usize,
    /// Most attributes (namespace declarations included) on one element.
    pub max_attributes: usize,
    /// Largest attribute value, in bytes.
    pub max_attribute_bytes: usize,
    /// Largest text content of one element between two tags, in bytes.
    pub max_text_bytes: usize,
}

impl XmlLimits {
    /// SAML protocol messages, assertions, privilege lists and SOAP answers. The deepest real
    /// message (a SOAP attribute-service answer carrying a signed assertion whose privilege list
    /// is embedded as XML) nests about 14 elements; a large OIOBPP list has a few hundred.
    pub const MESSAGE: XmlLimits = XmlLimits {
        max_depth: 32,
        max_elements: 20_000,
        max_attributes: 64,
        max_attribute_bytes: 16 * 1024,
        max_text_bytes: 1024 * 1024,
    };

    /// SAML metadata, which may be an aggregate of many entities.
    pub const METADATA: XmlLimits = XmlLimits {
        max_depth: 32,
        max_elements: 500_000,
        max_attributes: 64,
        max_attribute_bytes: 16 * 1024,
        max_text_bytes: 1024 * 1024,
    };
}

/// Why XML was refused before parsing.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum LimitError {
    /// Elements nest deeper than the limit.
    #[error("the XML nests elements more than {limit} deep; chsim refuses deeper documents")]
    TooDeep {
        /// The depth limit.
        limit: usize,
    },
    /// The document has more elements than the limit.
    #[error("the XML has more than {limit} elements; chsim refuses larger documents")]
    TooManyElements {
        /// The element limit.
        limit: usize,
    },
    /// One element carries more attributes than the limit.
    #[error("the element `{element}` has more than {limit} attributes; chsim refuses more")]
    TooManyAttributes {
        /// The element's qualified name.
        element: String,
        /// The attribute limit.
        limit: usize,
    },
    /// An attribute value is larger than the limit.
    #[error(
        "an attribute of `{element}` is larger than {limit} bytes; chsim refuses larger values"
    )]
    AttributeTooLarge {
        /// The element's qualified name.
        element: String,
        /// The size limit.
        limit: usize,
    },
    /// A text node is larger than the limit.
    #[error("a text node is larger than {limit} bytes; chsim refuses larger text")]
    TextTooLarge {
        /// The size limit.
        limit: usize,
    },
    /// The document has a DTD (never part of SAML; the door to entity expansion).
    #[error("the XML contains a DTD (<!DOCTYPE …>), which SAML messages never carry")]
    Dtd,
    /// The streaming pass found the text not well-formed.
    #[error("the XML is not well-formed at byte {position}: {reason}")]
    NotWellFormed {
        /// Byte offset.
        position: u64,
        /// quick-xml's complaint.
        reason: String,
    },
}

/// Checks `text` against `limits` without building a tree.
pub fn check(text: &str, limits: &XmlLimits) -> Result<(), LimitError> {
    let mut reader = Reader::from_str(text);
    let mut depth = 0usize;
    let mut elements = 0usize;
    let mut text_run = 0usize;
    loop {
        let event = reader.read_event().map_err(|e| LimitError::NotWellFormed {
            position: reader.error_position(),
            reason: e.to_string(),
        })?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                text_run = 0;
                elements += 1;
                if elements > limits.max_elements {
                    return Err(LimitError::TooManyElements {
                        limit: limits.max_elements,
                    });
                }
                if depth + 1 > limits.max_depth {
                    return Err(LimitError::TooDeep {
                        limit: limits.max_depth,
                    });
                }
                let element = || String::from_utf8_lossy(e.name().as_ref()).into_owned();
                let mut count = 0usize;
                for attribute in e.attributes().with_checks(false) {
                    count += 1;
                    if count > limits.max_attributes {
                        return Err(LimitError::TooManyAttributes {
                            element: element(),
                            limit: limits.max_attributes,
                        });
                    }
                    let attribute = attribute.map_err(|err| LimitError::NotWellFormed {
                        position: reader.buffer_position(),
                        reason: err.to_string(),
                    })?;
                    if attribute.value.len() > limits.max_attribute_bytes {
                        return Err(LimitError::AttributeTooLarge {
                            element: element(),
                            limit: limits.max_attribute_bytes,
                        });
                    }
                }
                if matches!(event, Event::Start(_)) {
                    depth += 1;
                }
            }
            Event::End(_) => {
                text_run = 0;
                depth = depth.saturating_sub(1);
            }
            Event::Text(ref t) => text_run += t.len(),
            Event::CData(ref t) => text_run += t.len(),
            Event::GeneralRef(ref r) => text_run += r.len() + 2,
            Event::DocType(_) => return Err(LimitError::Dtd),
            Event::Eof => return Ok(()),
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
        }
        if text_run > limits.max_text_bytes {
            return Err(LimitError::TextTooLarge {
                limit: limits.max_text_bytes,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(depth: usize) -> String {
        "<a>".repeat(depth) + &"</a>".repeat(depth)
    }

    #[test]
    fn accepts_a_document_at_the_depth_limit() {
        check(&nested(32), &XmlLimits::MESSAGE).unwrap();
    }

    #[test]
    fn refuses_a_document_one_deeper_than_the_limit() {
        assert_eq!(
            check(&nested(33), &XmlLimits::MESSAGE),
            Err(LimitError::TooDeep { limit: 32 })
        );
    }

    #[test]
    fn refuses_deep_nesting_without_recursing() {
        // 200,000 levels would overflow any recursive parser's stack; the check stops at 33.
        let err = check(&nested(200_000), &XmlLimits::MESSAGE).unwrap_err();
        assert_eq!(err, LimitError::TooDeep { limit: 32 });
    }

    #[test]
    fn self_closing_elements_count_for_depth_but_do_not_nest() {
        let doc = "<a>".repeat(31) + &"<b/>".repeat(100) + &"</a>".repeat(31);
        check(&doc, &XmlLimits::MESSAGE).unwrap();
        let doc = "<a>".repeat(32) + "<b/>" + &"</a>".repeat(32);
        assert!(matches!(
            check(&doc, &XmlLimits::MESSAGE),
            Err(LimitError::TooDeep { .. })
        ));
    }

    #[test]
    fn refuses_too_many_attributes_naming_the_element() {
        let attrs: String = (0..65).map(|i| format!(" a{i}=\"x\"")).collect();
        let err = check(&format!("<p:x{attrs}/>"), &XmlLimits::MESSAGE).unwrap_err();
        assert_eq!(
            err,
            LimitError::TooManyAttributes {
                element: "p:x".into(),
                limit: 64
            }
        );
    }

    #[test]
    fn refuses_a_huge_attribute_value() {
        let v = "x".repeat(16 * 1024 + 1);
        assert!(matches!(
            check(&format!("<x a=\"{v}\"/>"), &XmlLimits::MESSAGE),
            Err(LimitError::AttributeTooLarge { .. })
        ));
    }

    #[test]
    fn refuses_a_huge_text_node_even_when_split_by_references() {
        let limits = XmlLimits {
            max_text_bytes: 100,
            ..XmlLimits::MESSAGE
        };
        let text = "xxxxxxxxx&amp;".repeat(10);
        assert!(matches!(
            check(&format!("<x>{text}</x>"), &limits),
            Err(LimitError::TextTooLarge { limit: 100 })
        ));
    }

    #[test]
    fn refuses_too_many_elements() {
        let doc = "<r>".to_string() + &"<e/>".repeat(20_000) + "</r>";
        assert_eq!(
            check(&doc, &XmlLimits::MESSAGE),
            Err(LimitError::TooManyElements { limit: 20_000 })
        );
    }

    #[test]
    fn refuses_a_dtd() {
        assert_eq!(
            check(
                "<!DOCTYPE x [<!ENTITY e \"boom\">]><x>&e;</x>",
                &XmlLimits::MESSAGE
            ),
            Err(LimitError::Dtd)
        );
    }

    #[test]
    fn refuses_mismatched_end_tags() {
        assert!(matches!(
            check("<a><b></a></b>", &XmlLimits::MESSAGE),
            Err(LimitError::NotWellFormed { .. })
        ));
    }
}
