//! The OAuth 2.0 / OIDC error vocabulary chsim answers with (RFC 6749 §4.1.2.1 and §5.2, OIDC
//! Core §3.1.2.6, RFC 9101 §6.3): the `error` codes, and the error as it is sent — a JSON body
//! `{"error", "error_description"}` at the token endpoint, query parameters on a redirect.

use serde::Serialize;
use std::fmt;

/// An `error` code chsim sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request is malformed: a parameter missing, repeated, refused or unreadable.
    InvalidRequest,
    /// The client may not use this grant or response type.
    UnauthorizedClient,
    /// The person or chsim refused the request.
    AccessDenied,
    /// `response_type` is not `code`.
    UnsupportedResponseType,
    /// `scope` lacks `openid`.
    InvalidScope,
    /// chsim failed on its side.
    ServerError,
    /// chsim cannot answer now.
    TemporarilyUnavailable,
    /// `prompt=none` and no session.
    LoginRequired,
    /// `prompt=none` and the login needs the person.
    InteractionRequired,
    /// Client authentication at the token endpoint failed.
    InvalidClient,
    /// The code or refresh token is invalid, expired, used or issued to another client.
    InvalidGrant,
    /// `grant_type` is neither `authorization_code` nor `refresh_token`.
    UnsupportedGrantType,
    /// A `request` object was sent (chsim, like the Context Handler, takes none).
    RequestNotSupported,
    /// A `request_uri` was sent (chsim takes none).
    RequestUriNotSupported,
}

impl ErrorCode {
    /// The code as sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::AccessDenied => "access_denied",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope => "invalid_scope",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::LoginRequired => "login_required",
            Self::InteractionRequired => "interaction_required",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::RequestNotSupported => "request_not_supported",
            Self::RequestUriNotSupported => "request_uri_not_supported",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An OAuth error as the client receives it. Serialises to the token endpoint's JSON body
/// `{"error": "...", "error_description": "..."}` (RFC 6749 §5.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{code}: {description}")]
pub struct OAuthError {
    /// `error`.
    #[serde(rename = "error")]
    pub code: ErrorCode,
    /// `error_description`: what was wrong, in words a developer can act on (ASCII, no secrets).
    #[serde(rename = "error_description")]
    pub description: String,
}

impl OAuthError {
    /// An error with `code` and `description`, the description cut to what RFC 6749 §5.2
    /// allows (printable ASCII without `"` and `\`): Danish letters are spelled out, dashes and
    /// quotes replaced, anything else becomes `?`.
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        Self {
            code,
            description: to_nqschar(&description.into()),
        }
    }

    /// `invalid_request` with `description`.
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }
}

/// `text` in RFC 6749's NQSCHAR set (%x20-21 / %x23-5B / %x5D-7E), at most 1,000 characters.
fn to_nqschar(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' | '“' | '”' | '‘' | '’' => out.push('\''),
            '\\' => out.push('/'),
            '—' | '–' => out.push('-'),
            '…' => out.push_str("..."),
            '→' => out.push_str("->"),
            'æ' => out.push_str("ae"),
            'ø' => out.push_str("oe"),
            'å' => out.push_str("aa"),
            'Æ' => out.push_str("Ae"),
            'Ø' => out.push_str("Oe"),
            'Å' => out.push_str("Aa"),
            '\n' | '\t' | '\r' => out.push(' '),
            ' '..='~' => out.push(c),
            _ => out.push('?'),
        }
        if out.len() >= 1000 {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_keep_to_the_characters_rfc_6749_allows() {
        let e = OAuthError::new(
            ErrorCode::AccessDenied,
            "Korsbæk's IdP — \"Søby\" \\ `x`\n€",
        );
        assert_eq!(e.description, "Korsbaek's IdP - 'Soeby' / `x` ?");
        assert!(e
            .description
            .bytes()
            .all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\'));
        let long = OAuthError::new(ErrorCode::InvalidRequest, "x".repeat(5000));
        assert_eq!(long.description.len(), 1000);
    }

    #[test]
    fn serialises_as_the_token_endpoints_json_body() {
        let e = OAuthError::new(ErrorCode::InvalidGrant, "the code was already used");
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"error": "invalid_grant", "error_description": "the code was already used"})
        );
        assert_eq!(e.to_string(), "invalid_grant: the code was already used");
    }

    #[test]
    fn every_code_serialises_as_its_wire_name() {
        use ErrorCode::*;
        for code in [
            InvalidRequest,
            UnauthorizedClient,
            AccessDenied,
            UnsupportedResponseType,
            InvalidScope,
            ServerError,
            TemporarilyUnavailable,
            LoginRequired,
            InteractionRequired,
            InvalidClient,
            InvalidGrant,
            UnsupportedGrantType,
            RequestNotSupported,
            RequestUriNotSupported,
        ] {
            assert_eq!(
                serde_json::to_value(code).unwrap(),
                serde_json::Value::String(code.as_str().into())
            );
        }
    }
}
