//! XML-DSig signing and verification through samael's xmlsec bindings.
//!
//! Signing fills a `ds:Signature` template that sits inside the element to be signed (rsa-sha256,
//! SHA-256 digest, exclusive c14n — reference §3.2). Verification checks every signature with the
//! trusted certificates only and returns the document *reduced to what the signatures cover*
//! (samael's signature-wrapping defence); callers must read only that reduced text.
//!
//! Keys are the xmlsec keys decoded once in [`Credential`] and [`TrustedCert`] (issue #10 §2).
//! Before xmlsec sees a document, [`check_shape`] admits only the one signature shape SAML uses;
//! xmlsec's own signature context is restricted as well (same-document references, the SAML
//! transforms, no manifests — the vendored samael patch), as a second line behind it.

use super::keys::{Credential, TrustedCert};
use super::xml::{self, Element, NS_DS};
use super::SamlError;
use crate::xml_limits::XmlLimits;
use samael::crypto::{AllowedSignatureAlgorithm, Crypto, ReduceMode, XmlSecKey};

/// rsa-sha256 SignatureMethod.
pub const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
/// rsa-sha1 SignatureMethod (only with `insecure_allow_sha1`).
pub const RSA_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
const SHA1: &str = "http://www.w3.org/2000/09/xmldsig#sha1";
const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";

/// The signature and digest algorithms chsim accepts by default (strongest first).
const STRONG: &[AllowedSignatureAlgorithm] = &[
    AllowedSignatureAlgorithm::RsaSha256,
    AllowedSignatureAlgorithm::RsaSha384,
    AllowedSignatureAlgorithm::RsaSha512,
    AllowedSignatureAlgorithm::EcdsaSha256,
    AllowedSignatureAlgorithm::EcdsaSha384,
    AllowedSignatureAlgorithm::EcdsaSha512,
];

/// Which signature algorithms verification accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AlgorithmPolicy {
    /// Accept rsa-sha1 signatures and SHA-1 digests (`insecure_allow_sha1`).
    pub allow_sha1: bool,
    /// Accept RSA 1.5 key transport in encrypted assertions (`insecure_allow_rsa1_5`).
    pub allow_rsa1_5: bool,
}

impl AlgorithmPolicy {
    fn allows_signature(&self, uri: &str) -> bool {
        STRONG.iter().any(|a| a.signature_uri() == uri) || (self.allow_sha1 && uri == RSA_SHA1)
    }
    fn allows_digest(&self, uri: &str) -> bool {
        STRONG.iter().any(|a| a.digest_uri() == uri) || (self.allow_sha1 && uri == SHA1)
    }
}

/// An enveloped-signature template for the element whose `ID` is `reference_id`. Put it right after
/// that element's `Issuer` and call [`sign`] on the finished document.
pub fn template(reference_id: &str, cert_base64: &str) -> Element {
    Element::new("ds:Signature")
        .attr("xmlns:ds", NS_DS)
        .child(
            Element::new("ds:SignedInfo")
                .child(Element::new("ds:CanonicalizationMethod").attr("Algorithm", EXC_C14N))
                .child(Element::new("ds:SignatureMethod").attr("Algorithm", RSA_SHA256))
                .child(
                    Element::new("ds:Reference")
                        .attr("URI", format!("#{reference_id}"))
                        .child(
                            Element::new("ds:Transforms")
                                .child(Element::new("ds:Transform").attr("Algorithm", ENVELOPED))
                                .child(Element::new("ds:Transform").attr("Algorithm", EXC_C14N)),
                        )
                        .child(Element::new("ds:DigestMethod").attr("Algorithm", SHA256))
                        .child(Element::new("ds:DigestValue")),
                ),
        )
        .child(Element::new("ds:SignatureValue"))
        .child(Element::new("ds:KeyInfo").child(
            Element::new("ds:X509Data").child(Element::new("ds:X509Certificate").text(cert_base64)),
        ))
}

/// Signs every signature template in `document` with `signer`'s key (xmlsec, ID attribute `ID`).
pub fn sign(document: &str, signer: &Credential) -> Result<String, SamlError> {
    Crypto::sign_xml_with_key(document, signer.xmlsec_key()).map_err(|e| SamlError::Signing {
        reason: e.to_string(),
    })
}

/// Verifies every signature in `document` against `trusted` and returns the document reduced to
/// its signed content. Fails with [`SamlError::NotSigned`] when there is no signature,
/// [`SamlError::WeakSignatureAlgorithm`] when an algorithm is not allowed, and
/// [`SamlError::BadSignature`] when a signature does not verify with any trusted certificate.
pub fn verify_and_reduce(
    document: &str,
    trusted: &[TrustedCert],
    policy: AlgorithmPolicy,
) -> Result<String, SamlError> {
    verify_and_reduce_within(document, trusted, policy, &XmlLimits::MESSAGE)
}

/// [`verify_and_reduce`] for a document bounded by other limits (signed metadata aggregates use
/// [`XmlLimits::METADATA`]).
pub fn verify_and_reduce_within(
    document: &str,
    trusted: &[TrustedCert],
    policy: AlgorithmPolicy,
    limits: &XmlLimits,
) -> Result<String, SamlError> {
    check_shape(document, policy, limits)?;
    verify_and_reduce_unchecked(document, trusted, policy)
}

/// [`verify_and_reduce`] without the shape rules of [`check_shape`], for a caller that has
/// already run [`check_shape`] over a document of which `document` is a verbatim subtree (as
/// [`xml::standalone_subtree`] cuts it): every signature, ID and `Manifest` in the subtree was
/// checked there, so it is not parsed and checked again. The message limits are still applied
/// (a streaming pass, no tree), because the extraction adds the inherited namespace declarations
/// to the subtree's root element, and they count against its attribute limit.
pub(crate) fn verify_and_reduce_shaped(
    document: &str,
    trusted: &[TrustedCert],
    policy: AlgorithmPolicy,
) -> Result<String, SamlError> {
    crate::xml_limits::check(document, &XmlLimits::MESSAGE)?;
    verify_and_reduce_unchecked(document, trusted, policy)
}

/// The verification itself: samael's reduction with the trusted keys and allowed algorithms.
fn verify_and_reduce_unchecked(
    document: &str,
    trusted: &[TrustedCert],
    policy: AlgorithmPolicy,
) -> Result<String, SamlError> {
    if trusted.is_empty() {
        // samael would skip verification without a certificate; chsim never does.
        return Err(SamlError::NoTrustedCertificate);
    }
    let keys: Vec<&XmlSecKey> = trusted.iter().map(TrustedCert::xmlsec_key).collect();
    let allowed: Option<&[AllowedSignatureAlgorithm]> = if policy.allow_sha1 {
        // samael has no SHA-1 entry; the pre-check above enforced the policy instead.
        None
    } else {
        Some(STRONG)
    };
    Crypto::reduce_xml_to_signed_with_keys(
        document,
        &keys,
        ReduceMode::ValidateAndMarkNoAncestors,
        allowed,
    )
    .map_err(|e| SamlError::BadSignature {
        reason: e.to_string(),
    })
}

/// Issue #8 §2: xmlsec dereferences every `ds:Reference` URI, runs its transforms and reads
/// `KeyInfo` *before* it checks the SignatureValue, so an unsigned stranger's `ds:Signature` could
/// make chsim fetch URLs, read files or burn CPU. Before xmlsec sees a document, every signature
/// in it must have the one shape SAML uses (saml-core §5.4): a `SignedInfo` with exclusive c14n,
/// an allowed `SignatureMethod`, exactly one `Reference` whose URI is `#` + the ID of the element
/// that carries the signature, transforms only enveloped-signature and exclusive c14n (with its
/// `InclusiveNamespaces`), an allowed `DigestMethod`; no `ds:Object`, `Manifest` or
/// `RetrievalMethod`; a `KeyInfo` holding only `X509Data`, `KeyName` or `KeyValue`; and no ID
/// value used twice in the document. Also refuses a document without signatures
/// ([`SamlError::NotSigned`]) and names a forbidden algorithm
/// ([`SamlError::WeakSignatureAlgorithm`]).
pub fn check_shape(
    document: &str,
    policy: AlgorithmPolicy,
    limits: &XmlLimits,
) -> Result<(), SamlError> {
    check_shape_of(&xml::parse_with(document, limits)?, policy)
}

/// [`check_shape`] of a document already parsed within the limits it must keep (by
/// [`xml::parse`] or [`xml::parse_with`]), so that a caller holding the parse does not parse the
/// same text again.
pub(crate) fn check_shape_of(
    doc: &roxmltree::Document<'_>,
    policy: AlgorithmPolicy,
) -> Result<(), SamlError> {
    let shape = |reason: String| SamlError::SignatureShape { reason };
    let mut ids = std::collections::HashSet::new();
    for node in doc.descendants().filter(|n| n.is_element()) {
        if let Some(id) = node.attribute("ID") {
            if !ids.insert(id) {
                return Err(shape(format!("the ID `{id}` is used by two elements")));
            }
        }
        if xml::is(&node, NS_DS, "Manifest") {
            return Err(shape("the document contains a ds:Manifest".into()));
        }
    }
    let signatures: Vec<_> = doc
        .descendants()
        .filter(|n| xml::is(n, NS_DS, "Signature"))
        .collect();
    if signatures.is_empty() {
        return Err(SamlError::NotSigned);
    }
    for sig in signatures {
        let parent = sig
            .parent_element()
            .ok_or_else(|| shape("the signature is the document element".into()))?;
        let parent_name = parent.tag_name().name();
        let parent_id = parent
            .attribute("ID")
            .filter(|id| !id.is_empty())
            .ok_or_else(|| {
                shape(format!(
                    "the element `{parent_name}` that carries the signature has no ID"
                ))
            })?;
        if let Some(bad) = sig
            .descendants()
            .find(|n| xml::is(n, NS_DS, "Object") || xml::is(n, NS_DS, "RetrievalMethod"))
        {
            return Err(shape(format!(
                "the signature contains a ds:{}",
                bad.tag_name().name()
            )));
        }
        let children = element_children(&sig);
        let names: Vec<&str> = children.iter().map(|c| c.tag_name().name()).collect();
        let ds_only = children
            .iter()
            .all(|c| c.tag_name().namespace() == Some(NS_DS));
        if !ds_only
            || !(names == ["SignedInfo", "SignatureValue"]
                || names == ["SignedInfo", "SignatureValue", "KeyInfo"])
        {
            return Err(shape(format!(
                "the signature holds {names:?}; expected SignedInfo, SignatureValue and optionally KeyInfo"
            )));
        }
        check_signed_info(&children[0], parent_id, policy)?;
        if let Some(key_info) = children.get(2) {
            for c in element_children(key_info) {
                let allowed = c.tag_name().namespace() == Some(NS_DS)
                    && matches!(c.tag_name().name(), "X509Data" | "KeyName" | "KeyValue");
                if !allowed {
                    return Err(shape(format!(
                        "KeyInfo holds `{}`; only X509Data, KeyName and KeyValue are allowed",
                        c.tag_name().name()
                    )));
                }
            }
        }
    }
    Ok(())
}

/// `SignedInfo`: exclusive c14n, an allowed SignatureMethod, one Reference to `#parent_id`.
fn check_signed_info(
    signed_info: &roxmltree::Node<'_, '_>,
    parent_id: &str,
    policy: AlgorithmPolicy,
) -> Result<(), SamlError> {
    let shape = |reason: String| SamlError::SignatureShape { reason };
    let children = element_children(signed_info);
    let names: Vec<&str> = children.iter().map(|c| c.tag_name().name()).collect();
    if names != ["CanonicalizationMethod", "SignatureMethod", "Reference"]
        || !children
            .iter()
            .all(|c| c.tag_name().namespace() == Some(NS_DS))
    {
        return Err(shape(format!(
            "SignedInfo holds {names:?}; expected CanonicalizationMethod, SignatureMethod and exactly one Reference"
        )));
    }
    let c14n = children[0].attribute("Algorithm").unwrap_or("");
    if c14n != EXC_C14N {
        return Err(shape(format!(
            "CanonicalizationMethod is `{c14n}`; only exclusive c14n ({EXC_C14N}) is allowed"
        )));
    }
    if element_children(&children[0])
        .iter()
        .any(|c| !xml::is(c, EXC_C14N, "InclusiveNamespaces"))
    {
        return Err(shape(
            "CanonicalizationMethod holds something other than InclusiveNamespaces".into(),
        ));
    }
    let alg = children[1].attribute("Algorithm").unwrap_or("");
    if !policy.allows_signature(alg) {
        return Err(SamlError::WeakSignatureAlgorithm {
            found: alg.to_string(),
        });
    }
    let reference = &children[2];
    let uri = reference.attribute("URI").unwrap_or("");
    if uri != format!("#{parent_id}") {
        return Err(shape(format!(
            "the Reference URI is `{uri}`; it must be `#{parent_id}`, the ID of the signed element"
        )));
    }
    if reference.attribute("Type").is_some() {
        return Err(shape("the Reference has a Type attribute".into()));
    }
    let parts = element_children(reference);
    let names: Vec<&str> = parts.iter().map(|c| c.tag_name().name()).collect();
    let (transforms, digest) = match names.as_slice() {
        ["Transforms", "DigestMethod", "DigestValue"] => (Some(&parts[0]), &parts[1]),
        ["DigestMethod", "DigestValue"] => (None, &parts[0]),
        _ => {
            return Err(shape(format!(
                "the Reference holds {names:?}; expected Transforms, DigestMethod and DigestValue"
            )))
        }
    };
    if !parts
        .iter()
        .all(|c| c.tag_name().namespace() == Some(NS_DS))
    {
        return Err(shape(
            "the Reference holds elements outside XML-DSig".into(),
        ));
    }
    let alg = digest.attribute("Algorithm").unwrap_or("");
    if !policy.allows_digest(alg) {
        return Err(SamlError::WeakSignatureAlgorithm {
            found: alg.to_string(),
        });
    }
    if let Some(transforms) = transforms {
        let list = element_children(transforms);
        if list.is_empty() || list.len() > 2 {
            return Err(shape(format!(
                "the Reference has {} transforms; one or two are allowed",
                list.len()
            )));
        }
        let mut seen = Vec::new();
        for t in &list {
            let alg = t.attribute("Algorithm").unwrap_or("");
            let known = xml::is(t, NS_DS, "Transform") && (alg == ENVELOPED || alg == EXC_C14N);
            if !known || seen.contains(&alg) {
                return Err(shape(format!(
                    "transform `{alg}` is not allowed (only enveloped-signature and exclusive c14n, each once)"
                )));
            }
            seen.push(alg);
            let inner = element_children(t);
            let inner_ok = match alg {
                EXC_C14N => inner
                    .iter()
                    .all(|c| xml::is(c, EXC_C14N, "InclusiveNamespaces")),
                _ => inner.is_empty(),
            };
            if !inner_ok || inner.len() > 1 {
                return Err(shape(format!(
                    "transform `{alg}` holds elements other than one InclusiveNamespaces"
                )));
            }
        }
    }
    Ok(())
}

fn element_children<'a, 'i>(node: &roxmltree::Node<'a, 'i>) -> Vec<roxmltree::Node<'a, 'i>> {
    node.children().filter(|c| c.is_element()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn broker() -> Credential {
        Credential::from_pem(
            include_bytes!("../../keys/broker.key.pem"),
            include_bytes!("../../keys/broker.cert.pem"),
        )
        .unwrap()
    }

    /// A document whose one Reference has `uri` and `transforms`, signed by xmlsec without any
    /// restriction (signing is not restricted; only verification is).
    fn signed_document(cred: &Credential, uri: &str, transforms: &str) -> String {
        let doc = format!(
            r##"<r:Root xmlns:r="urn:r" ID="_a"><r:Issuer>x</r:Issuer><ds:Signature xmlns:ds="{NS_DS}"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="{EXC_C14N}"/><ds:SignatureMethod Algorithm="{RSA_SHA256}"/><ds:Reference URI="{uri}"><ds:Transforms>{transforms}</ds:Transforms><ds:DigestMethod Algorithm="{SHA256}"/><ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/></ds:Signature><r:Body>hello</r:Body></r:Root>"##
        );
        sign(&doc, cred).unwrap()
    }

    const SAML_TRANSFORMS: &str = r#"<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>"#;

    #[test]
    fn keys_loaded_once_sign_and_verify_from_many_threads_at_once() {
        let cred = broker();
        let trusted = [cred.trusted_cert()];
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for _ in 0..25 {
                        let signed = signed_document(&cred, "#_a", SAML_TRANSFORMS);
                        let reduced =
                            verify_and_reduce(&signed, &trusted, AlgorithmPolicy::default())
                                .unwrap();
                        assert!(reduced.contains("hello"), "{reduced}");
                    }
                });
            }
        });
    }

    #[test]
    fn xmlsec_itself_refuses_a_transform_outside_the_saml_profile() {
        // Behind check_shape, the xmlsec context is restricted too (issue #8 §2): a genuinely
        // signed document with an XPath transform does not verify even when the shape check is
        // skipped, while the same document with SAML's transforms does.
        let cred = broker();
        let trusted = [cred.trusted_cert()];
        let plain = signed_document(&cred, "#_a", SAML_TRANSFORMS);
        verify_and_reduce_unchecked(&plain, &trusted, AlgorithmPolicy::default()).unwrap();
        let xpath = signed_document(
            &cred,
            "#_a",
            r#"<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"><ds:XPath>not(ancestor-or-self::ds:Signature)</ds:XPath></ds:Transform>"#,
        );
        assert!(matches!(
            check_shape(&xpath, AlgorithmPolicy::default(), &XmlLimits::MESSAGE),
            Err(SamlError::SignatureShape { .. })
        ));
        assert!(matches!(
            verify_and_reduce_unchecked(&xpath, &trusted, AlgorithmPolicy::default()),
            Err(SamlError::BadSignature { .. })
        ));
    }

    #[test]
    fn xmlsec_itself_fetches_nothing_for_an_external_reference() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}/x", listener.local_addr().unwrap());
        let cred = broker();
        let doc = format!(
            r#"<r:Root xmlns:r="urn:r" ID="_a"><ds:Signature xmlns:ds="{NS_DS}"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="{EXC_C14N}"/><ds:SignatureMethod Algorithm="{RSA_SHA256}"/><ds:Reference URI="{url}"><ds:DigestMethod Algorithm="{SHA256}"/><ds:DigestValue>AAAA</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue>AAAA</ds:SignatureValue></ds:Signature></r:Root>"#
        );
        let result =
            verify_and_reduce_unchecked(&doc, &[cred.trusted_cert()], AlgorithmPolicy::default());
        assert!(matches!(result, Err(SamlError::BadSignature { .. })));
        match listener.accept() {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            other => panic!("xmlsec connected to {url}: {other:?}"),
        }
    }
}
