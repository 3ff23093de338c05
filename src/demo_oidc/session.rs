//! The demo OIDC user system's own sessions (in memory, bounded: [`crate::party_logout::Sessions`])
//! and what a person does with one: Refresh (the refresh grant, RFC 6749 §6, with the ID token
//! checks of OIDC Core §12.2), Userinfo again, and both logouts — RP-initiated (OIDC RP-Initiated
//! Logout 1.0 §2: to chsim's `end_session_endpoint` with `id_token_hint`,
//! `post_logout_redirect_uri` and `state`) and front-channel (OIDC Front-Channel Logout 1.0 §2:
//! chsim loads `frontchannel-logout?iss=…&sid=…` in an iframe, which ends the sessions with that
//! `sid`).

use super::flow::{token_error, LoginOptions};
use super::verify::TokenView;
use super::{DemoOidc, DemoOidcError, IdToken, IdTokenClaims};
use crate::party_logout::{Ending, SessionView};
use crate::saml::oiosaml::{oiosaml2, oiosaml3};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use openidconnect::{
    CsrfToken, LogoutRequest, Nonce, OAuth2TokenResponse as _, PostLogoutRedirectUrl, RefreshToken,
    TokenResponse as _,
};
use serde_json::{json, Value};
use std::str::FromStr as _;

/// The cookie that carries the browser's handle at the demo OIDC user system (path `/demo-oidc/`).
pub const COOKIE: &str = "chsim_demo_oidc_session";

/// What the pages show of a session's tokens.
#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    /// The (latest) ID token, verified.
    pub id_token: TokenView,
    /// The (latest) access token, verified, or why not.
    pub access_token: Result<TokenView, String>,
    /// The last userinfo answer, or why there is none.
    pub userinfo: Option<Result<Value, String>>,
    /// The last refresh, if any.
    pub refreshed: Option<Refreshed>,
}

/// What the last refresh gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refreshed {
    /// When.
    pub at: DateTime<Utc>,
    /// Whether chsim sent a new refresh token (rotation).
    pub rotated: bool,
    /// Whether chsim sent a new ID token.
    pub new_id_token: bool,
}

/// One person's session at the demo OIDC user system.
#[derive(Clone)]
pub struct OidcSession {
    /// Who: the `sub`'s CN, else the `sub`.
    pub who: String,
    /// `sub`.
    pub sub: String,
    /// `sid`: this system's place in chsim's session (what front-channel logout names).
    pub sid: Option<String>,
    /// `acr`.
    pub acr: Option<String>,
    /// The level chsim asserted, as text (`NSIS Substantial`, `NIST 3`).
    pub level: String,
    /// When the login arrived.
    pub since: DateTime<Utc>,
    /// The (latest) ID token, compact: the `id_token_hint` of logout.
    pub id_token: String,
    access_token: String,
    refresh_token: Option<String>,
    nonce: Nonce,
    /// What the login asked for.
    pub requested: LoginOptions,
    /// The verified tokens and answers, for the pages.
    pub shown: Shown,
    /// The outcome of the last button pressed (Refresh, Userinfo again): Ok(what) or Err(why).
    pub notice: Option<Result<String, String>>,
}

impl std::fmt::Debug for OidcSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Tokens are bearer secrets.
        f.debug_struct("OidcSession")
            .field("sub", &self.sub)
            .field("sid", &self.sid)
            .field("level", &self.level)
            .field("tokens", &"[redacted]")
            .finish()
    }
}

impl OidcSession {
    /// A session for a verified login.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        claims: &IdTokenClaims,
        id_token: String,
        access_token: String,
        refresh_token: Option<String>,
        nonce: Nonce,
        requested: LoginOptions,
        shown: Shown,
        now: DateTime<Utc>,
    ) -> Self {
        let extra = &claims.additional_claims().claims;
        let text = |name: &str| extra.get(name).and_then(Value::as_str).map(str::to_string);
        let level = match (text(oiosaml3::LOA), text(oiosaml2::ASSURANCE_LEVEL)) {
            (Some(loa), _) => format!("NSIS {loa}"),
            (None, Some(nist)) => format!("NIST {nist}"),
            (None, None) => "not stated".to_string(),
        };
        let sub = claims.subject().to_string();
        Self {
            who: crate::saml::SubjectName::parse(&sub)
                .ok()
                .and_then(|s| s.cn)
                .unwrap_or_else(|| sub.clone()),
            sid: text("sid"),
            acr: claims.auth_context_ref().map(|a| a.to_string()),
            sub,
            level,
            since: now,
            id_token,
            access_token,
            refresh_token,
            nonce,
            requested,
            shown,
            notice: None,
        }
    }

    /// Whether chsim issued a refresh token.
    pub fn has_refresh_token(&self) -> bool {
        self.refresh_token.is_some()
    }

    /// The privilege list claim (`privilegesIntermediate`), decoded from base64 to its XML text
    /// and read as OIOBPP; None when the claim is absent (no privileges for this system).
    pub fn privileges(
        &self,
    ) -> Option<(
        String,
        Result<crate::privileges::PrivilegeList, crate::privileges::PrivilegeError>,
    )> {
        let b64 = self.shown.id_token.claims[oiosaml3::PRIVILEGES].as_str()?;
        let xml = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .unwrap_or_else(|| format!("(not base64 UTF-8: {b64})"));
        Some((xml, crate::privileges::parse(b64)))
    }

    /// What the login gave, as JSON: the callback answers this to `Accept: application/json`,
    /// which scripted logins use. The shape follows the SAML demo user systems' (`level`,
    /// `privileges`), with the OIDC names (`sub`, `acr`, `sid`) and the verified tokens.
    pub fn to_json(&self, user_system: &str) -> Value {
        let claims = &self.shown.id_token.claims;
        let (privileges, privileges_error) = match self.privileges() {
            None => (Value::Null, Value::Null),
            Some((_, Err(e))) => (Value::Null, json!(e.to_string())),
            Some((_, Ok(list))) => (list.to_json(), Value::Null),
        };
        json!({
            "admitted": true,
            "user_system": user_system,
            "issuer": claims["iss"],
            "sub": self.sub,
            "acr": self.acr,
            "sid": self.sid,
            "auth_time": claims["auth_time"],
            "level": {
                "nsis": claims[oiosaml3::LOA],
                "nist": claims[oiosaml2::ASSURANCE_LEVEL],
            },
            "privileges": privileges,
            "privileges_error": privileges_error,
            "id_token": {
                "header": self.shown.id_token.header,
                "claims": claims,
                "verified_with_kid": self.shown.id_token.kid,
            },
            "access_token": match &self.shown.access_token {
                Ok(view) => json!({ "claims": view.claims, "verified_with_kid": view.kid }),
                Err(e) => json!({ "error": e }),
            },
            "userinfo": match &self.shown.userinfo {
                Some(Ok(answer)) => answer.clone(),
                Some(Err(e)) => json!({ "error": e }),
                None => Value::Null,
            },
            "refresh_token_issued": self.refresh_token.is_some(),
        })
    }
}

impl DemoOidc {
    /// Opens a session under a fresh handle (never the one that started the login: no session
    /// fixation) and returns the handle.
    pub fn open_session(&self, session: OidcSession) -> Result<String, DemoOidcError> {
        let handle = crate::ids::random_handle()
            .map_err(|e| DemoOidcError::Registration(format!("no random handle: {e}")))?;
        self.sessions.open(&handle, session);
        Ok(handle)
    }

    /// A fresh handle for a browser that has none yet.
    pub fn new_browser_handle(&self) -> Result<String, DemoOidcError> {
        crate::ids::random_handle()
            .map_err(|e| DemoOidcError::Registration(format!("no random handle: {e}")))
    }

    /// What the browser's handle names.
    pub fn session_view(&self, handle: Option<&str>) -> SessionView<OidcSession> {
        self.sessions.view(handle)
    }

    fn live(&self, handle: Option<&str>) -> Result<(String, OidcSession), DemoOidcError> {
        handle
            .and_then(|h| self.sessions.live(h).map(|s| (h.to_string(), s)))
            .ok_or(DemoOidcError::NotLoggedIn)
    }

    /// "Refresh": the refresh grant; the new tokens replace the old ones, each verified again.
    /// A refusal by chsim (a revoked or expired token) is kept as the session's notice.
    pub async fn refresh(&self, handle: Option<&str>) -> Result<(), DemoOidcError> {
        let (handle, mut session) = self.live(handle)?;
        let old = session
            .refresh_token
            .clone()
            .ok_or(DemoOidcError::NoRefreshToken)?;
        let outcome = self.refreshed(&mut session, old).await;
        session.notice = Some(outcome.map_err(|e| e.to_string()));
        self.sessions.open(&handle, session);
        Ok(())
    }

    async fn refreshed(
        &self,
        session: &mut OidcSession,
        old: String,
    ) -> Result<String, DemoOidcError> {
        let (_, client) = self.discover().await?;
        let old_token = RefreshToken::new(old.clone());
        let tokens = client
            .exchange_refresh_token(&old_token)
            .map_err(|e| DemoOidcError::Token(e.to_string()))?
            .request_async(&self.http)
            .await
            .map_err(|e| DemoOidcError::Token(token_error(&e)))?;
        // OIDC Core §12.2: a new ID token is verified as the first was (chsim repeats the
        // nonce), and names the same person and the same login.
        let new_id_token = match tokens.id_token() {
            Some(id_token) => {
                let verified =
                    self.verify_id_token(&client, id_token, &session.nonce, tokens.access_token())?;
                for (claim, first, now) in [
                    ("sub", json!(session.sub), json!(verified.sub)),
                    (
                        "auth_time",
                        session.shown.id_token.claims["auth_time"].clone(),
                        verified.shown.claims["auth_time"].clone(),
                    ),
                ] {
                    if first != now {
                        return Err(DemoOidcError::RefreshMismatch {
                            claim,
                            expected: first.to_string(),
                            found: now.to_string(),
                        });
                    }
                }
                session.id_token = id_token.to_string();
                session.shown.id_token = verified.shown;
                true
            }
            None => false,
        };
        session.shown.access_token = self.verify_access_token(&client, tokens.access_token());
        session.access_token = tokens.access_token().secret().clone();
        // Without rotation the client keeps its token (RFC 6749 §6).
        let rotated = tokens
            .refresh_token()
            .is_some_and(|new| new.secret() != &old);
        if let Some(new) = tokens.refresh_token() {
            session.refresh_token = Some(new.secret().clone());
        }
        session.shown.refreshed = Some(Refreshed {
            at: self.clock.now(),
            rotated,
            new_id_token,
        });
        Ok(format!(
            "Refreshed: a new access token{}{}.",
            if new_id_token { ", a new ID token" } else { "" },
            if rotated {
                " and a new refresh token (the old one is retired)"
            } else {
                "; the refresh token stays"
            }
        ))
    }

    /// "Userinfo again" with the session's current access token; the answer (or chsim's
    /// refusal) replaces the last one.
    pub async fn userinfo_again(&self, handle: Option<&str>) -> Result<(), DemoOidcError> {
        let (handle, mut session) = self.live(handle)?;
        let answer = match self.discover().await {
            Ok((_, client)) => {
                self.userinfo_for(
                    &client,
                    &openidconnect::AccessToken::new(session.access_token.clone()),
                    &session.sub,
                )
                .await
            }
            Err(e) => Err(e.to_string()),
        };
        session.notice = Some(match &answer {
            Ok(_) => Ok("chsim's userinfo endpoint answered again.".to_string()),
            Err(e) => Err(format!("userinfo: {e}")),
        });
        session.shown.userinfo = Some(answer);
        self.sessions.open(&handle, session);
        Ok(())
    }

    /// "Log out": ends the session here and returns chsim's end-session URL with
    /// `id_token_hint`, `post_logout_redirect_uri` and a fresh `state`, remembered for the
    /// return.
    pub async fn start_logout(&self, handle: Option<&str>) -> Result<url::Url, DemoOidcError> {
        let (handle, session) = self.live(handle)?;
        let (metadata, _) = self.discover().await?;
        let endpoint = metadata
            .additional_metadata()
            .end_session_endpoint
            .clone()
            .ok_or(DemoOidcError::NoEndSession)?;
        let hint = IdToken::from_str(&session.id_token)
            .map_err(|e| DemoOidcError::IdToken(e.to_string()))?;
        let back = PostLogoutRedirectUrl::new(self.post_logout_redirect_uri())
            .map_err(|e| DemoOidcError::Registration(e.to_string()))?;
        let state = CsrfToken::new_random();
        let url = LogoutRequest::from(endpoint)
            .set_id_token_hint(&hint)
            .set_post_logout_redirect_uri(back)
            .set_state(state.clone())
            .http_get_url();
        self.logouts.insert(state.secret().clone(), handle.clone());
        self.sessions
            .end(&handle, self.clock.now(), Ending::LoggedOutHere);
        Ok(url)
    }

    /// chsim sent the browser back after logout with `state`: whether it is the state this
    /// browser's logout sent (taken once).
    pub fn logout_returned(&self, handle: Option<&str>, state: &str) -> bool {
        self.logouts
            .remove(state)
            .is_some_and(|h| Some(h.as_str()) == handle)
    }

    /// Front-channel logout: ends every session whose `sid` chsim names, when `iss` is chsim's;
    /// returns how many ended.
    pub fn frontchannel_logout(
        &self,
        iss: Option<&str>,
        sid: Option<&str>,
    ) -> Result<usize, DemoOidcError> {
        let expected = self.issuer();
        if iss != Some(expected.as_str()) {
            return Err(DemoOidcError::FrontChannelIssuer {
                expected,
                found: iss.unwrap_or("(none)").to_string(),
            });
        }
        let sid = sid
            .filter(|s| !s.is_empty())
            .ok_or(DemoOidcError::FrontChannelSid)?;
        Ok(self.sessions.end_where(
            |s| s.sid.as_deref() == Some(sid),
            self.clock.now(),
            &Ending::FrontChannel { issuer: expected },
        ))
    }
}
