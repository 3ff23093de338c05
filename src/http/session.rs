//! chsim's SSO session cookie (issue #9 §2) and the page that shows the session
//! (`GET /runtime/session`, HTML or JSON). The cookie holds only the random session handle:
//! HttpOnly always; `Secure` and `SameSite=None` when chsim is served over https (user systems
//! and IdPs on other sites POST to chsim), `SameSite=Lax` on plain-http localhost, where
//! browsers refuse `SameSite=None` without `Secure`.

use super::error::AppError;
use super::pages;
use crate::app::AppState;
use crate::broker::session::Session;
use crate::ids::SessionId;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};

/// The cookie's name.
pub const COOKIE: &str = "chsim_session";

/// The cookie that ties a login to the browser that started it (see `PendingLogin::browser`).
pub const BROWSER_COOKIE: &str = "chsim_browser";

/// The browser's `chsim_browser` cookie, if it can be one of chsim's.
pub fn browser_id(jar: &CookieJar) -> Option<String> {
    jar.get(BROWSER_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|v| crate::ids::is_handle(v))
}

/// The browser's `chsim_browser` value, and the cookie to set when it has none yet.
pub fn browser_or_new(s: &AppState, jar: &CookieJar) -> (Option<String>, Option<Cookie<'static>>) {
    if let Some(existing) = browser_id(jar) {
        return (Some(existing), None);
    }
    // Without randomness the login still works; it just cannot start an SSO session.
    let Ok(fresh) = crate::ids::random_handle() else {
        return (None, None);
    };
    let https = s.public_url.starts_with("https://");
    let c = Cookie::build((BROWSER_COOKIE, fresh.clone()))
        .path("/runtime/")
        .http_only(true)
        .max_age(cookie::time::Duration::seconds(
            s.broker.settings().session.lifetime.num_seconds(),
        ));
    let c = if https {
        c.secure(true).same_site(SameSite::None).build()
    } else {
        c.same_site(SameSite::Lax).build()
    };
    (Some(fresh), Some(c))
}

/// The session handle the browser sent, if it can be one.
pub fn session_id(jar: &CookieJar) -> Option<SessionId> {
    jar.get(COOKIE)
        .and_then(|c| SessionId::from_cookie(c.value()))
}

/// The cookie that keeps `id` in the browser.
pub fn cookie(s: &AppState, id: &SessionId) -> Cookie<'static> {
    build(
        id,
        s.public_url.starts_with("https://"),
        s.broker.settings().session.lifetime,
    )
}

fn build(id: &SessionId, https: bool, lifetime: chrono::Duration) -> Cookie<'static> {
    let c = Cookie::build((COOKIE, id.as_str().to_string()))
        .path("/")
        .http_only(true)
        .max_age(cookie::time::Duration::seconds(lifetime.num_seconds()));
    if https {
        c.secure(true).same_site(SameSite::None).build()
    } else {
        c.same_site(SameSite::Lax).build()
    }
}

/// The cookie that removes the session from the browser.
pub fn removal() -> Cookie<'static> {
    Cookie::build((COOKIE, "")).path("/").removal().build()
}

/// `GET /runtime/session` — the browser's chsim session: who, which level since when, which
/// user systems. JSON for `Accept: application/json`.
pub async fn show(
    State(s): State<AppState>,
    jar: CookieJar,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let session = s
        .broker
        .live_session(session_id(&jar).as_ref())
        .await
        .map_err(crate::broker::Failure::from)?;
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    if wants_json {
        return Ok(Json(match &session {
            Some(session) => to_json(&s, session),
            None => serde_json::json!({ "session": null }),
        })
        .into_response());
    }
    let body = match &session {
        Some(session) => describe(&s, session),
        None => NO_SESSION.to_string(),
    };
    // The demo user systems show this page in an iframe of their own (same origin): allow that,
    // and only that, instead of the DENY every other page gets.
    Ok((
        [
            (header::X_FRAME_OPTIONS, "SAMEORIGIN"),
            (header::CONTENT_SECURITY_POLICY, "frame-ancestors 'self'"),
        ],
        Html(pages::page("Your chsim session", &body)),
    )
        .into_response())
}

/// What the pages say without a session.
pub const NO_SESSION: &str =
    "<p>No chsim session in this browser: the next login goes to an identity provider.</p>";

fn to_json(s: &AppState, session: &Session) -> serde_json::Value {
    let level = session.level();
    serde_json::json!({
        "session": {
            "reference": session.reference,
            "name_id": session.identity.name_id,
            "cvr": session.identity.cvr.as_str(),
            "idp": session.idp.as_str(),
            "nist_level": level.nist.map(u8::from),
            "nsis_level": level.nsis.map(|l| l.word()),
            "authn_instant": session.identity.authn_instant.to_rfc3339(),
            "started": session.started.to_rfc3339(),
            "expires": session.expires(&s.broker.settings().session).to_rfc3339(),
            "user_systems": session.participants.iter().map(|p| serde_json::json!({
                "entity_id": p.user_system.as_str(),
                "session_index": p.session_index,
                "joined": p.joined.to_rfc3339(),
            })).collect::<Vec<_>>(),
        }
    })
}

/// The session as an HTML fragment (also on the start page).
pub fn describe(s: &AppState, session: &Session) -> String {
    let trust = s.broker.trust();
    let name = |id: &crate::ids::EntityId| {
        trust
            .user_systems
            .get(id)
            .map_or_else(|| id.to_string(), |u| u.name.clone())
    };
    let systems = session
        .participants
        .iter()
        .map(|p| name(&p.user_system))
        .collect::<Vec<_>>()
        .join(", ");
    let idp = trust
        .idp(session.idp.as_str())
        .map_or_else(|| session.idp.to_string(), |i| i.presentation_name.clone());
    let mut body = pages::table(
        ("", ""),
        &[
            ("Who".into(), session.identity.name_id.clone()),
            ("Identity provider".into(), idp),
            ("Level".into(), session.level().describe()),
            (
                "Logged in at the IdP".into(),
                session.identity.authn_instant.to_rfc3339(),
            ),
            (
                "Session ends".into(),
                session.expires(&s.broker.settings().session).to_rfc3339(),
            ),
            ("User systems".into(), systems),
            ("Reference".into(), session.reference.clone()),
        ],
    );
    body.push_str(
        r#"<form method="post" action="/runtime/session/logout" target="_top"><button type="submit">Log out</button></form>"#,
    );
    body
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn over_https_the_cookie_is_secure_and_cross_site() {
        let id = SessionId::generate().unwrap();
        let c = build(&id, true, chrono::Duration::hours(8)).to_string();
        assert!(c.contains("Secure"), "{c}");
        assert!(c.contains("SameSite=None"), "{c}");
        assert!(c.contains("HttpOnly"), "{c}");
        assert!(c.contains("Max-Age=28800"), "{c}");
    }

    #[test]
    fn over_plain_http_the_cookie_is_lax_without_secure() {
        let id = SessionId::generate().unwrap();
        let c = build(&id, false, chrono::Duration::hours(1)).to_string();
        assert!(!c.contains("Secure"), "{c}");
        assert!(c.contains("SameSite=Lax"), "{c}");
    }

    #[test]
    fn a_session_handle_does_not_print_in_debug_output() {
        let id = SessionId::generate().unwrap();
        assert!(!format!("{id:?}").contains(id.as_str()));
        assert_eq!(SessionId::from_cookie(id.as_str()).as_ref(), Some(&id));
    }
}
