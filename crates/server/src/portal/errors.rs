//! The error reference every `error_uri` points at: an index, one page per
//! error code, and one per specific cause, each with what to do. The trace
//! lookup (`trace.rs`) tells which cause a given refused request had.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use latchkey_domain::ErrorCode;

use super::PathOf;
use super::layout::{Page, render, render_with_status};
use super::signin::developer;
use crate::error::ApiError;
use crate::pages::escape;
use crate::state::AppState;

fn cacheable(mut response: Response) -> Response {
    if response.status() == StatusCode::OK {
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=300"));
    }
    response
}

pub async fn index(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let user = developer(&state, &headers).await?;
    let base = escape(&state.issuer.endpoint("/portal"));
    let mut rows = String::new();
    // Each row keeps the anchor `#code` that earlier `error_uri`s used.
    for code in ErrorCode::ALL {
        let c = code.as_str();
        rows.push_str(&format!(
            "<tr><th scope=\"row\" id=\"{c}\"><a href=\"{base}/errors/{c}\"><code>{c}</code></a></th><td>{}</td></tr>",
            escape(code.explanation())
        ));
    }
    let body = format!(
        "<h1>Error reference</h1>\
         <p>Every error response carries <code>error</code>, <code>error_description</code>, <code>error_uri</code> \
         (a link to a page here) and a <code>trace_id</code>. The owner of the client involved can \
         <a href=\"{base}/trace\">look up a trace id</a> to see the precise server-side reason.</p>\
         <div class=\"table-wrap\" tabindex=\"0\"><table><caption class=\"visually-hidden\">Error codes</caption>\
         <thead><tr><th scope=\"col\">Code</th><th scope=\"col\">Meaning</th></tr></thead><tbody>{rows}</tbody></table></div>"
    );
    Ok(cacheable(render(&state, user.as_ref(), Page::new("/errors", "Error reference", body))))
}

fn not_found(state: &AppState, user: Option<&latchkey_domain::User>, what: &str) -> Response {
    let body = format!(
        "<h1>No such error</h1><p>There is no {} in the reference. <a href=\"{}/errors\">See every code</a>.</p>",
        escape(what),
        escape(&state.issuer.endpoint("/portal"))
    );
    render_with_status(state, user, StatusCode::NOT_FOUND, Page::new("/errors", "No such error", body))
}

pub async fn code(
    State(state): State<AppState>,
    path: PathOf<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let user = developer(&state, &headers).await?;
    let Ok(Path(code)) = path else { return Ok(not_found(&state, user.as_ref(), "such error code")) };
    let Some(found) = ErrorCode::parse(&code) else {
        return Ok(not_found(&state, user.as_ref(), &format!("error code {code:?}")));
    };
    let base = escape(&state.issuer.endpoint("/portal"));
    let c = found.as_str();
    let causes = found.causes();
    let list = if causes.is_empty() {
        String::new()
    } else {
        let items: String = causes
            .iter()
            .map(|k| {
                format!(
                    "<li><a href=\"{base}/errors/{c}/{id}\">{title}</a>: {fix}</li>",
                    id = k.id,
                    title = escape(k.title),
                    fix = escape(k.fix)
                )
            })
            .collect();
        format!("<h2>Specific causes</h2><ul>{items}</ul>")
    };
    let body = format!(
        "<p><a href=\"{base}/errors\">Error reference</a></p><h1><code>{c}</code></h1><p>{}</p>{list}\
         <h2>Which one was it?</h2><p>The response's <code>trace_id</code> names the request. \
         If you own the client, <a href=\"{base}/trace\">look it up</a> to see the server's reason.</p>",
        escape(found.explanation())
    );
    Ok(cacheable(render(&state, user.as_ref(), Page::new("/errors", c, body))))
}

pub async fn cause(
    State(state): State<AppState>,
    path: PathOf<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let user = developer(&state, &headers).await?;
    let Ok(Path((code, cause))) = path else { return Ok(not_found(&state, user.as_ref(), "such cause")) };
    let Some((found, k)) =
        ErrorCode::parse(&code).and_then(|c| c.causes().iter().find(|k| k.id == cause).map(|k| (c, k)))
    else {
        return Ok(not_found(&state, user.as_ref(), &format!("cause {cause:?} of {code:?}")));
    };
    let base = escape(&state.issuer.endpoint("/portal"));
    let c = found.as_str();
    let body = format!(
        "<p><a href=\"{base}/errors\">Error reference</a> › <a href=\"{base}/errors/{c}\"><code>{c}</code></a></p>\
         <h1>{title}</h1><p>Reported as <code>{c}</code>. {explanation}</p><h2>What to do</h2><p>{fix}</p>",
        title = escape(k.title),
        explanation = escape(found.explanation()),
        fix = escape(k.fix),
    );
    Ok(cacheable(render(&state, user.as_ref(), Page::new("/errors", k.title, body))))
}
