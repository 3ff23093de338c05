//! The encrypted ID token of an OIDC user system that registered `encrypted_response_alg`
//! (issue #11 §3): the signed ID token (a JWS from [`super::JwtSigner::sign`]) encrypted as a
//! nested JWT — a JWE compact serialization (RFC 7516 §7.1) whose protected header carries
//! `cty: "JWT"` (RFC 7519 §5.2), `alg`, `enc` and the recipient key's `kid` when it has one
//! (OIDC Core §10.2, "Signing and Encryption Order": sign first, then encrypt).
//!
//! The key comes from the registration: RSA-OAEP and RSA-OAEP-256 encrypt the content key to the
//! client's `use=enc` RSA key; A128KW, A192KW and A256KW wrap it with a key derived from the
//! client's `client_secret` (OIDC Core §10.2, "Symmetric Encryption"). All JOSE cryptography is
//! `josekit`'s; nothing here hand-rolls a cipher. Pure: no clock, no I/O.

use super::TokenError;
use crate::oidc::registration::{ContentEnc, KeyWrapAlg};
use crate::oidc::OidcClient;
use josekit::jwe::{self, JweEncrypter, JweHeader};
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, PublicKeyUse};
use serde_json::{Map, Value};

#[cfg(test)]
mod tests;

/// `cty` of a nested JWT (RFC 7519 §5.2): the payload is itself a JWT, here the signed ID token.
pub const NESTED_JWT_CTY: &str = "JWT";

/// Encrypts the signed ID token `jws` as the client registered: `None` when it registered no
/// `encrypted_response_alg` (the JWS goes out as it is), else the JWE compact serialization.
///
/// Fails when the registration holds no key for its algorithm (no `use=enc` RSA key, no
/// `client_secret`), or when `josekit` refuses the key (e.g. an RSA key under 2048 bits, or a
/// JWK whose own `alg` names another algorithm).
pub fn encrypt_id_token(jws: &str, client: &OidcClient) -> Result<Option<String>, TokenError> {
    let Some((alg, enc)) = client.encryption else {
        return Ok(None);
    };
    let encrypter = encrypter(alg, enc, client)?;
    let mut header = JweHeader::new();
    // The JWA names of `enc` are josekit's registered names (RFC 7518 §5.1).
    header.set_content_encryption(enc.as_str());
    header.set_content_type(NESTED_JWT_CTY);
    // `alg`, and `kid` when the recipient key has one, are set by josekit from the encrypter.
    jwe::serialize_compact(jws.as_bytes(), &header, encrypter.as_ref())
        .map(Some)
        .map_err(|e| failed(client, alg, enc, e.to_string()))
}

/// A [`TokenError::Jwe`] for `client`.
fn failed(client: &OidcClient, alg: KeyWrapAlg, enc: ContentEnc, reason: String) -> TokenError {
    TokenError::Jwe {
        client_id: client.client_id.clone(),
        alg: alg.as_str(),
        enc: enc.as_str(),
        reason,
    }
}

/// The content-key encrypter for `alg` with the client's key.
fn encrypter(
    alg: KeyWrapAlg,
    enc: ContentEnc,
    client: &OidcClient,
) -> Result<Box<dyn JweEncrypter>, TokenError> {
    let failed = |reason: String| failed(client, alg, enc, reason);
    Ok(match alg {
        KeyWrapAlg::RsaOaep | KeyWrapAlg::RsaOaep256 => {
            let jwk = josekit_jwk(encryption_key(client)?).map_err(failed)?;
            let rsa = if alg == KeyWrapAlg::RsaOaep {
                jwe::RSA_OAEP
            } else {
                jwe::RSA_OAEP_256
            };
            Box::new(
                rsa.encrypter_from_jwk(&jwk)
                    .map_err(|e| failed(format!("its use=enc key is not usable: {e}")))?,
            )
        }
        KeyWrapAlg::A128KW | KeyWrapAlg::A192KW | KeyWrapAlg::A256KW => {
            let (aes, octets) = match alg {
                KeyWrapAlg::A128KW => (jwe::A128KW, 16),
                KeyWrapAlg::A192KW => (jwe::A192KW, 24),
                _ => (jwe::A256KW, 32),
            };
            Box::new(
                aes.encrypter_from_bytes(secret_key(client, octets)?)
                    .map_err(|e| failed(format!("the key derived from client_secret: {e}")))?,
            )
        }
    })
}

/// The client's first `use=enc` RSA key. The first, not "the only": a client rolling its
/// encryption key over publishes the old and the new side by side, and the JWE names the key by
/// its `kid`, so the client can always tell which of its private keys to use; refusing a JWK Set
/// with two would break the rollover that `kid` exists for.
fn encryption_key(client: &OidcClient) -> Result<&Jwk, TokenError> {
    client
        .jwks
        .iter()
        .flat_map(|set| &set.keys)
        .find(|k| {
            matches!(k.common.public_key_use, Some(PublicKeyUse::Encryption))
                && matches!(k.algorithm, AlgorithmParameters::RSA(_))
        })
        .ok_or_else(|| TokenError::JweNoKey {
            client_id: client.client_id.clone(),
            missing: "its JWK Set has no RSA key with \"use\": \"enc\"",
            fix: "add the client's RSA encryption key (kty RSA, use enc) to its jwks",
        })
}

/// The recipient key as josekit reads it, through its JWK JSON (no RSA arithmetic of ours).
fn josekit_jwk(jwk: &Jwk) -> Result<josekit::jwk::Jwk, String> {
    let map: Map<String, Value> = match serde_json::to_value(jwk) {
        Ok(Value::Object(map)) => map,
        Ok(other) => return Err(format!("its use=enc key is not a JSON object: {other}")),
        Err(e) => return Err(format!("its use=enc key cannot be written as JSON: {e}")),
    };
    josekit::jwk::Jwk::from_map(map).map_err(|e| format!("its use=enc key is not a JWK: {e}"))
}

/// The AES key-wrapping key of OIDC Core §10.2: the leftmost `octets` octets of SHA-256 over the
/// UTF-8 octets of `client_secret` (SHA-256 covers every key up to 256 bits, and A256KW is the
/// longest chsim offers; SHA-384/512 are for longer keys).
fn secret_key(client: &OidcClient, octets: usize) -> Result<Vec<u8>, TokenError> {
    let secret = client
        .client_secret
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| TokenError::JweNoKey {
            client_id: client.client_id.clone(),
            missing: "it has no client_secret to derive the A*KW key from",
            fix: "register a client_secret, or use RSA-OAEP-256 with a use=enc key in its jwks",
        })?;
    Ok(openssl::sha::sha256(secret.as_bytes())[..octets].to_vec())
}
