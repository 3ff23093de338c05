//! The demo OIDC user system's login (OIDC Core §3.1, the authorization code flow): the
//! authorization request with `state`, `nonce` and PKCE S256 (RFC 7636) kept on this side, bound
//! to the browser that started it; and the callback — `state` and `iss` (RFC 9207) checked, the
//! code exchanged with the verifier, the tokens verified ([`super::verify`]), userinfo called —
//! which opens its session.

use super::session::{OidcSession, Shown};
use super::{DemoOidc, DemoOidcError, Pending};
use openidconnect::core::{CoreAuthPrompt, CoreAuthenticationFlow};
use openidconnect::{
    AuthenticationContextClass, AuthorizationCode, CsrfToken, Nonce, OAuth2TokenResponse as _,
    PkceCodeChallenge, PkceCodeVerifier, TokenResponse as _,
};

/// What the person (or a script) asks this login for, beyond the registration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoginOptions {
    /// `idp=<entityID>`: chsim's extension that skips its IdP chooser.
    pub idp: Option<String>,
    /// `acr_values`: a level above the registered one (an NSIS loa URI or a NIST class ref).
    pub acr_values: Option<String>,
    /// `prompt=login` (a fresh authentication at the IdP).
    pub prompt_login: bool,
    /// `prompt=none` (answer from chsim's session, or `login_required`).
    pub prompt_none: bool,
}

/// The query chsim's redirect brings to the callback (RFC 6749 §4.1.2, §4.1.2.1; RFC 9207).
#[derive(Debug, Clone, Default)]
pub struct Callback {
    /// `code`.
    pub code: Option<String>,
    /// `state`.
    pub state: Option<String>,
    /// `iss`.
    pub iss: Option<String>,
    /// `error`.
    pub error: Option<String>,
    /// `error_description`.
    pub error_description: Option<String>,
}

impl DemoOidc {
    /// The authorization request for a browser whose handle (its cookie) is `browser`: a URL at
    /// chsim's authorization endpoint to redirect to.
    pub async fn start_login(
        &self,
        browser: &str,
        options: LoginOptions,
    ) -> Result<url::Url, DemoOidcError> {
        let (_, client) = self.discover().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        if let Some(acr) = &options.acr_values {
            request = request.add_auth_context_value(AuthenticationContextClass::new(acr.clone()));
        }
        if options.prompt_login {
            request = request.add_prompt(CoreAuthPrompt::Login);
        }
        if options.prompt_none {
            request = request.add_prompt(CoreAuthPrompt::None);
        }
        if let Some(idp) = &options.idp {
            request = request.add_extra_param("idp", idp.clone());
        }
        let (url, state, nonce) = request.url();
        self.pending.insert(
            state.secret().clone(),
            Pending {
                browser: browser.to_string(),
                nonce,
                verifier: verifier.secret().clone(),
                requested: options,
            },
        );
        Ok(url)
    }

    /// The callback: chsim's answer for the browser `browser`. Returns the new session (its
    /// handle is chosen by the caller, never the handle that started the login).
    pub async fn callback(
        &self,
        browser: Option<&str>,
        answer: Callback,
    ) -> Result<OidcSession, DemoOidcError> {
        // 1. The state names a login this browser started here, taken once (RFC 6749 §10.12):
        //    a callback with a stranger's state, or one replayed, is refused before anything else.
        let state = answer.state.clone().unwrap_or_default();
        let pending = self
            .pending
            .remove(&state)
            .filter(|p| Some(p.browser.as_str()) == browser)
            .ok_or_else(|| DemoOidcError::UnknownState(state.clone()))?;
        // 2. The answer, success or error, is from chsim's issuer (RFC 9207 §2.4: chsim sends
        //    `iss` in both).
        let (metadata, client) = self.discover().await?;
        let issuer = metadata.issuer().to_string();
        if answer.iss.as_deref() != Some(issuer.as_str()) {
            return Err(DemoOidcError::WrongIssuer {
                expected: issuer,
                found: answer.iss.unwrap_or_else(|| "(none)".into()),
            });
        }
        // 3. An error answer is shown as it came (RFC 6749 §4.1.2.1).
        if let Some(error) = answer.error {
            return Err(DemoOidcError::Authorization {
                error,
                description: answer.error_description,
                state: answer.state,
            });
        }
        // 4. The code, exchanged with the PKCE verifier and this client's authentication.
        let code = answer.code.ok_or(DemoOidcError::NoCode)?;
        let tokens = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| DemoOidcError::Token(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier))
            .request_async(&self.http)
            .await
            .map_err(|e| DemoOidcError::Token(token_error(&e)))?;
        // 5. The tokens, verified (OIDC Core §3.1.3.7, §3.1.3.8; RFC 9068).
        let id_token = tokens.id_token().ok_or(DemoOidcError::NoIdToken)?;
        let verified =
            self.verify_id_token(&client, id_token, &pending.nonce, tokens.access_token())?;
        let access = self.verify_access_token(&client, tokens.access_token());
        // 6. Userinfo with the access token, for the same `sub` (OIDC Core §5.3.4).
        let userinfo = self
            .userinfo_for(&client, tokens.access_token(), &verified.sub)
            .await;
        let shown = Shown {
            id_token: verified.shown,
            access_token: access,
            userinfo: Some(userinfo),
            refreshed: None,
        };
        Ok(OidcSession::new(
            &verified.claims,
            id_token.to_string(),
            tokens.access_token().secret().clone(),
            tokens.refresh_token().map(|r| r.secret().clone()),
            pending.nonce,
            pending.requested,
            shown,
            self.clock.now(),
        ))
    }
}

/// A token endpoint failure with the OAuth error chsim gave, when it gave one.
pub(super) fn token_error<RE: std::error::Error + 'static>(
    e: &openidconnect::RequestTokenError<
        RE,
        openidconnect::StandardErrorResponse<openidconnect::core::CoreErrorResponseType>,
    >,
) -> String {
    match e {
        openidconnect::RequestTokenError::ServerResponse(r) => format!(
            "{}{}",
            r.error(),
            r.error_description()
                .map(|d| format!(": {d}"))
                .unwrap_or_default()
        ),
        other => super::error_chain(other),
    }
}
