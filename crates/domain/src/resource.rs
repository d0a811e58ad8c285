//! API resources (RFC 8707): the audiences tokens are minted for.

use crate::algorithm::SigningAlg;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ResourceScope {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ApiResource {
    /// The `aud` value; an absolute URI per RFC 8707 §2.
    pub identifier: String,
    pub name: String,
    pub scopes: Vec<ResourceScope>,
    /// Access-token lifetime for this audience, seconds; `None`: the default.
    pub access_token_ttl: Option<u64>,
    pub signing_alg: Option<SigningAlg>,
    /// User claims copied into access tokens for this audience.
    pub forwarded_claims: Vec<String>,
    /// Clients (the API's own resource-server credentials) that may
    /// introspect tokens whose audience is this resource.
    #[serde(default)]
    pub introspection_clients: Vec<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ResourceError {
    #[error("resource identifier {0:?} must be an absolute URI without a fragment (RFC 8707 §2)")]
    Identifier(String),
    #[error("resource {0:?} scope {1:?} is not a valid scope token")]
    Scope(String, String),
    #[error("resource {0:?} cannot forward claim {1:?}; forwardable: email, email_verified, name, preferred_username")]
    Claim(String, String),
}

/// RFC 8707 §2: a resource indicator is an absolute URI without a fragment.
pub fn is_valid_indicator(s: &str) -> bool {
    url::Url::parse(s).is_ok_and(|u| u.fragment().is_none())
}

/// May `client` have tokens for `resource`? It must be a registered API
/// resource and one of the client's audiences (RFC 8707 §2: otherwise
/// `invalid_target`).
pub fn check_target(resource: &str, client: &crate::Client, known: &[ApiResource]) -> Result<(), String> {
    if !is_valid_indicator(resource) {
        return Err("resource must be an absolute URI without a fragment".into());
    }
    if !known.iter().any(|r| r.identifier == resource) || !client.audiences.iter().any(|a| a == resource) {
        return Err("this client may not request tokens for that resource".into());
    }
    Ok(())
}

/// The user claims an API may have forwarded into its access tokens.
/// Later issues add roles, tenant and verification level here.
pub const FORWARDABLE_CLAIMS: [&str; 4] = ["email", "email_verified", "name", "preferred_username"];

/// The claims `api` asked for, from `user`: nothing else leaves the store.
pub fn forwarded_claims(api: &ApiResource, user: &crate::User) -> serde_json::Map<String, serde_json::Value> {
    let mut claims = serde_json::Map::new();
    for name in &api.forwarded_claims {
        let value = match name.as_str() {
            "email" => user.email.clone().map(serde_json::Value::from),
            "email_verified" => user.email.as_ref().map(|_| serde_json::Value::from(user.email_verified)),
            "name" => user.name.clone().map(serde_json::Value::from),
            "preferred_username" => Some(serde_json::Value::from(user.username.clone())),
            _ => None,
        };
        if let Some(v) = value {
            claims.insert(name.clone(), v);
        }
    }
    claims
}

impl ApiResource {
    pub fn validate(&self) -> Result<(), ResourceError> {
        if let Some(c) = self.forwarded_claims.iter().find(|c| !FORWARDABLE_CLAIMS.contains(&c.as_str())) {
            return Err(ResourceError::Claim(self.identifier.clone(), c.clone()));
        }
        match url::Url::parse(&self.identifier) {
            Ok(u) if u.fragment().is_none() => {}
            _ => return Err(ResourceError::Identifier(self.identifier.clone())),
        }
        for s in &self.scopes {
            if !crate::scope::is_valid_scope_token(&s.name) {
                return Err(ResourceError::Scope(self.identifier.clone(), s.name.clone()));
            }
        }
        Ok(())
    }
}
