//! The authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1) as Context Handler 2 takes it
//! (reference §3): code flow with PKCE S256, `state` and `nonce` required, `display`,
//! `response_mode` and `id_token_hint` refused, no request objects. And the redirects back to the
//! client: the code, or the error (RFC 6749 §4.1.2), both with `iss` (RFC 9207).
//!
//! Order (RFC 6749 §4.1.2.1): until the client and its redirect URI are verified every refusal is
//! an error page — chsim never redirects to an unverified URI; after that, errors go to the
//! redirect URI.

use super::error::{ErrorCode, OAuthError};
use super::pkce;
use super::registration::OidcClient;
use crate::assurance::{
    requested_minimum, Equivalence, Requirement, NIST_CLASS_PREFIX, NSIS_CLASS_PREFIX,
};
use std::sync::Arc;

#[cfg(test)]
mod tests;

/// At most this many parameters in one request.
pub const MAX_PARAMETERS: usize = 30;
/// At most this many bytes in one parameter's name or value.
pub const MAX_VALUE_BYTES: usize = 2048;

/// The parameters the Context Handler refuses outright (reference §3).
const PROHIBITED: [&str; 3] = ["display", "response_mode", "id_token_hint"];

/// `prompt` (OIDC Core §3.1.2.1), as far as it changes what chsim does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    /// No `prompt`, or only `consent`/`select_account` (accepted and ignored: chsim asks no
    /// consent and has one account per login).
    Unspecified,
    /// `none`: answer from the SSO session or fail with `login_required`.
    None,
    /// `login`: authenticate the person again even with a session.
    Login,
}

/// A verified authorization request: the client and redirect URI are registered, every rule of
/// the Context Handler holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRequest {
    /// `client_id`.
    pub client_id: String,
    /// `redirect_uri`, one of the client's registered URIs (exact match).
    pub redirect_uri: String,
    /// `state`, returned unchanged.
    pub state: String,
    /// `nonce`, put in the ID token.
    pub nonce: String,
    /// `code_challenge` (method S256, checked in shape).
    pub code_challenge: String,
    /// `scope`, as sent (it contains `openid`; other values grant nothing).
    pub scope: Vec<String>,
    /// The minimum `acr_values` ask for: the highest of them (see [`parse`]).
    pub acr_minimum: Option<Requirement>,
    /// `max_age` in seconds.
    pub max_age: Option<u64>,
    /// `prompt`.
    pub prompt: Prompt,
    /// `login_hint`, passed on as a hint.
    pub login_hint: Option<String>,
}

/// Why an authorization request was refused, and how the person learns it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorizeRefusal {
    /// Shown as chsim's error page: the client or its redirect URI could not be verified (or the
    /// request is out of bounds), so there is nowhere safe to redirect. The text echoes request
    /// values; the page must escape it.
    #[error("authorization request refused: {0}")]
    Page(String),
    /// Sent to the verified redirect URI (see [`error_redirect`]).
    #[error("authorization request refused ({error}); redirecting to {redirect_uri}")]
    Redirect {
        /// The client's verified redirect URI.
        redirect_uri: String,
        /// `state` to return, when the request carried exactly one.
        state: Option<String>,
        /// The error.
        error: OAuthError,
    },
}

/// The parameters by name: values in order of arrival, empty values dropped (RFC 6749 §3.1:
/// a parameter without a value is as if omitted).
struct Params<'a>(Vec<(&'a str, &'a str)>);

impl<'a> Params<'a> {
    fn all(&self, name: &str) -> impl Iterator<Item = &'a str> + '_ {
        let name = name.to_string();
        self.0
            .iter()
            .filter(move |(n, _)| *n == name)
            .map(|(_, v)| *v)
    }

    /// The value, None when absent, Err(name) when repeated.
    fn one(&self, name: &'static str) -> Result<Option<&'a str>, &'static str> {
        let mut values = self.all(name);
        match (values.next(), values.next()) {
            (v, None) => Ok(v),
            (Some(_), Some(_)) | (None, Some(_)) => Err(name),
        }
    }

    /// The first parameter sent more than once.
    fn repeated(&self) -> Option<&'a str> {
        self.0
            .iter()
            .enumerate()
            .find(|(i, (n, _))| self.0[..*i].iter().any(|(m, _)| m == n))
            .map(|(_, (n, _))| *n)
    }
}

/// Reads and checks an authorization request from its parameters (query or form, already
/// URL-decoded). `lookup` finds a registered client; `eq` relates NSIS levels to NIST levels
/// when `acr_values` mix the two.
///
/// `acr_values` is read as a minimum — the highest level among the values — since the Context
/// Handler's clients send the one level they need; an unknown value is refused.
pub fn parse(
    params: &[(String, String)],
    eq: &Equivalence,
    lookup: impl Fn(&str) -> Option<Arc<OidcClient>>,
) -> Result<(Arc<OidcClient>, AuthorizationRequest), AuthorizeRefusal> {
    use AuthorizeRefusal::Page;
    // 1. Bounds, before anything is read.
    if params.len() > MAX_PARAMETERS {
        return Err(Page(format!(
            "the request has {} parameters; at most {MAX_PARAMETERS} are accepted",
            params.len()
        )));
    }
    if let Some((name, _)) = params
        .iter()
        .find(|(n, v)| n.len() > MAX_VALUE_BYTES || v.len() > MAX_VALUE_BYTES)
    {
        let name: String = name.chars().take(64).collect();
        return Err(Page(format!(
            "parameter `{name}` is longer than {MAX_VALUE_BYTES} bytes"
        )));
    }
    let p = Params(
        params
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect(),
    );
    // 2. The client and its redirect URI: refusals are pages.
    let repeated_page = |name: &str| Page(format!("`{name}` was sent more than once"));
    let client_id = p
        .one("client_id")
        .map_err(repeated_page)?
        .ok_or_else(|| Page("the request has no client_id".into()))?;
    let client = lookup(client_id).ok_or_else(|| {
        Page(format!(
            "client_id `{client_id}` is not a registered OIDC user system"
        ))
    })?;
    let redirect_uri = p
        .one("redirect_uri")
        .map_err(repeated_page)?
        .ok_or_else(|| Page("the request has no redirect_uri".into()))?;
    if !client.allows_redirect(redirect_uri) {
        return Err(Page(format!(
            "redirect_uri `{redirect_uri}` is not registered for client `{client_id}` (redirect URIs are matched exactly)"
        )));
    }
    // 3. From here on, errors go back to the client.
    let state = p.one("state").ok().flatten();
    let refuse = |error: OAuthError| AuthorizeRefusal::Redirect {
        redirect_uri: redirect_uri.to_string(),
        state: state.map(str::to_string),
        error,
    };
    let request = check(&p, eq).map_err(refuse)?;
    Ok((
        client,
        AuthorizationRequest {
            client_id: client_id.to_string(),
            redirect_uri: redirect_uri.to_string(),
            ..request
        },
    ))
}

/// The rules after the client is verified; `client_id` and `redirect_uri` are left empty.
fn check(p: &Params<'_>, eq: &Equivalence) -> Result<AuthorizationRequest, OAuthError> {
    let bad = OAuthError::invalid_request;
    // 3.1 Every parameter at most once (RFC 6749 §3.1).
    if let Some(name) = p.repeated() {
        return Err(bad(format!("`{name}` was sent more than once")));
    }
    let get = |name: &'static str| p.one(name).ok().flatten();
    // 3.2 No request objects (OIDC Core §6).
    if get("request").is_some() {
        return Err(OAuthError::new(
            ErrorCode::RequestNotSupported,
            "the Context Handler takes no request objects (`request`)",
        ));
    }
    if get("request_uri").is_some() {
        return Err(OAuthError::new(
            ErrorCode::RequestUriNotSupported,
            "the Context Handler takes no request objects (`request_uri`)",
        ));
    }
    // 3.3 Code flow only.
    match get("response_type") {
        None => return Err(OAuthError::invalid_request("response_type is missing; use `code`")),
        Some("code") => {}
        Some(other) => {
            return Err(OAuthError::new(
                ErrorCode::UnsupportedResponseType,
                format!("response_type `{other}` is not supported; the Context Handler does the code flow only (`code`)"),
            ))
        }
    }
    // 3.4 The Context Handler's prohibited parameters.
    if let Some(name) = PROHIBITED.into_iter().find(|n| get(n).is_some()) {
        return Err(bad(format!(
            "the Context Handler refuses the `{name}` parameter"
        )));
    }
    // 3.5 scope with openid.
    let scope: Vec<String> = get("scope")
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if !scope.iter().any(|s| s == "openid") {
        return Err(OAuthError::new(
            ErrorCode::InvalidScope,
            "scope must contain `openid`",
        ));
    }
    // 3.6 Required by the Context Handler: state, nonce, PKCE S256.
    let required = |name: &'static str| {
        get(name).ok_or_else(|| bad(format!("`{name}` is required by the Context Handler")))
    };
    let state = required("state")?;
    let nonce = required("nonce")?;
    let code_challenge = required("code_challenge")?;
    match get("code_challenge_method") {
        Some("S256") => {}
        None => {
            return Err(OAuthError::invalid_request(
                "code_challenge_method is missing; the Context Handler requires `S256`",
            ))
        }
        Some(other) => {
            return Err(bad(format!(
                "code_challenge_method `{other}` is refused; the Context Handler requires `S256`"
            )))
        }
    }
    pkce::check_challenge(code_challenge).map_err(bad)?;
    // 3.7 Optional: acr_values, max_age, prompt.
    let acr_minimum = match get("acr_values") {
        Some(values) => acr_minimum(values, eq)?,
        None => None,
    };
    let max_age = match get("max_age") {
        Some(v) if v.bytes().all(|b| b.is_ascii_digit()) => Some(
            v.parse::<u64>()
                .map_err(|_| bad(format!("max_age `{v}` is too large")))?,
        ),
        Some(v) => {
            return Err(bad(format!(
                "max_age `{v}` is not a non-negative whole number of seconds"
            )))
        }
        None => None,
    };
    let prompt = match get("prompt") {
        Some(v) => prompt(v)?,
        None => Prompt::Unspecified,
    };
    Ok(AuthorizationRequest {
        client_id: String::new(),
        redirect_uri: String::new(),
        state: state.to_string(),
        nonce: nonce.to_string(),
        code_challenge: code_challenge.to_string(),
        scope,
        acr_minimum,
        max_age,
        prompt,
        login_hint: get("login_hint").map(str::to_string),
    })
}

/// `acr_values`: each an NSIS loa URI or a NIST class ref; the minimum is the highest of them
/// (with mixed kinds, the lowest NSIS level that meets all, as `Requirement::raised_by` says).
fn acr_minimum(values: &str, eq: &Equivalence) -> Result<Option<Requirement>, OAuthError> {
    let mut minimum: Option<Requirement> = None;
    for value in values.split(' ').filter(|v| !v.is_empty()) {
        let known = value.starts_with(NSIS_CLASS_PREFIX) || value.starts_with(NIST_CLASS_PREFIX);
        let level = known
            .then(|| requested_minimum("minimum", &[value.to_string()]))
            .flatten()
            .ok_or_else(|| {
                OAuthError::invalid_request(format!(
                    "acr_values: `{value}` is neither an NSIS level ({NSIS_CLASS_PREFIX}Low|Substantial|High) nor a NIST level ({NIST_CLASS_PREFIX}1..4)"
                ))
            })?;
        minimum = match minimum {
            None => Some(level),
            Some(m) => Some(m.raised_by(level, eq).ok_or_else(|| {
                OAuthError::invalid_request(format!(
                    "acr_values: no login can meet both {m} and {level}"
                ))
            })?),
        };
    }
    Ok(minimum)
}

/// `prompt`: space-separated among `none`, `login`, `consent`, `select_account`; `none` alone.
fn prompt(value: &str) -> Result<Prompt, OAuthError> {
    let values: Vec<&str> = value.split(' ').filter(|v| !v.is_empty()).collect();
    if let Some(unknown) = values
        .iter()
        .find(|v| !matches!(**v, "none" | "login" | "consent" | "select_account"))
    {
        return Err(OAuthError::invalid_request(format!(
            "prompt `{unknown}` is not one of none, login, consent, select_account"
        )));
    }
    Ok(if values.contains(&"none") {
        if values.len() > 1 {
            return Err(OAuthError::invalid_request(
                "prompt `none` cannot be combined with other values",
            ));
        }
        Prompt::None
    } else if values.contains(&"login") {
        Prompt::Login
    } else {
        Prompt::Unspecified
    })
}

/// `redirect_uri` with `params` appended to its query: an existing query is kept, values are
/// form-urlencoded, and the registered URI is otherwise left exactly as registered.
pub(crate) fn with_query(redirect_uri: &str, params: &[(&str, &str)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in params {
        query.append_pair(name, value);
    }
    let query = query.finish();
    let separator = match redirect_uri.find('?') {
        None => "?",
        Some(i) if i + 1 == redirect_uri.len() || redirect_uri.ends_with('&') => "",
        Some(_) => "&",
    };
    format!("{redirect_uri}{separator}{query}")
}

/// The error redirect (RFC 6749 §4.1.2.1): `error`, `error_description`, `state` when known and
/// `iss` (RFC 9207).
pub fn error_redirect(
    redirect_uri: &str,
    state: Option<&str>,
    error: &OAuthError,
    iss: &str,
) -> String {
    let mut params = vec![
        ("error", error.code.as_str()),
        ("error_description", error.description.as_str()),
    ];
    if let Some(state) = state {
        params.push(("state", state));
    }
    params.push(("iss", iss));
    with_query(redirect_uri, &params)
}

/// The success redirect (RFC 6749 §4.1.2): `code`, `state` and `iss` (RFC 9207).
pub fn code_redirect(redirect_uri: &str, code: &str, state: &str, iss: &str) -> String {
    with_query(
        redirect_uri,
        &[("code", code), ("state", state), ("iss", iss)],
    )
}
