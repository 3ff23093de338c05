//! Newtype identifiers, so that an entityID is never confused with a request ID or a CVR number.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps a string without checking it.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }
            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_string())
            }
        }
    };
}

string_id!(
    /// A SAML entityID (of chsim, a municipal IdP or a user system).
    EntityId
);
string_id!(
    /// The `ID` of a SAML request (AuthnRequest, AttributeQuery) — what `InResponseTo` refers to.
    RequestId
);
string_id!(
    /// The `ID` of a SAML assertion, the key of the replay cache.
    AssertionId
);
string_id!(
    /// chsim's handle on one login in progress (one user-system AuthnRequest).
    LoginId
);

/// A Danish CVR number: exactly eight digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cvr(String);

impl Cvr {
    /// Parses a CVR number, refusing anything that is not eight digits.
    pub fn parse(value: &str) -> Result<Self, String> {
        if value.len() == 8 && value.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(value.to_string()))
        } else {
            Err(format!("`{value}` is not a CVR number (eight digits)"))
        }
    }
    /// The eight digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Cvr {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Cvr> for String {
    fn from(value: Cvr) -> Self {
        value.0
    }
}

impl fmt::Display for Cvr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A fresh, unguessable SAML ID (`_` + 160 random bits in hex; an NCName as SAML requires).
pub fn new_saml_id() -> String {
    let mut bytes = [0u8; 20];
    // openssl's CSPRNG only fails when the OS has no entropy source at all; fall back to a
    // process-unique counter mixed with the address of a stack value rather than panic.
    if openssl::rand::rand_bytes(&mut bytes).is_err() {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(1);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        bytes[..8].copy_from_slice(&n.to_be_bytes());
    }
    let mut id = String::with_capacity(41);
    id.push('_');
    for b in bytes {
        id.push_str(&format!("{b:02x}"));
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cvr_accepts_eight_digits_only() {
        assert!(Cvr::parse("11111111").is_ok());
        assert!(Cvr::parse("1111111").is_err());
        assert!(Cvr::parse("1111111a").is_err());
    }

    #[test]
    fn saml_ids_are_unique_ncnames() {
        let a = new_saml_id();
        let b = new_saml_id();
        assert_ne!(a, b);
        assert!(a.starts_with('_'));
        assert_eq!(a.len(), 41);
    }
}

/// chsim's SSO session handle: the `chsim_session` cookie's value, 256 random bits. It is a
/// bearer secret — whoever holds it is logged in —, so `Debug` does not print it.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionId(String);

/// 256 random bits from OpenSSL's CSPRNG, base64url: a bearer handle for a cookie.
pub fn random_handle() -> Result<String, openssl::error::ErrorStack> {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    openssl::rand::rand_bytes(&mut bytes)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// Whether a cookie value can be one of [`random_handle`]'s (so that a stranger's cookie of
/// any shape never reaches the store).
pub fn is_handle(value: &str) -> bool {
    value.len() == 43
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl SessionId {
    /// A fresh random handle.
    pub fn generate() -> Result<Self, openssl::error::ErrorStack> {
        random_handle().map(Self)
    }

    /// A handle as the browser sent it; None when it cannot be one of chsim's.
    pub fn from_cookie(value: &str) -> Option<Self> {
        is_handle(value).then(|| Self(value.to_string()))
    }

    /// The cookie value.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionId([redacted])")
    }
}
