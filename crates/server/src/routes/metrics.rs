//! `/metrics` in the Prometheus text format.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::admin_auth::Admin;
use crate::state::AppState;

pub fn render(state: &AppState) -> Response {
    let (open, idle, max) = state.store.pool_usage();
    state.metrics.set_pool(open, idle, max);
    let mut response = state.metrics.encode().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    response
}

/// On the main listener when it is loopback: anyone local may scrape.
pub async fn open(State(state): State<AppState>) -> Response {
    render(&state)
}

/// On a non-loopback main listener: admins only (use `metrics_listen` for
/// an unauthenticated scrape address on a private network).
pub async fn protected(_admin: Admin, State(state): State<AppState>) -> Response {
    render(&state)
}
