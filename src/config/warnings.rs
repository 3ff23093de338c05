//! Warnings: configurations that work but are risky (issue #8 §4). `chsim check-config` prints
//! them and still exits 0; `chsim serve` logs them at start.

use super::types::{Config, StoreBackend};
use super::ConfigProblem;

/// Every warning: built-in IdPs trusted beside real user systems, and a Redis URL that is not
/// used.
pub fn warnings(c: &Config) -> Vec<ConfigProblem> {
    let mut found = Vec::new();
    let store = &c.chsim.store;
    if store.backend == StoreBackend::Memory && store.redis_url.is_some() {
        found.push(ConfigProblem::new(
            "chsim.toml",
            "store.redis_url",
            "is set, but backend = \"memory\": this instance keeps its state to itself and shares nothing with other instances; set backend = \"redis\" (CHSIM_STORE_BACKEND=redis) to use the Redis",
        ));
    }
    found.extend(builtin_idp_warnings(c));
    found.extend(super::oidc::warnings(c));
    found
}

/// Built-in IdPs or the simulated NemLog-in trusted beside user systems whose metadata is not
/// built-in: anyone can pick a test user (or answer as the simulated NemLog-in with its public
/// key) and get a token for a real system. One warning per built-in IdP entry.
fn builtin_idp_warnings(c: &Config) -> Vec<ConfigProblem> {
    if !c.chsim.demo.builtin_parties {
        return Vec::new(); // `builtin:` references are errors then
    }
    let outside: Vec<String> = c
        .user_systems
        .user_system
        .iter()
        .enumerate()
        .filter(|(_, u)| !u.metadata.starts_with("builtin:"))
        .map(|(i, u)| format!("`{}` (user_system[{i}])", u.name))
        .collect();
    if outside.is_empty() {
        return Vec::new();
    }
    let outside = outside.join(", ");
    let mut found = Vec::new();
    for (i, m) in c.municipalities.municipality.iter().enumerate() {
        for (j, idp) in m.idp.iter().enumerate() {
            if idp.metadata.starts_with("builtin:") {
                found.push(ConfigProblem::new(
                    "municipalities.toml",
                    format!("municipality[{i}].idp[{j}].metadata"),
                    format!(
                        "the built-in test IdP `{}` is trusted beside user systems that are not built-in ({outside}): anyone can pick one of its test users and get a token for them; remove this entry, or set builtin_parties = false under [demo] in chsim.toml, before real user systems rely on chsim",
                        idp.metadata
                    ),
                ));
            }
        }
    }
    if let Some(n) = c
        .municipalities
        .nemlogin
        .as_ref()
        .filter(|n| n.metadata.starts_with("builtin:"))
    {
        found.push(ConfigProblem::new(
            "municipalities.toml",
            "nemlogin.metadata",
            format!(
                "the simulated NemLog-in `{}` is trusted beside user systems that are not built-in ({outside}): its key is public, so anyone can answer as it and step a login up to NSIS {}; point [nemlogin] at the real NemLog-in metadata, or set builtin_parties = false under [demo] in chsim.toml",
                n.metadata, n.nsis_level
            ),
        ));
    }
    found
}
