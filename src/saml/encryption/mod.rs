//! SAML 2.0 `<saml:EncryptedAssertion>` (saml-core §2.3.4) with W3C XML Encryption 1.1: encrypting
//! the assertions chsim issues and decrypting the ones IdPs send it. samael lacks this; openssl does
//! the cryptography and roxmltree (which refuses DTDs) reads the XML.
//!
//! Data encryption (XML Encryption 1.1 §5.2): `xmlenc11#aes256-gcm` and `#aes128-gcm` (12-byte IV
//! in front, 16-byte tag at the end, no AAD); `xmlenc#aes256-cbc` and `#aes128-cbc` (16-byte IV in
//! front, §5.2.1 padding whose last byte is its length and whose other bytes are arbitrary).
//! Key transport (§5.5): `xmlenc11#rsa-oaep` (any `ds:DigestMethod` SHA-1/2, `xenc11:MGF`
//! MGF1-SHA-1/2, defaults SHA-1), `xmlenc#rsa-oaep-mgf1p` (SHA-1 or SHA-256 digest, MGF1-SHA-1)
//! and, for legacy Context Handler 1 peers, `xmlenc#rsa-1_5` (decryption only).
//!
//! Decryption takes the EncryptedKey inline in `xenc:EncryptedData/ds:KeyInfo` (OS2faktor, Context
//! Handler 2) or as a sibling in the EncryptedAssertion (Shibboleth, samael; those named by a
//! `ds:RetrievalMethod` first) and uses the first that decrypts. rsa-1_5 and telling key errors
//! from data errors apart are padding oracles: rsa-1_5 is refused unless the caller allows it
//! (`insecure_allow_rsa1_5`), and the validator reports every decryption failure as one error.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use openssl::md::{Md, MdRef};
use openssl::nid::Nid;
use openssl::pkey::{Id, PKey, Private};
use openssl::pkey_ctx::PkeyCtx;
use openssl::rsa::Padding;
use openssl::symm::{Cipher, Crypter, Mode};
use openssl::x509::X509;
use roxmltree::Node;

const NS_SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const NS_XENC: &str = "http://www.w3.org/2001/04/xmlenc#";
const NS_XENC11: &str = "http://www.w3.org/2009/xmlenc11#";
const NS_DS: &str = "http://www.w3.org/2000/09/xmldsig#";
const AES256_GCM: &str = "http://www.w3.org/2009/xmlenc11#aes256-gcm";
const AES128_GCM: &str = "http://www.w3.org/2009/xmlenc11#aes128-gcm";
const AES256_CBC: &str = "http://www.w3.org/2001/04/xmlenc#aes256-cbc";
const AES128_CBC: &str = "http://www.w3.org/2001/04/xmlenc#aes128-cbc";
const RSA_OAEP: &str = "http://www.w3.org/2009/xmlenc11#rsa-oaep";
const RSA_OAEP_MGF1P: &str = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p";
const RSA_1_5: &str = "http://www.w3.org/2001/04/xmlenc#rsa-1_5";
const SHA1: &str = "http://www.w3.org/2000/09/xmldsig#sha1";
const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
const MGF1_SHA256: &str = "http://www.w3.org/2009/xmlenc11#mgf1sha256";
/// More EncryptedKeys than any real multi-recipient message has; each costs an RSA decryption.
const MAX_ENCRYPTED_KEYS: usize = 8;
const GCM_IV: usize = 12;
const GCM_TAG: usize = 16;
const AES_BLOCK: usize = 16;

/// Which algorithms to use when encrypting toward a recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncryptionSuite {
    /// OIOSAML3 / Context Handler 2: data `http://www.w3.org/2009/xmlenc11#aes256-gcm`, key transport
    /// `http://www.w3.org/2009/xmlenc11#rsa-oaep` with DigestMethod `http://www.w3.org/2001/04/xmlenc#sha256`
    /// and MGF `http://www.w3.org/2009/xmlenc11#mgf1sha256`.
    Aes256GcmRsaOaepSha256,
    /// OIOSAML2: data `http://www.w3.org/2001/04/xmlenc#aes256-cbc`, key transport
    /// `http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p` (SHA-1 digest, MGF1-SHA1 — that is the algorithm's definition).
    Aes256CbcRsaOaepMgf1p,
}

/// Why an assertion could not be encrypted or decrypted.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum EncryptionError {
    /// The input is not well-formed XML, or it contains a DTD.
    #[error("not acceptable XML: {reason}")]
    NotXml {
        /// The parser's complaint.
        reason: String,
    },
    /// The document element is not the one this operation works on.
    #[error("expected a {expected} element, found {found}")]
    UnexpectedElement {
        /// The element expected.
        expected: &'static str,
        /// The `{namespace}name` found.
        found: String,
    },
    /// A required element or attribute is absent.
    #[error("{element} is missing")]
    MissingElement {
        /// Its path, e.g. `xenc:EncryptedData/xenc:CipherData/xenc:CipherValue`.
        element: &'static str,
    },
    /// An element's base64 content does not decode.
    #[error("{element} is not valid base64: {reason}")]
    Base64 {
        /// The element.
        element: &'static str,
        /// The decoder's complaint.
        reason: String,
    },
    /// The key transport algorithm is not one chsim accepts.
    #[error("unsupported key transport algorithm `{algorithm}`")]
    UnsupportedKeyTransport {
        /// The algorithm URI found.
        algorithm: String,
    },
    /// RSA 1.5 key transport without `insecure_allow_rsa1_5`.
    #[error("the EncryptedKey uses RSA 1.5 key transport (xmlenc#rsa-1_5), which chsim refuses unless insecure_allow_rsa1_5 = true; use RSA-OAEP")]
    InsecureKeyTransport,
    /// The OAEP digest (`ds:DigestMethod`) is not allowed with its key transport algorithm.
    #[error("unsupported RSA-OAEP digest `{algorithm}`")]
    UnsupportedDigest {
        /// The algorithm URI found.
        algorithm: String,
    },
    /// The OAEP mask generation function (`xenc11:MGF`) is not known.
    #[error("unsupported RSA-OAEP mask generation function `{algorithm}`")]
    UnsupportedMgf {
        /// The algorithm URI found.
        algorithm: String,
    },
    /// The data encryption algorithm is not one chsim accepts.
    #[error("unsupported data encryption algorithm `{algorithm}`")]
    UnsupportedDataEncryption {
        /// The algorithm URI found.
        algorithm: String,
    },
    /// There are more EncryptedKeys than chsim is willing to try.
    #[error("{found} EncryptedKeys, more than the limit of {limit}")]
    TooManyEncryptedKeys {
        /// How many there are.
        found: usize,
        /// The limit.
        limit: usize,
    },
    /// The recipient certificate's key cannot do RSA key transport.
    #[error("the recipient certificate has a {key_type} key; key transport needs RSA")]
    UnsupportedRecipientKey {
        /// OpenSSL's short name for the key type.
        key_type: String,
    },
    /// The symmetric key could not be recovered (wrong private key, or altered EncryptedKey).
    #[error("the EncryptedKey does not decrypt with our private key: {reason}")]
    KeyDecryptionFailed {
        /// OpenSSL's reason.
        reason: String,
    },
    /// The recovered key has the wrong length for the data encryption algorithm.
    #[error("`{algorithm}` needs a {expected}-byte key, the EncryptedKey holds {found} bytes")]
    KeyLengthMismatch {
        /// The data encryption algorithm URI.
        algorithm: String,
        /// The key length it needs.
        expected: usize,
        /// The key length found.
        found: usize,
    },
    /// The ciphertext does not decrypt: GCM tag mismatch, bad CBC padding, or wrong length.
    #[error("the EncryptedData does not decrypt: {reason}")]
    DataDecryptionFailed {
        /// What was wrong.
        reason: String,
    },
    /// The decrypted bytes are not UTF-8 text.
    #[error("the decrypted assertion is not UTF-8: {reason}")]
    PlaintextNotUtf8 {
        /// Where decoding failed.
        reason: String,
    },
    /// An OpenSSL operation failed for a reason unrelated to the input.
    #[error("OpenSSL could not {operation}: {reason}")]
    Openssl {
        /// What was being done.
        operation: &'static str,
        /// OpenSSL's error stack.
        reason: String,
    },
}

/// Encrypts a serialized `<saml:Assertion>` element (UTF-8 XML text, the assertion must declare its own namespaces)
/// for the holder of `recipient`'s private key. Returns the XML text of a complete
/// `<saml:EncryptedAssertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">` element whose
/// `xenc:EncryptedData` (`Type="http://www.w3.org/2001/04/xmlenc#Element"`) carries the EncryptedKey inline in its `ds:KeyInfo`,
/// and whose EncryptedKey's `ds:KeyInfo` holds the recipient certificate (`ds:X509Data/ds:X509Certificate`).
///
/// Only the document element is encrypted (an XML declaration or comments around it are dropped).
/// The recipient certificate must carry an RSA key; its validity is the caller's business.
pub fn encrypt_assertion(
    assertion_xml: &str,
    recipient: &X509,
    suite: EncryptionSuite,
) -> Result<String, EncryptionError> {
    let doc = parse(assertion_xml)?;
    let root = doc.root_element();
    expect_root(root, NS_SAML, "Assertion", "saml:Assertion")?;
    // Only the element itself: no XML declaration, comments or whitespace around it.
    let plaintext = assertion_xml
        .get(root.range())
        .ok_or_else(|| EncryptionError::NotXml {
            reason: "the assertion element's range is outside the text".into(),
        })?
        .as_bytes();
    let public = recipient
        .public_key()
        .map_err(ossl("read the certificate's key"))?;
    if public.id() != Id::RSA {
        let nid = Nid::from_raw(public.id().as_raw());
        return Err(EncryptionError::UnsupportedRecipientKey {
            key_type: nid.short_name().unwrap_or("unknown").to_string(),
        });
    }
    let (data_uri, cipher, oaep_md, key_transport) = match suite {
        EncryptionSuite::Aes256GcmRsaOaepSha256 => (
            AES256_GCM,
            Cipher::aes_256_gcm(),
            Md::sha256(),
            format!(
                r#"<xenc:EncryptionMethod Algorithm="{RSA_OAEP}"><ds:DigestMethod Algorithm="{SHA256}"/><xenc11:MGF xmlns:xenc11="{NS_XENC11}" Algorithm="{MGF1_SHA256}"/></xenc:EncryptionMethod>"#
            ),
        ),
        EncryptionSuite::Aes256CbcRsaOaepMgf1p => (
            AES256_CBC,
            Cipher::aes_256_cbc(),
            Md::sha1(),
            format!(
                r#"<xenc:EncryptionMethod Algorithm="{RSA_OAEP_MGF1P}"><ds:DigestMethod Algorithm="{SHA1}"/></xenc:EncryptionMethod>"#
            ),
        ),
    };
    let key = random(cipher.key_len())?;
    let mut body = random(cipher.iv_len().unwrap_or(AES_BLOCK))?;
    match suite {
        EncryptionSuite::Aes256GcmRsaOaepSha256 => {
            let mut tag = [0u8; GCM_TAG];
            let ct =
                openssl::symm::encrypt_aead(cipher, &key, Some(&body), &[], plaintext, &mut tag)
                    .map_err(ossl("encrypt with AES-GCM"))?;
            body.extend_from_slice(&ct);
            body.extend_from_slice(&tag);
        }
        EncryptionSuite::Aes256CbcRsaOaepMgf1p => {
            // PKCS#7 padding is one valid instance of XML Encryption padding.
            let ct = openssl::symm::encrypt(cipher, &key, Some(&body), plaintext)
                .map_err(ossl("encrypt with AES-CBC"))?;
            body.extend_from_slice(&ct);
        }
    }
    let mut ctx = PkeyCtx::new(&public).map_err(ossl("use the recipient's key"))?;
    ctx.encrypt_init().map_err(ossl("start RSA-OAEP"))?;
    ctx.set_rsa_padding(Padding::PKCS1_OAEP)
        .and_then(|()| ctx.set_rsa_oaep_md(oaep_md))
        .and_then(|()| ctx.set_rsa_mgf1_md(oaep_md))
        .map_err(ossl("set RSA-OAEP parameters"))?;
    let mut wrapped = Vec::new();
    ctx.encrypt_to_vec(&key, &mut wrapped)
        .map_err(ossl("encrypt the key with RSA-OAEP"))?;
    let cert = recipient.to_der().map_err(ossl("encode the certificate"))?;
    Ok(format!(
        concat!(
            r#"<saml:EncryptedAssertion xmlns:saml="{saml}">"#,
            r#"<xenc:EncryptedData xmlns:xenc="{xenc}" xmlns:ds="{ds}" Type="{xenc}Element">"#,
            r#"<xenc:EncryptionMethod Algorithm="{data_uri}"/><ds:KeyInfo><xenc:EncryptedKey>"#,
            r#"{key_transport}<ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}"#,
            r#"</ds:X509Certificate></ds:X509Data></ds:KeyInfo><xenc:CipherData><xenc:CipherValue>"#,
            r#"{wrapped}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo>"#,
            r#"<xenc:CipherData><xenc:CipherValue>{body}</xenc:CipherValue></xenc:CipherData>"#,
            r#"</xenc:EncryptedData></saml:EncryptedAssertion>"#
        ),
        saml = NS_SAML,
        xenc = NS_XENC,
        ds = NS_DS,
        data_uri = data_uri,
        key_transport = key_transport,
        cert = b64(&cert),
        wrapped = b64(&wrapped),
        body = b64(&body),
    ))
}

/// Decrypts the XML text of an `<EncryptedAssertion>` element (any prefix; namespaces `saml=urn:oasis:names:tc:SAML:2.0:assertion`,
/// `xenc=http://www.w3.org/2001/04/xmlenc#`, `ds=http://www.w3.org/2000/09/xmldsig#`, `xenc11=http://www.w3.org/2009/xmlenc11#`)
/// with `key` and returns the plaintext assertion XML text.
///
/// The plaintext is returned as decrypted, neither parsed nor checked to be an assertion: the
/// caller parses it (securely) and verifies its signature. Every EncryptedKey found (at most 8) is
/// tried in turn; when none works, a data-decryption error is reported over a key-decryption one.
///
/// RSA 1.5 key transport is refused ([`EncryptionError::InsecureKeyTransport`]); see
/// [`decrypt_assertion_with`].
pub fn decrypt_assertion(
    encrypted_assertion_xml: &str,
    key: &PKey<Private>,
) -> Result<String, EncryptionError> {
    decrypt_assertion_with(encrypted_assertion_xml, key, KeyTransportPolicy::default())
}

/// Which key transports decryption accepts beyond RSA-OAEP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeyTransportPolicy {
    /// Accept `xmlenc#rsa-1_5` (`insecure_allow_rsa1_5`): PKCS#1 v1.5 is the Bleichenbacher
    /// padding oracle's home, on the key that also decrypts every other login.
    pub allow_rsa1_5: bool,
}

/// [`decrypt_assertion`] with an explicit key-transport policy.
pub fn decrypt_assertion_with(
    encrypted_assertion_xml: &str,
    key: &PKey<Private>,
    policy: KeyTransportPolicy,
) -> Result<String, EncryptionError> {
    let doc = parse(encrypted_assertion_xml)?;
    let root = doc.root_element();
    expect_root(
        root,
        NS_SAML,
        "EncryptedAssertion",
        "saml:EncryptedAssertion",
    )?;
    let data = child(root, NS_XENC, "EncryptedData").ok_or(EncryptionError::MissingElement {
        element: "xenc:EncryptedData",
    })?;
    let data_uri = child(data, NS_XENC, "EncryptionMethod")
        .and_then(|m| m.attribute("Algorithm"))
        .ok_or(EncryptionError::MissingElement {
            element: "xenc:EncryptedData/xenc:EncryptionMethod/@Algorithm",
        })?;
    let (cipher, gcm) = match data_uri {
        AES256_GCM => (Cipher::aes_256_gcm(), true),
        AES128_GCM => (Cipher::aes_128_gcm(), true),
        AES256_CBC => (Cipher::aes_256_cbc(), false),
        AES128_CBC => (Cipher::aes_128_cbc(), false),
        other => {
            return Err(EncryptionError::UnsupportedDataEncryption {
                algorithm: other.to_string(),
            })
        }
    };
    let body = cipher_value(data, "xenc:EncryptedData/xenc:CipherData/xenc:CipherValue")?;
    let candidates = encrypted_keys(root, data);
    if candidates.len() > MAX_ENCRYPTED_KEYS {
        return Err(EncryptionError::TooManyEncryptedKeys {
            found: candidates.len(),
            limit: MAX_ENCRYPTED_KEYS,
        });
    }
    // Report a data error (the key unwrapped but the data did not decrypt) over a key error.
    let (mut key_error, mut data_error) = (None, None);
    for encrypted_key in candidates {
        let attempt = match unwrap_key(encrypted_key, key, policy) {
            Err(e) => {
                key_error.get_or_insert(e);
                continue;
            }
            Ok(k) if k.len() != cipher.key_len() => Err(EncryptionError::KeyLengthMismatch {
                algorithm: data_uri.to_string(),
                expected: cipher.key_len(),
                found: k.len(),
            }),
            Ok(k) if gcm => decrypt_gcm(cipher, &k, &body),
            Ok(k) => decrypt_cbc(cipher, &k, &body),
        };
        match attempt.and_then(|plain| {
            String::from_utf8(plain).map_err(|e| EncryptionError::PlaintextNotUtf8 {
                reason: e.utf8_error().to_string(),
            })
        }) {
            Ok(text) => return Ok(text),
            Err(e) => {
                data_error.get_or_insert(e);
            }
        }
    }
    Err(data_error
        .or(key_error)
        .unwrap_or(EncryptionError::MissingElement {
            element: "xenc:EncryptedKey",
        }))
}

/// Inline EncryptedKeys, then sibling ones (those a `ds:RetrievalMethod` names first).
fn encrypted_keys<'a, 'i>(root: Node<'a, 'i>, data: Node<'a, 'i>) -> Vec<Node<'a, 'i>> {
    let key_info = child(data, NS_DS, "KeyInfo");
    let mut keys: Vec<_> = key_info
        .into_iter()
        .flat_map(|ki| children(ki, NS_XENC, "EncryptedKey"))
        .collect();
    let referenced: Vec<&str> = key_info
        .into_iter()
        .flat_map(|ki| children(ki, NS_DS, "RetrievalMethod"))
        .filter_map(|rm| rm.attribute("URI")?.strip_prefix('#'))
        .collect();
    let mut siblings: Vec<_> = children(root, NS_XENC, "EncryptedKey").collect();
    siblings.sort_by_key(|k| !k.attribute("Id").is_some_and(|id| referenced.contains(&id)));
    keys.extend(siblings);
    keys
}

/// Recovers the symmetric key from one `xenc:EncryptedKey`.
fn unwrap_key(
    encrypted_key: Node<'_, '_>,
    key: &PKey<Private>,
    policy: KeyTransportPolicy,
) -> Result<Vec<u8>, EncryptionError> {
    let method = child(encrypted_key, NS_XENC, "EncryptionMethod").ok_or(
        EncryptionError::MissingElement {
            element: "xenc:EncryptedKey/xenc:EncryptionMethod",
        },
    )?;
    let algorithm = method
        .attribute("Algorithm")
        .ok_or(EncryptionError::MissingElement {
            element: "xenc:EncryptedKey/xenc:EncryptionMethod/@Algorithm",
        })?;
    let wrapped = cipher_value(
        encrypted_key,
        "xenc:EncryptedKey/xenc:CipherData/xenc:CipherValue",
    )?;
    let mut ctx = PkeyCtx::new(key).map_err(ossl("use the private key"))?;
    ctx.decrypt_init().map_err(key_failed)?;
    match algorithm {
        RSA_OAEP | RSA_OAEP_MGF1P => {
            let digest_uri = match child(method, NS_DS, "DigestMethod") {
                Some(d) => d
                    .attribute("Algorithm")
                    .ok_or(EncryptionError::MissingElement {
                        element: "ds:DigestMethod/@Algorithm",
                    })?,
                None => SHA1,
            };
            let digest = digest(digest_uri)
                .filter(|_| algorithm == RSA_OAEP || digest_uri == SHA1 || digest_uri == SHA256)
                .ok_or_else(|| EncryptionError::UnsupportedDigest {
                    algorithm: digest_uri.to_string(),
                })?;
            let mgf_uri = match child(method, NS_XENC11, "MGF") {
                Some(m) if algorithm == RSA_OAEP => {
                    m.attribute("Algorithm")
                        .ok_or(EncryptionError::MissingElement {
                            element: "xenc11:MGF/@Algorithm",
                        })?
                }
                _ => "http://www.w3.org/2009/xmlenc11#mgf1sha1",
            };
            let mgf = mgf(mgf_uri).ok_or_else(|| EncryptionError::UnsupportedMgf {
                algorithm: mgf_uri.to_string(),
            })?;
            let label = match child(method, NS_XENC, "OAEPparams") {
                Some(p) => decode(&text(p), "xenc:OAEPparams")?,
                None => Vec::new(),
            };
            ctx.set_rsa_padding(Padding::PKCS1_OAEP)
                .and_then(|()| ctx.set_rsa_oaep_md(digest))
                .and_then(|()| ctx.set_rsa_mgf1_md(mgf))
                .and_then(|()| {
                    if label.is_empty() {
                        Ok(())
                    } else {
                        ctx.set_rsa_oaep_label(&label)
                    }
                })
                .map_err(key_failed)?;
        }
        RSA_1_5 if policy.allow_rsa1_5 => {
            ctx.set_rsa_padding(Padding::PKCS1).map_err(key_failed)?
        }
        RSA_1_5 => return Err(EncryptionError::InsecureKeyTransport),
        other => {
            return Err(EncryptionError::UnsupportedKeyTransport {
                algorithm: other.to_string(),
            })
        }
    }
    let mut out = Vec::new();
    ctx.decrypt_to_vec(&wrapped, &mut out).map_err(key_failed)?;
    Ok(out)
}

/// The OAEP digests by `ds:DigestMethod` URI (XML-DSig, XML Encryption and xmldsig-more spellings).
fn digest(uri: &str) -> Option<&'static MdRef> {
    match uri {
        SHA1 => Some(Md::sha1()),
        "http://www.w3.org/2001/04/xmldsig-more#sha224" => Some(Md::sha224()),
        SHA256 => Some(Md::sha256()),
        "http://www.w3.org/2001/04/xmldsig-more#sha384" => Some(Md::sha384()),
        "http://www.w3.org/2001/04/xmlenc#sha512" => Some(Md::sha512()),
        _ => None,
    }
}

/// The MGF1 digests by `xenc11:MGF` URI (XML Encryption 1.1 §5.5.2).
fn mgf(uri: &str) -> Option<&'static MdRef> {
    match uri.strip_prefix("http://www.w3.org/2009/xmlenc11#mgf1")? {
        "sha1" => Some(Md::sha1()),
        "sha224" => Some(Md::sha224()),
        "sha256" => Some(Md::sha256()),
        "sha384" => Some(Md::sha384()),
        "sha512" => Some(Md::sha512()),
        _ => None,
    }
}

/// AES-GCM: IV ‖ ciphertext ‖ tag, no additional authenticated data.
fn decrypt_gcm(cipher: Cipher, key: &[u8], body: &[u8]) -> Result<Vec<u8>, EncryptionError> {
    let (iv, rest) = body
        .split_at_checked(GCM_IV)
        .ok_or_else(|| too_short(body))?;
    let split = rest
        .len()
        .checked_sub(GCM_TAG)
        .ok_or_else(|| too_short(body))?;
    let (ciphertext, tag) = rest
        .split_at_checked(split)
        .ok_or_else(|| too_short(body))?;
    openssl::symm::decrypt_aead(cipher, key, Some(iv), &[], ciphertext, tag).map_err(|_| {
        EncryptionError::DataDecryptionFailed {
            reason: "AES-GCM authentication failed (altered ciphertext or tag, or wrong key)"
                .into(),
        }
    })
}

/// AES-CBC: IV ‖ ciphertext, XML Encryption padding stripped by hand (it need not be PKCS#7).
fn decrypt_cbc(cipher: Cipher, key: &[u8], body: &[u8]) -> Result<Vec<u8>, EncryptionError> {
    let (iv, ciphertext) = body
        .split_at_checked(AES_BLOCK)
        .ok_or_else(|| too_short(body))?;
    if ciphertext.is_empty() || ciphertext.len() % AES_BLOCK != 0 {
        return Err(EncryptionError::DataDecryptionFailed {
            reason: format!(
                "AES-CBC ciphertext of {} bytes is not a whole number of blocks",
                ciphertext.len()
            ),
        });
    }
    let mut crypter =
        Crypter::new(cipher, Mode::Decrypt, key, Some(iv)).map_err(ossl("start AES-CBC"))?;
    crypter.pad(false);
    let mut out = vec![0u8; ciphertext.len() + AES_BLOCK];
    let n = crypter
        .update(ciphertext, &mut out)
        .map_err(ossl("decrypt with AES-CBC"))?;
    let tail = out.get_mut(n..).unwrap_or_default();
    let m = crypter
        .finalize(tail)
        .map_err(ossl("decrypt with AES-CBC"))?;
    out.truncate(n + m);
    let pad = usize::from(out.last().copied().unwrap_or(0));
    if !(1..=AES_BLOCK).contains(&pad) || pad > out.len() {
        return Err(EncryptionError::DataDecryptionFailed {
            reason: format!("invalid XML Encryption padding length {pad} (wrong key?)"),
        });
    }
    out.truncate(out.len() - pad);
    Ok(out)
}

fn too_short(body: &[u8]) -> EncryptionError {
    EncryptionError::DataDecryptionFailed {
        reason: format!("the ciphertext is only {} bytes", body.len()),
    }
}

fn parse(xml: &str) -> Result<roxmltree::Document<'_>, EncryptionError> {
    // The same bounded, DTD-refusing parse as every SAML message (issue #8 §1).
    super::xml::parse(xml).map_err(|e| EncryptionError::NotXml {
        reason: e.to_string(),
    })
}

fn expect_root(
    node: Node<'_, '_>,
    ns: &str,
    name: &str,
    expected: &'static str,
) -> Result<(), EncryptionError> {
    if node.tag_name().namespace() == Some(ns) && node.tag_name().name() == name {
        return Ok(());
    }
    Err(EncryptionError::UnexpectedElement {
        expected,
        found: format!(
            "{{{}}}{}",
            node.tag_name().namespace().unwrap_or(""),
            node.tag_name().name()
        ),
    })
}

fn children<'a, 'i>(
    node: Node<'a, 'i>,
    ns: &'static str,
    name: &'static str,
) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children()
        .filter(move |c| c.tag_name().namespace() == Some(ns) && c.tag_name().name() == name)
}

fn child<'a, 'i>(node: Node<'a, 'i>, ns: &'static str, name: &'static str) -> Option<Node<'a, 'i>> {
    children(node, ns, name).next()
}

fn text(node: Node<'_, '_>) -> String {
    node.descendants()
        .filter(Node::is_text)
        .filter_map(|n| n.text())
        .collect()
}

fn cipher_value(parent: Node<'_, '_>, element: &'static str) -> Result<Vec<u8>, EncryptionError> {
    let value = child(parent, NS_XENC, "CipherData")
        .and_then(|d| child(d, NS_XENC, "CipherValue"))
        .ok_or(EncryptionError::MissingElement { element })?;
    decode(&text(value), element)
}

fn decode(text: &str, element: &'static str) -> Result<Vec<u8>, EncryptionError> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD
        .decode(compact)
        .map_err(|e| EncryptionError::Base64 {
            element,
            reason: e.to_string(),
        })
}

fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

fn random(len: usize) -> Result<Vec<u8>, EncryptionError> {
    let mut bytes = vec![0u8; len];
    openssl::rand::rand_bytes(&mut bytes).map_err(ossl("generate random bytes"))?;
    Ok(bytes)
}

fn ossl(operation: &'static str) -> impl Fn(openssl::error::ErrorStack) -> EncryptionError {
    move |e| EncryptionError::Openssl {
        operation,
        reason: e.to_string(),
    }
}

fn key_failed(e: openssl::error::ErrorStack) -> EncryptionError {
    EncryptionError::KeyDecryptionFailed {
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests;
