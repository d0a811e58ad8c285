//! Trace lookup: the owner of a client (or a portal administrator) pastes
//! the `trace_id` of a refused request and sees the server's recorded
//! reason. Others get the same "nothing visible" answer whether the trace
//! exists or not, and nothing here says whether a user exists: only
//! client-side records are shown to owners, never login details.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use latchkey_domain::{AuditRecord, ErrorCode};
use latchkey_store::AuditQuery;

use super::access::{is_admin, may_see_client};
use super::layout::{Page, render};
use super::signin::developer;
use crate::error::ApiError;
use crate::pages::escape;
use crate::state::AppState;

#[derive(serde::Deserialize)]
pub struct TraceQuery {
    id: Option<String>,
}

/// The details an owner may see of a record: the refusal's code and reason.
fn owner_view(r: &AuditRecord) -> Vec<(&'static str, String)> {
    let field = |name: &str| r.details.get(name).and_then(|v| v.as_str()).map(str::to_string);
    let mut out = vec![];
    if let Some(e) = field("error") {
        out.push(("error", e));
    }
    if let Some(reason) = field("reason") {
        out.push(("reason", reason));
    }
    out
}

fn when(ms: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    humantime::format_rfc3339_seconds(t).to_string()
}

pub async fn show(
    State(state): State<AppState>,
    Query(q): Query<TraceQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let user = developer(&state, &headers).await?;
    let base = escape(&state.issuer.endpoint("/portal"));
    let id = q.id.unwrap_or_default().trim().chars().take(128).collect::<String>();
    let form = format!(
        "<form method=\"get\" action=\"{base}/trace\"><label for=\"trace-id\">Trace id</label>\
         <input type=\"text\" id=\"trace-id\" name=\"id\" value=\"{}\" required autocomplete=\"off\" spellcheck=\"false\">\
         <button type=\"submit\">Look up</button></form>",
        escape(&id)
    );
    let intro = "<h1>Trace lookup</h1><p>Paste the <code>trace_id</code> of an error response. You see the server's reason \
                 if the request came from one of your clients.</p>";
    let Some(user) = user else {
        let next = escape(&format!("{}/portal/trace", state.issuer.path()));
        let body = format!(
            "{intro}<p><a class=\"button\" href=\"{base}/signin?next={next}\">Sign in to look up traces</a></p>"
        );
        return Ok(render(&state, None, Page::new("/errors", "Trace lookup", body)));
    };
    if id.is_empty() {
        return Ok(render(&state, Some(&user), Page::new("/errors", "Trace lookup", format!("{intro}{form}"))));
    }
    let query = AuditQuery { trace_id: Some(id.clone()), limit: 50, ..Default::default() };
    let admin = is_admin(&state, &user);
    let mut rows = String::new();
    for r in state.store.list_audit(&query).await? {
        let visible = match &r.client_id {
            Some(c) => may_see_client(&state, &user, c).await?,
            None => false,
        };
        if !(visible || admin) {
            continue;
        }
        let mut details = String::new();
        for (k, v) in owner_view(&r) {
            let value = if k == "error" && ErrorCode::parse(&v).is_some() {
                format!("<a href=\"{base}/errors/{0}\"><code>{0}</code></a>", escape(&v))
            } else {
                escape(&v)
            };
            details.push_str(&format!("<div><strong>{k}</strong>: {value}</div>"));
        }
        if admin {
            details.push_str(&format!(
                "<details><summary>All recorded fields (administrator)</summary><pre>{}</pre></details>",
                escape(&serde_json::to_string_pretty(&r).unwrap_or_default())
            ));
        }
        rows.push_str(&format!(
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td><code>{}</code></td><td>{details}</td></tr>",
            escape(&when(r.at_ms)),
            escape(&r.kind),
            escape(&r.outcome),
            escape(r.client_id.as_deref().unwrap_or("")),
        ));
    }
    let result = if rows.is_empty() {
        "<div class=\"notice\" role=\"status\"><p>Nothing recorded under this trace id is visible to you. \
         Either it belongs to a client you do not own, the request was not refused, or the record has expired.</p></div>"
            .to_string()
    } else {
        format!(
            "<h2>Recorded for this trace</h2><div class=\"table-wrap\" tabindex=\"0\"><table><thead><tr><th scope=\"col\">When</th><th scope=\"col\">Event</th>\
             <th scope=\"col\">Outcome</th><th scope=\"col\">Client</th><th scope=\"col\">Reason</th></tr></thead><tbody>{rows}</tbody></table></div>"
        )
    };
    Ok(render(&state, Some(&user), Page::new("/errors", "Trace lookup", format!("{intro}{form}{result}"))))
}
