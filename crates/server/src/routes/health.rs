//! Liveness and readiness, for load balancers and orchestrators.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use crate::error::ApiError;
use crate::state::AppState;

/// Alive: the process answers. Never touches the store, so a database
/// outage does not make an orchestrator restart healthy nodes.
pub async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// Ready: the store answers.
pub async fn readyz(State(state): State<AppState>) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    state.store.ping().await.map_err(ApiError::unavailable)?;
    Ok((StatusCode::OK, Json(serde_json::json!({ "status": "ready", "store": state.store.backend().as_str() }))))
}
