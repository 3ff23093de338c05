//! What chsim issues to user systems: a format-neutral [`Identity`] rendered as a SAML assertion
//! per the user system's attribute profile (`saml`), or as the JWTs of an OIDC user system
//! (`jwt`), its ID token encrypted when the system registered encryption (`jwe`).

mod identity;
pub mod jwe;
pub mod jwt;
mod saml;

pub use identity::Identity;
pub use jwe::encrypt_id_token;
pub use jwt::JwtSigner;
pub use saml::{profile_attributes, Recipient, TokenIssuer};

use crate::saml::SamlError;

/// Why issuing failed.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Signing or encrypting failed (a key problem on our side).
    #[error("issuing the token failed: {0}")]
    Saml(#[from] SamlError),
    /// Building or signing a JWT failed (a key problem on our side).
    #[error("issuing the JWT failed: {0}")]
    Jwt(String),
    /// A JWT presented as one of chsim's is not: bad form, `typ`, key, signature or issuer.
    #[error("the JWT is not one chsim issued: {0}")]
    JwtInvalid(String),
    /// A JWT chsim issued has expired.
    #[error("the JWT expired at {exp} (now {now}, seconds since the epoch)")]
    JwtExpired {
        /// Its `exp`.
        exp: i64,
        /// The injected clock's now.
        now: i64,
    },
    /// The OIDC client's registration holds no key for the encryption it registered: no
    /// `use=enc` RSA key for RSA-OAEP*, no `client_secret` for A*KW.
    #[error("cannot encrypt the ID token for client {client_id}: {missing}; {fix}")]
    JweNoKey {
        /// The client.
        client_id: String,
        /// What its registration lacks.
        missing: &'static str,
        /// How to fix the registration.
        fix: &'static str,
    },
    /// Encrypting the ID token failed: the JOSE library refused the client's key (e.g. RSA under
    /// 2048 bits, a JWK whose `alg` names another algorithm) or the encryption itself failed.
    #[error("encrypting the ID token for client {client_id} with {alg}/{enc} failed: {reason}")]
    Jwe {
        /// The client.
        client_id: String,
        /// The registered `encrypted_response_alg`.
        alg: &'static str,
        /// The registered `encrypted_response_enc`.
        enc: &'static str,
        /// What failed, as the JOSE library said it.
        reason: String,
    },
}
