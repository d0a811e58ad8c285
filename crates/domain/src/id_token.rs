//! ID token claims (OIDC Core §2, §3.1.3.6) and the authentication context
//! values Latchkey uses.

use serde::{Deserialize, Serialize};

/// `acr` for a password login. The MFA level arrives with the login issue.
pub const ACR_PASSWORD: &str = "urn:latchkey:acr:pwd";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdTokenClaims {
    pub iss: String,
    pub sub: String,
    /// The client id (a single audience).
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub auth_time: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// OIDC Core §3.1.3.6: left half of the hash of the access token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_hash: Option<String>,
    pub azp: String,
}
