//! `private_key_jwt` (RFC 7523 §2.2, §3; OIDC Core §9): the client signs a
//! short-lived JWT with its private key.
//!
//! Accepted: `iss` = `sub` = the client id; `aud` a single string naming
//! this server, its issuer identifier (as draft-ietf-oauth-rfc7523bis
//! requires) or, for older clients, the token endpoint (arrays are refused:
//! the rfc7523bis audience-injection fix); `exp` within
//! [`MAX_LIFETIME`]; a `jti` never seen before from this client; a
//! signature by one of the client's keys, with the algorithm the key fixes.

use std::time::Duration;

use latchkey_crypto::jws;
use latchkey_domain::client::AuthMethod;
use latchkey_domain::{Client, UnixTime};
use serde::Deserialize;

use crate::access_tokens::LEEWAY;
use crate::client_keys::KeySource;
use crate::error::ApiError;
use crate::state::AppState;

/// Assertions living longer than this are refused: a captured one must be
/// worthless soon (and `jti`s are remembered only this long).
pub const MAX_LIFETIME: Duration = Duration::from_secs(300);

fn fail(reason: impl Into<String>) -> AuthFailure {
    AuthFailure::Failed { description: "client authentication failed", reason: reason.into() }
}

#[derive(Deserialize)]
struct AssertionClaims {
    iss: Option<String>,
    sub: Option<String>,
    aud: Option<serde_json::Value>,
    exp: Option<i64>,
    iat: Option<i64>,
    nbf: Option<i64>,
    jti: Option<String>,
}

/// The authenticated client, or why not. `body_client_id` is the optional
/// `client_id` parameter, which must agree with the assertion.
pub async fn authenticate(
    state: &AppState,
    body_client_id: Option<&str>,
    assertion: &str,
) -> Result<std::sync::Arc<Client>, AuthFailure> {
    let (_, payload, _) = jws::decode_unverified(assertion).map_err(|e| fail(format!("assertion: {e}")))?;
    // Only what serde can read from untrusted input; trusted after the
    // signature check below.
    let claims: AssertionClaims =
        serde_json::from_slice(&payload).map_err(|e| fail(format!("assertion claims: {e}")))?;
    let (Some(iss), Some(sub)) = (&claims.iss, &claims.sub) else {
        return Err(fail("the assertion needs iss and sub (both the client id)"));
    };
    if iss != sub {
        return Err(fail("the assertion's iss and sub must both be the client id"));
    }
    if body_client_id.is_some_and(|b| b != sub) {
        return Err(fail("client_id differs from the assertion's sub"));
    }
    let Some(client) = state.caches.clients.get(&state.store, sub).await.map_err(AuthFailure::Store)? else {
        return Err(fail(format!("unknown client {sub:?}")));
    };
    if client.auth_method != AuthMethod::PrivateKeyJwt {
        return Err(AuthFailure::Failed {
            description: "client authentication failed: wrong authentication method for this client",
            reason: format!("client {} is registered for {} but sent an assertion", client.id, client.auth_method),
        });
    }

    // The signature first: nothing the assertion says counts before it.
    state
        .client_keys
        .verify(KeySource::Client(&client), assertion)
        .await
        .map_err(|e| fail(format!("client {}: {e}", client.id)))?;

    let now = UnixTime::now();
    check_audience(state, claims.aud.as_ref())?;
    let exp = claims.exp.ok_or_else(|| fail("the assertion has no exp"))?;
    if now.minus(LEEWAY) >= UnixTime(exp) {
        return Err(fail("the assertion has expired"));
    }
    if UnixTime(exp) > now.plus(MAX_LIFETIME + LEEWAY) {
        return Err(fail(format!("the assertion lives too long: exp at most {}s ahead", MAX_LIFETIME.as_secs())));
    }
    if claims.nbf.is_some_and(|nbf| now.plus(LEEWAY) < UnixTime(nbf)) {
        return Err(fail("the assertion is not valid yet (nbf)"));
    }
    if claims.iat.is_some_and(|iat| now.plus(LEEWAY) < UnixTime(iat)) {
        return Err(fail("the assertion was issued in the future (iat)"));
    }
    let jti = claims.jti.as_deref().filter(|j| !j.is_empty()).ok_or_else(|| fail("the assertion has no jti"))?;
    // Remembered until the assertion expires (plus leeway): replaying it
    // later fails on exp instead.
    let first_use = state
        .store
        .consume_jti(&format!("client:{}", client.id), jti, UnixTime(exp).plus(LEEWAY))
        .await
        .map_err(AuthFailure::Store)?;
    if !first_use {
        return Err(fail(format!("client {}: assertion jti {jti:?} was already used (replay)", client.id)));
    }
    Ok(client)
}

/// RFC 7523 §3 point 3 with the rfc7523bis fix: one string, ours.
fn check_audience(state: &AppState, aud: Option<&serde_json::Value>) -> Result<(), AuthFailure> {
    let issuer = state.issuer.as_str();
    let token_endpoint = state.issuer.endpoint("/token");
    match aud {
        Some(serde_json::Value::String(a)) if a == issuer || *a == token_endpoint => Ok(()),
        Some(serde_json::Value::String(a)) => {
            Err(fail(format!("assertion aud {a:?} must be the issuer identifier {issuer}")))
        }
        Some(serde_json::Value::Array(_)) => {
            Err(fail(format!("assertion aud must be a single string (the issuer identifier {issuer}), not an array")))
        }
        _ => Err(fail("the assertion has no aud")),
    }
}

/// A failed assertion (a public description and the logged reason), or a
/// store that could not answer (503, not 401).
pub enum AuthFailure {
    Failed { description: &'static str, reason: String },
    Store(latchkey_store::StoreError),
}

impl AuthFailure {
    pub fn into_api_error(self, state: &AppState) -> ApiError {
        match self {
            AuthFailure::Failed { description, reason } => {
                crate::client_auth::invalid_client(state, description, reason)
            }
            AuthFailure::Store(e) => ApiError::from(e),
        }
    }
}
