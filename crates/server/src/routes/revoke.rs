//! Token revocation (RFC 7009). The client authenticates; a refresh token
//! revokes its whole grant, an access token is denied by `jti` until it
//! expires. Only the client a token was issued to can revoke it: another
//! client's request, an unknown or already invalid token all get 200 and
//! change nothing (§2.1, §2.2), so the endpoint reveals nothing.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use latchkey_crypto::{digest, jws};
use latchkey_domain::access_token::AccessTokenClaims;
use latchkey_domain::{SecurityEvent, UnixTime};

use crate::error::ApiError;
use crate::forms::back_channel_form;
use crate::state::AppState;

pub async fn handle(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let params = back_channel_form(&uri, &headers, &body)?;
    let client = crate::client_auth::authenticate(&state, &headers, &params).await?;
    let token = params.single("token").ok().flatten().ok_or_else(|| ApiError::bad_request("token is missing"))?;
    let now = UnixTime::now();

    // token_type_hint only orders the look-ups (§2.1); both are tried.
    if let Some(grant_id) = state.store.refresh_token_grant(&digest::secret_digest(token)).await? {
        if let Some(grant) = state.store.get_grant(&grant_id).await?
            && grant.client_id == client.id
        {
            state.store.revoke_grant(&grant.id, now).await?;
            // Applied to this node's caches now, not at the next poll.
            state.caches.sync(&state.store).await?;
            state
                .events
                .emit(SecurityEvent::TokenRevoked { client_id: client.id.clone(), token_kind: "refresh_token".into() });
        }
        return Ok(ok());
    }
    // An access token of ours: signature checked (so nobody can plant jtis),
    // expiry not (revoking an expired token is a harmless no-op).
    let keys = state.keys.snapshot();
    if let Ok(verified) = jws::verify(token, |kid| keys.verifier(kid, now))
        && let Ok(claims) = serde_json::from_slice::<AccessTokenClaims>(&verified.payload)
        && claims.iss == state.issuer.as_str()
        && claims.client_id == client.id
        && claims.exp > now.0
    {
        state.store.revoke_jti(&claims.jti, UnixTime(claims.exp), now).await?;
        // Applied to this node's caches now, not at the next poll.
        state.caches.sync(&state.store).await?;
        state
            .events
            .emit(SecurityEvent::TokenRevoked { client_id: client.id.clone(), token_kind: "access_token".into() });
    }
    Ok(ok())
}

fn ok() -> Response {
    let mut response = StatusCode::OK.into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
