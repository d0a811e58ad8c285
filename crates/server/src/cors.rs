//! CORS for the endpoints browser-based clients call directly (token,
//! revocation, userinfo): any origin, no cookies. These endpoints
//! authenticate by client credentials or bearer tokens, never by ambient
//! credentials, so `*` gives a page nothing it could not do without CORS.
//!
//! Written out rather than tower-http's `CorsLayer`, which cost the token
//! endpoint about a tenth of its throughput (it is rebuilt per request);
//! with a fixed policy there is nothing to compute.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

const ALLOW_METHODS: HeaderValue = HeaderValue::from_static("GET, POST");
const ALLOW_HEADERS: HeaderValue = HeaderValue::from_static("authorization, content-type");
const MAX_AGE: HeaderValue = HeaderValue::from_static("3600");

/// Every response of these endpoints may be read by any origin (used with
/// `axum::middleware::map_response`).
pub async fn allow_any_origin(mut response: Response) -> Response {
    response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

/// The answer to a preflight `OPTIONS` request.
pub async fn preflight() -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let h = response.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, ALLOW_METHODS);
    h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, ALLOW_HEADERS);
    h.insert(header::ACCESS_CONTROL_MAX_AGE, MAX_AGE);
    response
}
