//! The consent page (OIDC Core §3.1.2.4): what the client asks for, in
//! words, with Allow and Deny. Shown to signed-in users only, for parked
//! requests, with the same double-submit CSRF protection as the login form.
//! A decision is remembered per user and client; more scopes ask again.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use latchkey_crypto::random;
use latchkey_domain::{ErrorCode, OAuthError, ScopeSet, UnixTime};

use crate::authorization::{error_response, issue_code};
use crate::error::ApiError;
use crate::forms::parse_urlencoded;
use crate::pages::{error_page, escape, page};
use crate::routes::login::{EXPIRED, TxQuery, parked};
use crate::session;
use crate::state::AppState;

fn describe(state: &AppState, scope: &str) -> String {
    match scope {
        "openid" => "Sign you in with your account".into(),
        "profile" => "See your name and username".into(),
        "email" => "See your email address".into(),
        "offline_access" => "Keep access while you are not using it".into(),
        other => state
            .resources
            .iter()
            .flat_map(|r| r.scopes.iter())
            .find(|s| s.name == other && !s.description.is_empty())
            .map(|s| s.description.clone())
            .unwrap_or_else(|| format!("Use the permission \u{201c}{other}\u{201d}")),
    }
}

pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<TxQuery>,
) -> Result<Response, ApiError> {
    let tx = q.tx.unwrap_or_default();
    let Some(req) = parked(&state, &tx).await? else { return Ok(error_page(StatusCode::BAD_REQUEST, EXPIRED)) };
    if session::current(&state, &headers).await?.is_none() {
        return Ok(error_page(
            StatusCode::BAD_REQUEST,
            "You are not signed in. Go back to the application and start again.",
        ));
    }
    let Some(client) = state.store.get_client(&req.client_id).await? else {
        return Ok(error_page(StatusCode::BAD_REQUEST, EXPIRED));
    };
    let items: String = req.scopes.iter().map(|s| format!("<li>{}</li>", escape(&describe(&state, s)))).collect();
    let csrf = random::token(24);
    // A developer's sandbox app is anyone's code: say so plainly.
    let sandbox = if client.origin == latchkey_domain::user::Origin::Sandbox {
        "<p class=\"error\">This is a <strong>sandbox</strong> app, registered by a developer for testing. \
         It is not reviewed by the operator of this server.</p>"
    } else {
        ""
    };
    let body = format!(
        "<h1>Allow access?</h1>{sandbox}<p><strong>{}</strong> would like to:</p><ul>{items}</ul>\
         <form method=\"post\" action=\"consent\"><input type=\"hidden\" name=\"tx\" value=\"{}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <button type=\"submit\" name=\"decision\" value=\"approve\">Allow</button> \
         <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></form>",
        escape(&client.name),
        escape(&tx),
        escape(&csrf)
    );
    let mut response =
        page(StatusCode::OK, "Allow access?", &body, &crate::pages::csp_with_form_target(&req.redirect_uri));
    if let Some(c) = session::csrf_cookie(&state, &csrf) {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(response)
}

pub async fn decide(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    if crate::forms::require_form(&headers).is_err() {
        return Ok(error_page(StatusCode::BAD_REQUEST, "The form could not be read."));
    }
    let params = parse_urlencoded(&body);
    let get = |name: &str| params.single(name).ok().flatten().unwrap_or("").to_string();
    let (tx, csrf, decision) = (get("tx"), get("csrf"), get("decision"));
    if !session::csrf_matches(&state, &headers, &csrf) {
        return Ok(error_page(StatusCode::FORBIDDEN, "The consent form expired. Go back and try again."));
    }
    let Some(req) = parked(&state, &tx).await? else { return Ok(error_page(StatusCode::BAD_REQUEST, EXPIRED)) };
    let Some((session, user)) = session::current(&state, &headers).await? else {
        return Ok(error_page(
            StatusCode::BAD_REQUEST,
            "You are not signed in. Go back to the application and start again.",
        ));
    };
    // The decision completes the request once.
    if !state.store.take_auth_request(&tx).await? {
        return Ok(error_page(StatusCode::BAD_REQUEST, EXPIRED));
    }
    if decision != "approve" {
        return Ok(error_response(
            &state,
            &req.redirect_uri,
            req.response_mode,
            req.state.as_deref(),
            &OAuthError::new(ErrorCode::AccessDenied, "the user denied the request"),
        ));
    }
    let previous = state.store.get_consent(&user.id, &req.client_id).await?.and_then(|s| ScopeSet::parse(&s).ok());
    let allowed = previous.map(|p| p.union(&req.scopes)).unwrap_or_else(|| req.scopes.clone());
    state.store.put_consent(&user.id, &req.client_id, &allowed.to_string(), UnixTime::now()).await?;
    state.events.emit(latchkey_domain::SecurityEvent::ConsentGranted {
        user_id: user.id.clone(),
        client_id: req.client_id.clone(),
        scope: req.scopes.to_string(),
    });
    issue_code(&state, &req, &session, &user).await
}
