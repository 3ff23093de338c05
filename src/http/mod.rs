//! The HTTP face of chsim — the only module that imports axum (STYLE.md). Paths follow the real
//! Context Handler so user systems and IdPs can swap metadata URLs (reference §1.2).

mod builtin;
mod demo_oidc;
mod demo_oidc_page;
mod error;
mod form;
mod home;
mod logout;
mod oidc;
mod pages;
mod parties;
mod party_logout;
mod runtime;
mod session;

pub use crate::app::AppState;
pub use error::AppError;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderName, HeaderValue};
use axum::routing::{any, get, post};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

/// The whole router; tests call `app(state).oneshot(request)` or serve it on a loopback port.
pub fn app(state: AppState) -> Router {
    let limit = state.max_body_bytes;
    let router = Router::new()
        .route("/", get(home::start_page))
        .route("/runtime/saml2/metadata.idp", get(runtime::idp_metadata))
        .route("/runtime/saml2auth/metadata.idp", get(runtime::sp_metadata))
        .route(
            "/runtime/saml2/issue.idp",
            get(runtime::issue_redirect).post(runtime::issue_post),
        )
        .route("/runtime/saml2/choose", get(runtime::choose))
        .route("/runtime/saml2auth/consume.idp", post(runtime::consume))
        .route(
            "/runtime/logins/{session_index}",
            get(runtime::login_report),
        )
        .route("/runtime/session", get(session::show))
        .route("/runtime/session/logout", post(logout::from_session_page))
        .route(
            "/runtime/saml2/signoff.idp",
            get(logout::user_system_response_redirect).post(logout::user_system_response_post),
        )
        .route(
            "/runtime/services/signoff/saml2/soap",
            post(logout::soap_request),
        )
        .route(
            "/runtime/saml2auth/signoffrequest.idp",
            get(logout::idp_request_redirect).post(logout::idp_request_post),
        )
        .route(
            "/runtime/saml2auth/signoffresponse.idp",
            get(logout::idp_response_redirect).post(logout::idp_response_post),
        )
        // Issue #11: the OpenID Provider.
        .route(
            crate::oidc::discovery::DISCOVERY_PATH,
            get(oidc::discovery_document),
        )
        .route(crate::oidc::discovery::CERTS_PATH, get(oidc::certs))
        .route(
            crate::oidc::discovery::AUTHORIZE_PATH,
            get(oidc::authorize_get).post(oidc::authorize_post),
        )
        .route(crate::oidc::discovery::TOKEN_PATH, post(oidc::token))
        .route(crate::oidc::discovery::REVOKE_PATH, post(oidc::revoke))
        .route(
            crate::oidc::discovery::USERINFO_PATH,
            get(oidc::userinfo).post(oidc::userinfo),
        )
        .route(
            crate::oidc::discovery::LOGOUT_PATH,
            get(oidc::logout_get).post(oidc::logout_post),
        );
    let router = if state.builtin_parties {
        builtin_routes(router)
    } else {
        switched_off_routes(router)
    };
    router
        .fallback(|| async { AppError::NotFound("there is no page at this address".into()) })
        .layer(DefaultBodyLimit::max(limit))
        // Issue #8 §6: no page of chsim may be framed (clickjacking the chooser or a test IdP's
        // login), no answer sniffed into another type, and no URL carrying a SAML message leaked
        // in a Referer.
        .layer(header_layer(header::X_FRAME_OPTIONS, "DENY"))
        .layer(header_layer(
            header::CONTENT_SECURITY_POLICY,
            "frame-ancestors 'none'",
        ))
        .layer(header_layer(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header_layer(header::REFERRER_POLICY, "no-referrer"))
        // One log line per request (RUST_LOG=tower_http=debug for details).
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// The built-in parties and scripted logins (`[demo] builtin_parties = true`).
fn builtin_routes(router: Router<AppState>) -> Router<AppState> {
    router
        .route("/runtime/scripted/login", get(runtime::scripted_login))
        .route("/test-idp/{id}/metadata", get(parties::test_idp_metadata))
        .route("/test-idp/{id}/sso", get(parties::test_idp_sso))
        .route("/test-idp/{id}/login", post(parties::test_idp_login))
        .route("/test-idp/{id}/", get(party_logout::test_idp_page))
        .route("/test-idp/{id}/logout", post(party_logout::test_idp_logout))
        .route("/test-idp/{id}/slo", get(party_logout::test_idp_slo))
        .route(
            "/test-attribute-service/{id}/metadata",
            get(parties::attribute_service_metadata),
        )
        .route(
            "/test-attribute-service/{id}/soap",
            post(parties::attribute_service_soap),
        )
        .route("/demo-sp/{id}/", get(parties::demo_sp_page))
        .route("/demo-sp/{id}/metadata", get(parties::demo_sp_metadata))
        .route("/demo-sp/{id}/login", get(parties::demo_sp_login))
        .route("/demo-sp/{id}/acs", post(parties::demo_sp_acs))
        .route("/demo-sp/{id}/logout", post(party_logout::demo_sp_logout))
        .route("/demo-sp/{id}/slo", get(party_logout::demo_sp_slo))
        .route("/demo-oidc/", get(demo_oidc::page))
        .route("/demo-oidc/login", get(demo_oidc::login))
        .route("/demo-oidc/callback", get(demo_oidc::callback))
        .route("/demo-oidc/refresh", post(demo_oidc::refresh))
        .route("/demo-oidc/userinfo", post(demo_oidc::userinfo))
        .route("/demo-oidc/logout", post(demo_oidc::logout))
        .route(
            "/demo-oidc/frontchannel-logout",
            get(demo_oidc::frontchannel_logout),
        )
}

/// With `[demo] builtin_parties = false`, every address of a built-in party answers 404 saying
/// why, for any method.
fn switched_off_routes(router: Router<AppState>) -> Router<AppState> {
    let off = || {
        any(|| async {
            AppError::NotFound(
                "the built-in test parties and scripted logins are switched off on this chsim (builtin_parties = false under [demo] in chsim.toml)".into(),
            )
        })
    };
    router
        .route("/runtime/scripted/{*rest}", off())
        .route("/test-idp/{*rest}", off())
        .route("/test-attribute-service/{*rest}", off())
        .route("/demo-sp/{*rest}", off())
        .route("/demo-oidc/", off())
        .route("/demo-oidc/{*rest}", off())
}

fn header_layer(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}
