//! Answering an authorization request: issuing the code for a signed-in
//! user, and sending success or error back to the client by query or
//! form_post, always with `iss` (RFC 9207).

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use latchkey_crypto::{digest, random};
use latchkey_domain::authorize::{AuthorizationRequest, AuthorizeError, Prompt, ResponseMode};
use latchkey_domain::consent::needs_consent;
use latchkey_domain::user::Origin;
use latchkey_domain::{ErrorCode, OAuthError, ScopeSet, UnixTime, User};
use latchkey_store::{Grant, Session};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::pages::{escape, page};
use crate::state::AppState;

/// Everything an authorization code is bound to (stored as JSON with it).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CodeBinding {
    pub redirect_uri: String,
    pub redirect_uri_sent: bool,
    pub code_challenge: Option<String>,
    pub nonce: Option<String>,
    pub scopes: String,
    pub user_id: String,
    pub session_id: String,
    #[serde(default)]
    pub resource: Option<String>,
}

/// How long a parked request waits for the user to sign in or consent.
pub const AUTH_REQUEST_TTL: Duration = Duration::from_secs(600);

/// Parks `req` server-side; the login and consent pages continue from the
/// returned id, never from a URL the client supplied.
pub async fn park(state: &AppState, req: &AuthorizationRequest) -> Result<String, ApiError> {
    let now = UnixTime::now();
    let id = random::token(24);
    let json = serde_json::to_string(req).map_err(ApiError::internal)?;
    state.store.insert_auth_request(&id, &json, now, now.plus(AUTH_REQUEST_TTL)).await?;
    Ok(id)
}

pub fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Once the user is known: ask for consent when needed (OIDC Core
/// §3.1.2.4), or fail under `prompt=none`; otherwise issue the code. `tx`
/// is the id of the parked request, if it is parked: it is taken (once) when
/// the code is issued.
pub async fn proceed(
    state: &AppState,
    req: &AuthorizationRequest,
    session: &Session,
    user: &User,
    tx: Option<&str>,
) -> Result<Response, ApiError> {
    let client = state.store.get_client(&req.client_id).await?.ok_or_else(|| ApiError::internal("client vanished"))?;
    // A developer's test user is for their sandbox apps only: it must not
    // become a way to hold an account on real apps (or on the portal).
    if user.origin == Origin::Sandbox && client.origin != Origin::Sandbox {
        return Ok(error_response(
            state,
            &req.redirect_uri,
            req.response_mode,
            req.state.as_deref(),
            &OAuthError::new(ErrorCode::AccessDenied, "test users may sign in only to sandbox apps"),
        ));
    }
    let allowed = state.store.get_consent(&user.id, &client.id).await?.and_then(|s| ScopeSet::parse(&s).ok());
    if needs_consent(&client, allowed.as_ref(), &req.scopes, req.has_prompt(Prompt::Consent)) {
        if req.has_prompt(Prompt::None) {
            return Ok(error_response(
                state,
                &req.redirect_uri,
                req.response_mode,
                req.state.as_deref(),
                &OAuthError::new(
                    ErrorCode::ConsentRequired,
                    "the user must consent, and prompt=none forbids showing a page",
                ),
            ));
        }
        let tx = match tx {
            Some(t) => t.to_string(),
            None => park(state, req).await?,
        };
        return Ok(see_other(&state.issuer.endpoint(&format!("/consent?tx={tx}"))));
    }
    if let Some(t) = tx
        && !state.store.take_auth_request(t).await?
    {
        return Ok(crate::pages::error_page(StatusCode::BAD_REQUEST, crate::routes::login::EXPIRED));
    }
    issue_code(state, req, session, user).await
}

/// Issues a code for `req` on behalf of the user of `session`, and sends it.
pub async fn issue_code(
    state: &AppState,
    req: &AuthorizationRequest,
    session: &Session,
    user: &User,
) -> Result<Response, ApiError> {
    let now = UnixTime::now();
    let client = state.store.get_client(&req.client_id).await?.ok_or_else(|| ApiError::internal("client vanished"))?;
    let grant_ttl = client.refresh_token_ttl.map(Duration::from_secs).unwrap_or(state.config.tokens.refresh_token_ttl);
    let grant = Grant {
        id: random::id(),
        user_id: Some(user.id.clone()),
        client_id: client.id.clone(),
        session_id: Some(session.id.clone()),
        scopes: req.scopes.to_string(),
        auth_time: Some(session.auth_time),
        acr: session.acr.clone(),
        amr: session.amr.clone(),
        resource: req.resource.clone(),
        created_at: now,
        expires_at: now.plus(grant_ttl),
        revoked_at: None,
    };
    state.store.insert_grant(&grant).await?;

    // 256 bits, stored only as a digest, single use, short-lived.
    let code = random::token(32);
    let binding = CodeBinding {
        redirect_uri: req.redirect_uri.clone(),
        redirect_uri_sent: req.redirect_uri_sent,
        code_challenge: req.code_challenge.clone(),
        nonce: req.nonce.clone(),
        scopes: req.scopes.to_string(),
        user_id: user.id.clone(),
        session_id: session.id.clone(),
        resource: req.resource.clone(),
    };
    let binding_json = serde_json::to_string(&binding).map_err(ApiError::internal)?;
    state
        .store
        .insert_authorization_code(
            &digest::secret_digest(&code),
            &client.id,
            &grant.id,
            &binding_json,
            now,
            now.plus(state.config.tokens.authorization_code_ttl),
        )
        .await?;
    let mut params = vec![("code", code)];
    if let Some(s) = &req.state {
        params.push(("state", s.clone()));
    }
    params.push(("iss", state.issuer.as_str().to_string()));
    Ok(respond(&req.redirect_uri, req.response_mode, &params))
}

/// An error sent to the client (only once client and redirect URI are
/// known good).
pub fn error_response(
    state: &AppState,
    redirect_uri: &str,
    mode: ResponseMode,
    client_state: Option<&str>,
    error: &OAuthError,
) -> Response {
    tracing::info!(
        trace_id = crate::error::current_request_id(),
        error = error.code.as_str(),
        reason = error.description,
        "authorization request refused"
    );
    crate::error::set_request_refusal(error.code.as_str(), false, &error.description);
    let mut params = vec![("error", error.code.as_str().to_string()), ("error_description", error.description.clone())];
    params.push(("error_uri", state.issuer.error_uri(error.code.as_str())));
    if let Some(s) = client_state {
        params.push(("state", s.to_string()));
    }
    params.push(("iss", state.issuer.as_str().to_string()));
    respond(redirect_uri, mode, &params)
}

pub fn authorize_error(state: &AppState, e: AuthorizeError) -> Response {
    match e {
        AuthorizeError::Fatal(message) => crate::pages::error_page(StatusCode::BAD_REQUEST, &message),
        AuthorizeError::Redirect { redirect_uri, response_mode, state: client_state, error } => {
            error_response(state, &redirect_uri, response_mode, client_state.as_deref(), &error)
        }
    }
}

fn respond(redirect_uri: &str, mode: ResponseMode, params: &[(&str, String)]) -> Response {
    match mode {
        ResponseMode::Query => {
            let mut url = match url::Url::parse(redirect_uri) {
                Ok(u) => u,
                Err(_) => return crate::pages::error_page(StatusCode::BAD_REQUEST, "The redirect URI is not valid."),
            };
            {
                let mut q = url.query_pairs_mut();
                for (k, v) in params {
                    q.append_pair(k, v);
                }
            }
            see_other(url.as_str())
        }
        ResponseMode::FormPost => form_post(redirect_uri, params),
    }
}

/// OAuth 2.0 Form Post Response Mode: a form that posts itself. Without
/// JavaScript the user presses the button; with it, a script whose hash is
/// the only one the CSP allows submits it.
const AUTO_SUBMIT: &str = "document.forms[0].submit();";

fn form_post(redirect_uri: &str, params: &[(&str, String)]) -> Response {
    let inputs: String = params
        .iter()
        .map(|(k, v)| format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", escape(k), escape(v)))
        .collect();
    let body = format!(
        "<h1>Returning to the application</h1><form method=\"post\" action=\"{}\">{inputs}\
         <noscript><p>JavaScript is off: press the button to continue.</p></noscript>\
         <button type=\"submit\">Continue</button></form><script>{AUTO_SUBMIT}</script>",
        escape(redirect_uri)
    );
    let origin = crate::pages::csp_source(redirect_uri);
    let script_hash = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(digest::sha256(AUTO_SUBMIT.as_bytes()))
    };
    let csp = format!(
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{script_hash}'; form-action {origin}; frame-ancestors 'none'; base-uri 'none'"
    );
    page(StatusCode::OK, "Returning to the application", &body, &csp)
}
