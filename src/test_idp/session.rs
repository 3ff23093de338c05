//! The test IdP's own single sign-on session (issue #9 §2): once a person has logged in at a
//! test IdP, a later AuthnRequest from chsim offers "continue as <name>" (and an IsPassive one is
//! answered at once), so both layers of SSO — chsim's and the IdP's — can be seen. The browser
//! holds a random handle in a cookie scoped to the IdP's path; the session itself lives here.

use chrono::{DateTime, Utc};

/// One person's session at a test IdP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpSession {
    /// The test user.
    pub user_id: String,
    /// The SessionIndex this IdP sent chsim (what chsim's LogoutRequest names).
    pub session_index: String,
    /// When the person authenticated.
    pub authn_instant: DateTime<Utc>,
    /// Whether the person used their strongest method (a forced authentication).
    pub strong: bool,
}

/// The cookie that carries a test IdP session's handle.
pub const COOKIE: &str = "chsim_test_idp_session";
