//! `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.5, OIDC
//! Core §3.1.3).
//!
//! Order matters. Everything that can be checked without spending the code
//! is checked first (client, redirect URI, PKCE, grant, user, session), and
//! the tokens are minted, so that a bad request (or a failure of ours)
//! cannot burn a code that its rightful client still holds. Only then is
//! the code consumed, by one atomic statement; a replay revokes everything
//! the first redemption issued (RFC 6749 §4.1.2, RFC 9700 §4.2.4).

use latchkey_crypto::digest;
use latchkey_domain::client::GrantType;
use latchkey_domain::params::Params;
use latchkey_domain::{Client, ScopeSet, SecurityEvent, UnixTime, pkce};
use latchkey_store::ConsumeOutcome;

use super::{invalid_grant, invalid_target, require_grant_type};
use crate::authorization::CodeBinding;
use crate::error::ApiError;
use crate::state::AppState;
use crate::tokens::{self, AuthContext, TokenResponse};

pub async fn handle(state: &AppState, client: &Client, params: &Params) -> Result<TokenResponse, ApiError> {
    require_grant_type(client, GrantType::AuthorizationCode)?;
    let get = |name: &str| params.single(name).ok().flatten();
    let code = get("code").ok_or_else(|| ApiError::bad_request("code is missing"))?;
    let verifier = get("code_verifier");
    if let Some(v) = verifier
        && !pkce::is_valid_verifier(v)
    {
        return Err(ApiError::bad_request(
            "code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.1)",
        ));
    }

    let now = UnixTime::now();
    let code_hash = digest::secret_digest(code);
    let Some(peeked) = state.store.peek_authorization_code(&code_hash).await? else {
        return Err(unknown_code());
    };
    if peeked.used {
        return Err(replayed(state, client, &peeked.grant_id, now).await?);
    }
    // Another client's code reads as unknown and is not spent.
    if peeked.client_id != client.id {
        return Err(unknown_code());
    }
    if peeked.expires_at <= now {
        return Err(invalid_grant("the authorization code has expired", "expired code").with_cause("expired_code"));
    }
    let binding: CodeBinding = serde_json::from_str(&peeked.binding).map_err(ApiError::internal)?;

    // RFC 6749 §4.1.3: the same redirect_uri as in the authorization request.
    match get("redirect_uri") {
        Some(uri) if uri != binding.redirect_uri => {
            return Err(invalid_grant(
                "redirect_uri does not match the authorization request",
                "redirect_uri mismatch",
            )
            .with_cause("redirect_uri_mismatch"));
        }
        None if binding.redirect_uri_sent => {
            return Err(invalid_grant(
                "redirect_uri is required: the authorization request had one",
                "redirect_uri missing",
            )
            .with_cause("redirect_uri_mismatch"));
        }
        _ => {}
    }
    // RFC 7636 §4.6, RFC 9700 §4.8.2.
    match (&binding.code_challenge, verifier) {
        (Some(challenge), Some(v)) => {
            if !digest::secrets_equal(&digest::pkce_s256(v), challenge) {
                return Err(invalid_grant("code_verifier does not match the code_challenge", "PKCE mismatch")
                    .with_cause("pkce_mismatch"));
            }
        }
        (Some(_), None) => {
            return Err(invalid_grant(
                "code_verifier is required: the code was issued with a code_challenge",
                "no verifier",
            )
            .with_cause("pkce_mismatch"));
        }
        (None, Some(_)) => {
            return Err(invalid_grant(
                "code_verifier was sent but the code was issued without a code_challenge",
                "PKCE downgrade attempt",
            )
            .with_cause("pkce_mismatch"));
        }
        (None, None) => {}
    }

    // The grant is read before the code is spent: when racing redemptions
    // revoke it (as replays), the one that won must still get its answer.
    let grant = state.store.get_grant(&peeked.grant_id).await?.filter(|g| g.is_active(now));
    let Some(grant) = grant else {
        return Err(invalid_grant("the authorization was revoked", "grant inactive").with_cause("grant_revoked"));
    };
    let user = state.store.get_user(&binding.user_id).await?.filter(|u| !u.disabled);
    let Some(user) = user else {
        return Err(invalid_grant("the authorization is no longer valid", "user missing or disabled"));
    };
    let session_active = state.store.get_session(&binding.session_id).await?.is_some_and(|s| s.is_active(now));
    if !session_active {
        return Err(invalid_grant("the sign-in session behind this code has ended", "session ended")
            .with_cause("session_ended"));
    }
    // RFC 8707 §2.2: a resource at the token endpoint must be within what
    // was authorized.
    let resource = match get("resource") {
        Some(r) if Some(r) != grant.resource.as_deref() => {
            return Err(invalid_target("the resource was not part of the authorization request"));
        }
        _ => grant.resource.clone(),
    };

    let scopes = ScopeSet::parse(&binding.scopes).map_err(ApiError::internal)?;
    let ctx = AuthContext {
        subject: user.id.clone(),
        session_id: Some(binding.session_id.clone()),
        auth_time: grant.auth_time,
        acr: grant.acr.clone(),
        amr: grant.amr.clone(),
        ..Default::default()
    };
    // With `[authz] govern_issuance`, the policies decide what this token carries.
    let token_scopes =
        crate::authz::issuance::govern(state, client, &ctx, &scopes, resource.as_deref(), "authorization_code").await?;
    let access = tokens::mint_access_token(state, client, &ctx, &token_scopes, resource.as_deref()).await?;
    let id_token = if scopes.contains("openid") {
        Some(tokens::mint_id_token(state, client, &ctx, binding.nonce.as_deref(), &access.token)?)
    } else {
        None
    };
    let refresh = issues_refresh_token(client, &scopes).then(|| tokens::new_refresh_token(state, &grant, &access, now));

    match state.store.consume_authorization_code(&code_hash, &client.id, now).await? {
        ConsumeOutcome::Consumed(_) => {}
        // Another redemption won the race since we looked.
        ConsumeOutcome::Replayed { grant_id, .. } => return Err(replayed(state, client, &grant_id, now).await?),
        ConsumeOutcome::Expired => {
            return Err(invalid_grant("the authorization code has expired", "expired code").with_cause("expired_code"));
        }
        ConsumeOutcome::Unknown => return Err(unknown_code()),
    }
    // If a concurrent replay revoked the grant in between, what we issue
    // here is revoked with it (the store decides under the grant's lock).
    state
        .store
        .record_code_issuance(
            &code_hash,
            &grant.id,
            &access.jti,
            access.expires_at,
            refresh.as_ref().map(|(_, r)| r),
            now,
        )
        .await?;
    state.events.emit(SecurityEvent::TokenIssued {
        client_id: client.id.clone(),
        grant_type: "authorization_code".into(),
        subject: user.id.clone(),
        grant_id: grant.id.clone(),
        scope: token_scopes.to_string(),
    });
    Ok(TokenResponse {
        access_token: access.token,
        token_type: tokens::TOKEN_TYPE,
        expires_in: access.expires_in,
        scope: Some(token_scopes.to_string()),
        refresh_token: refresh.map(|(token, _)| token),
        id_token,
        issued_token_type: None,
    })
}

fn unknown_code() -> ApiError {
    invalid_grant("the authorization code is invalid or was issued to another client", "unknown code")
        .with_cause("unknown_code")
}

/// A second redemption means the code leaked: revoke the grant and the
/// tokens its first redemption issued.
async fn replayed(state: &AppState, client: &Client, grant_id: &str, now: UnixTime) -> Result<ApiError, ApiError> {
    state.store.revoke_grant(grant_id, now).await?;
    // Applied to this node's caches now, not at the next poll.
    state.caches.sync(&state.store).await?;
    state.events.emit(SecurityEvent::AuthorizationCodeReplayed {
        client_id: client.id.clone(),
        grant_id: grant_id.to_string(),
    });
    Ok(invalid_grant(
        "the authorization code was already used; the tokens issued for it are revoked",
        format!("code replay on grant {grant_id}"),
    )
    .with_cause("code_reused"))
}

/// Refresh tokens go to clients registered for the refresh grant that asked
/// for `offline_access` (OIDC Core §11).
pub fn issues_refresh_token(client: &Client, scopes: &ScopeSet) -> bool {
    client.grant_types.contains(&GrantType::RefreshToken) && scopes.contains("offline_access")
}
