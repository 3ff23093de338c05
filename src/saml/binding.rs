//! SAML 2.0 bindings (saml-bindings-2.0-os §3.4 HTTP-Redirect, §3.5 HTTP-POST).
//!
//! Redirect: DEFLATE (flate2) + base64 + URL encoding, with the query-string signature over the
//! raw, as-received `SAMLRequest=…&RelayState=…&SigAlg=…` octets (§3.4.4.1), signed and verified
//! with openssl. samael's `sign_url` signs the destination's whole query (wrong when it already has
//! parameters) and its verifier re-encodes the query (breaks with other encoders) and panics on a
//! missing `Signature` parameter, so neither is used.

use super::signing::{AlgorithmPolicy, RSA_SHA1, RSA_SHA256};
use super::SamlError;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use flate2::read::DeflateDecoder;
use flate2::{Compress, Compression, FlushCompress, Status};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private, Public};
use openssl::sign::{Signer, Verifier};
use std::io::Read;
use url::Url;

/// Which SAML parameter carries the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// `SAMLRequest`
    Request,
    /// `SAMLResponse`
    Response,
}

impl MessageKind {
    /// The query/form parameter name.
    pub fn param(self) -> &'static str {
        match self {
            MessageKind::Request => "SAMLRequest",
            MessageKind::Response => "SAMLResponse",
        }
    }
}

/// A message received over HTTP-Redirect, decoded but not yet verified.
#[derive(Debug, Clone)]
pub struct RedirectMessage {
    /// The inflated XML.
    pub xml: String,
    /// RelayState, if sent.
    pub relay_state: Option<String>,
    /// SigAlg, if sent.
    pub sig_alg: Option<String>,
    signature: Option<String>,
    /// The raw `SAMLRequest=…[&RelayState=…]&SigAlg=…` octets the signature covers.
    signed_octets: Option<String>,
}

impl RedirectMessage {
    /// True when the query string carried a `Signature`.
    pub fn is_signed(&self) -> bool {
        self.signature.is_some()
    }

    /// Verifies the query-string signature with `key`, a trusted certificate's public key.
    pub fn verify(&self, key: &PKey<Public>, policy: AlgorithmPolicy) -> Result<(), SamlError> {
        let (Some(signature), Some(sig_alg), Some(octets)) =
            (&self.signature, &self.sig_alg, &self.signed_octets)
        else {
            return Err(SamlError::NotSigned);
        };
        // The same algorithms as the HTTP-POST binding's XML signatures (issue #8 §7).
        let (digest, ecdsa) = redirect_algorithm(sig_alg, policy).ok_or_else(|| {
            SamlError::WeakSignatureAlgorithm {
                found: sig_alg.to_string(),
            }
        })?;
        let signature = STANDARD
            .decode(signature.trim())
            .map_err(|e| SamlError::BadSignature {
                reason: format!("Signature parameter is not base64: {e}"),
            })?;
        let signature = if ecdsa {
            // XML-DSig ECDSA signature values are r || s (RFC 4051 §3.3); openssl wants DER.
            ecdsa_der(&signature).ok_or_else(|| SamlError::BadSignature {
                reason: "the ECDSA Signature parameter is not r || s of equal halves".into(),
            })?
        } else {
            signature
        };
        let ok = Verifier::new(digest, key)
            .and_then(|mut v| {
                v.update(octets.as_bytes())?;
                v.verify(&signature)
            })
            .map_err(|e| SamlError::BadSignature {
                reason: e.to_string(),
            })?;
        if ok {
            Ok(())
        } else {
            Err(SamlError::BadSignature {
                reason: "the query-string signature does not match the trusted certificate"
                    .to_string(),
            })
        }
    }
}

/// The digest for an allowed `SigAlg`, and whether it is ECDSA.
fn redirect_algorithm(sig_alg: &str, policy: AlgorithmPolicy) -> Option<(MessageDigest, bool)> {
    Some(match sig_alg {
        RSA_SHA256 => (MessageDigest::sha256(), false),
        RSA_SHA384 => (MessageDigest::sha384(), false),
        RSA_SHA512 => (MessageDigest::sha512(), false),
        ECDSA_SHA256 => (MessageDigest::sha256(), true),
        ECDSA_SHA384 => (MessageDigest::sha384(), true),
        ECDSA_SHA512 => (MessageDigest::sha512(), true),
        RSA_SHA1 if policy.allow_sha1 => (MessageDigest::sha1(), false),
        _ => return None,
    })
}

/// `r || s` → a DER `ECDSA-Sig-Value`.
fn ecdsa_der(raw: &[u8]) -> Option<Vec<u8>> {
    if raw.is_empty() || !raw.len().is_multiple_of(2) {
        return None;
    }
    let (r, s) = raw.split_at(raw.len() / 2);
    let r = openssl::bn::BigNum::from_slice(r).ok()?;
    let s = openssl::bn::BigNum::from_slice(s).ok()?;
    openssl::ecdsa::EcdsaSig::from_private_components(r, s)
        .ok()?
        .to_der()
        .ok()
}

const RSA_SHA384: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384";
const RSA_SHA512: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512";
const ECDSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256";
const ECDSA_SHA384: &str = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384";
const ECDSA_SHA512: &str = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512";

/// Decodes an HTTP-Redirect query string. `max_xml_bytes` bounds the inflated size (a DEFLATE
/// bomb is refused, not inflated).
pub fn decode_redirect(
    raw_query: &str,
    kind: MessageKind,
    max_xml_bytes: usize,
) -> Result<RedirectMessage, SamlError> {
    let mut message = None;
    let mut relay_state = None;
    let mut sig_alg = None;
    let mut signature = None;
    let mut raw_message = None;
    let mut raw_relay = None;
    let mut raw_sig_alg = None;
    for part in raw_query.split('&') {
        let (key, raw_value) = part.split_once('=').unwrap_or((part, ""));
        let value = url::form_urlencoded::parse(format!("v={raw_value}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        match key {
            k if k == kind.param() => {
                message = Some(value);
                raw_message = Some(part.to_string());
            }
            "RelayState" => {
                relay_state = Some(value);
                raw_relay = Some(part.to_string());
            }
            "SigAlg" => {
                sig_alg = Some(value);
                raw_sig_alg = Some(part.to_string());
            }
            "Signature" => signature = Some(value),
            _ => {}
        }
    }
    let message = message.ok_or(SamlError::MissingParameter { name: kind.param() })?;
    let deflated = STANDARD
        .decode(message.trim())
        .map_err(|e| SamlError::BadEncoding {
            reason: format!("{} is not base64: {e}", kind.param()),
        })?;
    let mut xml = String::new();
    DeflateDecoder::new(deflated.as_slice())
        .take(max_xml_bytes as u64 + 1)
        .read_to_string(&mut xml)
        .map_err(|e| SamlError::BadEncoding {
            reason: format!(
                "{} is not DEFLATE-compressed UTF-8 XML as HTTP-Redirect requires: {e}",
                kind.param()
            ),
        })?;
    if xml.len() > max_xml_bytes {
        return Err(SamlError::TooLarge {
            limit: max_xml_bytes,
        });
    }
    let signed_octets = match (&raw_message, &raw_sig_alg) {
        (Some(m), Some(s)) => Some(match &raw_relay {
            Some(r) => format!("{m}&{r}&{s}"),
            None => format!("{m}&{s}"),
        }),
        _ => None,
    };
    Ok(RedirectMessage {
        xml,
        relay_state,
        sig_alg,
        signature,
        signed_octets,
    })
}

/// Builds an HTTP-Redirect URL for `xml` to `destination`; with `key`, signed rsa-sha256 over
/// exactly `SAMLRequest=…[&RelayState=…]&SigAlg=…` (§3.4.4.1), whatever else the destination's
/// query already holds.
pub fn encode_redirect(
    destination: &str,
    kind: MessageKind,
    xml: &str,
    relay_state: Option<&str>,
    key: Option<&PKey<Private>>,
) -> Result<Url, SamlError> {
    let compressed = deflate(xml.as_bytes())?;
    let mut url = Url::parse(destination).map_err(|e| SamlError::BadEncoding {
        reason: format!("destination `{destination}` is not a URL: {e}"),
    })?;
    let mut saml_query = url::form_urlencoded::Serializer::new(String::new());
    saml_query.append_pair(kind.param(), &STANDARD.encode(&compressed));
    if let Some(rs) = relay_state {
        saml_query.append_pair("RelayState", rs);
    }
    if let Some(key) = key {
        saml_query.append_pair("SigAlg", RSA_SHA256);
        let octets = saml_query.finish();
        let signature = Signer::new(MessageDigest::sha256(), key)
            .and_then(|mut s| {
                s.update(octets.as_bytes())?;
                s.sign_to_vec()
            })
            .map_err(|e| SamlError::Signing {
                reason: e.to_string(),
            })?;
        saml_query = url::form_urlencoded::Serializer::new(octets);
        saml_query.append_pair("Signature", &STANDARD.encode(signature));
    }
    let saml_part = saml_query.finish();
    let query = match url.query() {
        Some(existing) if !existing.is_empty() => format!("{existing}&{saml_part}"),
        _ => saml_part,
    };
    url.set_query(Some(&query));
    Ok(url)
}

/// Raw-DEFLATE compressors kept for reuse, reset for each message: a new one allocates and
/// zeroes about 270 KiB of tables, which costs more than compressing an AuthnRequest (issue #10
/// §5). At most [`KEPT_COMPRESSORS`] are kept, so the memory they hold does not grow with the
/// number of threads; a message that finds none makes a new one.
static COMPRESSORS: std::sync::Mutex<Vec<Compress>> = std::sync::Mutex::new(Vec::new());
const KEPT_COMPRESSORS: usize = 2;

/// Raw DEFLATE (RFC 1951, no zlib header) at the default level, as HTTP-Redirect requires.
fn deflate(data: &[u8]) -> Result<Vec<u8>, SamlError> {
    let kept = || COMPRESSORS.lock().unwrap_or_else(|e| e.into_inner());
    let mut compressor = kept()
        .pop()
        .unwrap_or_else(|| Compress::new(Compression::default(), false));
    compressor.reset();
    let result = deflate_with(&mut compressor, data);
    let mut pool = kept();
    if pool.len() < KEPT_COMPRESSORS {
        pool.push(compressor);
    }
    result
}

fn deflate_with(compressor: &mut Compress, data: &[u8]) -> Result<Vec<u8>, SamlError> {
    let mut out = Vec::with_capacity(data.len() / 2 + 128);
    loop {
        let consumed = usize::try_from(compressor.total_in()).unwrap_or(data.len());
        let input = data.get(consumed..).unwrap_or_default();
        let status = compressor
            .compress_vec(input, &mut out, FlushCompress::Finish)
            .map_err(|e| SamlError::BadEncoding {
                reason: format!("DEFLATE failed: {e}"),
            })?;
        match status {
            Status::StreamEnd => return Ok(out),
            Status::Ok | Status::BufError => out.reserve(out.capacity().max(1024)),
        }
    }
}

/// Decodes the base64 `SAMLRequest`/`SAMLResponse` of an HTTP-POST form.
pub fn decode_post(value: &str, max_xml_bytes: usize) -> Result<String, SamlError> {
    // Line-wrapped base64 is accepted; an unwrapped value (the usual case) is decoded in place
    // rather than copied first.
    let unwrapped;
    let value = if value.bytes().any(|b| b.is_ascii_whitespace()) {
        unwrapped = value.split_whitespace().collect::<String>();
        unwrapped.as_str()
    } else {
        value
    };
    let bytes = STANDARD.decode(value).map_err(|e| SamlError::BadEncoding {
        reason: format!("the posted SAML message is not base64: {e}"),
    })?;
    if bytes.len() > max_xml_bytes {
        return Err(SamlError::TooLarge {
            limit: max_xml_bytes,
        });
    }
    if looks_deflated(&bytes) {
        return Err(SamlError::BadEncoding {
            reason: "the posted SAML message looks DEFLATE-compressed; the HTTP-POST binding \
                     carries the XML only base64-encoded (DEFLATE belongs to HTTP-Redirect)"
                .to_string(),
        });
    }
    String::from_utf8(bytes).map_err(|_| SamlError::BadEncoding {
        reason: "the posted SAML message is not UTF-8".to_string(),
    })
}

/// True when `bytes` is not XML text but inflates to something that starts like XML.
fn looks_deflated(bytes: &[u8]) -> bool {
    let starts_like_xml = |b: &[u8]| {
        b.iter()
            .find(|c| !c.is_ascii_whitespace())
            .is_some_and(|c| *c == b'<')
    };
    if starts_like_xml(bytes) {
        return false;
    }
    let mut head = [0u8; 64];
    let n = DeflateDecoder::new(bytes).read(&mut head).unwrap_or(0);
    n > 0 && starts_like_xml(&head[..n])
}

/// Base64 for an HTTP-POST form field.
pub fn encode_post(xml: &str) -> String {
    STANDARD.encode(xml.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::x509::X509;

    /// The broker's key and its certificate's public key.
    fn credential() -> (PKey<Private>, PKey<Public>) {
        let key = PKey::private_key_from_pem(include_bytes!("../../keys/broker.key.pem")).unwrap();
        let cert = X509::from_pem(include_bytes!("../../keys/broker.cert.pem")).unwrap();
        (key, cert.public_key().unwrap())
    }

    #[test]
    fn redirect_round_trip_verifies_with_the_signers_certificate() {
        let (key, cert) = credential();
        let url = encode_redirect(
            "https://idp.example/sso?x=1",
            MessageKind::Request,
            "<a>æøå</a>",
            Some("state 1/2"),
            Some(&key),
        )
        .unwrap();
        let msg = decode_redirect(url.query().unwrap(), MessageKind::Request, 1000).unwrap();
        assert_eq!(msg.xml, "<a>æøå</a>");
        assert_eq!(msg.relay_state.as_deref(), Some("state 1/2"));
        msg.verify(&cert, AlgorithmPolicy::default()).unwrap();
    }

    #[test]
    fn redirect_signature_fails_when_relay_state_is_changed() {
        let (key, cert) = credential();
        let url = encode_redirect(
            "https://idp.example/sso",
            MessageKind::Request,
            "<a/>",
            Some("one"),
            Some(&key),
        )
        .unwrap();
        let tampered = url
            .query()
            .unwrap()
            .replace("RelayState=one", "RelayState=two");
        let msg = decode_redirect(&tampered, MessageKind::Request, 1000).unwrap();
        assert!(matches!(
            msg.verify(&cert, AlgorithmPolicy::default()),
            Err(SamlError::BadSignature { .. })
        ));
    }

    #[test]
    fn the_reused_compressor_deflates_each_message_alike_and_round_trips() {
        // Kept compressors are reset between messages: every message must come out as a fresh
        // encoder would make it, whatever was compressed before it.
        let fresh = |xml: &str| {
            let mut out = Vec::new();
            let mut e = flate2::write::DeflateEncoder::new(&mut out, Compression::default());
            std::io::Write::write_all(&mut e, xml.as_bytes()).unwrap();
            e.finish().unwrap();
            out
        };
        let messages = [
            "<a>".to_string() + &"xyz".repeat(5000) + "</a>",
            "<b>æøå</b>".to_string(),
            (0..3000)
                .map(|i| format!("<c n=\"{i}\"/>"))
                .collect::<String>(),
            String::new(),
            "<b>æøå</b>".to_string(),
        ];
        for xml in &messages {
            let compressed = deflate(xml.as_bytes()).unwrap();
            assert_eq!(compressed, fresh(xml));
            let mut back = String::new();
            DeflateDecoder::new(compressed.as_slice())
                .read_to_string(&mut back)
                .unwrap();
            assert_eq!(&back, xml);
        }
    }

    #[test]
    fn post_decodes_line_wrapped_base64_like_unwrapped() {
        let xml = "<a>".to_string() + &"æøå ".repeat(100) + "</a>";
        let plain = encode_post(&xml);
        let wrapped: String = plain
            .as_bytes()
            .chunks(76)
            .map(|line| String::from_utf8_lossy(line).into_owned() + "\r\n")
            .collect();
        assert_eq!(decode_post(&plain, 10_000).unwrap(), xml);
        assert_eq!(decode_post(&wrapped, 10_000).unwrap(), xml);
    }

    #[test]
    fn redirect_refuses_a_deflate_bomb() {
        let big = "<a>".to_string() + &"x".repeat(100_000) + "</a>";
        let url = encode_redirect("https://i/", MessageKind::Request, &big, None, None).unwrap();
        let err = decode_redirect(url.query().unwrap(), MessageKind::Request, 10_000).unwrap_err();
        assert!(matches!(err, SamlError::TooLarge { limit: 10_000 }));
    }

    fn signed_query(
        sig_alg: &str,
        key: &PKey<Private>,
        digest: MessageDigest,
        raw_ecdsa: bool,
    ) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("SAMLRequest", "x");
        q.append_pair("SigAlg", sig_alg);
        let octets = q.finish();
        let mut signer = Signer::new(digest, key).unwrap();
        signer.update(octets.as_bytes()).unwrap();
        let mut sig = signer.sign_to_vec().unwrap();
        if raw_ecdsa {
            let parsed = openssl::ecdsa::EcdsaSig::from_der(&sig).unwrap();
            let mut r = parsed.r().to_vec_padded(32).unwrap();
            r.extend(parsed.s().to_vec_padded(32).unwrap());
            sig = r;
        }
        let mut q = url::form_urlencoded::Serializer::new(octets);
        q.append_pair("Signature", &STANDARD.encode(sig));
        q.finish()
    }

    fn message(query: &str) -> RedirectMessage {
        let parts: Vec<&str> = query.split('&').collect();
        RedirectMessage {
            xml: String::new(),
            relay_state: None,
            sig_alg: Some(
                url::form_urlencoded::parse(parts[1].as_bytes())
                    .next()
                    .unwrap()
                    .1
                    .into_owned(),
            ),
            signature: Some(
                url::form_urlencoded::parse(parts[2].as_bytes())
                    .next()
                    .unwrap()
                    .1
                    .into_owned(),
            ),
            signed_octets: Some(format!("{}&{}", parts[0], parts[1])),
        }
    }

    #[test]
    fn redirect_accepts_rsa_sha384_and_sha512_like_the_post_binding() {
        let (key, cert) = credential();
        for (alg, digest) in [
            (RSA_SHA384, MessageDigest::sha384()),
            (RSA_SHA512, MessageDigest::sha512()),
        ] {
            let q = signed_query(alg, &key, digest, false);
            message(&q)
                .verify(&cert, AlgorithmPolicy::default())
                .unwrap();
        }
    }

    #[test]
    fn redirect_accepts_ecdsa_p256_with_a_raw_r_s_signature() {
        use openssl::ec::{EcGroup, EcKey};
        let group = EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).unwrap();
        let key = PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap();
        let mut name = openssl::x509::X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", "ec").unwrap();
        let name = name.build();
        let mut b = openssl::x509::X509Builder::new().unwrap();
        b.set_subject_name(&name).unwrap();
        b.set_issuer_name(&name).unwrap();
        b.set_pubkey(&key).unwrap();
        b.sign(&key, MessageDigest::sha256()).unwrap();
        let cert = b.build().public_key().unwrap();
        let q = signed_query(ECDSA_SHA256, &key, MessageDigest::sha256(), true);
        message(&q)
            .verify(&cert, AlgorithmPolicy::default())
            .unwrap();
    }

    #[test]
    fn post_says_a_deflated_message_looks_deflate_compressed() {
        let url = encode_redirect("https://i/", MessageKind::Request, "<a/>", None, None).unwrap();
        let msg = url
            .query_pairs()
            .find(|(k, _)| k == "SAMLRequest")
            .unwrap()
            .1
            .into_owned();
        match decode_post(&msg, 1000) {
            Err(SamlError::BadEncoding { reason }) => {
                assert!(reason.contains("looks DEFLATE-compressed"), "{reason}")
            }
            other => panic!("expected BadEncoding, got {other:?}"),
        }
    }

    #[test]
    fn redirect_refuses_sha1_unless_allowed() {
        let (_, cert) = credential();
        let msg = RedirectMessage {
            xml: String::new(),
            relay_state: None,
            sig_alg: Some(RSA_SHA1.to_string()),
            signature: Some("AA==".to_string()),
            signed_octets: Some("x".to_string()),
        };
        assert!(matches!(
            msg.verify(&cert, AlgorithmPolicy::default()),
            Err(SamlError::WeakSignatureAlgorithm { .. })
        ));
    }
}
