use super::*;
use crate::oidc::registration::{parse_jwks, ApplicationType, AuthMethod, SigningAlg};
use crate::saml::Credential;
use crate::token::jwt::tests::{fresh_credential, signer, ISS};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Duration;
use josekit::jwe::JweDecrypter;
use openssl::rsa::Rsa;
use serde_json::json;
use std::sync::OnceLock;

const CLIENT: &str = "https://jwe-app.example.dk";
const SECRET: &str = "s3cret:with&odd=chars æøå";

/// The client's RSA encryption key pair (generated once: RSA key generation is the slow part).
fn client_key() -> &'static Credential {
    static KEY: OnceLock<Credential> = OnceLock::new();
    KEY.get_or_init(fresh_credential)
}

/// A public JWK of `credential`'s RSA key with `use` and `kid`.
fn public_jwk(credential: &Credential, use_: &str, kid: &str) -> Value {
    let rsa = credential.key().rsa().unwrap();
    json!({
        "kty": "RSA",
        "use": use_,
        "kid": kid,
        "n": URL_SAFE_NO_PAD.encode(rsa.n().to_vec()),
        "e": URL_SAFE_NO_PAD.encode(rsa.e().to_vec()),
    })
}

/// The usual registration: a signing key, then the encryption key `enc-1`.
fn usual_jwks() -> Value {
    json!({"keys": [
        public_jwk(client_key(), "sig", "sig-1"),
        public_jwk(client_key(), "enc", "enc-1"),
    ]})
}

fn client(encryption: Option<(KeyWrapAlg, ContentEnc)>, jwks: Option<Value>) -> OidcClient {
    OidcClient {
        client_id: CLIENT.into(),
        application_type: ApplicationType::Web,
        auth_method: AuthMethod::ClientSecretBasic,
        client_secret: Some(SECRET.into()),
        jwks: jwks.map(|j| parse_jwks(&j.to_string()).unwrap()),
        redirect_uris: vec!["https://jwe-app.example.dk/cb".into()],
        post_logout_redirect_uri: None,
        frontchannel_logout_uri: None,
        backchannel_logout_uri: None,
        signed_response_alg: SigningAlg::PS256,
        encryption,
        token_lifetime: Duration::minutes(60),
        refresh: None,
    }
}

/// A signed ID token as `JwtSigner` makes it.
fn id_token() -> String {
    signer()
        .sign(
            SigningAlg::PS256,
            None,
            &json!({"iss": ISS, "aud": CLIENT, "sub": "anna", "nonce": "n-1", "exp": 1_760_003_600}),
        )
        .unwrap()
}

/// The decrypter the client would use: its RSA private key, or the §10.2 key from `secret`.
fn decrypter(alg: KeyWrapAlg, rsa_key: &Credential, secret: &str) -> Box<dyn JweDecrypter> {
    let kw_key = |octets: usize| openssl::sha::sha256(secret.as_bytes())[..octets].to_vec();
    let der = || rsa_key.key().rsa().unwrap().private_key_to_der().unwrap();
    match alg {
        KeyWrapAlg::RsaOaep => Box::new(jwe::RSA_OAEP.decrypter_from_der(der()).unwrap()),
        KeyWrapAlg::RsaOaep256 => Box::new(jwe::RSA_OAEP_256.decrypter_from_der(der()).unwrap()),
        KeyWrapAlg::A128KW => Box::new(jwe::A128KW.decrypter_from_bytes(kw_key(16)).unwrap()),
        KeyWrapAlg::A192KW => Box::new(jwe::A192KW.decrypter_from_bytes(kw_key(24)).unwrap()),
        KeyWrapAlg::A256KW => Box::new(jwe::A256KW.decrypter_from_bytes(kw_key(32)).unwrap()),
    }
}

/// Encrypts for `alg`/`enc`, decrypts as the client and checks the header and the inner JWS.
fn round_trip(alg: KeyWrapAlg, enc: ContentEnc) {
    let jws = id_token();
    let jwe = encrypt_id_token(&jws, &client(Some((alg, enc)), Some(usual_jwks())))
        .unwrap()
        .unwrap();
    assert_eq!(jwe.split('.').count(), 5, "{alg:?}/{enc:?}: compact JWE");
    let (inner, header) =
        jwe::deserialize_compact(&jwe, decrypter(alg, client_key(), SECRET).as_ref())
            .unwrap_or_else(|e| panic!("{alg:?}/{enc:?}: {e}"));
    assert_eq!(
        inner,
        jws.as_bytes(),
        "{alg:?}/{enc:?}: the JWS, byte for byte"
    );
    assert_eq!(header.content_type(), Some("JWT"));
    assert_eq!(header.algorithm(), Some(alg.as_str()));
    assert_eq!(header.content_encryption(), Some(enc.as_str()));
    let kid = alg.is_rsa().then_some("enc-1");
    assert_eq!(header.key_id(), kid, "{alg:?}: kid of the recipient key");
}

#[test]
fn every_key_wrapping_round_trips_with_cbc_and_gcm() {
    for alg in KeyWrapAlg::ALL {
        for enc in [ContentEnc::A128CbcHs256, ContentEnc::A256GCM] {
            round_trip(alg, enc);
        }
    }
}

#[test]
fn every_content_encryption_round_trips() {
    for enc in ContentEnc::ALL {
        round_trip(KeyWrapAlg::RsaOaep256, enc);
        round_trip(KeyWrapAlg::A192KW, enc);
    }
}

#[test]
fn the_protected_header_is_exactly_cty_alg_enc_and_kid() {
    let jwe = encrypt_id_token(
        &id_token(),
        &client(
            Some((KeyWrapAlg::RsaOaep256, ContentEnc::A256GCM)),
            Some(usual_jwks()),
        ),
    )
    .unwrap()
    .unwrap();
    let header = jwe.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    assert_eq!(
        header,
        json!({"cty": "JWT", "alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": "enc-1"})
    );
}

#[test]
fn a_client_without_encryption_gets_no_jwe() {
    let plain = client(None, Some(usual_jwks()));
    assert!(encrypt_id_token(&id_token(), &plain).unwrap().is_none());
}

#[test]
fn an_rsa_client_whose_jwk_set_has_no_use_enc_key_gets_the_named_error() {
    let sig_only = json!({"keys": [public_jwk(client_key(), "sig", "sig-1")]});
    for jwks in [Some(sig_only), None] {
        let c = client(
            Some((KeyWrapAlg::RsaOaep256, ContentEnc::A256GCM)),
            jwks.clone(),
        );
        let err = encrypt_id_token(&id_token(), &c).unwrap_err();
        assert!(
            matches!(&err, TokenError::JweNoKey { client_id, missing, .. }
                if client_id == CLIENT && missing.contains("use")),
            "{jwks:?}: {err}"
        );
        assert!(err
            .to_string()
            .contains("add the client's RSA encryption key"));
    }
}

#[test]
fn a_key_wrapping_client_without_a_secret_gets_the_named_error() {
    for secret in [None, Some(String::new())] {
        let mut c = client(Some((KeyWrapAlg::A128KW, ContentEnc::A128GCM)), None);
        c.client_secret = secret;
        let err = encrypt_id_token(&id_token(), &c).unwrap_err();
        assert!(
            matches!(&err, TokenError::JweNoKey { client_id, missing, .. }
                if client_id == CLIENT && missing.contains("client_secret")),
            "{err}"
        );
    }
}

#[test]
fn a_key_wrapped_jwe_does_not_decrypt_with_another_secret() {
    for alg in [KeyWrapAlg::A128KW, KeyWrapAlg::A192KW, KeyWrapAlg::A256KW] {
        let jwe = encrypt_id_token(
            &id_token(),
            &client(Some((alg, ContentEnc::A256CbcHs512)), None),
        )
        .unwrap()
        .unwrap();
        let wrong = decrypter(alg, client_key(), "s3cret:with&odd=chars æøa");
        assert!(
            jwe::deserialize_compact(&jwe, wrong.as_ref()).is_err(),
            "{alg:?}"
        );
    }
}

#[test]
fn the_key_wrapping_key_is_the_leftmost_bits_of_sha256_of_the_secret() {
    // SHA-256("abc") (FIPS 180-2 B.1) is ba7816bf 8f01cfea 414140de 5dae2223 b00361a3 …; OIDC
    // Core §10.2 takes its leftmost 128 bits for A128KW.
    let mut c = client(Some((KeyWrapAlg::A128KW, ContentEnc::A128CbcHs256)), None);
    c.client_secret = Some("abc".into());
    let jwe = encrypt_id_token(&id_token(), &c).unwrap().unwrap();
    let key = [
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22,
        0x23,
    ];
    let decrypter = jwe::A128KW.decrypter_from_bytes(key).unwrap();
    assert!(jwe::deserialize_compact(&jwe, &decrypter).is_ok());
}

#[test]
fn an_rsa_jwe_does_not_decrypt_with_another_key() {
    let jwe = encrypt_id_token(
        &id_token(),
        &client(
            Some((KeyWrapAlg::RsaOaep, ContentEnc::A128GCM)),
            Some(usual_jwks()),
        ),
    )
    .unwrap()
    .unwrap();
    let other = decrypter(KeyWrapAlg::RsaOaep, &fresh_credential(), SECRET);
    assert!(jwe::deserialize_compact(&jwe, other.as_ref()).is_err());
}

#[test]
fn the_first_use_enc_key_is_the_recipient_when_there_are_several() {
    let next = fresh_credential();
    let rollover = json!({"keys": [
        public_jwk(&next, "sig", "sig-2"),
        public_jwk(&next, "enc", "enc-2"),
        public_jwk(client_key(), "enc", "enc-1"),
    ]});
    let alg = KeyWrapAlg::RsaOaep256;
    let jwe = encrypt_id_token(
        &id_token(),
        &client(Some((alg, ContentEnc::A256GCM)), Some(rollover)),
    )
    .unwrap()
    .unwrap();
    let (_, header) =
        jwe::deserialize_compact(&jwe, decrypter(alg, &next, SECRET).as_ref()).unwrap();
    assert_eq!(header.key_id(), Some("enc-2"));
}

#[test]
fn a_use_enc_key_whose_alg_names_another_algorithm_is_refused() {
    let mut key = public_jwk(client_key(), "enc", "enc-1");
    key["alg"] = json!("RSA-OAEP");
    let c = client(
        Some((KeyWrapAlg::RsaOaep256, ContentEnc::A256GCM)),
        Some(json!({"keys": [key]})),
    );
    let err = encrypt_id_token(&id_token(), &c).unwrap_err();
    assert!(
        matches!(&err, TokenError::Jwe { client_id, alg: "RSA-OAEP-256", enc: "A256GCM", reason }
            if client_id == CLIENT && reason.contains("RSA-OAEP")),
        "{err}"
    );
}

#[test]
fn an_rsa_key_under_2048_bits_is_refused() {
    let small = Rsa::generate(1024).unwrap();
    let key = json!({
        "kty": "RSA", "use": "enc", "kid": "small",
        "n": URL_SAFE_NO_PAD.encode(small.n().to_vec()),
        "e": URL_SAFE_NO_PAD.encode(small.e().to_vec()),
    });
    let c = client(
        Some((KeyWrapAlg::RsaOaep256, ContentEnc::A256GCM)),
        Some(json!({"keys": [key]})),
    );
    let err = encrypt_id_token(&id_token(), &c).unwrap_err();
    assert!(
        matches!(&err, TokenError::Jwe { reason, .. } if reason.contains("2048")),
        "{err}"
    );
}

#[test]
fn each_encryption_has_a_fresh_content_key_and_iv() {
    let c = client(
        Some((KeyWrapAlg::A256KW, ContentEnc::A256GCM)),
        Some(usual_jwks()),
    );
    let jws = id_token();
    let a = encrypt_id_token(&jws, &c).unwrap().unwrap();
    let b = encrypt_id_token(&jws, &c).unwrap().unwrap();
    let parts = |s: &str| s.split('.').map(str::to_string).collect::<Vec<_>>();
    let (a, b) = (parts(&a), parts(&b));
    assert_eq!(a[0], b[0], "same header");
    for i in 1..5 {
        assert_ne!(a[i], b[i], "part {i} differs");
    }
}
