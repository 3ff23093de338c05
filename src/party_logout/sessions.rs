//! A built-in party's own sessions, by the random handle the browser keeps in a cookie scoped to
//! the party's path: live ones, and — for a while after single logout ended them — markers, so
//! the party's page can say how the session ended.

use chrono::{DateTime, Utc};
use moka::sync::Cache;

/// How long a session lasts at most (chsim's own default lifetime).
const LIFETIME_SECONDS: u64 = 8 * 3600;
/// How long the marker of an ended session is kept.
const MARKER_SECONDS: u64 = 3600;

/// How a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// The person pressed "Log out" at this party, which then started single logout.
    LoggedOutHere,
    /// chsim's LogoutRequest ended it.
    SingleLogout {
        /// The LogoutRequest's Issuer.
        issuer: String,
        /// Its Reason, if any.
        reason: Option<String>,
    },
    /// chsim's front-channel logout (OIDC) ended it: the session at chsim ended.
    FrontChannel {
        /// chsim's issuer, as the request named it.
        issuer: String,
    },
}

/// A session that ended, kept as a marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended<S> {
    /// The session as it was.
    pub session: S,
    /// When it ended.
    pub at: DateTime<Utc>,
    /// How.
    pub how: Ending,
}

/// What the browser's handle names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionView<S> {
    /// No session (no cookie, unknown or expired).
    None,
    /// A live session.
    Live(S),
    /// A session that ended a short while ago.
    Ended(Ended<S>),
}

/// A party's sessions, live and ended, by handle.
pub struct Sessions<S> {
    live: Cache<String, S>,
    ended: Cache<String, Ended<S>>,
}

impl<S> std::fmt::Debug for Sessions<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Handles are bearer secrets: only the counts.
        f.debug_struct("Sessions")
            .field("live", &self.live.entry_count())
            .field("ended", &self.ended.entry_count())
            .finish()
    }
}

impl<S: Clone + Send + Sync + 'static> Default for Sessions<S> {
    fn default() -> Self {
        Self {
            live: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(std::time::Duration::from_secs(LIFETIME_SECONDS))
                .build(),
            ended: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(std::time::Duration::from_secs(MARKER_SECONDS))
                .build(),
        }
    }
}

impl<S: Clone + Send + Sync + 'static> Sessions<S> {
    /// Keeps `session` under `handle`, replacing whatever the handle named.
    pub fn open(&self, handle: &str, session: S) {
        self.ended.invalidate(handle);
        self.live.insert(handle.to_string(), session);
    }

    /// What `handle` names.
    pub fn view(&self, handle: Option<&str>) -> SessionView<S> {
        let Some(handle) = handle else {
            return SessionView::None;
        };
        if let Some(s) = self.live.get(handle) {
            return SessionView::Live(s);
        }
        self.ended
            .get(handle)
            .map_or(SessionView::None, SessionView::Ended)
    }

    /// The live session under `handle`.
    pub fn live(&self, handle: &str) -> Option<S> {
        self.live.get(handle)
    }

    /// Ends the session under `handle`, keeping a marker; returns it if it was live.
    pub fn end(&self, handle: &str, at: DateTime<Utc>, how: Ending) -> Option<S> {
        let session = self.live.remove(handle)?;
        self.ended.insert(
            handle.to_string(),
            Ended {
                session: session.clone(),
                at,
                how,
            },
        );
        Some(session)
    }

    /// Ends every live session `which` selects, marking each with `how`; returns how many.
    pub fn end_where(&self, which: impl Fn(&S) -> bool, at: DateTime<Utc>, how: &Ending) -> usize {
        let handles: Vec<String> = self
            .live
            .iter()
            .filter(|(_, s)| which(s))
            .map(|(k, _)| (*k).clone())
            .collect();
        handles
            .iter()
            .filter(|h| self.end(h, at, how.clone()).is_some())
            .count()
    }

    /// The handle of a live session `which` selects, if any.
    pub fn find(&self, which: impl Fn(&S) -> bool) -> Option<String> {
        self.live
            .iter()
            .find(|(_, s)| which(s))
            .map(|(k, _)| (*k).clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap_or_default()
    }

    #[test]
    fn an_ended_session_stays_as_a_marker_saying_how_it_ended() {
        let sessions = Sessions::<String>::default();
        sessions.open("h", "karen".into());
        assert_eq!(sessions.view(Some("h")), SessionView::Live("karen".into()));
        let how = Ending::SingleLogout {
            issuer: "chsim".into(),
            reason: None,
        };
        assert_eq!(sessions.end_where(|s| s == "karen", at(), &how), 1);
        assert_eq!(
            sessions.view(Some("h")),
            SessionView::Ended(Ended {
                session: "karen".into(),
                at: at(),
                how
            })
        );
        assert_eq!(sessions.live("h"), None);
        assert_eq!(sessions.end("h", at(), Ending::LoggedOutHere), None);
        assert_eq!(sessions.view(None), SessionView::None);
    }

    #[test]
    fn a_new_login_under_the_same_handle_replaces_the_marker() {
        let sessions = Sessions::<String>::default();
        sessions.open("h", "karen".into());
        sessions.end("h", at(), Ending::LoggedOutHere);
        sessions.open("h", "bent".into());
        assert_eq!(sessions.view(Some("h")), SessionView::Live("bent".into()));
        assert_eq!(sessions.find(|s| s == "bent").as_deref(), Some("h"));
    }
}
