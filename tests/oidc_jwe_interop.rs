//! Encrypted ID tokens checked by independent JOSE software (issue #11 §3 "JWE"): chsim signs an
//! ID token with a fresh key and encrypts it for a client with `token::encrypt_id_token`; Python's
//! jwcrypto, as the client, decrypts the JWE (RSA-OAEP* with the client's private key, A*KW with
//! a key it derives from `client_secret` itself per OIDC Core §10.2), checks the protected header
//! (`cty` JWT, `alg`, `enc`, `kid`) and verifies the nested PS256 JWS with the key from chsim's
//! published JWK Set. Every `alg` and every `enc` is covered.
//!
//! The Python side is `tests/interop/decrypt_id_token.py` and runs from `.venv` (made by
//! `make test`; `CHSIM_PYTHON` overrides).
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use common::python::python;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Duration;
use chsim::deployment::keygen::keygen;
use chsim::oidc::registration::{
    parse_jwks, ApplicationType, AuthMethod, ContentEnc, KeyWrapAlg, SigningAlg,
};
use chsim::oidc::OidcClient;
use chsim::saml::Credential;
use chsim::token::{encrypt_id_token, JwtSigner};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const ISS: &str = "https://chsim.example.dk/runtime/oauth2";
const CLIENT: &str = "https://jwe-app.example.dk";
const SECRET: &str = "s3cret:with&odd=chars æøå";

/// chsim's signer and the client's encryption key, both fresh (chsim's own keygen), in `dir`.
struct Keys {
    dir: tempfile::TempDir,
    signer: JwtSigner,
    client_key: PathBuf,
    client_jwk: Value,
}

fn keys() -> Keys {
    let dir = tempfile::tempdir().unwrap();
    // keygen's "signing" pair is chsim's; its "encryption" pair plays the client's use=enc key.
    let files = keygen(dir.path()).unwrap();
    let pem = |p: &Path| std::fs::read(p).unwrap();
    let chsim = Credential::from_pem(&pem(&files.signing_key), &pem(&files.signing_cert)).unwrap();
    let client =
        Credential::from_pem(&pem(&files.encryption_key), &pem(&files.encryption_cert)).unwrap();
    let rsa = client.key().rsa().unwrap();
    let client_jwk = json!({
        "kty": "RSA",
        "use": "enc",
        "kid": "client-enc-1",
        "n": URL_SAFE_NO_PAD.encode(rsa.n().to_vec()),
        "e": URL_SAFE_NO_PAD.encode(rsa.e().to_vec()),
    });
    let signer = JwtSigner::new(ISS.into(), &chsim).unwrap();
    std::fs::write(
        dir.path().join("chsim-jwks.json"),
        signer.jwks().to_string(),
    )
    .unwrap();
    std::fs::write(dir.path().join("client-secret.txt"), SECRET).unwrap();
    Keys {
        client_key: files.encryption_key,
        dir,
        signer,
        client_jwk,
    }
}

fn client(keys: &Keys, alg: KeyWrapAlg, enc: ContentEnc) -> OidcClient {
    let jwks = json!({"keys": [keys.client_jwk]}).to_string();
    OidcClient {
        client_id: CLIENT.into(),
        application_type: ApplicationType::Web,
        auth_method: AuthMethod::ClientSecretBasic,
        client_secret: Some(SECRET.into()),
        jwks: Some(parse_jwks(&jwks).unwrap()),
        redirect_uris: vec![format!("{CLIENT}/cb")],
        post_logout_redirect_uri: None,
        frontchannel_logout_uri: None,
        backchannel_logout_uri: None,
        signed_response_alg: SigningAlg::PS256,
        encryption: Some((alg, enc)),
        token_lifetime: Duration::minutes(60),
        refresh: None,
    }
}

/// Runs the Python client on `jwe` (written to the key directory) for `alg`/`enc`.
fn decrypt_in_python(keys: &Keys, alg: KeyWrapAlg, enc: ContentEnc, jwe: &str) -> Output {
    let dir = keys.dir.path();
    let file = dir.join("id_token.jwe");
    std::fs::write(&file, jwe).unwrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/interop/decrypt_id_token.py"
    );
    let mut cmd = Command::new(python());
    cmd.arg("-W").arg("ignore").arg(script);
    cmd.arg("--jwe").arg(&file);
    cmd.arg("--chsim-jwks").arg(dir.join("chsim-jwks.json"));
    cmd.args(["--alg", alg.as_str(), "--enc", enc.as_str()]);
    if alg.is_rsa() {
        cmd.arg("--client-key").arg(&keys.client_key);
        cmd.args(["--kid", "client-enc-1"]);
    } else {
        cmd.arg("--client-secret")
            .arg(dir.join("client-secret.txt"));
    }
    cmd.output().unwrap()
}

#[test]
fn jwcrypto_decrypts_chsims_encrypted_id_token_and_verifies_the_nested_jws() {
    let keys = keys();
    let claims = json!({
        "iss": ISS,
        "aud": CLIENT,
        "sub": "anna",
        "nonce": "n-0S6_WzA2Mj",
        "exp": 1_760_003_600,
        "https://data.gov.dk/model/core/eid/professional/cvr": "29189846",
    });
    let jws = keys.signer.sign(SigningAlg::PS256, None, &claims).unwrap();
    // Every alg, and every enc at least once.
    let cases = [
        (KeyWrapAlg::RsaOaep, ContentEnc::A128CbcHs256),
        (KeyWrapAlg::RsaOaep, ContentEnc::A128GCM),
        (KeyWrapAlg::RsaOaep256, ContentEnc::A256GCM),
        (KeyWrapAlg::RsaOaep256, ContentEnc::A192CbcHs384),
        (KeyWrapAlg::A128KW, ContentEnc::A128GCM),
        (KeyWrapAlg::A192KW, ContentEnc::A192GCM),
        (KeyWrapAlg::A256KW, ContentEnc::A256CbcHs512),
    ];
    for (alg, enc) in cases {
        let jwe = encrypt_id_token(&jws, &client(&keys, alg, enc))
            .unwrap()
            .unwrap();
        let out = decrypt_in_python(&keys, alg, enc, &jwe);
        assert!(
            out.status.success(),
            "{alg:?}/{enc:?}: jwcrypto refused chsim's JWE:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let seen: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(seen["header"]["cty"], "JWT");
        assert_eq!(seen["header"]["alg"], alg.as_str());
        assert_eq!(seen["header"]["enc"], enc.as_str());
        assert_eq!(seen["inner_header"]["alg"], "PS256");
        assert_eq!(
            seen["inner_header"]["kid"],
            keys.signer.kid(SigningAlg::PS256)
        );
        assert_eq!(seen["claims"], claims, "{alg:?}/{enc:?}");
        assert_eq!(seen["jws"], jws.as_str(), "the nested JWS, byte for byte");
    }
}

#[test]
fn jwcrypto_refuses_chsims_jwe_once_one_ciphertext_character_changes() {
    // The control: the Python side really checks, so its success above means something.
    let keys = keys();
    let jws = keys
        .signer
        .sign(SigningAlg::PS256, None, &json!({"iss": ISS, "sub": "anna"}))
        .unwrap();
    for alg in [KeyWrapAlg::RsaOaep256, KeyWrapAlg::A256KW] {
        let enc = ContentEnc::A256GCM;
        let jwe = encrypt_id_token(&jws, &client(&keys, alg, enc))
            .unwrap()
            .unwrap();
        let mut parts: Vec<String> = jwe.split('.').map(str::to_string).collect();
        let flipped = if parts[3].starts_with('A') { "B" } else { "A" };
        parts[3].replace_range(..1, flipped);
        let out = decrypt_in_python(&keys, alg, enc, &parts.join("."));
        assert!(
            !out.status.success(),
            "{alg:?}: a changed ciphertext was accepted"
        );
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("could not decrypt"),
            "{alg:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
