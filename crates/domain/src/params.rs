//! Request parameters as the RFCs define them, independent of HTTP: a
//! parameter sent without a value counts as omitted, and a repeated
//! parameter is an error (RFC 6749 §3.1, §3.2).

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, String)>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("parameter {0} is repeated")]
pub struct RepeatedParam(pub String);

impl Params {
    pub fn new(pairs: Vec<(String, String)>) -> Self {
        Params(pairs)
    }

    /// The value of a parameter that may appear at most once.
    pub fn single(&self, name: &str) -> Result<Option<&str>, RepeatedParam> {
        let mut found = None;
        for (k, v) in &self.0 {
            if k == name && !v.is_empty() {
                if found.is_some() {
                    return Err(RepeatedParam(name.to_string()));
                }
                found = Some(v.as_str());
            }
        }
        Ok(found)
    }

    /// The first parameter (other than the allowed ones) that is repeated.
    pub fn first_repeated(&self) -> Option<&str> {
        // Requests carry a handful of parameters: a scan beats a hash set.
        let sent: Vec<&str> = self.0.iter().filter(|(_, v)| !v.is_empty()).map(|(k, _)| k.as_str()).collect();
        sent.iter().enumerate().find(|(i, k)| sent[..*i].contains(k)).map(|(_, k)| *k)
    }

    /// Every non-empty value of a parameter that may be repeated (RFC 8693
    /// `resource` and `audience`).
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> {
        self.0.iter().filter(move |(k, v)| k == name && !v.is_empty()).map(|(_, v)| v.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_are_omitted_and_repeats_refused() {
        let p = Params::new(vec![("a".into(), "1".into()), ("b".into(), "".into()), ("a".into(), "2".into())]);
        assert_eq!(p.single("a"), Err(RepeatedParam("a".into())));
        assert_eq!(p.single("b"), Ok(None));
        assert_eq!(p.single("c"), Ok(None));
        assert_eq!(p.first_repeated(), Some("a"));
    }
}
