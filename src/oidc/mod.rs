//! chsim as Context Handler 2's OpenID Provider for OIDC user systems (issue #11): the
//! registration rules, the authorization request, client authentication at the token endpoint,
//! PKCE, discovery and chsim's JWKS — pure, no axum. The login behind `authorize.idp` is the
//! broker's; the JWTs are rendered by `token::jwt`.

pub mod authorize;
pub mod claims;
pub mod client_auth;
pub mod discovery;
pub mod error;
pub mod logout;
pub mod pkce;
pub mod registration;

pub use error::{ErrorCode, OAuthError};
pub use registration::OidcClient;
