//! Ending a browser session, and telling the clients that used it.
//!
//! Logout ends the session (its access tokens turn inactive everywhere
//! through the session check), revokes the grants issued in it (their
//! refresh tokens and recorded access tokens), and sends each client with a
//! `backchannel_logout_uri` a logout token (OIDC Back-Channel Logout 1.0),
//! in the background, through the outbound guard, with bounded retries.
//!
//! `offline_access` grants: revoked too by default (the user signed out and
//! does not see them); with `sessions.logout_keeps_offline_grants = true`
//! they survive, and tokens refreshed from them no longer carry the ended
//! session's `sid`.

use std::time::Duration;

use latchkey_crypto::{jws, random};
use latchkey_domain::logout::{LOGOUT_TOKEN_TYP, LogoutTokenClaims};
use latchkey_domain::{SecurityEvent, UnixTime};
use latchkey_store::Session;

use crate::error::ApiError;
use crate::state::AppState;

/// Attempts per client, and the pause before each retry.
const BACKOFF: [Duration; 2] = [Duration::from_secs(1), Duration::from_secs(3)];

/// Logout tokens are short-lived: they are delivered at once or not at all.
const LOGOUT_TOKEN_TTL: Duration = Duration::from_secs(120);

pub async fn end_session(state: &AppState, session: &Session, reason: &str) -> Result<(), ApiError> {
    let now = UnixTime::now();
    let grants = state.store.active_grants_of_session(&session.id, now).await?;
    state.store.end_session(&session.id, now).await?;
    let mut revoked = 0;
    for g in &grants {
        let offline = g.scopes.split(' ').any(|s| s == "offline_access");
        if offline && state.config.logout_keeps_offline_grants {
            continue;
        }
        if state.store.revoke_grant(&g.id, now).await? {
            revoked += 1;
        }
    }
    // This node's caches now; the others within a poll.
    state.caches.sync(&state.store).await?;
    state.events.emit(SecurityEvent::SessionEnded {
        session_id: session.id.clone(),
        user_id: session.user_id.clone(),
        reason: reason.to_string(),
        grants_revoked: revoked,
    });
    let mut clients: Vec<String> = grants.into_iter().map(|g| g.client_id).collect();
    clients.sort();
    clients.dedup();
    for client_id in clients {
        let (state, session) = (state.clone(), session.clone());
        tokio::spawn(async move { notify(&state, &client_id, &session).await });
    }
    Ok(())
}

/// Delivers one logout token, retrying a bounded number of times.
async fn notify(state: &AppState, client_id: &str, session: &Session) {
    let client = match state.caches.clients.get(&state.store, client_id).await {
        Ok(Some(c)) => c,
        _ => return,
    };
    let Some(uri) = client.backchannel_logout_uri.clone() else { return };
    let token = match logout_token(state, &client, session) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(client_id, error = %e, "cannot sign a logout token");
            return;
        }
    };
    let mut last_error = String::new();
    for attempt in 0..=BACKOFF.len() {
        if let Some(pause) = attempt.checked_sub(1).and_then(|i| BACKOFF.get(i)) {
            tokio::time::sleep(*pause).await;
        }
        // §2.8: the RP answers 200 (or 204) when it has logged the user out.
        match crate::outbound::post_form(&state.config.outbound, &uri, &[("logout_token", &token)]).await {
            Ok(200 | 204) => return,
            Ok(status) => last_error = format!("status {status}"),
            Err(e) => last_error = e.to_string(),
        }
    }
    tracing::warn!(client_id, session_id = %session.id, error = %last_error, "back-channel logout not delivered");
    state.events.emit(SecurityEvent::BackchannelLogoutFailed {
        client_id: client_id.to_string(),
        session_id: session.id.clone(),
        error: last_error,
    });
}

/// §2.4: signed like the client's ID tokens, typed `logout+jwt`, with `sid`
/// and `sub`, the logout event, and never a `nonce`.
fn logout_token(state: &AppState, client: &latchkey_domain::Client, session: &Session) -> Result<String, String> {
    let now = UnixTime::now();
    let claims = LogoutTokenClaims {
        iss: state.issuer.as_str().to_string(),
        aud: client.id.clone(),
        iat: now.0,
        exp: now.plus(LOGOUT_TOKEN_TTL).0,
        jti: random::id(),
        sub: session.user_id.clone(),
        sid: session.id.clone(),
        events: LogoutTokenClaims::events(),
    };
    let keys = state.keys.snapshot();
    let key = keys.signer(client.id_token_alg, now).ok_or_else(|| format!("no {} signing key", client.id_token_alg))?;
    jws::sign(&key.signer, LOGOUT_TOKEN_TYP, &claims).map_err(|e| e.to_string())
}
