//! Scripted logins (issue #3 §5) against a chsim on a loopback port: the library driver, the
//! HTTP endpoint and the `chsim login` binary; and the README's table of the demo
//! configuration's outcomes, which this test generates and checks (run with
//! `CHSIM_WRITE_README=1` to rewrite it after a deliberate change).
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use chsim::scripted::{run, ScriptedLogin};
use common::*;

/// A scripted login to demo user system `sp`: `oiosaml3`, `oiosaml2`, or `demo-oidc` (the OIDC
/// one, named by its client_id).
fn login(chsim: &Chsim, sp: &str, cvr: &str, user: &str) -> ScriptedLogin {
    ScriptedLogin {
        base_url: chsim.base.clone(),
        user_system: if sp == "demo-oidc" {
            sp.to_string()
        } else {
            format!("{}/demo-sp/{sp}", chsim.base)
        },
        municipality: Some(cvr.to_string()),
        user: user.to_string(),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scripted_login_reports_subject_level_and_privileges() {
    let chsim = start(demo_config()).await;
    let out = run(&login(&chsim, "oiosaml3", "11111111", "karen"))
        .await
        .unwrap();
    assert!(out.admitted, "{out:?}");
    let token = out.token.unwrap();
    assert_eq!(
        token["name_id"],
        "C=DK,O=11111111,CN=Karen Sagsbehandler,Serial=4b7b2e0a-6f1c-4b8e-9d0a-11111111a001"
    );
    assert_eq!(token["level"]["nsis"], "Substantial");
    assert_eq!(
        token["privileges"][0]["privilege"],
        "http://fagsystem-a.demo/roles/usersystemrole/laes-sag/1"
    );
    assert_eq!(
        token["privileges"][0]["constraints"][0]["values"][1],
        "27.35.04"
    );
    // The chooser was passed through by municipality.
    assert!(
        out.trace.iter().any(|p| p == "/runtime/saml2/choose"),
        "{:?}",
        out.trace
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scripted_login_reports_a_refusal_with_its_reason_and_status() {
    let chsim = start(demo_config()).await;
    let out = run(&login(&chsim, "oiosaml3", "11111111", "robot"))
        .await
        .unwrap();
    assert!(!out.admitted);
    assert_eq!(out.step_ups, 1);
    let r = out.refusal.unwrap();
    assert_eq!(r.http_status, 403);
    assert_eq!(
        r.saml_status.as_deref(),
        Some(chsim::saml::status::RESPONDER)
    );
    assert_eq!(
        r.saml_sub_status.as_deref(),
        Some(chsim::saml::status::NO_AUTHN_CONTEXT)
    );
    assert!(
        r.message.contains("requires NSIS Substantial"),
        "{}",
        r.message
    );
    assert!(
        r.advice.contains("Robots (RPA) never have one"),
        "{}",
        r.advice
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scripted_oidc_login_goes_through_the_demo_oidc_system() {
    let chsim = start(demo_config()).await;
    let out = run(&login(&chsim, "demo-oidc", "11111111", "karen"))
        .await
        .unwrap();
    assert!(out.admitted, "{out:?}");
    // Its own login address, chsim's authorization endpoint and chooser, the IdP, its callback.
    for path in [
        "/demo-oidc/login",
        "/runtime/oauth2/authorize.idp",
        "/runtime/saml2/choose",
        "/test-idp/korsbaek/sso",
        "/demo-oidc/callback",
    ] {
        assert!(
            out.trace.iter().any(|p| p == path),
            "{path}: {:?}",
            out.trace
        );
    }
    let token = out.token.clone().unwrap();
    assert_eq!(token["user_system"], "demo-oidc");
    assert!(
        token["sub"]
            .as_str()
            .unwrap()
            .starts_with("C=DK,O=11111111,CN=Karen Sagsbehandler"),
        "{token}"
    );
    assert_eq!(token["level"]["nsis"], "Substantial");
    assert_eq!(
        token["acr"],
        "https://data.gov.dk/concept/core/nsis/loa/Substantial"
    );
    assert_eq!(
        token["privileges"][0]["privilege"],
        "http://fagsystem-c.demo/roles/usersystemrole/laes-sag/1"
    );
    assert!(token["id_token"]["verified_with_kid"]
        .as_str()
        .unwrap()
        .ends_with("-PS256"));
    assert_eq!(token["userinfo"]["sub"], token["sub"]);
    assert!(out
        .describe()
        .contains("class ref: https://data.gov.dk/concept/core/nsis/loa/Substantial"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scripted_oidc_login_above_the_persons_level_is_refused_with_chsims_reason() {
    let chsim = start(demo_config()).await;
    let mut high = login(&chsim, "demo-oidc", "11111111", "karen");
    high.level = Some("https://data.gov.dk/concept/core/nsis/loa/High".into());
    let out = run(&high).await.unwrap();
    assert!(!out.admitted && out.token.is_none(), "{out:?}");
    let r = out.refusal.clone().unwrap();
    assert_eq!(r.http_status, 403);
    assert!(r.message.contains("requires NSIS High"), "{}", r.message);
    assert_eq!(r.saml_status, None);
    assert_eq!(r.oauth_error.as_deref(), Some("access_denied"), "{r:?}");
    assert!(
        out.describe().starts_with(
            "refused by chsim (HTTP 403; the user system got the OAuth error access_denied)"
        ),
        "{}",
        out.describe()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http_endpoint_runs_a_scripted_login_for_other_languages() {
    let chsim = start(demo_config()).await;
    let q = |sp: &str, user: &str| {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("user_system", &format!("{}/demo-sp/{sp}", chsim.base));
        q.append_pair("municipality", "11111111");
        q.append_pair("user", user);
        format!("{}/runtime/scripted/login?{}", chsim.base, q.finish())
    };
    let ok = reqwest::get(q("oiosaml2", "robot")).await.unwrap();
    assert_eq!(ok.status(), 200);
    let json: serde_json::Value = serde_json::from_str(&ok.text().await.unwrap()).unwrap();
    assert_eq!(json["admitted"], true);
    assert_eq!(json["step_ups"], 1);
    assert_eq!(json["token"]["level"]["nist"], "3");
    let refused = reqwest::get(q("oiosaml3", "robot")).await.unwrap();
    assert_eq!(refused.status(), 403);
    let json: serde_json::Value = serde_json::from_str(&refused.text().await.unwrap()).unwrap();
    assert_eq!(json["admitted"], false);
    let oidc = reqwest::get(format!(
        "{}/runtime/scripted/login?user_system=demo-oidc&municipality=11111111&user=leder",
        chsim.base
    ))
    .await
    .unwrap();
    assert_eq!(oidc.status(), 200);
    let json: serde_json::Value = serde_json::from_str(&oidc.text().await.unwrap()).unwrap();
    assert_eq!(json["token"]["level"]["nsis"], "High");
    let bad = reqwest::get(format!("{}/runtime/scripted/login?user=karen", chsim.base))
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_command_exits_zero_only_when_admitted() {
    let chsim = start(demo_config()).await;
    let base = chsim.base.clone();
    let cli = move |user: &str, json: bool| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_chsim"));
        cmd.args([
            "login",
            "--url",
            &base,
            "--user-system",
            &format!("{base}/demo-sp/oiosaml3"),
            "--municipality",
            "11111111",
            "--user",
            user,
        ]);
        if json {
            cmd.arg("--json");
        }
        cmd.output().unwrap()
    };
    let (admitted, refused, unknown) = tokio::task::spawn_blocking(move || {
        (
            cli("leder", true),
            cli("robot", false),
            cli("nobody", false),
        )
    })
    .await
    .unwrap();
    assert_eq!(admitted.status.code(), Some(0), "{admitted:?}");
    let json: serde_json::Value = serde_json::from_slice(&admitted.stdout).unwrap();
    assert_eq!(json["token"]["level"]["nsis"], "High");
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    let text = String::from_utf8_lossy(&refused.stdout);
    assert!(
        text.starts_with("refused by chsim (HTTP 403; the user system got"),
        "{text}"
    );
    assert_eq!(unknown.status.code(), Some(2), "{unknown:?}");
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("offers no test user `nobody`"));
}

/// The demo's test users (municipality CVR, login name, description) in README order.
const USERS: &[(&str, &str, &str)] = &[
    ("11111111", "karen", "Karen (NIST 3, NSIS Substantial)"),
    ("11111111", "leder", "Lone (NIST 4, NSIS High)"),
    (
        "11111111",
        "vikar",
        "Viggo (NSIS Low by password, Substantial with MitID)",
    ),
    (
        "11111111",
        "robot",
        "RPA robot (NIST 2 by password, 3 with TOTP; no NSIS)",
    ),
    ("11111111", "pia", "Pia (NSIS Substantial)"),
    ("11111111", "dorte", "Dorte (NSIS Substantial)"),
    (
        "11111111",
        "mads",
        "Mads (NSIS Substantial, no usable roles)",
    ),
    (
        "22222222",
        "bent",
        "Bent, Bakkeby (NIST 3 at Bakkeby; MitID Substantial at NemLog-in)",
    ),
    (
        "22222222",
        "bo",
        "Bo, Bakkeby (NIST 3 at Bakkeby; MitID Low at NemLog-in)",
    ),
    (
        "22222222",
        "robot-b",
        "RPA robot, Bakkeby (NIST 3 by its IdP's own policy; no NSIS)",
    ),
    ("44444444", "sara", "Sara, Søby (NSIS Substantial)"),
];

fn cell(out: &chsim::scripted::ScriptedOutcome, base: &str) -> String {
    let step_up = match (out.idps.as_slice(), out.step_ups) {
        ([_, second, ..], _) => format!(" after continuing at {second}"),
        (_, 0) => String::new(),
        _ => " after a step-up".to_string(),
    };
    if let Some(t) = &out.token {
        let level = match (t["level"]["nsis"].as_str(), t["level"]["nist"].as_str()) {
            (Some(n), _) => format!("NSIS {n}"),
            (None, Some(l)) => format!("NIST {l}"),
            _ => "no level".into(),
        };
        let roles = t["privileges"].as_array().map_or(0, Vec::len);
        let plural = if roles == 1 { "" } else { "s" };
        format!("admitted at {level}{step_up}; {roles} privilege{plural}")
    } else if let Some(r) = &out.refusal {
        let status = r
            .saml_sub_status
            .as_deref()
            .map(|s| s.rsplit(':').next().unwrap_or(s).to_string())
            .or_else(|| r.oauth_error.clone())
            .unwrap_or_else(|| "no Response".into());
        format!(
            "refused ({status}){step_up}: {}",
            r.message.replace(base, "http://localhost:8080")
        )
    } else {
        "no outcome".into()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_table_of_demo_outcomes_is_what_chsim_does() {
    let chsim = start(demo_config()).await;
    let mut table = String::from(
        "| test user | Demo-fagsystem A (OIOSAML3, requires NSIS Substantial) | Demo-fagsystem B (OIOSAML2, requires NIST 3) | Demo-fagsystem C (OIDC, `demo-oidc`, requires NSIS Substantial) |\n|---|---|---|---|\n",
    );
    for (cvr, user, who) in USERS {
        let a = run(&login(&chsim, "oiosaml3", cvr, user)).await.unwrap();
        let b = run(&login(&chsim, "oiosaml2", cvr, user)).await.unwrap();
        let c = run(&login(&chsim, "demo-oidc", cvr, user)).await.unwrap();
        table.push_str(&format!(
            "| `{user}` — {who} | {} | {} | {} |\n",
            cell(&a, &chsim.base),
            cell(&b, &chsim.base),
            cell(&c, &chsim.base)
        ));
    }
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let readme = std::fs::read_to_string(path).unwrap();
    let (start, end) = ("<!-- outcomes:start -->\n", "<!-- outcomes:end -->");
    let (Some(i), Some(j)) = (readme.find(start), readme.find(end)) else {
        panic!("README.md has no {start:?} … {end:?} block; add one where the table belongs")
    };
    let current = &readme[i + start.len()..j];
    if std::env::var("CHSIM_WRITE_README").as_deref() == Ok("1") {
        let updated = format!("{}{start}{table}{}", &readme[..i], &readme[j..]);
        std::fs::write(path, updated).unwrap();
    } else {
        assert_eq!(
            current, table,
            "the README's outcome table is out of date; run CHSIM_WRITE_README=1 cargo test --test scripted_login"
        );
    }
}
