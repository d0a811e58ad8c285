//! The token endpoint (RFC 6749 §3.2): form body only, no parameters in
//! the query string (they end up in logs), then one handler per grant type.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use latchkey_domain::ErrorCode;

use crate::error::ApiError;
use crate::forms::back_channel_form;
use crate::grants;
use crate::state::AppState;

pub async fn handle(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let params = back_channel_form(&uri, &headers, &body)?;
    let grant_type = params.single("grant_type").ok().flatten().map(str::to_string);
    let client = crate::client_auth::authenticate(&state, &headers, &params).await?;
    // Counted once authenticated, so nobody can spend another client's budget.
    let limit = state.config.rate_limits.token_per_client;
    if let Err(wait) = state.rate_limiter.check(
        crate::rate_limit::Class::TokenByClient,
        &client.id,
        limit,
        latchkey_domain::UnixTime::now(),
    ) {
        state.metrics.observe_rate_limited(crate::rate_limit::Class::TokenByClient);
        return Err(crate::rate_limit::too_many(wait, "for this client"));
    }
    let response = match grant_type.as_deref() {
        None => return Err(ApiError::bad_request("grant_type is missing")),
        Some("authorization_code") => grants::authorization_code::handle(&state, &client, &params).await?,
        Some("refresh_token") => grants::refresh_token::handle(&state, &client, &params).await?,
        Some("client_credentials") => grants::client_credentials::handle(&state, &client, &params).await?,
        Some("urn:ietf:params:oauth:grant-type:token-exchange") => {
            grants::token_exchange::handle(&state, &client, &params).await?
        }
        Some(other) => {
            return Err(ApiError::new(
                axum::http::StatusCode::BAD_REQUEST,
                ErrorCode::UnsupportedGrantType,
                format!("grant_type {other:?} is not supported"),
            ));
        }
    };
    Ok(response.into_response())
}
