//! Rendering an [`Identity`] as the JWTs of Context Handler 2's OpenID Provider (reference §5,
//! §7): the ID token (OIDC Core §2), the access token (RFC 9068), the back-channel logout token
//! (OIDC Back-Channel Logout §2.4), signed PS256/PS384/PS512 with chsim's key, and chsim's JWK Set.
//!
//! The person's claims are the OIOSAML3 attributes of [`profile_attributes`] under their
//! attribute URIs (reference §5 **[INF]**), so a SAML and an OIDC user system can never be told
//! different things. All JWT work goes through `jsonwebtoken`; nothing here reads the clock.

use super::{profile_attributes, Identity, TokenError};
use crate::oidc::registration::SigningAlg;
use crate::saml::Credential;
use crate::trust::Profile;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, RSAKeyParameters, RSAKeyType, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{json, Map, Value};
use std::fmt;

#[cfg(test)]
pub(super) mod tests;

pub use crate::oidc::claims::CLAIM_TABLE;

/// The back-channel logout event (OIDC Back-Channel Logout §2.4).
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// `typ` of an access token (RFC 9068 §2.1).
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";
/// `typ` of a logout token (OIDC Back-Channel Logout §2.4).
pub const LOGOUT_TOKEN_TYP: &str = "logout+jwt";
/// `typ` of an ID token.
pub const ID_TOKEN_TYP: &str = "JWT";

fn algorithm(alg: SigningAlg) -> Algorithm {
    match alg {
        SigningAlg::PS256 => Algorithm::PS256,
        SigningAlg::PS384 => Algorithm::PS384,
        SigningAlg::PS512 => Algorithm::PS512,
    }
}

/// The RFC 7638 SHA-256 thumbprint of the RSA public key (`n`, `e` base64url).
pub fn rsa_thumbprint(n: &str, e: &str) -> Result<String, TokenError> {
    let jwk = Jwk {
        common: Default::default(),
        algorithm: AlgorithmParameters::RSA(RSAKeyParameters {
            key_type: RSAKeyType::RSA,
            n: n.to_string(),
            e: e.to_string(),
        }),
    };
    jwk.thumbprint(ThumbprintHash::SHA256)
        .map_err(|e| TokenError::Jwt(format!("cannot compute the key's thumbprint: {e}")))
}

/// chsim's JWT signer: its RSA key decoded once, its public key as published in the JWK Set.
#[derive(Clone)]
pub struct JwtSigner {
    issuer: String,
    key: EncodingKey,
    public: DecodingKey,
    thumbprint: String,
    jwks: Value,
}

impl fmt::Debug for JwtSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtSigner")
            .field("issuer", &self.issuer)
            .field("key", &"[redacted]")
            .field("thumbprint", &self.thumbprint)
            .finish()
    }
}

impl JwtSigner {
    /// A signer for `issuer` (the exact `iss`) with chsim's signing credential, which must hold
    /// an RSA key.
    pub fn new(issuer: String, credential: &Credential) -> Result<Self, TokenError> {
        let rsa = credential
            .key()
            .rsa()
            .map_err(|e| TokenError::Jwt(format!("the signing key is not an RSA key: {e}")))?;
        let der = rsa
            .private_key_to_der()
            .map_err(|e| TokenError::Jwt(format!("cannot encode the signing key: {e}")))?;
        let n = URL_SAFE_NO_PAD.encode(rsa.n().to_vec());
        let e = URL_SAFE_NO_PAD.encode(rsa.e().to_vec());
        let public = DecodingKey::from_rsa_components(&n, &e)
            .map_err(|err| TokenError::Jwt(format!("cannot use the public key: {err}")))?;
        let thumbprint = rsa_thumbprint(&n, &e)?;
        let keys: Vec<Value> = SigningAlg::ALL
            .into_iter()
            .map(|alg| {
                json!({
                    "kty": "RSA",
                    "use": "sig",
                    "alg": alg.as_str(),
                    "kid": kid(&thumbprint, alg),
                    "n": n,
                    "e": e,
                })
            })
            .collect();
        Ok(Self {
            issuer,
            key: EncodingKey::from_rsa_der(&der),
            public,
            thumbprint,
            jwks: json!({ "keys": keys }),
        })
    }

    /// The issuer (`iss`).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// chsim's JWK Set (`jwks_uri`): its RSA public key once per algorithm, `kid` =
    /// `<RFC 7638 thumbprint>-<alg>`.
    pub fn jwks(&self) -> &Value {
        &self.jwks
    }

    /// The `kid` of the key for `alg`.
    pub fn kid(&self, alg: SigningAlg) -> String {
        kid(&self.thumbprint, alg)
    }

    /// Signs `claims` with `alg`; header `typ` is `typ`, or `JWT` when None; `kid` names the key.
    pub fn sign(
        &self,
        alg: SigningAlg,
        typ: Option<&str>,
        claims: &Value,
    ) -> Result<String, TokenError> {
        let mut header = Header::new(algorithm(alg));
        header.typ = Some(typ.unwrap_or(ID_TOKEN_TYP).to_string());
        header.kid = Some(self.kid(alg));
        jsonwebtoken::encode(&header, claims, &self.key)
            .map_err(|e| TokenError::Jwt(format!("signing the {} JWT failed: {e}", alg.as_str())))
    }

    /// Verifies a JWT chsim itself issued and returns its claims:
    /// 1. the header's `typ` is `expected_typ` and its `kid` one of chsim's;
    /// 2. the signature is valid under chsim's key with PS256, PS384 or PS512;
    /// 3. `iss` is chsim's issuer;
    /// 4. `exp` is present and after `now` (the injected clock; no leeway, chsim's own clock).
    ///
    /// The audience is the caller's to check.
    pub fn verify(
        &self,
        token: &str,
        expected_typ: &str,
        now: DateTime<Utc>,
    ) -> Result<Map<String, Value>, TokenError> {
        let invalid = |why: String| TokenError::JwtInvalid(why);
        // 1.
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| invalid(format!("not a JWT: {e}")))?;
        if !header
            .typ
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case(expected_typ))
        {
            return Err(invalid(format!(
                "typ is {:?}, expected {expected_typ}",
                header.typ
            )));
        }
        let ours = SigningAlg::ALL.into_iter().any(|alg| {
            header.kid.as_deref() == Some(self.kid(alg).as_str()) && header.alg == algorithm(alg)
        });
        if !ours {
            return Err(invalid(format!(
                "kid {:?} with alg {:?} is not one of chsim's keys",
                header.kid, header.alg
            )));
        }
        // 2., 3. (jsonwebtoken's own clock stays out: exp is checked below against `now`).
        let mut validation = Validation::new(header.alg);
        validation.algorithms = SigningAlg::ALL.into_iter().map(algorithm).collect();
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp", "iss"]);
        validation.set_issuer(&[&self.issuer]);
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &self.public, &validation)
            .map_err(|e| invalid(format!("{e}")))?;
        // 4.
        let exp = data
            .claims
            .get("exp")
            .and_then(Value::as_i64)
            .ok_or_else(|| invalid("exp is not a number".into()))?;
        if exp <= now.timestamp() {
            return Err(TokenError::JwtExpired {
                exp,
                now: now.timestamp(),
            });
        }
        Ok(data.claims)
    }
}

fn kid(thumbprint: &str, alg: SigningAlg) -> String {
    format!("{thumbprint}-{}", alg.as_str())
}

/// The person's claims: each OIOSAML3 attribute of [`profile_attributes`] under its attribute
/// URI, a single value as a string (several as an array of strings).
pub fn person_claims(identity: &Identity) -> Map<String, Value> {
    let (attributes, _) = profile_attributes(Profile::Oiosaml3, identity);
    attributes
        .into_iter()
        .map(|a| {
            let value = match <[String; 1]>::try_from(a.values) {
                Ok([one]) => Value::String(one),
                Err(many) => Value::Array(many.into_iter().map(Value::String).collect()),
            };
            (a.name, value)
        })
        .collect()
}

/// `acr`: the AuthnContextClassRef an OIOSAML3 assertion would carry — the NSIS loa URI when the
/// login has an NSIS level, else the NIST class ref `urn:dk:gov:saml:attribute:AssuranceLevel:N`
/// (SAML's `unspecified` class when it has neither).
pub fn acr(identity: &Identity) -> String {
    profile_attributes(Profile::Oiosaml3, identity).1
}

/// `at_hash` (OIDC Core §3.1.3.6): the left half of the hash of the access token with the hash
/// of `alg`, base64url.
pub fn at_hash(alg: SigningAlg, access_token: &str) -> String {
    let bytes = access_token.as_bytes();
    let digest: Vec<u8> = match alg {
        SigningAlg::PS256 => openssl::sha::sha256(bytes).to_vec(),
        SigningAlg::PS384 => openssl::sha::sha384(bytes).to_vec(),
        SigningAlg::PS512 => openssl::sha::sha512(bytes).to_vec(),
    };
    URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
}

/// Who a token is about and how they logged in, shared by the ID and access token.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// `sub`.
    pub sub: &'a str,
    /// `sid`: the SSO session at chsim.
    pub sid: &'a str,
    /// `acr` (see [`acr`]).
    pub acr: &'a str,
    /// `auth_time`: when the IdP authenticated the person.
    pub auth_time: DateTime<Utc>,
    /// The person's claims (see [`person_claims`]).
    pub person: &'a Map<String, Value>,
}

/// The standard claims laid over the person's, so a person claim can never replace one.
fn with_person(person: &Map<String, Value>, standard: Value) -> Value {
    let mut claims = person.clone();
    if let Value::Object(standard) = standard {
        claims.extend(standard);
    }
    Value::Object(claims)
}

/// The ID token's claims (OIDC Core §2): `aud` is the client, `nonce` the authorization
/// request's, `at_hash` when issued beside an access token.
pub fn id_token_claims(
    iss: &str,
    client_id: &str,
    who: &Subject<'_>,
    nonce: &str,
    iat: DateTime<Utc>,
    exp: DateTime<Utc>,
    at_hash: Option<&str>,
) -> Value {
    let mut standard = json!({
        "iss": iss,
        "aud": client_id,
        "sub": who.sub,
        "iat": iat.timestamp(),
        "exp": exp.timestamp(),
        "auth_time": who.auth_time.timestamp(),
        "nonce": nonce,
        "sid": who.sid,
        "acr": who.acr,
    });
    if let (Some(h), Value::Object(m)) = (at_hash, &mut standard) {
        m.insert("at_hash".into(), Value::String(h.into()));
    }
    with_person(who.person, standard)
}

/// The access token's claims (RFC 9068 §2.2; sign with `typ` [`ACCESS_TOKEN_TYP`]). The resource
/// it is for is chsim's userinfo endpoint on the client's behalf, so `aud` is the `client_id`
/// (as Identify does); `scope` is space-separated.
pub fn access_token_claims(
    iss: &str,
    client_id: &str,
    who: &Subject<'_>,
    scope: &str,
    jti: &str,
    iat: DateTime<Utc>,
    exp: DateTime<Utc>,
) -> Value {
    with_person(
        who.person,
        json!({
            "iss": iss,
            "aud": client_id,
            "sub": who.sub,
            "client_id": client_id,
            "iat": iat.timestamp(),
            "exp": exp.timestamp(),
            "jti": jti,
            "sid": who.sid,
            "acr": who.acr,
            "auth_time": who.auth_time.timestamp(),
            "scope": scope,
        }),
    )
}

/// A back-channel logout token's claims (OIDC Back-Channel Logout §2.4; sign with `typ`
/// [`LOGOUT_TOKEN_TYP`]): `events` with the logout event, `sid`, `sub` when known, never a
/// `nonce`.
pub fn logout_token_claims(
    iss: &str,
    client_id: &str,
    sub: Option<&str>,
    sid: &str,
    jti: &str,
    iat: DateTime<Utc>,
    exp: DateTime<Utc>,
) -> Value {
    let mut claims = json!({
        "iss": iss,
        "aud": client_id,
        "iat": iat.timestamp(),
        "exp": exp.timestamp(),
        "jti": jti,
        "sid": sid,
        "events": { BACKCHANNEL_LOGOUT_EVENT: {} },
    });
    if let (Some(sub), Value::Object(m)) = (sub, &mut claims) {
        m.insert("sub".into(), Value::String(sub.into()));
    }
    claims
}
