//! The `[[oidc_user_system]]` keys (issue #11 §1): the Context Handler 2 registration rules of
//! `OIDCMetadata` (reference §2), each problem located by file and key, and the rules chsim
//! relaxes for a developer's laptop, as warnings.

use super::types::{Config, OidcUserSystemConfig};
use super::{ConfigProblem, ConfigSource};
use crate::oidc::registration::{
    self, classify_uri, redirect_uri_verdict, ApplicationType, AuthMethod, UriVerdict,
};
use std::collections::HashMap;

const US: &str = "user_systems.toml";

/// Every OIDC registration problem.
pub(super) fn check(c: &Config, problems: &mut Vec<ConfigProblem>) {
    let mut client_ids = HashMap::new();
    let mut redirects: HashMap<String, usize> = HashMap::new();
    for (i, o) in c.user_systems.oidc_user_system.iter().enumerate() {
        let key = format!("oidc_user_system[{i}]");
        let mut problem = |k: &str, m: String| {
            problems.push(ConfigProblem::new(
                US,
                if k.is_empty() {
                    key.clone()
                } else {
                    format!("{key}.{k}")
                },
                m,
            ))
        };
        if o.client_id.trim().is_empty() || o.client_id.trim() != o.client_id {
            problem(
                "client_id",
                "must be a non-empty identifier without surrounding spaces".into(),
            );
        }
        if client_ids.insert(o.client_id.as_str(), i).is_some() {
            problem(
                "client_id",
                format!(
                    "`{}` is registered twice (a client_id names one system)",
                    o.client_id
                ),
            );
        }
        let public = matches!(
            o.application_type,
            ApplicationType::Native | ApplicationType::Javascript
        );
        if public && o.token_endpoint_auth_method != AuthMethod::None {
            problem("token_endpoint_auth_method", format!(
                "a {} client cannot keep a secret: the Context Handler requires token_endpoint_auth_method = \"none\" (with PKCE) for it",
                o.application_type.as_str()
            ));
        }
        let secret = o.client_secret.as_deref().filter(|s| !s.is_empty());
        match o.token_endpoint_auth_method {
            AuthMethod::ClientSecretPost | AuthMethod::ClientSecretBasic if secret.is_none() => {
                problem("client_secret", format!(
                    "is required with token_endpoint_auth_method = \"{}\"",
                    o.token_endpoint_auth_method
                ))
            }
            AuthMethod::PrivateKeyJwt if o.jwks.is_none() => problem(
                "jwks",
                "is required with token_endpoint_auth_method = \"private_key_jwt\": the JWK Set whose RSA key verifies the client's assertions".into(),
            ),
            _ => {}
        }
        let jwks = match jwks_of(&c.source, o) {
            Ok(set) => set,
            Err(e) => {
                problem("jwks", e);
                None
            }
        };
        if let Some(set) = &jwks {
            if o.token_endpoint_auth_method == AuthMethod::PrivateKeyJwt
                && !registration::has_signing_key(set)
            {
                problem("jwks", "has no signing key (use absent or \"sig\") to verify the client's private_key_jwt assertions".into());
            }
        }
        if o.redirect_uris.is_empty() {
            problem(
                "redirect_uris",
                "lists no redirect URI; the client needs at least one".into(),
            );
        }
        for (j, uri) in o.redirect_uris.iter().enumerate() {
            let at_chsim = at_chsim(uri);
            let uri = resolved(c, uri);
            let verdict = match classify_uri(&uri) {
                // chsim's own address is the operator's choice (https or not): a built-in party
                // under it follows that choice rather than the scheme rules.
                Ok(_) if at_chsim => UriVerdict::Fine,
                _ => redirect_uri_verdict(o.application_type, &uri),
            };
            if let UriVerdict::Refused(e) = verdict {
                problem(&format!("redirect_uris[{j}]"), e);
            }
            if let Some(other) = redirects.insert(uri.clone(), i) {
                if other != i {
                    problem(&format!("redirect_uris[{j}]"), format!(
                        "`{uri}` is also a redirect URI of oidc_user_system[{other}]; the Context Handler requires them unique across systems"
                    ));
                }
            }
        }
        for (name, value) in [
            ("post_logout_redirect_uri", &o.post_logout_redirect_uri),
            ("frontchannel_logout_uri", &o.frontchannel_logout_uri),
            ("backchannel_logout_uri", &o.backchannel_logout_uri),
        ] {
            if let Some(uri) = value {
                if let Err(e) = classify_uri(&resolved(c, uri)) {
                    problem(name, e);
                }
            }
        }
        if o.frontchannel_logout_uri.is_none() && o.backchannel_logout_uri.is_none() {
            problem("", "gives no logout URI: the Context Handler requires frontchannel_logout_uri or backchannel_logout_uri, so that single logout reaches the system".into());
        }
        match (o.nist_level, o.nsis_level) {
            (Some(_), Some(_)) => problem("", "gives both nist_level and nsis_level; a user system requires one of them (setting one resets the other in the Context Handler)".into()),
            (None, None) => problem("", "gives no required level: add nist_level = 1…4 or nsis_level = \"Low\" | \"Substantial\" | \"High\"".into()),
            _ => {}
        }
        match (o.encrypted_response_alg, o.encrypted_response_enc) {
            (None, Some(_)) => problem(
                "encrypted_response_enc",
                "needs encrypted_response_alg (the key wrapping) as well".into(),
            ),
            (Some(alg), _)
                if alg.is_rsa() && !jwks.as_ref().is_some_and(registration::has_encryption_key) =>
            {
                problem("jwks", format!(
                    "needs a key with \"use\": \"enc\": encrypted_response_alg = \"{}\" encrypts the ID token to it",
                    alg.as_str()
                ));
            }
            (Some(alg), _) if alg.is_rsa() => {}
            (Some(alg), _) if secret.is_none() => problem(
                "client_secret",
                format!(
                    "is required with encrypted_response_alg = \"{}\": the key is derived from the secret (OpenID Connect Core §10.2)",
                    alg.as_str()
                ),
            ),
            _ => {}
        }
        for (name, minutes) in [
            ("token_lifetime_minutes", o.token_lifetime_minutes),
            (
                "refresh_token_lifetime_minutes",
                o.refresh_token_lifetime_minutes,
            ),
        ] {
            if minutes == 0 || minutes > 525_600 {
                problem(
                    name,
                    format!("{minutes} is out of range: give 1 to 525600 minutes (a year)"),
                );
            }
        }
        if o.use_token_rotation && !o.issue_refresh_token {
            problem(
                "use_token_rotation",
                "has no effect without issue_refresh_token = true".into(),
            );
        }
        // A public client cannot prove who presents its refresh token: only rotation (reuse
        // detection) limits a stolen one (RFC 9700 §4.14.2).
        if o.issue_refresh_token
            && !o.use_token_rotation
            && o.token_endpoint_auth_method == AuthMethod::None
        {
            problem(
                "use_token_rotation",
                "must be true when a client with token_endpoint_auth_method = \"none\" gets refresh tokens (RFC 9700 §4.14.2: a public client's refresh tokens are rotated)".into(),
            );
        }
    }
}

/// The warnings: what chsim accepts and the Context Handler would refuse.
pub(super) fn warnings(c: &Config) -> Vec<ConfigProblem> {
    let mut found = Vec::new();
    for (i, o) in c.user_systems.oidc_user_system.iter().enumerate() {
        for (j, uri) in o
            .redirect_uris
            .iter()
            .enumerate()
            .filter(|(_, u)| !at_chsim(u))
        {
            if let UriVerdict::Differs(w) =
                redirect_uri_verdict(o.application_type, &resolved(c, uri))
            {
                found.push(ConfigProblem::new(
                    US,
                    format!("oidc_user_system[{i}].redirect_uris[{j}]"),
                    w,
                ));
            }
        }
    }
    found
}

/// Whether a configured URI lives at chsim itself (a built-in party such as `/demo-oidc/`).
fn at_chsim(uri: &str) -> bool {
    uri.starts_with("{public_url}/")
}

/// `uri` with `{public_url}` replaced by chsim's public URL.
pub fn resolved(c: &Config, uri: &str) -> String {
    uri.replace("{public_url}", c.public_url())
}

/// The registration's JWK Set, read from the inline JSON or the file it names.
pub fn jwks_of(
    source: &ConfigSource,
    o: &OidcUserSystemConfig,
) -> Result<Option<jsonwebtoken::jwk::JwkSet>, String> {
    let Some(jwks) = &o.jwks else {
        return Ok(None);
    };
    let text = if jwks.trim_start().starts_with('{') {
        jwks.clone()
    } else {
        source
            .read(jwks)
            .map_err(|e| format!("the JWK Set file: {e}"))?
    };
    registration::parse_jwks(&text).map(Some)
}
