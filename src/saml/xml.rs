//! Writing and reading XML text for SAML messages.
//!
//! Outgoing messages are built as a small element tree and serialised with quick-xml's escaping
//! (samael's fixed builders cannot express Scoping, AuthenticatingAuthority or the uri/basic
//! NameFormat choice of the KOMBIT attribute profiles). Incoming XML is read with roxmltree, which
//! refuses DTDs (SAML messages never carry one; a DTD is the door to entity-expansion attacks).

use super::SamlError;
use crate::xml_limits::{self, XmlLimits};
use quick_xml::escape::escape;

/// SAML 2.0 assertion namespace.
pub const NS_SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
/// SAML 2.0 protocol namespace.
pub const NS_SAMLP: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
/// SAML 2.0 metadata namespace.
pub const NS_MD: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
/// XML-DSig namespace.
pub const NS_DS: &str = "http://www.w3.org/2000/09/xmldsig#";
/// XML Schema instance namespace.
pub const NS_XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// XML Schema namespace.
pub const NS_XS: &str = "http://www.w3.org/2001/XMLSchema";

/// An element under construction.
#[derive(Debug, Clone)]
pub struct Element {
    name: String,
    attributes: Vec<(String, String)>,
    children: Vec<Node>,
}

#[derive(Debug, Clone)]
enum Node {
    Element(Element),
    Text(String),
}

impl Element {
    /// A new element with a qualified name such as `saml:Assertion`.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_string(),
            attributes: Vec::new(),
            children: Vec::new(),
        }
    }

    /// Adds an attribute (the value is escaped on output).
    pub fn attr(mut self, name: &str, value: impl Into<String>) -> Self {
        self.attributes.push((name.to_string(), value.into()));
        self
    }

    /// Adds an attribute only when `value` is `Some`.
    pub fn attr_opt(self, name: &str, value: Option<impl Into<String>>) -> Self {
        match value {
            Some(v) => self.attr(name, v),
            None => self,
        }
    }

    /// Appends a child element.
    pub fn child(mut self, child: Element) -> Self {
        self.children.push(Node::Element(child));
        self
    }

    /// Appends child elements.
    pub fn children(mut self, children: impl IntoIterator<Item = Element>) -> Self {
        self.children
            .extend(children.into_iter().map(Node::Element));
        self
    }

    /// Appends a text node (escaped on output).
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.children.push(Node::Text(text.into()));
        self
    }

    /// Serialises the element (no XML declaration).
    pub fn to_xml(&self) -> String {
        let mut out = String::with_capacity(1024);
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        out.push('<');
        out.push_str(&self.name);
        for (name, value) in &self.attributes {
            out.push(' ');
            out.push_str(name);
            out.push_str("=\"");
            out.push_str(&escape(value.as_str()));
            out.push('"');
        }
        if self.children.is_empty() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        for child in &self.children {
            match child {
                Node::Element(e) => e.write(out),
                Node::Text(t) => out.push_str(&escape(t.as_str())),
            }
        }
        out.push_str("</");
        out.push_str(&self.name);
        out.push('>');
    }
}

/// Parses a SAML message from outside: first bounded by [`XmlLimits::MESSAGE`] (depth, elements,
/// attributes, text; no DTD), then with roxmltree's secure defaults.
pub fn parse(text: &str) -> Result<roxmltree::Document<'_>, SamlError> {
    parse_with(text, &XmlLimits::MESSAGE)
}

/// Parses XML from outside within `limits` (metadata uses [`XmlLimits::METADATA`]).
pub fn parse_with<'i>(
    text: &'i str,
    limits: &XmlLimits,
) -> Result<roxmltree::Document<'i>, SamlError> {
    xml_limits::check(text, limits)?;
    Ok(roxmltree::Document::parse(text)?)
}

/// The local name of the first element of `text` (to tell an AuthnRequest from a
/// LogoutRequest arriving at the same endpoint before either is parsed); None when there is
/// none. Reads no further than that start tag.
pub fn root_local_name(text: &str) -> Option<String> {
    let mut reader = quick_xml::Reader::from_str(text);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e)) => {
                return Some(String::from_utf8_lossy(e.local_name().as_ref()).into_owned())
            }
            Ok(quick_xml::events::Event::Eof) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// True when `node` is an element named `local` in namespace `ns`.
pub fn is(node: &roxmltree::Node<'_, '_>, ns: &str, local: &str) -> bool {
    node.is_element() && node.tag_name().name() == local && node.tag_name().namespace() == Some(ns)
}

/// The first child element of `node` named `local` in namespace `ns`.
pub fn child<'a, 'i>(
    node: &roxmltree::Node<'a, 'i>,
    ns: &str,
    local: &str,
) -> Option<roxmltree::Node<'a, 'i>> {
    node.children().find(|c| is(c, ns, local))
}

/// The text of the element's text children, trimmed.
pub fn text_of(node: &roxmltree::Node<'_, '_>) -> String {
    node.children()
        .filter(|c| c.is_text())
        .filter_map(|c| c.text())
        .collect::<String>()
        .trim()
        .to_string()
}

/// The source text of one element as a standalone document: the element's bytes from the original
/// text, with every namespace in scope re-declared on its start tag. This lets a subtree (an
/// EncryptedAssertion, an Assertion) be handed to code that parses it alone without losing the
/// prefixes its ancestors declared. Exclusive canonicalisation ignores unused declarations, so a
/// signature over the subtree still verifies.
pub fn standalone_subtree(node: &roxmltree::Node<'_, '_>, source: &str) -> Option<String> {
    let range = node.range();
    let text = source.get(range)?;
    // The start tag's name ends at the first whitespace, '/' or '>'.
    let name_end = text
        .char_indices()
        .skip(1)
        .find(|(_, c)| c.is_whitespace() || *c == '/' || *c == '>')
        .map(|(i, _)| i)?;
    // The namespaces the start tag declares itself, read by a real XML tokenizer: splitting the
    // text would be fooled by a `>` or an `xmlns…=` inside an attribute value.
    let own_declarations: Vec<String> = {
        let mut reader = quick_xml::Reader::from_str(text);
        match reader.read_event().ok()? {
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => e
                .attributes()
                .with_checks(false)
                .filter_map(Result::ok)
                .map(|a| String::from_utf8_lossy(a.key.as_ref()).into_owned())
                .filter(|k| k == "xmlns" || k.starts_with("xmlns:"))
                .collect(),
            _ => return None,
        }
    };
    let mut extra = String::new();
    for ns in node.namespaces() {
        let decl_name = match ns.name() {
            Some(prefix) => format!("xmlns:{prefix}"),
            None => "xmlns".to_string(),
        };
        if own_declarations.contains(&decl_name) {
            continue;
        }
        if decl_name == "xmlns:xml" {
            continue;
        }
        extra.push(' ');
        extra.push_str(&decl_name);
        extra.push_str("=\"");
        extra.push_str(&escape(ns.uri()));
        extra.push('"');
    }
    Some(format!(
        "{}{}{}",
        &text[..name_end],
        extra,
        &text[name_end..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text_and_attributes() {
        let xml = Element::new("a:b")
            .attr("x", "1<2 & \"q\"")
            .text("<&>")
            .to_xml();
        assert_eq!(
            xml,
            r#"<a:b x="1&lt;2 &amp; &quot;q&quot;">&lt;&amp;&gt;</a:b>"#
        );
    }

    #[test]
    fn refuses_documents_with_a_dtd() {
        let err = parse("<!DOCTYPE x [<!ENTITY e \"boom\">]><x>&e;</x>").unwrap_err();
        assert_eq!(err, SamlError::XmlLimit(xml_limits::LimitError::Dtd));
    }

    #[test]
    fn standalone_subtree_is_not_fooled_by_markup_inside_an_attribute_value() {
        let src = r#"<p:R xmlns:p="urn:p" xmlns:s="urn:s"><s:A x="a xmlns:s=&quot;urn:evil&quot; >" ID="1"><s:B/></s:A></p:R>"#;
        let doc = parse(src).unwrap();
        let a = doc.descendants().find(|n| is(n, "urn:s", "A")).unwrap();
        let sub = standalone_subtree(&a, src).unwrap();
        let reparsed = parse(&sub).unwrap();
        assert!(is(&reparsed.root_element(), "urn:s", "A"), "{sub}");
        assert_eq!(reparsed.root_element().attribute("ID"), Some("1"));
    }

    #[test]
    fn standalone_subtree_redeclares_inherited_namespaces() {
        let src = r#"<p:R xmlns:p="urn:p" xmlns:s="urn:s"><s:A xmlns:z="urn:z" ID="1"><s:B/></s:A></p:R>"#;
        let doc = parse(src).unwrap();
        let a = doc.descendants().find(|n| is(n, "urn:s", "A")).unwrap();
        let sub = standalone_subtree(&a, src).unwrap();
        let reparsed = parse(&sub).unwrap();
        assert!(is(&reparsed.root_element(), "urn:s", "A"));
        assert!(sub.contains(r#"xmlns:s="urn:s""#));
        assert_eq!(sub.matches("xmlns:z").count(), 1);
    }
}
