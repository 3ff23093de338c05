//! Tests of the EncryptedAssertion module: round trips, independent peers' fixtures
//! (xmlsec1, pyca/cryptography; see tests/fixtures/encryption/README.md) and refusals.
#![allow(clippy::unwrap_used)]

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
    let mut crypter = Crypter::new(Cipher::aes_256_cbc(), Mode::Encrypt, key, Some(&iv)).unwrap();
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
    let xml = encrypt_assertion(ASSERTION, cert, EncryptionSuite::Aes256CbcRsaOaepMgf1p).unwrap();
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
    let input = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- c -->\n{ASSERTION}\n");
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
    assert_is_the_fixture_assertion(
        &decrypt_assertion_with(
            xml,
            &fixture_key(),
            KeyTransportPolicy { allow_rsa1_5: true },
        )
        .unwrap(),
    );
}

#[test]
fn decrypts_aes256_gcm_with_rsa_oaep_mgf1p_from_xmlsec1() {
    let xml = fixture!("xmlsec1-aes256gcm-rsaoaepmgf1p.xml");
    assert_is_the_fixture_assertion(&decrypt_assertion(xml, &fixture_key()).unwrap());
}

#[test]
fn decrypts_aes128_gcm_with_rsa_1_5_from_xmlsec1() {
    let xml = fixture!("xmlsec1-aes128gcm-rsa15.xml");
    assert_is_the_fixture_assertion(
        &decrypt_assertion_with(
            xml,
            &fixture_key(),
            KeyTransportPolicy { allow_rsa1_5: true },
        )
        .unwrap(),
    );
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
    let ours = without
        .find(r#"<xenc:EncryptedKey xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" Id="_ek-ours""#)
        .unwrap();
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
    let err =
        encrypt_assertion("{}", &fresh().1, EncryptionSuite::Aes256CbcRsaOaepMgf1p).unwrap_err();
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
    let out = out.expect(
        "xmlsec1 is not installed: run `make test` (it installs the Debian package xmlsec1)",
    );
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
        Ok(out) => panic!(
            "pyca/cryptography could not decrypt our output (run `make test`, which creates .venv with it): {}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => panic!("python3 is not installed ({e}): run `make test`"),
    }
}

#[test]
fn refuses_rsa_1_5_key_transport_unless_allowed() {
    let xml = fixture!("xmlsec1-aes256cbc-rsa15.xml");
    assert_eq!(
        decrypt_assertion(xml, &fixture_key()),
        Err(EncryptionError::InsecureKeyTransport)
    );
}
