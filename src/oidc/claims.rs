//! The one table of SAML attribute → OIDC claim (reference §5 **[INF]**): the OIOSAML3
//! attribute URIs are the claim names, with the values a SAML user system gets. Discovery's
//! `claims_supported` and the JWT renderer (`token::jwt`) both read it.

use crate::saml::oiosaml::{oiosaml2, oiosaml3};

/// Each OIOSAML3 attribute chsim issues, the claim it becomes (the attribute URI itself) and
/// what it says. The one table for SAML→OIDC: discovery's `claims_supported` comes from it, and
/// a test checks that `token::jwt::person_claims` emits nothing outside it.
pub const CLAIM_TABLE: &[(&str, &str, &str)] = &[
    (
        oiosaml3::SPEC_VERSION,
        oiosaml3::SPEC_VERSION,
        "OIOSAML spec version, `OIO-SAML-3.0`",
    ),
    (
        oiosaml3::KOMBIT_SPEC_VER,
        oiosaml3::KOMBIT_SPEC_VER,
        "KOMBIT attribute profile version, `2.0`",
    ),
    (
        oiosaml3::LOA,
        oiosaml3::LOA,
        "NSIS level reached: `Low`, `Substantial` or `High`",
    ),
    (
        oiosaml2::ASSURANCE_LEVEL,
        oiosaml2::ASSURANCE_LEVEL,
        "NIST level reached: `1`…`4`",
    ),
    (
        oiosaml3::CVR,
        oiosaml3::CVR,
        "the municipality's CVR number",
    ),
    (
        oiosaml3::ORG_NAME,
        oiosaml3::ORG_NAME,
        "the organisation's name",
    ),
    (oiosaml3::EMAIL, oiosaml3::EMAIL, "the person's e-mail"),
    (
        oiosaml3::PRIVILEGES,
        oiosaml3::PRIVILEGES,
        "base64 OIOBPP PrivilegeList with the user system's roles",
    ),
];
