//! The end of an OIDC login: instead of an assertion, a single-use authorization code bound to
//! the client, its redirect URI and its PKCE challenge, sent in a redirect (RFC 6749 §4.1.2,
//! RFC 9207 `iss`) — or, when the login failed, the error in the same redirect.

use super::super::{Broker, BrokerError, Delivery, PendingLogin};
use super::{digest, fresh_handle, ttl, Claimed, CodeGrant, OidcLogin, CODE_LIFETIME_SECONDS};
use crate::broker::store::Kind;
use crate::oidc::authorize;
use crate::token::jwt;
use crate::token::Identity;
use chrono::{DateTime, Utc};

impl Broker {
    /// Stores a code for `identity` (roles already mapped for the client) and returns the
    /// redirect that carries it. `sid` is the client's place in the session, `session` the
    /// session's public reference.
    pub(in crate::broker) async fn issue_code(
        &self,
        login: &PendingLogin,
        oidc: &OidcLogin,
        identity: &Identity,
        sid: &str,
        session: &str,
        now: DateTime<Utc>,
    ) -> Result<String, BrokerError> {
        // max_age (OIDC Core §3.1.2.1): even the IdP's fresh answer must be recent enough.
        let allowing_skew = now - self.settings.clock_skew;
        if !login.authenticated_within_max_age(identity.authn_instant, allowing_skew) {
            return Err(BrokerError::OidcRequest(crate::oidc::OAuthError::new(
                crate::oidc::ErrorCode::LoginRequired,
                "the identity provider answered with an authentication older than max_age",
            )));
        }
        let code = fresh_handle()?;
        let grant = CodeGrant {
            client_id: login.user_system.to_string(),
            redirect_uri: login.acs_url.clone(),
            code_challenge: oidc.code_challenge.clone(),
            nonce: oidc.nonce.clone(),
            scope: oidc.scope.clone(),
            expires_at: now.timestamp() + CODE_LIFETIME_SECONDS,
            claimed: Claimed {
                sub: identity.name_id.clone(),
                sid: sid.to_string(),
                session: session.to_string(),
                acr: jwt::acr(identity),
                auth_time: identity.authn_instant.timestamp(),
                person: jwt::person_claims(identity),
            },
        };
        // Kept past its expiry, so that a late exchange is told "expired", not "unknown".
        self.store
            .put(
                Kind::OidcCode,
                &digest(&code),
                &grant,
                ttl(CODE_LIFETIME_SECONDS * 10),
            )
            .await?;
        Ok(authorize::code_redirect(
            &login.acs_url,
            &code,
            &oidc.state,
            &self.settings.oidc_endpoints.issuer,
        ))
    }

    /// The redirect that tells an OIDC client its login failed (RFC 6749 §4.1.2.1).
    pub(in crate::broker) fn oidc_failure(
        &self,
        login: &PendingLogin,
        oidc: &OidcLogin,
        user_system_name: &str,
        error: &BrokerError,
    ) -> Delivery {
        let oauth = error.oauth_error(login.session.is_some());
        Delivery {
            url: authorize::error_redirect(
                &login.acs_url,
                Some(&oidc.state),
                &oauth,
                &self.settings.oidc_endpoints.issuer,
            ),
            saml: None,
            user_system_name: user_system_name.to_string(),
            passive: login.is_passive,
            session: None,
        }
    }
}
