//! AuthnRequests: the ones chsim and its built-in parties send, and the ones chsim receives
//! (saml-core §3.4.1; reference §2.1 and §3.1).

use super::xml::{self, Element, NS_SAML, NS_SAMLP};
use super::{signing, Credential, SamlError};
use chrono::{DateTime, SecondsFormat, Utc};

/// `RequestedAuthnContext` (saml-core §3.3.2.2.1).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RequestedAuthnContext {
    /// `exact`, `minimum`, `maximum` or `better`.
    pub comparison: String,
    /// The AuthnContextClassRefs, in order.
    pub class_refs: Vec<String>,
}

/// An AuthnRequest to be sent.
#[derive(Debug, Clone)]
pub struct NewAuthnRequest {
    /// Its `ID`.
    pub id: String,
    /// When it is issued.
    pub issue_instant: DateTime<Utc>,
    /// Where it is sent (the receiver's SSO endpoint).
    pub destination: String,
    /// The sender's entityID.
    pub issuer: String,
    /// Where the response should go.
    pub acs_url: Option<String>,
    /// `ForceAuthn`.
    pub force_authn: bool,
    /// `IsPassive`: the IdP must answer without interacting with the person.
    pub is_passive: bool,
    /// The requested NameID format.
    pub name_id_format: Option<String>,
    /// Optional requested authentication context.
    pub requested_authn_context: Option<RequestedAuthnContext>,
    /// `Scoping/RequesterID` values (the user system on whose behalf chsim asks).
    pub requester_ids: Vec<String>,
}

impl NewAuthnRequest {
    /// Serialises the request; with `signer`, an enveloped XML signature is added (HTTP-POST).
    /// For HTTP-Redirect pass `None` and sign the query string instead.
    pub fn to_xml(&self, signer: Option<&Credential>) -> Result<String, SamlError> {
        let mut req = Element::new("samlp:AuthnRequest")
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
            .attr(
                "ForceAuthn",
                if self.force_authn { "true" } else { "false" },
            )
            .attr_opt("IsPassive", self.is_passive.then_some("true"))
            .attr("ProtocolBinding", super::bindings::POST)
            .attr_opt("AssertionConsumerServiceURL", self.acs_url.clone())
            .child(Element::new("saml:Issuer").text(&self.issuer));
        if let Some(signer) = signer {
            req = req.child(signing::template(&self.id, &signer.cert_base64()));
        }
        if let Some(format) = &self.name_id_format {
            req = req.child(
                Element::new("samlp:NameIDPolicy")
                    .attr("Format", format)
                    .attr("AllowCreate", "false"),
            );
        }
        if let Some(rac) = &self.requested_authn_context {
            req = req.child(
                Element::new("samlp:RequestedAuthnContext")
                    .attr("Comparison", &rac.comparison)
                    .children(
                        rac.class_refs
                            .iter()
                            .map(|c| Element::new("saml:AuthnContextClassRef").text(c)),
                    ),
            );
        }
        if !self.requester_ids.is_empty() {
            req = req.child(
                Element::new("samlp:Scoping").children(
                    self.requester_ids
                        .iter()
                        .map(|r| Element::new("samlp:RequesterID").text(r)),
                ),
            );
        }
        let xml = req.to_xml();
        match signer {
            Some(signer) => signing::sign(&xml, signer),
            None => Ok(xml),
        }
    }
}

/// An AuthnRequest as received (parsed; its signature is checked by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedAuthnRequest {
    /// `ID`.
    pub id: String,
    /// `IssueInstant`.
    pub issue_instant: DateTime<Utc>,
    /// `Issuer`.
    pub issuer: String,
    /// `Destination`, if present.
    pub destination: Option<String>,
    /// `AssertionConsumerServiceURL`, if present.
    pub acs_url: Option<String>,
    /// `AssertionConsumerServiceIndex`, if present.
    pub acs_index: Option<u32>,
    /// `ProtocolBinding`, if present.
    pub protocol_binding: Option<String>,
    /// `ForceAuthn`.
    pub force_authn: bool,
    /// `IsPassive`.
    pub is_passive: bool,
    /// `RequestedAuthnContext`, if present.
    pub requested_authn_context: Option<RequestedAuthnContext>,
    /// `Scoping/RequesterID` values.
    pub requester_ids: Vec<String>,
    /// Whether the XML carries an enveloped `ds:Signature`.
    pub has_xml_signature: bool,
}

/// Parses an AuthnRequest, naming the first structural problem found.
pub fn parse(text: &str) -> Result<ReceivedAuthnRequest, SamlError> {
    let doc = xml::parse(text)?;
    let root = doc.root_element();
    let malformed = |reason: &str| SamlError::Malformed {
        expected: "AuthnRequest",
        reason: reason.to_string(),
    };
    if !xml::is(&root, NS_SAMLP, "AuthnRequest") {
        return Err(malformed(&format!(
            "the root element is `{}` in namespace `{}`",
            root.tag_name().name(),
            root.tag_name().namespace().unwrap_or("(none)")
        )));
    }
    if root.attribute("Version") != Some("2.0") {
        return Err(malformed("Version is not 2.0"));
    }
    let id = root
        .attribute("ID")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| malformed("it has no ID"))?
        .to_string();
    let issue_instant = root
        .attribute("IssueInstant")
        .ok_or_else(|| malformed("it has no IssueInstant"))
        .and_then(|v| {
            DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| malformed(&format!("IssueInstant=`{v}` is not a dateTime: {e}")))
        })?;
    let issuer = xml::child(&root, NS_SAML, "Issuer")
        .map(|n| xml::text_of(&n))
        .filter(|s| !s.is_empty())
        .ok_or_else(|| malformed("it has no Issuer"))?;
    let bool_attr = |name: &str| -> Result<bool, SamlError> {
        match root.attribute(name) {
            None | Some("false") | Some("0") => Ok(false),
            Some("true") | Some("1") => Ok(true),
            Some(other) => Err(malformed(&format!("{name}=`{other}` is not a boolean"))),
        }
    };
    let acs_index = match root.attribute("AssertionConsumerServiceIndex") {
        None => None,
        Some(v) => Some(
            v.parse()
                .map_err(|_| malformed("AssertionConsumerServiceIndex is not a number"))?,
        ),
    };
    let requested_authn_context =
        xml::child(&root, NS_SAMLP, "RequestedAuthnContext").map(|n| RequestedAuthnContext {
            comparison: n.attribute("Comparison").unwrap_or("exact").to_string(),
            class_refs: n
                .children()
                .filter(|c| xml::is(c, NS_SAML, "AuthnContextClassRef"))
                .map(|c| xml::text_of(&c))
                .collect(),
        });
    let requester_ids = xml::child(&root, NS_SAMLP, "Scoping")
        .map(|s| {
            s.children()
                .filter(|c| xml::is(c, NS_SAMLP, "RequesterID"))
                .map(|c| xml::text_of(&c))
                .collect()
        })
        .unwrap_or_default();
    Ok(ReceivedAuthnRequest {
        id,
        issue_instant,
        issuer,
        destination: root.attribute("Destination").map(str::to_string),
        acs_url: root
            .attribute("AssertionConsumerServiceURL")
            .map(str::to_string),
        acs_index,
        protocol_binding: root.attribute("ProtocolBinding").map(str::to_string),
        force_authn: bool_attr("ForceAuthn")?,
        is_passive: bool_attr("IsPassive")?,
        requested_authn_context,
        requester_ids,
        has_xml_signature: xml::child(&root, super::xml::NS_DS, "Signature").is_some(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> NewAuthnRequest {
        NewAuthnRequest {
            id: "_abc".into(),
            issue_instant: DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            destination: "https://idp/sso".into(),
            issuer: "https://sp".into(),
            acs_url: Some("https://sp/acs".into()),
            force_authn: true,
            is_passive: false,
            name_id_format: Some(super::super::NAMEID_X509.into()),
            requested_authn_context: Some(RequestedAuthnContext {
                comparison: "minimum".into(),
                class_refs: vec!["urn:dk:gov:saml:attribute:AssuranceLevel:3".into()],
            }),
            requester_ids: vec!["https://user-system".into()],
        }
    }

    #[test]
    fn built_request_parses_back_with_every_field() {
        let parsed = parse(&sample().to_xml(None).unwrap()).unwrap();
        assert_eq!(parsed.id, "_abc");
        assert_eq!(parsed.issuer, "https://sp");
        assert_eq!(parsed.destination.as_deref(), Some("https://idp/sso"));
        assert_eq!(parsed.acs_url.as_deref(), Some("https://sp/acs"));
        assert!(parsed.force_authn);
        assert_eq!(
            parsed.requester_ids,
            vec!["https://user-system".to_string()]
        );
        let rac = parsed.requested_authn_context.unwrap();
        assert_eq!(rac.comparison, "minimum");
        assert!(!parsed.has_xml_signature);
    }

    #[test]
    fn signed_request_verifies_with_the_signers_certificate() {
        let cred = Credential::from_pem(
            include_bytes!("../../keys/broker.key.pem"),
            include_bytes!("../../keys/broker.cert.pem"),
        )
        .unwrap();
        let xml = sample().to_xml(Some(&cred)).unwrap();
        let reduced = signing::verify_and_reduce(
            &xml,
            &[cred.trusted_cert()],
            signing::AlgorithmPolicy::default(),
        )
        .unwrap();
        // The reduced document is the signed content; the enveloped signature is not part of it.
        assert_eq!(parse(&reduced).unwrap().id, "_abc");
        assert!(parse(&xml).unwrap().has_xml_signature);
    }

    #[test]
    fn refuses_a_response_posted_as_a_request() {
        let err =
            parse(r#"<p:Response xmlns:p="urn:oasis:names:tc:SAML:2.0:protocol"/>"#).unwrap_err();
        assert!(matches!(
            err,
            SamlError::Malformed {
                expected: "AuthnRequest",
                ..
            }
        ));
    }
}
