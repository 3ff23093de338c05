//! OIDC user systems in single logout (issue #11 §3, reference §7): when a session ends, each
//! OIDC participant is told — by a `logout_token` POSTed to its `backchannel_logout_uri`
//! (OpenID Connect Back-Channel Logout 1.0), or by its `frontchannel_logout_uri` loaded in an
//! iframe of chsim's logout page (Front-Channel Logout 1.0) — and an OIDC user system can end the
//! session itself at `logout.idp` (RP-Initiated Logout 1.0).

use super::{Initiator, LogoutFailure, LogoutStep, PartyResult};
use crate::broker::session::Participant;
use crate::broker::{Broker, BrokerError};
use crate::ids::{new_saml_id, SessionId};
use crate::oidc::logout::{frontchannel_url, Hint, RpLogout};
use crate::oidc::OidcClient;
use crate::token::jwt::{logout_token_claims, ID_TOKEN_TYP, LOGOUT_TOKEN_TYP};
use serde_json::Value;

/// How long a back-channel logout endpoint may take to answer.
const BACKCHANNEL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// How long a logout token is valid (Back-Channel Logout §2.4 suggests a short lifetime).
const LOGOUT_TOKEN_SECONDS: i64 = 120;

impl Broker {
    /// Tells an OIDC participant that the session ended: the back channel at once; the front
    /// channel by adding its URL to `frames` (unless the logout has no browser: `by_soap`).
    pub(super) async fn oidc_participant(
        &self,
        p: &Participant,
        client: &OidcClient,
        by_soap: bool,
        frames: &mut Vec<String>,
    ) -> PartyResult {
        let result = |ended: bool, detail: String| PartyResult {
            party: p.user_system.clone(),
            ended,
            detail,
        };
        let iss = &self.settings.oidc_endpoints.issuer;
        if let Some(uri) = &client.frontchannel_logout_uri {
            if by_soap {
                return result(false, "not reached: the logout came by SOAP, and the system has only front-channel logout (it needs the browser)".into());
            }
            frames.push(frontchannel_url(uri, iss, &p.session_index));
            // Front-channel logout has no answer: chsim can only load the page.
            return result(
                true,
                "front-channel: its logout page was loaded in the browser (OIDC front-channel logout has no answer)".into(),
            );
        }
        let Some(uri) = &client.backchannel_logout_uri else {
            return result(
                false,
                "not reached: no frontchannel_logout_uri or backchannel_logout_uri registered"
                    .into(),
            );
        };
        let now = self.clock.now();
        let claims = logout_token_claims(
            iss,
            &client.client_id,
            Some(&p.name_id),
            &p.session_index,
            &new_saml_id(),
            now,
            now + chrono::Duration::seconds(LOGOUT_TOKEN_SECONDS),
        );
        let token = match self.settings.jwt.sign(
            client.signed_response_alg,
            Some(LOGOUT_TOKEN_TYP),
            &claims,
        ) {
            Ok(token) => token,
            Err(e) => return result(false, format!("chsim could not sign the logout token: {e}")),
        };
        let sent = self
            .http
            .post(uri)
            .timeout(BACKCHANNEL_TIMEOUT)
            .form(&[("logout_token", token.as_str())])
            .send()
            .await;
        match sent {
            // Back-Channel Logout §2.8: 200 OK (204 also seen) when the session ended.
            Ok(r) if r.status().is_success() => result(
                true,
                format!("back-channel: answered {}", r.status().as_u16()),
            ),
            Ok(r) => result(
                false,
                format!(
                    "back-channel: answered {} (the RP could not log the session out)",
                    r.status().as_u16()
                ),
            ),
            Err(e) if e.is_timeout() => result(
                false,
                format!(
                    "back-channel: did not answer within {} s",
                    BACKCHANNEL_TIMEOUT.as_secs()
                ),
            ),
            // The registered address stays in the log, not on the person's page.
            Err(e) => {
                tracing::warn!(client = %client.client_id, error = %e, "back-channel logout could not reach the system");
                result(
                    false,
                    "back-channel: could not be reached (see chsim's log)".into(),
                )
            }
        }
    }

    /// Ends the OIDC codes, grants and tokens of the session `reference` (Back-Channel Logout
    /// §2.7: tokens without offline access end at logout): refused from now on at the token
    /// endpoint and userinfo, for as long as any of them could live.
    pub(super) async fn end_oidc_grants(&self, reference: &str) -> Result<(), BrokerError> {
        use crate::broker::store::Kind;
        let longest = self
            .trust
            .user_systems
            .values()
            .filter_map(|u| u.oidc.as_ref())
            .map(|c| {
                c.refresh
                    .map_or(c.token_lifetime, |r| r.lifetime.max(c.token_lifetime))
            })
            .max()
            .unwrap_or_default();
        let keep = (longest + chrono::Duration::minutes(15))
            .to_std()
            .unwrap_or(std::time::Duration::from_secs(3600));
        self.store
            .first_use(Kind::OidcSessionEnded, reference, keep)
            .await?;
        Ok(())
    }

    /// Verifies an `id_token_hint` as one of chsim's ID tokens; it may have expired (an RP
    /// logs out long after its login).
    pub fn verify_id_token_hint(&self, token: &str) -> Result<Hint, String> {
        let long_ago = chrono::DateTime::UNIX_EPOCH;
        let claims = self
            .settings
            .jwt
            .verify(token, ID_TOKEN_TYP, long_ago)
            .map_err(|e| e.to_string())?;
        let client_id = match claims.get("aud") {
            Some(Value::String(aud)) => aud.clone(),
            _ => return Err("its aud is not one client_id".into()),
        };
        Ok(Hint {
            client_id,
            sid: claims
                .get("sid")
                .and_then(Value::as_str)
                .map(str::to_string),
        })
    }

    /// RP-initiated logout of the browser's session (already read by
    /// [`crate::oidc::logout::parse`] and, without a hint, confirmed by the person): the session
    /// ends everywhere, then the browser goes to the client's `post_logout_redirect_uri`.
    ///
    /// A hint whose `sid` is not in the browser's session names a session that already ended:
    /// the browser's own session is left alone.
    pub async fn logout_from_oidc(
        &self,
        request: RpLogout,
        session: Option<&SessionId>,
    ) -> Result<LogoutStep, LogoutFailure> {
        let session = self.live_session(session).await?.filter(|s| {
            request
                .sid
                .as_ref()
                .is_none_or(|sid| s.participants.iter().any(|p| &p.session_index == sid))
        });
        let Some(session) = session else {
            // Nothing ends, so the browser keeps its cookie (a stranger's or an old hint must
            // not cut the browser off its own live session).
            return Ok(LogoutStep::NothingEnded(
                request.redirect.as_deref().map(parse_url).transpose()?,
            ));
        };
        // Only a client a verified hint names is the initiator, which is not told of its own
        // logout (its tokens end with the session all the same); a client_id alone is a claim.
        let initiator_client = request.client.as_ref().filter(|_| request.hinted);
        let initiator = Initiator::OidcClient {
            entity: initiator_client.map(|c| crate::ids::EntityId::new(c.client_id.clone())),
            redirect: request.redirect.clone(),
        };
        self.begin_logout(session, initiator).await
    }
}

/// A redirect chsim built from a registered URI.
pub(super) fn parse_url(url: &str) -> Result<url::Url, LogoutFailure> {
    url::Url::parse(url).map_err(|e| {
        LogoutFailure::Broker(BrokerError::Token(format!(
            "the registered post_logout_redirect_uri `{url}` is not a URL: {e}"
        )))
    })
}
