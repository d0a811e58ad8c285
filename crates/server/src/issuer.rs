//! The issuer identifier and the URLs derived from it. The issuer comes from
//! configuration only, never from a request's `Host` header (which an
//! attacker controls).

/// Cheap to clone (every request's error context carries one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer {
    /// Without a trailing slash, e.g. `https://auth.example.com/tenant`.
    url: std::sync::Arc<str>,
    /// The issuer's path, e.g. `/tenant`, or "" at the root.
    path: std::sync::Arc<str>,
}

impl Issuer {
    pub fn new(url: &str) -> Issuer {
        let url = url.trim_end_matches('/').to_string();
        let path = url::Url::parse(&url).map(|u| u.path().trim_end_matches('/').to_string()).unwrap_or_default();
        Issuer { url: url.into(), path: path.into() }
    }

    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// Path prefix under which every endpoint of this issuer is served.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// An absolute URL for an endpoint path such as `/jwks`.
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// Where a metadata document lives on this server, by RFC 8414 §3.1
    /// path insertion: `/.well-known/{name}` + the issuer's path.
    pub fn well_known_inserted(&self, name: &str) -> String {
        format!("/.well-known/{name}{}", self.path)
    }

    /// OIDC Discovery §4: the issuer + `/.well-known/openid-configuration`.
    pub fn well_known_appended(&self, name: &str) -> String {
        format!("{}/.well-known/{name}", self.path)
    }

    pub fn error_uri(&self, code: &str) -> String {
        format!("{}/portal/errors/{code}", self.url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_paths() {
        let root = Issuer::new("https://auth.example.com/");
        assert_eq!(root.as_str(), "https://auth.example.com");
        assert_eq!(root.well_known_inserted("oauth-authorization-server"), "/.well-known/oauth-authorization-server");
        assert_eq!(root.well_known_appended("openid-configuration"), "/.well-known/openid-configuration");
        let tenant = Issuer::new("https://auth.example.com/tenant1");
        assert_eq!(
            tenant.well_known_inserted("oauth-authorization-server"),
            "/.well-known/oauth-authorization-server/tenant1"
        );
        assert_eq!(tenant.well_known_appended("openid-configuration"), "/tenant1/.well-known/openid-configuration");
        assert_eq!(tenant.endpoint("/jwks"), "https://auth.example.com/tenant1/jwks");
    }
}
