//! Self-service sign-up, off unless `[signup] enabled = true`. Reached from
//! the login page of an authorization request: the new account is signed
//! in and the request continues. The account starts with
//! `email_verified = false` and no verification level (identity signals
//! raise it later). The same protections as login: a CSRF-protected form,
//! and throttling per source address (every attempt counts, successful or
//! not, so nobody creates accounts in bulk).

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use latchkey_crypto::{password, random};
use latchkey_domain::id_token::{ACR_PASSWORD, AcrRequirement, acr_requirement};
use latchkey_domain::user::{Origin, validate_new_password, validate_username};
use latchkey_domain::{SecurityEvent, UnixTime, User, throttle};

use crate::authorization::proceed;
use crate::error::ApiError;
use crate::forms::parse_urlencoded;
use crate::pages::{csp_with_form_target, error_page, escape, page};
use crate::routes::login::{EXPIRED, TxQuery, parked};
use crate::session;
use crate::state::AppState;

fn form(tx: &str, csrf: &str, username: &str, email: &str, error: Option<&str>) -> String {
    let error = error.map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e))).unwrap_or_default();
    format!(
        "<h1>Create an account</h1>{error}<form method=\"post\" action=\"signup\">\
         <input type=\"hidden\" name=\"tx\" value=\"{}\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <label for=\"username\">Username</label>\
         <input id=\"username\" name=\"username\" autocomplete=\"username\" required value=\"{}\" autofocus>\
         <label for=\"email\">Email (optional)</label>\
         <input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"email\" value=\"{}\">\
         <label for=\"password\">Password (at least 8 characters)</label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" minlength=\"8\" required>\
         <button type=\"submit\">Create account</button></form>\
         <p><a href=\"login?tx={}\">I already have an account</a></p>",
        escape(tx),
        escape(csrf),
        escape(username),
        escape(email),
        escape(tx)
    )
}

fn signup_page(
    state: &AppState,
    redirect_uri: &str,
    status: StatusCode,
    tx: &str,
    (username, email): (&str, &str),
    error: Option<&str>,
) -> Response {
    let csrf = random::token(24);
    let mut response = page(
        status,
        "Create an account",
        &form(tx, &csrf, username, email, error),
        &csp_with_form_target(redirect_uri),
    );
    if let Some(c) = session::csrf_cookie(state, &csrf) {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    response
}

fn disabled() -> Response {
    error_page(StatusCode::NOT_FOUND, "Sign-up is not available here. Ask an administrator for an account.")
}

pub async fn show(State(state): State<AppState>, Query(q): Query<TxQuery>) -> Result<Response, ApiError> {
    if !state.config.signup_enabled {
        return Ok(disabled());
    }
    let tx = q.tx.unwrap_or_default();
    let Some(req) = parked(&state, &tx).await? else {
        return Ok(error_page(StatusCode::BAD_REQUEST, EXPIRED));
    };
    Ok(signup_page(&state, &req.redirect_uri, StatusCode::OK, &tx, ("", ""), None))
}

pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    if !state.config.signup_enabled {
        return Ok(disabled());
    }
    if crate::forms::require_form(&headers).is_err() {
        return Ok(error_page(StatusCode::BAD_REQUEST, "The form could not be read."));
    }
    let params = parse_urlencoded(&body);
    let get = |name: &str| params.single(name).ok().flatten().unwrap_or("").to_string();
    let (tx, csrf, username, email, pass) = (get("tx"), get("csrf"), get("username"), get("email"), get("password"));
    if !session::csrf_matches(&state, &headers, &csrf) {
        return Ok(error_page(StatusCode::FORBIDDEN, "The form expired. Go back and try again."));
    }
    let Some(req) = parked(&state, &tx).await? else {
        return Ok(error_page(StatusCode::BAD_REQUEST, EXPIRED));
    };
    let again =
        |status, error: &str| signup_page(&state, &req.redirect_uri, status, &tx, (&username, &email), Some(error));

    // A new account has no second factor: a request that needs one
    // cannot be met this way (as at login).
    if acr_requirement(&req.acr_values) != AcrRequirement::Any {
        let _ = state.store.take_auth_request(&tx).await?;
        return Ok(crate::routes::login::unmet(&state, &req));
    }
    let now = UnixTime::now();
    let address = format!("signup:{}", throttle::address_key(peer.ip()));
    if let Some(until) = state.store.login_blocked_until([&address, &address], now).await? {
        let wait = until.0.saturating_sub(now.0).max(1);
        let mut response =
            again(StatusCode::TOO_MANY_REQUESTS, &format!("Too many sign-ups from here. Wait {wait} seconds."));
        response.headers_mut().insert(header::RETRY_AFTER, axum::http::HeaderValue::from(wait));
        return Ok(response);
    }
    state.store.record_login_failure(&address, now, &state.config.login_throttle_address).await?;

    if validate_username(&username).is_err() {
        return Ok(again(StatusCode::OK, "Choose a username of 1 to 128 characters without spaces."));
    }
    if let Err(message) = validate_new_password(&pass, &username) {
        return Ok(again(StatusCode::OK, message));
    }
    let email = email.trim().to_string();
    let plausible = email.contains('@') && email.len() <= 254 && !email.contains(char::is_whitespace);
    if !email.is_empty() && !plausible {
        return Ok(again(StatusCode::OK, "That email address does not look right."));
    }
    // Sign-up necessarily says whether a name is taken; the throttle keeps
    // that from becoming a fast way to list accounts.
    if state.store.username_taken_ignoring_case(&username).await? {
        return Ok(again(StatusCode::OK, "That username is taken. Choose another."));
    }
    let hash = {
        let _permit = state.password_checks.acquire().await.map_err(ApiError::internal)?;
        let p = pass.clone();
        tokio::task::spawn_blocking(move || password::hash(&p))
            .await
            .map_err(ApiError::internal)?
            .map_err(ApiError::internal)?
    };
    let user = User {
        id: random::id(),
        username: username.clone(),
        email: (!email.is_empty()).then_some(email.clone()),
        // Nobody has proven the address yet.
        email_verified: false,
        name: None,
        password_hash: Some(hash),
        disabled: false,
        origin: Origin::SignUp,
        created_at: now,
        updated_at: now,
    };
    match state.store.insert_user(&user).await {
        Ok(()) => {}
        Err(latchkey_store::StoreError::Conflict(_)) => {
            return Ok(again(StatusCode::OK, "That username is taken. Choose another."));
        }
        Err(e) => return Err(e.into()),
    }
    state.events.emit(SecurityEvent::UserCreated { user_id: user.id.clone() });
    let (session, secret) = session::start_for_browser(&state, &user, ACR_PASSWORD, &["pwd"], &headers, peer).await?;
    let response = proceed(&state, &req, &session, &user, Some(&tx)).await?;
    Ok(session::set_session_cookie(&state, response, &secret))
}
