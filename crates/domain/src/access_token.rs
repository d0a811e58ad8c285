//! JWT access tokens (RFC 9068): the claims, and the rules a token must meet
//! to be valid at an instant. Signature checking is the crypto crate's job.

use serde::{Deserialize, Serialize};

use crate::scope::ScopeSet;
use crate::time::UnixTime;

/// `aud` is a string or an array of strings (RFC 7519 §4.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    pub fn contains(&self, aud: &str) -> bool {
        match self {
            Audience::One(a) => a == aud,
            Audience::Many(list) => list.iter().any(|a| a == aud),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: Audience,
    pub exp: i64,
    pub iat: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    pub jti: String,
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amr: Option<Vec<String>>,
    /// RFC 8693 §4.1: who acts for the subject (token exchange).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<crate::token_exchange::Actor>,
    /// RFC 8693 §4.4: who may act for the subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub may_act: Option<crate::token_exchange::Actor>,
    /// Claims forwarded to the audience by its configuration (user claims
    /// such as `email`), kept apart from the registered ones.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// Why a token is not valid now, in words a developer can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenProblem {
    #[error("malformed token: {0}")]
    Malformed(String),
    #[error("signature: {0}")]
    Signature(String),
    #[error("typ must be at+jwt (RFC 9068 §4), got {0:?}")]
    WrongType(Option<String>),
    #[error("issuer mismatch: expected {expected}, got {got}")]
    WrongIssuer { expected: String, got: String },
    #[error("audience does not include {0}")]
    WrongAudience(String),
    #[error("expired at {0}")]
    Expired(UnixTime),
    #[error("not valid before {0}")]
    NotYetValid(UnixTime),
    #[error("issued in the future ({0})")]
    IssuedInFuture(UnixTime),
    #[error("revoked")]
    Revoked,
    /// The revocation state could not be read: the token is refused (fail
    /// closed), but the caller should answer 503, not 401.
    #[error("cannot check revocation now: {0}")]
    CheckUnavailable(String),
}

impl AccessTokenClaims {
    pub fn scopes(&self) -> ScopeSet {
        self.scope.as_deref().and_then(|s| ScopeSet::parse(s).ok()).unwrap_or_default()
    }

    /// Time and issuer checks. `leeway` absorbs clock skew between nodes.
    pub fn check(&self, issuer: &str, now: UnixTime, leeway: std::time::Duration) -> Result<(), TokenProblem> {
        if self.iss != issuer {
            return Err(TokenProblem::WrongIssuer { expected: issuer.to_string(), got: self.iss.clone() });
        }
        if now.minus(leeway) >= UnixTime(self.exp) {
            return Err(TokenProblem::Expired(UnixTime(self.exp)));
        }
        if let Some(nbf) = self.nbf
            && now.plus(leeway) < UnixTime(nbf)
        {
            return Err(TokenProblem::NotYetValid(UnixTime(nbf)));
        }
        if now.plus(leeway) < UnixTime(self.iat) {
            return Err(TokenProblem::IssuedInFuture(UnixTime(self.iat)));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn claims() -> AccessTokenClaims {
        AccessTokenClaims {
            iss: "https://as".into(),
            sub: "u".into(),
            aud: Audience::One("https://as".into()),
            exp: 1000,
            iat: 900,
            nbf: None,
            jti: "j".into(),
            client_id: "c".into(),
            scope: Some("a b".into()),
            sid: None,
            auth_time: None,
            acr: None,
            amr: None,
            act: None,
            may_act: None,
            extra: Default::default(),
        }
    }

    #[test]
    fn time_and_issuer_rules() {
        let c = claims();
        let leeway = Duration::from_secs(30);
        assert_eq!(c.check("https://as", UnixTime(950), leeway), Ok(()));
        assert_eq!(c.check("https://as", UnixTime(1029), leeway), Ok(()));
        assert!(matches!(c.check("https://as", UnixTime(1030), leeway), Err(TokenProblem::Expired(_))));
        assert!(matches!(c.check("https://other", UnixTime(950), leeway), Err(TokenProblem::WrongIssuer { .. })));
        assert!(matches!(c.check("https://as", UnixTime(800), leeway), Err(TokenProblem::IssuedInFuture(_))));
        assert!(c.scopes().contains("b"));
    }
}
