//! `userinfo.idp` (OIDC Core §5.3) and `revoke.idp` (RFC 7009): an access token is good while
//! its signature, issuer, type and expiry hold, its grant is alive and its own `jti` was not
//! revoked.

use super::super::Broker;
use super::token::{field, TokenFailure, TokenRequest};
use super::{digest, ttl, Grant, RefreshRecord};
use crate::broker::store::Kind;
use crate::oidc::{ErrorCode, OAuthError};
use crate::token::jwt::ACCESS_TOKEN_TYP;
use serde_json::{Map, Value};

/// Why userinfo refused (RFC 6750 §3.1): the client learns the code and a description in
/// `WWW-Authenticate`; the log may say more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserinfoFailure {
    /// `invalid_token`, or empty when no token came (RFC 6750 §3.1).
    pub error: &'static str,
    /// `error_description`.
    pub description: String,
    /// The log line.
    pub log: String,
}

impl UserinfoFailure {
    fn invalid(description: &str, log: String) -> Self {
        Self {
            error: "invalid_token",
            description: description.to_string(),
            log,
        }
    }
}

impl Broker {
    /// The claims for the access token in `authorization` (`Bearer <token>`).
    pub async fn userinfo(&self, authorization: Option<&str>) -> Result<Value, UserinfoFailure> {
        // The scheme name is case-insensitive (RFC 9110 §11.1).
        let Some(token) = authorization.and_then(|h| {
            h.split_once(' ')
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, token)| token.trim())
        }) else {
            return Err(UserinfoFailure {
                error: "",
                description: "send the access token as Authorization: Bearer <token>".into(),
                log: "userinfo without a bearer token".into(),
            });
        };
        let claims = self.access_token_claims(token).await?;
        // The person's claims, `sub`, `acr`, `auth_time` and `sid`; not the token's own.
        let mut answer = Map::new();
        for (name, value) in claims {
            if !matches!(
                name.as_str(),
                "iss" | "aud" | "exp" | "iat" | "jti" | "client_id" | "scope" | "nbf"
            ) {
                answer.insert(name, value);
            }
        }
        Ok(Value::Object(answer))
    }

    /// An access token's verified claims, refused when revoked.
    async fn access_token_claims(
        &self,
        token: &str,
    ) -> Result<Map<String, Value>, UserinfoFailure> {
        let claims = self
            .settings
            .jwt
            .verify(token, ACCESS_TOKEN_TYP, self.clock.now())
            .map_err(|e| {
                UserinfoFailure::invalid("the access token is invalid or expired", e.to_string())
            })?;
        let jti = claims
            .get("jti")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let grant = jti.split_once('.').map(|(g, _)| g).unwrap_or_default();
        let store = |e: crate::broker::store::StoreError| UserinfoFailure {
            error: "invalid_token",
            description: "chsim could not check the token; try again".into(),
            log: e.to_string(),
        };
        let kept = self
            .store
            .get::<Grant>(Kind::OidcGrant, grant)
            .await
            .map_err(store)?;
        let alive = kept.is_some();
        let revoked = self
            .store
            .marked(Kind::OidcRevoked, jti)
            .await
            .map_err(store)?;
        let ended = match &kept {
            Some(g) => self
                .store
                .marked(Kind::OidcSessionEnded, &g.claimed.session)
                .await
                .map_err(store)?,
            None => false,
        };
        if !alive || revoked || ended {
            return Err(UserinfoFailure::invalid(
                "the access token was revoked",
                format!("access token {jti}: grant alive {alive}, token revoked {revoked}, session ended {ended}"),
            ));
        }
        Ok(claims)
    }

    /// Revocation (RFC 7009): a refresh token revokes its whole grant; an access token itself.
    /// Unknown, invalid or expired tokens are answered as revoked (§2.2).
    pub async fn revoke(&self, request: TokenRequest<'_>) -> Result<(), TokenFailure> {
        super::token::bounded(request.form)?;
        let client = self.authenticate_client(request).await?;
        let Some(token) = field(request.form, "token")? else {
            return Err(TokenFailure {
                error: OAuthError::invalid_request("the request has no `token`"),
                log: "revocation without a token".into(),
            });
        };
        let hint = field(request.form, "token_type_hint")?;
        if let Some(other) = hint.filter(|h| !matches!(*h, "refresh_token" | "access_token")) {
            return Err(TokenFailure {
                error: OAuthError::new(
                    ErrorCode::InvalidRequest,
                    format!("token_type_hint `{other}` is neither refresh_token nor access_token"),
                ),
                log: "revocation with an unknown hint".into(),
            });
        }
        let foreign = || TokenFailure {
            error: OAuthError::new(
                ErrorCode::InvalidRequest,
                "the token was issued to another client",
            ),
            log: format!(
                "`{}` tried to revoke another client's token",
                client.client_id
            ),
        };
        // Whatever the hint, both kinds are tried (RFC 7009 §2.1).
        let refresh_key = digest(token);
        if let Some(record) = self
            .store
            .get::<RefreshRecord>(Kind::OidcRefresh, &refresh_key)
            .await?
        {
            if record.client_id != client.client_id {
                return Err(foreign());
            }
            self.store.remove(Kind::OidcGrant, &record.grant).await?;
            self.store.remove(Kind::OidcRefresh, &refresh_key).await?;
            return Ok(());
        }
        let now = self.clock.now();
        if let Ok(claims) = self.settings.jwt.verify(token, ACCESS_TOKEN_TYP, now) {
            if claims.get("client_id").and_then(Value::as_str) != Some(client.client_id.as_str()) {
                return Err(foreign());
            }
            let jti = claims
                .get("jti")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let exp = claims
                .get("exp")
                .and_then(Value::as_i64)
                .unwrap_or_default();
            // A mark: when the in-memory budget is full the revocation fails loudly (503)
            // rather than being forgotten early.
            self.store
                .first_use(Kind::OidcRevoked, jti, ttl(exp - now.timestamp() + 1))
                .await?;
        }
        Ok(())
    }
}
