//! Routes of the built-in parties' own sessions and single logout (issue #9 §3): the test IdP's
//! page `/test-idp/<id>/`, and for both kinds of party `…/logout` (the "Log out" button: a signed
//! HTTP-Redirect LogoutRequest to chsim) and `…/slo` (their SingleLogoutService, where chsim's
//! LogoutRequests and chsim's LogoutResponses arrive). The parties' logic is in
//! [`crate::party_logout`], [`crate::demo_sp`] and [`crate::test_idp`]; here only cookies, pages
//! and redirects.

use super::error::AppError;
use super::pages;
use crate::app::AppState;
use crate::party_logout::{Ending, LogoutResult, SessionView, SloOutcome};
use axum::extract::{Path, RawQuery, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use chrono::{DateTime, Utc};

const DEMO_SP_COOKIE: &str = crate::demo_sp::session::COOKIE;
const IDP_COOKIE: &str = crate::test_idp::session::COOKIE;

/// A party's session cookie: HttpOnly, Lax, scoped to the party's path (each built-in party is a
/// separate site in all but host).
pub fn party_cookie(name: &'static str, path: String, handle: String) -> Cookie<'static> {
    Cookie::build((name, handle))
        .path(path)
        .http_only(true)
        .same_site(SameSite::Lax)
        .build()
}

fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// How an ended session ended, for the party's page.
pub(super) fn ended_text(at: DateTime<Utc>, how: &Ending) -> String {
    match how {
        Ending::LoggedOutHere => format!("You logged out here at {}.", time(at)),
        Ending::SingleLogout { issuer, reason } => format!(
            "You were logged out by single logout at {} (started by {issuer}{}).",
            time(at),
            reason
                .as_deref()
                .map(|r| format!(", reason {r}"))
                .unwrap_or_default()
        ),
        Ending::FrontChannel { issuer } => format!(
            "You were logged out at {}: your session at chsim ended, and chsim ({issuer}) told this system by front-channel logout.",
            time(at)
        ),
    }
}

const LOG_OUT_BUTTON: &str =
    r#"<form method="post" action="logout"><button type="submit">Log out</button></form>"#;

/// The demo user system's own session, as its pages show it (with "Log out" when live).
pub fn demo_sp_session_box(view: &SessionView<crate::demo_sp::SpSession>) -> String {
    match view {
        SessionView::Live(s) => format!(
            r#"<div class="ok" id="party-session"><p>Logged in as <strong>{who}</strong> since {since} (level {level}).</p>
<p><small>NameID <code>{name_id}</code>, SessionIndex <code>{index}</code></small></p>{LOG_OUT_BUTTON}
<p><small>Log out sends chsim a signed LogoutRequest; chsim logs you out of every user system of your chsim session and of the identity provider.</small></p></div>"#,
            who = pages::esc(&s.who),
            since = time(s.since),
            level = pages::esc(&s.level),
            name_id = pages::esc(&s.name_id),
            index = pages::esc(&s.session_index),
        ),
        SessionView::Ended(e) => format!(
            r#"<div class="ok" id="party-session"><p>{}</p><p>Not logged in.</p></div>"#,
            pages::esc(&ended_text(e.at, &e.how))
        ),
        SessionView::None => r#"<p id="party-session">Not logged in.</p>"#.to_string(),
    }
}

/// What a party's SLO URL does with what arrived: answer chsim's LogoutRequest by redirecting to
/// chsim, or show chsim's answer to the party's own request.
fn slo_page(party: &str, outcome: SloOutcome) -> Response {
    match outcome {
        SloOutcome::Answered { redirect, .. } => Redirect::to(redirect.as_str()).into_response(),
        SloOutcome::Finished { who, result } => {
            let (title, body) = match result {
                LogoutResult::LoggedOut => (
                    "Logged out",
                    format!(
                        r#"<div class="ok" id="logout-result"><p><strong>Logged out.</strong> chsim confirmed single logout of {} from {}, every user system of the session and the identity provider.</p></div>"#,
                        pages::esc(&who),
                        pages::esc(party)
                    ),
                ),
                LogoutResult::Partial { message } => (
                    "Partial logout",
                    format!(
                        r#"<div class="error" id="logout-result"><p><strong>Partial logout: {}</strong></p><p>chsim logged {} out of {}, but not of every party of the session.</p></div>"#,
                        pages::esc(
                            message
                                .as_deref()
                                .unwrap_or("(chsim gave no StatusMessage)")
                        ),
                        pages::esc(&who),
                        pages::esc(party)
                    ),
                ),
                LogoutResult::Failed(status) => (
                    "Logout failed",
                    format!(
                        r#"<div class="error" id="logout-result"><p><strong>chsim answered the LogoutRequest with status <code>{}</code>{}{}</strong></p><p>{} ended its own session of {}; chsim's may still be open.</p></div>"#,
                        pages::esc(&status.code),
                        status
                            .sub_code
                            .as_deref()
                            .map(|c| format!(" / <code>{}</code>", pages::esc(c)))
                            .unwrap_or_default(),
                        status
                            .message
                            .as_deref()
                            .map(|m| format!(": {}", pages::esc(m)))
                            .unwrap_or_default(),
                        pages::esc(party),
                        pages::esc(&who),
                    ),
                ),
            };
            let body = format!(r#"{body}<p><a class="button" href="./">Back</a></p>"#);
            Html(pages::page(title, &body)).into_response()
        }
    }
}

/// `POST /demo-sp/<id>/logout` — "Log out": a signed HTTP-Redirect LogoutRequest to chsim.
pub async fn demo_sp_logout(
    State(s): State<AppState>,
    Path(id): Path<String>,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let sp = super::builtin::demo_sp(&s, &id)?;
    let url = sp.start_logout(jar.get(DEMO_SP_COOKIE).map(|c| c.value()))?;
    Ok(Redirect::to(url.as_str()).into_response())
}

/// `GET /demo-sp/<id>/slo` — chsim's LogoutRequest or LogoutResponse (HTTP-Redirect).
pub async fn demo_sp_slo(
    State(s): State<AppState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let sp = super::builtin::demo_sp(&s, &id)?;
    let party = sp.config().name.clone();
    // Verifying a message from outside runs off the async workers (issue #8 §1).
    let outcome = crate::cpu::run(move || sp.slo(raw.as_deref().unwrap_or("")))
        .await
        .map_err(|e| AppError::BadRequest(e.to_string()))??;
    Ok(slo_page(&party, outcome))
}

/// `GET /test-idp/<id>/` — the test IdP's page: the browser's session here, with "Log out".
pub async fn test_idp_page(
    State(s): State<AppState>,
    Path(id): Path<String>,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let idp = super::builtin::test_idp(&s, &id)?;
    let cfg = idp.config();
    let mut body = format!(
        r#"<p>This is <strong>{}</strong>, a test identity provider built into chsim (entityID <code>{}</code>). Metadata: <a href="metadata">metadata</a>.</p>"#,
        pages::esc(&cfg.name),
        pages::esc(idp.entity_id()),
    );
    body.push_str(
        &match idp.session_view(jar.get(IDP_COOKIE).map(|c| c.value())) {
            SessionView::Live(session) => format!(
                r#"<div class="ok" id="party-session"><p>You are logged in here as <strong>{}</strong> since {}.</p>{LOG_OUT_BUTTON}
<p><small>Log out starts IdP-initiated single logout: this IdP sends chsim a signed LogoutRequest, and chsim logs you out of every user system of your chsim session.</small></p></div>"#,
                pages::esc(idp.user_of(&session).map_or(session.user_id.as_str(), |u| u.name.as_str())),
                time(session.authn_instant),
            ),
            SessionView::Ended(e) => format!(
                r#"<div class="ok" id="party-session"><p>{}</p><p>Not logged in at this IdP.</p></div>"#,
                pages::esc(&ended_text(e.at, &e.how))
            ),
            SessionView::None => {
                r#"<p id="party-session">Not logged in at this IdP.</p>"#.to_string()
            }
        },
    );
    Ok(Html(pages::page(&cfg.name, &body)).into_response())
}

/// `POST /test-idp/<id>/logout` — "Log out": IdP-initiated single logout, a signed
/// HTTP-Redirect LogoutRequest to chsim's SP face.
pub async fn test_idp_logout(
    State(s): State<AppState>,
    Path(id): Path<String>,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let idp = super::builtin::test_idp(&s, &id)?;
    let url = idp.start_logout(jar.get(IDP_COOKIE).map(|c| c.value()))?;
    Ok(Redirect::to(url.as_str()).into_response())
}

/// `GET /test-idp/<id>/slo` — chsim's LogoutRequest or LogoutResponse (HTTP-Redirect).
pub async fn test_idp_slo(
    State(s): State<AppState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let idp = super::builtin::test_idp(&s, &id)?;
    let party = idp.config().name.clone();
    let outcome = crate::cpu::run(move || idp.slo(raw.as_deref().unwrap_or("")))
        .await
        .map_err(|e| AppError::BadRequest(e.to_string()))??;
    Ok(slo_page(&party, outcome))
}
