//! What chsim issues to user systems: a format-neutral [`Identity`] rendered as a SAML assertion
//! per the user system's attribute profile (`saml`), or as the JWTs of an OIDC user system
//! (`jwt`).

mod identity;
pub mod jwt;
mod saml;

pub use identity::Identity;
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
}
