//! The error reference every `error_uri` points at: one anchored section per
//! error code, server-rendered, no script.

use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use latchkey_domain::ErrorCode;

use crate::middleware::PAGE_CSP;

pub async fn get() -> Response {
    let mut sections = String::new();
    for code in ErrorCode::ALL {
        sections.push_str(&format!(
            "<section id=\"{c}\"><h2><code>{c}</code></h2><p>{e}</p></section>\n",
            c = code.as_str(),
            e = code.explanation()
        ));
    }
    let page = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Latchkey error reference</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1a1a1a}}\
         section{{border-top:1px solid #ccc}}code{{font-size:1.05em}}</style></head>\
         <body><main><h1>Error reference</h1>\
         <p>Every error response carries <code>error</code>, <code>error_description</code>, \
         <code>error_uri</code> (a link to this page) and a <code>trace_id</code> that locates the precise cause in the server log.</p>\
         {sections}</main></body></html>"
    );
    let mut response = Html(page).into_response();
    response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_CSP));
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    response
}
