//! The portal's shell: one header, one navigation, one `<main>` per page,
//! a skip link, and the page's configuration as a JSON data block that the
//! scripts read (a data block is never executed, so the CSP stays
//! `script-src 'self'`).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use latchkey_domain::User;

use crate::pages::escape;
use crate::state::AppState;

/// Scripts only from us; `connect-src 'self'` lets the tools call this
/// server (token endpoint, JWKS) and nothing else; forms post only here.
pub const PORTAL_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The pages in the navigation, in order: (path under /portal, label).
pub const NAV: &[(&str, &str)] = &[
    ("", "Start"),
    ("/sandbox", "Sandbox"),
    ("/flows", "Flows"),
    ("/jwt", "JWT"),
    ("/tools", "Utilities"),
    ("/catalogue", "Scopes & claims"),
    ("/keys", "Keys"),
    ("/errors", "Errors"),
    ("/playground", "Policy playground"),
    ("/reference", "API reference"),
];

pub struct Page<'a> {
    /// The navigation entry this page belongs to (a `NAV` path).
    pub section: &'a str,
    pub title: &'a str,
    /// Trusted HTML: every dynamic value in it went through `escape`.
    pub body: String,
    /// Module scripts (asset names) the page loads.
    pub scripts: &'a [&'a str],
    /// Extra page data for the scripts, merged into the JSON data block.
    pub data: serde_json::Value,
}

impl<'a> Page<'a> {
    pub fn new(section: &'a str, title: &'a str, body: String) -> Self {
        Page { section, title, body, scripts: &[], data: serde_json::Value::Null }
    }
}

/// JSON safe inside a `<script>` element: `<` escaped so that no value can
/// close the element.
fn json_for_script(value: &serde_json::Value) -> String {
    value.to_string().replace('<', "\\u003c")
}

/// The configuration every portal script may rely on.
pub fn base_data(state: &AppState, user: Option<&User>) -> serde_json::Value {
    let e = |path: &str| state.issuer.endpoint(path);
    serde_json::json!({
        "issuer": state.issuer.as_str(),
        "portal": e("/portal"),
        "endpoints": {
            "authorization": e("/authorize"),
            "token": e("/token"),
            "userinfo": e("/userinfo"),
            "jwks": e("/jwks"),
            "introspection": e("/introspect"),
            "revocation": e("/revoke"),
            "end_session": e("/logout"),
            "evaluation": e("/access/v1/evaluation"),
        },
        "server_time": latchkey_domain::UnixTime::now().0,
        "leeway": crate::access_tokens::LEEWAY.as_secs(),
        "dev": state.config.dev,
        "user": user.map(|u| serde_json::json!({ "id": u.id, "username": u.username })),
    })
}

pub fn render(state: &AppState, user: Option<&User>, page: Page<'_>) -> Response {
    render_with_status(state, user, StatusCode::OK, page)
}

pub fn render_with_status(state: &AppState, user: Option<&User>, status: StatusCode, page: Page<'_>) -> Response {
    let base = state.issuer.endpoint("/portal");
    let mut nav = String::new();
    for (path, label) in NAV {
        let current = if *path == page.section { " aria-current=\"page\"" } else { "" };
        nav.push_str(&format!("<li><a href=\"{}{path}\"{current}>{label}</a></li>", escape(&base)));
    }
    let account = match user {
        Some(u) => format!(
            "<span class=\"who\">Signed in as <strong>{}</strong></span> \
             <form method=\"post\" action=\"{}/signout\" class=\"inline\"><button type=\"submit\" class=\"link\">Sign out</button></form>",
            escape(&u.username),
            escape(&base)
        ),
        None => format!("<a href=\"{}/signin\">Sign in</a>", escape(&base)),
    };
    let mut data = base_data(state, user);
    if let (Some(obj), serde_json::Value::Object(extra)) = (data.as_object_mut(), page.data) {
        obj.extend(extra);
    }
    let scripts: String = std::iter::once("portal.js")
        .chain(page.scripts.iter().copied())
        .map(|s| format!("<script type=\"module\" src=\"{}/assets/{s}\"></script>", escape(&base)))
        .collect();
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · Latchkey developer portal</title>\
         <link rel=\"icon\" href=\"data:,\"><link rel=\"stylesheet\" href=\"{base}/assets/portal.css\">\
         <script type=\"application/json\" id=\"portal-config\">{data}</script>{scripts}</head>\
         <body><a class=\"skip\" href=\"#main\">Skip to content</a>\
         <header><div class=\"bar\"><a class=\"brand\" href=\"{base}\">Latchkey <span>developer portal</span></a>\
         <div class=\"account\">{account}</div></div>\
         <nav aria-label=\"Portal\"><ul>{nav}</ul></nav></header>\
         <main id=\"main\" tabindex=\"-1\">{body}</main>\
         <footer><p>Issuer <code>{issuer}</code>{dev}</p></footer></body></html>",
        title = escape(page.title),
        base = escape(&base),
        data = json_for_script(&data),
        body = page.body,
        issuer = escape(state.issuer.as_str()),
        dev = if state.config.dev { " · development server (<code>--dev</code>)" } else { "" },
    );
    let mut response = (status, Html(html)).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PORTAL_CSP));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_data_cannot_close_the_element() {
        let v = serde_json::json!({ "x": "</script><script>alert(1)</script>" });
        assert!(!json_for_script(&v).contains("</script>"));
    }
}
