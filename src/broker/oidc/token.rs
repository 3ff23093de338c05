//! `token.idp` (RFC 6749 §3.2, §4.1.3, §6; RFC 7636 §4.6): the client authenticates with its
//! registered method, then exchanges a code (single use, short-lived, bound to the client, the
//! redirect URI and the PKCE verifier) or a refresh token (rotated when the registration says
//! so) for an ID token and a JWT access token.

use super::super::{Broker, BrokerError};
use super::{digest, fresh_handle, ttl, CodeGrant, Grant, RefreshRecord};
use crate::broker::store::Kind;
use crate::oidc::client_auth::{self, Authenticated};
use crate::oidc::{pkce, ErrorCode, OAuthError, OidcClient};
use crate::token::jwt::{self, Subject, ACCESS_TOKEN_TYP};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

/// At most this many form fields, each at most this long (a client assertion is ~1 KB).
const MAX_FIELDS: usize = 30;
const MAX_FIELD_BYTES: usize = 8192;

/// What the token endpoint received: the `Authorization` header and the form fields.
#[derive(Debug, Clone, Copy)]
pub struct TokenRequest<'a> {
    /// `Authorization` (client_secret_basic).
    pub authorization: Option<&'a str>,
    /// The URL-decoded form, in order.
    pub form: &'a [(String, String)],
}

/// A refused token (or revocation) request: what the client is told, and what the log says
/// (which may name more, e.g. which check of a client assertion failed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenFailure {
    /// The JSON error body.
    pub error: OAuthError,
    /// The log line.
    pub log: String,
}

impl TokenFailure {
    fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        let error = OAuthError::new(code, description);
        Self {
            log: error.to_string(),
            error,
        }
    }

    fn grant(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidGrant, description)
    }
}

impl From<BrokerError> for TokenFailure {
    fn from(e: BrokerError) -> Self {
        let code = match e {
            BrokerError::Store(_) | BrokerError::Cpu(_) => ErrorCode::TemporarilyUnavailable,
            _ => ErrorCode::ServerError,
        };
        Self {
            error: OAuthError::new(code, "chsim could not answer; see its log"),
            log: e.to_string(),
        }
    }
}

impl From<super::super::store::StoreError> for TokenFailure {
    fn from(e: super::super::store::StoreError) -> Self {
        BrokerError::from(e).into()
    }
}

/// Refuses a form with more than [`MAX_FIELDS`] fields or a field longer than
/// [`MAX_FIELD_BYTES`], before anything in it is read (token and revocation endpoints).
pub(super) fn bounded(form: &[(String, String)]) -> Result<(), TokenFailure> {
    if form.len() > MAX_FIELDS
        || form
            .iter()
            .any(|(n, v)| n.len() > MAX_FIELD_BYTES || v.len() > MAX_FIELD_BYTES)
    {
        return Err(TokenFailure::new(
            ErrorCode::InvalidRequest,
            format!("the request has more than {MAX_FIELDS} fields or a field longer than {MAX_FIELD_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// The one value of a form field; a repeated field is refused (RFC 6749 §3.2).
pub(super) fn field<'a>(
    form: &'a [(String, String)],
    name: &str,
) -> Result<Option<&'a str>, TokenFailure> {
    let mut values = form
        .iter()
        .filter(|(n, v)| n == name && !v.is_empty())
        .map(|(_, v)| v.as_str());
    match (values.next(), values.next()) {
        (v, None) => Ok(v),
        _ => Err(TokenFailure::new(
            ErrorCode::InvalidRequest,
            format!("`{name}` was sent more than once"),
        )),
    }
}

fn required<'a>(form: &'a [(String, String)], name: &str) -> Result<&'a str, TokenFailure> {
    field(form, name)?.ok_or_else(|| {
        TokenFailure::new(
            ErrorCode::InvalidRequest,
            format!("the request has no `{name}`"),
        )
    })
}

impl Broker {
    /// The token endpoint: the JSON answer (RFC 6749 §5.1), or the refusal (§5.2).
    pub async fn token(&self, request: TokenRequest<'_>) -> Result<Value, TokenFailure> {
        let form = request.form;
        bounded(form)?;
        let client = self.authenticate_client(request).await?;
        let now = self.clock.now();
        match required(form, "grant_type")? {
            "authorization_code" => self.exchange_code(&client, form, now).await,
            "refresh_token" => self.refresh(&client, form, now).await,
            other => Err(TokenFailure::new(
                ErrorCode::UnsupportedGrantType,
                format!("grant_type `{other}` is not supported: use authorization_code or refresh_token"),
            )),
        }
    }

    /// Client authentication (reference §4) with the `jti` of a client assertion used once.
    pub(super) async fn authenticate_client(
        &self,
        request: TokenRequest<'_>,
    ) -> Result<std::sync::Arc<OidcClient>, TokenFailure> {
        let s = &self.settings;
        let lookup = |id: &str| self.trust.oidc_client(id).map(|(_, c)| c.clone());
        let Authenticated { client, assertion } = client_auth::authenticate(
            request.authorization,
            request.form,
            &s.oidc_endpoints.token,
            self.clock.now(),
            s.clock_skew,
            lookup,
        )
        .map_err(|f| TokenFailure {
            error: f.public,
            log: f.log,
        })?;
        if let Some((jti, exp)) = assertion {
            let keep = (exp - self.clock.now() + s.clock_skew).num_seconds().max(1);
            let first = self
                .store
                .first_use(
                    Kind::ClientAssertion,
                    &format!("{}\n{jti}", client.client_id),
                    ttl(keep),
                )
                .await?;
            if !first {
                let error =
                    OAuthError::new(ErrorCode::InvalidClient, "client authentication failed");
                return Err(TokenFailure {
                    error,
                    log: format!(
                        "the client assertion of `{}` with jti `{jti}` was used before (replay); every assertion needs a fresh jti",
                        client.client_id
                    ),
                });
            }
        }
        Ok(client)
    }

    async fn exchange_code(
        &self,
        client: &OidcClient,
        form: &[(String, String)],
        now: DateTime<Utc>,
    ) -> Result<Value, TokenFailure> {
        let code = required(form, "code")?;
        let redirect_uri = required(form, "redirect_uri")?;
        let verifier = required(form, "code_verifier")?;
        let key = digest(code);
        let Some(grant) = self.store.take::<CodeGrant>(Kind::OidcCode, &key).await? else {
            // A second use: revoke what the first issued (RFC 6749 §4.1.2).
            if let Some(issued) = self.store.get::<String>(Kind::OidcCodeUsed, &key).await? {
                self.store.remove(Kind::OidcGrant, &issued).await?;
                return Err(TokenFailure::grant(
                    "the code was already used; the tokens issued for it are revoked",
                ));
            }
            return Err(TokenFailure::grant("the code is unknown or expired"));
        };
        if grant.client_id != client.client_id {
            return Err(TokenFailure::grant("the code was issued to another client"));
        }
        if grant.expires_at <= now.timestamp() {
            return Err(TokenFailure::grant(format!(
                "the code expired {} s ago; codes are valid for {} s",
                now.timestamp() - grant.expires_at,
                super::CODE_LIFETIME_SECONDS
            )));
        }
        if grant.redirect_uri != redirect_uri {
            return Err(TokenFailure::grant(
                "redirect_uri differs from the one of the authorization request",
            ));
        }
        if !pkce::verify_s256(verifier, &grant.code_challenge) {
            return Err(TokenFailure::grant(
                "code_verifier does not match the code_challenge (PKCE S256)",
            ));
        }
        self.session_alive(&grant.claimed.session).await?;
        let grant_id = fresh_handle()?;
        let lifetime = self.grant_ttl(client);
        let kept = Grant {
            client_id: grant.client_id,
            expires_at: now.timestamp() + i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX / 2),
            nonce: grant.nonce,
            scope: grant.scope,
            claimed: grant.claimed,
        };
        // The grant first, then the mark a second use revokes it by: never the other way round,
        // or the revocation could come before the grant exists.
        self.store
            .put(Kind::OidcGrant, &grant_id, &kept, lifetime)
            .await?;
        self.store
            .put(Kind::OidcCodeUsed, &key, &grant_id, lifetime)
            .await?;
        crate::audit::oidc_tokens_issued(
            &client.client_id,
            &kept.claimed.sub,
            "authorization_code",
        );
        self.tokens_for(client, &grant_id, &kept, now, true).await
    }

    async fn refresh(
        &self,
        client: &OidcClient,
        form: &[(String, String)],
        now: DateTime<Utc>,
    ) -> Result<Value, TokenFailure> {
        let token = required(form, "refresh_token")?;
        let Some(policy) = client.refresh else {
            return Err(TokenFailure::new(
                ErrorCode::UnauthorizedClient,
                "this client is registered without refresh tokens (issue_refresh_token)",
            ));
        };
        let key = digest(token);
        // Taken, so that of two uses of one token only one rotates it.
        let Some(record) = self
            .store
            .take::<RefreshRecord>(Kind::OidcRefresh, &key)
            .await?
        else {
            return Err(TokenFailure::grant(
                "the refresh token is unknown, expired or revoked",
            ));
        };
        if record.client_id != client.client_id {
            self.put_refresh(&key, &record, now).await?;
            return Err(TokenFailure::grant(
                "the refresh token was issued to another client",
            ));
        }
        if record.rotated_out {
            // Reuse of a rotated-out token: someone else holds the family (OAuth 2.0 Security
            // BCP §4.14.2) — revoke it all.
            self.store.remove(Kind::OidcGrant, &record.grant).await?;
            return Err(TokenFailure::grant(
                "the refresh token was already used and replaced (rotation); every token of its family is revoked",
            ));
        }
        if record.expires_at <= now.timestamp() {
            return Err(TokenFailure::grant("the refresh token expired"));
        }
        let Some(grant) = self
            .store
            .get::<Grant>(Kind::OidcGrant, &record.grant)
            .await?
        else {
            return Err(TokenFailure::grant("the refresh token was revoked"));
        };
        self.session_alive(&grant.claimed.session).await?;
        if policy.rotation {
            let retired = RefreshRecord {
                rotated_out: true,
                ..record.clone()
            };
            self.put_refresh(&key, &retired, now).await?;
        } else {
            self.put_refresh(&key, &record, now).await?;
        }
        crate::audit::oidc_tokens_issued(&client.client_id, &grant.claimed.sub, "refresh_token");
        // Without rotation no new refresh token: the client keeps its own (reference §4).
        self.tokens_for(client, &record.grant, &grant, now, policy.rotation)
            .await
    }

    /// Refuses the codes and tokens of a chsim session that ended (single logout marks it; the
    /// mark fails closed when the in-memory budget is full).
    pub(super) async fn session_alive(&self, session: &str) -> Result<(), TokenFailure> {
        if self.store.marked(Kind::OidcSessionEnded, session).await? {
            return Err(TokenFailure::grant(
                "the chsim session this grant belongs to has ended (logout)",
            ));
        }
        Ok(())
    }

    async fn put_refresh(
        &self,
        key: &str,
        record: &RefreshRecord,
        now: DateTime<Utc>,
    ) -> Result<(), TokenFailure> {
        let left = (record.expires_at - now.timestamp()).max(1);
        Ok(self
            .store
            .put(Kind::OidcRefresh, key, record, ttl(left))
            .await?)
    }

    /// How long a grant is kept: as long as its longest-lived token.
    fn grant_ttl(&self, client: &OidcClient) -> std::time::Duration {
        let longest = client.refresh.map_or(client.token_lifetime, |r| {
            r.lifetime.max(client.token_lifetime)
        });
        ttl(longest.num_seconds())
    }

    /// The token response: a signed access token and ID token, and a refresh token (new, when
    /// `new_refresh` and the client takes them).
    async fn tokens_for(
        &self,
        client: &OidcClient,
        grant_id: &str,
        grant: &Grant,
        now: DateTime<Utc>,
        new_refresh: bool,
    ) -> Result<Value, TokenFailure> {
        let s = &self.settings;
        let signer = &s.jwt;
        let c = &grant.claimed;
        let auth_time = DateTime::from_timestamp(c.auth_time, 0).unwrap_or(now);
        let who = Subject {
            sub: &c.sub,
            sid: &c.sid,
            acr: &c.acr,
            auth_time,
            person: &c.person,
        };
        // No token outlives its family.
        let family_end = DateTime::from_timestamp(grant.expires_at, 0).unwrap_or(now);
        let exp = (now + client.token_lifetime).min(family_end);
        // The access token's jti names its grant, so that revoking the grant revokes it.
        let jti = format!("{grant_id}.{}", fresh_handle()?);
        let sign = |typ: Option<&str>, claims: &Value| {
            signer
                .sign(client.signed_response_alg, typ, claims)
                .map_err(|e| TokenFailure::from(BrokerError::Token(e.to_string())))
        };
        let access_token = sign(
            Some(ACCESS_TOKEN_TYP),
            &jwt::access_token_claims(
                signer.issuer(),
                &client.client_id,
                &who,
                &grant.scope,
                &jti,
                now,
                exp,
            ),
        )?;
        let at_hash = jwt::at_hash(client.signed_response_alg, &access_token);
        let signed_id_token = sign(
            None,
            &jwt::id_token_claims(
                signer.issuer(),
                &client.client_id,
                &who,
                &grant.nonce,
                now,
                exp,
                Some(&at_hash),
            ),
        )?;
        // Issue #11 §3: signed, then encrypted to the client when it registered encryption.
        let id_token = match crate::token::encrypt_id_token(&signed_id_token, client) {
            Ok(Some(jwe)) => jwe,
            Ok(None) => signed_id_token,
            Err(e) => return Err(BrokerError::Token(e.to_string()).into()),
        };
        let mut answer = json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": client.token_lifetime.num_seconds(),
            "id_token": id_token,
            "scope": grant.scope,
        });
        if let (Some(policy), true) = (client.refresh, new_refresh) {
            let refresh_token = fresh_handle()?;
            let record = RefreshRecord {
                grant: grant_id.to_string(),
                client_id: client.client_id.clone(),
                expires_at: (now + policy.lifetime).timestamp().min(grant.expires_at),
                rotated_out: false,
            };
            self.put_refresh(&digest(&refresh_token), &record, now)
                .await?;
            if let Value::Object(m) = &mut answer {
                m.insert("refresh_token".into(), Value::String(refresh_token));
            }
        }
        Ok(answer)
    }
}
