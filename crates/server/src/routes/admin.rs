//! Admin API (behind [`Admin`] authentication): signing keys; a user's
//! sessions, grants and consents, and revoking them. Later issues add
//! policies and the audit log here.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use latchkey_domain::{SecurityEvent, UnixTime};

use crate::admin_auth::Admin;
use crate::error::ApiError;
use crate::state::AppState;

/// The signing keys and their timelines (never private material).
pub async fn list_keys(_admin: Admin, State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let now = UnixTime::now();
    let keys: Vec<serde_json::Value> = state
        .store
        .list_keys()
        .await?
        .into_iter()
        .map(|k| {
            let t = k.timeline;
            serde_json::json!({
                "kid": t.kid,
                "alg": t.alg.as_str(),
                "state": t.state(now).as_str(),
                "created_at": t.created_at.0,
                "publish_at": t.publish_at.0,
                "activate_at": t.activate_at.0,
                "retire_at": t.retire_at.map(|x| x.0),
                "unpublish_at": t.unpublish_at.map(|x| x.0),
                "revoked_at": t.revoked_at.map(|x| x.0),
            })
        })
        .collect();
    Ok(Json(serde_json::json!({ "keys": keys })))
}

// ---- sessions, grants and consents -----------------------------------------------------

/// 404 for a user id that does not exist (rather than an empty list).
async fn require_user(state: &AppState, user_id: &str) -> Result<(), ApiError> {
    match state.store.get_user(user_id).await? {
        Some(_) => Ok(()),
        None => Err(ApiError::not_found()),
    }
}

fn session_json(s: &latchkey_store::Session) -> serde_json::Value {
    serde_json::json!({
        "sid": s.id,
        "created_at": s.created_at.0,
        "last_seen_at": s.last_seen_at.0,
        "auth_time": s.auth_time.0,
        "acr": s.acr,
        "amr": s.amr,
        "user_agent": s.user_agent,
        "source_ip": s.source_ip,
        "expires_at": s.expires_at.0,
    })
}

fn grant_json(g: &latchkey_store::Grant) -> serde_json::Value {
    serde_json::json!({
        "grant_id": g.id,
        "client_id": g.client_id,
        "scope": g.scopes,
        "resource": g.resource,
        "sid": g.session_id,
        "acr": g.acr,
        "created_at": g.created_at.0,
        "expires_at": g.expires_at.0,
    })
}

/// A user's active sessions and grants (client, created, where known the
/// user agent and address, `acr`).
pub async fn user_sessions(
    _admin: Admin,
    State(state): State<AppState>,
    Path(user_id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    require_user(&state, &user_id).await?;
    let now = UnixTime::now();
    let sessions = state.store.active_sessions_of_user(&user_id, now).await?;
    let grants = state.store.active_grants_of_user(&user_id, now).await?;
    Ok(Json(serde_json::json!({
        "sessions": sessions.iter().map(session_json).collect::<Vec<_>>(),
        "grants": grants.iter().map(grant_json).collect::<Vec<_>>(),
    })))
}

/// Ends one session: its grants are revoked and its tokens turn inactive on
/// every node; clients with a back channel are told.
pub async fn end_session(
    _admin: Admin,
    State(state): State<AppState>,
    Path(sid): Path<String>,
) -> Result<StatusCode, ApiError> {
    let session = state.store.get_session(&sid).await?.filter(|s| s.is_active(UnixTime::now()));
    let Some(session) = session else { return Err(ApiError::not_found()) };
    crate::logout::end_session(&state, &session, "admin").await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ends every session of a user.
pub async fn end_user_sessions(
    _admin: Admin,
    State(state): State<AppState>,
    Path(user_id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    require_user(&state, &user_id).await?;
    let sessions = state.store.active_sessions_of_user(&user_id, UnixTime::now()).await?;
    for s in &sessions {
        crate::logout::end_session(&state, s, "admin").await?;
    }
    Ok(Json(serde_json::json!({ "ended": sessions.len() })))
}

/// Revokes one grant: its refresh tokens and the access tokens issued with them.
pub async fn revoke_grant(
    _admin: Admin,
    State(state): State<AppState>,
    Path(grant_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let now = UnixTime::now();
    let Some(grant) = state.store.get_grant(&grant_id).await?.filter(|g| g.is_active(now)) else {
        return Err(ApiError::not_found());
    };
    state.store.revoke_grant(&grant.id, now).await?;
    state.caches.sync(&state.store).await?;
    state.events.emit(SecurityEvent::GrantRevoked {
        grant_id: grant.id,
        client_id: grant.client_id,
        by: "admin".into(),
    });
    Ok(StatusCode::NO_CONTENT)
}

pub async fn user_consents(
    _admin: Admin,
    State(state): State<AppState>,
    Path(user_id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    require_user(&state, &user_id).await?;
    let consents: Vec<serde_json::Value> = state
        .store
        .consents_of_user(&user_id)
        .await?
        .into_iter()
        .map(|(client_id, scopes, created, updated)| {
            serde_json::json!({ "client_id": client_id, "scope": scopes, "created_at": created.0, "updated_at": updated.0 })
        })
        .collect();
    Ok(Json(serde_json::json!({ "consents": consents })))
}

/// Withdraws a consent: the client must ask again, and the user's grants
/// to that client are revoked (what was allowed is no longer allowed).
pub async fn revoke_consent(
    _admin: Admin,
    State(state): State<AppState>,
    Path((user_id, client_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    if !state.store.delete_consent(&user_id, &client_id).await? {
        return Err(ApiError::not_found());
    }
    let now = UnixTime::now();
    for g in state.store.active_grants_of_user(&user_id, now).await?.into_iter().filter(|g| g.client_id == client_id) {
        state.store.revoke_grant(&g.id, now).await?;
    }
    state.caches.sync(&state.store).await?;
    state.events.emit(SecurityEvent::ConsentRevoked { user_id, client_id });
    Ok(StatusCode::NO_CONTENT)
}

/// Resets a user's second factor (a lost authenticator): they sign in with
/// the password and may enrol again. Their sessions are ended too, so no
/// session authenticated with the old factor outlives the reset.
pub async fn reset_totp(
    _admin: Admin,
    State(state): State<AppState>,
    Path(user_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if !state.store.delete_totp(&user_id).await? {
        return Err(ApiError::not_found());
    }
    for s in state.store.active_sessions_of_user(&user_id, UnixTime::now()).await? {
        crate::logout::end_session(&state, &s, "second factor reset").await?;
    }
    state.events.emit(SecurityEvent::SecondFactorReset { user_id });
    Ok(StatusCode::NO_CONTENT)
}
