//! Routes of the built-in parties: `/test-idp/<id>/…` and `/demo-sp/<id>/…`. They only call their
//! own party's methods; everything between them and chsim travels through the browser. Their
//! sessions' pages and single logout are in `party_logout.rs`.

use super::error::AppError;
use super::form::PostedForm;
use super::pages;
use super::party_logout::{demo_sp_session_box, party_cookie};
use crate::app::AppState;
use crate::demo_sp::Outgoing;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;

use std::collections::HashMap;
use std::sync::Arc;

use super::builtin::{demo_sp, test_idp};

fn metadata(xml: String) -> Response {
    (
        [(header::CONTENT_TYPE, "application/samlmetadata+xml")],
        xml,
    )
        .into_response()
}

/// `GET /test-idp/<id>/metadata`.
pub async fn test_idp_metadata(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let idp = test_idp(&s, &id)?;
    let xml = idp
        .metadata_xml()
        .map_err(|e| AppError::TestIdp(crate::test_idp::TestIdpError::Build(e)))?;
    Ok(metadata(xml))
}

/// `GET /test-idp/<id>/sso` — chsim's AuthnRequest arrives; the person picks a test user.
pub async fn test_idp_sso(
    State(s): State<AppState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let idp = test_idp(&s, &id)?;
    let (handle, pending) = idp.begin(raw.as_deref().unwrap_or(""))?;
    let browser = jar.get(IDP_COOKIE).map(|c| c.value().to_string());
    let session = idp.session(browser.as_deref());
    if pending.is_passive {
        // Answered from the IdP's own session, without showing anything; NoPassive without one.
        return Ok(match session {
            Some(session) if !pending.force_authn => {
                let (post, browser) =
                    idp.login_in_session(&handle, &session.user_id, browser.as_deref())?;
                (idp_cookie(&id, browser), auto_post_to_chsim(post)).into_response()
            }
            _ => auto_post_to_chsim(idp.no_passive(&handle)?),
        });
    }
    let cfg = idp.config();
    // A municipal IdP says whose it is (a script checks it picked the right municipality);
    // NemLog-in serves every municipality.
    let cvr = if cfg.nemlogin {
        String::new()
    } else {
        format!(r#" data-cvr="{}""#, pages::esc_attr(cfg.cvr.as_str()))
    };
    let mut body = format!(
        "<p{cvr}>This is <strong>{}</strong>, a test identity provider built into chsim (entityID <code>{}</code>). chsim asks it to authenticate someone{}{}.</p><p>Choose a test user:</p>",
        pages::esc(&cfg.name),
        pages::esc(idp.entity_id()),
        if pending.force_authn { " anew (ForceAuthn: each user logs in with the strongest method they have, the levels after the arrow)" } else { "" },
        if pending.requested.is_empty() {
            String::new()
        } else {
            format!(" and requests <code>{}</code>", pages::esc(&pending.requested.join(" ")))
        },
    );
    // The IdP's own SSO session (issue #9 §2): the person need not pick again, unless chsim
    // forces a new authentication.
    if let Some(user) = session
        .filter(|_| !pending.force_authn)
        .and_then(|s| cfg.user.iter().find(|u| u.id == s.user_id).map(|u| (s, u)))
    {
        let (session, user) = user;
        body.push_str(&format!(
            r#"<div class="session"><p>You are logged in here as <strong>{name}</strong> since {since}.</p>
<form method="post" action="login"><input type="hidden" name="handle" value="{handle}"><input type="hidden" name="user" value="{id}">
<button type="submit">Continue as {name}</button></form>
<p><small><a href="./">Your session at this IdP</a> (log out there)</small></p></div><p>Or log in as someone else:</p>"#,
            name = pages::esc(&user.name),
            since = session.authn_instant.format("%H:%M:%S UTC"),
            handle = pages::esc_attr(&handle),
            id = pages::esc_attr(&user.id),
        ));
    }
    body.push_str("<table><tr><th>User</th><th>Job-function roles</th><th>NIST</th><th>NSIS</th><th></th></tr>");
    for u in &cfg.user {
        body.push_str(&format!(
            r#"<tr><td>{name}{robot}<br><small>{id}</small></td><td>{roles}</td><td>{nist}</td><td>{nsis}</td><td>
<form method="post" action="login"><input type="hidden" name="handle" value="{handle}"><input type="hidden" name="user" value="{id_attr}">
<button type="submit">Log in as {id}</button></form></td></tr>"#,
            name = pages::esc(&u.name),
            robot = if u.robot { " 🤖 robot" } else { "" },
            id = pages::esc(&u.id),
            id_attr = pages::esc_attr(&u.id),
            roles = pages::esc(&u.roles.join(", ")),
            nist = match u.forced_nist_level {
                Some(f) if f != u.nist_level => format!("{} → {f}", u.nist_level),
                _ => u.nist_level.to_string(),
            },
            nsis = pages::esc(&match (&u.nsis_level, &u.forced_nsis_level) {
                (b, Some(f)) if b.as_ref() != Some(f) => format!("{} → {f}", b.as_deref().unwrap_or("—")),
                (b, _) => b.clone().unwrap_or_else(|| "—".into()),
            }),
            handle = pages::esc_attr(&handle),
        ));
    }
    body.push_str(&format!(
        r#"</table><form method="post" action="login"><input type="hidden" name="handle" value="{}"><input type="hidden" name="cancel" value="1">
<button class="secondary" type="submit">Cancel (answer AuthnFailed)</button></form>"#,
        pages::esc_attr(&handle)
    ));
    Ok(Html(pages::page(&cfg.name, &body)).into_response())
}

/// `POST /test-idp/<id>/login` — answer chsim.
pub async fn test_idp_login(
    State(s): State<AppState>,
    Path(id): Path<String>,
    jar: CookieJar,
    PostedForm(form): PostedForm,
) -> Result<Response, AppError> {
    let idp = test_idp(&s, &id)?;
    let handle = form
        .get("handle")
        .ok_or_else(|| AppError::BadRequest("the form has no handle".into()))?;
    if form.contains_key("cancel") {
        return Ok(auto_post_to_chsim(idp.cancel(handle)?));
    }
    let user = form
        .get("user")
        .ok_or_else(|| AppError::BadRequest("the form has no user".into()))?;
    let browser = jar.get(IDP_COOKIE).map(|c| c.value().to_string());
    let (post, browser) = idp.login_in_session(handle, user, browser.as_deref())?;
    Ok((idp_cookie(&id, browser), auto_post_to_chsim(post)).into_response())
}

const IDP_COOKIE: &str = crate::test_idp::session::COOKIE;
const DEMO_SP_COOKIE: &str = crate::demo_sp::session::COOKIE;

/// The test IdP's own session cookie, scoped to its path (each test IdP is a separate party).
fn idp_cookie(id: &str, browser: String) -> CookieJar {
    CookieJar::new().add(party_cookie(
        IDP_COOKIE,
        format!("/test-idp/{id}/"),
        browser,
    ))
}

fn auto_post_to_chsim(post: crate::test_idp::PostForm) -> Response {
    Html(pages::auto_post(
        &post.action,
        "SAMLResponse",
        &post.saml_response,
        post.relay_state.as_deref(),
        "Returning you to chsim…",
    ))
    .into_response()
}

fn attribute_service(
    s: &AppState,
    id: &str,
) -> Result<Arc<crate::test_idp::TestAttributeService>, AppError> {
    s.test_attribute_services
        .get(id)
        .cloned()
        .ok_or_else(|| AppError::NotFound(format!("there is no test attribute service `{id}`")))
}

/// `GET /test-attribute-service/<id>/metadata`.
pub async fn attribute_service_metadata(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let service = attribute_service(&s, &id)?;
    let xml = service
        .metadata_xml()
        .map_err(|e| AppError::TestIdp(crate::test_idp::TestIdpError::Build(e)))?;
    Ok(metadata(xml))
}

/// `POST /test-attribute-service/<id>/soap` — SOAP 1.1 AttributeQuery.
pub async fn attribute_service_soap(
    State(s): State<AppState>,
    Path(id): Path<String>,
    body: String,
) -> Result<Response, AppError> {
    let service = attribute_service(&s, &id)?;
    let (fault, xml) = service.answer(&body);
    let status = if fault {
        axum::http::StatusCode::INTERNAL_SERVER_ERROR
    } else {
        axum::http::StatusCode::OK
    };
    Ok((
        status,
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        xml,
    )
        .into_response())
}

/// `GET /demo-sp/<id>/metadata`.
pub async fn demo_sp_metadata(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let sp = demo_sp(&s, &id)?;
    let xml = sp
        .metadata_xml()
        .map_err(|e| AppError::DemoSp(crate::demo_sp::DemoSpError::Request(e)))?;
    Ok(metadata(xml))
}

/// `GET /demo-sp/<id>/` — the demo user system's front page.
pub async fn demo_sp_page(
    State(s): State<AppState>,
    Path(id): Path<String>,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let sp = demo_sp(&s, &id)?;
    let cfg = sp.config();
    let mut body = format!(
        r#"<p>A demo user system (fagsystem) built into chsim. entityID <code>{eid}</code>, profile <strong>{profile}</strong>, AuthnRequests by HTTP-{binding}. Metadata: <a href="metadata">metadata</a>.</p>
{session}
<p><a class="button" href="login">Log in through chsim</a></p><p>Or skip chsim's IdP chooser:</p><ul>"#,
        session = demo_sp_session_box(&sp.session_view(jar.get(DEMO_SP_COOKIE).map(|c| c.value()))),
        eid = pages::esc(sp.entity_id()),
        profile = cfg.profile.as_str(),
        binding = match cfg.binding {
            crate::config::BindingChoice::Redirect => "Redirect",
            crate::config::BindingChoice::Post => "POST",
        },
    );
    for idp in &s.broker.trust().idps {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("idp", idp.entity_id.as_str());
        body.push_str(&format!(
            r#"<li><a href="login?{}">{}</a></li>"#,
            pages::esc_attr(&q.finish()),
            pages::esc(&idp.presentation_name)
        ));
    }
    body.push_str("</ul>");
    body.push_str(SESSION_FRAME);
    Ok(Html(pages::page(&cfg.name, &body)).into_response())
}

/// `GET /demo-sp/<id>/login[?idp=…]` — send a signed AuthnRequest to chsim.
pub async fn demo_sp_login(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let sp = demo_sp(&s, &id)?;
    let relay_state = format!("demo-{}", crate::ids::new_saml_id());
    // `?level=<class ref>`, `?force=1` and `?passive=1` let a person (or a test) make the demo user system
    // ask for more than its configured requirement, as a real one can.
    let options = crate::demo_sp::LoginOptions {
        requested_class_ref: params.get("level").filter(|l| !l.is_empty()).cloned(),
        force_authn: params.get("force").is_some_and(|f| f == "1"),
        is_passive: params.get("passive").is_some_and(|f| f == "1"),
    };
    match sp.start_login(params.get("idp").map(String::as_str), &relay_state, options)? {
        Outgoing::Redirect(url) => Ok(Redirect::to(url.as_str()).into_response()),
        Outgoing::Post {
            action,
            saml_request,
            relay_state,
        } => Ok(Html(pages::auto_post(
            &action,
            "SAMLRequest",
            &saml_request,
            Some(&relay_state),
            "Sending you to chsim…",
        ))
        .into_response()),
    }
}

/// `POST /demo-sp/<id>/acs` — show what chsim issued.
pub async fn demo_sp_acs(
    State(s): State<AppState>,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    PostedForm(form): PostedForm,
) -> Result<Response, AppError> {
    let sp = demo_sp(&s, &id)?;
    let saml_response = form
        .get("SAMLResponse")
        .ok_or_else(|| AppError::BadRequest("the form has no SAMLResponse field".into()))?;
    let (acs_sp, response, relay) = (
        sp.clone(),
        saml_response.clone(),
        form.get("RelayState").cloned(),
    );
    // Verifying and decrypting a stranger's message runs off the async workers (issue #8 §1).
    let login = crate::cpu::run(move || acs_sp.acs(&response, relay))
        .await
        .map_err(|e| AppError::BadRequest(e.to_string()))??;
    // The demo user system's own session (issue #9 §3), which single logout ends.
    let cookie = CookieJar::new().add(party_cookie(
        DEMO_SP_COOKIE,
        format!("/demo-sp/{id}/"),
        login.session.clone(),
    ));
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    if wants_json {
        return Ok((
            cookie,
            [(header::CONTENT_TYPE, "application/json")],
            login.to_json(sp.entity_id()).to_string(),
        )
            .into_response());
    }
    let a = &login.assertion;
    let mut body = format!(
        r#"<div class="ok"><p><strong>Logged in.</strong> {name} verified chsim's signature{enc} and accepted the assertion.</p></div>
<h2>Subject</h2>"#,
        name = pages::esc(&sp.config().name),
        enc = if a.was_encrypted {
            " after decrypting the assertion"
        } else {
            ""
        },
    );
    body.push_str(&pages::table(
        ("", ""),
        &[
            ("NameID".into(), a.name_id.clone()),
            ("Issuer".into(), a.issuer.clone()),
            (
                "AuthenticatingAuthority".into(),
                a.authenticating_authorities.join(", "),
            ),
            (
                "AuthnContextClassRef".into(),
                a.authn_context_class_ref.clone().unwrap_or_default(),
            ),
            (
                "SessionIndex".into(),
                a.session_index.clone().unwrap_or_default(),
            ),
            (
                "RelayState".into(),
                login.relay_state.clone().unwrap_or_default(),
            ),
        ],
    ));
    body.push_str("<h2>Attributes</h2>");
    let rows: Vec<(String, String)> = a
        .attributes
        .iter()
        .map(|at| {
            (
                format!(
                    "{}\n({})",
                    at.name,
                    at.name_format.as_deref().unwrap_or("no NameFormat")
                ),
                at.values.join("\n"),
            )
        })
        .collect();
    body.push_str(&pages::table(("Name (NameFormat)", "Value"), &rows));
    if !login.missing_attributes.is_empty() {
        body.push_str(&format!(
            r#"<div class="error">Missing attributes the {} profile requires: {}</div>"#,
            sp.config().profile.as_str(),
            pages::esc(&login.missing_attributes.join(", "))
        ));
    }
    body.push_str("<h2>Privileges (decoded)</h2>");
    match &login.privileges {
        Some(Ok(list)) => body.push_str(&pages::privilege_table(list)),
        Some(Err(e)) => body.push_str(&format!(
            r#"<div class="error">The privilege list is not valid OIOBPP: {}</div>"#,
            pages::esc(&e.to_string())
        )),
        None => body.push_str("<p>No privilege attribute: the person has no privileges for this user system (OIOBPP omits the attribute).</p>"),
    }
    if let Some(xml) = &login.privileges_xml {
        body.push_str(&format!(
            "<details><summary>Privilege list XML</summary><pre>{}</pre></details>",
            pages::esc(xml)
        ));
    }
    if let Some(session_index) = &a.session_index {
        // chsim's report is fetched by the browser, not by this user system: the demo SP stays a
        // separate party that knows chsim only through what it received.
        body.push_str(&format!(
            r#"<h2>What chsim received, mapped and dropped</h2>
<p>chsim's own report of this login — where the privileges came from, the job-function roles received, and what was dropped and why: <a href="/runtime/logins/{si}">/runtime/logins/{si_text}</a></p>
<iframe src="/runtime/logins/{si}" title="chsim's report of this login" style="width:100%;height:32rem;border:1px solid #ccc"></iframe>"#,
            si = pages::esc_attr(session_index),
            si_text = pages::esc(session_index)
        ));
    }
    body.push_str(&format!(
        "<h2>Assertion (verified XML)</h2><pre>{}</pre>",
        pages::esc(&a.xml)
    ));
    body.push_str(&format!(
        "<h2>Your session at {}</h2>{}",
        pages::esc(&sp.config().name),
        demo_sp_session_box(&sp.session_view(Some(&login.session)))
    ));
    body.push_str(SESSION_FRAME);
    body.push_str(r#"<p><a class="button" href="./">Log in again</a></p>"#);
    Ok((
        cookie,
        Html(pages::page("What the user system received", &body)),
    )
        .into_response())
}

/// chsim's session, as the browser sees it (fetched by the browser from chsim, not by the demo
/// user system, which stays a separate party).
pub(super) const SESSION_FRAME: &str = r#"<h2>Your chsim session</h2>
<iframe src="/runtime/session" title="Your chsim session" style="width:100%;height:22rem;border:1px solid #ccc"></iframe>"#;
