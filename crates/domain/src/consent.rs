//! When the user must be asked (OIDC Core §3.1.2.4): sandbox clients
//! always, first-party clients never; others whenever the request asks for a scope the user has not
//! allowed this client yet, or `prompt=consent` demands it.

use crate::Client;
use crate::scope::ScopeSet;

pub fn needs_consent(client: &Client, allowed: Option<&ScopeSet>, requested: &ScopeSet, prompt_consent: bool) -> bool {
    // A developer's sandbox client is anyone's code: the user is asked
    // every time, and the page says it is a sandbox app.
    if client.origin == crate::user::Origin::Sandbox {
        return true;
    }
    if client.first_party {
        return false;
    }
    if prompt_consent {
        return true;
    }
    match allowed {
        Some(a) => !requested.is_subset(a),
        None => true,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::client::{AuthMethod, ClientKind};
    use crate::user::Origin;
    use crate::{SigningAlg, UnixTime};

    /// A bare client for unit tests of other modules too.
    pub(crate) fn client(first_party: bool) -> Client {
        Client {
            id: "c".into(),
            name: "c".into(),
            kind: ClientKind::Public,
            secret_hash: None,
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![],
            grant_types: vec![],
            scopes: ScopeSet::default(),
            audiences: vec![],
            auth_method: AuthMethod::None,
            id_token_alg: SigningAlg::RS256,
            access_token_ttl: None,
            refresh_token_ttl: None,
            id_token_ttl: None,
            first_party,
            refresh_token_grace: 0,
            jwks_uri: None,
            jwks: None,
            token_exchange: Default::default(),
            backchannel_logout_uri: None,
            origin: Origin::Admin,
            created_at: UnixTime(0),
            updated_at: UnixTime(0),
        }
    }

    #[test]
    fn rules() {
        let s = |t: &str| ScopeSet::parse(t).unwrap();
        assert!(!needs_consent(&client(true), None, &s("openid email"), true));
        assert!(needs_consent(&client(false), None, &s("openid"), false));
        assert!(!needs_consent(&client(false), Some(&s("openid email")), &s("openid"), false));
        assert!(needs_consent(&client(false), Some(&s("openid")), &s("openid email"), false), "scopes grew");
        assert!(needs_consent(&client(false), Some(&s("openid")), &s("openid"), true), "prompt=consent");
    }
}
