//! The HTTP edge of errors: every error leaves as the RFC's JSON
//! (`error`, `error_description`, `error_uri`) plus the request's trace id,
//! and the precise internal reason goes to the log under that same id.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use latchkey_domain::{ErrorCode, OAuthError};

tokio::task_local! {
    /// Set by the request middleware for the duration of each request.
    pub static REQUEST_CONTEXT: RequestContext;
}

#[derive(Debug, Clone)]
pub struct RequestContext {
    pub request_id: String,
    pub issuer: crate::issuer::Issuer,
    /// The peer's address and user agent, read only when an audit event
    /// is recorded (the header is a cheap reference-counted copy).
    pub source_ip: Option<std::net::IpAddr>,
    pub user_agent: Option<HeaderValue>,
    /// What the request learns about itself on the way (one allocation).
    pub facts: std::sync::Arc<RequestFacts>,
}

/// Facts a request's handlers record for the middleware and audit log.
#[derive(Debug, Default)]
pub struct RequestFacts {
    /// The authenticated administrator or caller, once a route knows it.
    pub actor: std::sync::OnceLock<String>,
    /// The client the request is from (authenticated, or at least named
    /// and registered), so a refusal can be traced back to its owner.
    pub client: std::sync::OnceLock<String>,
    /// The protocol error the request was refused with.
    pub refusal: std::sync::OnceLock<Refusal>,
}

pub fn current_request_id() -> String {
    REQUEST_CONTEXT.try_with(|c| c.request_id.clone()).unwrap_or_default()
}

/// Records who the request's authenticated caller is, for audit events.
pub fn set_request_actor(actor: &str) {
    let _ = REQUEST_CONTEXT.try_with(|c| c.facts.actor.set(actor.to_owned()));
}

/// Records which registered client the request is from.
pub fn set_request_client(client_id: &str) {
    let _ = REQUEST_CONTEXT.try_with(|c| c.facts.client.set(client_id.to_owned()));
}

/// Why a request was refused, as the audit log's `request.refused` event
/// records it for the client's owner.
#[derive(Debug)]
pub struct Refusal {
    pub code: &'static str,
    pub reason: String,
    /// See [`ApiError::with_private_reason`].
    pub private: bool,
}

impl Refusal {
    /// The reason the client's owner may read.
    pub fn shareable_reason(&self) -> String {
        if self.private { "refused by an authorization policy".into() } else { self.reason.clone() }
    }
}

/// Records why the request was refused (the first refusal wins), for the
/// audit log's `request.refused` event when the client is known.
pub fn set_request_refusal(code: &'static str, private: bool, reason: &str) {
    let refusal = Refusal { code, private, reason: reason.chars().take(512).collect() };
    let _ = REQUEST_CONTEXT.try_with(|c| c.facts.refusal.set(refusal));
}

/// The web layer's one error type.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub error: OAuthError,
    /// Logged, never sent: the specific cause behind a generic code.
    pub reason: Option<String>,
    pub www_authenticate: Option<String>,
    /// Seconds, for 429 and 503 answers.
    pub retry_after: Option<u64>,
    /// The specific cause (an id of `ErrorCode::causes`): `error_uri` then
    /// points at that cause's page of the error reference.
    pub cause: Option<&'static str>,
    /// The reason may not be shown to the client's developer (trace lookup).
    pub reason_private: bool,
}

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode, description: impl Into<String>) -> Self {
        ApiError {
            status,
            error: OAuthError::new(code, description),
            reason: None,
            www_authenticate: None,
            retry_after: None,
            cause: None,
            reason_private: false,
        }
    }

    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// Keeps the reason from the client's developer: a policy denial's
    /// reason names policies and, through them, facts about the user (a
    /// fraud flag) that the developer must not learn.
    pub fn with_private_reason(mut self) -> Self {
        self.reason_private = true;
        self
    }

    /// Names the specific cause; an id the reference does not know is
    /// ignored, so `error_uri` never points at a missing page.
    pub fn with_cause(mut self, cause: &'static str) -> Self {
        if self.error.code.causes().iter().any(|c| c.id == cause) {
            self.cause = Some(cause);
        }
        self
    }

    pub fn bad_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest, description)
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "no such endpoint")
    }

    /// A failure of ours: the client learns only the trace id.
    pub fn internal(reason: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::ServerError,
            "internal error; quote the trace_id when reporting it",
        )
        .with_reason(reason.to_string())
    }

    pub fn unavailable(reason: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::TemporarilyUnavailable,
            "the server cannot reach its store; retry later",
        )
        .with_reason(reason.to_string())
    }
}

impl From<latchkey_store::StoreError> for ApiError {
    fn from(e: latchkey_store::StoreError) -> Self {
        match e {
            latchkey_store::StoreError::Unreachable { .. } => ApiError::unavailable(e),
            latchkey_store::StoreError::Database(sqlx_err) if is_pool_timeout(&sqlx_err) => {
                ApiError::unavailable(sqlx_err)
            }
            other => ApiError::internal(other),
        }
    }
}

fn is_pool_timeout(e: &impl std::fmt::Display) -> bool {
    e.to_string().contains("pool timed out")
}

/// The wire body, shared with middleware that produces errors itself.
pub fn error_body(code: ErrorCode, description: &str) -> serde_json::Value {
    error_body_with_cause(code, None, description)
}

/// [`error_body`] whose `error_uri` names the specific cause when known.
pub fn error_body_with_cause(code: ErrorCode, cause: Option<&str>, description: &str) -> serde_json::Value {
    let page = match cause {
        Some(c) => format!("{}/{c}", code.as_str()),
        None => code.as_str().to_string(),
    };
    let (trace_id, error_uri) =
        REQUEST_CONTEXT.try_with(|c| (c.request_id.clone(), c.issuer.error_uri(&page))).unwrap_or_default();
    serde_json::json!({
        "error": code.as_str(),
        "error_description": description,
        "error_uri": error_uri,
        "trace_id": trace_id,
    })
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let trace_id = current_request_id();
        let reason = self.reason.as_deref().unwrap_or(&self.error.description);
        set_request_refusal(self.error.code.as_str(), self.reason_private, reason);
        if self.status.is_server_error() {
            tracing::error!(trace_id, error = self.error.code.as_str(), reason, "request failed");
        } else {
            tracing::info!(trace_id, error = self.error.code.as_str(), reason, "request refused");
        }
        let body = error_body_with_cause(self.error.code, self.cause, &self.error.description);
        let mut response = (self.status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        // RFC 6749 §5.1: responses carrying protocol errors are not cached.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(challenge) = self.www_authenticate.and_then(|c| HeaderValue::from_str(&c).ok()) {
            headers.insert(header::WWW_AUTHENTICATE, challenge);
        }
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
