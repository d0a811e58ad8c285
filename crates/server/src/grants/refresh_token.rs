//! `grant_type=refresh_token` (RFC 6749 §6, OIDC Core §12, RFC 9700
//! §4.14). Every use rotates the token. A spent token presented again is
//! treated as theft: the whole family (grant) is revoked. So when a client
//! races two refreshes, exactly one rotation succeeds and the loser's
//! attempt revokes the family; clients that cannot serialise refreshes may
//! opt into a grace window (`refresh_token_reuse_grace`), in which a repeat
//! by the same client gets a fresh successor and the earlier successor is
//! revoked instead.

use latchkey_crypto::digest;
use latchkey_domain::client::GrantType;
use latchkey_domain::params::Params;
use latchkey_domain::{Client, ErrorCode, ScopeSet, SecurityEvent, UnixTime};
use latchkey_store::{ConsumeOutcome, Grant, NewRefreshToken, StoreError};

use super::{invalid_grant, require_grant_type};
use crate::error::ApiError;
use crate::state::AppState;
use crate::tokens::{self, AuthContext, TokenResponse};

pub async fn handle(state: &AppState, client: &Client, params: &Params) -> Result<TokenResponse, ApiError> {
    require_grant_type(client, GrantType::RefreshToken)?;
    let get = |name: &str| params.single(name).ok().flatten();
    let presented = get("refresh_token").ok_or_else(|| ApiError::bad_request("refresh_token is missing"))?;
    let requested_scope = get("scope");
    let requested_resource_param = get("resource");
    let now = UnixTime::now();
    let hash = digest::secret_digest(presented);

    // Checks that need no spending come first, so that a refused request
    // (another client, a wider scope) does not burn the token. The grant
    // read here, before spending, is the one the winner of a race uses:
    // a loser's reuse revoking the family meanwhile must not make the one
    // legitimate rotation fail as well.
    let Some(grant_id) = state.store.refresh_token_grant(&hash).await? else {
        return Err(invalid_grant("the refresh token is invalid or revoked", "unknown refresh token"));
    };
    let grant = load_grant(state, client, &grant_id, now).await?;
    // Minted before spending too: a failure of ours must not burn the token
    // (the client's retry would then look like reuse).
    let (response, successor) = mint(state, client, &grant, requested_scope, requested_resource_param, now).await?;

    // Spent and replaced in one transaction (see the store for why).
    match state.store.rotate_refresh_token(&hash, &successor, now).await? {
        ConsumeOutcome::Consumed(true) => {
            refreshed(state, client, &grant);
            Ok(response)
        }
        // The grant was revoked since we read it: nothing was stored and
        // the new access token is already revoked.
        ConsumeOutcome::Consumed(false) => {
            Err(invalid_grant("the authorization was revoked", "grant revoked during rotation")
                .with_cause("grant_revoked"))
        }
        ConsumeOutcome::Replayed { grant_id, used_at, successor: old_successor } => {
            let grace = client.refresh_token_grace;
            let within_grace = grace > 0 && now.0.saturating_sub(used_at.0) <= i64::try_from(grace).unwrap_or(i64::MAX);
            if let (true, Some(old_successor)) = (within_grace, old_successor) {
                match state.store.replace_refresh_successor(&hash, &old_successor, &successor, now).await {
                    Ok(()) => {
                        // The replaced successor's access token is revoked.
                        state.caches.sync(&state.store).await?;
                        refreshed(state, client, &grant);
                        return Ok(response);
                    }
                    // The successor was used meanwhile: this is reuse after all.
                    Err(StoreError::NotFound) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            state.store.revoke_grant(&grant_id, now).await?;
            // Applied to this node's caches now, not at the next poll.
            state.caches.sync(&state.store).await?;
            state
                .events
                .emit(SecurityEvent::RefreshTokenReused { client_id: client.id.clone(), grant_id: grant_id.clone() });
            Err(invalid_grant(
                "the refresh token was already used; its grant has been revoked",
                format!("refresh token reuse on grant {grant_id}"),
            )
            .with_cause("refresh_reused"))
        }
        ConsumeOutcome::Expired => {
            Err(invalid_grant("the refresh token has expired", "expired refresh token").with_cause("refresh_expired"))
        }
        ConsumeOutcome::Unknown => {
            Err(invalid_grant("the refresh token is invalid or revoked", "unknown refresh token"))
        }
    }
}

fn refreshed(state: &AppState, client: &Client, grant: &Grant) {
    state.events.emit(SecurityEvent::TokenRefreshed {
        client_id: client.id.clone(),
        subject: grant.user_id.clone().unwrap_or_default(),
        grant_id: grant.id.clone(),
    });
}

async fn load_grant(state: &AppState, client: &Client, grant_id: &str, now: UnixTime) -> Result<Grant, ApiError> {
    let grant = state.store.get_grant(grant_id).await?;
    let Some(grant) = grant.filter(|g| g.is_active(now)) else {
        return Err(
            invalid_grant("the refresh token is invalid or revoked", "grant inactive").with_cause("grant_revoked")
        );
    };
    if grant.client_id != client.id {
        // Another client holds this client's token: it leaked.
        state.store.revoke_grant(grant_id, now).await?;
        // Applied to this node's caches now, not at the next poll.
        state.caches.sync(&state.store).await?;
        return Err(invalid_grant(
            "the refresh token was issued to another client",
            format!("client {} used a token of {}", client.id, grant.client_id),
        ));
    }
    Ok(grant)
}

/// New access token (and ID token) plus the successor refresh token, with
/// the original authentication context (OIDC Core §12.2: refreshing never
/// makes a login look fresher).
async fn mint(
    state: &AppState,
    client: &Client,
    grant: &Grant,
    requested_scope: Option<&str>,
    requested_resource_param: Option<&str>,
    now: UnixTime,
) -> Result<(TokenResponse, NewRefreshToken), ApiError> {
    let resource = requested_resource(grant, requested_resource_param)?;
    let scopes = requested_scopes(grant, requested_scope)?;
    let user_id = grant.user_id.clone().ok_or_else(|| ApiError::internal("refresh grant without a user"))?;
    let user = state.store.get_user(&user_id).await?.filter(|u| !u.disabled);
    if user.is_none() {
        return Err(invalid_grant("the authorization is no longer valid", "user missing or disabled"));
    }
    // An offline grant outlives its session: carry `sid` only while the
    // session is alive, so the new tokens are not tied to an ended one.
    let session_id = match &grant.session_id {
        Some(sid) if state.store.get_session(sid).await?.is_some_and(|s| s.is_active(now)) => Some(sid.clone()),
        _ => None,
    };
    let ctx = AuthContext {
        subject: user_id,
        session_id,
        auth_time: grant.auth_time,
        acr: grant.acr.clone(),
        amr: grant.amr.clone(),
        ..Default::default()
    };
    // With `[authz] govern_issuance`, the policies decide what this token carries.
    let token_scopes =
        crate::authz::issuance::govern(state, client, &ctx, &scopes, resource.as_deref(), "refresh_token").await?;
    let access = tokens::mint_access_token(state, client, &ctx, &token_scopes, resource.as_deref()).await?;
    let id_token = if scopes.contains("openid") {
        Some(tokens::mint_id_token(state, client, &ctx, None, &access.token)?)
    } else {
        None
    };
    let (token, successor) = tokens::new_refresh_token(state, grant, &access, now);
    let response = TokenResponse {
        access_token: access.token,
        token_type: tokens::TOKEN_TYPE,
        expires_in: access.expires_in,
        scope: Some(token_scopes.to_string()),
        refresh_token: Some(token),
        id_token,
        issued_token_type: None,
    };
    Ok((response, successor))
}

/// RFC 6749 §6: a requested scope must be within the original grant.
fn requested_scopes(grant: &Grant, requested: Option<&str>) -> Result<ScopeSet, ApiError> {
    let granted = ScopeSet::parse(&grant.scopes).map_err(ApiError::internal)?;
    let Some(s) = requested else { return Ok(granted) };
    let invalid_scope = |d: String| ApiError::new(axum::http::StatusCode::BAD_REQUEST, ErrorCode::InvalidScope, d);
    let asked = ScopeSet::parse(s).map_err(|e| invalid_scope(e.to_string()))?;
    if !asked.is_subset(&granted) {
        return Err(invalid_scope("the requested scope exceeds what was originally granted".into()));
    }
    Ok(asked)
}

/// RFC 8707 §2.2 and RFC 6749 §6: a refresh never reaches beyond the
/// original grant, so the only resource it may name is the grant's own.
fn requested_resource(grant: &Grant, requested: Option<&str>) -> Result<Option<String>, ApiError> {
    match requested {
        None => Ok(grant.resource.clone()),
        Some(r) if Some(r) == grant.resource.as_deref() => Ok(Some(r.to_string())),
        Some(_) => Err(super::invalid_target("the resource was not part of the original authorization")),
    }
}
