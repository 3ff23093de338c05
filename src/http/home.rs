//! The start page: what chsim serves and where to begin.

use super::pages;
use crate::app::AppState;
use axum::extract::State;
use axum::response::Html;
use axum_extra::extract::cookie::CookieJar;

/// `GET /`.
pub async fn start_page(State(s): State<AppState>, jar: CookieJar) -> Html<String> {
    let base = s.public_url.as_str();
    let settings = s.broker.settings();
    let mut body = String::from(
        r#"<p>chsim simulates KOMBIT's Context Handler: user systems send their SAML AuthnRequest here, the person logs in at their municipality's identity provider, and chsim issues a signed token to the user system.</p>
<h2>Your chsim session</h2>"#,
    );
    // A store that cannot answer shows as "no session" here; logins report it properly.
    match s
        .broker
        .live_session(super::session::session_id(&jar).as_ref())
        .await
    {
        Ok(Some(session)) => body.push_str(&super::session::describe(&s, &session)),
        Ok(None) => body.push_str(super::session::NO_SESSION),
        Err(e) => body.push_str(&format!(
            r#"<div class="error">chsim's session store did not answer: {}</div>"#,
            pages::esc(&e.to_string())
        )),
    }
    body.push_str("<h2>Try a login</h2><ul>");
    if !s.builtin_parties {
        body.push_str("<li>The built-in demo user systems and test IdPs are switched off here (<code>builtin_parties = false</code> under <code>[demo]</code> in chsim.toml): log in from a registered user system.</li>");
    }
    for (id, sp) in s.demo_sps.iter() {
        body.push_str(&format!(
            r#"<li><a class="button" href="/demo-sp/{id}/">{}</a> <small>profile {}</small></li>"#,
            pages::esc(&sp.config().name),
            sp.config().profile.as_str(),
            id = pages::esc_attr(id),
        ));
    }
    if let Some(rp) = &s.demo_oidc {
        body.push_str(&format!(
            r#"<li><a class="button" href="/demo-oidc/">{}</a> <small>OpenID Connect, client_id <code>{}</code></small></li>"#,
            pages::esc(&rp.config().name),
            pages::esc(&rp.config().client_id),
        ));
    }
    body.push_str("</ul><h2>chsim's metadata</h2>");
    body.push_str(&pages::table(
        ("What", "URL"),
        &[
            (
                "entityID (both faces)".into(),
                settings.entity_id.to_string(),
            ),
            (
                "IdP metadata, for user systems".into(),
                format!("{base}/runtime/saml2/metadata.idp"),
            ),
            (
                "SP metadata, for municipal IdPs".into(),
                format!("{base}/runtime/saml2auth/metadata.idp"),
            ),
            (
                "SingleSignOnService (Redirect, POST)".into(),
                settings.sso_url.clone(),
            ),
            (
                "AssertionConsumerService (POST)".into(),
                settings.acs_url.clone(),
            ),
        ],
    ));
    body.push_str("<h2>Municipalities and identity providers</h2>");
    let rows: Vec<(String, String)> = s
        .broker
        .trust()
        .idps
        .iter()
        .map(|i| {
            (
                format!("{} (CVR {})", i.municipality.name, i.municipality.cvr),
                format!("{} — {}", i.presentation_name, i.entity_id),
            )
        })
        .collect();
    body.push_str(&pages::table(("Municipality", "IdP"), &rows));
    body.push_str("<h2>Built-in parties' metadata</h2><ul>");
    for (id, idp) in s.test_idps.iter() {
        body.push_str(&format!(
            r#"<li>Test IdP <a href="/test-idp/{id}/metadata">{}</a></li>"#,
            pages::esc(&idp.config().name),
            id = pages::esc_attr(id)
        ));
    }
    for (id, sp) in s.demo_sps.iter() {
        body.push_str(&format!(
            r#"<li>Demo user system <a href="/demo-sp/{id}/metadata">{}</a></li>"#,
            pages::esc(&sp.config().name),
            id = pages::esc_attr(id)
        ));
    }
    body.push_str("</ul>");
    Html(pages::page("Context Handler simulator", &body))
}
