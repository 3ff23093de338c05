//! The attribute profile a trusted user system receives (reference §3.3 `OIOSAMLProfile`): which
//! vocabulary its tokens speak. Kept beside the trusted parties it describes; configuration reads
//! it from `user_systems.toml`.

use serde::Deserialize;

/// The attribute profile of a user system (reference §3.3 `OIOSAMLProfile`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Profile {
    /// Context Handler 1 style (reference §4.4).
    #[serde(rename = "OIOSAML2")]
    Oiosaml2,
    /// Context Handler 2 style, KOMBIT attribute profile (reference §4.3).
    #[serde(rename = "OIOSAML3")]
    Oiosaml3,
}

impl Profile {
    /// The configuration spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Oiosaml2 => "OIOSAML2",
            Profile::Oiosaml3 => "OIOSAML3",
        }
    }
}
