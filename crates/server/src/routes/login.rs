//! The minimal login step: a username/password form that continues a
//! parked authorization request. It is a seam: the login-experience issue
//! replaces the page (consent, MFA, throttling) without touching the
//! protocol code, which only needs "a session for this user".

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use latchkey_crypto::{password, random};
use latchkey_domain::authorize::AuthorizationRequest;
use latchkey_domain::id_token::{ACR_PASSWORD, AcrRequirement, acr_requirement};
use latchkey_domain::throttle;
use latchkey_domain::{UnixTime, User};

use crate::authorization::proceed;
use crate::error::ApiError;
use crate::forms::parse_urlencoded;
use crate::pages::{error_page, escape, page};
use crate::session;
use crate::state::AppState;

#[derive(serde::Deserialize)]
pub struct TxQuery {
    pub tx: Option<String>,
}

pub const EXPIRED: &str =
    "This sign-in request has expired or was already used. Go back to the application and start again.";

/// The authorization request parked under `tx`, if it has not expired.
pub async fn parked(state: &AppState, tx: &str) -> Result<Option<AuthorizationRequest>, ApiError> {
    let Some(json) = state.store.get_auth_request(tx, UnixTime::now()).await? else { return Ok(None) };
    Ok(serde_json::from_str(&json).ok())
}

fn form(tx: &str, csrf: &str, username: &str, error: Option<&str>, signup: bool) -> String {
    let error = error.map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e))).unwrap_or_default();
    format!(
        "<h1>Sign in</h1>{error}<form method=\"post\" action=\"login\">\
         <input type=\"hidden\" name=\"tx\" value=\"{}\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <label for=\"username\">Username</label>\
         <input id=\"username\" name=\"username\" autocomplete=\"username\" required value=\"{}\" autofocus>\
         <label for=\"password\">Password</label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
         <button type=\"submit\">Sign in</button></form>{}",
        escape(tx),
        escape(csrf),
        escape(username),
        if signup {
            format!("<p><a href=\"signup?tx={}\">Create an account</a></p>", escape(tx))
        } else {
            String::new()
        }
    )
}

fn login_page(
    state: &AppState,
    req: &AuthorizationRequest,
    status: StatusCode,
    tx: &str,
    username: &str,
    error: Option<&str>,
) -> Response {
    let csrf = random::token(24);
    let csp = crate::pages::csp_with_form_target(&req.redirect_uri);
    let mut response = page(status, "Sign in", &form(tx, &csrf, username, error, state.config.signup_enabled), &csp);
    if let Some(c) = session::csrf_cookie(state, &csrf) {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    response
}

pub async fn show(State(state): State<AppState>, Query(q): Query<TxQuery>) -> Result<Response, ApiError> {
    let tx = q.tx.unwrap_or_default();
    let Some(req) = parked(&state, &tx).await? else {
        return Ok(error_page(StatusCode::BAD_REQUEST, EXPIRED));
    };
    Ok(login_page(&state, &req, StatusCode::OK, &tx, req.login_hint.as_deref().unwrap_or(""), None))
}

pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    if crate::forms::require_form(&headers).is_err() {
        return Ok(error_page(StatusCode::BAD_REQUEST, "The form could not be read."));
    }
    let params = parse_urlencoded(&body);
    let get = |name: &str| params.single(name).ok().flatten().unwrap_or("").to_string();
    let (tx, csrf, username, pass) = (get("tx"), get("csrf"), get("username"), get("password"));

    // Double-submit CSRF check: the form's value must equal the cookie's.
    if !session::csrf_matches(&state, &headers, &csrf) {
        return Ok(error_page(StatusCode::FORBIDDEN, "The sign-in form expired. Go back and try again."));
    }
    let Some(req) = parked(&state, &tx).await? else {
        return Ok(error_page(StatusCode::BAD_REQUEST, EXPIRED));
    };
    // Throttling before the password check: per submitted account name
    // (known or not, so it reveals nothing) and per source address.
    let now = UnixTime::now();
    let (account, address) = (throttle::account_key(&username), throttle::address_key(peer.ip()));
    if let Some(until) = state.store.login_blocked_until([&account, &address], now).await? {
        let wait = until.0.saturating_sub(now.0).max(1);
        tracing::info!(source = %address, "sign-in throttled");
        login_failed(&state, &username, None, "throttled");
        let message = format!("Too many failed sign-ins. Wait {wait} seconds, then try again.");
        let mut response = login_page(&state, &req, StatusCode::TOO_MANY_REQUESTS, &tx, &username, Some(&message));
        response.headers_mut().insert(header::RETRY_AFTER, axum::http::HeaderValue::from(wait));
        return Ok(response);
    }
    let Some(user) = check_password(&state, &username, &pass).await? else {
        state.store.record_login_failure(&account, now, &state.config.login_throttle_account).await?;
        state.store.record_login_failure(&address, now, &state.config.login_throttle_address).await?;
        // The account, if the name is one's (read after the password check,
        // which costs far more, so timing still reveals nothing).
        let account = state.store.get_user_by_username(&username).await.ok().flatten();
        login_failed(&state, &username, account.as_ref(), "wrong_credentials");
        // One message for unknown user, wrong password and disabled account.
        return Ok(login_page(&state, &req, StatusCode::OK, &tx, &username, Some("Wrong username or password.")));
    };
    state.store.clear_login_failures(&account).await?;
    // An enrolled user always gives the second factor; a request that
    // needs one from a user without it cannot be met.
    if crate::routes::mfa::has_totp(&state, &user.id).await? {
        return Ok(crate::routes::mfa::begin_second_factor(&state, &user.id, &tx, None));
    }
    if acr_requirement(&req.acr_values) != AcrRequirement::Any {
        let _ = state.store.take_auth_request(&tx).await?;
        return Ok(unmet(&state, &req));
    }
    let (session, secret) = session::start_for_browser(&state, &user, ACR_PASSWORD, &["pwd"], &headers, peer).await?;
    // Consent next if needed; the parked request is taken (once) when the
    // code is issued, so a double submit completes only once.
    let response = proceed(&state, &req, &session, &user, Some(&tx)).await?;
    Ok(session::set_session_cookie(&state, response, &secret))
}

/// Audits a refused sign-in: under the account's id when the name is an
/// account's (so a search by user finds it); an unknown name only as a
/// hash (it may be a password typed in the wrong field).
fn login_failed(state: &AppState, username: &str, account: Option<&latchkey_domain::User>, reason: &str) {
    let folded = username.to_lowercase();
    let hash = latchkey_crypto::digest::hex(&latchkey_crypto::digest::secret_digest(&folded));
    state.events.emit(latchkey_domain::SecurityEvent::LoginFailed {
        username: account.map(|u| u.username.clone()),
        username_hash: hash.chars().take(16).collect(),
        user_id: account.map(|u| u.id.clone()),
        reason: reason.to_owned(),
    });
}

/// The user if the password is right and the account enabled. An unknown
/// username costs the same Argon2 work as a wrong password.
pub(crate) async fn check_password(state: &AppState, username: &str, pass: &str) -> Result<Option<User>, ApiError> {
    let user = state.store.get_user_by_username(username).await?;
    let hash = user.as_ref().and_then(|u| u.password_hash.clone()).unwrap_or_else(|| state.dummy_password_hash.clone());
    let pass = pass.to_string();
    // Argon2 costs 19 MiB and tens of milliseconds: bound how many run at
    // once, so a flood of login posts cannot exhaust memory or threads.
    let _permit = state.password_checks.acquire().await.map_err(ApiError::internal)?;
    let ok = tokio::task::spawn_blocking(move || password::verify(&pass, &hash)).await.map_err(ApiError::internal)?;
    Ok(match user {
        Some(u) if ok && !u.disabled && u.password_hash.is_some() => Some(u),
        _ => None,
    })
}

/// The error sent back to the client when `acr_values` cannot be met.
pub fn unmet(state: &AppState, req: &AuthorizationRequest) -> Response {
    crate::authorization::error_response(
        state,
        &req.redirect_uri,
        req.response_mode,
        req.state.as_deref(),
        &latchkey_domain::OAuthError::new(
            latchkey_domain::ErrorCode::UnmetAuthenticationRequirements,
            "the requested acr_values cannot be met for this user",
        ),
    )
}
