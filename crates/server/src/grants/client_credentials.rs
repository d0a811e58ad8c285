//! `grant_type=client_credentials` (RFC 6749 §4.4): a confidential client
//! acting for itself. The token's `sub` is the client in its own id space
//! (`client:<id>`); there is no refresh token (§4.4.3) and no ID token. The
//! audience is the requested `resource` (RFC 8707) or else the issuer, as for
//! every grant. Issuing writes nothing to the database.

use axum::http::StatusCode;
use latchkey_domain::client::{ClientKind, GrantType};
use latchkey_domain::params::Params;
use latchkey_domain::{Client, ErrorCode, ScopeSet};

use super::{invalid_target, require_grant_type};
use crate::error::ApiError;
use crate::state::AppState;
use crate::tokens::{self, AuthContext, TokenResponse};

/// Scopes about a signed-in user make no sense without one.
const USER_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

pub async fn handle(state: &AppState, client: &Client, params: &Params) -> Result<TokenResponse, ApiError> {
    if client.kind == ClientKind::Public {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::UnauthorizedClient,
            "public clients cannot use the client_credentials grant",
        ));
    }
    require_grant_type(client, GrantType::ClientCredentials)?;
    let get = |name: &str| params.single(name).ok().flatten();
    let invalid_scope = |d: String| ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidScope, d);
    let scopes = match get("scope") {
        // Omitted: everything the client may request, less the user scopes.
        None => ScopeSet::from_tokens(client.scopes.iter().filter(|s| !USER_SCOPES.contains(s)))
            .map_err(|e| invalid_scope(e.to_string()))?,
        Some(s) => ScopeSet::parse(s).map_err(|e| invalid_scope(e.to_string()))?,
    };
    if let Some(user_scope) = scopes.iter().find(|s| USER_SCOPES.contains(s)) {
        return Err(invalid_scope(format!(
            "scope {user_scope} needs a user; it is not available with client_credentials"
        )));
    }
    if let Some(extra) = scopes.iter().find(|s| !client.scopes.contains(s)) {
        return Err(invalid_scope(format!("scope {extra} is not allowed for this client")));
    }
    let resource = get("resource");
    if let Some(r) = resource {
        latchkey_domain::resource::check_target(r, client, &state.resources).map_err(|d| invalid_target(&d))?;
    }
    let ctx = AuthContext::client(&client.id);
    // With `[authz] govern_issuance`, the policies decide what this token carries.
    let token_scopes =
        crate::authz::issuance::govern(state, client, &ctx, &scopes, resource, "client_credentials").await?;
    let access = tokens::mint_access_token(state, client, &ctx, &token_scopes, resource).await?;
    state.metrics.tokens_issued.get_or_create(&crate::metrics::GrantLabels { grant_type: "client_credentials" }).inc();
    sample_issuance(state, client);
    Ok(TokenResponse {
        access_token: access.token,
        token_type: tokens::TOKEN_TYPE,
        expires_in: access.expires_in,
        scope: Some(token_scopes.to_string()),
        refresh_token: None,
        id_token: None,
        issued_token_type: None,
    })
}

/// One event per `issuance_event_sample_every` tokens, standing for them
/// all: an event per token at thousands per second would be a bottleneck of
/// its own, and the exact count is the `tokens_issued` metric. The sampled
/// event names the client whose token crossed the mark.
fn sample_issuance(state: &AppState, client: &Client) {
    let every = state.config.tokens.issuance_event_sample_every;
    if every == 0 {
        return;
    }
    let n = state.issued_client_tokens.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
    if n.is_multiple_of(every) {
        state.events.emit(latchkey_domain::SecurityEvent::TokensIssued {
            client_id: client.id.clone(),
            grant_type: "client_credentials".into(),
            count: every,
        });
    }
}
