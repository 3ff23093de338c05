//! Logout at the OpenID Provider (reference §7): RP-initiated logout at `logout.idp` (OpenID
//! Connect RP-Initiated Logout 1.0 §2–3) read and checked, and the URLs of front-channel
//! logout (OpenID Connect Front-Channel Logout 1.0 §2). Pure: the caller verifies the
//! `id_token_hint` and ends the session.

use super::authorize::with_query;
use super::OidcClient;
use std::sync::Arc;

/// At most this many parameters.
pub const MAX_PARAMETERS: usize = 30;
/// At most this many bytes per value: an ID token with a privilege list can be several KB.
pub const MAX_VALUE_BYTES: usize = 32 * 1024;

/// What an `id_token_hint` says once chsim verified it as one of its own ID tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    /// `aud`: the client it was issued to.
    pub client_id: String,
    /// `sid`.
    pub sid: Option<String>,
}

/// An accepted logout request.
#[derive(Debug, Clone)]
pub struct RpLogout {
    /// The client that asked (from the hint or `client_id`), when known.
    pub client: Option<Arc<OidcClient>>,
    /// Where the browser goes afterwards: the registered `post_logout_redirect_uri` with
    /// `state`, when the request asked for it.
    pub redirect: Option<String>,
    /// The hint's `sid`: the session it names (None without a hint).
    pub sid: Option<String>,
    /// Whether a verified `id_token_hint` came with it (else the person is asked to confirm).
    pub hinted: bool,
}

/// Reads a logout request. `verify_hint` checks an `id_token_hint` (signature, issuer, type;
/// an expired one is fine — OIDC RP-Initiated Logout §2); `lookup` finds a registered client.
/// Errors are sentences for chsim's error page: chsim never redirects to a URI it did not
/// verify.
pub fn parse(
    params: &[(String, String)],
    verify_hint: impl Fn(&str) -> Result<Hint, String>,
    lookup: impl Fn(&str) -> Option<Arc<OidcClient>>,
) -> Result<RpLogout, String> {
    if params.len() > MAX_PARAMETERS {
        return Err(format!(
            "the request has {} parameters; at most {MAX_PARAMETERS} are accepted",
            params.len()
        ));
    }
    if let Some((name, _)) = params
        .iter()
        .find(|(n, v)| n.len() > 64 || v.len() > MAX_VALUE_BYTES)
    {
        let name: String = name.chars().take(64).collect();
        return Err(format!(
            "parameter `{name}` is longer than chsim accepts ({MAX_VALUE_BYTES} bytes)"
        ));
    }
    let one = |name: &str| -> Result<Option<&str>, String> {
        let mut values = params
            .iter()
            .filter(|(n, v)| n == name && !v.is_empty())
            .map(|(_, v)| v.as_str());
        match (values.next(), values.next()) {
            (v, None) => Ok(v),
            _ => Err(format!("`{name}` was sent more than once")),
        }
    };
    let hint = one("id_token_hint")?
        .map(|h| {
            verify_hint(h)
                .map_err(|e| format!("id_token_hint is not an ID token chsim issued: {e}"))
        })
        .transpose()?;
    let client_id = one("client_id")?;
    let redirect = one("post_logout_redirect_uri")?;
    let state = one("state")?;
    if hint.is_none() && client_id.is_none() && redirect.is_none() {
        return Err("the logout request names nothing: send id_token_hint, client_id or post_logout_redirect_uri".into());
    }
    let claimed = match (&hint, client_id) {
        (Some(h), Some(c)) if h.client_id != c => {
            return Err(format!(
                "client_id `{c}` differs from the audience of id_token_hint (`{}`)",
                h.client_id
            ))
        }
        (Some(h), _) => Some(h.client_id.as_str()),
        (None, c) => c,
    };
    let client = match claimed {
        Some(id) => Some(lookup(id).ok_or_else(|| {
            format!("`{id}` is not an OIDC user system registered in user_systems.toml")
        })?),
        None => None,
    };
    let redirect = match (redirect, &client) {
        (None, _) => None,
        (Some(_), None) => {
            return Err("post_logout_redirect_uri needs id_token_hint or client_id, so chsim can check it against the client's registration".into())
        }
        (Some(uri), Some(c)) if c.post_logout_redirect_uri.as_deref() == Some(uri) => {
            Some(match state {
                Some(state) => with_query(uri, &[("state", state)]),
                None => uri.to_string(),
            })
        }
        (Some(uri), Some(c)) => {
            return Err(format!(
                "post_logout_redirect_uri `{uri}` is not the one registered for `{}`",
                c.client_id
            ))
        }
    };
    Ok(RpLogout {
        client,
        redirect,
        sid: hint.as_ref().and_then(|h| h.sid.clone()),
        hinted: hint.is_some(),
    })
}

/// The front-channel logout URL (Front-Channel Logout §2): the registered URI with `iss` and
/// `sid`.
pub fn frontchannel_url(uri: &str, iss: &str, sid: &str) -> String {
    with_query(uri, &[("iss", iss), ("sid", sid)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::registration::{ApplicationType, AuthMethod, SigningAlg};

    fn client() -> Arc<OidcClient> {
        Arc::new(OidcClient {
            client_id: "c1".into(),
            application_type: ApplicationType::Web,
            auth_method: AuthMethod::ClientSecretBasic,
            client_secret: Some("s".into()),
            jwks: None,
            redirect_uris: vec!["https://rp.example/cb".into()],
            post_logout_redirect_uri: Some("https://rp.example/bye?x=1".into()),
            frontchannel_logout_uri: None,
            backchannel_logout_uri: Some("https://rp.example/bc".into()),
            signed_response_alg: SigningAlg::PS256,
            encryption: None,
            token_lifetime: chrono::Duration::minutes(60),
            refresh: None,
        })
    }

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    fn run(pairs: &[(&str, &str)]) -> Result<RpLogout, String> {
        parse(
            &params(pairs),
            |h| match h {
                "good" => Ok(Hint {
                    client_id: "c1".into(),
                    sid: Some("_s1".into()),
                }),
                _ => Err("bad signature".into()),
            },
            |id| (id == "c1").then(client),
        )
    }

    #[test]
    fn a_hinted_request_goes_to_the_registered_uri_with_state() {
        let r = run(&[
            ("id_token_hint", "good"),
            ("post_logout_redirect_uri", "https://rp.example/bye?x=1"),
            ("state", "a b"),
        ])
        .unwrap();
        assert!(r.hinted);
        assert_eq!(r.sid.as_deref(), Some("_s1"));
        assert_eq!(
            r.redirect.as_deref(),
            Some("https://rp.example/bye?x=1&state=a+b")
        );
    }

    #[test]
    fn each_fault_is_refused_with_what_to_send() {
        for (pairs, says) in [
            (vec![("state", "x")], "names nothing"),
            (vec![("id_token_hint", "forged")], "bad signature"),
            (
                vec![("id_token_hint", "good"), ("client_id", "c2")],
                "differs from the audience",
            ),
            (vec![("client_id", "c9")], "not an OIDC user system"),
            (
                vec![("post_logout_redirect_uri", "https://rp.example/bye?x=1")],
                "needs id_token_hint or client_id",
            ),
            (
                vec![
                    ("client_id", "c1"),
                    ("post_logout_redirect_uri", "https://evil.example/"),
                ],
                "not the one registered",
            ),
            (
                vec![("client_id", "c1"), ("client_id", "c1")],
                "more than once",
            ),
        ] {
            let e = run(&pairs).unwrap_err();
            assert!(e.contains(says), "{pairs:?}: {e}");
        }
        let long = "x".repeat(MAX_VALUE_BYTES + 1);
        assert!(run(&[("id_token_hint", &long)])
            .unwrap_err()
            .contains("longer"));
    }

    #[test]
    fn a_client_id_alone_is_accepted_for_confirmation() {
        let r = run(&[("client_id", "c1")]).unwrap();
        assert!(!r.hinted && r.redirect.is_none() && r.client.is_some());
    }

    #[test]
    fn the_frontchannel_url_carries_iss_and_sid() {
        assert_eq!(
            frontchannel_url("https://rp.example/fc", "https://op/runtime/oauth2", "_s+1"),
            "https://rp.example/fc?iss=https%3A%2F%2Fop%2Fruntime%2Foauth2&sid=_s%2B1"
        );
    }
}
