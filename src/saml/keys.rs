//! Keys decoded once: chsim's (and the built-in parties') signing and decryption credentials,
//! and the certificates of the parties chsim trusts. Each holds the openssl object (for the
//! HTTP-Redirect binding, decryption and display) next to the xmlsec key that XML-DSig uses, so
//! no message decodes a key or a certificate again (issue #10 §2).
//!
//! Private keys never appear in logs or `Debug` output (STYLE.md habit 6).

use base64::Engine as _;
use openssl::pkey::{PKey, Private, Public};
use openssl::x509::X509;
use samael::crypto::{XmlSecKey, XmlSecKeyFormat};
use std::fmt;
use std::sync::Arc;

/// A private key and the certificate that carries its public half.
#[derive(Clone)]
pub struct Credential {
    key: PKey<Private>,
    /// The same key for xmlsec, decoded once; each signature works on a duplicate sharing it.
    xmlsec_key: Arc<XmlSecKey>,
    /// The certificate, as those who trust it hold it.
    trusted: TrustedCert,
    cert_der: Vec<u8>,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("key", &"[redacted]")
            .field("subject", &subject_of(self.cert()))
            .finish()
    }
}

impl Credential {
    /// Builds a credential from PEM text; errors say which half failed and why, the caller adds
    /// the file names.
    pub fn from_pem(key_pem: &[u8], cert_pem: &[u8]) -> Result<Self, String> {
        let key = PKey::private_key_from_pem(key_pem)
            .map_err(|e| format!("not a PEM private key: {e}"))?;
        let cert = X509::from_pem(cert_pem).map_err(|e| format!("not a PEM certificate: {e}"))?;
        let cert_key = cert
            .public_key()
            .map_err(|e| format!("certificate has no usable public key: {e}"))?;
        if !key.public_eq(&cert_key) {
            return Err("the private key does not belong to the certificate".to_string());
        }
        let key_der = key
            .private_key_to_der()
            .map_err(|e| format!("cannot encode private key: {e}"))?;
        let xmlsec_key = XmlSecKey::from_memory(&key_der, XmlSecKeyFormat::Der)
            .map_err(|e| format!("xmlsec cannot use the private key: {e}"))?;
        let cert_der = cert
            .to_der()
            .map_err(|e| format!("cannot encode certificate: {e}"))?;
        Ok(Self {
            key,
            xmlsec_key: Arc::new(xmlsec_key),
            trusted: TrustedCert::from_x509(cert)?,
            cert_der,
        })
    }

    /// The private key.
    pub fn key(&self) -> &PKey<Private> {
        &self.key
    }

    /// The private key as xmlsec holds it (for `signing::sign`).
    pub fn xmlsec_key(&self) -> &XmlSecKey {
        &self.xmlsec_key
    }

    /// The certificate.
    pub fn cert(&self) -> &X509 {
        self.trusted.cert()
    }

    /// The certificate, DER encoded.
    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// The certificate as the base64 text of a `ds:X509Certificate` element.
    pub fn cert_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.cert_der)
    }

    /// This credential's certificate as a party that trusts it holds it (the built-in parties
    /// trust each other's certificates this way).
    pub fn trusted_cert(&self) -> TrustedCert {
        self.trusted.clone()
    }
}

/// A trusted party's signing certificate, decoded once: the certificate, its public key for
/// openssl (HTTP-Redirect signatures) and the same public key for xmlsec (XML signatures).
///
/// The xmlsec key holds only the public key, not the certificate: with the key given to the
/// signature context, xmlsec verifies with it and never reads the certificate (nor `KeyInfo`),
/// so a key without its certificate verifies exactly the same, and duplicating it per message
/// takes a reference instead of copying a certificate.
#[derive(Clone)]
pub struct TrustedCert {
    cert: X509,
    public_key: PKey<Public>,
    xmlsec_key: Arc<XmlSecKey>,
}

impl fmt::Debug for TrustedCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrustedCert")
            .field("subject", &subject_of(&self.cert))
            .finish()
    }
}

/// The same certificate (the keys derive from it).
impl PartialEq for TrustedCert {
    fn eq(&self, other: &Self) -> bool {
        self.cert == other.cert
    }
}

impl Eq for TrustedCert {}

impl TrustedCert {
    /// From a DER certificate (as metadata carries it); the error says why it cannot be used.
    pub fn from_der(der: &[u8]) -> Result<Self, String> {
        let cert = X509::from_der(der).map_err(|e| format!("not a certificate: {e}"))?;
        Self::from_x509(cert)
    }

    /// From a parsed certificate; the error says why its key cannot be used.
    pub fn from_x509(cert: X509) -> Result<Self, String> {
        let public_key = cert
            .public_key()
            .map_err(|e| format!("the certificate has no usable public key: {e}"))?;
        let spki = public_key
            .public_key_to_der()
            .map_err(|e| format!("cannot encode the certificate's public key: {e}"))?;
        let xmlsec_key = XmlSecKey::from_memory(&spki, XmlSecKeyFormat::Der);
        // xmlsec tries the DER as a private key first; drop what that left on openssl's error
        // queue so no later, unrelated openssl error reports it.
        drop(openssl::error::ErrorStack::get());
        let xmlsec_key = xmlsec_key.map_err(|e| {
            format!("xmlsec cannot use the certificate's public key for XML signatures: {e}")
        })?;
        Ok(Self {
            cert,
            public_key,
            xmlsec_key: Arc::new(xmlsec_key),
        })
    }

    /// The certificate.
    pub fn cert(&self) -> &X509 {
        &self.cert
    }

    /// Its public key, for openssl.
    pub fn public_key(&self) -> &PKey<Public> {
        &self.public_key
    }

    /// Its public key as xmlsec holds it (for `signing::verify_and_reduce`).
    pub fn xmlsec_key(&self) -> &XmlSecKey {
        &self.xmlsec_key
    }
}

/// A certificate's subject as one line, for messages.
#[allow(deprecated)] // as_utf8 is fine for display: NULs in a subject do not matter here
pub fn subject_of(cert: &X509) -> String {
    cert.subject_name()
        .entries()
        .map(|e| {
            let key = e.object().nid().short_name().unwrap_or("?");
            let value = e
                .data()
                .as_utf8()
                .map(|s| s.to_string())
                .unwrap_or_default();
            format!("{key}={value}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}
