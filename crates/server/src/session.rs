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
    Ok((session, secret))
}

fn cookie_path(state: &AppState) -> String {
    let p = state.issuer.path();
    if p.is_empty() { "/".to_string() } else { p.to_string() }
}

fn secure(state: &AppState) -> &'static str {
    if state.issuer.as_str().starts_with("https://") { "; Secure" } else { "" }
}

pub fn session_cookie(state: &AppState, secret: &str, ttl: Duration) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!(
        "{}={secret}; Path={}; Max-Age={}; HttpOnly; SameSite=Lax{}",
        session_cookie_name(state),
        cookie_path(state),
        ttl.as_secs(),
        secure(state)
    ))
    .ok()
}

/// The login form's CSRF cookie (double submit): `SameSite=Strict`, so a
/// cross-site form can never carry it.
pub fn csrf_cookie(state: &AppState, value: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!(
        "{}={value}; Path={}; Max-Age=3600; HttpOnly; SameSite=Strict{}",
        csrf_cookie_name(state),
        cookie_path(state),
        secure(state)
    ))
    .ok()
}

/// Removes the session cookie from the browser (logout).
pub fn clear_session_cookie(state: &AppState) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!(
        "{}=; Path={}; Max-Age=0; HttpOnly; SameSite=Lax{}",
        session_cookie_name(state),
        cookie_path(state),
        secure(state)
    ))
    .ok()
}
