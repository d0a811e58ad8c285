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

/// Deserialized by hand (below), not derived: serde's `flatten` for
/// `extra` buffers every claim before reading it, which costs more than
/// the rest of checking a token apart from the signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

impl<'de> Deserialize<'de> for AccessTokenClaims {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ClaimsVisitor)
    }
}

struct ClaimsVisitor;

/// Sets `slot` from the next value; a claim given twice is refused
/// (RFC 7519 §4: a JWT's claim names must be unique).
fn once<'de, A: serde::de::MapAccess<'de>, T: Deserialize<'de>>(
    map: &mut A,
    slot: &mut Option<T>,
    name: &'static str,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(serde::de::Error::duplicate_field(name));
    }
    *slot = Some(map.next_value()?);
    Ok(())
}

impl<'de> serde::de::Visitor<'de> for ClaimsVisitor {
    type Value = AccessTokenClaims;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object of access-token claims")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<AccessTokenClaims, A::Error> {
        use serde::de::Error;
        let (mut iss, mut sub, mut aud, mut exp, mut iat, mut nbf, mut jti, mut client_id) =
            (None, None, None, None, None, None, None, None);
        let (mut scope, mut sid, mut auth_time, mut acr, mut amr, mut act, mut may_act) =
            (None, None, None, None, None, None, None);
        let mut extra = serde_json::Map::new();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "iss" => once(&mut map, &mut iss, "iss")?,
                "sub" => once(&mut map, &mut sub, "sub")?,
                "aud" => once(&mut map, &mut aud, "aud")?,
                "exp" => once(&mut map, &mut exp, "exp")?,
                "iat" => once(&mut map, &mut iat, "iat")?,
                "nbf" => once(&mut map, &mut nbf, "nbf")?,
                "jti" => once(&mut map, &mut jti, "jti")?,
                "client_id" => once(&mut map, &mut client_id, "client_id")?,
                "scope" => once(&mut map, &mut scope, "scope")?,
                "sid" => once(&mut map, &mut sid, "sid")?,
                "auth_time" => once(&mut map, &mut auth_time, "auth_time")?,
                "acr" => once(&mut map, &mut acr, "acr")?,
                "amr" => once(&mut map, &mut amr, "amr")?,
                "act" => once(&mut map, &mut act, "act")?,
                "may_act" => once(&mut map, &mut may_act, "may_act")?,
                other => {
                    let value: serde_json::Value = map.next_value()?;
                    if extra.insert(other.to_owned(), value).is_some() {
                        return Err(A::Error::custom(format!("duplicate claim `{other}`")));
                    }
                }
            }
        }
        Ok(AccessTokenClaims {
            iss: iss.ok_or_else(|| A::Error::missing_field("iss"))?,
            sub: sub.ok_or_else(|| A::Error::missing_field("sub"))?,
            aud: aud.ok_or_else(|| A::Error::missing_field("aud"))?,
            exp: exp.ok_or_else(|| A::Error::missing_field("exp"))?,
            iat: iat.ok_or_else(|| A::Error::missing_field("iat"))?,
            nbf: nbf.flatten(),
            jti: jti.ok_or_else(|| A::Error::missing_field("jti"))?,
            client_id: client_id.ok_or_else(|| A::Error::missing_field("client_id"))?,
            scope: scope.flatten(),
            sid: sid.flatten(),
            auth_time: auth_time.flatten(),
            acr: acr.flatten(),
            amr: amr.flatten(),
            act: act.flatten(),
            may_act: may_act.flatten(),
            extra,
        })
    }
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
    fn claims_round_trip_keep_extra_claims_and_refuse_duplicates() {
        let mut c = claims();
        c.nbf = Some(950);
        c.extra.insert("email".into(), serde_json::json!("a@example.com"));
        let text = serde_json::to_string(&c).unwrap_or_default();
        let back: AccessTokenClaims = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        assert_eq!(back, c);
        let many: AccessTokenClaims = serde_json::from_str(
            r#"{"iss":"i","sub":"s","aud":["a","b"],"exp":2,"iat":1,"jti":"j","client_id":"c","scope":null}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(many.aud.contains("b") && many.scope.is_none());
        for bad in [
            r#"{"iss":"i","iss":"evil","sub":"s","aud":"a","exp":2,"iat":1,"jti":"j","client_id":"c"}"#,
            r#"{"iss":"i","sub":"s","aud":"a","exp":2,"iat":1,"jti":"j","client_id":"c","x":1,"x":2}"#,
            r#"{"sub":"s","aud":"a","exp":2,"iat":1,"jti":"j","client_id":"c"}"#,
            r#"{"iss":"i","sub":"s","aud":[1],"exp":2,"iat":1,"jti":"j","client_id":"c"}"#,
            r#"{"iss":"i","sub":"s","aud":"a","exp":"soon","iat":1,"jti":"j","client_id":"c"}"#,
        ] {
            assert!(serde_json::from_str::<AccessTokenClaims>(bad).is_err(), "{bad}");
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
