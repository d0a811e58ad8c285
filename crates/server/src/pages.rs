//! Server-rendered pages: plain HTML that works without JavaScript, escaped
//! by construction (every dynamic value goes through [`escape`]), with a
//! strict CSP and `frame-ancestors 'none'`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::middleware::PAGE_CSP;

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The CSP source that allows navigating or posting to `uri`: its origin
/// for http(s), its scheme for a native app's private-use scheme.
pub fn csp_source(uri: &str) -> String {
    match url::Url::parse(uri) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => u.origin().ascii_serialization(),
        Ok(u) => format!("{}:", u.scheme()),
        Err(_) => "'none'".into(),
    }
}

/// The page CSP with `form-action` widened to `target`: browsers apply
/// form-action to where a form submission redirects as well, so the login
/// form must be allowed to end at the client's redirect URI.
pub fn csp_with_form_target(target: &str) -> String {
    PAGE_CSP.replace("form-action 'self'", &format!("form-action 'self' {}", csp_source(target)))
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem;line-height:1.5;color:#1a1a1a}\
label{display:block;margin-top:1rem;font-weight:600}input{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}\
button{margin-top:1.5rem;padding:.6rem 1.2rem;font-size:1rem;background:#1f4fd1;color:#fff;border:0;border-radius:4px}\
.error{color:#a40000;font-weight:600}";

/// A complete page with the standard headers.
pub fn page(status: StatusCode, title: &str, body: &str, csp: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>",
        escape(title)
    );
    let mut response = (status, Html(html)).into_response();
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// An error shown to the user, for the cases where redirecting to the
/// client would be unsafe (unknown client, unregistered redirect URI).
pub fn error_page(status: StatusCode, message: &str) -> Response {
    let trace = crate::error::current_request_id();
    tracing::info!(trace_id = trace, reason = message, "authorization request refused with an error page");
    crate::error::set_request_refusal("invalid_request", false, message);
    let body = format!(
        "<h1>This request cannot be completed</h1><p class=\"error\">{}</p>\
         <p>Go back to the application and try again. If this keeps happening, give its developers this trace id: <code>{}</code></p>",
        escape(message),
        escape(&trace)
    );
    page(status, "Request error", &body, PAGE_CSP)
}
