//! The form extractor of the HTTP-POST endpoints: like axum's `Form`, but a refused body (too
//! large, wrong content type, not url-encoded) becomes chsim's error page naming what failed and
//! what to do, instead of axum's one-line plain-text rejection.

use super::AppError;
use axum::extract::rejection::FormRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use std::collections::HashMap;

/// The url-encoded fields of a POSTed form.
#[derive(Debug)]
pub struct PostedForm(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequest<S> for PostedForm {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Form::<HashMap<String, String>>::from_request(req, state).await {
            Ok(axum::Form(fields)) => Ok(PostedForm(fields)),
            Err(rejection) => Err(refused(rejection)),
        }
    }
}

fn refused(rejection: FormRejection) -> AppError {
    let status = rejection.status();
    let message = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "the request body is larger than chsim accepts (twice broker.max_message_bytes in chsim.toml); a SAML message that large is refused".to_string(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "the request is not a form: the SAML HTTP-POST binding sends Content-Type application/x-www-form-urlencoded".to_string(),
        _ => format!("the form could not be read: {}", rejection.body_text()),
    };
    AppError::Request { status, message }
}
