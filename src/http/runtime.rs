//! The broker's endpoints: `/runtime/saml2/…` (IdP face toward user systems) and
//! `/runtime/saml2auth/…` (SP face toward municipal IdPs).

use super::error::AppError;
use super::form::PostedForm;
use super::pages;
use crate::app::AppState;
use crate::broker::{Delivery, IncomingRequest, Next};
use crate::ids::LoginId;
use axum::extract::{ConnectInfo, Query, RawQuery, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Extension;
use axum_extra::extract::cookie::CookieJar;
use std::collections::HashMap;
use std::net::SocketAddr;

fn xml(body: &str) -> Response {
    (
        [(header::CONTENT_TYPE, "application/samlmetadata+xml")],
        body.to_string(),
    )
        .into_response()
}

/// `GET /runtime/saml2/metadata.idp`.
pub async fn idp_metadata(State(s): State<AppState>) -> Response {
    xml(&s.idp_metadata)
}

/// `GET /runtime/saml2auth/metadata.idp`.
pub async fn sp_metadata(State(s): State<AppState>) -> Response {
    xml(&s.sp_metadata)
}

pub(super) fn client_ip(
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
) -> Option<std::net::IpAddr> {
    connect.map(|Extension(ConnectInfo(addr))| addr.ip())
}

pub(super) fn render_next(s: &AppState, next: Next) -> Response {
    match next {
        Next::Redirect(url) => Redirect::to(url.as_str()).into_response(),
        Next::Deliver(delivery) => deliver(s, &delivery),
        Next::Logout(step) => super::logout::render(s, step),
        Next::Choose {
            login,
            user_system_name,
            choices,
        } => {
            let mut body = format!(
                "<p><strong>{}</strong> asks you to log in. Choose your organisation's identity provider:</p><ul>",
                pages::esc(&user_system_name)
            );
            for c in choices {
                let mut url = url::form_urlencoded::Serializer::new(String::new());
                url.append_pair("login", login.as_str());
                url.append_pair("idp", c.entity_id.as_str());
                body.push_str(&format!(
                    r#"<li><a class="button" data-cvr="{cvr}" href="/runtime/saml2/choose?{}">{}</a> <small>{} (CVR {cvr})</small></li>"#,
                    pages::esc_attr(&url.finish()),
                    pages::esc(&c.presentation_name),
                    pages::esc(&c.municipality),
                    cvr = pages::esc_attr(&c.cvr),
                ));
            }
            body.push_str("</ul>");
            Html(pages::page("Log in", &body)).into_response()
        }
    }
}

/// `GET /runtime/saml2/issue.idp` — HTTP-Redirect AuthnRequest.
pub async fn issue_redirect(
    State(s): State<AppState>,
    RawQuery(raw): RawQuery,
    Query(params): Query<HashMap<String, String>>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let raw_query = raw.ok_or_else(|| {
        AppError::BadRequest(
            "issue.idp needs a SAMLRequest (HTTP-Redirect or HTTP-POST binding)".into(),
        )
    })?;
    let incoming = IncomingRequest::Redirect { raw_query };
    start(
        &s,
        incoming,
        params.get("idp").cloned(),
        client_ip(connect),
        &jar,
    )
    .await
}

/// `POST /runtime/saml2/issue.idp` — HTTP-POST AuthnRequest.
pub async fn issue_post(
    State(s): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    jar: CookieJar,
    PostedForm(form): PostedForm,
) -> Result<Response, AppError> {
    let saml_request = form
        .get("SAMLRequest")
        .ok_or_else(|| AppError::BadRequest("the form has no SAMLRequest field".into()))?
        .clone();
    let idp = params.get("idp").or(form.get("idp")).cloned();
    let incoming = IncomingRequest::Post {
        saml_request,
        relay_state: form.get("RelayState").cloned(),
    };
    start(&s, incoming, idp, client_ip(connect), &jar).await
}

/// The broker's `start`, with the browser's SSO session and its `chsim_browser` cookie (set
/// on the answer when the browser has none).
async fn start(
    s: &AppState,
    incoming: IncomingRequest,
    idp_hint: Option<String>,
    client_ip: Option<std::net::IpAddr>,
    jar: &CookieJar,
) -> Result<Response, AppError> {
    let session = super::session::session_id(jar);
    let (browser, new_cookie) = super::session::browser_or_new(s, jar);
    let next = s
        .broker
        .start(
            incoming,
            idp_hint.as_deref(),
            client_ip,
            session.as_ref(),
            browser.as_deref(),
        )
        .await?;
    let page = render_next(s, next);
    Ok(match new_cookie {
        Some(c) => (CookieJar::new().add(c), page).into_response(),
        None => page,
    })
}

/// `GET /runtime/saml2/choose?login=…&idp=…` — the chooser's links.
pub async fn choose(
    State(s): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let (Some(login), Some(idp)) = (params.get("login"), params.get("idp")) else {
        return Err(AppError::BadRequest(
            "choose needs `login` and `idp` parameters".into(),
        ));
    };
    let next = s.broker.choose(&LoginId::new(login.clone()), idp).await?;
    Ok(render_next(&s, next))
}

/// Renders the auto-POST of a token to the user system, keeping the browser's SSO session.
pub fn deliver(s: &AppState, d: &Delivery) -> Response {
    let page = match &d.saml {
        Some(post) => Html(pages::auto_post(
            &d.url,
            "SAMLResponse",
            &post.saml_response,
            post.relay_state.as_deref(),
            &format!("Returning you to {}…", d.user_system_name),
        ))
        .into_response(),
        // OIDC: the code (or error) goes back in a redirect (RFC 6749 §4.1.2).
        None => Redirect::to(&d.url).into_response(),
    };
    match &d.session {
        Some(id) => (CookieJar::new().add(super::session::cookie(s, id)), page).into_response(),
        None => page.into_response(),
    }
}

/// `POST /runtime/saml2auth/consume.idp` — the IdP's Response.
pub async fn consume(
    State(s): State<AppState>,
    jar: CookieJar,
    PostedForm(form): PostedForm,
) -> Result<Response, AppError> {
    let saml_response = form
        .get("SAMLResponse")
        .ok_or_else(|| AppError::BadRequest("the form has no SAMLResponse field".into()))?;
    let browser = super::session::browser_id(&jar);
    match s.broker.consume(saml_response, browser.as_deref()).await? {
        crate::broker::Consumed::Deliver(delivery) => Ok(deliver(&s, &delivery)),
        // Step-up: back to the same IdP, which is asked for the higher level with ForceAuthn.
        crate::broker::Consumed::StepUp(url) => Ok(Redirect::to(url.as_str()).into_response()),
    }
}

/// `GET /runtime/logins/<session index>` — what chsim did in that login: where the privileges came
/// from, what was received, issued and dropped.
pub async fn login_report(
    State(s): State<AppState>,
    axum::extract::Path(session_index): axum::extract::Path<String>,
) -> Result<Response, AppError> {
    let r = s.broker.report(&session_index).await.map_err(crate::broker::Failure::from)?.ok_or_else(|| {
        AppError::NotFound(format!(
            "chsim has no report for SessionIndex `{session_index}` (reports are kept for an hour, the most recent few thousand)"
        ))
    })?;
    let mut body = pages::table(
        ("", ""),
        &[
            ("Issued at".into(), r.issued_at.to_rfc3339()),
            ("User system".into(), r.user_system.clone()),
            ("Identity provider".into(), r.idp.clone()),
            ("NameID".into(), r.name_id.clone()),
            (
                "Privileges came from".into(),
                r.provenance.describe().to_string(),
            ),
        ],
    );
    body.push_str("<h2>Privileges received (job-function roles)</h2>");
    match &r.received {
        Some(list) => body.push_str(&pages::privilege_table(list)),
        None => body.push_str("<p>No privilege attribute was received.</p>"),
    }
    body.push_str("<h2>Privileges issued (user-system roles)</h2>");
    if r.issued.is_empty() {
        body.push_str("<p>None: the person has no privileges for this user system, so the privilege attribute was omitted (OIOBPP).</p>");
    } else {
        body.push_str(&pages::privilege_table(&r.issued));
    }
    body.push_str("<h2>Dropped</h2>");
    if r.dropped.is_empty() {
        body.push_str("<p>Nothing was dropped.</p>");
    } else {
        let rows: Vec<(String, String)> = r
            .dropped
            .iter()
            .map(|d| {
                (
                    format!("{}\n{}", d.privilege, d.scope),
                    d.reason.to_string(),
                )
            })
            .collect();
        body.push_str(&pages::table(("Privilege (scope)", "Reason"), &rows));
    }
    // The demo user systems show this page in an iframe of their own (same origin): allow that,
    // and only that, instead of the DENY every other page gets.
    Ok((
        [
            (header::X_FRAME_OPTIONS, "SAMEORIGIN"),
            (header::CONTENT_SECURITY_POLICY, "frame-ancestors 'self'"),
        ],
        Html(pages::page("What chsim did in this login", &body)),
    )
        .into_response())
}

/// `GET /runtime/scripted/login?user_system=…&user=…&municipality=…|idp=…[&level=…][&force=1]`
/// — a scripted login (issue #3 §5) through chsim's own public URL, for test suites in any
/// language: JSON with the outcome; HTTP 200 when admitted, 403 when refused, 400 when the login
/// could not be carried out.
pub async fn scripted_login(
    State(s): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| params.get(k).filter(|v| !v.is_empty()).cloned();
    let (Some(user_system), Some(user)) = (get("user_system"), get("user")) else {
        return (
            axum::http::StatusCode::BAD_REQUEST,
            axum::Json(serde_json::json!({
                "error": "give user_system (a demo user system's entityID, or demo-oidc) and user (a test user), and municipality (CVR) or idp (entityID)"
            })),
        )
            .into_response();
    };
    let login = crate::scripted::ScriptedLogin {
        base_url: s.public_url.to_string(),
        user_system,
        municipality: get("municipality"),
        idp: get("idp"),
        user,
        level: get("level"),
        force_authn: get("force").as_deref() == Some("1"),
    };
    match crate::scripted::run_bounded(&login).await {
        Ok(outcome) => {
            let status = if outcome.admitted {
                axum::http::StatusCode::OK
            } else {
                axum::http::StatusCode::FORBIDDEN
            };
            (status, axum::Json(outcome)).into_response()
        }
        Err(e) => (
            match e {
                crate::scripted::ScriptError::Busy { .. } => {
                    axum::http::StatusCode::SERVICE_UNAVAILABLE
                }
                _ => axum::http::StatusCode::BAD_REQUEST,
            },
            axum::Json(serde_json::json!({ "error": e.to_string() })),
        )
            .into_response(),
    }
}
