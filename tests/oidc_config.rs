//! `chsim check-config` on `[[oidc_user_system]]` registrations (issue #11 §1): the Context
//! Handler 2 registration rules (the demo configuration's own `demo-oidc` is
//! `oidc_user_system[0]`, so appended systems start at 1), each broken one reported with its file and key, and the laptop
//! relaxations (http on loopback) as warnings.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use common::on_disk::*;
use std::path::Path;

fn check(dir: &Path) -> (i32, String) {
    run_chsim(&["check-config", "--config", dir.to_str().unwrap()], &[])
}

fn append(dir: &Path, toml: &str) {
    let path = dir.join("user_systems.toml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(toml);
    std::fs::write(&path, text).unwrap();
}

const VALID: &str = r#"
[[oidc_user_system]]
client_id = "test-web"
name = "Test web app"
cvr = "11111111"
application_type = "web"
token_endpoint_auth_method = "client_secret_basic"
client_secret = "s3cret"
redirect_uris = ["https://app.test.example/callback"]
post_logout_redirect_uri = "https://app.test.example/"
backchannel_logout_uri = "https://app.test.example/backchannel"
nsis_level = "Substantial"

[[oidc_user_system.role]]
id = "http://app.test.example/roles/usersystemrole/laes/1"

[[oidc_user_system.mapping]]
job_role = "http://korsbaek.dk/roles/jobrole/sagsbehandler/1"
role = "http://app.test.example/roles/usersystemrole/laes/1"
"#;

#[test]
fn a_valid_registration_passes() {
    let (_tmp, dir) = demo_copy();
    append(&dir, VALID);
    let (code, out) = check(&dir);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn every_broken_registration_rule_is_reported_with_its_key() {
    let (_tmp, dir) = demo_copy();
    append(&dir, VALID);
    append(
        &dir,
        r#"
[[oidc_user_system]]
client_id = "test-web"
name = "Same id, secret missing, both levels, no logout URI"
cvr = "11111111"
application_type = "web"
token_endpoint_auth_method = "client_secret_post"
redirect_uris = ["http://app.test.example/cb", "https://app.test.example/callback", "https://*.test.example/cb", "https://app.test.example/cb#frag"]
nist_level = 3
nsis_level = "High"
token_lifetime_minutes = 0
use_token_rotation = true

[[oidc_user_system]]
client_id = "test-spa"
name = "A single-page app with a secret method"
cvr = "11111111"
application_type = "javascript"
token_endpoint_auth_method = "client_secret_basic"
client_secret = "x"
redirect_uris = ["https://spa.test.example/cb"]
frontchannel_logout_uri = "https://spa.test.example/logout"

[[oidc_user_system]]
client_id = "test-jwt"
name = "private_key_jwt without keys, encryption without an enc key"
cvr = "11111111"
application_type = "web"
token_endpoint_auth_method = "private_key_jwt"
redirect_uris = ["https://jwt.test.example/cb"]
frontchannel_logout_uri = "https://jwt.test.example/logout"
encrypted_response_alg = "RSA-OAEP-256"

[[oidc_user_system.mapping]]
job_role = "http://korsbaek.dk/roles/jobrole/ukendt/1"
role = "http://jwt.test.example/roles/none/1"

[[oidc_user_system]]
client_id = "test-native"
name = "A public client with refresh tokens but no rotation"
cvr = "11111111"
application_type = "native"
token_endpoint_auth_method = "none"
redirect_uris = ["com.example.app:/cb"]
frontchannel_logout_uri = "https://native.test.example/logout"
nsis_level = "Low"
issue_refresh_token = true
"#,
    );
    let (code, out) = check(&dir);
    assert_eq!(code, 1, "{out}");
    for (key, says) in [
        ("oidc_user_system[2].client_id", "registered twice"),
        ("oidc_user_system[5].use_token_rotation", "must be true"),
        ("oidc_user_system[2].client_secret", "is required"),
        ("oidc_user_system[2].redirect_uris[0]", "https"),
        (
            "oidc_user_system[2].redirect_uris[1]",
            "unique across systems",
        ),
        ("oidc_user_system[2].redirect_uris[2]", "wildcard"),
        ("oidc_user_system[2].redirect_uris[3]", "fragment"),
        ("oidc_user_system[2]", "no logout URI"),
        ("oidc_user_system[2]", "both nist_level and nsis_level"),
        ("oidc_user_system[2].token_lifetime_minutes", "out of range"),
        (
            "oidc_user_system[2].use_token_rotation",
            "issue_refresh_token",
        ),
        ("oidc_user_system[3].token_endpoint_auth_method", "\"none\""),
        ("oidc_user_system[4].jwks", "private_key_jwt"),
        ("oidc_user_system[4].jwks", "\"use\": \"enc\""),
        (
            "oidc_user_system[4].mapping[0].job_role",
            "no job-function role",
        ),
    ] {
        assert!(
            out.lines()
                .any(|l| l.contains(&format!("{key}:")) && l.contains(says)),
            "no line for {key} saying `{says}`:\n{out}"
        );
    }
}

#[test]
fn http_on_loopback_is_a_warning_for_a_web_client_and_fine_for_a_native_one() {
    let (_tmp, dir) = demo_copy();
    append(
        &dir,
        &VALID
            .replace(
                "https://app.test.example/callback",
                "http://localhost:9999/cb",
            )
            .replace(
                "redirect_uris = [",
                "redirect_uris = [\"{public_url}/demo-oidc/x\", ",
            ),
    );
    append(
        &dir,
        r#"
[[oidc_user_system]]
client_id = "test-native"
name = "A native app"
cvr = "11111111"
application_type = "native"
token_endpoint_auth_method = "none"
redirect_uris = ["http://127.0.0.1:8765/cb", "dk.test.app:/callback"]
frontchannel_logout_uri = "https://native.test.example/logout"
nist_level = 2
"#,
    );
    let (code, out) = check(&dir);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("oidc_user_system[1].redirect_uris[1]")
            && out.contains("http://localhost:9999/cb"),
        "{out}"
    );
    assert!(!out.contains("oidc_user_system[2].redirect_uris"), "{out}");
}

#[test]
fn a_jwks_file_is_read_relative_to_the_config_and_must_hold_rsa_keys() {
    let (_tmp, dir) = demo_copy();
    std::fs::write(
        dir.join("client.jwks.json"),
        r#"{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}"#,
    )
    .unwrap();
    append(
        &dir,
        &VALID
            .replace("client_secret_basic", "private_key_jwt")
            .replace("client_secret = \"s3cret\"", "jwks = \"client.jwks.json\""),
    );
    let (code, out) = check(&dir);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.lines()
            .any(|l| l.contains("oidc_user_system[1].jwks:") && l.contains("RSA")),
        "{out}"
    );
}
