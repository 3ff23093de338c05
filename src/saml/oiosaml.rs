//! The OIOSAML vocabulary: attribute names and fixed values of the two attribute profiles (reference §4),
//! read by every message reader (IdP answers, attribute-service answers, the built-in parties) and
//! written by the token issuer.

/// `urn:oasis:names:tc:SAML:2.0:attrname-format:uri` (OIOSAML3).
pub const FORMAT_URI: &str = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri";
/// `urn:oasis:names:tc:SAML:2.0:attrname-format:basic` (OIOSAML2).
pub const FORMAT_BASIC: &str = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic";

/// OIOSAML3 (reference §4.2, §4.3).
pub mod oiosaml3 {
    /// NSIS level of assurance, plain word (`Low`/`Substantial`/`High`).
    pub const LOA: &str = "https://data.gov.dk/concept/core/nsis/loa";
    /// `OIO-SAML-3.0`.
    pub const SPEC_VERSION: &str = "https://data.gov.dk/model/core/specVersion";
    /// The value of [`SPEC_VERSION`].
    pub const SPEC_VERSION_VALUE: &str = "OIO-SAML-3.0";
    /// KOMBIT spec version (old-style name, uri NameFormat), value `2.0`.
    pub const KOMBIT_SPEC_VER: &str = "dk:gov:saml:attribute:KombitSpecVer";
    /// The alternative name some IdPs send (FoxIDs docs); accepted on input.
    pub const KOMBIT_SPEC_VER_NEW: &str = "https://data.gov.dk/model/core/kombitSpecVer";
    /// CVR.
    pub const CVR: &str = "https://data.gov.dk/model/core/eid/professional/cvr";
    /// Organisation name.
    pub const ORG_NAME: &str = "https://data.gov.dk/model/core/eid/professional/orgName";
    /// E-mail.
    pub const EMAIL: &str = "https://data.gov.dk/model/core/eid/email";
    /// Base64 OIOBPP.
    pub const PRIVILEGES: &str = "https://data.gov.dk/model/core/eid/privilegesIntermediate";
    /// NemLog-in professional UUID.
    pub const PROFESSIONAL_UUID: &str =
        "https://data.gov.dk/model/core/eid/professional/uuid/persistent";
    /// NSIS AuthnContextClassRef prefix.
    pub const LOA_CLASS_PREFIX: &str = "https://data.gov.dk/concept/core/nsis/loa/";
}

/// OIOSAML2 / KOMBIT attribute profile 1.0 (reference §4.1, §4.4).
pub mod oiosaml2 {
    /// `DK-SAML-2.0`.
    pub const SPEC_VER: &str = "dk:gov:saml:attribute:SpecVer";
    /// The value of [`SPEC_VER`].
    pub const SPEC_VER_VALUE: &str = "DK-SAML-2.0";
    /// KOMBIT spec version, value `1.0`.
    pub const KOMBIT_SPEC_VER: &str = "dk:gov:saml:attribute:KombitSpecVer";
    /// NIST level 1–4.
    pub const ASSURANCE_LEVEL: &str = "dk:gov:saml:attribute:AssuranceLevel";
    /// CVR.
    pub const CVR: &str = "dk:gov:saml:attribute:CvrNumberIdentifier";
    /// Base64 OIOBPP.
    pub const PRIVILEGES: &str = "dk:gov:saml:attribute:Privileges_intermediate";
    /// Class ref CH1 issues.
    pub const X509_CLASS: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:X509";
    /// NIST AuthnContextClassRef prefix.
    pub const LEVEL_CLASS_PREFIX: &str = "urn:dk:gov:saml:attribute:AssuranceLevel:";
}
