//! What chsim issues to user systems: a format-neutral [`Identity`] rendered as a SAML assertion
//! per the user system's attribute profile (`saml`); further token formats are siblings.

mod identity;
mod saml;

pub use identity::Identity;
pub use saml::{profile_attributes, Recipient, TokenIssuer};

use crate::saml::SamlError;

/// Why issuing failed.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Signing or encrypting failed (a key problem on our side).
    #[error("issuing the token failed: {0}")]
    Saml(#[from] SamlError),
}
