//! Routes of the built-in demo OIDC user system, `/demo-oidc/…`: its page, the login and the
//! callback, the Refresh, Userinfo and Log out buttons, and its front-channel logout URL. They only
//! call [`crate::demo_oidc::DemoOidc`], which talks to chsim over HTTP; here only cookies,
//! redirects and pages ([`super::demo_oidc_page`]).

use super::error::AppError;
use super::party_logout::party_cookie;
use crate::app::AppState;
use crate::demo_oidc::{session::COOKIE, Callback, DemoOidc, LoginOptions};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use std::collections::HashMap;
use std::sync::Arc;

type Params = Query<HashMap<String, String>>;

/// The demo OIDC user system, or 404 saying why there is none.
fn rp(s: &AppState) -> Result<Arc<DemoOidc>, AppError> {
    s.demo_oidc.clone().ok_or_else(|| {
        AppError::NotFound(format!(
            "the demo OIDC user system is not served here: user_systems.toml registers no [[oidc_user_system]] with client_id `{}` that it can use (see chsim's log)",
            crate::demo_oidc::CLIENT_ID
        ))
    })
}

/// The browser's handle at the demo OIDC user system, when its cookie holds one.
fn handle(jar: &CookieJar) -> Option<String> {
    jar.get(COOKIE)
        .map(|c| c.value().to_string())
        .filter(|v| crate::ids::is_handle(v))
}

fn cookie(handle: String) -> CookieJar {
    CookieJar::new().add(party_cookie(
        COOKIE,
        format!("{}/", crate::demo_oidc::PATH),
        handle,
    ))
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

/// `GET /demo-oidc/[?state=…]` — what it is, the login form, or the session with what it
/// received; `state` is chsim's return from RP-initiated logout.
pub async fn page(
    State(s): State<AppState>,
    jar: CookieJar,
    Query(params): Params,
) -> Result<Response, AppError> {
    let rp = rp(&s)?;
    let browser = handle(&jar);
    let returned = params
        .get("state")
        .map(|state| (state.clone(), rp.logout_returned(browser.as_deref(), state)));
    let view = rp.session_view(browser.as_deref());
    let body = super::demo_oidc_page::render(&s, &rp, &view, returned);
    Ok(Html(super::pages::page(&rp.config().name, &body)).into_response())
}

/// `GET /demo-oidc/login[?idp=…][&level=…][&prompt=login|none][&force=1]` — the authorization
/// request to chsim. `level` (or `acr_values`) becomes `acr_values`; `force=1` is
/// `prompt=login`, as `/demo-sp/<id>/login` names ForceAuthn.
pub async fn login(
    State(s): State<AppState>,
    jar: CookieJar,
    Query(params): Params,
) -> Result<Response, AppError> {
    let rp = rp(&s)?;
    let get = |k: &str| params.get(k).filter(|v| !v.is_empty()).cloned();
    let prompt = get("prompt");
    let options = LoginOptions {
        idp: get("idp"),
        acr_values: get("acr_values").or_else(|| get("level")),
        prompt_login: prompt.as_deref() == Some("login") || get("force").as_deref() == Some("1"),
        prompt_none: prompt.as_deref() == Some("none"),
    };
    let browser = match handle(&jar) {
        Some(h) => h,
        None => rp.new_browser_handle()?,
    };
    let url = rp.start_login(&browser, options).await?;
    Ok((cookie(browser), Redirect::to(url.as_str())).into_response())
}

/// `GET /demo-oidc/callback` — chsim's answer. Logged in: to `/demo-oidc/` (or, to `Accept:
/// application/json`, what it received, which scripted logins read); an error: the failure page
/// (or JSON with `admitted: false`).
pub async fn callback(
    State(s): State<AppState>,
    jar: CookieJar,
    headers: HeaderMap,
    Query(params): Params,
) -> Result<Response, AppError> {
    let rp = rp(&s)?;
    let get = |k: &str| params.get(k).cloned();
    let answer = Callback {
        code: get("code"),
        state: get("state"),
        iss: get("iss"),
        error: get("error"),
        error_description: get("error_description"),
    };
    let json = wants_json(&headers);
    match rp.callback(handle(&jar).as_deref(), answer).await {
        Ok(session) => {
            let report = session.to_json(&rp.config().client_id);
            let handle = rp.open_session(session)?;
            if json {
                Ok((cookie(handle), axum::Json(report)).into_response())
            } else {
                Ok((cookie(handle), Redirect::to("./")).into_response())
            }
        }
        Err(e) if json => {
            let (error, description) = match &e {
                crate::demo_oidc::DemoOidcError::Authorization {
                    error, description, ..
                } => (error.clone(), description.clone()),
                other => ("demo_oidc_refused".to_string(), Some(other.to_string())),
            };
            Ok((
                StatusCode::FORBIDDEN,
                axum::Json(serde_json::json!({
                    "admitted": false,
                    "user_system": rp.config().client_id,
                    "error": error,
                    "error_description": description,
                })),
            )
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /demo-oidc/refresh` — "Refresh": the refresh grant; back to the page.
pub async fn refresh(State(s): State<AppState>, jar: CookieJar) -> Result<Response, AppError> {
    rp(&s)?.refresh(handle(&jar).as_deref()).await?;
    Ok(Redirect::to("./").into_response())
}

/// `POST /demo-oidc/userinfo` — "Userinfo again"; back to the page.
pub async fn userinfo(State(s): State<AppState>, jar: CookieJar) -> Result<Response, AppError> {
    rp(&s)?.userinfo_again(handle(&jar).as_deref()).await?;
    Ok(Redirect::to("./").into_response())
}

/// `POST /demo-oidc/logout` — "Log out": RP-initiated logout at chsim's end-session endpoint.
pub async fn logout(State(s): State<AppState>, jar: CookieJar) -> Result<Response, AppError> {
    let url = rp(&s)?.start_logout(handle(&jar).as_deref()).await?;
    Ok(Redirect::to(url.as_str()).into_response())
}

/// `GET /demo-oidc/frontchannel-logout?iss=…&sid=…` — chsim's front-channel logout, loaded in an
/// iframe of chsim's logout page: ends the sessions with that `sid`. Framable by chsim's origin
/// only (the router's default forbids all framing, so the headers are set here), never cached.
pub async fn frontchannel_logout(
    State(s): State<AppState>,
    Query(params): Params,
) -> Result<Response, AppError> {
    let rp = rp(&s)?;
    let outcome = rp.frontchannel_logout(
        params.get("iss").map(String::as_str),
        params.get("sid").map(String::as_str),
    );
    let (status, text) = match &outcome {
        Ok(n) => (
            StatusCode::OK,
            format!(
                "{}: front-channel logout from chsim; {n} session{} ended.",
                rp.config().name,
                if *n == 1 { "" } else { "s" }
            ),
        ),
        Err(e) => (StatusCode::BAD_REQUEST, e.to_string()),
    };
    let frame_ancestors = format!("frame-ancestors {}", rp.chsim_origin());
    let mut response = (
        status,
        [
            (header::X_FRAME_OPTIONS, HeaderValue::from_static("SAMEORIGIN")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        Html(format!(
            r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Front-channel logout</title></head><body><p id="frontchannel-result">{}</p></body></html>"#,
            super::pages::esc(&text)
        )),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&frame_ancestors) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, v);
    }
    Ok(response)
}
