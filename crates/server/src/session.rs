//! Browser sessions behind the login step. The cookie holds a 256-bit
//! secret; the store keeps its SHA-256 and a separate public id (`sid`).
//! Cookies are `HttpOnly`, `SameSite=Lax`, scoped to the issuer's path, and
//! `Secure` whenever the issuer is https.

use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue};
use latchkey_crypto::{digest, random};
use latchkey_domain::{UnixTime, User};
use latchkey_store::Session;

use crate::error::ApiError;
use crate::forms::cookie;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "latchkey_session";
pub const CSRF_COOKIE: &str = "latchkey_csrf";

/// With an https issuer at the root, cookie names get the `__Host-` prefix:
/// browsers then refuse such a cookie unless it is Secure, host-only and
/// for path `/`, so a sibling subdomain cannot plant one (RFC 6265bis §4.1.3.2).
fn host_prefixed(state: &AppState) -> bool {
    state.issuer.as_str().starts_with("https://") && state.issuer.path().is_empty()
}

pub fn session_cookie_name(state: &AppState) -> String {
    if host_prefixed(state) { format!("__Host-{SESSION_COOKIE}") } else { SESSION_COOKIE.to_string() }
}

pub fn csrf_cookie_name(state: &AppState) -> String {
    if host_prefixed(state) { format!("__Host-{CSRF_COOKIE}") } else { CSRF_COOKIE.to_string() }
}

/// The signed-in user of this browser, if the session and user are valid.
pub async fn current(state: &AppState, headers: &HeaderMap) -> Result<Option<(Session, User)>, ApiError> {
    let Some(secret) = cookie(headers, &session_cookie_name(state)) else { return Ok(None) };
    let now = UnixTime::now();
    let Some(session) = state.store.active_session_by_secret(&digest::secret_digest(&secret), now).await? else {
        return Ok(None);
    };
    match state.store.get_user(&session.user_id).await? {
        Some(user) if !user.disabled => Ok(Some((session, user))),
        _ => Ok(None),
    }
}

/// Starts a new session for `user` after a successful login; a new session
/// (new id, new cookie secret) at every login is what prevents fixation.
pub async fn start(
    state: &AppState,
    user: &User,
    acr: &str,
    amr: &[&str],
    user_agent: Option<String>,
    source_ip: Option<String>,
) -> Result<(Session, String), ApiError> {
    let now = UnixTime::now();
    let secret = random::token(32);
    let session = Session {
        id: random::id(),
        user_id: user.id.clone(),
        created_at: now,
        last_seen_at: now,
        auth_time: now,
        acr: Some(acr.to_string()),
        amr: amr.iter().map(|s| s.to_string()).collect(),
        // Bounded: these are shown to the user later, never trusted.
        user_agent: user_agent.map(|u| u.chars().take(256).collect()),
        source_ip,
        expires_at: now.plus(state.config.session_ttl),
        ended_at: None,
    };
    state.store.insert_session(&session, &digest::secret_digest(&secret)).await?;
    state.events.emit(latchkey_domain::SecurityEvent::LoginSucceeded {
        user_id: user.id.clone(),
        session_id: session.id.clone(),
        acr: acr.to_owned(),
        amr: session.amr.clone(),
    });
    Ok((session, secret))
}

/// [`start`] for the browser of `headers` at `peer`: the user agent and
/// address are kept with the session (bounded, and only for a while).
pub async fn start_for_browser(
    state: &AppState,
    user: &User,
    acr: &str,
    amr: &[&str],
    headers: &HeaderMap,
    peer: std::net::SocketAddr,
) -> Result<(Session, String), ApiError> {
    let user_agent = headers.get(axum::http::header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_string);
    start(state, user, acr, amr, user_agent, Some(peer.ip().to_string())).await
}

/// Adds the new session's cookie to `response`.
pub fn set_session_cookie(
    state: &AppState,
    mut response: axum::response::Response,
    secret: &str,
) -> axum::response::Response {
    if let Some(c) = session_cookie(state, secret, state.config.session_ttl) {
        response.headers_mut().append(axum::http::header::SET_COOKIE, c);
    }
    response
}

/// Every cookie we set: `HttpOnly`, scoped to the issuer's path, `Secure`
/// whenever the issuer is https. `same_site` is `Lax` or `Strict`.
pub fn cookie_header(state: &AppState, name: &str, value: &str, max_age: u64, same_site: &str) -> Option<HeaderValue> {
    let path = match state.issuer.path() {
        "" => "/",
        p => p,
    };
    let secure = if state.issuer.as_str().starts_with("https://") { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite={same_site}{secure}"
    ))
    .ok()
}

pub fn session_cookie(state: &AppState, secret: &str, ttl: Duration) -> Option<HeaderValue> {
    cookie_header(state, &session_cookie_name(state), secret, ttl.as_secs(), "Lax")
}

/// The double-submit CSRF check of every form: the value posted must equal
/// the CSRF cookie's (which a cross-site form can never carry).
pub fn csrf_matches(state: &AppState, headers: &HeaderMap, sent: &str) -> bool {
    let expected = cookie(headers, &csrf_cookie_name(state)).unwrap_or_default();
    !sent.is_empty() && digest::secrets_equal(sent, &expected)
}

/// The login form's CSRF cookie (double submit): `SameSite=Strict`, so a
/// cross-site form can never carry it.
pub fn csrf_cookie(state: &AppState, value: &str) -> Option<HeaderValue> {
    cookie_header(state, &csrf_cookie_name(state), value, 3600, "Strict")
}

/// Removes the session cookie from the browser (logout).
pub fn clear_session_cookie(state: &AppState) -> Option<HeaderValue> {
    cookie_header(state, &session_cookie_name(state), "", 0, "Lax")
}
