//! `chsim keygen DIR`: fresh key pairs and self-signed certificates for chsim's own two keys (the
//! signing key and the encryption key), made with the openssl crate — no shelling out.
//!
//! RSA-3072 with SHA-256: what NIST SP 800-57 asks of keys used beyond 2030, the size of OCES3
//! certificates, and well within what xmlsec and every SAML stack chsim meets accept (RSA-2048 is
//! the floor, not a target). Certificates are valid three years, like OCES3 certificates.
//! Files are created with `create_new`, so an existing file is never overwritten; private keys
//! are unencrypted PKCS#8 PEM, readable by the owner only (on Unix).

use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::extension::{BasicConstraints, KeyUsage, SubjectKeyIdentifier};
use openssl::x509::{X509Builder, X509NameBuilder, X509};
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// RSA modulus size in bits (see the module docs for why).
pub const RSA_BITS: u32 = 3072;
/// Certificate validity in days.
pub const VALID_DAYS: u32 = 3 * 365;

/// Why keygen failed.
#[derive(Debug, thiserror::Error)]
pub enum KeygenError {
    /// A file keygen would write is already there.
    #[error("`{path}` already exists; keygen never overwrites keys — choose an empty directory or move the old files away")]
    Exists {
        /// The existing file.
        path: PathBuf,
    },
    /// The directory or a file could not be written.
    #[error("cannot write `{path}`: {source}")]
    Io {
        /// The directory or file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// OpenSSL failed to make a key or certificate.
    #[error("cannot make the {what}: {source}")]
    Crypto {
        /// What was being made.
        what: &'static str,
        /// OpenSSL's error stack.
        source: openssl::error::ErrorStack,
    },
}

/// The files keygen wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeygenFiles {
    /// `broker-signing.key.pem`.
    pub signing_key: PathBuf,
    /// `broker-signing.cert.pem`.
    pub signing_cert: PathBuf,
    /// `broker-encryption.key.pem`.
    pub encryption_key: PathBuf,
    /// `broker-encryption.cert.pem`.
    pub encryption_cert: PathBuf,
}

impl KeygenFiles {
    /// The `[broker]` lines of chsim.toml that use these files.
    pub fn config_lines(&self) -> String {
        let q = |p: &Path| toml_string(&p.display().to_string());
        format!(
            "[broker]\nsigning_key = {}\nsigning_cert = {}\nencryption_key = {}\nencryption_cert = {}\n",
            q(&self.signing_key),
            q(&self.signing_cert),
            q(&self.encryption_key),
            q(&self.encryption_cert)
        )
    }
}

fn toml_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Writes two fresh key pairs into `dir` (created if missing). Refuses, before writing anything,
/// when any of the four files exists.
pub fn keygen(dir: &Path) -> Result<KeygenFiles, KeygenError> {
    std::fs::create_dir_all(dir).map_err(|source| KeygenError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let dir = dir.canonicalize().map_err(|source| KeygenError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let files = KeygenFiles {
        signing_key: dir.join("broker-signing.key.pem"),
        signing_cert: dir.join("broker-signing.cert.pem"),
        encryption_key: dir.join("broker-encryption.key.pem"),
        encryption_cert: dir.join("broker-encryption.cert.pem"),
    };
    for path in [
        &files.signing_key,
        &files.signing_cert,
        &files.encryption_key,
        &files.encryption_cert,
    ] {
        if path.exists() {
            return Err(KeygenError::Exists { path: path.clone() });
        }
    }
    for (key_path, cert_path, usage) in [
        (&files.signing_key, &files.signing_cert, "signing"),
        (&files.encryption_key, &files.encryption_cert, "encryption"),
    ] {
        let (key, cert) = key_pair(usage)?;
        let crypto = |what| move |source| KeygenError::Crypto { what, source };
        let key_pem = key
            .private_key_to_pem_pkcs8()
            .map_err(crypto("private key PEM"))?;
        let cert_pem = cert.to_pem().map_err(crypto("certificate PEM"))?;
        write_new(key_path, &key_pem, true)?;
        write_new(cert_path, &cert_pem, false)?;
    }
    Ok(files)
}

/// One RSA key and a self-signed certificate for it.
fn key_pair(usage: &str) -> Result<(PKey<Private>, X509), KeygenError> {
    let crypto = |what| move |source| KeygenError::Crypto { what, source };
    let rsa = Rsa::generate(RSA_BITS).map_err(crypto("RSA key"))?;
    let key = PKey::from_rsa(rsa).map_err(crypto("RSA key"))?;
    let mut name = X509NameBuilder::new().map_err(crypto("certificate name"))?;
    name.append_entry_by_text("O", "chsim")
        .and_then(|_| name.append_entry_by_text("CN", &format!("chsim broker {usage}")))
        .map_err(crypto("certificate name"))?;
    let name = name.build();
    let mut serial = BigNum::new().map_err(crypto("serial number"))?;
    serial
        .rand(127, MsbOption::MAYBE_ZERO, false)
        .map_err(crypto("serial number"))?;
    let mut b = X509Builder::new().map_err(crypto("certificate"))?;
    let cert = (|| {
        b.set_version(2)?;
        b.set_serial_number(serial.to_asn1_integer()?.as_ref())?;
        b.set_subject_name(&name)?;
        b.set_issuer_name(&name)?;
        b.set_pubkey(&key)?;
        b.set_not_before(Asn1Time::days_from_now(0)?.as_ref())?;
        b.set_not_after(Asn1Time::days_from_now(VALID_DAYS)?.as_ref())?;
        b.append_extension(BasicConstraints::new().build()?)?;
        let mut usage_ext = KeyUsage::new();
        if usage == "signing" {
            usage_ext.digital_signature();
        } else {
            usage_ext.key_encipherment();
        }
        b.append_extension(usage_ext.critical().build()?)?;
        let ski = SubjectKeyIdentifier::new().build(&b.x509v3_context(None, None))?;
        b.append_extension(ski)?;
        b.sign(&key, MessageDigest::sha256())?;
        Ok(b.build())
    })()
    .map_err(crypto("certificate"))?;
    Ok((key, cert))
}

/// Creates `path` (never overwriting) and writes `bytes`; private keys get mode 0600 on Unix.
fn write_new(path: &Path, bytes: &[u8], private: bool) -> Result<(), KeygenError> {
    let io = |source| KeygenError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(if private { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            KeygenError::Exists {
                path: path.to_path_buf(),
            }
        } else {
            io(e)
        }
    })?;
    file.write_all(bytes).map_err(io)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::saml::Credential;

    #[test]
    fn keygen_writes_two_distinct_usable_rsa_3072_key_pairs() {
        let dir = tempfile::tempdir().unwrap();
        let files = keygen(dir.path()).unwrap();
        let load = |k: &PathBuf, c: &PathBuf| {
            Credential::from_pem(&std::fs::read(k).unwrap(), &std::fs::read(c).unwrap()).unwrap()
        };
        let signing = load(&files.signing_key, &files.signing_cert);
        let encryption = load(&files.encryption_key, &files.encryption_cert);
        assert!(!signing.key().public_eq(encryption.key()));
        assert_eq!(signing.key().bits(), RSA_BITS);
        assert!(files.config_lines().contains("encryption_cert = \""));
    }

    #[test]
    fn keygen_refuses_to_overwrite_and_writes_nothing_then() {
        let dir = tempfile::tempdir().unwrap();
        let existing = dir.path().join("broker-encryption.cert.pem");
        std::fs::write(&existing, "mine").unwrap();
        let err = keygen(dir.path()).unwrap_err();
        assert!(matches!(err, KeygenError::Exists { .. }), "{err}");
        assert!(err.to_string().contains("broker-encryption.cert.pem"));
        assert!(!dir.path().join("broker-signing.key.pem").exists());
        assert_eq!(std::fs::read_to_string(existing).unwrap(), "mine");
    }
}
