//! The assurance-level keys of the configuration (reference §2.3, §3.3, §7; issue #3 §2): a user
//! system requires a NIST level xor an NSIS level, an NSIS requirement needs OIOSAML3, only an
//! OIOSAML3-profiled IdP can offer an NSIS level, and the equivalence table is ordered.

use super::{Config, ConfigProblem, Profile};

/// Checks the assurance keys; every problem with its file and key.
pub(super) fn check(c: &Config, problems: &mut Vec<ConfigProblem>) {
    const US: &str = "user_systems.toml";
    const MUN: &str = "municipalities.toml";
    for (i, us) in c.user_systems.user_system.iter().enumerate() {
        let key = format!("user_system[{i}]");
        match (us.nist_level, us.nsis_level) {
            (Some(_), Some(_)) => problems.push(ConfigProblem::new(
                US,
                key.clone(),
                "gives both nist_level and nsis_level; a user system requires one of them (setting one resets the other in the Context Handler)",
            )),
            (None, None) => problems.push(ConfigProblem::new(
                US,
                key.clone(),
                "gives no required level: add nist_level = 1…4 or (OIOSAML3 only) nsis_level = \"Low\" | \"Substantial\" | \"High\"",
            )),
            _ => {}
        }
        if us.nsis_level.is_some() && us.profile == Profile::Oiosaml2 {
            problems.push(ConfigProblem::new(
                US,
                format!("{key}.nsis_level"),
                "an NSIS requirement needs profile = \"OIOSAML3\" (OIOSAML2 carries no NSIS level); use nist_level instead",
            ));
        }
    }
    for (i, m) in c.municipalities.municipality.iter().enumerate() {
        for (j, idp) in m.idp.iter().enumerate() {
            if idp.nsis_level.is_some() && !idp.profile.is_oiosaml3() {
                problems.push(ConfigProblem::new(
                    MUN,
                    format!("municipality[{i}].idp[{j}].nsis_level"),
                    format!(
                        "an IdP with profile {} cannot assert an NSIS level; use an OIOSAML3 profile or remove nsis_level",
                        idp.profile.as_str()
                    ),
                ));
            }
        }
    }
    for (i, m) in c.municipalities.municipality.iter().enumerate() {
        if m.nemlogin_fallback && c.municipalities.nemlogin.is_none() {
            problems.push(ConfigProblem::new(
                MUN,
                format!("municipality[{i}].nemlogin_fallback"),
                "falls back to NemLog-in, but no [nemlogin] is configured in municipalities.toml",
            ));
        }
    }
    let a = &c.chsim.assurance;
    if !(a.nsis_low_as_nist <= a.nsis_substantial_as_nist
        && a.nsis_substantial_as_nist <= a.nsis_high_as_nist)
    {
        problems.push(ConfigProblem::new(
            "chsim.toml",
            "assurance",
            format!(
                "the equivalence must not fall as NSIS rises: Low {} ≤ Substantial {} ≤ High {}",
                a.nsis_low_as_nist, a.nsis_substantial_as_nist, a.nsis_high_as_nist
            ),
        ));
    }
}
