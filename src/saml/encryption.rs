//! PLACEHOLDER while the real XML-Encryption module is written (replaced before landing).
#![allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncryptionSuite {
    Aes256GcmRsaOaepSha256,
    Aes256CbcRsaOaepMgf1p,
}
#[derive(Debug, thiserror::Error)]
pub enum EncryptionError {
    #[error("encryption not yet available")]
    NotYet,
}
pub fn encrypt_assertion(
    _a: &str,
    _r: &openssl::x509::X509,
    _s: EncryptionSuite,
) -> Result<String, EncryptionError> {
    Err(EncryptionError::NotYet)
}
pub fn decrypt_assertion(
    _e: &str,
    _k: &openssl::pkey::PKey<openssl::pkey::Private>,
) -> Result<String, EncryptionError> {
    Err(EncryptionError::NotYet)
}
