//! Signing credentials: a private key and its certificate, loaded once at start.
//!
//! Private keys never appear in logs or `Debug` output (STYLE.md habit 6).

use base64::Engine as _;
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use std::fmt;

/// A private key and the certificate that carries its public half.
#[derive(Clone)]
pub struct Credential {
    key: PKey<Private>,
    key_der: Vec<u8>,
    cert: X509,
    cert_der: Vec<u8>,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("key", &"[redacted]")
            .field("subject", &subject_of(&self.cert))
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
        let cert_der = cert
            .to_der()
            .map_err(|e| format!("cannot encode certificate: {e}"))?;
        Ok(Self {
            key,
            key_der,
            cert,
            cert_der,
        })
    }

    /// The private key.
    pub fn key(&self) -> &PKey<Private> {
        &self.key
    }

    /// The private key, DER encoded (what xmlsec wants).
    pub fn key_der(&self) -> &[u8] {
        &self.key_der
    }

    /// The certificate.
    pub fn cert(&self) -> &X509 {
        &self.cert
    }

    /// The certificate, DER encoded.
    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// The certificate as the base64 text of a `ds:X509Certificate` element.
    pub fn cert_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.cert_der)
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
