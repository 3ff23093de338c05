//! Where chsim's OpenID Provider lives — the Context Handler's own paths (reference §1) — and the
//! discovery document at `{issuer}/.well-known/openid-configuration` (OIDC Discovery 1.0 §3),
//! which states only what chsim implements.

use super::claims::CLAIM_TABLE;
use super::registration::{AuthMethod, ContentEnc, KeyWrapAlg, SigningAlg};
use crate::assurance::{NistLevel, NsisLevel};
use serde_json::{json, Value};

/// The issuer's path: `iss` is `<public_url>/runtime/oauth2`, no trailing slash.
pub const ISSUER_PATH: &str = "/runtime/oauth2";
/// Authorization endpoint (GET and POST).
pub const AUTHORIZE_PATH: &str = "/runtime/oauth2/authorize.idp";
/// Token endpoint.
pub const TOKEN_PATH: &str = "/runtime/oauth2/token.idp";
/// Revocation endpoint (RFC 7009).
pub const REVOKE_PATH: &str = "/runtime/oauth2/revoke.idp";
/// chsim's JWK Set.
pub const CERTS_PATH: &str = "/runtime/oauth2/certs.idp";
/// Userinfo endpoint.
pub const USERINFO_PATH: &str = "/runtime/openidconnect/userinfo.idp";
/// End-session endpoint (RP-initiated logout, GET and POST).
pub const LOGOUT_PATH: &str = "/runtime/openidconnect/logout.idp";
/// The discovery document.
pub const DISCOVERY_PATH: &str = "/runtime/oauth2/.well-known/openid-configuration";

/// The full URLs of chsim's OpenID Provider under one public base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// `iss` of every token, and `issuer` of discovery.
    pub issuer: String,
    /// `authorization_endpoint`.
    pub authorize: String,
    /// `token_endpoint` (also the `aud` a client assertion must carry).
    pub token: String,
    /// `revocation_endpoint`.
    pub revoke: String,
    /// `jwks_uri`.
    pub certs: String,
    /// `userinfo_endpoint`.
    pub userinfo: String,
    /// `end_session_endpoint`.
    pub logout: String,
    /// The discovery document's URL.
    pub discovery: String,
}

impl Endpoints {
    /// The endpoints under `public_url` (e.g. `https://chsim.example.dk`; a trailing slash is
    /// ignored).
    pub fn new(public_url: &str) -> Self {
        let base = public_url.trim_end_matches('/');
        let at = |path: &str| format!("{base}{path}");
        Self {
            issuer: at(ISSUER_PATH),
            authorize: at(AUTHORIZE_PATH),
            token: at(TOKEN_PATH),
            revoke: at(REVOKE_PATH),
            certs: at(CERTS_PATH),
            userinfo: at(USERINFO_PATH),
            logout: at(LOGOUT_PATH),
            discovery: at(DISCOVERY_PATH),
        }
    }
}

/// Every `acr` value chsim understands in `acr_values` and may put in a token: the NSIS loa URIs
/// and the NIST class refs.
pub fn acr_values_supported() -> Vec<String> {
    NsisLevel::ALL
        .into_iter()
        .map(NsisLevel::class_ref)
        .chain(
            [
                NistLevel::ONE,
                NistLevel::TWO,
                NistLevel::THREE,
                NistLevel::FOUR,
            ]
            .into_iter()
            .map(NistLevel::class_ref),
        )
        .collect()
}

/// The discovery document (OIDC Discovery 1.0 §3) for `endpoints`.
pub fn document(endpoints: &Endpoints) -> Value {
    let names = |v: &mut dyn Iterator<Item = &'static str>| v.collect::<Vec<_>>();
    let mut claims: Vec<&str> = vec![
        "iss",
        "aud",
        "sub",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "acr",
        "sid",
    ];
    claims.extend(CLAIM_TABLE.iter().map(|(_, claim, _)| *claim));
    json!({
        "issuer": endpoints.issuer,
        "authorization_endpoint": endpoints.authorize,
        "token_endpoint": endpoints.token,
        "revocation_endpoint": endpoints.revoke,
        "userinfo_endpoint": endpoints.userinfo,
        "end_session_endpoint": endpoints.logout,
        "jwks_uri": endpoints.certs,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported":
            names(&mut SigningAlg::ALL.into_iter().map(SigningAlg::as_str)),
        "id_token_encryption_alg_values_supported":
            names(&mut KeyWrapAlg::ALL.into_iter().map(KeyWrapAlg::as_str)),
        "id_token_encryption_enc_values_supported":
            names(&mut ContentEnc::ALL.into_iter().map(ContentEnc::as_str)),
        "token_endpoint_auth_methods_supported":
            names(&mut AuthMethod::ALL.into_iter().map(AuthMethod::as_str)),
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "revocation_endpoint_auth_methods_supported":
            names(&mut AuthMethod::ALL.into_iter().map(AuthMethod::as_str)),
        // RFC 8414 §2: required once private_key_jwt is among the revocation methods.
        "revocation_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["openid"],
        "claims_supported": claims,
        "acr_values_supported": acr_values_supported(),
        "frontchannel_logout_supported": true,
        "frontchannel_logout_session_supported": true,
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "require_request_uri_registration": false,
        "claims_parameter_supported": false,
        "authorization_response_iss_parameter_supported": true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_sit_at_the_context_handlers_paths() {
        let e = Endpoints::new("https://chsim.example.dk/");
        assert_eq!(e.issuer, "https://chsim.example.dk/runtime/oauth2");
        assert_eq!(
            e.authorize,
            "https://chsim.example.dk/runtime/oauth2/authorize.idp"
        );
        assert_eq!(e.token, "https://chsim.example.dk/runtime/oauth2/token.idp");
        assert_eq!(
            e.userinfo,
            "https://chsim.example.dk/runtime/openidconnect/userinfo.idp"
        );
        assert_eq!(
            e.discovery,
            format!("{}/.well-known/openid-configuration", e.issuer)
        );
    }

    #[test]
    fn the_document_states_what_chsim_implements() {
        let e = Endpoints::new("https://chsim.example.dk");
        let d = document(&e);
        assert_eq!(d["issuer"], e.issuer);
        assert_eq!(d["jwks_uri"], e.certs);
        assert_eq!(d["end_session_endpoint"], e.logout);
        assert_eq!(d["response_types_supported"], json!(["code"]));
        assert_eq!(
            d["id_token_signing_alg_values_supported"],
            json!(["PS256", "PS384", "PS512"])
        );
        assert_eq!(d["code_challenge_methods_supported"], json!(["S256"]));
        assert_eq!(
            d["token_endpoint_auth_methods_supported"],
            json!([
                "client_secret_post",
                "client_secret_basic",
                "private_key_jwt",
                "none"
            ])
        );
        assert_eq!(
            d["revocation_endpoint_auth_signing_alg_values_supported"],
            json!(["RS256"])
        );
        assert_eq!(d["request_parameter_supported"], json!(false));
        assert_eq!(
            d["authorization_response_iss_parameter_supported"],
            json!(true)
        );
        let claims = d["claims_supported"].as_array().unwrap();
        assert!(claims.contains(&json!(
            "https://data.gov.dk/model/core/eid/professional/cvr"
        )));
        let acr = d["acr_values_supported"].as_array().unwrap();
        assert!(acr.contains(&json!(
            "https://data.gov.dk/concept/core/nsis/loa/Substantial"
        )));
        assert!(acr.contains(&json!("urn:dk:gov:saml:attribute:AssuranceLevel:3")));
    }
}
