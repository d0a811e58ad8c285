//! Scope strings (RFC 6749 §3.3): space-delimited, case-sensitive tokens of
//! printable ASCII other than space, `"` and `\`.

use std::collections::BTreeSet;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct ScopeSet(BTreeSet<String>);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid scope token {0:?}: scope tokens are printable ASCII without spaces, quotes or backslashes")]
pub struct InvalidScope(pub String);

pub fn is_valid_scope_token(token: &str) -> bool {
    !token.is_empty() && token.bytes().all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

impl ScopeSet {
    /// Parses the wire form. Repeated spaces are tolerated, as most servers do.
    pub fn parse(s: &str) -> Result<Self, InvalidScope> {
        Self::from_tokens(s.split(' ').filter(|t| !t.is_empty()))
    }

    pub fn from_tokens<I, S>(tokens: I) -> Result<Self, InvalidScope>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut set = BTreeSet::new();
        for t in tokens {
            let t = t.as_ref();
            if !is_valid_scope_token(t) {
                return Err(InvalidScope(t.to_string()));
            }
            set.insert(t.to_string());
        }
        Ok(ScopeSet(set))
    }

    pub fn contains(&self, scope: &str) -> bool {
        self.0.contains(scope)
    }

    pub fn is_subset(&self, other: &ScopeSet) -> bool {
        self.0.is_subset(&other.0)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn union(&self, other: &ScopeSet) -> ScopeSet {
        ScopeSet(self.0.union(&other.0).cloned().collect())
    }

    pub fn intersection(&self, other: &ScopeSet) -> ScopeSet {
        ScopeSet(self.0.intersection(&other.0).cloned().collect())
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let joined: Vec<&str> = self.iter().collect();
        f.write_str(&joined.join(" "))
    }
}

impl TryFrom<Vec<String>> for ScopeSet {
    type Error = InvalidScope;
    fn try_from(v: Vec<String>) -> Result<Self, Self::Error> {
        ScopeSet::from_tokens(v)
    }
}

impl From<ScopeSet> for Vec<String> {
    fn from(s: ScopeSet) -> Self {
        s.0.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_validates() {
        let s = ScopeSet::parse("openid  profile email").unwrap();
        assert_eq!(s.to_string(), "email openid profile");
        assert!(ScopeSet::parse("a\"b").is_err());
        assert!(ScopeSet::parse("a\\b").is_err());
        assert!(ScopeSet::parse("caf\u{e9}").is_err());
        assert!(ScopeSet::parse("read:orders https://api.example.com/x").is_ok());
    }
}
