//! OAuth clients (RFC 6749 §2) and the rules for registering them.

use std::fmt;
use std::str::FromStr;

use crate::algorithm::SigningAlg;
use crate::scope::ScopeSet;
use crate::time::UnixTime;
use crate::user::Origin;

/// RFC 6749 §2.1: public clients cannot keep a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    Public,
    Confidential,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
    TokenExchange,
}

/// Token-endpoint authentication methods (OIDC Core §9, RFC 7523).
/// `client_secret_jwt` is deliberately absent: it needs the secret in
/// recoverable form, and we only keep a digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    PrivateKeyJwt,
    None,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown {what} {value:?}; expected one of: {expected}")]
pub struct ParseEnumError {
    pub what: &'static str,
    pub value: String,
    pub expected: &'static str,
}

macro_rules! wire_enum {
    ($ty:ident, $what:literal, $( $variant:ident => $wire:literal ),+ $(,)?) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self { $( $ty::$variant => $wire ),+ }
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl FromStr for $ty {
            type Err = ParseEnumError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $( $wire => Ok($ty::$variant), )+
                    _ => Err(ParseEnumError { what: $what, value: s.to_string(), expected: concat!($($wire, " "),+) }),
                }
            }
        }
    };
}

wire_enum!(ClientKind, "client type", Public => "public", Confidential => "confidential");
wire_enum!(GrantType, "grant type",
    AuthorizationCode => "authorization_code",
    RefreshToken => "refresh_token",
    ClientCredentials => "client_credentials",
    TokenExchange => "urn:ietf:params:oauth:grant-type:token-exchange",
);
wire_enum!(AuthMethod, "token endpoint auth method",
    ClientSecretBasic => "client_secret_basic",
    ClientSecretPost => "client_secret_post",
    PrivateKeyJwt => "private_key_jwt",
    None => "none",
);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub id: String,
    pub name: String,
    pub kind: ClientKind,
    /// SHA-256 of the server-generated secret; `None` for public clients and
    /// for `private_key_jwt` clients.
    pub secret_hash: Option<Vec<u8>>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<GrantType>,
    pub scopes: ScopeSet,
    pub audiences: Vec<String>,
    pub auth_method: AuthMethod,
    pub id_token_alg: SigningAlg,
    pub access_token_ttl: Option<u64>,
    pub refresh_token_ttl: Option<u64>,
    pub id_token_ttl: Option<u64>,
    /// First-party clients may skip the consent screen.
    pub first_party: bool,
    /// Seconds within which a repeated refresh token gets a fresh successor
    /// instead of revoking its whole family; 0 (the default) turns it off.
    pub refresh_token_grace: u64,
    /// For `private_key_jwt`: where the client's public keys are.
    pub jwks_uri: Option<String>,
    /// For `private_key_jwt`: the client's public keys inline, as a JWKS
    /// document (JSON text), instead of a `jwks_uri`.
    pub jwks: Option<String>,
    /// Which token exchanges (RFC 8693) this client may perform.
    pub token_exchange: crate::token_exchange::ExchangeSettings,
    /// OIDC Back-Channel Logout 1.0: where logout tokens are POSTed.
    pub backchannel_logout_uri: Option<String>,
    pub origin: Origin,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ClientError {
    #[error("client id must be 1 to 128 printable ASCII characters without spaces or ':'")]
    Id,
    #[error("redirect URI {uri:?} is not allowed: {reason}")]
    RedirectUri { uri: String, reason: &'static str },
    #[error("a public client must use token endpoint auth method \"none\"")]
    PublicAuthMethod,
    #[error("a confidential client cannot use token endpoint auth method \"none\"")]
    ConfidentialWithoutAuth,
    #[error("a public client cannot use the client_credentials or token exchange grants (RFC 6749 §4.4)")]
    PublicMachineGrant,
    #[error("the authorization_code grant needs at least one redirect URI")]
    NoRedirectUri,
    #[error("private_key_jwt needs the client's public keys: a jwks_uri or inline jwks")]
    NoJwks,
    #[error("give the client's keys one way: a jwks_uri or inline jwks, not both")]
    JwksTwice,
    #[error("jwks_uri {0:?} must be an absolute https URL")]
    JwksUri(String),
    #[error("backchannel_logout_uri {0:?} must be an absolute http(s) URL without a fragment")]
    BackchannelLogoutUri(String),
    #[error("audience {0:?} must be an absolute URI")]
    Audience(String),
}

impl Client {
    pub fn validate(&self) -> Result<(), ClientError> {
        validate_client_id(&self.id)?;
        for uri in self.redirect_uris.iter().chain(&self.post_logout_redirect_uris) {
            validate_redirect_uri(uri)?;
        }
        match (self.kind, self.auth_method) {
            (ClientKind::Public, AuthMethod::None) => {}
            (ClientKind::Public, _) => return Err(ClientError::PublicAuthMethod),
            (ClientKind::Confidential, AuthMethod::None) => {
                return Err(ClientError::ConfidentialWithoutAuth);
            }
            (ClientKind::Confidential, _) => {}
        }
        if self.kind == ClientKind::Public
            && self.grant_types.iter().any(|g| matches!(g, GrantType::ClientCredentials | GrantType::TokenExchange))
        {
            return Err(ClientError::PublicMachineGrant);
        }
        if self.grant_types.contains(&GrantType::AuthorizationCode) && self.redirect_uris.is_empty() {
            return Err(ClientError::NoRedirectUri);
        }
        match (&self.jwks_uri, &self.jwks) {
            (Some(_), Some(_)) => return Err(ClientError::JwksTwice),
            (None, None) if self.auth_method == AuthMethod::PrivateKeyJwt => return Err(ClientError::NoJwks),
            _ => {}
        }
        if let Some(uri) = &self.jwks_uri {
            // Plain http only towards loopback (tests, local development);
            // the outbound guard decides at fetch time what may be reached.
            let ok = url::Url::parse(uri).is_ok_and(|u| {
                u.scheme() == "https"
                    || (u.scheme() == "http" && matches!(u.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback()))
            });
            if !ok {
                return Err(ClientError::JwksUri(uri.clone()));
            }
        }
        if let Some(uri) = &self.backchannel_logout_uri {
            // Back-Channel Logout 1.0 §2.2: absolute, no fragment. Where it
            // may point is the outbound guard's call at send time.
            let ok =
                url::Url::parse(uri).is_ok_and(|u| matches!(u.scheme(), "https" | "http") && u.fragment().is_none());
            if !ok {
                return Err(ClientError::BackchannelLogoutUri(uri.clone()));
            }
        }
        for aud in &self.audiences {
            if url::Url::parse(aud).is_err() {
                return Err(ClientError::Audience(aud.clone()));
            }
        }
        Ok(())
    }
}

/// The `sub` of tokens a client obtains for itself (client credentials).
/// Client ids never contain ':' and user ids are hex, so `client:` keeps the
/// two id spaces apart by construction (RFC 9068 §5): no client token can
/// ever name a user, and consumers can tell them apart.
pub fn client_subject(client_id: &str) -> String {
    format!("{CLIENT_SUBJECT_PREFIX}{client_id}")
}

pub const CLIENT_SUBJECT_PREFIX: &str = "client:";

pub fn validate_client_id(id: &str) -> Result<(), ClientError> {
    // ':' is reserved: client_secret_basic separates id and secret with it
    // (RFC 6749 §2.3.1), and later issues keep client subjects apart from
    // user subjects with a prefix.
    let ok = !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| (0x21..=0x7E).contains(&b) && b != b':');
    if ok { Ok(()) } else { Err(ClientError::Id) }
}

/// Registration-time rules for redirect URIs (RFC 6749 §3.1.2, RFC 8252,
/// RFC 9700 §4.1): absolute, no fragment, no wildcard, no script schemes,
/// and plain http only on loopback.
pub fn validate_redirect_uri(uri: &str) -> Result<(), ClientError> {
    let err = |reason| ClientError::RedirectUri { uri: uri.to_string(), reason };
    if uri.contains('*') {
        return Err(err("wildcards are not allowed; register each URI exactly"));
    }
    let parsed = url::Url::parse(uri).map_err(|_| err("it must be an absolute URI"))?;
    if parsed.fragment().is_some() || uri.contains('#') {
        return Err(err("it must not contain a fragment (RFC 6749 §3.1.2)"));
    }
    match parsed.scheme() {
        "https" => Ok(()),
        "http" => match parsed.host() {
            Some(url::Host::Ipv4(ip)) if ip.is_loopback() => Ok(()),
            Some(url::Host::Ipv6(ip)) if ip.is_loopback() => Ok(()),
            Some(url::Host::Domain("localhost")) => Ok(()),
            _ => Err(err("plain http is only allowed for loopback hosts (RFC 8252 §7.3)")),
        },
        "javascript" | "data" | "vbscript" | "file" | "about" | "blob" => {
            Err(err("this scheme can never be a redirect target"))
        }
        // Private-use schemes of native apps (RFC 8252 §7.1), e.g.
        // com.example.app:/callback.
        _ if parsed.scheme().contains('.') => Ok(()),
        _ => Err(err("use https, http on loopback, or a reverse-domain private-use scheme (RFC 8252 §7.1)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uri_rules() {
        for ok in [
            "https://app.example.com/cb",
            "http://127.0.0.1:8000/cb",
            "http://[::1]/cb",
            "http://localhost:3000/cb",
            "com.example.app:/oauth2redirect",
        ] {
            assert_eq!(validate_redirect_uri(ok), Ok(()), "{ok}");
        }
        for bad in [
            "https://app.example.com/cb#frag",
            "https://*.example.com/cb",
            "/relative",
            "http://app.example.com/cb",
            "javascript:alert(1)",
            "data:text/html,hi",
            "myapp:/cb",
        ] {
            assert!(validate_redirect_uri(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn wire_names_round_trip() {
        for g in [
            "authorization_code",
            "refresh_token",
            "client_credentials",
            "urn:ietf:params:oauth:grant-type:token-exchange",
        ] {
            assert_eq!(g.parse::<GrantType>().unwrap().as_str(), g);
        }
        assert!("client_secret_jwt".parse::<AuthMethod>().is_err());
        assert!(validate_client_id("a:b").is_err());
        assert!(validate_client_id("web-app_1").is_ok());
    }
}
