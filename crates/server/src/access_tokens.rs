//! Minting and checking our own JWT access tokens (RFC 9068). The sign-in
//! and machine-to-machine issues build their grants on these two functions.

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
/// the caller's to check, since they depend on who is asking.
pub async fn verify(state: &AppState, token: &str) -> Result<AccessTokenClaims, TokenProblem> {
    let now = UnixTime::now();
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
    let claims: AccessTokenClaims =
        serde_json::from_slice(&verified.payload).map_err(|e| TokenProblem::Malformed(format!("claims: {e}")))?;
    claims.check(state.issuer.as_str(), now, LEEWAY)?;
    match state.store.is_jti_revoked(&claims.jti).await {
        Ok(false) => Ok(claims),
        Ok(true) => Err(TokenProblem::Revoked),
        // Fail closed: a token we cannot check for revocation is not valid.
        Err(e) => Err(TokenProblem::CheckUnavailable(e.to_string())),
    }
}
