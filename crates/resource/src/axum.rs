//! axum middleware and extractor.
//!
//! ```ignore
//! let guard = Guard::new(verifier.clone()).require(Requirement::scopes(["orders:read"]));
//! let app = Router::new()
//!     .route("/orders", get(list_orders))
//!     .route_layer(axum::middleware::from_fn_with_state(guard, latchkey_resource::axum::require));
//! async fn list_orders(token: VerifiedToken) -> String { token.claims().sub.clone() }
//! ```
//!
//! The middleware takes the bearer token from `Authorization` (RFC 6750
//! §2.1; a token in the query or body is not accepted), verifies it against
//! the guard's [`Requirement`], and puts the [`VerifiedToken`] in the
//! request's extensions. Refusals are RFC 6750 / RFC 9470 answers: a
//! status, a `WWW-Authenticate` challenge and a small JSON body.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::{Rejection, Requirement, VerifiedToken, Verifier};

#[derive(Clone)]
pub struct Guard {
    verifier: Arc<Verifier>,
    requirement: Arc<Requirement>,
    realm: Arc<str>,
}

impl Guard {
    /// Any valid token; the realm is the service's audience.
    pub fn new(verifier: Arc<Verifier>) -> Self {
        let realm = Arc::from(verifier.config().audience.as_str());
        Guard { verifier, requirement: Arc::new(Requirement::default()), realm }
    }

    pub fn require(mut self, requirement: Requirement) -> Self {
        self.requirement = Arc::new(requirement);
        self
    }
}

/// The middleware function, for `axum::middleware::from_fn_with_state`.
pub async fn require(State(guard): State<Guard>, mut req: Request, next: Next) -> Response {
    let Some(token) = bearer(req.headers()) else {
        return answer(&Rejection::Missing, Some(&guard.realm));
    };
    match guard.verifier.verify(token, &guard.requirement).await {
        Ok(verified) => {
            req.extensions_mut().insert(verified);
            next.run(req).await
        }
        Err(rejection) => answer(&rejection, Some(&guard.realm)),
    }
}

/// `Authorization: Bearer <token>` (scheme case-insensitive).
fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The HTTP answer for a rejection.
pub fn answer(rejection: &Rejection, realm: Option<&str>) -> Response {
    let status = StatusCode::from_u16(rejection.status()).unwrap_or(StatusCode::UNAUTHORIZED);
    let body = match rejection.error_code() {
        Some(code) => serde_json::json!({ "error": code, "error_description": rejection.to_string() }),
        None => serde_json::json!({ "error_description": rejection.to_string() }),
    };
    let mut response = (status, axum::Json(body)).into_response();
    if let Some(challenge) = rejection.www_authenticate(realm).and_then(|c| HeaderValue::from_str(&c).ok()) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, challenge);
    }
    if matches!(rejection, Rejection::Unavailable(_)) {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    }
    response
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        answer(&self, None)
    }
}

/// The token the middleware verified. On a route without the middleware
/// it refuses (401) rather than let a handler run unauthenticated.
impl<S: Send + Sync> FromRequestParts<S> for VerifiedToken {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<VerifiedToken>().cloned().ok_or(Rejection::Missing)
    }
}
