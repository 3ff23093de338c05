//! Interop of chsim's OpenID Provider with an independent relying party, against the real `chsim`
//! binary on a loopback port (issue #11): Authlib does the protocol (discovery, the authorization
//! request with PKCE S256, state, nonce and `idp`, the code exchange with client_secret_basic,
//! ID-token validation with `parse_id_token`, userinfo, refresh with rotation), and jwcrypto
//! verifies chsim's ID and access tokens for PS256, PS384 and PS512 with the keys from
//! `jwks_uri`.
//!
//! The relying party is `tests/interop/oidc_rp.py`, run from `.venv` (made by `make test`;
//! `CHSIM_PYTHON` overrides); it also plays the browser with plain HTTP. The clients for PS384
//! and PS512 are registered here, on top of the demo configuration.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use common::python::python;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use common::on_disk::demo_copy;
use serde_json::Value;
use std::process::{Child, Command};

const KAREN: &str =
    "C=DK,O=11111111,CN=Karen Sagsbehandler,Serial=4b7b2e0a-6f1c-4b8e-9d0a-11111111a001";
const PRIVILEGES: &str = "https://data.gov.dk/model/core/eid/privilegesIntermediate";
const SUBSTANTIAL: &str = "https://data.gov.dk/concept/core/nsis/loa/Substantial";

/// The running binary, killed on drop.
struct Served {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client registered for `alg` (client_secret_basic, redirect `{public_url}/<id>/callback`),
/// with a role of its own that Karen's sagsbehandler role maps to.
fn client_for(alg: &str) -> String {
    let id = format!("interop-{}", alg.to_lowercase());
    format!(
        r#"
[[oidc_user_system]]
client_id = "{id}"
name = "Authlib relying party ({alg})"
cvr = "29189846"
application_type = "web"
token_endpoint_auth_method = "client_secret_basic"
client_secret = "{id}-secret"
redirect_uris = ["{{public_url}}/{id}/callback"]
frontchannel_logout_uri = "{{public_url}}/{id}/frontchannel-logout"
nsis_level = "Substantial"
signed_response_alg = "{alg}"

[[oidc_user_system.role]]
id = "http://{id}.demo/roles/usersystemrole/laes-sag/1"

[[oidc_user_system.mapping]]
job_role = "http://korsbaek.dk/roles/jobrole/sagsbehandler/1"
role = "http://{id}.demo/roles/usersystemrole/laes-sag/1"
"#
    )
}

/// The demo configuration plus the PS384 and PS512 clients, checked and served by the binary.
async fn serve() -> Served {
    let (dir, config) = demo_copy();
    let path = config.join("user_systems.toml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(&client_for("PS384"));
    text.push_str(&client_for("PS512"));
    std::fs::write(&path, text).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let bin = env!("CARGO_BIN_EXE_chsim");
    let config = config.to_str().unwrap();
    let check = Command::new(bin)
        .args(["check-config", "--config", config])
        .env("CHSIM_PUBLIC_URL", &base)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    let child = Command::new(bin)
        .args(["serve", "--config", config])
        .env("CHSIM_LISTEN", format!("127.0.0.1:{port}"))
        .env("CHSIM_PUBLIC_URL", &base)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let served = Served {
        child,
        base,
        _dir: dir,
    };
    for _ in 0..100 {
        if reqwest::get(discovery(&served)).await.is_ok() {
            return served;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("chsim did not start");
}

fn discovery(served: &Served) -> String {
    format!(
        "{}/runtime/oauth2/.well-known/openid-configuration",
        served.base
    )
}

/// Runs Authlib's code flow for `client_id` (redirect URI `{base}/<client_id>/callback`) as Karen
/// at Korsbæk; the relying party's JSON.
fn code_flow(served: &Served, client_id: &str, secret: &str, alg: &str, refresh: bool) -> Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/oidc_rp.py");
    let redirect = format!("{}/{client_id}/callback", served.base);
    let idp = format!("{}/test-idp/korsbaek", served.base);
    let mut cmd = Command::new(python());
    cmd.args(["-W", "ignore", script, "code-flow"])
        .args(["--discovery", &discovery(served)])
        .args(["--client-id", client_id, "--client-secret", secret])
        .args(["--redirect-uri", &redirect, "--idp", &idp])
        .args(["--user", "karen", "--alg", alg]);
    if refresh {
        cmd.arg("--refresh");
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "oidc_rp.py for {client_id} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The user-system roles in a privilege claim (base64 OIOBPP).
fn privileges(claims: &Value) -> String {
    let b64 = claims[PRIVILEGES]
        .as_str()
        .unwrap_or_else(|| panic!("no {PRIVILEGES} in {claims}"));
    String::from_utf8(STANDARD.decode(b64).unwrap()).unwrap()
}

/// What every flow must show: Authlib validated an ID token for Karen with chsim's nonce, acr and
/// roles, userinfo agrees, and jwcrypto verified both tokens with `alg` and refused them changed.
fn assert_karen(got: &Value, served: &Served, client_id: &str, alg: &str, role: &str) {
    let issuer = format!("{}/runtime/oauth2", served.base);
    assert_eq!(got["discovery"]["issuer"], issuer);
    // The one rule of OIDC Discovery §3 chsim breaks, as the Context Handler does: it signs
    // PS256/PS384/PS512 only, so RS256 is not among the ID-token algorithms.
    assert_eq!(
        got["discovery_problems"],
        serde_json::json!({"id_token_signing_alg_values_supported":
            "\"RS256\" MUST be included in \"id_token_signing_alg_values_supported\""}),
    );
    let sent = &got["authorization_request"];
    assert_eq!(sent["code_challenge_method"], "S256", "{sent}");
    assert_eq!(sent["scope"], "openid");
    assert_eq!(sent["nonce"], got["nonce_sent"]);
    assert_eq!(got["visited_idp"], true);
    assert_eq!(got["callback"]["iss"], issuer);
    assert_eq!(got["callback"]["state"], sent["state"]);
    assert_eq!(got["token_type"], "Bearer");
    let id = &got["id_token_claims"];
    assert_eq!(id["iss"], issuer);
    assert_eq!(id["aud"], client_id);
    assert_eq!(id["sub"], KAREN);
    assert_eq!(id["nonce"], got["nonce_sent"]);
    assert_eq!(id["acr"], SUBSTANTIAL);
    assert_eq!(
        id["https://data.gov.dk/concept/core/nsis/loa"],
        "Substantial"
    );
    assert_eq!(
        id["https://data.gov.dk/model/core/eid/professional/cvr"],
        "11111111"
    );
    assert!(privileges(id).contains(role), "{}", privileges(id));
    let info = &got["userinfo"];
    assert_eq!(info["sub"], KAREN);
    assert_eq!(info[PRIVILEGES], id[PRIVILEGES]);
    for (token, typ) in [("id_token", "JWT"), ("access_token", "at+jwt")] {
        let jose = &got["jose"][token];
        assert_eq!(jose["header"]["alg"], alg, "{token}: {jose}");
        assert_eq!(jose["header"]["typ"], typ, "{token}");
        assert!(
            jose["header"]["kid"].as_str().unwrap().ends_with(alg),
            "{token}: {jose}"
        );
        assert_eq!(jose["claims"]["sub"], KAREN, "{token}");
        assert_eq!(jose["tampered_refused"], true, "{token}");
    }
    assert_eq!(
        got["jose"]["access_token"]["claims"]["client_id"],
        client_id
    );
    assert_eq!(got["jose"]["id_token"]["claims"], *id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authlib_logs_in_validates_the_id_token_calls_userinfo_and_refreshes_with_rotation() {
    let served = serve().await;
    let got = code_flow(
        &served,
        "demo-oidc",
        "demo-oidc-secret-not-for-production",
        "PS256",
        true,
    );
    assert_karen(
        &got,
        &served,
        "demo-oidc",
        "PS256",
        "http://fagsystem-c.demo/roles/usersystemrole/laes-sag/1",
    );
    assert_eq!(got["expires_in"], 3600);
    let refresh = &got["refresh"];
    let first = &got["id_token_claims"];
    let again = &refresh["id_token_claims"];
    // OIDC Core §12.2: the same iss, sub, aud and auth_time; a new iat.
    for claim in ["iss", "sub", "aud", "auth_time", "sid", "acr", PRIVILEGES] {
        assert_eq!(again[claim], first[claim], "{claim}");
    }
    assert!(again["iat"].as_i64() >= first["iat"].as_i64());
    assert_eq!(refresh["jose_id_token"]["header"]["alg"], "PS256");
    assert_eq!(refresh["userinfo"]["sub"], KAREN);
    // The rotated-out refresh token used again is refused, and its family with it.
    assert_eq!(
        refresh["reuse_of_rotated_out_token"]["error"], "invalid_grant",
        "{refresh}"
    );
    assert_eq!(refresh["userinfo_status_after_reuse"], 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwcrypto_verifies_tokens_chsim_signs_ps384_and_ps512_for_clients_registered_so() {
    let served = serve().await;
    for alg in ["PS384", "PS512"] {
        let client = format!("interop-{}", alg.to_lowercase());
        let got = code_flow(&served, &client, &format!("{client}-secret"), alg, false);
        assert_karen(
            &got,
            &served,
            &client,
            alg,
            &format!("http://{client}.demo/roles/usersystemrole/laes-sag/1"),
        );
    }
}
