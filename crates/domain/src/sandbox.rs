//! Self-service sandbox clients: what a developer may register for
//! themself on the portal, and the fence around it. A sandbox client is
//! never first party (consent is always shown, labelled sandbox), reaches
//! only the sandbox's audiences and scopes, may not exchange tokens or
//! impersonate, and registers redirect URIs under the usual rules (absolute,
//! no wildcard, no fragment, no script scheme, http only on loopback).

use crate::SigningAlg;
use crate::client::{AuthMethod, Client, ClientError, ClientKind, GrantType, validate_redirect_uri};
use crate::scope::ScopeSet;
use crate::time::UnixTime;
use crate::user::Origin;

/// The OpenID scopes every sandbox client may ask for, beside the sandbox
/// APIs' own.
pub const IDENTITY_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// What the sandbox offers: the APIs (audiences) and their scopes.
#[derive(Debug, Clone, Default)]
pub struct SandboxFence {
    pub audiences: Vec<String>,
    pub api_scopes: Vec<String>,
    /// Clients per developer.
    pub quota: usize,
}

/// A developer's registration request.
#[derive(Debug, Clone)]
pub struct SandboxClientRequest {
    pub name: String,
    pub kind: ClientKind,
    pub redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SandboxError {
    #[error("the name must be 1 to 80 printable characters")]
    Name,
    #[error("scope {0:?} is not offered to sandbox clients")]
    Scope(String),
    #[error("choose at least one scope")]
    NoScope,
    #[error("at most 10 redirect URIs")]
    TooManyRedirectUris,
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("you have reached the limit of {0} sandbox clients; delete one first")]
    Quota(usize),
}

impl SandboxFence {
    pub fn offers(&self, scope: &str) -> bool {
        IDENTITY_SCOPES.contains(&scope) || self.api_scopes.iter().any(|s| s == scope)
    }

    /// Takes from a stored sandbox client whatever the fence no longer
    /// allows: other audiences and scopes, first party, token exchange.
    pub fn narrow(&self, c: &mut Client) {
        c.audiences.retain(|a| self.audiences.contains(a));
        let kept: Vec<String> = c.scopes.iter().filter(|s| self.offers(s)).map(str::to_string).collect();
        c.scopes = ScopeSet::from_tokens(&kept).unwrap_or_default();
        c.first_party = false;
        c.grant_types.retain(|g| *g != GrantType::TokenExchange);
        c.token_exchange = Default::default();
    }

    /// The client to store for `req`, with id `id`, plus `always_redirect`
    /// (the portal's flow runner) among its redirect URIs. The secret, for
    /// a confidential client, is set by the caller.
    pub fn client(
        &self,
        id: String,
        req: &SandboxClientRequest,
        always_redirect: &str,
        now: UnixTime,
    ) -> Result<Client, SandboxError> {
        let name = req.name.trim();
        if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
            return Err(SandboxError::Name);
        }
        if req.redirect_uris.len() > 10 {
            return Err(SandboxError::TooManyRedirectUris);
        }
        for uri in &req.redirect_uris {
            validate_redirect_uri(uri)?;
        }
        if req.scopes.is_empty() {
            return Err(SandboxError::NoScope);
        }
        if let Some(s) = req.scopes.iter().find(|s| !self.offers(s)) {
            return Err(SandboxError::Scope(s.clone()));
        }
        let scopes = ScopeSet::from_tokens(&req.scopes).map_err(|_| SandboxError::Scope(req.scopes.join(" ")))?;
        let mut redirect_uris = req.redirect_uris.clone();
        if !redirect_uris.iter().any(|u| u == always_redirect) {
            redirect_uris.push(always_redirect.to_string());
        }
        let mut grant_types = vec![GrantType::AuthorizationCode, GrantType::RefreshToken];
        let auth_method = match req.kind {
            ClientKind::Public => AuthMethod::None,
            ClientKind::Confidential => {
                grant_types.push(GrantType::ClientCredentials);
                AuthMethod::ClientSecretBasic
            }
        };
        let client = Client {
            id,
            name: name.to_string(),
            kind: req.kind,
            secret_hash: None,
            redirect_uris,
            post_logout_redirect_uris: vec![],
            grant_types,
            scopes,
            audiences: self.audiences.clone(),
            auth_method,
            id_token_alg: SigningAlg::RS256,
            access_token_ttl: None,
            refresh_token_ttl: None,
            id_token_ttl: None,
            first_party: false,
            refresh_token_grace: 0,
            jwks_uri: None,
            jwks: None,
            // No token exchange, no impersonation: the default is none.
            token_exchange: Default::default(),
            backchannel_logout_uri: None,
            origin: Origin::Sandbox,
            created_at: now,
            updated_at: now,
        };
        client.validate()?;
        Ok(client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fence() -> SandboxFence {
        SandboxFence {
            audiences: vec!["https://api.example.com".into()],
            api_scopes: vec!["orders:read".into()],
            quota: 3,
        }
    }

    fn req(redirects: &[&str], scopes: &[&str]) -> SandboxClientRequest {
        SandboxClientRequest {
            name: "My app".into(),
            kind: ClientKind::Public,
            redirect_uris: redirects.iter().map(|s| s.to_string()).collect(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
        }
    }

    const RUNNER: &str = "https://auth.example.com/portal/flows";

    #[test]
    fn a_sandbox_client_is_fenced() {
        let c = fence()
            .client(
                "sbx-1".into(),
                &req(&["https://app.example.com/cb"], &["openid", "orders:read"]),
                RUNNER,
                UnixTime(1),
            )
            .unwrap();
        assert!(!c.first_party);
        assert_eq!(c.origin, Origin::Sandbox);
        assert_eq!(c.audiences, vec!["https://api.example.com".to_string()]);
        assert!(!c.grant_types.contains(&GrantType::TokenExchange));
        assert!(c.redirect_uris.contains(&RUNNER.to_string()));
        assert_eq!(c.auth_method, AuthMethod::None);
    }

    #[test]
    fn confidential_clients_get_client_credentials_but_never_exchange() {
        let mut r = req(&[], &["orders:read"]);
        r.kind = ClientKind::Confidential;
        let c = fence().client("sbx-2".into(), &r, RUNNER, UnixTime(1)).unwrap();
        assert!(c.grant_types.contains(&GrantType::ClientCredentials));
        assert!(!c.grant_types.contains(&GrantType::TokenExchange));
        assert_eq!(c.auth_method, AuthMethod::ClientSecretBasic);
    }

    #[test]
    fn scopes_outside_the_sandbox_are_refused() {
        let err = fence().client("sbx".into(), &req(&[], &["orders:write"]), RUNNER, UnixTime(1)).unwrap_err();
        assert_eq!(err, SandboxError::Scope("orders:write".into()));
        assert_eq!(
            fence().client("sbx".into(), &req(&[], &[]), RUNNER, UnixTime(1)).unwrap_err(),
            SandboxError::NoScope
        );
    }

    #[test]
    fn bad_redirect_uris_are_refused() {
        for bad in [
            "javascript:alert(1)",
            "https://*.example.com/cb",
            "https://app.example.com/cb#frag",
            "/relative",
            "http://app.example.com/cb",
            "data:text/html,hi",
        ] {
            let err = fence().client("sbx".into(), &req(&[bad], &["openid"]), RUNNER, UnixTime(1)).unwrap_err();
            assert!(matches!(err, SandboxError::Client(ClientError::RedirectUri { .. })), "{bad}: {err:?}");
        }
    }

    #[test]
    fn narrowing_takes_back_what_the_fence_no_longer_allows() {
        let mut c = fence().client("sbx".into(), &req(&[], &["openid", "orders:read"]), RUNNER, UnixTime(1)).unwrap();
        c.audiences.push("https://prod.example.com".into());
        c.first_party = true;
        c.grant_types.push(GrantType::TokenExchange);
        let smaller = SandboxFence { audiences: vec![], api_scopes: vec![], quota: 3 };
        smaller.narrow(&mut c);
        assert!(c.audiences.is_empty());
        assert_eq!(c.scopes.to_string(), "openid");
        assert!(!c.first_party);
        assert!(!c.grant_types.contains(&GrantType::TokenExchange));
    }

    #[test]
    fn names_are_checked() {
        let mut r = req(&[], &["openid"]);
        r.name = "  ".into();
        assert_eq!(fence().client("sbx".into(), &r, RUNNER, UnixTime(1)).unwrap_err(), SandboxError::Name);
        r.name = "a\u{0}b".into();
        assert_eq!(fence().client("sbx".into(), &r, RUNNER, UnixTime(1)).unwrap_err(), SandboxError::Name);
    }
}
