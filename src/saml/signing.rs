//! XML-DSig signing and verification through samael's xmlsec bindings.
//!
//! Signing fills a `ds:Signature` template that sits inside the element to be signed (rsa-sha256,
//! SHA-256 digest, exclusive c14n — reference §3.2). Verification checks every signature with the
//! trusted certificates only and returns the document *reduced to what the signatures cover*
//! (samael's signature-wrapping defence); callers must read only that reduced text.

use super::xml::{self, Element, NS_DS};
use super::SamlError;
use samael::crypto::{
    AllowedSignatureAlgorithm, CertificateDer, Crypto, CryptoProvider, ReduceMode,
};

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

/// Signs every signature template in `document` with `key_der` (xmlsec, ID attribute `ID`).
pub fn sign(document: &str, key_der: &[u8]) -> Result<String, SamlError> {
    Crypto::sign_xml(document, key_der).map_err(|e| SamlError::Signing {
        reason: e.to_string(),
    })
}

/// Verifies every signature in `document` against `trusted_certs_der` and returns the document
/// reduced to its signed content. Fails with [`SamlError::NotSigned`] when there is no signature,
/// [`SamlError::WeakSignatureAlgorithm`] when an algorithm is not allowed, and
/// [`SamlError::BadSignature`] when a signature does not verify with any trusted certificate.
pub fn verify_and_reduce(
    document: &str,
    trusted_certs_der: &[Vec<u8>],
    policy: AlgorithmPolicy,
) -> Result<String, SamlError> {
    check_algorithms(document, policy)?;
    if trusted_certs_der.is_empty() {
        // samael would skip verification without a certificate; chsim never does.
        return Err(SamlError::NoTrustedCertificate);
    }
    let certs: Vec<CertificateDer> = trusted_certs_der
        .iter()
        .map(|c| CertificateDer::from(c.clone()))
        .collect();
    let allowed: Option<Vec<AllowedSignatureAlgorithm>> = if policy.allow_sha1 {
        // samael has no SHA-1 entry; the pre-check above enforced the policy instead.
        None
    } else {
        Some(STRONG.to_vec())
    };
    Crypto::reduce_xml_to_signed_with_allowed_algorithms(
        document,
        &certs,
        ReduceMode::ValidateAndMarkNoAncestors,
        allowed.as_deref(),
    )
    .map_err(|e| SamlError::BadSignature {
        reason: e.to_string(),
    })
}

/// Refuses a document without signatures or with a signature/digest algorithm the policy forbids,
/// naming the algorithm found.
fn check_algorithms(document: &str, policy: AlgorithmPolicy) -> Result<(), SamlError> {
    let doc = xml::parse(document).map_err(|e| SamlError::NotXml {
        reason: e.to_string(),
    })?;
    let signatures: Vec<_> = doc
        .descendants()
        .filter(|n| xml::is(n, NS_DS, "Signature"))
        .collect();
    if signatures.is_empty() {
        return Err(SamlError::NotSigned);
    }
    for sig in signatures {
        for node in sig.descendants() {
            if xml::is(&node, NS_DS, "SignatureMethod") {
                let alg = node.attribute("Algorithm").unwrap_or("");
                if !policy.allows_signature(alg) {
                    return Err(SamlError::WeakSignatureAlgorithm {
                        found: alg.to_string(),
                    });
                }
            }
            if xml::is(&node, NS_DS, "DigestMethod") {
                let alg = node.attribute("Algorithm").unwrap_or("");
                if !policy.allows_digest(alg) {
                    return Err(SamlError::WeakSignatureAlgorithm {
                        found: alg.to_string(),
                    });
                }
            }
        }
    }
    Ok(())
}
