//! HTML pages: plain server-rendered HTML, everything user-supplied escaped.

use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};

/// A complete page.
pub fn page(title: &str, body: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — chsim</title>
<style>
body{{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b;line-height:1.45}}
header{{border-bottom:3px solid #004b8d;margin-bottom:1.5rem}} header a{{color:#004b8d;text-decoration:none;font-weight:700}}
table{{border-collapse:collapse;width:100%;margin:1rem 0}} td,th{{border:1px solid #ccc;padding:.35rem .5rem;text-align:left;vertical-align:top;word-break:break-all}}
th{{background:#eef3f8}} pre{{background:#f5f5f5;padding:1rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all}}
.error{{border-left:6px solid #b00020;background:#fff0f2;padding:1rem}} .ok{{border-left:6px solid #1b7f3b;background:#effaf2;padding:1rem}}
button,.button{{background:#004b8d;color:#fff;border:0;padding:.5rem 1rem;border-radius:4px;cursor:pointer;font-size:1rem;text-decoration:none;display:inline-block;margin:.2rem 0}}
button.secondary{{background:#666}} code{{background:#f0f0f0;padding:0 .2rem}}
</style></head><body><header><p><a href="/">chsim</a> — Context Handler simulator</p></header>
<h1>{title}</h1>
{body}
</body></html>"#,
        title = text(title),
    )
}

/// An auto-submitting HTTP-POST binding form (saml-bindings §3.5.4).
pub fn auto_post(
    action: &str,
    field: &str,
    value: &str,
    relay_state: Option<&str>,
    note: &str,
) -> String {
    let relay = relay_state_input(relay_state);
    let body = format!(
        r#"<p>{note}</p>
<form method="post" action="{action}" id="saml-post">
<input type="hidden" name="{field}" value="{value}">{relay}
<noscript><button type="submit">Continue</button></noscript>
</form>
<script>document.getElementById('saml-post').submit();</script>"#,
        note = text(note),
        action = attr(action),
        field = attr(field),
        value = attr(value),
    );
    page("Continuing…", &body)
}

/// The hidden `RelayState` field of an HTTP-POST binding form (empty without one).
pub fn relay_state_input(relay_state: Option<&str>) -> String {
    relay_state
        .map(|r| {
            format!(
                r#"<input type="hidden" name="RelayState" value="{}">"#,
                attr(r)
            )
        })
        .unwrap_or_default()
}

/// Rows of a two-column table.
pub fn table(headers: (&str, &str), rows: &[(String, String)]) -> String {
    let mut out = format!(
        "<table><tr><th>{}</th><th>{}</th></tr>",
        text(headers.0),
        text(headers.1)
    );
    for (k, v) in rows {
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td></tr>",
            text(k),
            text(v)
        ));
    }
    out.push_str("</table>");
    out
}

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    text(s).to_string()
}

/// Escapes text for a double-quoted attribute.
pub fn esc_attr(s: &str) -> String {
    attr(s).to_string()
}

/// A privilege list as a table: one row per (scope, privilege), constraints listed by type.
pub fn privilege_table(list: &crate::privileges::PrivilegeList) -> String {
    if list.is_empty() {
        return "<p>(none)</p>".to_string();
    }
    let mut out =
        String::from("<table><tr><th>Scope</th><th>Privilege</th><th>Constraints</th></tr>");
    for group in &list.groups {
        let constraints: Vec<String> = group
            .constraints
            .iter()
            .map(|c| format!("{} = {}", c.name, c.values.join(", ")))
            .collect();
        for privilege in &group.privileges {
            out.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                text(&group.scope),
                text(privilege),
                text(&constraints.join("\n")).replace('\n', "<br>")
            ));
        }
    }
    out.push_str("</table>");
    out
}
