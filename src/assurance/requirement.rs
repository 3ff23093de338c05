//! What a user system requires (reference §7.2): a NIST level xor an NSIS level, possibly raised
//! — never lowered — by its AuthnRequest's `RequestedAuthnContext Comparison="minimum"`; and
//! whether an asserted level meets it, with the NSIS→NIST equivalence for NIST requirements.

use super::{AssertedLevel, NistLevel, NsisLevel};
use std::fmt;

/// A user system's minimum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requirement {
    /// At least this NIST level (an NSIS login counts through the [`Equivalence`]).
    Nist(NistLevel),
    /// At least this NSIS level (a NIST level never meets it).
    Nsis(NsisLevel),
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Requirement::Nist(l) => write!(f, "NIST level {l}"),
            Requirement::Nsis(l) => write!(f, "NSIS {l}"),
        }
    }
}

/// The NIST level each NSIS level counts as, for user systems that require a NIST level.
/// Default: KOMBIT's rule of thumb "Lav – 2, Betydelig – 3, Høj – 4" (reference §7.1, [VHW]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Equivalence {
    /// NSIS Low counts as this NIST level.
    pub low: NistLevel,
    /// NSIS Substantial counts as this NIST level.
    pub substantial: NistLevel,
    /// NSIS High counts as this NIST level.
    pub high: NistLevel,
}

impl Default for Equivalence {
    fn default() -> Self {
        Self {
            low: NistLevel::TWO,
            substantial: NistLevel::THREE,
            high: NistLevel::FOUR,
        }
    }
}

impl Equivalence {
    /// The NIST level `nsis` counts as.
    pub fn nist_for(&self, nsis: NsisLevel) -> NistLevel {
        match nsis {
            NsisLevel::Low => self.low,
            NsisLevel::Substantial => self.substantial,
            NsisLevel::High => self.high,
        }
    }
}

impl Requirement {
    /// Whether `asserted` meets this requirement.
    pub fn is_met_by(&self, asserted: &AssertedLevel, eq: &Equivalence) -> bool {
        match self {
            Requirement::Nsis(required) => asserted.nsis.is_some_and(|l| l >= *required),
            Requirement::Nist(required) => {
                asserted.nist.is_some_and(|l| l >= *required)
                    || asserted.nsis.is_some_and(|l| eq.nist_for(l) >= *required)
            }
        }
    }

    /// This requirement raised by what the user system asked for in its AuthnRequest: a login
    /// must meet both, so the result is the weakest requirement that implies both. A request for
    /// less changes nothing. When the kinds differ the result is an NSIS requirement (NSIS is the
    /// stronger claim: no NIST login meets it): the lowest NSIS level that meets the NSIS part
    /// and counts, through `eq`, as at least the NIST part.
    pub fn raised_by(self, requested: Requirement, eq: &Equivalence) -> Requirement {
        let lowest_nsis_for = |nist: NistLevel| {
            NsisLevel::ALL
                .into_iter()
                .find(|l| eq.nist_for(*l) >= nist)
                .unwrap_or(NsisLevel::High)
        };
        match (self, requested) {
            (Requirement::Nist(a), Requirement::Nist(b)) => Requirement::Nist(a.max(b)),
            (Requirement::Nsis(a), Requirement::Nsis(b)) => Requirement::Nsis(a.max(b)),
            (Requirement::Nist(n), Requirement::Nsis(s))
            | (Requirement::Nsis(s), Requirement::Nist(n)) => {
                Requirement::Nsis(s.max(lowest_nsis_for(n)))
            }
        }
    }
}
