//! The two scales (reference §7.1): NIST levels 1–4 (2 = password, 3 = two factors or a
//! certificate) and NSIS Low < Substantial < High, with every textual form they take.

use super::{ADFS_MULTIPLEAUTHN, NIST_CLASS_PREFIX, NSIS_CLASS_PREFIX};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A NIST assurance level, 1–4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct NistLevel(u8);

impl TryFrom<u8> for NistLevel {
    type Error = AssuranceError;
    fn try_from(n: u8) -> Result<Self, Self::Error> {
        Self::new(n)
    }
}

/// An NSIS level of assurance. The order is the scale's: Low < Substantial < High.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum NsisLevel {
    /// `Low` (Lav).
    Low,
    /// `Substantial` (Betydelig).
    Substantial,
    /// `High` (Høj).
    High,
}

/// A level that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssuranceError {
    /// Not a NIST level.
    #[error("`{found}` is not a NIST assurance level (1, 2, 3 or 4)")]
    NotNist {
        /// What was found.
        found: String,
    },
    /// Not an NSIS level.
    #[error("`{found}` is not an NSIS level of assurance (Low, Substantial or High)")]
    NotNsis {
        /// What was found.
        found: String,
    },
    /// An AuthnContextClassRef that names no level.
    #[error("the AuthnContextClassRef `{found}` names no assurance level (expected {NIST_CLASS_PREFIX}<1-4>, {NSIS_CLASS_PREFIX}<Low|Substantial|High> or {ADFS_MULTIPLEAUTHN})")]
    UnknownClassRef {
        /// What was found.
        found: String,
    },
    /// The IdP asserted no level in any form.
    #[error("the assertion states no assurance level: neither the loa attribute, the AssuranceLevel attribute nor a level AuthnContextClassRef")]
    NoLevel,
}

impl NistLevel {
    /// Level 1.
    pub const ONE: NistLevel = NistLevel(1);
    /// Level 2 (password).
    pub const TWO: NistLevel = NistLevel(2);
    /// Level 3 (two factors or a certificate).
    pub const THREE: NistLevel = NistLevel(3);
    /// Level 4.
    pub const FOUR: NistLevel = NistLevel(4);

    /// The level `n`, if 1–4.
    pub fn new(n: u8) -> Result<Self, AssuranceError> {
        if (1..=4).contains(&n) {
            Ok(Self(n))
        } else {
            Err(AssuranceError::NotNist {
                found: n.to_string(),
            })
        }
    }

    /// Parses the attribute value (`"3"`, surrounding whitespace allowed).
    pub fn parse(value: &str) -> Result<Self, AssuranceError> {
        let not = || AssuranceError::NotNist {
            found: value.to_string(),
        };
        value
            .trim()
            .parse::<u8>()
            .map_err(|_| not())
            .and_then(|n| Self::new(n).map_err(|_| not()))
    }

    /// The number.
    pub fn get(self) -> u8 {
        self.0
    }

    /// `urn:dk:gov:saml:attribute:AssuranceLevel:<N>`.
    pub fn class_ref(self) -> String {
        format!("{NIST_CLASS_PREFIX}{}", self.0)
    }
}

impl fmt::Display for NistLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl From<NistLevel> for u8 {
    fn from(level: NistLevel) -> u8 {
        level.0
    }
}

impl From<NsisLevel> for String {
    fn from(level: NsisLevel) -> String {
        level.word().to_string()
    }
}

impl TryFrom<String> for NsisLevel {
    type Error = AssuranceError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl NsisLevel {
    /// All levels, lowest first.
    pub const ALL: [NsisLevel; 3] = [NsisLevel::Low, NsisLevel::Substantial, NsisLevel::High];

    /// The plain word of the loa attribute and the class ref's last segment.
    pub fn word(self) -> &'static str {
        match self {
            NsisLevel::Low => "Low",
            NsisLevel::Substantial => "Substantial",
            NsisLevel::High => "High",
        }
    }

    /// Parses the loa attribute's plain word; also accepts the class-ref URI, since IdPs are
    /// seen sending either in the attribute.
    pub fn parse(value: &str) -> Result<Self, AssuranceError> {
        let v = value.trim();
        let word = v.strip_prefix(NSIS_CLASS_PREFIX).unwrap_or(v);
        Self::ALL
            .into_iter()
            .find(|l| l.word().eq_ignore_ascii_case(word))
            .ok_or_else(|| AssuranceError::NotNsis {
                found: value.to_string(),
            })
    }

    /// `https://data.gov.dk/concept/core/nsis/loa/<Level>`.
    pub fn class_ref(self) -> String {
        format!("{NSIS_CLASS_PREFIX}{}", self.word())
    }
}

impl fmt::Display for NsisLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())
    }
}
