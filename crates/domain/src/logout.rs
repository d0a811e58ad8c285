//! Logout: OpenID Connect RP-Initiated Logout 1.0 (where the browser may be
//! sent afterwards) and Back-Channel Logout 1.0 (the logout token).

use serde::Serialize;

use crate::client::Client;

/// Back-Channel Logout 1.0 §2.4: the `events` member of a logout token.
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// §2.4: `typ` of a logout token (explicit typing, RFC 8725 §3.11).
pub const LOGOUT_TOKEN_TYP: &str = "logout+jwt";

/// The claims of a logout token. Never a `nonce` (§2.4: it would let the
/// token be confused with an ID token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogoutTokenClaims {
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    pub sub: String,
    pub sid: String,
    pub events: serde_json::Value,
}

impl LogoutTokenClaims {
    pub fn events() -> serde_json::Value {
        serde_json::json!({ BACKCHANNEL_LOGOUT_EVENT: {} })
    }
}

/// RP-Initiated Logout §3: the browser goes back to the client only when the
/// client is identified and the URI is one it registered, compared exactly
/// (otherwise logout would be an open redirector).
pub fn post_logout_redirect_allowed(client: Option<&Client>, uri: &str) -> bool {
    client.is_some_and(|c| c.post_logout_redirect_uris.iter().any(|r| r == uri))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_only_to_registered_uris_of_an_identified_client() {
        let mut client = crate::consent::tests::client(false);
        client.post_logout_redirect_uris = vec!["https://app.example/bye".into()];
        assert!(post_logout_redirect_allowed(Some(&client), "https://app.example/bye"));
        assert!(!post_logout_redirect_allowed(Some(&client), "https://app.example/bye/"));
        assert!(!post_logout_redirect_allowed(Some(&client), "https://evil.example/"));
        assert!(!post_logout_redirect_allowed(None, "https://app.example/bye"));
    }
}
