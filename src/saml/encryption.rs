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
//! from data errors apart are padding oracles in a real service; chsim accepts them as a simulator.

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
pub fn decrypt_assertion(
    encrypted_assertion_xml: &str,
    key: &PKey<Private>,
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
        let attempt = match unwrap_key(encrypted_key, key) {
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
        RSA_1_5 => ctx.set_rsa_padding(Padding::PKCS1).map_err(key_failed)?,
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
    // roxmltree's default options refuse any DTD.
    roxmltree::Document::parse(xml).map_err(|e| EncryptionError::NotXml {
        reason: match e {
            roxmltree::Error::DtdDetected => "a DTD is not allowed (entity expansion risk)".into(),
            other => other.to_string(),
        },
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
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use openssl::asn1::Asn1Time;
    use openssl::ec::{EcGroup, EcKey};
    use openssl::hash::MessageDigest;
    use openssl::rsa::Rsa;
    use openssl::x509::{X509Builder, X509NameBuilder};
    use std::process::Command;
    use std::sync::OnceLock;

    macro_rules! fixture {
        ($name:literal) => {
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/encryption/",
                $name
            ))
        };
    }
    const ASSERTION: &str = fixture!("assertion.xml");
    const FIXTURE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/encryption");

    fn fixture_key() -> PKey<Private> {
        PKey::private_key_from_pem(fixture!("key.pem").as_bytes()).unwrap()
    }

    fn fixture_cert() -> X509 {
        X509::from_pem(fixture!("cert.pem").as_bytes()).unwrap()
    }

    fn self_signed(key: &PKey<Private>) -> X509 {
        let mut name = X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", "chsim encryption unit test")
            .unwrap();
        let name = name.build();
        let mut cert = X509Builder::new().unwrap();
        cert.set_version(2).unwrap();
        cert.set_subject_name(&name).unwrap();
        cert.set_issuer_name(&name).unwrap();
        cert.set_pubkey(key).unwrap();
        cert.set_not_before(&Asn1Time::days_from_now(0).unwrap())
            .unwrap();
        cert.set_not_after(&Asn1Time::days_from_now(1).unwrap())
            .unwrap();
        cert.sign(key, MessageDigest::sha256()).unwrap();
        cert.build()
    }

    /// A freshly generated RSA 2048 key and self-signed certificate, shared by the tests.
    fn fresh() -> &'static (PKey<Private>, X509) {
        static FRESH: OnceLock<(PKey<Private>, X509)> = OnceLock::new();
        FRESH.get_or_init(|| {
            let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
            let cert = self_signed(&key);
            (key, cert)
        })
    }

    fn plaintext() -> &'static str {
        ASSERTION.trim()
    }

    /// xmlsec1 re-serialises the element (character references for non-ASCII), so compare content.
    fn assert_is_the_fixture_assertion(xml: &str) {
        let doc = roxmltree::Document::parse(xml).unwrap();
        let root = doc.root_element();
        assert!(root.has_tag_name((NS_SAML, "Assertion")));
        assert_eq!(root.attribute("ID"), Some("_fixture-assertion-7f3c"));
        let name_id = root
            .descendants()
            .find(|n| n.has_tag_name((NS_SAML, "NameID")));
        assert_eq!(
            name_id.and_then(|n| n.text()),
            Some("C=DK,O=Korsbæk Kommune,CN=Søren Østergård")
        );
    }

    fn gcm_for_fresh() -> String {
        encrypt_assertion(
            ASSERTION,
            &fresh().1,
            EncryptionSuite::Aes256GcmRsaOaepSha256,
        )
        .unwrap()
    }

    /// Rewrites the base64 of the EncryptedData's CipherValue (the last one in our output).
    fn with_data_cipher_value(xml: &str, edit: impl Fn(String) -> String) -> String {
        let start = xml.rfind("<xenc:CipherValue>").unwrap() + "<xenc:CipherValue>".len();
        let end = xml.rfind("</xenc:CipherValue>").unwrap();
        format!(
            "{}{}{}",
            &xml[..start],
            edit(xml[start..end].to_string()),
            &xml[end..]
        )
    }

    fn flip_byte(value: String, from_end: usize) -> String {
        let mut bytes = STANDARD.decode(value).unwrap();
        let at = bytes.len() - from_end;
        bytes[at] ^= 0x01;
        STANDARD.encode(bytes)
    }

    /// An EncryptedAssertion (default namespaces) around `body`, its key wrapped for the fixture cert.
    fn hand_made(data_uri: &str, key: &[u8], body: &[u8]) -> String {
        let public = fixture_cert().public_key().unwrap();
        let mut ctx = PkeyCtx::new(&public).unwrap();
        ctx.encrypt_init().unwrap();
        ctx.set_rsa_padding(Padding::PKCS1_OAEP).unwrap();
        let mut wrapped = Vec::new();
        ctx.encrypt_to_vec(key, &mut wrapped).unwrap();
        format!(
            r#"<EncryptedAssertion xmlns="{NS_SAML}"><EncryptedData xmlns="{NS_XENC}"><EncryptionMethod Algorithm="{data_uri}"/><KeyInfo xmlns="{NS_DS}"><EncryptedKey xmlns="{NS_XENC}"><EncryptionMethod Algorithm="{RSA_OAEP_MGF1P}"/><CipherData><CipherValue>{}</CipherValue></CipherData></EncryptedKey></KeyInfo><CipherData><CipherValue>{}</CipherValue></CipherData></EncryptedData></EncryptedAssertion>"#,
            b64(&wrapped),
            b64(body)
        )
    }

    /// AES-256-CBC of already padded blocks: IV ‖ ciphertext.
    fn cbc_without_padding(key: &[u8], padded: &[u8]) -> Vec<u8> {
        let iv = [7u8; AES_BLOCK];
        let mut crypter =
            Crypter::new(Cipher::aes_256_cbc(), Mode::Encrypt, key, Some(&iv)).unwrap();
        crypter.pad(false);
        let mut out = vec![0u8; padded.len() + AES_BLOCK];
        let n = crypter.update(padded, &mut out).unwrap();
        let m = crypter.finalize(&mut out[n..]).unwrap();
        out.truncate(n + m);
        [iv.as_slice(), &out].concat()
    }

    #[test]
    fn round_trips_the_oiosaml3_gcm_suite_with_the_promised_shape() {
        let (key, cert) = fresh();
        let xml = gcm_for_fresh();
        assert_eq!(decrypt_assertion(&xml, key).unwrap(), plaintext());
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let root = doc.root_element();
        assert!(root.has_tag_name((NS_SAML, "EncryptedAssertion")));
        assert_eq!(root.lookup_prefix(NS_SAML), Some("saml"));
        let data = child(root, NS_XENC, "EncryptedData").unwrap();
        assert_eq!(
            data.attribute("Type"),
            Some("http://www.w3.org/2001/04/xmlenc#Element")
        );
        let method = |n| {
            child(n, NS_XENC, "EncryptionMethod")
                .unwrap()
                .attribute("Algorithm")
        };
        assert_eq!(method(data), Some(AES256_GCM));
        let ek = child(
            child(data, NS_DS, "KeyInfo").unwrap(),
            NS_XENC,
            "EncryptedKey",
        )
        .unwrap();
        assert_eq!(method(ek), Some(RSA_OAEP));
        let ek_method = child(ek, NS_XENC, "EncryptionMethod").unwrap();
        let digest = child(ek_method, NS_DS, "DigestMethod").unwrap();
        assert_eq!(digest.attribute("Algorithm"), Some(SHA256));
        let mgf = child(ek_method, NS_XENC11, "MGF").unwrap();
        assert_eq!(mgf.attribute("Algorithm"), Some(MGF1_SHA256));
        let cert_b64 = ek
            .descendants()
            .find(|n| n.has_tag_name((NS_DS, "X509Certificate")))
            .and_then(|n| n.text())
            .unwrap();
        assert_eq!(STANDARD.decode(cert_b64).unwrap(), cert.to_der().unwrap());
    }

    #[test]
    fn round_trips_the_oiosaml2_cbc_suite() {
        let (key, cert) = fresh();
        let xml =
            encrypt_assertion(ASSERTION, cert, EncryptionSuite::Aes256CbcRsaOaepMgf1p).unwrap();
        assert!(xml.contains(&format!(
            r#"<xenc:EncryptionMethod Algorithm="{AES256_CBC}"/>"#
        )));
        assert!(xml.contains(&format!(
            r#"Algorithm="{RSA_OAEP_MGF1P}"><ds:DigestMethod Algorithm="{SHA1}"/>"#
        )));
        assert_eq!(decrypt_assertion(&xml, key).unwrap(), plaintext());
    }

    #[test]
    fn encrypts_only_the_assertion_element_without_xml_declaration() {
        let (key, cert) = fresh();
        let input =
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- c -->\n{ASSERTION}\n");
        let xml = encrypt_assertion(&input, cert, EncryptionSuite::Aes256GcmRsaOaepSha256).unwrap();
        assert_eq!(decrypt_assertion(&xml, key).unwrap(), plaintext());
    }

    #[test]
    fn decrypts_aes256_cbc_with_rsa_oaep_mgf1p_from_xmlsec1() {
        let xml = fixture!("xmlsec1-aes256cbc-rsaoaepmgf1p.xml");
        assert_is_the_fixture_assertion(&decrypt_assertion(xml, &fixture_key()).unwrap());
    }

    #[test]
    fn decrypts_aes128_cbc_with_rsa_oaep_mgf1p_without_digest_method_from_xmlsec1() {
        let xml = fixture!("xmlsec1-aes128cbc-rsaoaepmgf1p-nodigest.xml");
        assert_is_the_fixture_assertion(&decrypt_assertion(xml, &fixture_key()).unwrap());
    }

    #[test]
    fn decrypts_aes256_cbc_with_rsa_1_5_from_xmlsec1() {
        let xml = fixture!("xmlsec1-aes256cbc-rsa15.xml");
        assert_is_the_fixture_assertion(&decrypt_assertion(xml, &fixture_key()).unwrap());
    }

    #[test]
    fn decrypts_aes256_gcm_with_rsa_oaep_mgf1p_from_xmlsec1() {
        let xml = fixture!("xmlsec1-aes256gcm-rsaoaepmgf1p.xml");
        assert_is_the_fixture_assertion(&decrypt_assertion(xml, &fixture_key()).unwrap());
    }

    #[test]
    fn decrypts_aes128_gcm_with_rsa_1_5_from_xmlsec1() {
        let xml = fixture!("xmlsec1-aes128gcm-rsa15.xml");
        assert_is_the_fixture_assertion(&decrypt_assertion(xml, &fixture_key()).unwrap());
    }

    #[test]
    fn decrypts_aes256_gcm_with_rsa_oaep_sha256_mgf1sha256_from_pyca_cryptography() {
        let xml = fixture!("python-aes256gcm-rsaoaep-sha256-mgf1sha256.xml");
        assert_eq!(decrypt_assertion(xml, &fixture_key()).unwrap(), plaintext());
    }

    #[test]
    fn decrypts_aes128_gcm_with_sha512_mgf1sha384_label_and_default_namespaces() {
        let xml = fixture!("python-aes128gcm-rsaoaep-sha512-mgf1sha384-label-default-ns.xml");
        assert_eq!(decrypt_assertion(xml, &fixture_key()).unwrap(), plaintext());
    }

    #[test]
    fn decrypts_aes256_cbc_with_rsa_oaep_mgf1p_sha256_and_random_padding_from_pyca_cryptography() {
        let xml = fixture!("python-aes256cbc-rsaoaepmgf1p-sha256-random-padding.xml");
        assert_eq!(decrypt_assertion(xml, &fixture_key()).unwrap(), plaintext());
    }

    #[test]
    fn decrypts_sibling_encrypted_key_named_by_retrieval_method() {
        let xml = fixture!("python-aes256gcm-sibling-keys-retrievalmethod.xml");
        assert_eq!(decrypt_assertion(xml, &fixture_key()).unwrap(), plaintext());
    }

    #[test]
    fn tries_each_sibling_encrypted_key_until_one_decrypts() {
        let xml = fixture!("python-aes256gcm-sibling-keys-retrievalmethod.xml");
        let retrieval = r##"<ds:RetrievalMethod Type="http://www.w3.org/2001/04/xmlenc#EncryptedKey" URI="#_ek-ours"/>"##;
        assert!(xml.contains(retrieval));
        let without = xml.replace(retrieval, "");
        assert_eq!(
            decrypt_assertion(&without, &fixture_key()).unwrap(),
            plaintext()
        );
        // The decoy comes first and does not decrypt on its own.
        let ours = without.find(r#"<xenc:EncryptedKey xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" Id="_ek-ours""#).unwrap();
        let end = without[ours..].find("</xenc:EncryptedKey>").unwrap() + ours;
        let decoy_only = format!("{}{}", &without[..ours], &without[end + 20..]);
        let err = decrypt_assertion(&decoy_only, &fixture_key()).unwrap_err();
        assert!(
            matches!(err, EncryptionError::KeyDecryptionFailed { .. }),
            "{err:?}"
        );
    }

    #[test]
    fn accepts_xml_encryption_padding_that_is_not_pkcs7() {
        let key = [3u8; 32];
        let mut padded = b"<a/>".to_vec();
        padded.extend_from_slice(&[0xAA; 11]);
        padded.push(12);
        let xml = hand_made(AES256_CBC, &key, &cbc_without_padding(&key, &padded));
        assert_eq!(decrypt_assertion(&xml, &fixture_key()).unwrap(), "<a/>");
    }

    #[test]
    fn refuses_cbc_padding_length_outside_one_to_sixteen() {
        let key = [3u8; 32];
        for pad in [0u8, 17, 255] {
            let mut padded = [b'x'; 32];
            padded[31] = pad;
            let xml = hand_made(AES256_CBC, &key, &cbc_without_padding(&key, &padded));
            let err = decrypt_assertion(&xml, &fixture_key()).unwrap_err();
            assert!(
                matches!(&err, EncryptionError::DataDecryptionFailed { reason } if reason.contains("padding")),
                "{err:?}"
            );
        }
    }

    #[test]
    fn refuses_symmetric_key_of_the_wrong_length_for_the_algorithm() {
        let xml = hand_made(AES256_CBC, &[3u8; 16], &[0u8; 32]);
        assert_eq!(
            decrypt_assertion(&xml, &fixture_key()),
            Err(EncryptionError::KeyLengthMismatch {
                algorithm: AES256_CBC.into(),
                expected: 32,
                found: 16
            })
        );
    }

    #[test]
    fn refuses_tampered_gcm_ciphertext() {
        let xml = with_data_cipher_value(&gcm_for_fresh(), |v| flip_byte(v, GCM_TAG + 5));
        let err = decrypt_assertion(&xml, &fresh().0).unwrap_err();
        assert!(
            matches!(err, EncryptionError::DataDecryptionFailed { .. }),
            "{err:?}"
        );
    }

    #[test]
    fn refuses_tampered_gcm_tag() {
        let xml = with_data_cipher_value(&gcm_for_fresh(), |v| flip_byte(v, 1));
        let err = decrypt_assertion(&xml, &fresh().0).unwrap_err();
        assert!(
            matches!(err, EncryptionError::DataDecryptionFailed { .. }),
            "{err:?}"
        );
    }

    #[test]
    fn refuses_the_wrong_private_key() {
        let err = decrypt_assertion(&gcm_for_fresh(), &fixture_key()).unwrap_err();
        assert!(
            matches!(err, EncryptionError::KeyDecryptionFailed { .. }),
            "{err:?}"
        );
    }

    #[test]
    fn refuses_unknown_data_algorithm_naming_it() {
        let tripledes = "http://www.w3.org/2001/04/xmlenc#tripledes-cbc";
        let xml = gcm_for_fresh().replace(AES256_GCM, tripledes);
        assert_eq!(
            decrypt_assertion(&xml, &fresh().0),
            Err(EncryptionError::UnsupportedDataEncryption {
                algorithm: tripledes.into()
            })
        );
    }

    #[test]
    fn refuses_unknown_key_transport_naming_it() {
        let kw = "http://www.w3.org/2001/04/xmlenc#kw-aes256";
        let xml = gcm_for_fresh().replace(RSA_OAEP, kw);
        assert_eq!(
            decrypt_assertion(&xml, &fresh().0),
            Err(EncryptionError::UnsupportedKeyTransport {
                algorithm: kw.into()
            })
        );
    }

    #[test]
    fn refuses_unknown_oaep_digest_and_mgf() {
        let md5 = "http://www.w3.org/2001/04/xmldsig-more#md5";
        let xml = gcm_for_fresh().replace(SHA256, md5);
        let err = decrypt_assertion(&xml, &fresh().0);
        assert_eq!(
            err,
            Err(EncryptionError::UnsupportedDigest {
                algorithm: md5.into()
            })
        );
        let mgf = "http://www.w3.org/2009/xmlenc11#mgf1md5";
        let xml = gcm_for_fresh().replace(MGF1_SHA256, mgf);
        let err = decrypt_assertion(&xml, &fresh().0);
        assert_eq!(
            err,
            Err(EncryptionError::UnsupportedMgf {
                algorithm: mgf.into()
            })
        );
    }

    #[test]
    fn refuses_missing_cipher_value() {
        let xml = with_data_cipher_value(&gcm_for_fresh(), |_| String::new())
            .replace("<xenc:CipherValue></xenc:CipherValue>", "");
        assert_eq!(
            decrypt_assertion(&xml, &fresh().0),
            Err(EncryptionError::MissingElement {
                element: "xenc:EncryptedData/xenc:CipherData/xenc:CipherValue"
            })
        );
    }

    #[test]
    fn refuses_missing_encrypted_key() {
        let xml = gcm_for_fresh();
        let start = xml.find("<ds:KeyInfo><xenc:EncryptedKey>").unwrap();
        let end = xml.find("</xenc:EncryptedKey></ds:KeyInfo>").unwrap();
        let xml = format!("{}{}", &xml[..start], &xml[end + 33..]);
        assert_eq!(
            decrypt_assertion(&xml, &fresh().0),
            Err(EncryptionError::MissingElement {
                element: "xenc:EncryptedKey"
            })
        );
    }

    #[test]
    fn refuses_more_encrypted_keys_than_the_limit() {
        let extra = format!(r#"<EncryptedKey xmlns="{NS_XENC}"/>"#).repeat(MAX_ENCRYPTED_KEYS);
        let xml = gcm_for_fresh().replace(
            "</xenc:EncryptedData>",
            &format!("</xenc:EncryptedData>{extra}"),
        );
        assert_eq!(
            decrypt_assertion(&xml, &fresh().0),
            Err(EncryptionError::TooManyEncryptedKeys { found: 9, limit: 8 })
        );
    }

    #[test]
    fn refuses_bad_base64_tolerating_whitespace() {
        let spaced = with_data_cipher_value(&gcm_for_fresh(), |v| {
            v.as_bytes()
                .chunks(60)
                .map(|c| String::from_utf8_lossy(c) + "\r\n\t ")
                .collect()
        });
        assert_eq!(decrypt_assertion(&spaced, &fresh().0).unwrap(), plaintext());
        let bad = with_data_cipher_value(&gcm_for_fresh(), |v| format!("*{v}"));
        let err = decrypt_assertion(&bad, &fresh().0).unwrap_err();
        assert!(
            matches!(err, EncryptionError::Base64 { element, .. } if element.starts_with("xenc:EncryptedData")),
            "{err:?}"
        );
    }

    #[test]
    fn refuses_a_dtd() {
        let xml = format!(r#"<!DOCTYPE x [<!ENTITY e "e">]>{}"#, gcm_for_fresh());
        let err = decrypt_assertion(&xml, &fresh().0).unwrap_err();
        assert!(
            matches!(&err, EncryptionError::NotXml { reason } if reason.contains("DTD")),
            "{err:?}"
        );
        let err = encrypt_assertion(
            &format!("<!DOCTYPE x>{ASSERTION}"),
            &fresh().1,
            EncryptionSuite::Aes256GcmRsaOaepSha256,
        )
        .unwrap_err();
        assert!(matches!(err, EncryptionError::NotXml { .. }), "{err:?}");
    }

    #[test]
    fn refuses_text_that_is_not_xml() {
        let err = decrypt_assertion("not <xml", &fresh().0).unwrap_err();
        assert!(matches!(err, EncryptionError::NotXml { .. }), "{err:?}");
        let err = encrypt_assertion("{}", &fresh().1, EncryptionSuite::Aes256CbcRsaOaepMgf1p)
            .unwrap_err();
        assert!(matches!(err, EncryptionError::NotXml { .. }), "{err:?}");
    }

    #[test]
    fn refuses_the_wrong_document_element() {
        assert_eq!(
            decrypt_assertion(ASSERTION, &fresh().0),
            Err(EncryptionError::UnexpectedElement {
                expected: "saml:EncryptedAssertion",
                found: format!("{{{NS_SAML}}}Assertion"),
            })
        );
        let err = encrypt_assertion(
            "<Assertion/>",
            &fresh().1,
            EncryptionSuite::Aes256GcmRsaOaepSha256,
        );
        assert_eq!(
            err,
            Err(EncryptionError::UnexpectedElement {
                expected: "saml:Assertion",
                found: "{}Assertion".into(),
            })
        );
    }

    #[test]
    fn refuses_to_encrypt_for_a_non_rsa_certificate() {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        let key = PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap();
        let err = encrypt_assertion(
            ASSERTION,
            &self_signed(&key),
            EncryptionSuite::Aes256GcmRsaOaepSha256,
        );
        assert!(
            matches!(err, Err(EncryptionError::UnsupportedRecipientKey { .. })),
            "{err:?}"
        );
    }

    #[test]
    fn never_panics_on_truncated_input() {
        let inputs = [
            gcm_for_fresh(),
            fixture!("xmlsec1-aes256cbc-rsa15.xml").to_string(),
            fixture!("python-aes256gcm-sibling-keys-retrievalmethod.xml").to_string(),
        ];
        for xml in &inputs {
            for cut in (0..xml.len()).step_by(41) {
                if let Some(prefix) = xml.get(..cut) {
                    assert!(decrypt_assertion(prefix, &fresh().0).is_err());
                }
            }
        }
    }

    /// Writes `xml` to a temporary file for an outside tool; the caller removes it.
    fn temp_file(name: &str, xml: &str) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!("chsim-{}-{name}.xml", std::process::id()));
        std::fs::write(&path, xml).unwrap();
        path
    }

    #[test]
    fn our_cbc_suite_output_decrypts_with_xmlsec1() {
        let xml = encrypt_assertion(
            ASSERTION,
            &fixture_cert(),
            EncryptionSuite::Aes256CbcRsaOaepMgf1p,
        )
        .unwrap();
        let path = temp_file("cbc-for-xmlsec1", &xml);
        let out = Command::new("xmlsec1")
            .args(["--decrypt", "--privkey-pem"])
            .arg(format!("{FIXTURE_DIR}/key.pem"))
            .arg(&path)
            .output();
        let _ = std::fs::remove_file(&path);
        let Ok(out) = out else {
            eprintln!("SKIPPED: xmlsec1 is not installed (make deps installs it)");
            return;
        };
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let doc = roxmltree::Document::parse(&text).unwrap();
        let assertion = doc.root_element().first_element_child().unwrap();
        assert_is_the_fixture_assertion(&text[assertion.range()]);
    }

    #[test]
    fn our_gcm_suite_output_decrypts_with_pyca_cryptography() {
        let xml = encrypt_assertion(
            ASSERTION,
            &fixture_cert(),
            EncryptionSuite::Aes256GcmRsaOaepSha256,
        )
        .unwrap();
        let path = temp_file("gcm-for-python", &xml);
        // The project's interop venv (`make venv`) has `cryptography`; else try the system python3.
        let venv = concat!(env!("CARGO_MANIFEST_DIR"), "/.venv/bin/python3");
        let python = if std::path::Path::new(venv).exists() {
            venv
        } else {
            "python3"
        };
        let out = Command::new(python)
            .arg(format!("{FIXTURE_DIR}/decrypt_with_cryptography.py"))
            .arg(format!("{FIXTURE_DIR}/key.pem"))
            .arg(&path)
            .output();
        let _ = std::fs::remove_file(&path);
        match out {
            Ok(out) if out.status.success() => {
                assert_eq!(String::from_utf8(out.stdout).unwrap(), plaintext())
            }
            Ok(out)
                if String::from_utf8_lossy(&out.stderr)
                    .contains("No module named 'cryptography'") =>
            {
                eprintln!(
                    "SKIPPED: python3 has no `cryptography` package (pip install cryptography)"
                )
            }
            Ok(out) => panic!("{}", String::from_utf8_lossy(&out.stderr)),
            Err(_) => eprintln!("SKIPPED: python3 is not installed"),
        }
    }
}
