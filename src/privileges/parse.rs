//! Reading a PrivilegeList in every shape seen in the wild (reference §5.2, §5.3).
//!
//! Tolerant where producers legitimately differ — namespace (itst.dk or digst.dk), prefix or
//! default namespace, qualified or unqualified children, base64 or raw XML, whitespace and line
//! breaks (also inside base64), element order, comma lists or repeated `Constraint` elements —
//! and strict where a difference would change the meaning: every other deviation is a
//! [`PrivilegeError`] that names it. Nothing malformed ever becomes "no roles".

use super::{Constraint, PrivilegeError, PrivilegeGroup, PrivilegeList, Text, NS_DIGST, NS_ITST};
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use roxmltree::Node;
use std::borrow::Cow;

/// Standard alphabet; padding optional (some producers strip it).
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Parses a privilege attribute value: base64 of UTF-8 XML, or the XML itself.
pub fn parse(value: &str) -> Result<PrivilegeList, PrivilegeError> {
    let trimmed = value.trim_start_matches('\u{feff}').trim();
    if trimmed.is_empty() {
        return Err(PrivilegeError::Empty);
    }
    if trimmed.starts_with('<') {
        return parse_xml(trimmed);
    }
    // Line-wrapped base64 (76 columns, CRLF) is common; most values have no whitespace at all.
    let compact: Cow<'_, [u8]> = if trimmed.bytes().any(|b| b.is_ascii_whitespace()) {
        trimmed
            .bytes()
            .filter(|b| !b.is_ascii_whitespace())
            .collect::<Vec<u8>>()
            .into()
    } else {
        trimmed.as_bytes().into()
    };
    let bytes = BASE64
        .decode(&compact)
        .map_err(|e| PrivilegeError::NotBase64 {
            detail: e.to_string(),
        })?;
    let text = std::str::from_utf8(&bytes).map_err(|e| PrivilegeError::NotUtf8 {
        offset: e.valid_up_to(),
    })?;
    parse_xml(text.trim_start_matches('\u{feff}').trim())
}

fn parse_xml(text: &str) -> Result<PrivilegeList, PrivilegeError> {
    // Bounded before the tree parser sees it (issue #8 §1): a signed list nested 20,000 deep must
    // not overflow the stack.
    crate::xml_limits::check(text, &crate::xml_limits::XmlLimits::MESSAGE).map_err(
        |e| match e {
            crate::xml_limits::LimitError::Dtd => PrivilegeError::EntityDeclaration,
            crate::xml_limits::LimitError::NotWellFormed { position, reason } => {
                PrivilegeError::NotXml {
                    detail: format!("{reason} (at byte {position})"),
                }
            }
            e => PrivilegeError::Limit(e),
        },
    )?;
    let doc = roxmltree::Document::parse(text).map_err(|e| match e {
        roxmltree::Error::DtdDetected => PrivilegeError::EntityDeclaration,
        e => PrivilegeError::NotXml {
            detail: e.to_string(),
        },
    })?;
    let root = doc.root_element();
    if root.tag_name().name() != "PrivilegeList"
        || !matches!(root.tag_name().namespace(), Some(NS_ITST | NS_DIGST))
    {
        return Err(PrivilegeError::UnknownRoot {
            found: qualified(&root),
        });
    }
    let mut groups = Vec::new();
    for node in element_children(&root) {
        let node = node?;
        if !is_bpp(&node, "PrivilegeGroup") {
            return Err(unexpected(&node, &root));
        }
        groups.push(group(&node, groups.len() + 1)?);
    }
    if groups.is_empty() {
        return Err(PrivilegeError::EmptyList);
    }
    Ok(PrivilegeList { groups })
}

fn group(node: &Node<'_, '_>, position: usize) -> Result<PrivilegeGroup, PrivilegeError> {
    let scope = node
        .attribute("Scope")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or(PrivilegeError::MissingScope { group: position })?;
    let mut privileges = Vec::new();
    // (name, values) while reading; a constraint's values are frozen when the group ends.
    let mut constraints: Vec<(Text, Vec<Text>)> = Vec::new();
    for child in element_children(node) {
        let child = child?;
        if is_bpp(&child, "Privilege") {
            let privilege = own_text(&child)?;
            if privilege.is_empty() {
                return Err(PrivilegeError::EmptyPrivilege {
                    scope: scope.to_string(),
                });
            }
            privileges.push(privilege.into());
        } else if is_bpp(&child, "Constraint") {
            let name = child
                .attribute("Name")
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .ok_or_else(|| PrivilegeError::ConstraintWithoutName {
                    scope: scope.to_string(),
                })?;
            // A comma list (OS2rollekatalog) and repeated elements (CH2) mean the same.
            let text = own_text(&child)?;
            let mut values = text
                .split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .peekable();
            if values.peek().is_none() {
                return Err(PrivilegeError::EmptyConstraint {
                    scope: scope.to_string(),
                    name: name.to_string(),
                });
            }
            let slot = match constraints.iter().position(|(n, _)| &**n == name) {
                Some(i) => &mut constraints[i].1,
                None => {
                    constraints.push((name.into(), Vec::new()));
                    let last = constraints.len() - 1;
                    &mut constraints[last].1
                }
            };
            for v in values {
                if !slot.iter().any(|s| &**s == v) {
                    slot.push(v.into());
                }
            }
        } else {
            return Err(unexpected(&child, node));
        }
    }
    if privileges.is_empty() {
        return Err(PrivilegeError::GroupWithoutPrivilege {
            scope: scope.to_string(),
        });
    }
    Ok(PrivilegeGroup {
        scope: scope.into(),
        privileges,
        constraints: constraints
            .into_iter()
            .map(|(name, values)| Constraint {
                name,
                values: values.into(),
            })
            .collect(),
    })
}

/// The element children of `node`; whitespace and comments are skipped, other text refused.
fn element_children<'a, 'i: 'a>(
    node: &Node<'a, 'i>,
) -> impl Iterator<Item = Result<Node<'a, 'i>, PrivilegeError>> + 'a {
    let parent = *node;
    node.children().filter_map(move |child| {
        if child.is_element() {
            return Some(Ok(child));
        }
        match child.is_text().then(|| child.text()).flatten() {
            Some(text) if !text.trim().is_empty() => Some(Err(PrivilegeError::UnexpectedText {
                text: text.trim().chars().take(40).collect(),
                parent: qualified(&parent),
            })),
            _ => None,
        }
    })
}

/// The text content of a leaf element, trimmed; child elements are refused.
fn own_text<'a>(node: &Node<'a, '_>) -> Result<Cow<'a, str>, PrivilegeError> {
    let mut texts = node
        .children()
        .filter(|c| c.is_text())
        .filter_map(|c| c.text());
    if let Some(child) = node.children().find(|c| c.is_element()) {
        return Err(unexpected(&child, node));
    }
    // One text node is the usual case; comments split the text into several.
    let first = texts.next().unwrap_or("");
    match texts.next() {
        None => Ok(Cow::Borrowed(first.trim())),
        Some(second) => {
            let mut all = format!("{first}{second}");
            all.extend(texts);
            Ok(Cow::Owned(all.trim().to_string()))
        }
    }
}

/// An OIOBPP child element: unqualified (as the schema says) or qualified in either namespace.
fn is_bpp(node: &Node<'_, '_>, local: &str) -> bool {
    node.tag_name().name() == local
        && matches!(node.tag_name().namespace(), None | Some(NS_ITST | NS_DIGST))
}

fn qualified(node: &Node<'_, '_>) -> String {
    match node.tag_name().namespace() {
        Some(ns) => format!("{{{ns}}}{}", node.tag_name().name()),
        None => node.tag_name().name().to_string(),
    }
}

fn unexpected(node: &Node<'_, '_>, parent: &Node<'_, '_>) -> PrivilegeError {
    PrivilegeError::UnexpectedElement {
        found: qualified(node),
        parent: qualified(parent),
    }
}
