//! Authentication of callers of the decision API (PEPs): a configured PEP
//! key, sent raw (`Authorization: <key>`, as the AuthZEN interop harness
//! does) or as `Bearer <key>`; or an access token of ours whose scopes
//! include the PEP scope (and the privileged scope for search and
//! explanations).

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::header;
use axum::http::request::Parts;
use latchkey_domain::ErrorCode;
use latchkey_domain::access_token::TokenProblem;

use super::decide::Caller;
use crate::error::ApiError;
use crate::state::AppState;

fn unauthorized(state: &AppState, description: &str, with_error: bool) -> ApiError {
    let mut e = ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::InvalidToken, description);
    let realm = state.issuer.as_str();
    // RFC 6750 §3.1: no credentials, no error code.
    e.www_authenticate = Some(if with_error {
        format!("Bearer realm=\"{realm}\", error=\"invalid_token\", error_description=\"{description}\"")
    } else {
        format!("Bearer realm=\"{realm}\"")
    });
    e
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
            return Err(unauthorized(state, "PEP credentials required", false));
        };
        let value = value.trim();
        let credential = match value.split_once(' ') {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
            _ => value,
        };
        if credential.is_empty() {
            return Err(unauthorized(state, "PEP credentials required", false));
        }
        if let Some(pep) =
            latchkey_crypto::digest::find_by_secret(credential, &state.config.authz.peps, |p| &p.key_digest)
        {
            return Ok(Caller {
                name: pep.name.clone(),
                privileged: pep.privileged,
                resource_types: pep.resource_types.clone(),
                tenant: pep.tenant.clone(),
            });
        }
        if credential.matches('.').count() != 2 {
            return Err(unauthorized(state, "unknown PEP credential", true));
        }
        let claims = crate::access_tokens::verify_shared(state, credential).await.map_err(|problem| match problem {
            TokenProblem::CheckUnavailable(reason) => ApiError::unavailable(reason),
            other => unauthorized(state, "invalid access token", true).with_reason(other.to_string()),
        })?;
        let cfg = &state.config.authz;
        // A PEP is a service acting for itself: a client-credentials token,
        // not a user's token that happens to carry the scope.
        if claims.sub.strip_prefix(latchkey_domain::client::CLIENT_SUBJECT_PREFIX) != Some(claims.client_id.as_str()) {
            return Err(unauthorized(state, "a PEP authenticates with a client-credentials token", true));
        }
        let scopes: Vec<&str> = claims.scope.as_deref().unwrap_or("").split(' ').collect();
        if !scopes.contains(&cfg.pep_scope.as_str()) {
            let mut e = ApiError::new(
                StatusCode::FORBIDDEN,
                ErrorCode::InsufficientScope,
                "the token lacks the decision API's scope",
            );
            e.www_authenticate = Some(format!(
                "Bearer realm=\"{}\", error=\"insufficient_scope\", scope=\"{}\"",
                state.issuer.as_str(),
                cfg.pep_scope
            ));
            return Err(e);
        }
        Ok(Caller {
            name: format!("client:{}", claims.client_id),
            privileged: scopes.contains(&cfg.privileged_scope.as_str()),
            resource_types: Vec::new(),
            tenant: None,
        })
    }
}
