//! The OpenID Provider's endpoints at Context Handler 2's paths (issue #11 §2): discovery, the
//! JWK Set, `authorize.idp` (GET and POST), `token.idp`, `revoke.idp` and `userinfo.idp`. The
//! broker does the work; here requests are bounded and read, and answers get the headers RFC
//! 6749 and RFC 6750 ask for.

use super::error::AppError;
use super::runtime::{client_ip, render_next};
use crate::app::AppState;
use crate::broker::oidc::{TokenFailure, TokenRequest, UserinfoFailure};
use crate::oidc::{discovery, ErrorCode};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use axum_extra::extract::cookie::CookieJar;
use std::net::SocketAddr;

/// A query string longer than this is refused before it is parsed (the parser's own bounds
/// are 30 parameters of at most 2 KB each).
const MAX_QUERY_BYTES: usize = 64 * 1024;

/// `GET {issuer}/.well-known/openid-configuration`.
pub async fn discovery_document(State(s): State<AppState>) -> Response {
    Json(discovery::document(&s.broker.settings().oidc_endpoints)).into_response()
}

/// `GET /runtime/oauth2/certs.idp`: chsim's JWK Set.
pub async fn certs(State(s): State<AppState>) -> Response {
    Json(s.broker.settings().jwt.jwks().clone()).into_response()
}

/// The URL-decoded pairs of a query or form body, in order (repeated names kept, so that the
/// broker can refuse them).
fn pairs(encoded: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(encoded).into_owned().collect()
}

/// A form body: url-encoded, as RFC 6749 requires of every POST here.
fn form_body(headers: &HeaderMap, body: &Bytes) -> Result<Vec<(String, String)>, String> {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| {
            t.split(';').next().is_some_and(|m| {
                m.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        });
    if !form {
        return Err("send the parameters as Content-Type application/x-www-form-urlencoded".into());
    }
    Ok(pairs(body))
}

/// `GET /runtime/oauth2/authorize.idp`.
pub async fn authorize_get(
    State(s): State<AppState>,
    RawQuery(raw): RawQuery,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let raw = raw.unwrap_or_default();
    if raw.len() > MAX_QUERY_BYTES {
        return Err(AppError::BadRequest(format!(
            "the authorization request's query is longer than {MAX_QUERY_BYTES} bytes"
        )));
    }
    authorize(&s, pairs(raw.as_bytes()), connect, &jar).await
}

/// `POST /runtime/oauth2/authorize.idp` (OIDC Core §3.1.2.1: the same parameters as a form).
pub async fn authorize_post(
    State(s): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let params = form_body(&headers, &body).map_err(|message| AppError::Request {
        status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
        message,
    })?;
    authorize(&s, params, connect, &jar).await
}

async fn authorize(
    s: &AppState,
    params: Vec<(String, String)>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    jar: &CookieJar,
) -> Result<Response, AppError> {
    let session = super::session::session_id(jar);
    let (browser, new_cookie) = super::session::browser_or_new(s, jar);
    let next = s
        .broker
        .authorize(
            &params,
            session.as_ref(),
            browser.as_deref(),
            client_ip(connect),
        )
        .await?;
    let page = render_next(s, next);
    Ok(match new_cookie {
        Some(c) => (CookieJar::new().add(c), page).into_response(),
        None => page,
    })
}

/// A log reason that may carry a stranger's text: cut to 512 characters and logged with
/// `Debug`, so that newlines and terminal escapes are escaped, not written.
fn loggable(text: &str) -> String {
    text.chars().take(512).collect()
}

/// Token answers are never cached (RFC 6749 §5.1).
const NO_STORE: [(header::HeaderName, &str); 2] = [
    (header::CACHE_CONTROL, "no-store"),
    (header::PRAGMA, "no-cache"),
];

fn token_refusal(f: TokenFailure, basic: bool) -> Response {
    tracing::info!(target: "chsim::audit", event = "refused", stage = "token", reason = ?loggable(&f.log));
    let status = match f.error.code {
        ErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
        ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    };
    let mut response = (status, NO_STORE, Json(f.error)).into_response();
    // RFC 6749 §5.2: a client that used the Authorization header is challenged the same way.
    if basic && status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Basic realm=\"chsim\""),
        );
    }
    response
}

fn malformed(message: String) -> TokenFailure {
    TokenFailure {
        error: crate::oidc::OAuthError::invalid_request(message.clone()),
        log: message,
    }
}

/// `POST /runtime/oauth2/token.idp`.
pub async fn token(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let (authorization, form) = match client_request(&headers, &body) {
        Ok(read) => read,
        Err(refused) => return refused,
    };
    let request = TokenRequest {
        authorization,
        form: &form,
    };
    match s.broker.token(request).await {
        Ok(answer) => (NO_STORE, Json(answer)).into_response(),
        Err(f) => token_refusal(f, authorization.is_some()),
    }
}

/// `POST /runtime/oauth2/revoke.idp` (RFC 7009).
pub async fn revoke(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let (authorization, form) = match client_request(&headers, &body) {
        Ok(read) => read,
        Err(refused) => return refused,
    };
    let request = TokenRequest {
        authorization,
        form: &form,
    };
    match s.broker.revoke(request).await {
        Ok(()) => (StatusCode::OK, NO_STORE).into_response(),
        Err(f) => token_refusal(f, authorization.is_some()),
    }
}

/// The `Authorization` header and the URL-decoded form of a client's POST.
type ClientRequest<'h> = (Option<&'h str>, Vec<(String, String)>);

/// A client's form POST (token and revocation endpoints): its `Authorization` header and form,
/// or the RFC 6749 §5.2 answer to a body that is no form.
#[allow(clippy::result_large_err)] // the Err is the finished response
fn client_request<'h>(headers: &'h HeaderMap, body: &Bytes) -> Result<ClientRequest<'h>, Response> {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    form_body(headers, body)
        .map(|form| (authorization, form))
        .map_err(|message| token_refusal(malformed(message), false))
}

/// `GET` and `POST /runtime/openidconnect/userinfo.idp` (OIDC Core §5.3, RFC 6750 §2.1).
pub async fn userinfo(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match s.broker.userinfo(authorization).await {
        Ok(claims) => (NO_STORE, Json(claims)).into_response(),
        Err(UserinfoFailure {
            error,
            description,
            log,
        }) => {
            tracing::info!(target: "chsim::audit", event = "refused", stage = "userinfo", reason = ?loggable(&log));
            // RFC 6750 §3: the error in the challenge; quotes and backslashes cannot appear in
            // a quoted-string unescaped.
            let clean: String = description
                .chars()
                .map(|c| {
                    if c == '"' || c == '\\' || !c.is_ascii() {
                        '\''
                    } else {
                        c
                    }
                })
                .collect();
            // RFC 6750 §3.1: a request without any token gets the challenge without an error.
            let challenge = match error {
                "" => "Bearer realm=\"chsim\"".to_string(),
                _ => format!(
                    "Bearer realm=\"chsim\", error=\"{error}\", error_description=\"{clean}\""
                ),
            };
            let mut response = (
                StatusCode::UNAUTHORIZED,
                NO_STORE,
                Json(serde_json::json!({"error": error, "error_description": description})),
            )
                .into_response();
            if let Ok(value) = header::HeaderValue::from_str(&challenge) {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, value);
            }
            response
        }
    }
}

/// `GET /runtime/openidconnect/logout.idp` (RP-initiated logout).
pub async fn logout_get(
    State(s): State<AppState>,
    RawQuery(raw): RawQuery,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let raw = raw.unwrap_or_default();
    if raw.len() > MAX_QUERY_BYTES {
        return Err(AppError::BadRequest(format!(
            "the logout request's query is longer than {MAX_QUERY_BYTES} bytes"
        )));
    }
    logout(&s, pairs(raw.as_bytes()), &jar, None).await
}

/// `POST /runtime/openidconnect/logout.idp`: the same parameters as a form, and the person's
/// confirmation of a logout without `id_token_hint`.
pub async fn logout_post(
    State(s): State<AppState>,
    jar: CookieJar,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let params = form_body(&headers, &body).map_err(|message| AppError::Request {
        status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
        message,
    })?;
    logout(&s, params, &jar, Some(&headers)).await
}

/// Without a verified `id_token_hint` anyone could send a person's browser here: the person
/// confirms on chsim's own page (RP-Initiated Logout 1.0 §2, "the OP SHOULD ask").
async fn logout(
    s: &AppState,
    params: Vec<(String, String)>,
    jar: &CookieJar,
    posted: Option<&HeaderMap>,
) -> Result<Response, AppError> {
    use crate::broker::logout::LogoutFailure;
    let broker = &s.broker;
    let request = crate::oidc::logout::parse(
        &params,
        |hint| broker.verify_id_token_hint(hint),
        |id| broker.trust().oidc_client(id).map(|(_, c)| c.clone()),
    )
    .map_err(|e| super::logout::failed(LogoutFailure::OidcRequest(e)))?;
    let confirmed = params.iter().any(|(n, v)| n == "confirm" && v == "yes");
    if !request.hinted {
        match (confirmed, posted) {
            (true, Some(headers)) => {
                if let Some(site) = super::logout::cross_site(s, headers) {
                    return Err(AppError::Forbidden(format!(
                        "the logout was confirmed from another site ({site}); confirm it on chsim's own page"
                    )));
                }
            }
            _ => return Ok(confirm_page(&params, request.client.as_deref())),
        }
    }
    let step = broker
        .logout_from_oidc(request, super::session::session_id(jar).as_ref())
        .await
        .map_err(super::logout::failed)?;
    Ok(super::logout::render(s, step))
}

fn confirm_page(params: &[(String, String)], client: Option<&crate::oidc::OidcClient>) -> Response {
    let hidden: String = params
        .iter()
        .filter(|(n, _)| n != "confirm")
        .map(|(n, v)| {
            format!(
                r#"<input type="hidden" name="{}" value="{}">"#,
                super::pages::esc_attr(n),
                super::pages::esc_attr(v)
            )
        })
        .collect();
    let who = client.map_or("A user system".to_string(), |c| {
        format!("The user system `{}`", c.client_id)
    });
    let body = format!(
        r#"<p>{who} asks chsim to log you out of chsim and of every system of your session.</p>
<form method="post" action="{path}">{hidden}<input type="hidden" name="confirm" value="yes">
<button type="submit">Log out</button></form>"#,
        who = super::pages::esc(&who),
        path = crate::oidc::discovery::LOGOUT_PATH,
    );
    axum::response::Html(super::pages::page("Log out?", &body)).into_response()
}
