//! Minting and checking our own JWT access tokens (RFC 9068). The sign-in
//! and machine-to-machine issues build their grants on these two functions.

use std::sync::Arc;
use std::time::Duration;

use latchkey_crypto::jws;
use latchkey_domain::access_token::{AccessTokenClaims, TokenProblem};
use latchkey_domain::{SigningAlg, UnixTime};

use crate::state::AppState;

/// RFC 9068 §2.1: access tokens carry `typ: at+jwt`.
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";

/// Clock skew tolerated between nodes and resource servers.
pub const LEEWAY: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum MintError {
    #[error("no active {0} signing key")]
    NoKey(SigningAlg),
    #[error(transparent)]
    Crypto(#[from] latchkey_crypto::CryptoError),
}

pub fn mint(state: &AppState, alg: SigningAlg, claims: &AccessTokenClaims) -> Result<String, MintError> {
    let keys = state.keys.snapshot();
    let key = keys.signer(alg, UnixTime::now()).ok_or(MintError::NoKey(alg))?;
    Ok(jws::sign(&key.signer, ACCESS_TOKEN_TYP, claims)?)
}

/// Signature, `typ`, issuer, time and revocation. Audience and scope are
/// the caller's to check, since they depend on who is asking. A token seen
/// before skips the signature check and parsing (the hot-token cache), never
/// the time, issuer and revocation checks.
pub async fn verify(state: &AppState, token: &str) -> Result<AccessTokenClaims, TokenProblem> {
    verify_shared(state, token).await.map(|c| AccessTokenClaims::clone(&c))
}

/// [`verify`], sharing the cached claims instead of copying them.
pub async fn verify_shared(state: &AppState, token: &str) -> Result<Arc<AccessTokenClaims>, TokenProblem> {
    let now = UnixTime::now();
    let cached = state.caches.tokens.get(token).filter(|(kid, _)| {
        // Its key must still be one we verify with (not revoked since).
        state.keys.snapshot().verifier(kid, now).is_some()
    });
    let claims = match cached {
        Some((_, claims)) => claims,
        None => {
            let (kid, claims) = verify_signature(state, token, now)?;
            let claims = Arc::new(claims);
            // Only tokens that are ours and alive are worth remembering.
            claims.check(state.issuer.as_str(), now, LEEWAY)?;
            state.caches.tokens.insert(token, &kid, claims.clone());
            claims
        }
    };
    claims.check(state.issuer.as_str(), now, LEEWAY)?;
    let revoked = if state.caches.is_current(now) {
        state.caches.revocations.is_revoked(&claims.jti)
    } else {
        // The change feed is behind: ask the store, and fail closed.
        state.store.is_jti_revoked(&claims.jti).await.map_err(|e| TokenProblem::CheckUnavailable(e.to_string()))?
    };
    if revoked {
        return Err(TokenProblem::Revoked);
    }
    Ok(claims)
}

/// The expensive part: signature, `typ` and parsing.
fn verify_signature(state: &AppState, token: &str, now: UnixTime) -> Result<(String, AccessTokenClaims), TokenProblem> {
    let keys = state.keys.snapshot();
    let verified = jws::verify(token, |kid| keys.verifier(kid, now)).map_err(|e| match e {
        jws::JwsError::Malformed | jws::JwsError::BadHeader | jws::JwsError::BadPayload => {
            TokenProblem::Malformed(e.to_string())
        }
        other => TokenProblem::Signature(other.to_string()),
    })?;
    // RFC 9068 §4: accept `at+jwt` and its full media type form.
    match verified.header.typ.as_deref() {
        Some(t) if t.eq_ignore_ascii_case("at+jwt") || t.eq_ignore_ascii_case("application/at+jwt") => {}
        other => return Err(TokenProblem::WrongType(other.map(str::to_string))),
    }
    let claims =
        serde_json::from_slice(&verified.payload).map_err(|e| TokenProblem::Malformed(format!("claims: {e}")))?;
    Ok((verified.header.kid.unwrap_or_default(), claims))
}
