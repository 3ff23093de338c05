//! A demo user system's own session (issue #9 §3): what it remembers after a successful login —
//! the NameID and SessionIndex chsim issued to it, who, since when, at which level — under a
//! random handle the browser keeps in a cookie scoped to the user system's path
//! ([`crate::party_logout::Sessions`]). Single logout ends it either way: the person's "Log out"
//! here, or chsim's LogoutRequest naming its SessionIndex.

use chrono::{DateTime, Utc};

/// The cookie that carries a demo user system session's handle.
pub const COOKIE: &str = "chsim_demo_sp_session";

/// One person's session at a demo user system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpSession {
    /// The NameID chsim issued (what a LogoutRequest names).
    pub name_id: String,
    /// Its Format.
    pub name_id_format: Option<String>,
    /// The SessionIndex chsim issued.
    pub session_index: String,
    /// Who: the NameID's CN, else the NameID.
    pub who: String,
    /// When the login arrived.
    pub since: DateTime<Utc>,
    /// The level chsim asserted, as text (`NSIS Substantial`, `NIST 3`).
    pub level: String,
}
