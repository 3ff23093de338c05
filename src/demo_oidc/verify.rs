//! How the demo OIDC user system checks what chsim issued, with `openidconnect`'s verifier and
//! chsim's published keys: the ID token (OIDC Core §3.1.3.7) and its `at_hash` (§3.1.3.8), the
//! access token (RFC 9068 §4, as far as a client can: signature, issuer, audience, expiry), and
//! userinfo (§5.3.2, the same `sub`). Each check is one of the library's; this file only chooses
//! the settings and shows the results.

use super::{DemoOidc, DemoOidcError, IdToken, IdTokenClaims, OidcClient, ALGORITHMS};
use base64::Engine as _;
use openidconnect::core::CoreJsonWebKey;
use openidconnect::{
    AccessToken, AccessTokenHash, IdTokenVerifier, JsonWebKey as _, JsonWebTokenType, Nonce,
    SubjectIdentifier,
};
use serde_json::Value;
use std::str::FromStr as _;

/// A verified token as the pages show it.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenView {
    /// The JOSE header, decoded.
    pub header: Value,
    /// The claims, as chsim sent them (verified).
    pub claims: Value,
    /// The `kid` of the key in chsim's JWK Set that verified the signature.
    pub kid: String,
    /// The JWS algorithm.
    pub alg: String,
}

/// A verified ID token.
pub(super) struct VerifiedIdToken {
    /// Its claims, typed.
    pub claims: IdTokenClaims,
    /// `sub`.
    pub sub: String,
    /// As the pages show it.
    pub shown: TokenView,
}

/// Part `n` of a compact JWS (0 the JOSE header, 1 the payload) as chsim sent it, decoded for
/// display — only of a token the verifier has accepted.
pub fn part_of(jwt: &str, n: usize) -> Value {
    jwt.split('.')
        .nth(n)
        .and_then(|h| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(h)
                .ok()
        })
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or(Value::Null)
}

impl DemoOidc {
    /// The verifier for chsim's tokens: chsim's issuer and keys from discovery, this client as
    /// audience, only PS256/PS384/PS512, chsim's clock for `exp` and `iat`.
    fn verifier<'a>(&'a self, client: &'a OidcClient) -> IdTokenVerifier<'a, CoreJsonWebKey> {
        let clock = self.clock.clone();
        client
            .id_token_verifier()
            .set_allowed_algs(ALGORITHMS)
            .set_time_fn(move || clock.now())
    }

    /// OIDC Core §3.1.3.7 (and §3.1.3.8 for `at_hash`), for the ID token of a code exchange or a
    /// refresh.
    pub(super) fn verify_id_token(
        &self,
        client: &OidcClient,
        id_token: &IdToken,
        nonce: &Nonce,
        access_token: &AccessToken,
    ) -> Result<VerifiedIdToken, DemoOidcError> {
        let verifier = self.verifier(client);
        // Steps 1–3 (no encryption here), 6–10 (`iss`, `aud`, `azp`, signature with the key
        // `kid` names in chsim's JWK Set, an allowed `alg`, `exp`) and 11 (`nonce`) are the
        // library's.
        let claims = id_token
            .claims(&verifier, nonce)
            .map_err(|e| DemoOidcError::IdToken(super::error_chain(&e)))?
            .clone();
        let alg = id_token
            .signing_alg()
            .map_err(|e| DemoOidcError::IdToken(e.to_string()))?;
        let key = id_token
            .signing_key(&verifier)
            .map_err(|e| DemoOidcError::IdToken(e.to_string()))?;
        // §3.1.3.8 step 3: `at_hash` is the left half of the access token's hash.
        if let Some(expected) = claims.access_token_hash() {
            let actual = AccessTokenHash::from_token(access_token, alg, key)
                .map_err(|e| DemoOidcError::AtHash(e.to_string()))?;
            if &actual != expected {
                return Err(DemoOidcError::AtHash(format!(
                    "{} instead of {}",
                    actual.as_str(),
                    expected.as_str()
                )));
            }
        }
        let raw = id_token.to_string();
        Ok(VerifiedIdToken {
            sub: claims.subject().to_string(),
            shown: TokenView {
                header: part_of(&raw, 0),
                claims: part_of(&raw, 1),
                kid: key.key_id().map(|k| k.to_string()).unwrap_or_default(),
                alg: serde_json::to_value(alg)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
            },
            claims,
        })
    }

    /// The access token (`typ` `at+jwt`, RFC 9068): verified with the same keys, issuer and
    /// audience (chsim's `aud` is the client_id), and no `nonce`. A client need not read its
    /// access token; this one does so that the page can show it. An error is shown, not fatal.
    pub(super) fn verify_access_token(
        &self,
        client: &OidcClient,
        token: &AccessToken,
    ) -> Result<TokenView, String> {
        let at_jwt = JsonWebTokenType::new("at+jwt".into())
            .normalize()
            .map_err(|e| e.to_string())?;
        let verifier = self.verifier(client).set_allowed_jose_types([at_jwt]);
        let jwt = IdToken::from_str(token.secret())
            .map_err(|e| format!("the access token is not a JWT: {e}"))?;
        jwt.claims(&verifier, |n: Option<&Nonce>| match n {
            None => Ok(()),
            Some(_) => Err("an access token carries no nonce".to_string()),
        })
        .map_err(|e| super::error_chain(&e))?;
        let key = jwt.signing_key(&verifier).map_err(|e| e.to_string())?;
        Ok(TokenView {
            header: part_of(token.secret(), 0),
            claims: part_of(token.secret(), 1),
            kid: key.key_id().map(|k| k.to_string()).unwrap_or_default(),
            alg: part_of(token.secret(), 0)["alg"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        })
    }

    /// Userinfo (OIDC Core §5.3) with `access_token`, which must answer for `sub` (§5.3.2); the
    /// answer as JSON, or why there is none.
    pub(super) async fn userinfo_for(
        &self,
        client: &OidcClient,
        access_token: &AccessToken,
        sub: &str,
    ) -> Result<Value, String> {
        let request = client
            .user_info(
                access_token.clone(),
                Some(SubjectIdentifier::new(sub.to_string())),
            )
            .map_err(|e| e.to_string())?;
        let claims: openidconnect::UserInfoClaims<
            super::ChsimClaims,
            openidconnect::core::CoreGenderClaim,
        > = request
            .request_async(&self.http)
            .await
            .map_err(|e| super::error_chain(&e))?;
        serde_json::to_value(&claims).map_err(|e| e.to_string())
    }
}
