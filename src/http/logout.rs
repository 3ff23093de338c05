//! Single logout's endpoints (issue #9 §3, reference §3.4), as chsim's metadata publishes them:
//! - `/runtime/saml2/issue.idp` takes user systems' LogoutRequests (routed from `runtime`), and
//!   `/runtime/saml2/signoff.idp` their LogoutResponses; `/runtime/services/signoff/saml2/soap`
//!   takes a LogoutRequest by SOAP and answers by SOAP;
//! - `/runtime/saml2auth/signoffrequest.idp` takes IdPs' LogoutRequests, and
//!   `/runtime/saml2auth/signoffresponse.idp` their LogoutResponses;
//! - `/runtime/session/logout` is the session page's "Log out" button.

use super::error::AppError;
use super::form::PostedForm;
use super::pages;
use crate::app::AppState;
use crate::broker::logout::{Face, LogoutFailure, LogoutStep, LogoutSummary};
use crate::broker::{BrokerError, Failure};
use crate::saml::logout::Incoming;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;

pub(super) fn failed(e: LogoutFailure) -> AppError {
    AppError::Broker(Failure::from(BrokerError::Logout(Box::new(e))))
}

/// The browser's next hop in a logout. chsim's own session cookie goes with it: the session
/// ended when the logout started.
pub fn render(s: &AppState, step: LogoutStep) -> Response {
    let jar = CookieJar::new().add(super::session::removal());
    match step {
        LogoutStep::Redirect(url) => (jar, Redirect::to(url.as_str())).into_response(),
        LogoutStep::Post(form) => (
            jar,
            Html(pages::auto_post(
                &form.action,
                form.field,
                &form.value,
                form.relay_state.as_deref(),
                "Logging you out…",
            )),
        )
            .into_response(),
        LogoutStep::Soap(envelope) => soap(envelope),
        LogoutStep::Done(summary) => (jar, Html(summary_page(s, &summary, ""))).into_response(),
        LogoutStep::Frames { urls, then } => frames(s, jar, &urls, *then),
        // No session ended: the browser keeps its cookie.
        LogoutStep::NothingEnded(Some(url)) => Redirect::to(url.as_str()).into_response(),
        LogoutStep::NothingEnded(None) => Html(pages::page(
            "Nothing to log out",
            "<p>This browser has no chsim session of that login, so nothing was ended. Any other session of the browser is left as it was.</p>",
        ))
        .into_response(),
    }
}

/// Front-channel logout of OIDC user systems (Front-Channel Logout 1.0 §2): their logout pages
/// in iframes, then the next step once they loaded (or after five seconds).
fn frames(s: &AppState, jar: CookieJar, urls: &[String], then: LogoutStep) -> Response {
    let iframes: String = urls
        .iter()
        .map(|u| {
            format!(
                r#"<iframe class="frontchannel-logout" src="{}" title="front-channel logout" width="1" height="1" style="border:0"></iframe>"#,
                pages::esc_attr(u)
            )
        })
        .collect();
    let (continuation, go) = match then {
        LogoutStep::Redirect(url) => (
            format!(
                r#"<p><a id="chsim-continue" class="button" href="{}">Continue</a></p>"#,
                pages::esc_attr(url.as_str())
            ),
            "location.href=document.getElementById('chsim-continue').href;",
        ),
        LogoutStep::Post(form) => (
            format!(
                r#"<form method="post" action="{action}" id="chsim-continue-form"><input type="hidden" name="{field}" value="{value}">{relay}<button type="submit">Continue</button></form>"#,
                action = pages::esc_attr(&form.action),
                field = pages::esc_attr(form.field),
                value = pages::esc_attr(&form.value),
                relay = pages::relay_state_input(form.relay_state.as_deref()),
            ),
            "document.getElementById('chsim-continue-form').submit();",
        ),
        LogoutStep::Done(summary) => {
            return (jar, Html(summary_page(s, &summary, &iframes))).into_response()
        }
        other => return render(s, other),
    };
    let body = format!(
        r#"<p>Logging you out of the systems of your session…</p>{iframes}{continuation}
<script>(function(){{var done=false;function go(){{if(done)return;done=true;{go}}}window.addEventListener('load',go);setTimeout(go,5000);}})();</script>"#
    );
    (jar, Html(pages::page("Logging out", &body))).into_response()
}

fn soap(envelope: String) -> Response {
    (
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        envelope,
    )
        .into_response()
}

fn summary_page(s: &AppState, summary: &LogoutSummary, frames: &str) -> String {
    let trust = s.broker.trust();
    let name = |id: &crate::ids::EntityId| {
        trust
            .user_systems
            .get(id)
            .map(|u| u.name.clone())
            .or_else(|| trust.idp(id.as_str()).map(|i| i.presentation_name.clone()))
            .unwrap_or_else(|| id.to_string())
    };
    let mut body = if summary.complete() {
        "<p>You are logged out of chsim and of every system this session reached.</p>".to_string()
    } else {
        r#"<div class="error"><p><strong>Partial logout.</strong> You are logged out of chsim, but not every system confirmed it: close the browser to be sure.</p></div>"#.to_string()
    };
    if !summary.results.is_empty() {
        let rows: Vec<(String, String)> = summary
            .results
            .iter()
            .map(|r| (name(&r.party), r.detail.clone()))
            .collect();
        body.push_str(&pages::table(("System", "Result"), &rows));
    }
    body.push_str(super::session::NO_SESSION);
    body.push_str(frames);
    pages::page("Logged out", &body)
}

fn redirect_incoming(raw: Option<String>) -> Result<Incoming, AppError> {
    raw.map(|raw_query| Incoming::Redirect { raw_query })
        .ok_or_else(|| AppError::BadRequest("this logout endpoint needs a SAMLRequest or SAMLResponse (HTTP-Redirect or HTTP-POST binding)".into()))
}

fn post_incoming(
    form: &std::collections::HashMap<String, String>,
    field: &str,
) -> Result<Incoming, AppError> {
    let message = form
        .get(field)
        .ok_or_else(|| AppError::BadRequest(format!("the form has no {field} field")))?;
    Ok(Incoming::Post {
        message: message.clone(),
        relay_state: form.get("RelayState").cloned(),
    })
}

/// `GET /runtime/saml2/signoff.idp` — a user system's LogoutResponse (HTTP-Redirect).
pub async fn user_system_response_redirect(
    State(s): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let step = s
        .broker
        .logout_response(redirect_incoming(raw)?, Face::UserSystems)
        .await
        .map_err(failed)?;
    Ok(render(&s, step))
}

/// `POST /runtime/saml2/signoff.idp` — a user system's LogoutResponse (HTTP-POST).
pub async fn user_system_response_post(
    State(s): State<AppState>,
    PostedForm(form): PostedForm,
) -> Result<Response, AppError> {
    let step = s
        .broker
        .logout_response(post_incoming(&form, "SAMLResponse")?, Face::UserSystems)
        .await
        .map_err(failed)?;
    Ok(render(&s, step))
}

/// `POST /runtime/services/signoff/saml2/soap` — a user system's LogoutRequest by SOAP (back
/// channel): answered by SOAP, with a SOAP fault when it cannot be answered.
pub async fn soap_request(State(s): State<AppState>, body: String) -> Response {
    match s
        .broker
        .logout_from_user_system(Incoming::Soap { envelope: body })
        .await
    {
        Ok(LogoutStep::Soap(envelope)) => soap(envelope),
        Ok(_) => soap(crate::saml::soap::soap_fault(
            "s:Server",
            "chsim could not answer this logout by SOAP",
        )),
        Err(e) => {
            crate::audit::refused("logout", &e.to_string());
            (
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
                crate::saml::soap::soap_fault("s:Client", &e.to_string()),
            )
                .into_response()
        }
    }
}

/// `GET /runtime/saml2auth/signoffrequest.idp` — an IdP's LogoutRequest (HTTP-Redirect).
pub async fn idp_request_redirect(
    State(s): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let step = s
        .broker
        .logout_from_idp(redirect_incoming(raw)?)
        .await
        .map_err(failed)?;
    Ok(render(&s, step))
}

/// `POST /runtime/saml2auth/signoffrequest.idp` — an IdP's LogoutRequest (HTTP-POST).
pub async fn idp_request_post(
    State(s): State<AppState>,
    PostedForm(form): PostedForm,
) -> Result<Response, AppError> {
    let step = s
        .broker
        .logout_from_idp(post_incoming(&form, "SAMLRequest")?)
        .await
        .map_err(failed)?;
    Ok(render(&s, step))
}

/// `GET /runtime/saml2auth/signoffresponse.idp` — an IdP's LogoutResponse (HTTP-Redirect).
pub async fn idp_response_redirect(
    State(s): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let step = s
        .broker
        .logout_response(redirect_incoming(raw)?, Face::Idps)
        .await
        .map_err(failed)?;
    Ok(render(&s, step))
}

/// `POST /runtime/saml2auth/signoffresponse.idp` — an IdP's LogoutResponse (HTTP-POST).
pub async fn idp_response_post(
    State(s): State<AppState>,
    PostedForm(form): PostedForm,
) -> Result<Response, AppError> {
    let step = s
        .broker
        .logout_response(post_incoming(&form, "SAMLResponse")?, Face::Idps)
        .await
        .map_err(failed)?;
    Ok(render(&s, step))
}

/// `POST /runtime/session/logout` — the session page's "Log out": chsim logs the person out of
/// every system the session reached, then shows what happened.
pub async fn from_session_page(
    State(s): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
) -> Result<Response, AppError> {
    // Over https the session cookie is SameSite=None, so another site's form could log the
    // person out of everything: only chsim's own pages may press this button.
    if let Some(site) = cross_site(&s, &headers) {
        return Err(AppError::Forbidden(format!(
            "chsim's Log out button was pressed from another site ({site}); log out from chsim's own session page"
        )));
    }
    let step = s
        .broker
        .logout_from_chsim(super::session::session_id(&jar).as_ref())
        .await
        .map_err(failed)?;
    Ok(render(&s, step))
}

/// Where a browser's POST came from, when that is another site than chsim: `Sec-Fetch-Site`
/// (modern browsers), else `Origin` against `public_url`. Clients that send neither carry no
/// victim's cookie.
pub(super) fn cross_site(s: &AppState, headers: &HeaderMap) -> Option<String> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = header("sec-fetch-site") {
        return (!matches!(site, "same-origin" | "none"))
            .then(|| format!("Sec-Fetch-Site: {site}"));
    }
    let origin = header("origin")?;
    let ours = url::Url::parse(&s.public_url)
        .ok()?
        .origin()
        .ascii_serialization();
    (origin != ours).then(|| format!("Origin: {origin}"))
}
