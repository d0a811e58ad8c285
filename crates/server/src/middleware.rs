//! Cross-cutting request handling: request ids (also the error trace id),
//! metrics, access logs, RFC-shaped bodies for errors raised by lower
//! layers, and security headers.

use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, State};
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use latchkey_domain::ErrorCode;

use crate::error::{REQUEST_CONTEXT, RequestContext, error_body};
use crate::state::AppState;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// A caller-supplied request id is kept (and echoed, as AuthZEN requires)
/// only if it is short visible ASCII without quotes or backslashes, so it
/// cannot forge log lines; otherwise we make one.
fn request_id(req: &Request<Body>) -> String {
    req.headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
        })
        .map(str::to_string)
        .unwrap_or_else(latchkey_crypto::random::id)
}

/// At most this many `request.refused` events per client and minute (per
/// node): enough for a developer's trace lookups, while a flood of
/// refused requests naming a client cannot crowd the audit queue.
const REFUSAL_EVENTS_PER_MINUTE: u32 = 120;

fn now() -> latchkey_domain::UnixTime {
    latchkey_domain::UnixTime::now()
}

pub async fn request_context(State(state): State<AppState>, req: Request<Body>, next: Next) -> Response {
    let started = Instant::now();
    let id = request_id(&req);
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().cloned();
    // A cheap reference-counted copy; the path is read only if logged.
    let uri = req.uri().clone();
    let ctx = RequestContext {
        request_id: id.clone(),
        issuer: state.issuer.clone(),
        source_ip: req.extensions().get::<ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip()),
        user_agent: req.headers().get(header::USER_AGENT).cloned(),
        facts: Default::default(),
    };
    let facts = ctx.facts.clone();
    let events = &state.events;
    let rate_limiter = &state.rate_limiter;

    let mut response = REQUEST_CONTEXT
        .scope(ctx.clone(), async move {
            let response = next.run(req).await;
            // Inside the scope, so the event carries this request's trace id.
            if let (Some(client_id), Some(refusal)) = (facts.client.get(), facts.refusal.get())
                && !response.status().is_server_error()
                && rate_limiter
                    .check(crate::rate_limit::Class::RefusalsByClient, client_id, REFUSAL_EVENTS_PER_MINUTE, now())
                    .is_ok()
            {
                events.emit(latchkey_domain::SecurityEvent::RequestRefused {
                    client_id: client_id.clone(),
                    error: refusal.code.to_string(),
                    reason: refusal.shareable_reason(),
                    status: response.status().as_u16(),
                });
            }
            rfc_error_for_bare_status(response)
        })
        .await;

    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    let route = route.as_ref().map_or("unmatched", |r| r.as_str());
    state.metrics.observe(method.as_str(), route, status, elapsed.as_secs_f64());
    // The path, never the query string: queries can carry codes and tokens.
    // Failures are logged by default; successes only at debug level
    // (`RUST_LOG=latchkey::http=debug`): at tens of thousands of tokens a
    // second a line per success costs more than issuing the token, and the
    // metrics count every request anyway.
    let micros = elapsed.as_micros() as u64;
    let (method, path) = (method.as_str(), uri.path());
    if status >= 400 {
        tracing::info!(target: "latchkey::http", request_id = %id, method, path, status, micros, "request");
    } else {
        tracing::debug!(target: "latchkey::http", request_id = %id, method, path, status, micros, "request");
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, v);
    }
    response
}

/// Lower layers (body limit, timeout) answer with a bare status; give those
/// the same JSON shape as every other error.
fn rfc_error_for_bare_status(response: Response) -> Response {
    let status = response.status();
    if response.headers().contains_key(header::CONTENT_TYPE) && status != StatusCode::PAYLOAD_TOO_LARGE {
        return response;
    }
    let (code, description) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => (ErrorCode::InvalidRequest, "the request body exceeds 65536 bytes"),
        StatusCode::REQUEST_TIMEOUT => (ErrorCode::TemporarilyUnavailable, "the request took too long"),
        StatusCode::METHOD_NOT_ALLOWED => (ErrorCode::InvalidRequest, "method not allowed on this endpoint"),
        _ => return response,
    };
    let mut out = (status, axum::Json(error_body(code, description))).into_response();
    if let Some(allow) = response.headers().get(header::ALLOW) {
        out.headers_mut().insert(header::ALLOW, allow.clone());
    }
    out
}

/// Headers every response gets. Pages (HTML) set their own stricter CSP.
pub async fn security_headers(req: Request<Body>, next: Next) -> Response {
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        );
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// The CSP for server-rendered pages: no scripts from anywhere but us, no
/// framing (clickjacking), forms only back to us.
pub const PAGE_CSP: &str = "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
