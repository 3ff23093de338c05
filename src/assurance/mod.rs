//! Assurance levels (reference §7; issue #3 §1–§3), pure: NIST levels 1–4 and NSIS
//! Low < Substantial < High, read from and written to every form of §7.1, the equivalence used
//! when a NIST requirement meets an NSIS login, and how each IdP profile (§7.4) is asked for a
//! level. The broker wires these in; nothing here does I/O.

mod asserted;
mod level;
mod profile;
mod requirement;
#[cfg(test)]
mod tests;

pub use asserted::{read_asserted, Asserted, AssertedLevel};
pub use level::{AssuranceError, NistLevel, NsisLevel};
pub use profile::{IdpProfile, RequestedLevel};
pub use requirement::{requested_minimum, Equivalence, Requirement};

/// `dk:gov:saml:attribute:AssuranceLevel` — the NIST level as an attribute (`1`…`4`).
pub const NIST_ATTRIBUTE: &str = "dk:gov:saml:attribute:AssuranceLevel";
/// `urn:dk:gov:saml:attribute:AssuranceLevel:<N>` — the NIST level as AuthnContextClassRef.
pub const NIST_CLASS_PREFIX: &str = "urn:dk:gov:saml:attribute:AssuranceLevel:";
/// `https://data.gov.dk/concept/core/nsis/loa` — the NSIS level as an attribute (plain word).
pub const NSIS_ATTRIBUTE: &str = "https://data.gov.dk/concept/core/nsis/loa";
/// `https://data.gov.dk/concept/core/nsis/loa/<Level>` — the NSIS level as AuthnContextClassRef.
pub const NSIS_CLASS_PREFIX: &str = "https://data.gov.dk/concept/core/nsis/loa/";
/// AD FS's class ref for a multi-factor login (what an AD FS-profiled IdP is asked for and sends).
pub const ADFS_MULTIPLEAUTHN: &str = "http://schemas.microsoft.com/claims/multipleauthn";
