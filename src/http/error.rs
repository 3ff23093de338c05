//! One error type for handlers and the one mapping from domain errors to HTTP responses.
//! SAML statuses for user systems are decided in `broker::error`; here only the HTTP status and
//! the page the person sees.

use super::pages;
use crate::broker::{BrokerError, Failure};
use crate::demo_oidc::DemoOidcError;
use crate::demo_sp::DemoSpError;
use crate::party_logout::SloError;
use crate::test_idp::TestIdpError;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

/// A handler failure.
#[derive(Debug)]
pub enum AppError {
    /// A brokered login failed.
    Broker(Failure),
    /// The built-in test IdP refused.
    TestIdp(TestIdpError),
    /// A demo user system refused.
    DemoSp(DemoSpError),
    /// The demo OIDC user system refused or failed.
    DemoOidc(DemoOidcError),
    /// No such page or party.
    NotFound(String),
    /// A request the endpoint cannot take.
    BadRequest(String),
    /// A request from another site to a button only chsim's own pages may press.
    Forbidden(String),
    /// A request body refused before it was read (too large, not a form), with its status.
    Request {
        /// 413, 415 or 400.
        status: StatusCode,
        /// What failed and what to do.
        message: String,
    },
}

impl From<Failure> for AppError {
    fn from(f: Failure) -> Self {
        AppError::Broker(f)
    }
}
impl From<TestIdpError> for AppError {
    fn from(e: TestIdpError) -> Self {
        AppError::TestIdp(e)
    }
}
impl From<DemoSpError> for AppError {
    fn from(e: DemoSpError) -> Self {
        AppError::DemoSp(e)
    }
}

impl From<DemoOidcError> for AppError {
    fn from(e: DemoOidcError) -> Self {
        AppError::DemoOidc(e)
    }
}

fn broker_http_status(e: &BrokerError) -> StatusCode {
    match e {
        BrokerError::BadAuthnRequest(_)
        | BrokerError::OidcRequest(_)
        | BrokerError::RelayStateTooLong { .. }
        | BrokerError::StaleAuthnRequest { .. }
        | BrokerError::WrongDestination { .. }
        | BrokerError::UnknownAcs { .. }
        | BrokerError::BadIdpResponse(_)
        | BrokerError::UnknownIdp { .. } => StatusCode::BAD_REQUEST,
        BrokerError::UnknownUserSystem { .. }
        | BrokerError::UnsignedAuthnRequest { .. }
        | BrokerError::BadAuthnRequestSignature { .. }
        | BrokerError::Unsolicited { .. }
        | BrokerError::AlreadyAnswered { .. }
        | BrokerError::Invalid { .. }
        | BrokerError::Replay { .. }
        | BrokerError::AuthnRequestReplay { .. }
        | BrokerError::NoPassive { .. }
        | BrokerError::NameIdFormat { .. }
        | BrokerError::NemloginMismatch { .. }
        | BrokerError::Assurance { .. }
        | BrokerError::MissingCvr { .. }
        | BrokerError::ForeignCvr { .. }
        | BrokerError::NameId { .. }
        | BrokerError::MalformedCvr { .. }
        | BrokerError::CvrDisagreement { .. }
        | BrokerError::SeveralValues { .. } => StatusCode::FORBIDDEN,
        BrokerError::Logout(f) => match f.as_ref() {
            crate::broker::logout::LogoutFailure::Broker(e) => broker_http_status(e),
            crate::broker::logout::LogoutFailure::Message(
                crate::saml::logout::LogoutError::Unsigned { .. }
                | crate::saml::logout::LogoutError::Signature { .. }
                | crate::saml::logout::LogoutError::SignedContentMismatch { .. },
            ) => StatusCode::FORBIDDEN,
            crate::broker::logout::LogoutFailure::Message(_)
            | crate::broker::logout::LogoutFailure::OidcRequest(_)
            | crate::broker::logout::LogoutFailure::NoEndpoint { .. } => StatusCode::BAD_REQUEST,
            _ => StatusCode::FORBIDDEN,
        },
        BrokerError::UnknownLogin { .. } => StatusCode::GONE,
        BrokerError::NoIdpAvailable => StatusCode::SERVICE_UNAVAILABLE,
        BrokerError::NoIdpMeetsLevel { .. }
        | BrokerError::IdpCannotMeetLevel { .. }
        | BrokerError::LevelTooLow { .. } => StatusCode::FORBIDDEN,
        BrokerError::AttributeService { .. } | BrokerError::Privileges { .. } => {
            StatusCode::BAD_GATEWAY
        }
        BrokerError::Token(_) => StatusCode::INTERNAL_SERVER_ERROR,
        BrokerError::Cpu(_) | BrokerError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

fn error_page(
    status: StatusCode,
    title: &str,
    message: &str,
    advice: &str,
    extra: &str,
) -> Response {
    let body = format!(
        r#"<div class="error"><p><strong>{}</strong></p><p>{}</p></div>{}"#,
        pages::esc(message),
        pages::esc(advice),
        extra
    );
    (status, Html(pages::page(title, &body))).into_response()
}

/// A built-in party's single-logout failure: refusals of what chsim sent are 403, naming the
/// failed check; a "Log out" without a session is 409; the party's own failures 500.
fn logout_error_page(party: &str, e: &SloError) -> Response {
    let (status, title, advice) = match e {
        SloError::Refused { .. }
        | SloError::NotChsim { .. }
        | SloError::UnknownInResponseTo { .. }
        | SloError::Replay { .. } => (
            StatusCode::FORBIDDEN,
            format!("{party} refused a logout message"),
            "A logout message must be signed by chsim with a certificate from chsim's metadata, addressed (Destination) to this party's SingleLogoutService, issued within the allowed clock skew and not seen before; a LogoutResponse must answer a LogoutRequest this party sent.",
        ),
        SloError::NoMessage => (
            StatusCode::BAD_REQUEST,
            format!("{party} received no logout message"),
            "chsim sends its LogoutRequest or LogoutResponse here in the query string (HTTP-Redirect).",
        ),
        SloError::NotLoggedIn => (
            StatusCode::CONFLICT,
            format!("{party} has no session to log out of"),
            "Log in first; a session that single logout ended is already gone.",
        ),
        SloError::NoChsimEndpoint | SloError::Build(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("{party} could not send a logout message"),
            "Check chsim's metadata: it must publish an HTTP-Redirect SingleLogoutService.",
        ),
    };
    error_page(status, &title, &e.to_string(), advice, "")
}

/// The demo OIDC user system's failure page: chsim's error answer as it came (`error`,
/// `error_description`, `state`), or the check that failed.
fn demo_oidc_error_page(e: &DemoOidcError) -> Response {
    let status = match e {
        DemoOidcError::Authorization { .. } => StatusCode::OK,
        DemoOidcError::Registration(_) => StatusCode::INTERNAL_SERVER_ERROR,
        DemoOidcError::Discovery { .. }
        | DemoOidcError::Token(_)
        | DemoOidcError::NoIdToken
        | DemoOidcError::NoEndSession => StatusCode::BAD_GATEWAY,
        DemoOidcError::NotLoggedIn | DemoOidcError::NoRefreshToken => StatusCode::CONFLICT,
        DemoOidcError::NoCode
        | DemoOidcError::FrontChannelIssuer { .. }
        | DemoOidcError::FrontChannelSid => StatusCode::BAD_REQUEST,
        DemoOidcError::UnknownState(_)
        | DemoOidcError::WrongIssuer { .. }
        | DemoOidcError::IdToken(_)
        | DemoOidcError::AtHash(_)
        | DemoOidcError::RefreshMismatch { .. } => StatusCode::FORBIDDEN,
    };
    let extra = match e {
        DemoOidcError::Authorization {
            error,
            description,
            state,
        } => pages::table(
            ("Parameter", "Value"),
            &[
                ("error".into(), error.clone()),
                (
                    "error_description".into(),
                    description.clone().unwrap_or_default(),
                ),
                ("state".into(), state.clone().unwrap_or_default()),
            ],
        ),
        _ => String::new(),
    } + r#"<p><a class="button" href="/demo-oidc/">Back to the demo OIDC user system</a></p>"#;
    error_page(
        status,
        "The demo OIDC user system did not log you in",
        &e.to_string(),
        "The demo OIDC user system shows what it received from chsim; chsim's own page and log say why.",
        &extra,
    )
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            AppError::Broker(failure) => {
                let status = broker_http_status(&failure.error);
                // IsPassive (saml-core §3.4.1), prompt=none (OIDC Core §3.1.2.1) and refused
                // authorization requests (RFC 6749 §4.1.2.1): the answer goes back to the user
                // system at once, without asking the person to press anything.
                if let Some(d) = &failure.to_user_system {
                    let saml = failure.error.saml_status();
                    if d.passive || saml.sub_code.as_deref() == Some(crate::saml::status::NO_PASSIVE)
                    {
                        return match &d.saml {
                            Some(post) => {
                                let page = pages::auto_post(
                                    &d.url,
                                    "SAMLResponse",
                                    &post.saml_response,
                                    post.relay_state.as_deref(),
                                    &failure.error.to_string(),
                                );
                                (status, Html(page)).into_response()
                            }
                            None => Redirect::to(&d.url).into_response(),
                        };
                    }
                }
                let extra = match &failure.to_user_system {
                    Some(d) => match &d.saml {
                        Some(post) => {
                            let saml = failure.error.saml_status();
                            format!(
                                r#"<p>chsim tells {name} that the login failed with SAML status <code>{code}</code>{sub}.</p>
<form method="post" action="{action}"><input type="hidden" name="SAMLResponse" value="{value}">{relay}
<button type="submit">Return to {name}</button></form>"#,
                                name = pages::esc(&d.user_system_name),
                                code = pages::esc(&saml.code),
                                sub = saml
                                    .sub_code
                                    .map(|s| format!(" / <code>{}</code>", pages::esc(&s)))
                                    .unwrap_or_default(),
                                action = pages::esc_attr(&d.url),
                                value = pages::esc_attr(&post.saml_response),
                                relay = pages::relay_state_input(post.relay_state.as_deref()),
                            )
                        }
                        None => format!(
                            r#"<p>chsim tells {name} that the login failed with the OAuth error <code>{code}</code>.</p>
<p><a class="button" href="{url}">Return to {name}</a></p>"#,
                            name = pages::esc(&d.user_system_name),
                            code = failure.error.oauth_error(false).code,
                            url = pages::esc_attr(&d.url),
                        ),
                    },
                    None => String::new(),
                };
                let title = match failure.error {
                    BrokerError::Logout(_) => "The logout failed",
                    _ => "The login failed",
                };
                error_page(
                    status,
                    title,
                    &failure.error.to_string(),
                    failure.error.advice(),
                    &extra,
                )
            }
            AppError::TestIdp(TestIdpError::Logout(e)) => logout_error_page("The test IdP", &e),
            AppError::DemoSp(DemoSpError::Logout(e)) => {
                logout_error_page("The demo user system", &e)
            }
            AppError::TestIdp(e) => {
                let status = match e {
                    TestIdpError::Build(_) => StatusCode::INTERNAL_SERVER_ERROR,
                    TestIdpError::UnknownRequest => StatusCode::GONE,
                    _ => StatusCode::BAD_REQUEST,
                };
                error_page(
                    status,
                    "The test IdP refused",
                    &e.to_string(),
                    "Start the login again from a user system.",
                    "",
                )
            }
            AppError::DemoSp(e) => {
                let status = match e {
                    DemoSpError::Request(_) => StatusCode::INTERNAL_SERVER_ERROR,
                    DemoSpError::Status(_) => StatusCode::OK,
                    _ => StatusCode::FORBIDDEN,
                };
                error_page(status, "The demo user system did not log you in", &e.to_string(), "The demo user system shows what it received from chsim; see chsim's page for the cause.", "")
            }
            AppError::DemoOidc(e) => demo_oidc_error_page(&e),
            AppError::NotFound(what) => error_page(
                StatusCode::NOT_FOUND,
                "Not found",
                &what,
                "See the start page for what chsim serves.",
                "",
            ),
            AppError::BadRequest(what) => error_page(
                StatusCode::BAD_REQUEST,
                "Bad request",
                &what,
                "Check the request parameters.",
                "",
            ),
            AppError::Forbidden(message) => error_page(
                StatusCode::FORBIDDEN,
                "Refused",
                &message,
                "Open chsim's start page or /runtime/session and use the button there.",
                "",
            ),
            AppError::Request { status, message } => error_page(
                status,
                "Request refused",
                &message,
                "Send the SAML message as the HTTP-POST binding does: an auto-submitted form with a SAMLRequest or SAMLResponse field.",
                "",
            ),
        }
    }
}
