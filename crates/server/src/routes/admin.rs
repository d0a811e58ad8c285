//! Admin API (behind [`Admin`] authentication). Later issues add sessions,
//! grants and policies here.

use axum::Json;
use axum::extract::State;
use latchkey_domain::UnixTime;

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
