//! What a user system requires (reference §7.2): a NIST level xor an NSIS level, possibly raised
//! — never lowered — by its AuthnRequest's `RequestedAuthnContext Comparison="minimum"`; and
//! whether an asserted level meets it, with the NSIS→NIST equivalence for NIST requirements.

use super::{AssertedLevel, NistLevel, NsisLevel};
use std::fmt;

/// A user system's minimum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
    ///
    /// None when no login can meet both: an NSIS part and a NIST part that no NSIS level counts
    /// as under `eq` (possible only with a table whose High counts as less than NIST 4).
    pub fn raised_by(self, requested: Requirement, eq: &Equivalence) -> Option<Requirement> {
        let lowest_nsis_for =
            |nist: NistLevel| NsisLevel::ALL.into_iter().find(|l| eq.nist_for(*l) >= nist);
        match (self, requested) {
            (Requirement::Nist(a), Requirement::Nist(b)) => Some(Requirement::Nist(a.max(b))),
            (Requirement::Nsis(a), Requirement::Nsis(b)) => Some(Requirement::Nsis(a.max(b))),
            (Requirement::Nist(n), Requirement::Nsis(s))
            | (Requirement::Nsis(s), Requirement::Nist(n)) => {
                lowest_nsis_for(n).map(|l| Requirement::Nsis(s.max(l)))
            }
        }
    }

    /// The NIST level to state to an OIOSAML2 user system (which carries no NSIS level) for a
    /// login that proved `asserted`: the higher of the NIST level and the NSIS level's equivalent.
    pub fn stated_nist(asserted: &AssertedLevel, eq: &Equivalence) -> Option<NistLevel> {
        asserted.nist.max(asserted.nsis.map(|l| eq.nist_for(l)))
    }
}

/// What a user system's `RequestedAuthnContext` asks for, as a requirement: with several class
/// refs the weakest (SAML: at least one must be met), unknown class refs ignored. `maximum` asks
/// for no minimum, so it cannot raise anything; `exact` and `better` are read as `minimum`
/// (chsim only ever raises a requirement).
pub fn requested_minimum(comparison: &str, class_refs: &[String]) -> Option<Requirement> {
    use super::{NIST_CLASS_PREFIX, NSIS_CLASS_PREFIX};
    if comparison == "maximum" {
        return None;
    }
    let parsed: Vec<Requirement> = class_refs
        .iter()
        .filter_map(|c| {
            let c = c.trim();
            if let Some(w) = c.strip_prefix(NSIS_CLASS_PREFIX) {
                NsisLevel::parse(w).ok().map(Requirement::Nsis)
            } else if let Some(n) = c.strip_prefix(NIST_CLASS_PREFIX) {
                NistLevel::parse(n).ok().map(Requirement::Nist)
            } else if c == super::ADFS_MULTIPLEAUTHN {
                Some(Requirement::Nist(NistLevel::THREE))
            } else {
                None
            }
        })
        .collect();
    // The weakest: any NIST requirement is weaker than any NSIS one (NIST can be met by either).
    let weakest_nist = parsed
        .iter()
        .filter_map(|r| match r {
            Requirement::Nist(n) => Some(*n),
            Requirement::Nsis(_) => None,
        })
        .min();
    let weakest_nsis = parsed
        .iter()
        .filter_map(|r| match r {
            Requirement::Nsis(l) => Some(*l),
            Requirement::Nist(_) => None,
        })
        .min();
    weakest_nist
        .map(Requirement::Nist)
        .or(weakest_nsis.map(Requirement::Nsis))
}
