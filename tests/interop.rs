//! Interop with independent SAML software, against the real `chsim` binary on a loopback port
//! (issue #2 §7): a pysaml2 service provider logs in through chsim and accepts the assertion;
//! it does single logout through chsim both ways (issue #9 §5: it starts one and accepts chsim's
//! LogoutResponse, and answers chsim's LogoutRequest when the logout starts elsewhere); chsim
//! accepts a pysaml2 identity provider's signed Response; `xmlsec1 --verify` verifies an
//! assertion chsim issued with the certificate from chsim's published metadata.
//!
//! The Python peers live in `tests/interop/peer.py` and run from `.venv` (made by `make test`;
//! `CHSIM_PYTHON` overrides). This test plays the browser.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use common::python::python;

use common::{Browser, Outcome};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

/// The running binary, killed on drop.
struct Served {
    child: Child,
    base: String,
    dir: tempfile::TempDir,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `peer.py <args>` and returns its JSON.
fn peer(args: &[&str]) -> Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/peer.py");
    let out = Command::new(python())
        .arg("-W")
        .arg("ignore")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "peer.py {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

fn append(path: &Path, text: &str) {
    let mut s = std::fs::read_to_string(path).unwrap();
    s.push_str(text);
    std::fs::write(path, s).unwrap();
}

/// The demo configuration plus a pysaml2 SP (user system) and a pysaml2 IdP (Pysaml Kommune),
/// served by the real binary.
async fn serve() -> Served {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    copy_dir(&root.join("config"), &config);
    copy_dir(&root.join("keys"), &dir.path().join("keys"));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let s = |p: PathBuf| p.to_str().unwrap().to_string();
    peer(&[
        "sp-metadata",
        "--base",
        &base,
        "--out",
        &s(config.join("pysaml2-sp.xml")),
    ]);
    peer(&[
        "idp-metadata",
        "--base",
        &base,
        "--out",
        &s(config.join("pysaml2-idp.xml")),
    ]);
    append(
        &config.join("user_systems.toml"),
        "\n[[user_system]]\nname = \"pysaml2 SP\"\nmetadata = \"pysaml2-sp.xml\"\nprofile = \"OIOSAML3\"\nnsis_level = \"Substantial\"\n",
    );
    append(
        &config.join("municipalities.toml"),
        "\n[[municipality]]\nname = \"Pysaml Kommune\"\ncvr = \"33333333\"\n[[municipality.idp]]\npresentation_name = \"Pysaml Kommune (pysaml2)\"\nmetadata = \"pysaml2-idp.xml\"\nprofile = \"OIOSAML3\"\nnist_level = 3\nnsis_level = \"Substantial\"\n",
    );
    let bin = env!("CARGO_BIN_EXE_chsim");
    let check = Command::new(bin)
        .args(["check-config", "--config", &s(config.clone())])
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let child = Command::new(bin)
        .args(["serve", "--config", &s(config)])
        .env("CHSIM_LISTEN", format!("127.0.0.1:{port}"))
        .env("CHSIM_PUBLIC_URL", &base)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let served = Served { child, base, dir };
    for _ in 0..100 {
        if reqwest::get(format!("{}/runtime/saml2/metadata.idp", served.base))
            .await
            .is_ok()
        {
            return served;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("chsim did not start");
}

async fn save(served: &Served, url_path: &str, file: &str) -> String {
    let xml = reqwest::get(format!("{}{url_path}", served.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let path = served.dir.path().join(file);
    std::fs::write(&path, xml).unwrap();
    path.to_str().unwrap().to_string()
}

/// The pysaml2 SP logs in through chsim (Karen at the Korsbæk test IdP) in `browser`, which stops
/// at the SP; pysaml2 consumes chsim's Response. Returns the path of chsim's IdP metadata and
/// what pysaml2 read (NameID, SessionIndex, attributes, …).
async fn pysaml2_sp_logs_in(served: &Served, browser: &mut Browser) -> (String, Value) {
    let idp_md = save(served, "/runtime/saml2/metadata.idp", "chsim-idp.xml").await;
    let start = peer(&[
        "sp-login-url",
        "--base",
        &served.base,
        "--idp-metadata",
        &idp_md,
    ]);
    let url = format!(
        "{}&idp={}/test-idp/korsbaek",
        start["url"].as_str().unwrap(),
        served.base
    );
    browser.stop_at = Some(format!("{}/pysaml2-sp/", served.base));
    let idp_page = browser.get(&url).await;
    assert!(
        idp_page.url.contains("/test-idp/korsbaek/sso"),
        "{} {}",
        idp_page.url,
        idp_page.body
    );
    let done: Outcome = common::pick_user(browser, &idp_page, "karen").await;
    let token = done
        .posted_to("/pysaml2-sp/acs", "SAMLResponse")
        .expect("chsim posts to the pysaml2 SP");
    assert_eq!(token.relay_state.as_deref(), Some("pysaml2-relay"));
    let response_file = served.dir.path().join("response.b64");
    use base64::Engine as _;
    std::fs::write(
        &response_file,
        base64::engine::general_purpose::STANDARD.encode(&token.xml),
    )
    .unwrap();
    let got = peer(&[
        "sp-consume",
        "--base",
        &served.base,
        "--idp-metadata",
        &idp_md,
        "--request-id",
        start["request_id"].as_str().unwrap(),
        "--saml-response-file",
        response_file.to_str().unwrap(),
    ]);
    (idp_md, got)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pysaml2_service_provider_logs_in_through_chsim_and_accepts_the_assertion() {
    let served = serve().await;
    let (_, got) = pysaml2_sp_logs_in(&served, &mut Browser::new()).await;
    assert_eq!(got["issuer"], format!("{}/runtime", served.base));
    assert_eq!(
        got["name_id"],
        "C=DK,O=11111111,CN=Karen Sagsbehandler,Serial=4b7b2e0a-6f1c-4b8e-9d0a-11111111a001"
    );
    assert_eq!(
        got["audience"],
        serde_json::json!([format!("{}/pysaml2-sp", served.base)])
    );
    let attrs = &got["attributes"];
    assert_eq!(
        attrs["https://data.gov.dk/model/core/eid/professional/cvr"],
        serde_json::json!(["11111111"])
    );
    assert_eq!(
        attrs["https://data.gov.dk/model/core/eid/email"],
        serde_json::json!(["karen@korsbaek.dk"])
    );
    assert_eq!(
        attrs["https://data.gov.dk/model/core/specVersion"],
        serde_json::json!(["OIO-SAML-3.0"])
    );
    assert_eq!(
        attrs["dk:gov:saml:attribute:KombitSpecVer"],
        serde_json::json!(["2.0"])
    );
    assert_eq!(
        attrs["https://data.gov.dk/concept/core/nsis/loa"],
        serde_json::json!(["Substantial"])
    );
}

/// The string at `key` of peer.py's JSON.
fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("no {key} in {v}"))
}

/// The page a browser with cookies gets at `path`.
async fn page_at(served: &Served, browser: &Browser, path: &str) -> String {
    let out = browser.get(&format!("{}{path}", served.base)).await;
    assert_eq!(out.status, 200, "{}", out.body);
    out.body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pysaml2_service_provider_logs_out_through_chsim_and_accepts_chsims_logout_response() {
    let served = serve().await;
    let mut browser = Browser::with_cookies();
    let (idp_md, got) = pysaml2_sp_logs_in(&served, &mut browser).await;
    // pysaml2 logs out with what chsim issued it: a signed HTTP-Redirect LogoutRequest to
    // chsim's SingleLogoutService Location from chsim's metadata.
    let logout = peer(&[
        "sp-logout-url",
        "--base",
        &served.base,
        "--idp-metadata",
        &idp_md,
        "--name-id",
        text(&got, "name_id"),
        "--session-index",
        text(&got, "session_index"),
    ]);
    assert_eq!(
        text(&logout, "destination"),
        format!("{}/runtime/saml2/issue.idp", served.base)
    );
    // chsim logs Karen out of the Korsbæk test IdP (the only other party of the session) and
    // answers pysaml2 at its SingleLogoutService; the browser stops there.
    let answered = browser.get(text(&logout, "url")).await;
    assert!(
        answered
            .url
            .starts_with(&format!("{}/pysaml2-sp/slo?SAMLResponse=", served.base)),
        "{} {}",
        answered.url,
        answered.body
    );
    let result = peer(&[
        "sp-logout-consume",
        "--base",
        &served.base,
        "--idp-metadata",
        &idp_md,
        "--request-id",
        text(&logout, "request_id"),
        "--url",
        &answered.url,
    ]);
    assert_eq!(
        result["status"], "urn:oasis:names:tc:SAML:2.0:status:Success",
        "{result}"
    );
    assert_eq!(result["sub_status"], Value::Null, "{result}");
    assert_eq!(result["relay_state"], "pysaml2-logout");
    // The test IdP's session and chsim's ended with it.
    browser.stop_at = None;
    let idp_page = page_at(&served, &browser, "/test-idp/korsbaek/").await;
    assert!(
        idp_page.contains("You were logged out by single logout"),
        "{idp_page}"
    );
    let session = browser
        .client
        .get(format!("{}/runtime/session", served.base))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let session: Value = serde_json::from_str(&session).unwrap();
    assert_eq!(session["session"], Value::Null, "{session}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pysaml2_service_provider_answers_chsims_logout_request_when_the_logout_starts_elsewhere() {
    let served = serve().await;
    let mut browser = Browser::with_cookies();
    let (idp_md, got) = pysaml2_sp_logs_in(&served, &mut browser).await;
    // Karen reaches the OIOSAML3 demo user system through chsim's session, then logs out there.
    let demo = browser
        .get(&format!("{}/demo-sp/oiosaml3/login", served.base))
        .await;
    assert!(demo.body.contains("Logged in."), "{}", demo.body);
    let at_pysaml2 = browser
        .post(&format!("{}/demo-sp/oiosaml3/logout", served.base), &[])
        .await;
    assert!(
        at_pysaml2
            .url
            .starts_with(&format!("{}/pysaml2-sp/slo?SAMLRequest=", served.base)),
        "{} {}",
        at_pysaml2.url,
        at_pysaml2.body
    );
    // pysaml2 verifies chsim's LogoutRequest (query signature with the certificate from chsim's
    // metadata, Destination, IssueInstant) and answers Success, signed, to chsim's
    // ResponseLocation with chsim's RelayState.
    let answer = peer(&[
        "sp-logout-respond",
        "--base",
        &served.base,
        "--idp-metadata",
        &idp_md,
        "--url",
        &at_pysaml2.url,
    ]);
    assert_eq!(text(&answer, "name_id"), text(&got, "name_id"));
    assert_eq!(
        answer["session_indexes"],
        serde_json::json!([text(&got, "session_index")])
    );
    assert_eq!(
        text(&answer, "destination"),
        format!("{}/runtime/saml2/signoff.idp", served.base)
    );
    // The browser carries the answer back; chsim goes on to the IdP and then answers the demo
    // user system, which shows the result.
    browser.stop_at = None;
    let done = browser.get(text(&answer, "url")).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(
        done.url.starts_with(&format!(
            "{}/demo-sp/oiosaml3/slo?SAMLResponse=",
            served.base
        )),
        "{}",
        done.url
    );
    assert!(done.body.contains("Logged out."), "{}", done.body);
    assert!(!done.body.contains("Partial logout"), "{}", done.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chsim_accepts_signed_responses_from_a_pysaml2_identity_provider() {
    let served = serve().await;
    let sp_md = save(&served, "/runtime/saml2auth/metadata.idp", "chsim-sp.xml").await;
    let mut browser = Browser::new();
    browser.stop_at = Some(format!("{}/pysaml2-idp/", served.base));
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("idp", &format!("{}/pysaml2-idp", served.base));
    let at_idp = browser
        .get(&format!(
            "{}/demo-sp/oiosaml3/login?{}",
            served.base,
            q.finish()
        ))
        .await;
    assert!(
        at_idp
            .url
            .starts_with(&format!("{}/pysaml2-idp/sso?SAMLRequest=", served.base)),
        "{}",
        at_idp.url
    );
    let answer = peer(&[
        "idp-respond",
        "--base",
        &served.base,
        "--sp-metadata",
        &sp_md,
        "--authn-url",
        &at_idp.url,
    ]);
    assert_eq!(
        answer["destination"],
        format!("{}/runtime/saml2auth/consume.idp", served.base)
    );
    let mut form = vec![(
        "SAMLResponse".to_string(),
        answer["saml_response"].as_str().unwrap().to_string(),
    )];
    if let Some(rs) = answer["relay_state"].as_str() {
        form.push(("RelayState".into(), rs.into()));
    }
    let page = Browser::new()
        .post(answer["destination"].as_str().unwrap(), &form)
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Logged in."), "{}", page.body);
    assert!(
        page.body
            .contains("C=DK,O=33333333,CN=Pia Pysaml,Serial=py-0001"),
        "{}",
        page.body
    );
    assert!(page.body.contains("pia@pysaml.dk"), "{}", page.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xmlsec1_verifies_an_assertion_chsim_issued() {
    let served = serve().await;
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("idp", &format!("{}/test-idp/bakkeby", served.base));
    let browser = Browser::new();
    let idp_page = browser
        .get(&format!(
            "{}/demo-sp/oiosaml2/login?{}",
            served.base,
            q.finish()
        ))
        .await;
    let done = common::pick_user(&browser, &idp_page, "bent").await;
    let token = done
        .posted_to("/demo-sp/oiosaml2/acs", "SAMLResponse")
        .unwrap();
    // chsim's signing certificate, from its published IdP metadata.
    let md = reqwest::get(format!("{}/runtime/saml2/metadata.idp", served.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let cert_b64 = regex::Regex::new(r"<ds:X509Certificate>([^<]+)</ds:X509Certificate>")
        .unwrap()
        .captures(&md)
        .unwrap()[1]
        .to_string();
    let pem = format!("-----BEGIN CERTIFICATE-----\n{cert_b64}\n-----END CERTIFICATE-----\n");
    let cert = served.dir.path().join("chsim.pem");
    std::fs::write(&cert, pem).unwrap();
    let verify = |xml: &str, name: &str| {
        let file = served.dir.path().join(name);
        std::fs::write(&file, xml).unwrap();
        Command::new("xmlsec1")
            .args(["--verify", "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion", "--pubkey-cert-pem"])
            .arg(&cert)
            .arg(&file)
            .output()
            .expect("xmlsec1 is not installed: run `make test` (it installs the Debian package xmlsec1)")
    };
    let ok = verify(&token.xml, "token.xml");
    let text =
        String::from_utf8_lossy(&ok.stderr).to_string() + &String::from_utf8_lossy(&ok.stdout);
    assert!(ok.status.success() && text.contains("OK"), "{text}");
    let tampered = verify(&token.xml.replace("22222222", "22222223"), "tampered.xml");
    assert!(
        !tampered.status.success(),
        "xmlsec1 accepted a tampered assertion"
    );
}
