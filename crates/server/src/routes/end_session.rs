//! The end-session endpoint (OpenID Connect RP-Initiated Logout 1.0).
//!
//! - `id_token_hint` is checked for our signature and issuer, and accepted
//!   even when expired (§2: an RP logs out long after the ID token's life).
//! - The browser goes to `post_logout_redirect_uri` (with `state`) only when
//!   the client is identified (by the hint or `client_id`) and registered
//!   that exact URI; otherwise the user stays on our "signed out" page.
//! - Without a hint naming this browser's session, the user confirms first
//!   (a CSRF-protected form): a third-party page must not be able to sign
//!   people out by linking here.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::Response;
use latchkey_crypto::random;
use latchkey_domain::Client;
use latchkey_domain::logout::post_logout_redirect_allowed;
use latchkey_domain::params::Params;

use crate::authorization::see_other;
use crate::error::ApiError;
use crate::forms::parse_urlencoded;
use crate::middleware::PAGE_CSP;
use crate::pages::{csp_with_form_target, error_page, escape, page};
use crate::session;
use crate::state::AppState;

pub async fn handle(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let params = if method == Method::POST {
        if crate::forms::require_form(&headers).is_err() {
            return Ok(error_page(StatusCode::BAD_REQUEST, "The logout form could not be read."));
        }
        parse_urlencoded(&body)
    } else {
        parse_urlencoded(uri.query().unwrap_or("").as_bytes())
    };
    if let Some(name) = params.first_repeated() {
        return Ok(error_page(StatusCode::BAD_REQUEST, &format!("The parameter {name} is repeated.")));
    }
    let get = |name: &str| params.single(name).ok().flatten().map(str::to_string);

    let hint = match get("id_token_hint") {
        None => None,
        Some(t) => match crate::tokens::verify_id_token_signature(&state, &t) {
            // Expiry deliberately not checked (§2).
            Ok(claims) => Some(claims),
            Err(_) => {
                return Ok(error_page(
                    StatusCode::BAD_REQUEST,
                    "The logout request carries an id_token_hint this server did not issue.",
                ));
            }
        },
    };
    let client_id = match (hint.as_ref().map(|h| h.aud.clone()), get("client_id")) {
        (Some(a), Some(c)) if a != c => {
            return Ok(error_page(StatusCode::BAD_REQUEST, "client_id does not match the id_token_hint."));
        }
        (Some(a), _) => Some(a),
        (None, c) => c,
    };
    let client = match &client_id {
        Some(id) => state.caches.clients.get(&state.store, id).await?,
        None => None,
    };
    let requested_redirect = get("post_logout_redirect_uri");
    let redirect = requested_redirect.clone().filter(|u| post_logout_redirect_allowed(client.as_deref(), u));
    let logout_state = get("state");

    let current = session::current(&state, &headers).await?;
    if let Some((session, user)) = &current {
        let hint_names_this_session = hint.as_ref().is_some_and(|h| match &h.sid {
            Some(sid) => *sid == session.id,
            None => h.sub == user.id,
        });
        if !hint_names_this_session && !confirmed(&state, &method, &params, &headers) {
            return Ok(confirmation_page(&state, &params, client.as_deref(), redirect.as_deref()));
        }
        crate::logout::end_session(&state, session, "logout").await?;
    }

    let mut response = match &redirect {
        Some(uri) => {
            let mut target = url::Url::parse(uri).map_err(ApiError::internal)?;
            if let Some(s) = &logout_state {
                target.query_pairs_mut().append_pair("state", s);
            }
            see_other(target.as_str())
        }
        None => signed_out_page(client.as_deref(), requested_redirect.is_some()),
    };
    if let Some(c) = session::clear_session_cookie(&state) {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(response)
}

/// A POST of our own confirmation form, with its CSRF value.
fn confirmed(state: &AppState, method: &Method, params: &Params, headers: &HeaderMap) -> bool {
    if *method != Method::POST || params.single("confirm").ok().flatten() != Some("yes") {
        return false;
    }
    session::csrf_matches(state, headers, params.single("csrf").ok().flatten().unwrap_or(""))
}

fn confirmation_page(state: &AppState, params: &Params, client: Option<&Client>, redirect: Option<&str>) -> Response {
    let csrf = random::token(24);
    let mut hidden = String::new();
    for name in ["id_token_hint", "client_id", "post_logout_redirect_uri", "state"] {
        if let Some(v) = params.single(name).ok().flatten() {
            hidden.push_str(&format!("<input type=\"hidden\" name=\"{name}\" value=\"{}\">", escape(v)));
        }
    }
    let who = client.map(|c| format!(" from {}", escape(&c.name))).unwrap_or_default();
    let body = format!(
        "<h1>Sign out?</h1><p>You asked to sign out{who}. This ends your session here and in the applications that use it.</p>\
         <form method=\"post\" action=\"logout\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <input type=\"hidden\" name=\"confirm\" value=\"yes\">{hidden}<button type=\"submit\">Sign out</button></form>",
        escape(&csrf)
    );
    // The confirmed POST may end at the client's registered URI.
    let csp = redirect.map(csp_with_form_target).unwrap_or_else(|| PAGE_CSP.to_string());
    let mut response = page(StatusCode::OK, "Sign out", &body, &csp);
    if let Some(c) = session::csrf_cookie(state, &csrf) {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    response
}

fn signed_out_page(client: Option<&Client>, unregistered_redirect: bool) -> Response {
    let back = match (client, unregistered_redirect) {
        (Some(c), true) => format!(
            "<p>{} asked to send you back to an address it has not registered, so you stay here. You can close this page.</p>",
            escape(&c.name)
        ),
        (None, true) => "<p>The application that sent you here could not be identified, so you stay here. You can close this page.</p>".to_string(),
        _ => "<p>You can close this page.</p>".to_string(),
    };
    page(StatusCode::OK, "Signed out", &format!("<h1>You are signed out</h1>{back}"), PAGE_CSP)
}
