//! The TOTP second factor (RFC 6238): enrolment, the one-time-code step of
//! a login, and step-up when a client asks for `acr_values` naming MFA.
//!
//! - Enrolment (`/account/totp`) needs a signed-in session *and* the
//!   password typed again; the secret is sealed with the master key.
//! - Between the password and the code, the user holds a short-lived
//!   sealed "pending" cookie naming them and the parked request; no session
//!   exists yet, so a password alone never yields a session for an
//!   enrolled user.
//! - Each code (time step) is accepted once; attempts are throttled like
//!   passwords. Success starts a new session (new id) with
//!   `acr = urn:latchkey:acr:mfa` and `amr = ["pwd", "otp", "mfa"]` (RFC 8176).

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use latchkey_crypto::{random, totp};
use latchkey_domain::id_token::ACR_MFA;
use latchkey_domain::throttle;
use latchkey_domain::{SecurityEvent, UnixTime, User};
use serde::{Deserialize, Serialize};

use crate::authorization::{proceed, see_other};
use crate::error::ApiError;
use crate::forms::{cookie, parse_urlencoded};
use crate::middleware::PAGE_CSP;
use crate::pages::{error_page, escape, page};
use crate::routes::login::{EXPIRED, TxQuery, check_password, parked};
use crate::session;
use crate::state::AppState;

const PENDING_COOKIE: &str = "latchkey_mfa";
/// How long the code step may take after the password step.
const PENDING_TTL_SECS: i64 = 300;

/// Who passed the first factor, for which parked request.
#[derive(Serialize, Deserialize)]
struct Pending {
    user_id: String,
    tx: String,
    exp: i64,
    /// Step-up: the password session this one replaces.
    replaces: Option<String>,
}

fn seal_context(user_id: &str) -> String {
    format!("totp:{user_id}")
}

/// Whether the user has a confirmed second factor.
pub async fn has_totp(state: &AppState, user_id: &str) -> Result<bool, ApiError> {
    Ok(state.store.get_totp(user_id).await?.is_some_and(|t| t.confirmed))
}

/// Sends the user to the code step for parked request `tx`.
pub fn begin_second_factor(state: &AppState, user_id: &str, tx: &str, replaces: Option<String>) -> Response {
    let pending = Pending {
        user_id: user_id.to_string(),
        tx: tx.to_string(),
        exp: UnixTime::now().0 + PENDING_TTL_SECS,
        replaces,
    };
    let sealed = serde_json::to_vec(&pending)
        .ok()
        .and_then(|json| state.master.seal(PENDING_COOKIE, &json).ok())
        .map(|s| URL_SAFE_NO_PAD.encode(s))
        .unwrap_or_default();
    let mut response = see_other(&state.issuer.endpoint(&format!("/login/otp?tx={tx}")));
    if let Some(c) = pending_cookie(state, &sealed, PENDING_TTL_SECS) {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    response
}

fn pending_cookie(state: &AppState, value: &str, max_age: i64) -> Option<HeaderValue> {
    session::cookie_header(state, PENDING_COOKIE, value, u64::try_from(max_age).unwrap_or(0), "Strict")
}

fn read_pending(state: &AppState, headers: &HeaderMap) -> Option<Pending> {
    let raw = cookie(headers, PENDING_COOKIE)?;
    let sealed = URL_SAFE_NO_PAD.decode(raw).ok()?;
    let json = state.master.open(PENDING_COOKIE, &sealed).ok()?;
    let pending: Pending = serde_json::from_slice(&json).ok()?;
    (pending.exp > UnixTime::now().0).then_some(pending)
}

fn code_form(action: &str, tx: &str, csrf: &str, error: Option<&str>) -> String {
    let error = error.map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e))).unwrap_or_default();
    format!(
        "<h1>Two-step verification</h1>{error}<form method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"tx\" value=\"{}\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <label for=\"code\">Code from your authenticator app</label>\
         <input id=\"code\" name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" pattern=\"[0-9]{{6}}\" required autofocus>\
         <button type=\"submit\">Verify</button></form>",
        escape(tx),
        escape(csrf)
    )
}

fn with_csrf(state: &AppState, csrf: &str, mut response: Response) -> Response {
    if let Some(c) = session::csrf_cookie(state, csrf) {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    response
}

fn otp_page(state: &AppState, status: StatusCode, tx: &str, error: Option<&str>) -> Response {
    let csrf = random::token(24);
    with_csrf(state, &csrf, page(status, "Two-step verification", &code_form("otp", tx, &csrf, error), PAGE_CSP))
}

pub async fn otp_show(
    State(state): State<AppState>,
    Query(q): Query<TxQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let tx = q.tx.unwrap_or_default();
    match read_pending(&state, &headers) {
        Some(p) if p.tx == tx => Ok(otp_page(&state, StatusCode::OK, &tx, None)),
        _ => Ok(error_page(StatusCode::BAD_REQUEST, EXPIRED)),
    }
}

/// Checks a code for `user`: throttled, replay-protected. `Err(message)`
/// is what the user is told.
async fn check_code(
    state: &AppState,
    user: &User,
    code: &str,
    peer: SocketAddr,
) -> Result<Result<(), String>, ApiError> {
    let now = UnixTime::now();
    let (key, address) = (format!("otp:{}", user.id), throttle::address_key(peer.ip()));
    if let Some(until) = state.store.login_blocked_until([&key, &address], now).await? {
        return Ok(Err(format!("Too many wrong codes. Wait {} seconds, then try again.", until.0 - now.0)));
    }
    let Some(cred) = state.store.get_totp(&user.id).await?.filter(|c| c.confirmed) else {
        return Ok(Err("Two-step verification is not set up for this account.".into()));
    };
    let secret = state.master.open(&seal_context(&user.id), &cred.sealed_secret).map_err(ApiError::internal)?;
    let Some(step) = totp::verify(&secret, code, now.0) else {
        state.store.record_login_failure(&key, now, &state.config.login_throttle_account).await?;
        state.store.record_login_failure(&address, now, &state.config.login_throttle_address).await?;
        state.events.emit(SecurityEvent::SecondFactorFailed { user_id: user.id.clone() });
        return Ok(Err("That code is not right. Try the current one.".into()));
    };
    if !state.store.use_totp_step(&user.id, step).await? {
        state.events.emit(SecurityEvent::SecondFactorFailed { user_id: user.id.clone() });
        return Ok(Err("That code was already used. Wait for the next one.".into()));
    }
    state.store.clear_login_failures(&key).await?;
    state.events.emit(SecurityEvent::SecondFactorVerified { user_id: user.id.clone() });
    Ok(Ok(()))
}

pub async fn otp_submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let params = parse_urlencoded(&body);
    let get = |name: &str| params.single(name).ok().flatten().unwrap_or("").to_string();
    let (tx, csrf, code) = (get("tx"), get("csrf"), get("code"));
    if !session::csrf_matches(&state, &headers, &csrf) {
        return Ok(error_page(StatusCode::FORBIDDEN, "The form expired. Go back and try again."));
    }
    let Some(pending) = read_pending(&state, &headers).filter(|p| p.tx == tx) else {
        return Ok(error_page(StatusCode::BAD_REQUEST, EXPIRED));
    };
    let Some(req) = parked(&state, &tx).await? else {
        return Ok(error_page(StatusCode::BAD_REQUEST, EXPIRED));
    };
    let Some(user) = state.store.get_user(&pending.user_id).await?.filter(|u| !u.disabled) else {
        return Ok(error_page(StatusCode::BAD_REQUEST, EXPIRED));
    };
    if let Err(message) = check_code(&state, &user, &code, peer).await? {
        return Ok(otp_page(&state, StatusCode::OK, &tx, Some(&message)));
    }
    let (session, secret) =
        session::start_for_browser(&state, &user, ACR_MFA, &["pwd", "otp", "mfa"], &headers, peer).await?;
    // A new session at step-up too: the old id is retired, its grants
    // move to the new session (logging out still reaches them).
    if let Some(old) = &pending.replaces {
        state.store.move_session_grants(old, &session.id).await?;
        state.store.end_session(old, UnixTime::now()).await?;
        state.caches.sync(&state.store).await?;
    }
    let response = proceed(&state, &req, &session, &user, Some(&tx)).await?;
    let mut response = session::set_session_cookie(&state, response, &secret);
    if let Some(c) = pending_cookie(&state, "", 0) {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(response)
}

// ---- enrolment ---------------------------------------------------------------------------

fn enrol_page(state: &AppState, title: &str, body: &str) -> Response {
    let csrf = random::token(24);
    let body = body.replace("{csrf}", &escape(&csrf));
    with_csrf(state, &csrf, page(StatusCode::OK, title, &body, PAGE_CSP))
}

const PASSWORD_FORM: &str = "<h1>Set up two-step verification</h1><p>Confirm your password to continue.</p>\
    <form method=\"post\" action=\"totp\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
    <input type=\"hidden\" name=\"step\" value=\"password\">\
    <label for=\"password\">Password</label>\
    <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required autofocus>\
    <button type=\"submit\">Continue</button></form>";

pub async fn enrol_show(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let Some((_, user)) = session::current(&state, &headers).await? else {
        return Ok(error_page(StatusCode::UNAUTHORIZED, "Sign in first, then come back to this page."));
    };
    if has_totp(&state, &user.id).await? {
        return Ok(page(StatusCode::OK, "Two-step verification", "<h1>Two-step verification is on</h1>", PAGE_CSP));
    }
    Ok(enrol_page(&state, "Set up two-step verification", PASSWORD_FORM))
}

pub async fn enrol_submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let params = parse_urlencoded(&body);
    let get = |name: &str| params.single(name).ok().flatten().unwrap_or("").to_string();
    if !session::csrf_matches(&state, &headers, &get("csrf")) {
        return Ok(error_page(StatusCode::FORBIDDEN, "The form expired. Go back and try again."));
    }
    let Some((_, user)) = session::current(&state, &headers).await? else {
        return Ok(error_page(StatusCode::UNAUTHORIZED, "Sign in first, then come back to this page."));
    };
    if has_totp(&state, &user.id).await? {
        return Ok(page(StatusCode::OK, "Two-step verification", "<h1>Two-step verification is on</h1>", PAGE_CSP));
    }
    let now = UnixTime::now();
    match get("step").as_str() {
        "password" => {
            // A fresh password entry, throttled like a login.
            let (key, address) = (throttle::account_key(&user.username), throttle::address_key(peer.ip()));
            if state.store.login_blocked_until([&key, &address], now).await?.is_some() {
                let mut response = enrol_page(&state, "Set up two-step verification", PASSWORD_FORM);
                *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
                return Ok(response);
            }
            if check_password(&state, &user.username, &get("password")).await?.is_none() {
                state.store.record_login_failure(&key, now, &state.config.login_throttle_account).await?;
                state.store.record_login_failure(&address, now, &state.config.login_throttle_address).await?;
                return Ok(enrol_page(&state, "Set up two-step verification", PASSWORD_FORM));
            }
            let secret = random::bytes(totp::SECRET_BYTES);
            let sealed = state.master.seal(&seal_context(&user.id), &secret).map_err(ApiError::internal)?;
            state.store.put_pending_totp(&user.id, &sealed, now).await?;
            let encoded = totp::base32(&secret);
            let label = format!("Latchkey:{}", user.username);
            let mut uri = url::Url::parse("otpauth://totp/").map_err(ApiError::internal)?;
            uri.set_path(&label);
            uri.query_pairs_mut()
                .append_pair("secret", &encoded)
                .append_pair("issuer", "Latchkey")
                .append_pair("algorithm", "SHA1")
                .append_pair("digits", "6")
                .append_pair("period", "30");
            let body = format!(
                "<h1>Add Latchkey to your authenticator app</h1>\
                 <p>Enter this key in the app (or open the link on your phone), then type the code it shows.</p>\
                 <p><code id=\"secret\">{}</code></p><p><a href=\"{}\">Open in authenticator app</a></p>\
                 <form method=\"post\" action=\"totp\"><input type=\"hidden\" name=\"csrf\" value=\"{{csrf}}\">\
                 <input type=\"hidden\" name=\"step\" value=\"confirm\">\
                 <label for=\"code\">Code</label>\
                 <input id=\"code\" name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" required>\
                 <button type=\"submit\">Turn on</button></form>",
                escape(&encoded),
                escape(uri.as_str())
            );
            Ok(enrol_page(&state, "Set up two-step verification", &body))
        }
        "confirm" => {
            let Some(cred) = state.store.get_totp(&user.id).await?.filter(|c| !c.confirmed) else {
                return Ok(enrol_page(&state, "Set up two-step verification", PASSWORD_FORM));
            };
            let secret = state.master.open(&seal_context(&user.id), &cred.sealed_secret).map_err(ApiError::internal)?;
            match totp::verify(&secret, &get("code"), now.0) {
                Some(step) if state.store.confirm_totp(&user.id, step).await? => {
                    state.events.emit(SecurityEvent::SecondFactorEnrolled { user_id: user.id.clone() });
                    Ok(page(
                        StatusCode::OK,
                        "Two-step verification",
                        "<h1>Two-step verification is on</h1><p>From now on, signing in asks for a code from your app.</p>",
                        PAGE_CSP,
                    ))
                }
                _ => Ok(enrol_page(
                    &state,
                    "Set up two-step verification",
                    "<h1>That code did not match</h1><p>Start again to get a new key.</p>\
                     <form method=\"get\" action=\"totp\"><button type=\"submit\">Start again</button></form>",
                )),
            }
        }
        _ => Ok(error_page(StatusCode::BAD_REQUEST, "The form could not be read.")),
    }
}
