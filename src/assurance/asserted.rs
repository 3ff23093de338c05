//! What level an IdP's assertion proves (issue #3 §3): the loa attribute is authoritative for
//! NSIS, the AssuranceLevel attribute for NIST, and the AuthnContextClassRef stands in for
//! whichever attribute is missing. OS2faktor sends the loa for NSIS users and the NIST attribute
//! for the others (reference §4.2, §7.6), so both may be present, or either alone.

use super::{
    AssuranceError, NistLevel, NsisLevel, ADFS_MULTIPLEAUTHN, NIST_CLASS_PREFIX, NSIS_CLASS_PREFIX,
};

/// The raw forms an assertion carries.
#[derive(Debug, Clone, Copy, Default)]
pub struct Asserted<'a> {
    /// `https://data.gov.dk/concept/core/nsis/loa` attribute value.
    pub loa_attribute: Option<&'a str>,
    /// `dk:gov:saml:attribute:AssuranceLevel` attribute value.
    pub nist_attribute: Option<&'a str>,
    /// The AuthnContextClassRef.
    pub class_ref: Option<&'a str>,
}

/// The levels an assertion proves: an NSIS level, a NIST level, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssertedLevel {
    /// The NSIS level, when the login was an NSIS login.
    pub nsis: Option<NsisLevel>,
    /// The NIST level, when stated.
    pub nist: Option<NistLevel>,
}

/// Reads the asserted level. A value that is present but malformed is an error, never ignored.
pub fn read_asserted(a: Asserted<'_>) -> Result<AssertedLevel, AssuranceError> {
    let mut nsis = a.loa_attribute.map(NsisLevel::parse).transpose()?;
    let mut nist = a.nist_attribute.map(NistLevel::parse).transpose()?;
    // The class ref only stands in when neither attribute states a level: an IdP that echoes
    // the requested NSIS class ref over a NIST attribute has not proved NSIS.
    if let Some(class_ref) = a
        .class_ref
        .map(str::trim)
        .filter(|_| nsis.is_none() && nist.is_none())
    {
        if let Some(word) = class_ref.strip_prefix(NSIS_CLASS_PREFIX) {
            let level = NsisLevel::parse(word)?;
            nsis.get_or_insert(level);
        } else if let Some(n) = class_ref.strip_prefix(NIST_CLASS_PREFIX) {
            let level = NistLevel::parse(n)?;
            nist.get_or_insert(level);
        } else if class_ref == ADFS_MULTIPLEAUTHN {
            // AD FS's "multi-factor" is NIST level 3, as OS2faktor reads it (reference §7.3).
            nist.get_or_insert(NistLevel::THREE);
        } else {
            return Err(AssuranceError::UnknownClassRef {
                found: class_ref.to_string(),
            });
        }
    }
    if nsis.is_none() && nist.is_none() {
        return Err(AssuranceError::NoLevel);
    }
    Ok(AssertedLevel { nsis, nist })
}

impl AssertedLevel {
    /// The level in words, for messages (`NSIS Substantial and NIST level 3`).
    pub fn describe(&self) -> String {
        match (self.nsis, self.nist) {
            (Some(s), Some(n)) => format!("NSIS {s} and NIST level {n}"),
            (Some(s), None) => format!("NSIS {s}"),
            (None, Some(n)) => format!("NIST level {n} and no NSIS level"),
            (None, None) => "no level".to_string(),
        }
    }

    /// What an IdP offers at best, in words (`NIST level 3 and NSIS Substantial`).
    pub fn describe_offer(nist: super::NistLevel, nsis: Option<super::NsisLevel>) -> String {
        match nsis {
            Some(l) => format!("NIST level {nist} and NSIS {l}"),
            None => format!("NIST level {nist} and no NSIS level"),
        }
    }
}
