//! OAuth 2.0 Token Exchange (RFC 8693): the rules that decide whether a
//! client may trade a subject token for a new, narrower one, and what the new
//! token may carry. The server verifies the tokens; this module only reasons
//! about what they say.
//!
//! Which exchanges a client may perform goes through [`ExchangePolicy`]: the
//! configured rules ([`ConfiguredPolicy`]) today, a policy decision of the
//! real-time authorization engine later, without touching the grant.

use serde::{Deserialize, Serialize};

use crate::access_token::Audience;
use crate::client::Client;
use crate::scope::ScopeSet;

/// RFC 8693 §3 token type identifiers.
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
pub const ID_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:id_token";
pub const JWT_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";
pub const REFRESH_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:refresh_token";

/// The kinds of subject or actor token Latchkey accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputTokenType {
    /// One of our access tokens (`access_token`, or `jwt` naming one).
    AccessToken,
    /// One of our ID tokens: only when the exchanging client is its audience.
    IdToken,
}

impl InputTokenType {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            ACCESS_TOKEN_TYPE | JWT_TYPE => Ok(InputTokenType::AccessToken),
            ID_TOKEN_TYPE => Ok(InputTokenType::IdToken),
            REFRESH_TOKEN_TYPE => Err("refresh tokens cannot be exchanged; send an access token".into()),
            other => Err(format!("token type {other:?} is not supported")),
        }
    }
}

/// The `act` (actor) claim, RFC 8693 §4.1: who is acting for the subject,
/// with the earlier actors of the chain nested inside. `may_act` (§4.4) has
/// the same shape and names who may become the actor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<Box<Actor>>,
}

impl Actor {
    /// The new current actor, with the subject token's chain as the prior
    /// actors (§4.1: "the least recent actor is the most deeply nested").
    pub fn on_top_of(self, prior: Option<Actor>) -> Actor {
        Actor { act: prior.map(Box::new), ..self }
    }

    /// How many actors the chain holds.
    pub fn depth(&self) -> usize {
        1 + self.act.as_ref().map_or(0, |a| a.depth())
    }
}

/// Chains longer than this are refused: each hop adds one, and no real
/// service chain is this deep, while an unbounded one grows every token.
pub const MAX_ACTOR_DEPTH: usize = 8;

/// Per-client exchange settings, from configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExchangeSettings {
    /// Audiences of subject tokens this client may exchange, besides tokens
    /// naming the client itself in `aud`: typically the API the client
    /// implements, whose callers' tokens it trades for downstream ones.
    #[serde(default)]
    pub subject_audiences: Vec<String>,
    /// May this client obtain tokens with no `act` naming it (RFC 8693
    /// §1.1 impersonation)? Off by default: otherwise the exchanging client
    /// is recorded as the actor.
    #[serde(default)]
    pub impersonation: bool,
}

/// Another authorization server whose JWTs may be exchanged here (RFC 8693
/// §2.1: "a JWT from a trusted issuer"), from configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedIssuer {
    /// The `iss` its tokens carry, compared exactly.
    pub issuer: String,
    pub jwks_uri: String,
    /// The `aud` its tokens must name; `None`: our own issuer identifier.
    #[serde(default)]
    pub audience: Option<String>,
    /// Its subjects become `<subject_prefix>:<sub>`: a separate id space, so
    /// an outside subject can never pass for one of our users or clients.
    pub subject_prefix: String,
    /// The clients that may exchange its tokens.
    pub clients: Vec<String>,
    /// The most its tokens can be worth here: their `scope` is cut down to
    /// these (a token without `scope` counts as having all of them).
    pub scopes: ScopeSet,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TrustedIssuerError {
    #[error("subject_prefix {0:?} must be 1 to 32 lowercase letters, digits or '-', and not \"client\"")]
    Prefix(String),
    #[error("{0:?} must be an absolute https URL")]
    Url(String),
}

impl TrustedIssuer {
    pub fn validate(&self) -> Result<(), TrustedIssuerError> {
        let p = &self.subject_prefix;
        let prefix_ok = !p.is_empty()
            && p.len() <= 32
            && p != "client"
            && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !prefix_ok {
            return Err(TrustedIssuerError::Prefix(p.clone()));
        }
        for u in [&self.issuer, &self.jwks_uri] {
            if url::Url::parse(u).is_err() {
                return Err(TrustedIssuerError::Url(u.clone()));
            }
        }
        Ok(())
    }

    /// The subject in our id space. User ids are hex and client subjects
    /// start with `client:`, so this can collide with neither.
    pub fn subject(&self, sub: &str) -> String {
        format!("{}:{sub}", self.subject_prefix)
    }
}

/// What the policy sees of an exchange.
pub struct ExchangeFacts<'a> {
    pub client: &'a Client,
    /// The trusted issuer of the subject token, when it is not ours.
    pub external_issuer: Option<&'a TrustedIssuer>,
    pub subject_audience: &'a Audience,
    /// The target (`resource`/`audience`) the new token is for.
    pub target: &'a str,
    pub impersonation: bool,
}

/// Why an exchange was refused, mapped by the server to RFC 8693 §2.2.2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExchangeDenied {
    /// The client may not exchange this subject token (`invalid_grant`: to
    /// a stranger, a leaked token is simply not a grant it holds).
    NotForThisClient(String),
    /// The client may not impersonate (`unauthorized_client`).
    Impersonation,
}

/// The seam between the token-exchange grant and whoever decides which
/// exchanges are allowed.
pub trait ExchangePolicy: Send + Sync {
    fn allow(&self, facts: &ExchangeFacts<'_>) -> Result<(), ExchangeDenied>;
}

/// The rules from configuration: a client may exchange our tokens whose
/// `aud` names it or one of its `subject_audiences`, a trusted issuer's
/// tokens when that issuer lists it, and impersonate only when allowed to.
/// (The target itself is checked like every resource indicator.)
pub struct ConfiguredPolicy;

impl ExchangePolicy for ConfiguredPolicy {
    fn allow(&self, f: &ExchangeFacts<'_>) -> Result<(), ExchangeDenied> {
        let settings = &f.client.token_exchange;
        if let Some(trusted) = f.external_issuer {
            if !trusted.clients.contains(&f.client.id) {
                return Err(ExchangeDenied::NotForThisClient(format!(
                    "client {} may not exchange tokens of {}",
                    f.client.id, trusted.issuer
                )));
            }
        } else if !(f.subject_audience.contains(&f.client.id)
            || settings.subject_audiences.iter().any(|a| f.subject_audience.contains(a)))
        {
            return Err(ExchangeDenied::NotForThisClient(format!(
                "the subject token's audience does not include client {} or an API it may exchange for",
                f.client.id
            )));
        }
        if f.impersonation && !settings.impersonation {
            return Err(ExchangeDenied::Impersonation);
        }
        Ok(())
    }
}

/// RFC 8693 §4.4: when the subject token says who may act for it, the
/// actor must be that party (and from that issuer, if one is named).
pub fn may_act_allows(may_act: Option<&Actor>, actor_sub: &str, actor_iss: &str) -> bool {
    match may_act {
        None => true,
        Some(m) => m.sub == actor_sub && m.iss.as_deref().is_none_or(|i| i == actor_iss),
    }
}

/// The scopes of the exchanged token: never broader than the subject
/// token's, and only what the client may request. No `scope` asks for all
/// of that intersection; a scope outside it is an error naming it.
pub fn narrow_scopes(requested: Option<&ScopeSet>, subject: &ScopeSet, client: &ScopeSet) -> Result<ScopeSet, String> {
    match requested {
        None => Ok(subject.intersection(client)),
        Some(req) => {
            if let Some(s) = req.iter().find(|s| !subject.contains(s)) {
                return Err(format!("scope {s} is broader than the subject token's scopes"));
            }
            if let Some(s) = req.iter().find(|s| !client.contains(s)) {
                return Err(format!("scope {s} is not allowed for this client"));
            }
            Ok(req.clone())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(s: &str) -> ScopeSet {
        ScopeSet::parse(s).unwrap()
    }

    #[test]
    fn scopes_only_narrow() {
        let subject = set("a b c");
        let client = set("b c d");
        assert_eq!(narrow_scopes(None, &subject, &client).unwrap(), set("b c"));
        assert_eq!(narrow_scopes(Some(&set("b")), &subject, &client).unwrap(), set("b"));
        assert!(narrow_scopes(Some(&set("d")), &subject, &client).unwrap_err().contains("broader"));
        assert!(narrow_scopes(Some(&set("a")), &subject, &client).unwrap_err().contains("not allowed"));
    }

    #[test]
    fn actor_chains_nest_the_earliest_deepest() {
        let first = Actor { sub: "client:a".into(), iss: None, client_id: None, act: None };
        let second = Actor { sub: "client:b".into(), iss: None, client_id: None, act: None }.on_top_of(Some(first));
        assert_eq!(second.depth(), 2);
        assert_eq!(second.act.as_ref().unwrap().sub, "client:a");
        let json = serde_json::to_value(&second).unwrap();
        assert_eq!(json, serde_json::json!({"sub": "client:b", "act": {"sub": "client:a"}}));
    }

    #[test]
    fn may_act_names_the_actor() {
        let m = Actor { sub: "client:x".into(), iss: Some("https://as".into()), client_id: None, act: None };
        assert!(may_act_allows(None, "anyone", "https://as"));
        assert!(may_act_allows(Some(&m), "client:x", "https://as"));
        assert!(!may_act_allows(Some(&m), "client:y", "https://as"));
        assert!(!may_act_allows(Some(&m), "client:x", "https://other"));
    }
}
