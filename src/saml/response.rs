//! Building SAML Responses and Assertions (saml-core §2.3.3, §3.3.3; reference §3.2 for what chsim
//! issues to user systems). One builder serves chsim and its built-in parties; what differs
//! (attribute profile, NameFormat, which element is signed, encryption) is data.
//!
//! Signing happens on the finished document, never on a subtree that is then spliced elsewhere
//! (samael-notes: moving a signed element breaks its signature). An encrypted assertion is signed
//! as its own document first; the ciphertext is then opaque to the enclosing Response.

use super::encryption::{self, EncryptionSuite};
use super::xml::{Element, NS_SAML, NS_SAMLP, NS_XS, NS_XSI};
use super::{signing, status, Credential, SamlError, CM_BEARER};
use chrono::{DateTime, SecondsFormat, Utc};
use openssl::x509::X509;

/// One attribute with its values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttribute {
    /// `Name`.
    pub name: String,
    /// `NameFormat` URI.
    pub name_format: String,
    /// `FriendlyName`, if any.
    pub friendly_name: Option<String>,
    /// Values (each an `xs:string` AttributeValue).
    pub values: Vec<String>,
}

/// The content of an assertion to issue.
#[derive(Debug, Clone)]
pub struct NewAssertion {
    /// `ID`.
    pub id: String,
    /// `IssueInstant` and `AuthnInstant` default.
    pub issue_instant: DateTime<Utc>,
    /// `Issuer`.
    pub issuer: String,
    /// NameID value.
    pub name_id: String,
    /// NameID `Format`.
    pub name_id_format: String,
    /// SubjectConfirmationData `InResponseTo`.
    pub in_response_to: Option<String>,
    /// SubjectConfirmationData `Recipient` (the ACS).
    pub recipient: String,
    /// Conditions `NotBefore`.
    pub not_before: DateTime<Utc>,
    /// Conditions and SubjectConfirmationData `NotOnOrAfter`.
    pub not_on_or_after: DateTime<Utc>,
    /// The `Audience`.
    pub audience: String,
    /// `AuthnInstant`.
    pub authn_instant: DateTime<Utc>,
    /// `SessionIndex`.
    pub session_index: Option<String>,
    /// `AuthnContextClassRef`.
    pub authn_context_class_ref: String,
    /// `AuthenticatingAuthority` (the municipal IdP, when chsim brokers).
    pub authenticating_authority: Option<String>,
    /// Attributes, in order.
    pub attributes: Vec<NewAttribute>,
}

/// A SAML status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// Top-level code.
    pub code: String,
    /// Second-level code.
    pub sub_code: Option<String>,
    /// Human-readable message.
    pub message: Option<String>,
}

impl Status {
    /// `Success`.
    pub fn success() -> Self {
        Self {
            code: status::SUCCESS.to_string(),
            sub_code: None,
            message: None,
        }
    }

    /// True for top-level `Success`.
    pub fn is_success(&self) -> bool {
        self.code == status::SUCCESS
    }

    /// The `samlp:Status` element (saml-core §3.2.2.1), for any protocol response.
    pub(crate) fn element(&self) -> Element {
        let mut code = Element::new("samlp:StatusCode").attr("Value", &self.code);
        if let Some(sub) = &self.sub_code {
            code = code.child(Element::new("samlp:StatusCode").attr("Value", sub));
        }
        let mut status = Element::new("samlp:Status").child(code);
        if let Some(msg) = &self.message {
            status = status.child(Element::new("samlp:StatusMessage").text(msg));
        }
        status
    }
}

/// The envelope of a Response to issue.
#[derive(Debug, Clone)]
pub struct NewResponse {
    /// `ID`.
    pub id: String,
    /// `IssueInstant`.
    pub issue_instant: DateTime<Utc>,
    /// `Destination` (the ACS).
    pub destination: String,
    /// `InResponseTo`.
    pub in_response_to: Option<String>,
    /// `Issuer`.
    pub issuer: String,
    /// `Status`.
    pub status: Status,
}

/// Which element of a Response carries the signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedElement {
    /// Only the Assertion (Context Handler 2 towards user systems, OS2faktor towards CH).
    Assertion,
    /// Only the Response (the Safewhere IdP→CH2 sample).
    Response,
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl NewAssertion {
    /// The Assertion element; with `signer`, a signature template follows the Issuer.
    fn element(&self, signer: Option<&Credential>) -> Element {
        let mut a = Element::new("saml:Assertion")
            .attr("xmlns:saml", NS_SAML)
            .attr("xmlns:xs", NS_XS)
            .attr("xmlns:xsi", NS_XSI)
            .attr("ID", &self.id)
            .attr("Version", "2.0")
            .attr("IssueInstant", ts(self.issue_instant))
            .child(Element::new("saml:Issuer").text(&self.issuer));
        if let Some(signer) = signer {
            a = a.child(signing::template(&self.id, &signer.cert_base64()));
        }
        let attributes = self.attributes.iter().map(|attr| {
            Element::new("saml:Attribute")
                .attr("Name", &attr.name)
                .attr("NameFormat", &attr.name_format)
                .attr_opt("FriendlyName", attr.friendly_name.clone())
                .children(attr.values.iter().map(|v| {
                    Element::new("saml:AttributeValue")
                        .attr("xsi:type", "xs:string")
                        .text(v)
                }))
        });
        let mut authn_context = Element::new("saml:AuthnContext")
            .child(Element::new("saml:AuthnContextClassRef").text(&self.authn_context_class_ref));
        if let Some(aa) = &self.authenticating_authority {
            authn_context =
                authn_context.child(Element::new("saml:AuthenticatingAuthority").text(aa));
        }
        a.child(
            Element::new("saml:Subject")
                .child(
                    Element::new("saml:NameID")
                        .attr("Format", &self.name_id_format)
                        .text(&self.name_id),
                )
                .child(
                    Element::new("saml:SubjectConfirmation")
                        .attr("Method", CM_BEARER)
                        .child(
                            Element::new("saml:SubjectConfirmationData")
                                .attr_opt("InResponseTo", self.in_response_to.clone())
                                .attr("NotOnOrAfter", ts(self.not_on_or_after))
                                .attr("Recipient", &self.recipient),
                        ),
                ),
        )
        .child(
            Element::new("saml:Conditions")
                .attr("NotBefore", ts(self.not_before))
                .attr("NotOnOrAfter", ts(self.not_on_or_after))
                .child(
                    Element::new("saml:AudienceRestriction")
                        .child(Element::new("saml:Audience").text(&self.audience)),
                ),
        )
        .child(
            Element::new("saml:AuthnStatement")
                .attr("AuthnInstant", ts(self.authn_instant))
                .attr_opt("SessionIndex", self.session_index.clone())
                .child(authn_context),
        )
        .child(Element::new("saml:AttributeStatement").children(attributes))
    }

    /// The assertion alone, signed, as the text of an element (no XML declaration).
    pub fn to_signed_xml(&self, signer: &Credential) -> Result<String, SamlError> {
        let signed = signing::sign(&self.element(Some(signer)).to_xml(), signer)?;
        Ok(strip_declaration(&signed).to_string())
    }
}

/// Removes a leading `<?xml …?>` declaration (libxml2 adds one when it serialises a document).
pub fn strip_declaration(xml: &str) -> &str {
    let trimmed = xml.trim_start();
    if trimmed.starts_with("<?xml") {
        if let Some(end) = trimmed.find("?>") {
            return trimmed[end + 2..].trim_start();
        }
    }
    trimmed
}

/// Encryption of the assertion toward the recipient.
#[derive(Debug, Clone, Copy)]
pub struct EncryptFor<'a> {
    /// The recipient's encryption certificate.
    pub cert: &'a X509,
    /// The algorithms.
    pub suite: EncryptionSuite,
}

/// The Response element with Issuer, optional signature template and Status.
fn envelope(response: &NewResponse, signer: Option<&Credential>) -> Element {
    let mut r = Element::new("samlp:Response")
        .attr("xmlns:samlp", NS_SAMLP)
        .attr("xmlns:saml", NS_SAML)
        .attr("ID", &response.id)
        .attr("Version", "2.0")
        .attr("IssueInstant", ts(response.issue_instant))
        .attr("Destination", &response.destination)
        .attr_opt("InResponseTo", response.in_response_to.clone())
        .child(Element::new("saml:Issuer").text(&response.issuer));
    if let Some(signer) = signer {
        r = r.child(signing::template(&response.id, &signer.cert_base64()));
    }
    r.child(response.status.element())
}

/// Builds and signs a complete Response. `assertion` is `None` for a non-success status.
pub fn build(
    response: &NewResponse,
    assertion: Option<&NewAssertion>,
    signer: &Credential,
    signed: SignedElement,
    encrypt: Option<EncryptFor<'_>>,
) -> Result<String, SamlError> {
    let sign_response = signed == SignedElement::Response || assertion.is_none();
    let r = envelope(response, sign_response.then_some(signer));
    let Some(assertion) = assertion else {
        return signing::sign(&r.to_xml(), signer);
    };
    match encrypt {
        Some(enc) => {
            let plain = if sign_response {
                assertion.element(None).to_xml()
            } else {
                assertion.to_signed_xml(signer)?
            };
            let encrypted = encryption::encrypt_assertion(&plain, enc.cert, enc.suite)
                .map_err(|e| SamlError::Encryption(e.to_string()))?;
            // The EncryptedAssertion is opaque text; splice it in after building the envelope.
            let marker = "<chsim-encrypted-assertion-placeholder/>";
            let shell = r
                .child(Element::new("chsim-encrypted-assertion-placeholder"))
                .to_xml();
            let doc = shell.replacen(marker, &encrypted, 1);
            if sign_response {
                signing::sign(&doc, signer)
            } else {
                Ok(doc)
            }
        }
        None => {
            let doc = r
                .child(assertion.element((!sign_response).then_some(signer)))
                .to_xml();
            signing::sign(&doc, signer)
        }
    }
}

/// The unsigned document with its signature template in place (plain assertion only): what
/// [`build`] signs. Tests use it to craft deliberately different signatures (e.g. SHA-1).
pub fn build_unsigned(
    response: &NewResponse,
    assertion: &NewAssertion,
    signer: &Credential,
    signed: SignedElement,
) -> String {
    let sign_response = signed == SignedElement::Response;
    let mut r = envelope(response, sign_response.then_some(signer));
    r = r.child(assertion.element((!sign_response).then_some(signer)));
    r.to_xml()
}
