//! The revocation feed for resource servers that verify JWTs locally: what
//! was revoked since a cursor, so they can honour revocations within
//! seconds without introspecting every token.
//!
//! `GET {issuer}/revocations` (no cursor) answers a snapshot: every revoked
//! token id and ended session that still matters (not yet expired), and the
//! cursor to follow from. `?after=CURSOR` answers what happened since, at
//! most `limit` items (default 500, at most 1000) with `more: true` when a
//! next page is waiting; `&reread=N` (at most 256) also returns what is in
//! the N ids below the cursor again, because transactions commit in any
//! order. A cursor older than the kept history (events are swept after
//! `sweep.event_retention`), or ahead of the newest change (another
//! history), gets `reset: true` and a snapshot: start over from it. Callers authenticate as a confidential client that
//! serves an API (listed in a resource's `introspection_clients`) with
//! HTTP Basic (`client_secret_basic`): a GET carries no form for other
//! methods.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use latchkey_domain::params::Params;
use latchkey_domain::{ErrorCode, UnixTime};
use latchkey_store::Change;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::state::AppState;

#[derive(serde::Deserialize)]
pub struct FeedQuery {
    after: Option<String>,
    limit: Option<i64>,
    /// Also read again this many ids below `after` (at most 256): ids are
    /// assigned at write but transactions commit in any order, so a row
    /// just below the cursor may have become visible since.
    reread: Option<i64>,
}

const DEFAULT_LIMIT: i64 = 500;
const MAX_LIMIT: i64 = 1000;

pub async fn feed(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<FeedQuery>,
) -> Result<Response, ApiError> {
    // Client authentication from the Authorization header only (a GET has
    // no form body).
    let client = crate::client_auth::authenticate(&state, &headers, &Params::default()).await?;
    let serves_an_api = state.resources.iter().any(|r| r.introspection_clients.contains(&client.id));
    if client.kind == latchkey_domain::ClientKind::Public || !serves_an_api {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::UnauthorizedClient,
            "only an API's resource-server client (introspection_clients) may read the revocation feed",
        ));
    }
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let now = UnixTime::now();
    let after = match q.after.as_deref() {
        None => None,
        Some(c) => Some(c.parse::<i64>().map_err(|_| ApiError::bad_request("after must be a cursor from this feed"))?),
    };
    let reread = q.reread.unwrap_or(0).clamp(0, latchkey_store::REREAD_WINDOW);
    let oldest = state.store.oldest_change_id().await?;
    let latest = state.store.latest_change_id().await?;
    // A cursor from before the kept history, or from another history (ahead
    // of the newest change, e.g. after a restore): start over.
    let unusable = matches!((after, oldest), (Some(a), Some(o)) if a < o - 1) || after.is_some_and(|a| a > latest);
    let body = match after {
        Some(a) if !unusable => delta(&state, a, reread, limit, now).await?,
        _ => snapshot(&state, now, unusable).await?,
    };
    let mut response = Json(body).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    Ok(response)
}

async fn snapshot(state: &AppState, now: UnixTime, reset: bool) -> Result<Value, ApiError> {
    // Cursor first: anything revoked while the snapshot is read comes
    // again in the next delta (applying twice is harmless).
    let cursor = state.store.latest_change_id().await?;
    let mut revoked: Vec<Value> = state
        .store
        .active_revoked_jtis(now)
        .await?
        .into_iter()
        .map(|(jti, exp)| json!({ "type": "token", "jti": jti, "expires_at": exp }))
        .collect();
    revoked.extend(
        state
            .store
            .ended_unexpired_sessions(now)
            .await?
            .into_iter()
            .map(|(sid, exp)| json!({ "type": "session", "sid": sid, "expires_at": exp })),
    );
    Ok(json!({ "revoked": revoked, "cursor": cursor.to_string(), "more": false, "reset": reset }))
}

async fn delta(state: &AppState, after: i64, reread: i64, limit: i64, now: UnixTime) -> Result<Value, ApiError> {
    let from = after.saturating_sub(reread).max(0);
    let changes = state.store.changes_after(from, limit.saturating_add(after - from)).await?;
    // `more` and the cursor count only rows after `after`.
    let fresh = changes.iter().filter(|(id, _)| *id > after).count();
    let more = i64::try_from(fresh).unwrap_or(i64::MAX) >= limit;
    let cursor = changes.last().map_or(after, |(id, _)| *id).max(after);
    let mut revoked = Vec::new();
    for (_, change) in changes {
        match change {
            Change::TokenRevoked { jti, expires_at } if expires_at > now.0 => {
                revoked.push(json!({ "type": "token", "jti": jti, "expires_at": expires_at }));
            }
            Change::SessionEnded { session_id } => {
                // Tokens of the session live no longer than the session.
                let exp = state.store.get_session(&session_id).await?.map(|s| s.expires_at.0);
                if let Some(exp) = exp.filter(|e| *e > now.0) {
                    revoked.push(json!({ "type": "session", "sid": session_id, "expires_at": exp }));
                }
            }
            _ => {}
        }
    }
    Ok(json!({ "revoked": revoked, "cursor": cursor.to_string(), "more": more, "reset": false }))
}
