//! chsim's configuration: typed TOML files under one directory (STYLE.md habit 5).
//!
//! Layering: defaults (serde) → TOML files → environment (`CHSIM_LISTEN`, `CHSIM_PUBLIC_URL`,
//! `CHSIM_STORE_BACKEND`, `CHSIM_STORE_REDIS_URL`, `CHSIM_STORE_KEY_PREFIX`, `CHSIM_STORE_TIMEOUT_MS`;
//! a value that does not parse is a problem named by its variable).
//! Unknown keys are rejected. [`load`] returns every problem at once, each with its file and key;
//! `chsim check-config` prints them and `chsim serve` refuses to start while any remain.
//!
//! The demo configuration in `config/` (and the keys in `keys/`) is embedded in the binary, so
//! `chsim serve` with no `--config` runs anywhere.

mod assurance;
mod load;
mod oidc;
mod roles;
mod types;
mod warnings;

pub use load::{
    load, load_broker_credentials, load_credential, load_credential_for, load_key_pair,
    load_unchecked, ConfigSource,
};
pub use oidc::{jwks_of, resolved};
pub use roles::*;
pub use types::*;
pub use warnings::warnings;

use std::fmt;

/// One configuration problem, located by file and key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// The file (relative to the configuration directory).
    pub file: String,
    /// The key path, e.g. `municipality[0].idp[1].metadata`.
    pub key: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl ConfigProblem {
    /// A problem at `file`/`key`.
    pub fn new(file: &str, key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            file: file.to_string(),
            key: key.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}: {}: {}", self.file, self.key, self.message)
        }
    }
}

/// All problems found, printable as a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigReport(pub Vec<ConfigProblem>);

impl ConfigReport {
    /// Adds `more`, skipping problems already reported for the same file and key (a later phase
    /// can stumble over what an earlier one already named).
    pub fn merge(mut self, more: Vec<ConfigProblem>) -> Self {
        for p in more {
            if !self.0.iter().any(|q| q.file == p.file && q.key == p.key) {
                self.0.push(p);
            }
        }
        self
    }
}

impl fmt::Display for ConfigReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "the configuration has {} problem{}:",
            self.0.len(),
            if self.0.len() == 1 { "" } else { "s" }
        )?;
        for p in &self.0 {
            writeln!(f, "  - {p}")?;
        }
        Ok(())
    }
}
