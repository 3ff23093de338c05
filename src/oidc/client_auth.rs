//! Client authentication at the token and revocation endpoints (RFC 6749 §2.3, OIDC Core §9,
//! RFC 7523 §3) by the one method the client registered (reference §4): `client_secret_basic`,
//! `client_secret_post`, `private_key_jwt` (RS256 only) or `none`.
//!
//! Every failure is told to the client as the same `invalid_client` ("client authentication
//! failed"), so it learns nothing about which check failed; the reason goes to the log.

use super::error::{ErrorCode, OAuthError};
use super::registration::{AuthMethod, OidcClient};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{DateTime, Duration, TimeZone, Utc};
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use openssl::sha::sha256;
use serde_json::{Map, Value};
use std::sync::Arc;

#[cfg(test)]
mod tests;

/// `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A client assertion whose `exp` lies further ahead than this (plus skew) is refused: the
/// Context Handler's clients send `exp` = `iat` + 5 minutes, and chsim must remember each `jti`
/// until `exp`, so a far `exp` would make replay protection costly.
pub fn max_assertion_lifetime() -> Duration {
    Duration::minutes(10)
}

/// The public description of every authentication failure.
const FAILED: &str = "client authentication failed";

/// An authenticated client.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// The client, as registered.
    pub client: Arc<OidcClient>,
    /// For `private_key_jwt`: the assertion's `jti` and `exp`. The caller must refuse a `jti`
    /// it has seen before (its replay store) and may forget it after `exp`.
    pub assertion: Option<(String, DateTime<Utc>)>,
}

/// A failed client authentication: what the client is told, and what the log says.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{public} ({log})")]
pub struct ClientAuthFailure {
    /// Sent to the client: `invalid_client` with one uniform description, or `invalid_request`
    /// for a malformed request.
    pub public: OAuthError,
    /// The detailed reason, for the log only.
    pub log: String,
}

impl ClientAuthFailure {
    fn invalid_client(log: impl Into<String>) -> Self {
        Self {
            public: OAuthError::new(ErrorCode::InvalidClient, FAILED),
            log: log.into(),
        }
    }

    fn invalid_request(description: impl Into<String>) -> Self {
        let description = description.into();
        Self {
            public: OAuthError::invalid_request(description.clone()),
            log: description,
        }
    }
}

/// The credentials of one request, as presented.
enum Presented<'a> {
    Basic {
        id: String,
        secret: String,
    },
    Post {
        secret: &'a str,
    },
    Jwt {
        assertion_type: Option<&'a str>,
        assertion: Option<&'a str>,
    },
    None,
}

impl Presented<'_> {
    fn method(&self) -> AuthMethod {
        match self {
            Self::Basic { .. } => AuthMethod::ClientSecretBasic,
            Self::Post { .. } => AuthMethod::ClientSecretPost,
            Self::Jwt { .. } => AuthMethod::PrivateKeyJwt,
            Self::None => AuthMethod::None,
        }
    }
}

/// The one value of `name` in the form; refused when repeated.
fn one<'a>(form: &'a [(String, String)], name: &str) -> Result<Option<&'a str>, ClientAuthFailure> {
    let mut values = form
        .iter()
        .filter(|(n, v)| n == name && !v.is_empty())
        .map(|(_, v)| v.as_str());
    match (values.next(), values.next()) {
        (v, None) => Ok(v),
        _ => Err(ClientAuthFailure::invalid_request(format!(
            "`{name}` was sent more than once"
        ))),
    }
}

/// One form-urlencoded part of Basic credentials (RFC 6749 §2.3.1).
fn form_decode(part: &str) -> Result<String, ClientAuthFailure> {
    if part.contains(['&', '=']) {
        return Err(ClientAuthFailure::invalid_client(
            "Basic credentials hold an unencoded `&` or `=` (RFC 6749 §2.3.1 form-urlencodes id and secret)",
        ));
    }
    Ok(url::form_urlencoded::parse(part.as_bytes())
        .next()
        .map(|(k, _)| k.into_owned())
        .unwrap_or_default())
}

/// `Authorization: Basic b64(urlenc(id):urlenc(secret))`.
fn basic(header: &str) -> Result<(String, String), ClientAuthFailure> {
    let (scheme, rest) = header.trim().split_once(' ').unwrap_or((header, ""));
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(ClientAuthFailure::invalid_client(format!(
            "Authorization scheme `{scheme}` is not Basic"
        )));
    }
    let decoded = STANDARD
        .decode(rest.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            ClientAuthFailure::invalid_client("Basic credentials are not base64 UTF-8")
        })?;
    let (id, secret) = decoded
        .split_once(':')
        .ok_or_else(|| ClientAuthFailure::invalid_client("Basic credentials have no `:`"))?;
    Ok((form_decode(id)?, form_decode(secret)?))
}

/// Authenticates the client of a token or revocation request: `authorization` is the
/// `Authorization` header, `form` the body, `token_url` the endpoint's URL (an assertion's `aud`),
/// `now` the injected clock, `skew` the allowed clock difference, `lookup` the registrations.
///
/// 1. Exactly one method is presented (else `invalid_request`), and its parameters once.
/// 2. The client is registered, and registered for that method.
/// 3. The method's proof holds: the secret (constant time), the assertion (see
///    [`verify_assertion`]), or nothing for `none`.
pub fn authenticate(
    authorization: Option<&str>,
    form: &[(String, String)],
    token_url: &str,
    now: DateTime<Utc>,
    skew: Duration,
    lookup: impl Fn(&str) -> Option<Arc<OidcClient>>,
) -> Result<Authenticated, ClientAuthFailure> {
    // 1.
    let form_id = one(form, "client_id")?;
    let secret = one(form, "client_secret")?;
    let assertion_type = one(form, "client_assertion_type")?;
    let assertion = one(form, "client_assertion")?;
    let mut presented = Vec::new();
    if let Some(header) = authorization {
        let (id, secret) = basic(header)?;
        presented.push(Presented::Basic { id, secret });
    }
    if let Some(secret) = secret {
        presented.push(Presented::Post { secret });
    }
    if assertion_type.is_some() || assertion.is_some() {
        presented.push(Presented::Jwt {
            assertion_type,
            assertion,
        });
    }
    if presented.len() > 1 {
        return Err(ClientAuthFailure::invalid_request(
            "more than one client authentication method was used (RFC 6749 §2.3)",
        ));
    }
    let presented = presented.pop().unwrap_or(Presented::None);
    // 2.
    let claimed_id: String = match &presented {
        Presented::Basic { id, .. } => {
            if form_id.is_some_and(|f| f != id) {
                return Err(ClientAuthFailure::invalid_client(
                    "client_id in the body differs from the Basic credentials",
                ));
            }
            id.clone()
        }
        Presented::Jwt {
            assertion: Some(a), ..
        } if form_id.is_none() => {
            let claims: Map<String, Value> = jsonwebtoken::dangerous::insecure_decode_claims(a)
                .map_err(|e| {
                    ClientAuthFailure::invalid_client(format!("client_assertion is not a JWT: {e}"))
                })?;
            claims
                .get("iss")
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| ClientAuthFailure::invalid_client("client_assertion has no iss"))?
        }
        _ => form_id
            .map(str::to_string)
            .ok_or_else(|| ClientAuthFailure::invalid_client("no client_id"))?,
    };
    let client = lookup(&claimed_id).ok_or_else(|| {
        ClientAuthFailure::invalid_client(format!("client_id `{claimed_id}` is not registered"))
    })?;
    if client.auth_method != presented.method() {
        return Err(ClientAuthFailure::invalid_client(format!(
            "client `{claimed_id}` is registered for {} but used {}",
            client.auth_method,
            presented.method()
        )));
    }
    // 3.
    let assertion = match presented {
        Presented::Basic { secret, .. } => {
            check_secret(&client, &secret)?;
            None
        }
        Presented::Post { secret, .. } => {
            check_secret(&client, secret)?;
            None
        }
        Presented::Jwt {
            assertion_type,
            assertion,
        } => {
            if assertion_type != Some(JWT_BEARER) {
                return Err(ClientAuthFailure::invalid_client(format!(
                    "client_assertion_type is {assertion_type:?}, not {JWT_BEARER}"
                )));
            }
            let assertion = assertion
                .ok_or_else(|| ClientAuthFailure::invalid_client("client_assertion is missing"))?;
            Some(verify_assertion(&client, assertion, token_url, now, skew)?)
        }
        Presented::None => None,
    };
    Ok(Authenticated { client, assertion })
}

/// The presented secret against the registered one, in constant time (SHA-256 of both compared
/// with `openssl::memcmp::eq`, so neither content nor length leaks through timing).
fn check_secret(client: &OidcClient, presented: &str) -> Result<(), ClientAuthFailure> {
    let registered = client
        .client_secret
        .as_deref()
        .ok_or_else(|| ClientAuthFailure::invalid_client("the client has no registered secret"))?;
    if openssl::memcmp::eq(
        &sha256(presented.as_bytes()),
        &sha256(registered.as_bytes()),
    ) {
        Ok(())
    } else {
        Err(ClientAuthFailure::invalid_client(format!(
            "wrong client_secret for `{}`",
            client.client_id
        )))
    }
}

/// The keys an assertion may be signed with: the `kid`'s key, else every RSA signature key.
fn candidate_keys<'a>(client: &'a OidcClient, kid: Option<&str>) -> Vec<&'a Jwk> {
    let Some(set) = &client.jwks else {
        return Vec::new();
    };
    set.keys
        .iter()
        .filter(|k| matches!(k.algorithm, AlgorithmParameters::RSA(_)))
        .filter(|k| {
            matches!(
                k.common.public_key_use,
                None | Some(PublicKeyUse::Signature)
            )
        })
        .filter(|k| kid.is_none() || k.common.key_id.as_deref() == kid)
        .collect()
}

/// Verifies a `private_key_jwt` assertion (RFC 7523 §3, OIDC Core §9) and returns its `jti`
/// and `exp`:
/// 1. the header's `alg` is RS256 (the only one the Context Handler takes);
/// 2. the signature verifies with the `kid`'s key from the client's `jwks`, or (no `kid`) with
///    one of its RSA signature keys;
/// 3. `iss` = `sub` = `client_id`, `aud` is or contains `token_url`;
/// 4. `exp` is after `now - skew` and at most [`max_assertion_lifetime`] + `skew` ahead; `nbf`
///    and `iat`, when present, are not after `now + skew`;
/// 5. `jti` is present (its reuse is the caller's to refuse).
pub fn verify_assertion(
    client: &OidcClient,
    assertion: &str,
    token_url: &str,
    now: DateTime<Utc>,
    skew: Duration,
) -> Result<(String, DateTime<Utc>), ClientAuthFailure> {
    let fail = ClientAuthFailure::invalid_client;
    // 1.
    let header = jsonwebtoken::decode_header(assertion)
        .map_err(|e| fail(format!("client_assertion is not a JWT: {e}")))?;
    if header.alg != Algorithm::RS256 {
        return Err(fail(format!(
            "client_assertion is signed {:?}; only RS256 is accepted",
            header.alg
        )));
    }
    // 2., 3. (jsonwebtoken's own clock stays out: times are checked below against `now`).
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    validation.set_issuer(&[&client.client_id]);
    validation.sub = Some(client.client_id.clone());
    validation.set_audience(&[token_url]);
    let keys = candidate_keys(client, header.kid.as_deref());
    if keys.is_empty() {
        return Err(fail(format!(
            "client `{}` has no RSA signature key{}",
            client.client_id,
            header
                .kid
                .as_deref()
                .map(|k| format!(" with kid `{k}`"))
                .unwrap_or_default()
        )));
    }
    let mut last_error = String::new();
    let mut claims = None;
    for jwk in keys {
        let key = match DecodingKey::from_jwk(jwk) {
            Ok(key) => key,
            Err(e) => {
                last_error = format!("unusable JWK: {e}");
                continue;
            }
        };
        match jsonwebtoken::decode::<Map<String, Value>>(assertion, &key, &validation) {
            Ok(data) => {
                claims = Some(data.claims);
                break;
            }
            Err(e) => last_error = e.to_string(),
        }
    }
    let claims =
        claims.ok_or_else(|| fail(format!("client_assertion does not verify: {last_error}")))?;
    // 4.
    let time = |name: &str| -> Result<Option<DateTime<Utc>>, ClientAuthFailure> {
        match claims.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .and_then(|s| Utc.timestamp_opt(s, 0).single())
                .map(Some)
                .ok_or_else(|| fail(format!("client_assertion {name} is not a time"))),
        }
    };
    let exp = time("exp")?.ok_or_else(|| fail("client_assertion has no exp".into()))?;
    if exp <= now - skew {
        return Err(fail(format!(
            "client_assertion expired at {exp} (now {now})"
        )));
    }
    if exp > now + max_assertion_lifetime() + skew {
        return Err(fail(format!(
            "client_assertion exp {exp} is more than {} minutes ahead (now {now})",
            max_assertion_lifetime().num_minutes()
        )));
    }
    for name in ["nbf", "iat"] {
        if let Some(t) = time(name)? {
            if t > now + skew {
                return Err(fail(format!(
                    "client_assertion {name} {t} is in the future (now {now})"
                )));
            }
        }
    }
    // 5.
    let jti = claims
        .get("jti")
        .and_then(Value::as_str)
        .filter(|j| !j.is_empty())
        .ok_or_else(|| fail("client_assertion has no jti".into()))?;
    Ok((jti.to_string(), exp))
}
