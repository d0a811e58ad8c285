//! The portal's JSON backend for its scripts. Every call needs a signed-in
//! developer and the `X-Latchkey-Portal` header: a cross-site page cannot
//! send a custom header without a CORS preflight, which this server never
//! grants for these paths, so the session cookie alone cannot be ridden.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use latchkey_domain::{ErrorCode, UnixTime, User};

use super::access::may_see_client;
use super::signin::developer;
use crate::error::ApiError;
use crate::state::AppState;

pub const HEADER: &str = "x-latchkey-portal";

/// The signed-in developer behind a script's call.
pub async fn caller(state: &AppState, headers: &HeaderMap) -> Result<User, ApiError> {
    if headers.get(HEADER).is_none() {
        return Err(ApiError::bad_request("portal API calls carry the X-Latchkey-Portal header"));
    }
    developer(state, headers)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::LoginRequired, "sign in to the portal first"))
}

/// A JSON body, or the RFC-format 400 (never the extractor's plain text).
pub fn json_body<T: serde::de::DeserializeOwned>(headers: &HeaderMap, body: &Bytes) -> Result<T, ApiError> {
    crate::forms::require_json(headers)?;
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("the body is not the expected JSON: {e}")))
}

#[derive(serde::Deserialize)]
pub struct TokenStateRequest {
    token: String,
}

/// The client and subject a token names, read without verifying it: only
/// to decide whether the caller may ask about it at all.
fn named_parties(token: &str) -> Option<(String, String)> {
    let (_, payload, _) = latchkey_crypto::jws::decode_unverified(token).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&payload).ok()?;
    Some((v.get("client_id")?.as_str()?.to_string(), v.get("sub")?.as_str()?.to_string()))
}

/// The server-side state of an access token that the decoder cannot see
/// from the token itself: revoked, and whether its session is still live.
/// Only for tokens of the developer's own clients (or their own tokens).
pub async fn token_state(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    let user = caller(&state, &headers).await?;
    let body: TokenStateRequest = json_body(&headers, &body)?;
    // Whose token it is comes first: someone else's gets the same 403
    // whether it is valid, revoked or forged.
    let forbidden = || {
        ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::AccessDenied,
            "only the owner of the token's client (or its subject) may see its server-side state",
        )
    };
    let Some((client_id, sub)) = named_parties(body.token.trim()) else {
        return Err(ApiError::bad_request("this is not a JWT with client_id and sub claims"));
    };
    if sub != user.id && !may_see_client(&state, &user, &client_id).await? {
        return Err(forbidden());
    }
    let claims = match crate::access_tokens::verify(&state, body.token.trim()).await {
        Ok(c) => c,
        Err(latchkey_domain::access_token::TokenProblem::Revoked) => {
            return Ok(Json(serde_json::json!({ "active": false, "revoked": true })).into_response());
        }
        Err(problem) => {
            return Ok(Json(serde_json::json!({ "active": false, "revoked": false, "problem": problem.to_string() }))
                .into_response());
        }
    };
    let session = match &claims.sid {
        Some(sid) => {
            if state.caches.session_active(&state.store, sid, UnixTime::now()).await? {
                "active"
            } else {
                "ended"
            }
        }
        None => "none",
    };
    Ok(Json(serde_json::json!({
        "active": session != "ended",
        "revoked": false,
        "session": session,
        "client_id": claims.client_id,
    }))
    .into_response())
}
