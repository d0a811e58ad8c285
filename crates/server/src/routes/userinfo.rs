//! The UserInfo endpoint (OIDC Core §5.3): GET or POST with a bearer access
//! token in the Authorization header (RFC 6750 §2.1). Claims by scope. The
//! token must be one of our access tokens (an ID token is refused by its
//! `typ`), addressed to us, unrevoked, with its session still alive.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use latchkey_domain::access_token::TokenProblem;
use latchkey_domain::{ErrorCode, UnixTime};

use crate::error::ApiError;
use crate::state::AppState;

fn challenge(state: &AppState, status: StatusCode, code: ErrorCode, description: &str, reason: String) -> ApiError {
    let mut e = ApiError::new(status, code, description).with_reason(reason);
    e.www_authenticate = Some(format!(
        "Bearer realm=\"{}\", error=\"{}\", error_description=\"{description}\"",
        state.issuer.as_str(),
        code.as_str()
    ));
    e
}

fn invalid_token(state: &AppState, reason: impl Into<String>) -> ApiError {
    challenge(state, StatusCode::UNAUTHORIZED, ErrorCode::InvalidToken, "the access token is invalid", reason.into())
}

pub async fn handle(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Result<Response, ApiError> {
    if uri.query().is_some_and(|q| q.contains("access_token=")) {
        return Err(ApiError::bad_request("send the access token in the Authorization header, not the query string"));
    }
    let Some(token) = crate::forms::bearer_token(&headers) else {
        // RFC 6750 §3.1: no (bearer) token, no error code in the challenge.
        let mut e =
            ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::InvalidToken, "a bearer access token is required");
        e.www_authenticate = Some(format!("Bearer realm=\"{}\"", state.issuer.as_str()));
        return Err(e);
    };
    let claims = crate::access_tokens::verify(&state, token).await.map_err(|p| match p {
        TokenProblem::CheckUnavailable(r) => ApiError::unavailable(r),
        other => invalid_token(&state, other.to_string()),
    })?;
    if !claims.aud.contains(state.issuer.as_str()) {
        return Err(invalid_token(&state, "audience is not this server"));
    }
    let scopes = claims.scopes();
    if !scopes.contains("openid") {
        return Err(challenge(
            &state,
            StatusCode::FORBIDDEN,
            ErrorCode::InsufficientScope,
            "the access token lacks the openid scope",
            "no openid scope".into(),
        ));
    }
    let now = UnixTime::now();
    if let Some(sid) = &claims.sid
        && !state.caches.session_active(&state.store, sid, now).await?
    {
        return Err(invalid_token(&state, "the session has ended"));
    }
    let Some(user) = state.store.get_user(&claims.sub).await?.filter(|u| !u.disabled) else {
        return Err(invalid_token(&state, "user missing or disabled"));
    };

    let mut body = serde_json::Map::new();
    body.insert("sub".into(), user.id.clone().into());
    if scopes.contains("profile") {
        body.insert("preferred_username".into(), user.username.clone().into());
        if let Some(n) = &user.name {
            body.insert("name".into(), n.clone().into());
        }
        body.insert("updated_at".into(), user.updated_at.0.into());
    }
    if scopes.contains("email")
        && let Some(e) = &user.email
    {
        body.insert("email".into(), e.clone().into());
        body.insert("email_verified".into(), user.email_verified.into());
    }
    Ok(Json(serde_json::Value::Object(body)).into_response())
}
