//! One module per grant type (RFC 6749 §4, §6). Each checks that the client
//! may use it, validates its parameters, and mints through `tokens`.

pub mod authorization_code;
pub mod client_credentials;
pub mod refresh_token;
pub mod token_exchange;

use axum::http::StatusCode;
use latchkey_domain::client::GrantType;
use latchkey_domain::{Client, ErrorCode};

use crate::error::ApiError;

pub fn invalid_grant(description: &str, reason: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidGrant, description).with_reason(reason)
}

pub fn invalid_target(description: &str) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidTarget, description)
}

pub fn require_grant_type(client: &Client, grant: GrantType) -> Result<(), ApiError> {
    if client.grant_types.contains(&grant) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::UnauthorizedClient,
            format!("this client may not use the {grant} grant"),
        ))
    }
}
