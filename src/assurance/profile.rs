//! How chsim tells a municipal IdP what level is required, by the IdP's `OIOSAMLProfile`
//! (reference §2.3, §7.4 — partly inference; the choices are documented in the README):
//!
//! | profile | RequestedAuthnContext sent |
//! |---|---|
//! | `OIOSAML2` | NIST class ref `urn:dk:gov:saml:attribute:AssuranceLevel:<N>` |
//! | `OIOSAML2_ADFS_MULTIPLEAUTHN` | `http://schemas.microsoft.com/claims/multipleauthn` for NIST ≥ 3, none below |
//! | `OIOSAML2_WITHOUT_REQUESTED_LOA` | none: the IdP's own policy decides |
//! | `OIOSAML3` | NSIS class ref `…/nsis/loa/<Level>`; for a NIST requirement the NIST class ref |
//! | `OIOSAML3_ADFS_MULTIPLEAUTHN` | as `OIOSAML2_ADFS_MULTIPLEAUTHN` |
//! | `OIOSAML3_ADFS_RELAY_STATE` | as `OIOSAML3_ADFS_MULTIPLEAUTHN`; the level also travels in RelayState |
//!
//! Every requested context uses `Comparison="minimum"`.

use super::{NistLevel, Requirement, ADFS_MULTIPLEAUTHN};
use serde::Deserialize;

/// An IdP's OIOSAML profile (the Context Handler's `OIOSAMLProfile`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum IdpProfile {
    /// OIOSAML 2, asked with the NIST class ref.
    #[serde(rename = "OIOSAML2")]
    Oiosaml2,
    /// OIOSAML 2 on AD FS, asked with `multipleauthn`.
    #[serde(rename = "OIOSAML2_ADFS_MULTIPLEAUTHN")]
    Oiosaml2AdfsMultipleAuthn,
    /// OIOSAML 2, not told the level at all.
    #[serde(rename = "OIOSAML2_WITHOUT_REQUESTED_LOA")]
    Oiosaml2WithoutRequestedLoa,
    /// OIOSAML 3, asked with the NSIS class ref.
    #[serde(rename = "OIOSAML3")]
    Oiosaml3,
    /// OIOSAML 3 on AD FS, asked with `multipleauthn`.
    #[serde(rename = "OIOSAML3_ADFS_MULTIPLEAUTHN")]
    Oiosaml3AdfsMultipleAuthn,
    /// OIOSAML 3 on AD FS, with the required level also in RelayState.
    #[serde(rename = "OIOSAML3_ADFS_RELAY_STATE")]
    Oiosaml3AdfsRelayState,
}

/// What goes into the AuthnRequest to the IdP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedLevel {
    /// `RequestedAuthnContext Comparison="minimum"` with this class ref, or none.
    pub class_ref: Option<String>,
    /// A RelayState value that carries the level (only `OIOSAML3_ADFS_RELAY_STATE`).
    pub relay_state_level: Option<String>,
}

impl IdpProfile {
    /// The profile's name in configuration and on pages.
    pub fn as_str(self) -> &'static str {
        match self {
            IdpProfile::Oiosaml2 => "OIOSAML2",
            IdpProfile::Oiosaml2AdfsMultipleAuthn => "OIOSAML2_ADFS_MULTIPLEAUTHN",
            IdpProfile::Oiosaml2WithoutRequestedLoa => "OIOSAML2_WITHOUT_REQUESTED_LOA",
            IdpProfile::Oiosaml3 => "OIOSAML3",
            IdpProfile::Oiosaml3AdfsMultipleAuthn => "OIOSAML3_ADFS_MULTIPLEAUTHN",
            IdpProfile::Oiosaml3AdfsRelayState => "OIOSAML3_ADFS_RELAY_STATE",
        }
    }

    /// True for the OIOSAML 3 profiles (the only ones that can prove an NSIS level).
    pub fn is_oiosaml3(self) -> bool {
        matches!(
            self,
            IdpProfile::Oiosaml3
                | IdpProfile::Oiosaml3AdfsMultipleAuthn
                | IdpProfile::Oiosaml3AdfsRelayState
        )
    }

    /// How `requirement` is sent to an IdP with this profile.
    pub fn request(self, requirement: Requirement) -> RequestedLevel {
        let adfs = |r: Requirement| match r {
            // AD FS knows one step: multi-factor. Below NIST 3 there is nothing to ask for.
            Requirement::Nist(n) if n < NistLevel::THREE => None,
            _ => Some(ADFS_MULTIPLEAUTHN.to_string()),
        };
        let nist_or_nsis = |r: Requirement| match r {
            Requirement::Nist(n) => n.class_ref(),
            Requirement::Nsis(l) => l.class_ref(),
        };
        let class_ref = match self {
            IdpProfile::Oiosaml2 => Some(match requirement {
                Requirement::Nist(n) => n.class_ref(),
                // An OIOSAML2 IdP cannot prove NSIS; ask for the most it can state.
                Requirement::Nsis(_) => NistLevel::FOUR.class_ref(),
            }),
            IdpProfile::Oiosaml2WithoutRequestedLoa => None,
            IdpProfile::Oiosaml3 => Some(nist_or_nsis(requirement)),
            IdpProfile::Oiosaml2AdfsMultipleAuthn
            | IdpProfile::Oiosaml3AdfsMultipleAuthn
            | IdpProfile::Oiosaml3AdfsRelayState => adfs(requirement),
        };
        let relay_state_level =
            (self == IdpProfile::Oiosaml3AdfsRelayState).then(|| nist_or_nsis(requirement));
        RequestedLevel {
            class_ref,
            relay_state_level,
        }
    }
}
