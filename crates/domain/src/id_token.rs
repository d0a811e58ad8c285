//! ID token claims (OIDC Core §2, §3.1.3.6) and the authentication context
//! values Latchkey uses.

use serde::{Deserialize, Serialize};

/// `acr` for a password login.
pub const ACR_PASSWORD: &str = "urn:latchkey:acr:pwd";

/// `acr` for a login with a password and a second factor (TOTP); satisfies
/// requests for [`ACR_PASSWORD`] too.
pub const ACR_MFA: &str = "urn:latchkey:acr:mfa";

/// What a request's `acr_values` asks of the login (OIDC Core §3.1.2.1,
/// §5.5.1.1 treated as a requirement, RFC 9470 step-up).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcrRequirement {
    /// Nothing asked, or a password login is enough.
    Any,
    /// A second factor is needed.
    Mfa,
    /// Only values we cannot satisfy: `unmet_authentication_requirements`.
    Unsatisfiable,
}

pub fn acr_requirement(acr_values: &[String]) -> AcrRequirement {
    if acr_values.is_empty() || acr_values.iter().any(|a| a == ACR_PASSWORD) {
        // The client accepts a password login (listing MFA too means
        // "either"; we give the strongest the session already has).
        return AcrRequirement::Any;
    }
    if acr_values.iter().any(|a| a == ACR_MFA) { AcrRequirement::Mfa } else { AcrRequirement::Unsatisfiable }
}

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
