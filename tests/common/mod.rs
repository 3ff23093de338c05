//! Shared end-to-end harness: chsim served on a loopback port (real HTTP, real router, real keys),
//! and a minimal browser that follows redirects and auto-submitting SAML forms, recording every
//! SAML message it carries so tests can check them independently. Also the demo keys, a user
//! system's AuthnRequest to forge, ([`idp`]) a test IdP's answer to forge and ([`on_disk`]) a
//! demo configuration on disk with the chsim binary run on it, ([`attribute_service`]) a local
//! attribute service that answers as a test says, and ([`redis`]) a redis-server of the test's own.
#![allow(dead_code, clippy::unwrap_used)]

use chsim::clock::{Clock, FixedClock, SystemClock};
use chsim::config::{self, Config, ConfigSource};
use regex::Regex;
use std::net::SocketAddr;
use std::sync::Arc;

pub mod attribute_service;
pub mod idp;
pub mod oidc;
pub mod on_disk;
pub mod python;
pub mod redis;

/// A running chsim.
pub struct Chsim {
    pub base: String,
    pub state: chsim::app::AppState,
    pub config: Config,
}

/// The embedded demo configuration.
pub fn demo_config() -> Config {
    config::load(ConfigSource::Embedded).expect("embedded demo config is valid")
}

/// Serves `config` on 127.0.0.1 with the system clock.
pub async fn start(config: Config) -> Chsim {
    start_with_clock(config, Arc::new(SystemClock)).await
}

/// Serves `config` on 127.0.0.1 with `clock`.
pub async fn start_with_clock(mut config: Config, clock: Arc<dyn Clock>) -> Chsim {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let base = format!("http://127.0.0.1:{}", addr.port());
    config.chsim.server.public_url = base.clone();
    config.chsim.broker.entity_id = None;
    let state = chsim::app::build(&config, clock)
        .await
        .expect("state builds");
    let app = chsim::http::app(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Chsim {
        base,
        state,
        config,
    }
}

/// The demo key pair `keys/<name>.key.pem` + `keys/<name>.cert.pem` (e.g. `broker`,
/// `demo-sp-oiosaml2`, `test-idp-bakkeby`).
pub fn key(name: &str) -> chsim::saml::Credential {
    let keys = format!("{}/keys/{name}", env!("CARGO_MANIFEST_DIR"));
    chsim::saml::Credential::from_pem(
        &std::fs::read(format!("{keys}.key.pem")).unwrap(),
        &std::fs::read(format!("{keys}.cert.pem")).unwrap(),
    )
    .unwrap()
}

/// A fresh, unsigned AuthnRequest from the user system `issuer` (ACS `<issuer>/acs`) to chsim's
/// `issue.idp`, issued at `issued`; tests sign, break or resend it.
pub fn authn_request_from(
    chsim: &Chsim,
    issuer: &str,
    issued: chrono::DateTime<chrono::Utc>,
) -> chsim::saml::authn_request::NewAuthnRequest {
    chsim::saml::authn_request::NewAuthnRequest {
        id: chsim::ids::new_saml_id(),
        issue_instant: issued,
        destination: format!("{}/runtime/saml2/issue.idp", chsim.base),
        issuer: issuer.to_string(),
        acs_url: Some(format!("{issuer}/acs")),
        force_authn: false,
        is_passive: false,
        name_id_format: None,
        requested_authn_context: None,
        requester_ids: vec![],
    }
}

/// A fixed clock at a realistic instant.
pub fn fixed_clock() -> Arc<FixedClock> {
    Arc::new(FixedClock::new(
        chrono::DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc),
    ))
}

/// One SAML message the browser carried in a form.
#[derive(Debug, Clone)]
pub struct Carried {
    pub action: String,
    pub field: String,
    pub xml: String,
    pub relay_state: Option<String>,
}

/// The final page and everything carried on the way.
#[derive(Debug)]
pub struct Outcome {
    pub status: u16,
    pub url: String,
    pub body: String,
    pub carried: Vec<Carried>,
}

impl Outcome {
    /// The last message posted with `field` to a URL containing `path`.
    pub fn posted_to(&self, path: &str, field: &str) -> Option<&Carried> {
        self.carried
            .iter()
            .rev()
            .find(|c| c.action.contains(path) && c.field == field)
    }
}

pub struct Browser {
    pub client: reqwest::Client,
    /// Stop (without requesting) at redirects and form posts to URLs starting with this — a party
    /// that does not listen, played by a script.
    pub stop_at: Option<String>,
}

impl Browser {
    pub fn new() -> Self {
        Self {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            stop_at: None,
        }
    }

    /// A browser that keeps cookies (chsim's SSO session, the parties' own sessions).
    pub fn with_cookies() -> Self {
        Self {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .cookie_store(true)
                .build()
                .unwrap(),
            stop_at: None,
        }
    }

    fn stops_at(&self, url: &str) -> bool {
        self.stop_at.as_deref().is_some_and(|p| url.starts_with(p))
    }

    /// GETs `url` and follows redirects and auto-post forms until a page that needs a person.
    pub async fn get(&self, url: &str) -> Outcome {
        let resp = self.client.get(url).send().await.unwrap();
        self.follow(resp, Vec::new()).await
    }

    /// POSTs a form and follows.
    pub async fn post(&self, url: &str, form: &[(String, String)]) -> Outcome {
        let resp = self.client.post(url).form(form).send().await.unwrap();
        self.follow(resp, Vec::new()).await
    }

    pub async fn follow(&self, mut resp: reqwest::Response, mut carried: Vec<Carried>) -> Outcome {
        for _ in 0..20 {
            let url = resp.url().to_string();
            let status = resp.status().as_u16();
            if (300..400).contains(&status) {
                let location = resp.headers()["location"].to_str().unwrap().to_string();
                let next = resp.url().join(&location).unwrap();
                if self.stops_at(next.as_str()) {
                    return Outcome {
                        status,
                        url: next.to_string(),
                        body: String::new(),
                        carried,
                    };
                }
                resp = self.client.get(next).send().await.unwrap();
                continue;
            }
            let body = resp.text().await.unwrap();
            if let Some((action, fields)) = auto_post_form(&body) {
                let action = reqwest::Url::parse(&url).unwrap().join(&action).unwrap();
                record(&mut carried, action.as_str(), &fields);
                if self.stops_at(action.as_str()) {
                    return Outcome {
                        status,
                        url: action.to_string(),
                        body,
                        carried,
                    };
                }
                resp = self.client.post(action).form(&fields).send().await.unwrap();
                continue;
            }
            return Outcome {
                status,
                url,
                body,
                carried,
            };
        }
        panic!("too many hops");
    }
}

fn record(carried: &mut Vec<Carried>, action: &str, fields: &[(String, String)]) {
    use base64::Engine as _;
    let relay_state = fields
        .iter()
        .find(|(k, _)| k == "RelayState")
        .map(|(_, v)| v.clone());
    for (k, v) in fields {
        if k == "SAMLResponse" || k == "SAMLRequest" {
            let xml =
                String::from_utf8(base64::engine::general_purpose::STANDARD.decode(v).unwrap())
                    .unwrap();
            carried.push(Carried {
                action: action.to_string(),
                field: k.clone(),
                xml,
                relay_state: relay_state.clone(),
            });
        }
    }
}

/// The auto-submitting form of a page (id="saml-post"), if any.
pub fn auto_post_form(body: &str) -> Option<(String, Vec<(String, String)>)> {
    if !body.contains(r#"id="saml-post""#) {
        return None;
    }
    forms(body).into_iter().next()
}

/// Every form on a page: (action, hidden fields).
pub fn forms(body: &str) -> Vec<(String, Vec<(String, String)>)> {
    let form_re =
        Regex::new(r#"(?s)<form method="post" action="([^"]*)"[^>]*>(.*?)</form>"#).unwrap();
    let input_re = Regex::new(r#"<input type="hidden" name="([^"]*)" value="([^"]*)">"#).unwrap();
    form_re
        .captures_iter(body)
        .map(|c| {
            let fields = input_re
                .captures_iter(&c[2])
                .map(|i| (unescape(&i[1]), unescape(&i[2])))
                .collect();
            (unescape(&c[1]), fields)
        })
        .collect()
}

pub fn unescape(s: &str) -> String {
    html_escape::decode_html_entities(s).to_string()
}

/// `text` as it appears on an HTML page.
pub fn on_page(text: &str) -> String {
    html_escape::encode_text(text).to_string()
}

/// The page has HTTP status `status` and shows `text`.
pub fn assert_page(out: &Outcome, status: u16, text: &str) {
    assert_eq!(out.status, status, "{}", out.body);
    assert!(
        out.body.contains(&on_page(text)),
        "expected {text:?} on the page:\n{}",
        out.body
    );
}

/// On a test IdP's page, the form that logs in as `user`.
pub fn user_form(body: &str, user: &str) -> (String, Vec<(String, String)>) {
    forms(body)
        .into_iter()
        .find(|(_, f)| f.iter().any(|(k, v)| k == "user" && v == user))
        .unwrap_or_else(|| panic!("no login form for {user} on page:\n{body}"))
}

/// Logs in at the test IdP page `idp_page` as `user` and follows to the end.
pub async fn pick_user(browser: &Browser, idp_page: &Outcome, user: &str) -> Outcome {
    let (action, fields) = user_form(&idp_page.body, user);
    let url = reqwest::Url::parse(&idp_page.url)
        .unwrap()
        .join(&action)
        .unwrap();
    let resp = browser.client.post(url).form(&fields).send().await.unwrap();
    browser.follow(resp, idp_page.carried.clone()).await
}

/// Logs in to the demo SP `sp` (`oiosaml3` or `oiosaml2`) at test IdP `idp` as `user`, with
/// `?idp=` so no chooser is shown, and follows to the end.
pub async fn login_as(
    chsim: &Chsim,
    browser: &Browser,
    sp: &str,
    idp: &str,
    user: &str,
) -> Outcome {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("idp", &format!("{}/test-idp/{idp}", chsim.base));
    let idp_page = browser
        .get(&format!("{}/demo-sp/{sp}/login?{}", chsim.base, q.finish()))
        .await;
    assert!(
        idp_page.url.contains(&format!("/test-idp/{idp}/sso")),
        "{}",
        idp_page.url
    );
    pick_user(browser, &idp_page, user).await
}

/// The assertion chsim issued to demo SP `sp` in `outcome`: decrypted with the SP's key when
/// encrypted, and verified here with the certificate from chsim's published metadata.
pub async fn issued_assertion(chsim: &Chsim, outcome: &Outcome, sp: &str) -> String {
    use chsim::saml::{signing, xml};
    let token = outcome
        .posted_to(&format!("/demo-sp/{sp}/acs"), "SAMLResponse")
        .unwrap_or_else(|| panic!("no token reached {sp}: {}", outcome.body));
    let doc = xml::parse(&token.xml).unwrap();
    let plain = match doc.descendants().find(|n| {
        xml::is(
            n,
            "urn:oasis:names:tc:SAML:2.0:assertion",
            "EncryptedAssertion",
        )
    }) {
        Some(enc) => {
            let enc_xml = xml::standalone_subtree(&enc, &token.xml).unwrap();
            let sp_key = key(&format!("demo-sp-{sp}"));
            chsim::saml::encryption::decrypt_assertion(&enc_xml, sp_key.key()).unwrap()
        }
        None => token.xml.clone(),
    };
    let certs = chsim_signing_certs(chsim).await;
    signing::verify_and_reduce(&plain, &certs, Default::default()).unwrap()
}

/// chsim's signing certificates, from its published IdP metadata.
pub async fn chsim_signing_certs(chsim: &Chsim) -> Vec<chsim::saml::TrustedCert> {
    let md_xml = reqwest::get(format!("{}/runtime/saml2/metadata.idp", chsim.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    chsim::saml::metadata::parse(&md_xml)
        .unwrap()
        .idp
        .unwrap()
        .signing_certs
        .iter()
        .map(|der| chsim::saml::TrustedCert::from_der(der).unwrap())
        .collect()
}

/// The values of the attribute `name` in an assertion.
pub fn attribute_values(assertion_xml: &str, name: &str) -> Option<Vec<String>> {
    use chsim::saml::xml;
    let doc = xml::parse(assertion_xml).unwrap();
    let ns = "urn:oasis:names:tc:SAML:2.0:assertion";
    doc.descendants()
        .find(|n| xml::is(n, ns, "Attribute") && n.attribute("Name") == Some(name))
        .map(|a| {
            a.children()
                .filter(|v| xml::is(v, ns, "AttributeValue"))
                .map(|v| xml::text_of(&v))
                .collect()
        })
}

/// chsim's login report page for the SessionIndex the demo SP page links to.
pub async fn login_report(chsim: &Chsim, demo_sp_page: &str) -> String {
    let session_index = Regex::new(r#"href="/runtime/logins/([^"]+)""#)
        .unwrap()
        .captures(demo_sp_page)
        .expect("the demo SP links to chsim's report")[1]
        .to_string();
    reqwest::get(format!("{}/runtime/logins/{session_index}", chsim.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The SAML request carried in the HTTP-Redirect URL `url` (a page reached by that redirect).
pub fn redirect_request(url: &str) -> chsim::saml::binding::RedirectMessage {
    let query = reqwest::Url::parse(url)
        .unwrap()
        .query()
        .unwrap()
        .to_string();
    chsim::saml::binding::decode_redirect(
        &query,
        chsim::saml::binding::MessageKind::Request,
        1_000_000,
    )
    .unwrap()
}

/// A loopback listener that records whether anyone connected.
pub struct Listener(std::net::TcpListener);

impl Listener {
    pub fn new() -> Self {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        Listener(l)
    }
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.0.local_addr().unwrap().port())
    }
    pub fn assert_never_contacted(&self) {
        std::thread::sleep(std::time::Duration::from_millis(100));
        match self.0.accept() {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            other => panic!("chsim connected to the listener: {other:?}"),
        }
    }
}
