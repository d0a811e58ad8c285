//! The JWKS (RFC 7517 §5): public keys only, each with `kid`, `alg`, `use`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use latchkey_domain::UnixTime;

use crate::state::AppState;

pub async fn get(State(state): State<AppState>) -> Response {
    let keys = state.keys.snapshot();
    let published = keys.published(UnixTime::now());
    let mut response = Json(serde_json::json!({ "keys": published })).into_response();
    // Shorter than the pre-publication delay: a verifier that honours it
    // always holds a key before the first token signed with it.
    let max_age = state.config.keys.jwks_max_age().as_secs();
    if let Ok(v) = HeaderValue::from_str(&format!("public, max-age={max_age}")) {
        response.headers_mut().insert(header::CACHE_CONTROL, v);
    }
    // Public data that browser-based clients fetch cross-origin.
    response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}
