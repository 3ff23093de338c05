//! The demo OIDC user system's page `/demo-oidc/`: what it is and a login form, or the session
//! with everything it received — the ID token's header and claims and the key that verified it,
//! the access token's claims, the userinfo answer, the privilege list decoded — and its buttons.

use super::pages::{esc, esc_attr};
use crate::app::AppState;
use crate::demo_oidc::session::Shown;
use crate::demo_oidc::{DemoOidc, OidcSession};
use crate::party_logout::SessionView;
use serde_json::Value;

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// The whole body of `/demo-oidc/`. `returned` is chsim's return from RP-initiated logout: its
/// `state`, and whether it is the one this browser's logout sent.
pub fn render(
    s: &AppState,
    rp: &DemoOidc,
    view: &SessionView<OidcSession>,
    returned: Option<(String, bool)>,
) -> String {
    let cfg = rp.config();
    let issuer = rp.issuer();
    let mut body = format!(
        r#"<p>A demo user system (fagsystem) built into chsim that connects by <strong>OpenID Connect</strong>, as Context Handler 2's <code>OIDCBrugervendtSystem</code>: client_id <code>{client}</code>, redirect URI <code>{redirect}</code>. It is a separate relying party: it knows chsim only from the discovery document at <a href="{issuer_attr}/.well-known/openid-configuration">{issuer}/.well-known/openid-configuration</a> and talks to it only over HTTP, with the <code>openidconnect</code> library (PKCE S256, state, nonce, ID tokens verified with chsim's published keys).</p>"#,
        client = esc(&cfg.client_id),
        redirect = esc(&rp.redirect_uri()),
        issuer = esc(&issuer),
        issuer_attr = esc_attr(&issuer),
    );
    match returned {
        Some((_, true)) => body.push_str(r#"<div class="ok" id="logout-result"><p><strong>Logged out.</strong> chsim ended your session (and with it every user system's in it) and sent you back here with the state this system's logout request carried.</p></div>"#),
        Some((state, false)) => body.push_str(&format!(
            r#"<div class="error" id="logout-result"><p>chsim sent you back with state <code>{}</code>, which is not one this browser's logout sent here.</p></div>"#,
            esc(&state)
        )),
        None => {}
    }
    match view {
        SessionView::Live(session) => body.push_str(&live(session)),
        SessionView::Ended(e) => {
            body.push_str(&format!(
                r#"<div class="ok" id="party-session"><p>{}</p><p>Not logged in.</p></div>"#,
                esc(&super::party_logout::ended_text(e.at, &e.how))
            ));
            body.push_str(&login_form(s));
        }
        SessionView::None => {
            body.push_str(r#"<p id="party-session">Not logged in.</p>"#);
            body.push_str(&login_form(s));
        }
    }
    body.push_str(super::parties::SESSION_FRAME);
    body
}

/// The login form: level (`acr_values`), `prompt`, and the IdP (chsim's chooser, or skip it).
fn login_form(s: &AppState) -> String {
    let mut idps = String::from(r#"<option value="">chsim's chooser</option>"#);
    for idp in &s.broker.trust().idps {
        idps.push_str(&format!(
            r#"<option value="{}">{}</option>"#,
            esc_attr(idp.entity_id.as_str()),
            esc(&idp.presentation_name)
        ));
    }
    let levels: String = std::iter::once((String::new(), "as registered".to_string()))
        .chain(
            crate::oidc::discovery::acr_values_supported()
                .into_iter()
                .map(|v| (v.clone(), v)),
        )
        .map(|(v, label)| {
            format!(
                r#"<option value="{}">{}</option>"#,
                esc_attr(&v),
                esc(&label)
            )
        })
        .collect();
    format!(
        r#"<form method="get" action="login" id="login-form">
<p><label>Level (<code>acr_values</code>) <select name="acr_values">{levels}</select></label></p>
<p><label><code>prompt</code> <select name="prompt"><option value="">(none)</option><option value="login">login (a fresh authentication)</option><option value="none">none (only from an existing chsim session)</option></select></label></p>
<p><label>Identity provider <select name="idp">{idps}</select></label></p>
<p><button type="submit">Log in</button></p></form>"#
    )
}

/// A live session: who, the buttons, and what was received.
fn live(session: &OidcSession) -> String {
    let mut out = format!(
        r#"<div class="ok" id="party-session"><p>Logged in as <strong>{who}</strong> since {since} (level {level}).</p>
<p><small><code>sub</code> <code>{sub}</code>, <code>sid</code> <code>{sid}</code>, <code>acr</code> <code>{acr}</code></small></p>
<form method="post" action="refresh" style="display:inline">{refresh}</form>
<form method="post" action="userinfo" style="display:inline"><button type="submit">Userinfo again</button></form>
<form method="post" action="logout" style="display:inline"><button type="submit">Log out</button></form>
<p><small>Log out sends the browser to chsim's end_session_endpoint with id_token_hint, post_logout_redirect_uri and state; chsim ends its session and every user system's in it.</small></p></div>"#,
        who = esc(&session.who),
        since = session.since.format("%Y-%m-%d %H:%M:%S UTC"),
        level = esc(&session.level),
        sub = esc(&session.sub),
        sid = esc(session.sid.as_deref().unwrap_or("(none)")),
        acr = esc(session.acr.as_deref().unwrap_or("(none)")),
        refresh = if session.has_refresh_token() {
            r#"<button type="submit">Refresh</button>"#
        } else {
            r#"<button type="submit" disabled title="chsim issued no refresh token">Refresh</button>"#
        },
    );
    match &session.notice {
        Some(Ok(text)) => out.push_str(&format!(
            r#"<div class="ok" id="notice"><p>{}</p></div>"#,
            esc(text)
        )),
        Some(Err(text)) => out.push_str(&format!(
            r#"<div class="error" id="notice"><p>{}</p></div>"#,
            esc(text)
        )),
        None => {}
    }
    out.push_str(&tokens(&session.shown));
    out.push_str("<h2>Privileges (decoded)</h2>");
    match session.privileges() {
        None => out.push_str("<p>No privilege claim: the person has no privileges for this user system (the claim is omitted, as OIOBPP omits the attribute).</p>"),
        Some((xml, list)) => {
            match list {
                Ok(list) => out.push_str(&super::pages::privilege_table(&list)),
                Err(e) => out.push_str(&format!(
                    r#"<div class="error">The privilege list is not valid OIOBPP: {}</div>"#,
                    esc(&e.to_string())
                )),
            }
            out.push_str(&format!(
                r#"<p>The <code>privilegesIntermediate</code> claim, base64-decoded:</p><pre id="privileges-xml">{}</pre>"#,
                esc(&xml)
            ));
        }
    }
    out
}

/// The ID token, the access token and the userinfo answer.
fn tokens(shown: &Shown) -> String {
    let id = &shown.id_token;
    let mut out = format!(
        r#"<h2>ID token</h2>
<p id="id-token-verified">Signature verified with key <code>{kid}</code> from chsim's JWKS ({alg}); issuer, audience, expiry and nonce checked{at_hash}.</p>
<h3>Header</h3><pre>{header}</pre><h3>Claims</h3><pre id="id-token-claims">{claims}</pre>"#,
        kid = esc(&id.kid),
        alg = esc(&id.alg),
        at_hash = if id.claims["at_hash"].is_string() {
            ", and at_hash matches the access token"
        } else {
            ""
        },
        header = esc(&pretty(&id.header)),
        claims = esc(&pretty(&id.claims)),
    );
    if let Some(r) = &shown.refreshed {
        out.push_str(&format!(
            r#"<p id="refreshed"><small>Tokens from the refresh at {}: {} ID token, {}.</small></p>"#,
            r.at.format("%H:%M:%S UTC"),
            if r.new_id_token { "a new" } else { "no new" },
            if r.rotated {
                "a rotated refresh token"
            } else {
                "the same refresh token"
            }
        ));
    }
    out.push_str("<h2>Access token</h2>");
    match &shown.access_token {
        Ok(at) => out.push_str(&format!(
            r#"<p>A JWT (<code>typ</code> <code>{typ}</code>, RFC 9068), verified with key <code>{kid}</code> from chsim's JWKS. A client need not read it; it is shown here to see what chsim's resource servers get.</p><pre id="access-token-claims">{claims}</pre>"#,
            typ = esc(at.header["typ"].as_str().unwrap_or("")),
            kid = esc(&at.kid),
            claims = esc(&pretty(&at.claims)),
        )),
        Err(e) => out.push_str(&format!(
            r#"<div class="error"><p>The access token could not be verified: {}</p></div>"#,
            esc(e)
        )),
    }
    out.push_str("<h2>Userinfo</h2>");
    match &shown.userinfo {
        Some(Ok(answer)) => out.push_str(&format!(
            r#"<p>chsim's userinfo endpoint answered (for the same <code>sub</code>):</p><pre id="userinfo">{}</pre>"#,
            esc(&pretty(answer))
        )),
        Some(Err(e)) => out.push_str(&format!(
            r#"<div class="error" id="userinfo"><p>Userinfo failed: {}</p></div>"#,
            esc(e)
        )),
        None => out.push_str("<p>Not asked.</p>"),
    }
    out
}
