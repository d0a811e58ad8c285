//! Admin authentication for admin APIs: an access token of ours carrying the
//! admin scope (for admin clients), or the admin key from the environment
//! (for operators and scripts). Failures follow RFC 6750 §3.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use latchkey_domain::access_token::TokenProblem;
use latchkey_domain::{ErrorCode, SecurityEvent};
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::state::AppState;

/// Proof that the caller is an administrator.
#[derive(Debug, Clone)]
pub struct Admin {
    /// `admin-key`, or the client id of the token.
    pub principal: String,
}

fn challenge(state: &AppState, error: Option<(&str, &str)>) -> String {
    let realm = state.issuer.as_str();
    match error {
        None => format!("Bearer realm=\"{realm}\""),
        Some((code, desc)) => {
            format!("Bearer realm=\"{realm}\", error=\"{code}\", error_description=\"{desc}\"")
        }
    }
}

fn refuse(
    state: &AppState,
    parts: &Parts,
    status: StatusCode,
    code: ErrorCode,
    description: &str,
    reason: String,
) -> ApiError {
    state.events.emit(SecurityEvent::AdminAccessDenied { reason: reason.clone(), route: parts.uri.path().to_string() });
    let mut e = ApiError::new(status, code, description).with_reason(reason);
    e.www_authenticate = Some(challenge(state, Some((code.as_str(), description))));
    e
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(credential) = crate::forms::bearer_token(&parts.headers) else {
            // RFC 6750 §3.1: no (bearer) credentials → no error code in the challenge.
            let mut e = ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::InvalidToken, "admin credentials required");
            e.www_authenticate = Some(challenge(state, None));
            return Err(e);
        };
        if let Some(digest) = &state.admin_key_digest {
            let presented = latchkey_crypto::digest::secret_digest(credential);
            if bool::from(presented.ct_eq(digest)) {
                crate::error::set_request_actor("admin-key");
                return Ok(Admin { principal: "admin-key".into() });
            }
        }
        if credential.matches('.').count() != 2 {
            return Err(refuse(
                state,
                parts,
                StatusCode::UNAUTHORIZED,
                ErrorCode::InvalidToken,
                "invalid admin credential",
                "neither the admin key nor a JWT".into(),
            ));
        }
        let claims = crate::access_tokens::verify(state, credential).await.map_err(|problem| {
            if let TokenProblem::CheckUnavailable(reason) = &problem {
                return ApiError::unavailable(reason);
            }
            refuse(
                state,
                parts,
                StatusCode::UNAUTHORIZED,
                ErrorCode::InvalidToken,
                "invalid admin credential",
                format!("admin token: {problem}"),
            )
        })?;
        // Tokens for the server's own APIs carry the issuer as audience.
        if !claims.aud.contains(state.issuer.as_str()) {
            return Err(refuse(
                state,
                parts,
                StatusCode::UNAUTHORIZED,
                ErrorCode::InvalidToken,
                "invalid admin credential",
                "admin token audience is not this server".into(),
            ));
        }
        if !claims.scopes().contains(&state.config.admin_scope) {
            let mut e = refuse(
                state,
                parts,
                StatusCode::FORBIDDEN,
                ErrorCode::InsufficientScope,
                "the token lacks the admin scope",
                format!("client {} has no {}", claims.client_id, state.config.admin_scope),
            );
            e.www_authenticate = Some(format!(
                "Bearer realm=\"{}\", error=\"insufficient_scope\", scope=\"{}\"",
                state.issuer.as_str(),
                state.config.admin_scope
            ));
            return Err(e);
        }
        crate::error::set_request_actor(&claims.client_id);
        Ok(Admin { principal: claims.client_id })
    }
}
