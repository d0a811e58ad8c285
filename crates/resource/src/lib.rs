//! Latchkey's resource-server kit: verify Latchkey access tokens locally,
//! in microseconds, and still react within seconds to revocations and to
//! step-up requirements.
//!
//! - [`Verifier`]: strict RFC 9068 validation against cached keys
//!   ([`keys`]), plus a route's [`Requirement`] (scopes, `acr`, `max_age`).
//! - [`RevocationFeed`]: follows the server's revocation feed.
//! - [`Rejection`]: why a request is refused, as RFC 6750 / RFC 9470
//!   answers (`WWW-Authenticate` challenges).
//! - [`Decisions`]: asks the AuthZEN endpoint, with the caller's token as
//!   the subject.
//! - `axum` (feature, on by default): middleware and extractor.
//!
//! See `docs/resource-servers.md` in the Latchkey repository.

pub mod authzen;
#[cfg(feature = "axum")]
pub mod axum;
pub mod explain;
pub mod keys;
pub mod revocations;
pub mod verifier;

use std::time::Duration;

use latchkey_domain::access_token::TokenProblem;

pub use authzen::Decisions;
pub use keys::KeyOptions;
pub use revocations::{FeedConfig, OnStale, RevocationFeed};
pub use verifier::{Requirement, VerifiedToken, Verifier, VerifierConfig, check_requirement};

/// Setting the kit up failed (the authorization server unreachable, bad
/// metadata or keys).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the authorization server is unreachable: {0}")]
    Unreachable(String),
    #[error("discovery: {0}")]
    Discovery(String),
    #[error("the JWKS has no usable key: {0}")]
    BadKeys(String),
}

/// Why a request is refused. Each maps to an HTTP status and a
/// `WWW-Authenticate` challenge ([`Rejection::status`],
/// [`Rejection::www_authenticate`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// No bearer token: 401 with a bare challenge (RFC 6750 §3.1: no error
    /// code when the request had no credentials).
    #[error("no access token")]
    Missing,
    /// The token is not valid (signature, type, issuer, audience, time):
    /// 401 `invalid_token`.
    #[error("{0}")]
    Invalid(TokenProblem),
    /// No key with this kid, even after refetching the JWKS.
    #[error("signature: no key with kid {0:?}")]
    UnknownKey(String),
    #[error("{0}")]
    Revoked(&'static str),
    /// Valid, but the route needs more scopes: 403 `insufficient_scope`.
    #[error("the token lacks a required scope (needs {})", .required.join(" "))]
    InsufficientScope { required: Vec<String> },
    /// Valid, but the authentication is too weak or too old: 401
    /// `insufficient_user_authentication` (RFC 9470).
    #[error("a stronger or more recent authentication is required")]
    StepUp { acr_values: Vec<String>, max_age: Option<Duration> },
    /// A fine-grained decision said no: 403.
    #[error("access denied by policy")]
    Denied,
    /// Verification could not be completed now (revocation state unknown
    /// while failing closed, the decision point unreachable): 503.
    #[error("cannot verify now: {0}")]
    Unavailable(String),
}

impl Rejection {
    pub fn status(&self) -> u16 {
        match self {
            Rejection::InsufficientScope { .. } | Rejection::Denied => 403,
            Rejection::Unavailable(_) => 503,
            _ => 401,
        }
    }

    /// The RFC 6750 / RFC 9470 error code, if the answer carries one.
    pub fn error_code(&self) -> Option<&'static str> {
        match self {
            Rejection::Missing | Rejection::Unavailable(_) | Rejection::Denied => None,
            Rejection::Invalid(_) | Rejection::UnknownKey(_) | Rejection::Revoked(_) => Some("invalid_token"),
            Rejection::InsufficientScope { .. } => Some("insufficient_scope"),
            Rejection::StepUp { .. } => Some("insufficient_user_authentication"),
        }
    }

    /// The `WWW-Authenticate` header for this answer (none for 503).
    pub fn www_authenticate(&self, realm: Option<&str>) -> Option<String> {
        if matches!(self, Rejection::Unavailable(_)) {
            return None;
        }
        let mut parts: Vec<String> = realm.map(|r| format!("realm=\"{}\"", quote(r))).into_iter().collect();
        if let Some(code) = self.error_code() {
            parts.push(format!("error=\"{code}\""));
            parts.push(format!("error_description=\"{}\"", quote(&self.to_string())));
        }
        match self {
            Rejection::InsufficientScope { required } => {
                parts.push(format!("scope=\"{}\"", quote(&required.join(" "))))
            }
            Rejection::StepUp { acr_values, max_age } => {
                if !acr_values.is_empty() {
                    parts.push(format!("acr_values=\"{}\"", quote(&acr_values.join(" "))));
                }
                if let Some(m) = max_age {
                    parts.push(format!("max_age={}", m.as_secs()));
                }
            }
            _ => {}
        }
        Some(if parts.is_empty() { "Bearer".to_owned() } else { format!("Bearer {}", parts.join(", ")) })
    }
}

/// RFC 6750 §3: error descriptions are printable ASCII without `"` and
/// `\`; anything else (it may come from the token) is replaced, and the
/// text is cut to 200 characters.
fn quote(s: &str) -> String {
    s.chars().take(200).map(|c| if c == '"' || c == '\\' || !(' '..='~').contains(&c) { '\'' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_follow_rfc_6750_and_9470() {
        assert_eq!(Rejection::Missing.www_authenticate(Some("api")).as_deref(), Some("Bearer realm=\"api\""));
        assert_eq!(Rejection::Missing.www_authenticate(None).as_deref(), Some("Bearer"));
        let scope = Rejection::InsufficientScope { required: vec!["orders:read".into(), "orders:write".into()] };
        let c = scope.www_authenticate(Some("api")).unwrap_or_default();
        assert!(c.contains("error=\"insufficient_scope\"") && c.contains("scope=\"orders:read orders:write\""), "{c}");
        assert_eq!(scope.status(), 403);
        let step = Rejection::StepUp {
            acr_values: vec!["urn:latchkey:acr:mfa".into()],
            max_age: Some(Duration::from_secs(300)),
        };
        let c = step.www_authenticate(Some("api")).unwrap_or_default();
        assert!(c.contains("error=\"insufficient_user_authentication\""), "{c}");
        assert!(c.contains("acr_values=\"urn:latchkey:acr:mfa\"") && c.contains("max_age=300"), "{c}");
        let bad = Rejection::Invalid(TokenProblem::WrongType(Some("JWT\"x".into())));
        assert!(!bad.www_authenticate(Some("api")).unwrap_or_default().contains("JWT\"x"), "quotes cannot break out");
        assert_eq!(Rejection::Unavailable("x".into()).www_authenticate(Some("api")), None);
    }
}
