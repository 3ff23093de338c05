//! Reading chsim's own pages the way a browser-automation script would: the auto-submitting
//! SAML form, the IdP chooser's links, the test IdP's user forms, and the error page with the
//! non-success Response (SAML) or the error redirect (OIDC) it offers to return to the user
//! system.

use super::Refusal;
use regex::Regex;
use std::sync::LazyLock;

// The patterns are constants; a failure to compile one is a programming error caught by tests.
static FORM: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r#"(?s)<form method="post" action="([^"]*)"[^>]*>(.*?)</form>"#).ok()
});
static INPUT: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r#"<input type="hidden" name="([^"]*)" value="([^"]*)">"#).ok());
static CHOOSER: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r#"<a class="button" data-cvr="([^"]*)" href="(/runtime/saml2/choose\?[^"]*)""#).ok()
});
static IDP_CVR: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r#"<p data-cvr="([^"]*)">This is"#).ok());
static RETURN_LINK: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r#"<a class="button" href="([^"]*)">Return to "#).ok());
static ERROR: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r#"(?s)<div class="error"><p><strong>(.*?)</strong></p><p>(.*?)</p></div>"#).ok()
});

fn unescape(s: &str) -> String {
    html_escape::decode_html_entities(s).to_string()
}

/// Every form on a page: (action, hidden fields).
fn forms(body: &str) -> Vec<(String, Vec<(String, String)>)> {
    let (Some(form), Some(input)) = (FORM.as_ref(), INPUT.as_ref()) else {
        return Vec::new();
    };
    form.captures_iter(body)
        .map(|c| {
            let fields = input
                .captures_iter(&c[2])
                .map(|i| (unescape(&i[1]), unescape(&i[2])))
                .collect();
            (unescape(&c[1]), fields)
        })
        .collect()
}

/// The auto-submitting SAML form (`id="saml-post"`), if the page is one.
pub fn auto_post_form(body: &str) -> Option<(String, Vec<(String, String)>)> {
    body.contains(r#"id="saml-post""#)
        .then(|| forms(body).into_iter().next())
        .flatten()
}

/// On a test IdP's page, the form that logs in as `user`.
pub fn user_form(body: &str, user: &str) -> Option<(String, Vec<(String, String)>)> {
    forms(body)
        .into_iter()
        .find(|(_, f)| f.iter().any(|(k, v)| k == "user" && v == user))
}

/// On a test IdP's page, the form that cancels the login.
pub fn cancel_form(body: &str) -> Option<(String, Vec<(String, String)>)> {
    forms(body)
        .into_iter()
        .find(|(_, f)| f.iter().any(|(k, _)| k == "cancel"))
}

/// The CVR a municipal test IdP's page names (`data-cvr`), if any.
pub fn idp_cvr(body: &str) -> Option<String> {
    IDP_CVR
        .as_ref()
        .and_then(|re| re.captures(body))
        .map(|c| unescape(&c[1]))
}

/// The chooser's links: (href, the IdP's municipality CVR).
pub fn chooser_links(body: &str) -> Vec<(String, String)> {
    CHOOSER
        .as_ref()
        .map(|re| {
            re.captures_iter(body)
                .map(|c| (unescape(&c[2]), unescape(&c[1])))
                .collect()
        })
        .unwrap_or_default()
}

/// chsim's error page, read as a refusal; the SAML status comes from the Response it offers to
/// return to the user system.
pub fn error_page(body: &str, status: u16) -> Option<Refusal> {
    if status < 400 {
        return None;
    }
    let c = ERROR.as_ref()?.captures(body)?;
    let (saml_status, saml_sub_status) = forms(body)
        .into_iter()
        .find_map(|(_, fields)| {
            fields
                .into_iter()
                .find(|(k, _)| k == "SAMLResponse")
                .map(|(_, v)| v)
        })
        .and_then(|v| crate::saml::binding::decode_post(&v, 1 << 20).ok())
        .map(|xml| status_codes(&xml))
        .unwrap_or((None, None));
    // OIDC: the link back to the user system carries the OAuth error (RFC 6749 §4.1.2.1).
    let oauth_error = RETURN_LINK
        .as_ref()
        .and_then(|re| re.captures(body))
        .and_then(|l| url::Url::parse(&unescape(&l[1])).ok())
        .and_then(|u| {
            u.query_pairs()
                .find(|(k, _)| k == "error")
                .map(|(_, v)| v.into_owned())
        });
    Some(Refusal {
        http_status: status,
        message: unescape(&c[1]),
        advice: unescape(&c[2]),
        saml_status,
        saml_sub_status,
        oauth_error,
    })
}

/// The demo OIDC user system's JSON report of an error answer (`admitted: false`), as a refusal:
/// chsim answered its authorization request with an OAuth error at once (`prompt=none`), or it
/// refused what chsim sent.
pub fn oauth_refusal(report: &serde_json::Value, status: u16) -> Refusal {
    let text = |k: &str| report[k].as_str().map(str::to_string);
    Refusal {
        http_status: status,
        message: text("error_description").unwrap_or_else(|| "(no error_description)".into()),
        advice:
            "The demo OIDC user system received this error answer from chsim; chsim's log says why."
                .into(),
        saml_status: None,
        saml_sub_status: None,
        oauth_error: text("error"),
    }
}

/// The top-level and second-level StatusCode values of a Response.
fn status_codes(xml: &str) -> (Option<String>, Option<String>) {
    let Ok(doc) = crate::saml::xml::parse(xml) else {
        return (None, None);
    };
    let mut codes = doc
        .descendants()
        .filter(|n| crate::saml::xml::is(n, crate::saml::xml::NS_SAMLP, "StatusCode"))
        .filter_map(|n| n.attribute("Value").map(str::to_string));
    (codes.next(), codes.next())
}
