//! Scripted logins for RPA teams and CI (issue #3 §5): one complete login driven headlessly
//! through the real HTTP flow of a running chsim — a built-in demo user system's signed
//! AuthnRequest, chsim's chooser, a built-in test IdP's login form (again after a step-up), the
//! IdP's answer and chsim's token, which the demo user system verifies and reports as JSON — and
//! the outcome: admitted (subject, level, privileges) or refused (with chsim's reason and the
//! SAML status the user system got). With `user_system = "demo-oidc"` the same through the demo
//! OIDC user system (issue #11 §4): its authorization request, chsim, the test IdP, its callback
//! (which reports as JSON too), and on refusal the OAuth error it got.
//!
//! It is a client like a browser: it knows chsim only through its pages and messages. The CLI
//! (`chsim login`) and the HTTP endpoint (`/runtime/scripted/login`) both use it.

mod pages;

use pages::{auto_post_form, cancel_form, chooser_links, error_page, user_form};
use serde::Serialize;

/// What to log in as.
#[derive(Debug, Clone, Default)]
pub struct ScriptedLogin {
    /// chsim's base URL, e.g. `http://localhost:8080`.
    pub base_url: String,
    /// The user system's entityID; it must be one of chsim's demo user systems
    /// (`<base>/demo-sp/<id>`), whose key signs the AuthnRequest — or `demo-oidc`, the client_id
    /// of the demo OIDC user system.
    pub user_system: String,
    /// The municipality's CVR, used to pick its IdP in the chooser.
    pub municipality: Option<String>,
    /// The IdP's entityID (skips the chooser).
    pub idp: Option<String>,
    /// The test user's login name at the test IdP.
    pub user: String,
    /// An AuthnContextClassRef the user system asks for (raises its requirement); for the OIDC
    /// system its `acr_values`.
    pub level: Option<String>,
    /// The user system asks with ForceAuthn (`prompt=login` for the OIDC system).
    pub force_authn: bool,
}

/// Why chsim refused the login.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Refusal {
    /// The HTTP status of chsim's page.
    pub http_status: u16,
    /// What failed, as chsim's page says.
    pub message: String,
    /// What to do about it, as chsim's page says.
    pub advice: String,
    /// The top-level SAML status the user system received, when it received one.
    pub saml_status: Option<String>,
    /// The second-level SAML status.
    pub saml_sub_status: Option<String>,
    /// The OAuth error (RFC 6749 §4.1.2.1) the OIDC user system received, when it received one.
    pub oauth_error: Option<String>,
}

/// The outcome of a scripted login.
#[derive(Debug, Clone, Serialize)]
pub struct ScriptedOutcome {
    /// True only when the user system accepted a token.
    pub admitted: bool,
    /// The user system.
    pub user_system: String,
    /// The test user.
    pub user: String,
    /// How often chsim sent the person back to an IdP for a higher level (the same IdP, or
    /// NemLog-in).
    pub step_ups: u32,
    /// The test IdPs whose login page the person saw, in order (their ids).
    pub idps: Vec<String>,
    /// What the user system received (its JSON report), when admitted.
    pub token: Option<serde_json::Value>,
    /// Why not, when refused.
    pub refusal: Option<Refusal>,
    /// The URLs visited, in order (paths only).
    pub trace: Vec<String>,
}

/// The scripted login could not be carried out (nothing was decided about the person).
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    /// The user system is not a built-in demo user system.
    #[error("`{0}` is not one of chsim's demo user systems (<base>/demo-sp/<id>, or demo-oidc); a scripted login needs one, since it logs in through the demo user system itself")]
    NotDemoUserSystem(String),
    /// Neither a municipality nor an IdP was named.
    #[error("name the municipality (--municipality <cvr>) or the IdP (--idp <entityID>)")]
    NoMunicipality,
    /// An HTTP request failed.
    #[error("{url}: {reason}; is chsim running at the base URL?")]
    Http {
        /// The URL.
        url: String,
        /// What failed.
        reason: String,
    },
    /// Too many scripted logins are running.
    #[error("{limit} scripted logins are already running; try again in a moment")]
    Busy {
        /// The bound.
        limit: usize,
    },
    /// A redirect pointed away from chsim.
    #[error("the login was redirected to {url}, outside chsim; scripted logins only follow chsim's own pages")]
    LeftChsim {
        /// Where it pointed.
        url: String,
    },
    /// The test user is not on the IdP's login page.
    #[error("the IdP's login page at {url} offers no test user `{user}`; it must be one of chsim's test IdPs (test_idps.toml) and list that user")]
    NoSuchUser {
        /// The page.
        url: String,
        /// The user asked for.
        user: String,
    },
    /// A page the driver does not know how to continue from.
    #[error("the login stopped at {url} (HTTP {status}), a page that is neither chsim's nor a test IdP's nor a demo user system's")]
    UnexpectedPage {
        /// The page.
        url: String,
        /// Its status.
        status: u16,
    },
    /// chsim sent the login to another municipality's IdP than the one named.
    #[error("chsim sent the login to the IdP at {url}, which serves CVR {found}, not {wanted} (it picked the IdP itself); name the IdP with --idp")]
    WrongMunicipality {
        /// The IdP's page.
        url: String,
        /// The CVR asked for.
        wanted: String,
        /// The IdP's CVR.
        found: String,
    },
    /// Too many hops (a loop).
    #[error("the login did not finish within {0} steps")]
    TooManySteps(usize),
}

const MAX_STEPS: usize = 40;
/// Larger than any page chsim, its test IdPs or its demo user systems serve.
const MAX_PAGE_BYTES: usize = 2 * 1024 * 1024;
/// Scripted logins served at once over HTTP (`/runtime/scripted/login`); each drives a whole
/// login through chsim, so a flood of them must not multiply without bound.
pub const MAX_CONCURRENT: usize = 4;

/// [`run`] for the HTTP endpoint: at most [`MAX_CONCURRENT`] at once; more are refused at once
/// with [`ScriptError::Busy`] rather than queued.
pub async fn run_bounded(login: &ScriptedLogin) -> Result<ScriptedOutcome, ScriptError> {
    static SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(MAX_CONCURRENT);
    let _slot = SLOTS.try_acquire().map_err(|_| ScriptError::Busy {
        limit: MAX_CONCURRENT,
    })?;
    run(login).await
}

/// Runs one scripted login.
pub async fn run(login: &ScriptedLogin) -> Result<ScriptedOutcome, ScriptError> {
    let base = login.base_url.trim_end_matches('/');
    let oidc = login.user_system == crate::demo_oidc::CLIENT_ID;
    // Where the login starts (the demo user system's login address) and where the demo user
    // system reports what it received (its ACS, or its OIDC callback).
    let (start_path, finish) = if oidc {
        (
            format!("{}/login", crate::demo_oidc::PATH),
            format!("{}/callback", crate::demo_oidc::PATH),
        )
    } else {
        let sp_id = login
            .user_system
            .strip_prefix(&format!("{base}/demo-sp/"))
            .map(|s| s.trim_end_matches('/'))
            .filter(|s| !s.is_empty() && !s.contains('/'))
            .ok_or_else(|| ScriptError::NotDemoUserSystem(login.user_system.clone()))?;
        (
            format!("/demo-sp/{sp_id}/login"),
            format!("/demo-sp/{sp_id}/acs"),
        )
    };
    if login.municipality.is_none() && login.idp.is_none() {
        return Err(ScriptError::NoMunicipality);
    }
    // The OIDC system binds its login to the browser by a cookie (its state); a fresh store for
    // each run, as a fresh browser.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(oidc)
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| http_error(base, &e))?;
    let mut start = url::Url::parse(&format!("{base}{start_path}"))
        .map_err(|e| ScriptError::NotDemoUserSystem(format!("{}: {e}", login.user_system)))?;
    {
        let mut q = start.query_pairs_mut();
        if let Some(idp) = &login.idp {
            q.append_pair("idp", idp);
        }
        if let Some(level) = &login.level {
            q.append_pair("level", level);
        }
        if login.force_authn {
            q.append_pair("force", "1");
        }
    }
    // No options: no bare `?` in the URL requested and named in errors.
    if start.query() == Some("") {
        start.set_query(None);
    }
    let mut outcome = ScriptedOutcome {
        admitted: false,
        user_system: login.user_system.clone(),
        user: login.user.clone(),
        step_ups: 0,
        idps: Vec::new(),
        token: None,
        refusal: None,
        trace: Vec::new(),
    };
    let mut idp_pages = 0u32;
    let mut request = client.get(start.clone());
    for _ in 0..MAX_STEPS {
        let resp = request.send().await.map_err(|e| http_error(base, &e))?;
        let url = resp.url().clone();
        outcome.trace.push(url.path().to_string());
        let status = resp.status().as_u16();
        if resp.status().is_redirection() {
            let location = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .and_then(|l| url.join(l).ok())
                .ok_or(ScriptError::UnexpectedPage {
                    url: url.to_string(),
                    status,
                })?;
            // The driver only ever talks to chsim (its test IdPs and demo user systems live
            // there); it never follows a redirect elsewhere.
            if location.origin() != start.origin() {
                return Err(ScriptError::LeftChsim {
                    url: location.to_string(),
                });
            }
            request = client.get(location.clone());
            if location.path() == finish {
                request = request.header(reqwest::header::ACCEPT, "application/json");
            }
            continue;
        }
        let is_json = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        // Bounded: a page larger than any of chsim's is not read (issue #8 §6).
        let body = crate::fetch::text_bounded(resp, MAX_PAGE_BYTES)
            .await
            .map_err(|e| ScriptError::Http {
                url: url.to_string(),
                reason: e.to_string(),
            })?;
        if is_json && url.path() == finish {
            let report: Option<serde_json::Value> = serde_json::from_str(&body).ok();
            // The OIDC system reports an error answer as `admitted: false` with chsim's error.
            if let Some(r) = report.as_ref().filter(|r| r["admitted"] == false) {
                outcome.refusal = Some(pages::oauth_refusal(r, status));
                return Ok(outcome);
            }
            outcome.token = report;
            outcome.admitted = outcome.token.is_some();
            return Ok(outcome);
        }
        if let Some((action, fields)) = auto_post_form(&body) {
            let target = url.join(&action).map_err(|_| ScriptError::UnexpectedPage {
                url: url.to_string(),
                status,
            })?;
            let mut next = client.post(target.clone()).form(&fields);
            if target.path() == finish {
                next = next.header(reqwest::header::ACCEPT, "application/json");
            }
            request = next;
            continue;
        }
        if let Some(refusal) = error_page(&body, status) {
            outcome.refusal = Some(refusal);
            return Ok(outcome);
        }
        if url.path().ends_with("/sso") && url.path().starts_with("/test-idp/") {
            idp_pages += 1;
            outcome.step_ups = idp_pages - 1;
            // chsim may pick the IdP itself (one usable IdP, an IP range): make sure it is the
            // named municipality's.
            if let (Some(wanted), Some(found), None) =
                (&login.municipality, pages::idp_cvr(&body), &login.idp)
            {
                if &found != wanted {
                    return Err(ScriptError::WrongMunicipality {
                        url: url.to_string(),
                        wanted: wanted.clone(),
                        found,
                    });
                }
            }
            if let Some(id) = url.path().split('/').nth(2) {
                if outcome.idps.last().map(String::as_str) != Some(id) {
                    outcome.idps.push(id.to_string());
                }
            }
            // A later IdP (NemLog-in after the municipality's IdP) may not know the user — a
            // robot has no MitID: cancel there, as the person would, and let chsim decide.
            let form = user_form(&body, &login.user)
                .or_else(|| (idp_pages > 1).then(|| cancel_form(&body)).flatten());
            let (action, fields) = form.ok_or_else(|| ScriptError::NoSuchUser {
                url: url.to_string(),
                user: login.user.clone(),
            })?;
            let target = url.join(&action).map_err(|_| ScriptError::UnexpectedPage {
                url: url.to_string(),
                status,
            })?;
            request = client.post(target).form(&fields);
            continue;
        }
        let links = chooser_links(&body);
        if !links.is_empty() {
            let Some((href, _)) = links
                .iter()
                .find(|(_, cvr)| Some(cvr) == login.municipality.as_ref())
            else {
                outcome.refusal = Some(Refusal {
                    http_status: status,
                    message: format!(
                        "chsim offers no identity provider of municipality {} for this login: the municipality has none configured, or none can reach the level the user system requires",
                        login.municipality.as_deref().unwrap_or("?")
                    ),
                    advice: "Check the municipality's IdPs and their levels in municipalities.toml against the user system's requirement.".into(),
                    saml_status: None,
                    saml_sub_status: None,
                    oauth_error: None,
                });
                return Ok(outcome);
            };
            let target = url.join(href).map_err(|_| ScriptError::UnexpectedPage {
                url: url.to_string(),
                status,
            })?;
            request = client.get(target);
            continue;
        }
        return Err(ScriptError::UnexpectedPage {
            url: url.to_string(),
            status,
        });
    }
    Err(ScriptError::TooManySteps(MAX_STEPS))
}

fn http_error(url: &str, e: &reqwest::Error) -> ScriptError {
    let mut reason = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        reason.push_str(": ");
        reason.push_str(&s.to_string());
        source = s.source();
    }
    ScriptError::Http {
        url: url.to_string(),
        reason,
    }
}

impl ScriptedOutcome {
    /// A short human-readable account (the CLI's output without `--json`).
    pub fn describe(&self) -> String {
        if let Some(token) = &self.token {
            let s = |v: &serde_json::Value| v.as_str().unwrap_or("").to_string();
            let level = &token["level"];
            let mut out = format!(
                "admitted to {}\n  subject: {}\n  level: {}{}\n  class ref: {}\n",
                self.user_system,
                // SAML's NameID, or OIDC's `sub` (the same value).
                s(if token["name_id"].is_null() {
                    &token["sub"]
                } else {
                    &token["name_id"]
                }),
                match (level["nsis"].as_str(), level["nist"].as_str()) {
                    (Some(n), Some(l)) => format!("NSIS {n}, NIST {l}"),
                    (Some(n), None) => format!("NSIS {n}"),
                    (None, Some(l)) => format!("NIST {l}"),
                    (None, None) => "none stated".into(),
                },
                match (self.idps.as_slice(), self.step_ups) {
                    ([_, second, ..], _) => format!(" (after continuing at {second})"),
                    (_, 0) => String::new(),
                    _ => " (after a step-up)".to_string(),
                },
                s(if token["authn_context_class_ref"].is_null() {
                    &token["acr"]
                } else {
                    &token["authn_context_class_ref"]
                }),
            );
            match token["privileges"].as_array() {
                Some(list) => {
                    out.push_str("  privileges:\n");
                    for p in list {
                        let constraints: Vec<String> = p["constraints"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(|c| {
                                let values: Vec<&str> = c["values"]
                                    .as_array()
                                    .into_iter()
                                    .flatten()
                                    .filter_map(|v| v.as_str())
                                    .collect();
                                format!("{} = {}", s(&c["name"]), values.join(", "))
                            })
                            .collect();
                        out.push_str(&format!(
                            "    {} {}{}\n",
                            s(&p["scope"]),
                            s(&p["privilege"]),
                            if constraints.is_empty() {
                                String::new()
                            } else {
                                format!(" [{}]", constraints.join("; "))
                            }
                        ));
                    }
                }
                None => out.push_str("  privileges: none (attribute omitted)\n"),
            }
            out
        } else if let Some(r) = &self.refusal {
            format!(
                "refused by chsim (HTTP {}{})\n  {}\n  {}\n",
                r.http_status,
                match (&r.saml_status, &r.saml_sub_status, &r.oauth_error) {
                    (Some(s), Some(sub), _) => format!("; the user system got {s} / {sub}"),
                    (Some(s), None, _) => format!("; the user system got {s}"),
                    (None, _, Some(e)) => format!("; the user system got the OAuth error {e}"),
                    _ => String::new(),
                },
                r.message,
                r.advice
            )
        } else {
            "no outcome".to_string()
        }
    }
}
