//! Receiving a logout message: decode the binding and read it ([`receive_request`],
//! [`receive_response`]), then verify it ([`Unverified::verify`]) — the only way to a
//! [`Verified`] message.

use super::{Binding, Incoming, LogoutError, ParsedLogoutRequest, ParsedLogoutResponse};
use crate::saml::binding::{self, MessageKind, RedirectMessage};
use crate::saml::signing::{self, AlgorithmPolicy};
use crate::saml::soap::{read_soap, SoapBody};
use crate::saml::xml::{self, NS_DS, NS_SAML, NS_SAMLP};
use crate::saml::SamlError;
use crate::saml::TrustedCert;
use chrono::{DateTime, Duration, Utc};

/// A LogoutRequest as received, not yet verified.
pub type UnverifiedLogoutRequest = Unverified<ParsedLogoutRequest>;
/// A LogoutResponse as received, not yet verified.
pub type UnverifiedLogoutResponse = Unverified<ParsedLogoutResponse>;
/// A LogoutRequest whose signature, Destination and time passed [`Unverified::verify`].
pub type VerifiedLogoutRequest = Verified<ParsedLogoutRequest>;
/// A LogoutResponse whose signature, Destination and time passed [`Unverified::verify`].
pub type VerifiedLogoutResponse = Verified<ParsedLogoutResponse>;

/// Decodes and reads a LogoutRequest that arrived by any binding. `max_xml_bytes` bounds the
/// decoded XML (a DEFLATE bomb is refused, not inflated); the XML is read within
/// [`crate::xml_limits::XmlLimits::MESSAGE`].
pub fn receive_request(
    incoming: Incoming,
    max_xml_bytes: usize,
) -> Result<UnverifiedLogoutRequest, LogoutError> {
    receive(incoming, max_xml_bytes)
}

/// Decodes and reads a LogoutResponse that arrived by any binding (a SOAP fault is
/// [`LogoutError::SoapFault`]); bounds as [`receive_request`].
pub fn receive_response(
    incoming: Incoming,
    max_xml_bytes: usize,
) -> Result<UnverifiedLogoutResponse, LogoutError> {
    receive(incoming, max_xml_bytes)
}

mod sealed {
    /// Reading the element; not callable outside this module.
    pub trait Sealed: Sized {
        fn read(root: &roxmltree::Node<'_, '_>) -> Result<Self, super::LogoutError>;
    }
}

impl sealed::Sealed for ParsedLogoutRequest {
    fn read(root: &roxmltree::Node<'_, '_>) -> Result<Self, LogoutError> {
        ParsedLogoutRequest::read(root)
    }
}

impl sealed::Sealed for ParsedLogoutResponse {
    fn read(root: &roxmltree::Node<'_, '_>) -> Result<Self, LogoutError> {
        ParsedLogoutResponse::read(root)
    }
}

/// What [`Unverified`] and [`Verified`] hold: a LogoutRequest or a LogoutResponse.
pub trait LogoutMessage: sealed::Sealed + Clone + std::fmt::Debug {
    /// The element's local name.
    const ELEMENT: &'static str;
    /// Which query/form parameter carries it.
    const KIND: MessageKind;
    /// `ID` (the broker's replay key, with the Issuer).
    fn id(&self) -> &str;
    /// `Issuer` (the broker finds the sender's certificates by it).
    fn issuer(&self) -> &str;
    /// `Destination`, if present.
    fn destination(&self) -> Option<&str>;
    /// `IssueInstant`.
    fn issue_instant(&self) -> DateTime<Utc>;
    /// `NotOnOrAfter` (LogoutRequest only).
    fn not_on_or_after(&self) -> Option<DateTime<Utc>> {
        None
    }
}

impl LogoutMessage for ParsedLogoutRequest {
    const ELEMENT: &'static str = "LogoutRequest";
    const KIND: MessageKind = MessageKind::Request;
    fn id(&self) -> &str {
        &self.id
    }
    fn issuer(&self) -> &str {
        &self.issuer
    }
    fn destination(&self) -> Option<&str> {
        self.destination.as_deref()
    }
    fn issue_instant(&self) -> DateTime<Utc> {
        self.issue_instant
    }
    fn not_on_or_after(&self) -> Option<DateTime<Utc>> {
        self.not_on_or_after
    }
}

impl LogoutMessage for ParsedLogoutResponse {
    const ELEMENT: &'static str = "LogoutResponse";
    const KIND: MessageKind = MessageKind::Response;
    fn id(&self) -> &str {
        &self.id
    }
    fn issuer(&self) -> &str {
        &self.issuer
    }
    fn destination(&self) -> Option<&str> {
        self.destination.as_deref()
    }
    fn issue_instant(&self) -> DateTime<Utc> {
        self.issue_instant
    }
}

/// What verification needs; all of it comes from trust, configuration and the clock.
#[derive(Debug, Clone, Copy)]
pub struct Expectations<'a> {
    /// The Issuer's signing certificates from its metadata (step 2).
    pub trusted_certs: &'a [TrustedCert],
    /// Allowed signature algorithms (step 2).
    pub algorithms: AlgorithmPolicy,
    /// The URL of the endpoint the message arrived at (step 4).
    pub destination: &'a str,
    /// Now, from the injected clock (steps 5 and 6).
    pub now: DateTime<Utc>,
    /// Allowed clock skew (steps 5 and 6).
    pub clock_skew: Duration,
}

/// A logout message as received: read, but nothing of it is proven. Use [`Self::message`]
/// only to find the sender (Issuer) and the broker's state (ID, InResponseTo), then
/// [`Self::verify`].
#[derive(Debug, Clone)]
pub struct Unverified<M> {
    message: M,
    binding: Binding,
    relay_state: Option<String>,
    evidence: Evidence,
}

/// What the signature check works on.
#[derive(Debug, Clone)]
enum Evidence {
    /// HTTP-Redirect: the query string's signature over the raw octets.
    Query(RedirectMessage),
    /// HTTP-POST and SOAP: the decoded XML, and whether its root element carries a ds:Signature.
    Enveloped { xml: String, root_signed: bool },
}

/// A logout message that passed every check of [`Unverified::verify`], read only from what the
/// signature covers. Only `verify` makes one.
#[derive(Debug, Clone)]
pub struct Verified<M> {
    message: M,
    binding: Binding,
    relay_state: Option<String>,
}

impl<M: LogoutMessage> Verified<M> {
    /// The verified content.
    pub fn message(&self) -> &M {
        &self.message
    }

    /// The verified content, owned.
    pub fn into_message(self) -> M {
        self.message
    }

    /// The binding it came by.
    pub fn binding(&self) -> Binding {
        self.binding
    }

    /// RelayState, to return with the answer (covered by the query signature on Redirect; not
    /// signed on POST, as the binding defines).
    pub fn relay_state(&self) -> Option<&str> {
        self.relay_state.as_deref()
    }
}

/// The fields every logout message has (saml-core §3.2.1, §3.2.2).
pub(super) struct Header {
    pub id: String,
    pub issue_instant: DateTime<Utc>,
    pub issuer: String,
    pub destination: Option<String>,
}

/// Reads the root `samlp:<element>`'s ID, Version, IssueInstant, Issuer and Destination.
pub(super) fn read_header(
    root: &roxmltree::Node<'_, '_>,
    element: &'static str,
) -> Result<Header, LogoutError> {
    let malformed = |reason: String| SamlError::Malformed {
        expected: element,
        reason,
    };
    if !xml::is(root, NS_SAMLP, element) {
        return Err(malformed(format!(
            "the root element is `{}` in namespace `{}`",
            root.tag_name().name(),
            root.tag_name().namespace().unwrap_or("(none)")
        ))
        .into());
    }
    if root.attribute("Version") != Some("2.0") {
        return Err(malformed("Version is not 2.0".into()).into());
    }
    let id = root
        .attribute("ID")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| malformed("it has no ID".into()))?
        .to_string();
    let issue_instant = root
        .attribute("IssueInstant")
        .ok_or_else(|| malformed("it has no IssueInstant".into()))
        .and_then(|v| {
            DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| malformed(format!("IssueInstant=`{v}` is not a dateTime: {e}")))
        })?;
    let issuer = xml::child(root, NS_SAML, "Issuer")
        .map(|n| xml::text_of(&n))
        .filter(|s| !s.is_empty())
        .ok_or(LogoutError::MissingIssuer { element })?;
    Ok(Header {
        id,
        issue_instant,
        issuer,
        destination: root.attribute("Destination").map(str::to_string),
    })
}

fn receive<M: LogoutMessage>(
    incoming: Incoming,
    max_xml_bytes: usize,
) -> Result<Unverified<M>, LogoutError> {
    let (binding, xml, relay_state, redirect) = match incoming {
        Incoming::Redirect { raw_query } => {
            let mut msg = binding::decode_redirect(&raw_query, M::KIND, max_xml_bytes)?;
            let xml = std::mem::take(&mut msg.xml);
            (Binding::Redirect, xml, msg.relay_state.clone(), Some(msg))
        }
        Incoming::Post {
            message,
            relay_state,
        } => (
            Binding::Post,
            binding::decode_post(&message, max_xml_bytes)?,
            relay_state,
            None,
        ),
        Incoming::Soap { envelope } => {
            if envelope.len() > max_xml_bytes {
                return Err(SamlError::TooLarge {
                    limit: max_xml_bytes,
                }
                .into());
            }
            match read_soap(&envelope)? {
                SoapBody::Message(xml) => (Binding::Soap, xml, None, None),
                SoapBody::Fault { code, message } => {
                    return Err(LogoutError::SoapFault { code, message })
                }
            }
        }
    };
    // saml-bindings §3.4.3/§3.5.3: at most 80 bytes, refused before anything else is read.
    if let Some(length) = relay_state.as_ref().map(String::len).filter(|l| *l > 80) {
        return Err(LogoutError::RelayStateTooLong { length });
    }
    let (message, root_signed) = {
        let doc = xml::parse(&xml)?;
        let root = doc.root_element();
        let message = <M as sealed::Sealed>::read(&root)?;
        (message, xml::child(&root, NS_DS, "Signature").is_some())
    };
    let evidence = match redirect {
        Some(msg) => Evidence::Query(msg),
        None => Evidence::Enveloped { xml, root_signed },
    };
    Ok(Unverified {
        message,
        binding,
        relay_state,
        evidence,
    })
}

impl<M: LogoutMessage> Unverified<M> {
    /// What the message says — not verified: only for finding its sender and the broker's state.
    pub fn message(&self) -> &M {
        &self.message
    }

    /// The binding it came by.
    pub fn binding(&self) -> Binding {
        self.binding
    }

    /// RelayState, as received.
    pub fn relay_state(&self) -> Option<&str> {
        self.relay_state.as_deref()
    }

    /// Verifies the message against its sender's certificates and the endpoint it arrived at
    /// (saml-profiles §4.4.3, §4.4.4; saml-bindings §3.4.5.2, §3.5.5.2), in the steps numbered
    /// in the code: 1 signed as the binding requires, 2 the signature valid with a trusted
    /// certificate by an allowed algorithm and shape, 3 the signed content is the message read,
    /// 4 Destination, 5 IssueInstant within the skew, 6 a request's NotOnOrAfter. Step 3 cannot
    /// fail for HTTP-Redirect, and for POST/SOAP only if the reduction ever returned anything but
    /// the root (defence in depth, as for AuthnRequests).
    pub fn verify(self, expect: &Expectations<'_>) -> Result<Verified<M>, LogoutError> {
        let element = M::ELEMENT;
        let issuer = self.message.issuer().to_string();
        let unsigned = || LogoutError::Unsigned {
            element,
            issuer: issuer.clone(),
            binding: self.binding,
        };
        let refused = |reason: SamlError| LogoutError::Signature {
            issuer: issuer.clone(),
            reason,
        };
        let message = match &self.evidence {
            Evidence::Query(msg) => {
                // 1. Signed: `Signature` and `SigAlg` in the query string (saml-bindings
                //    §3.4.4.1); an XML signature inside does not count for this binding.
                if !msg.is_signed() || msg.sig_alg.is_none() {
                    return Err(unsigned());
                }
                // 2. The signature verifies with one of the sender's certificates, by an allowed
                //    algorithm.
                let mut last = SamlError::NoTrustedCertificate;
                let verified = expect.trusted_certs.iter().any(|cert| {
                    match msg.verify(cert.public_key(), expect.algorithms) {
                        Ok(()) => true,
                        Err(e) => {
                            last = e;
                            false
                        }
                    }
                });
                if !verified {
                    return Err(refused(last));
                }
                // 3. The query signature covers the whole DEFLATEd XML: what was read is what
                //    was signed.
                self.message.clone()
            }
            Evidence::Enveloped { xml, root_signed } => {
                // 1. Signed: an enveloped ds:Signature on the message element itself.
                if !root_signed {
                    return Err(unsigned());
                }
                // 2. Every signature has the one shape chsim verifies (check_shape, before
                //    xmlsec sees anything) and verifies with the sender's certificates; the
                //    document is reduced to the signed content.
                let reduced =
                    signing::verify_and_reduce(xml, expect.trusted_certs, expect.algorithms)
                        .map_err(refused)?;
                // 3. Only the reduced text is read from here on, and it must be this message.
                let mismatch =
                    |reason: String| LogoutError::SignedContentMismatch { element, reason };
                let rdoc = xml::parse(&reduced)?;
                let rroot = rdoc.root_element();
                if !xml::is(&rroot, NS_SAMLP, element) {
                    return Err(mismatch(format!(
                        "the signature covers a `{}`",
                        rroot.tag_name().name()
                    )));
                }
                let signed = <M as sealed::Sealed>::read(&rroot)?;
                if signed.id() != self.message.id() || signed.issuer() != issuer {
                    return Err(mismatch(format!(
                        "the signed {element} is `{}` from `{}`, the one read is `{}` from `{issuer}`",
                        signed.id(),
                        signed.issuer(),
                        self.message.id()
                    )));
                }
                signed
            }
        };
        // 4. Destination is the endpoint it arrived at. Required for the browser bindings
        //    (saml-bindings §3.4.5.2, §3.5.5.2); a SOAP message may leave it out (§3.2), but
        //    one it names must be this endpoint.
        match message.destination() {
            Some(d) if d == expect.destination => {}
            None if self.binding == Binding::Soap => {}
            found => {
                return Err(LogoutError::WrongDestination {
                    expected: expect.destination.to_string(),
                    found: found.unwrap_or_default().to_string(),
                })
            }
        }
        // 5. IssueInstant within the clock skew of now, either way.
        let skew_seconds = expect.clock_skew.num_seconds();
        if (message.issue_instant() - expect.now).abs() > expect.clock_skew {
            return Err(LogoutError::StaleIssueInstant {
                issue_instant: message.issue_instant(),
                now: expect.now,
                skew_seconds,
            });
        }
        // 6. A LogoutRequest's NotOnOrAfter has not passed (saml-core §3.7.1).
        if let Some(not_on_or_after) = message.not_on_or_after() {
            if expect.now >= not_on_or_after + expect.clock_skew {
                return Err(LogoutError::Expired {
                    not_on_or_after,
                    now: expect.now,
                    skew_seconds,
                });
            }
        }
        Ok(Verified {
            message,
            binding: self.binding,
            relay_state: self.relay_state,
        })
    }
}
