//! What would turn a deny into an allow, read from policy annotations.
//!
//! A policy that denies for want of a stronger authentication or a
//! verification says so in annotations, which Cedar keeps beside the
//! policy and never evaluates:
//!
//! ```cedar
//! @id("payout-needs-fresh-mfa")
//! @acr_values("urn:latchkey:acr:mfa")
//! @max_age("300")
//! forbid(principal, action == Action::"change_payout", resource)
//! unless { principal has acr && principal.acr == "urn:latchkey:acr:mfa"
//!          && context has auth_age && context.auth_age <= 300 };
//! ```
//!
//! When such a policy determines a deny, the decision carries its
//! requirement, which a resource server turns into an RFC 9470 challenge.

use serde::Serialize;

/// Annotation names (Cedar identifiers).
pub const ACR_VALUES: &str = "acr_values";
pub const MAX_AGE: &str = "max_age";
pub const REQUIRED_VERIFICATION: &str = "required_verification";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Requirement {
    /// Space-separated `acr` values, as RFC 9470 and OIDC spell them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acr_values: Option<String>,
    /// Seconds since the last authentication.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_age: Option<i64>,
    /// The verification level the subject must reach.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required_verification: Option<String>,
}

impl Requirement {
    pub fn is_empty(&self) -> bool {
        self.acr_values.is_none() && self.max_age.is_none() && self.required_verification.is_none()
    }

    /// Reads the annotations of one policy; `None` if it has none of them
    /// or a `max_age` that is not a non-negative integer (refused at
    /// compile time, so not expected here).
    pub(crate) fn from_annotations<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Option<Requirement> {
        let max_age = match get(MAX_AGE) {
            Some(v) => Some(parse_max_age(v)?),
            None => None,
        };
        let r = Requirement {
            acr_values: get(ACR_VALUES).map(str::to_owned),
            max_age,
            required_verification: get(REQUIRED_VERIFICATION).map(str::to_owned),
        };
        (!r.is_empty()).then_some(r)
    }

    /// Combines the requirements of several determining policies: every
    /// `acr` value named, the strictest `max_age`, and the first
    /// verification level (policies rarely disagree; the explanation lists
    /// them all).
    pub(crate) fn merge(&mut self, other: &Requirement) {
        if let Some(acr) = &other.acr_values {
            self.acr_values = Some(match self.acr_values.take() {
                Some(mine) if mine.split(' ').any(|v| v == acr) => mine,
                Some(mine) => format!("{mine} {acr}"),
                None => acr.clone(),
            });
        }
        self.max_age = match (self.max_age, other.max_age) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if self.required_verification.is_none() {
            self.required_verification.clone_from(&other.required_verification);
        }
    }
}

impl Requirement {
    /// The RFC 9470 challenge a resource server answers with (status 401):
    /// `Bearer error="insufficient_user_authentication"` with `acr_values`
    /// and `max_age`. A required verification level has no RFC 9470
    /// parameter; it is named in `error_description`, and the decision's
    /// context carries it as `required_verification`.
    pub fn www_authenticate(&self, realm: Option<&str>) -> String {
        let mut parts = vec!["error=\"insufficient_user_authentication\"".to_owned()];
        if let Some(r) = realm {
            parts.insert(0, format!("realm=\"{}\"", quoted(r)));
        }
        let description = match &self.required_verification {
            Some(level) => {
                format!("A stronger or more recent authentication, and verification level {level}, is required")
            }
            None => "A stronger or more recent authentication is required".to_owned(),
        };
        parts.push(format!("error_description=\"{}\"", quoted(&description)));
        if let Some(acr) = &self.acr_values {
            parts.push(format!("acr_values=\"{}\"", quoted(acr)));
        }
        if let Some(age) = self.max_age {
            parts.push(format!("max_age={age}"));
        }
        format!("Bearer {}", parts.join(", "))
    }
}

/// RFC 9110 quoted-string content: backslash-escape `"` and `\`, drop
/// control characters.
fn quoted(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .flat_map(|c| if c == '"' || c == '\\' { vec!['\\', c] } else { vec![c] })
        .collect()
}

/// Ten years: longer is a mistake, and keeps `auth_time + max_age` far
/// from overflowing.
const MAX_MAX_AGE: i64 = 10 * 366 * 86400;

pub(crate) fn parse_max_age(v: &str) -> Option<i64> {
    v.trim().parse::<i64>().ok().filter(|n| (0..=MAX_MAX_AGE).contains(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keeps_the_strictest_age_and_every_acr() {
        let mut a = Requirement { acr_values: Some("mfa".into()), max_age: Some(600), required_verification: None };
        a.merge(&Requirement {
            acr_values: Some("hwk".into()),
            max_age: Some(300),
            required_verification: Some("document".into()),
        });
        assert_eq!(a.acr_values.as_deref(), Some("mfa hwk"));
        assert_eq!(a.max_age, Some(300));
        assert_eq!(a.required_verification.as_deref(), Some("document"));
        a.merge(&Requirement { acr_values: Some("mfa".into()), ..Default::default() });
        assert_eq!(a.acr_values.as_deref(), Some("mfa hwk"));
    }

    #[test]
    fn rfc_9470_challenge() {
        let r = Requirement {
            acr_values: Some("urn:latchkey:acr:mfa".into()),
            max_age: Some(300),
            required_verification: None,
        };
        assert_eq!(
            r.www_authenticate(Some("api")),
            "Bearer realm=\"api\", error=\"insufficient_user_authentication\", \
             error_description=\"A stronger or more recent authentication is required\", \
             acr_values=\"urn:latchkey:acr:mfa\", max_age=300"
        );
        let v = Requirement { required_verification: Some("doc\"ument".into()), ..Default::default() };
        assert!(v.www_authenticate(None).contains("verification level doc\\\"ument"));
    }

    #[test]
    fn bad_max_age_is_not_a_requirement() {
        assert_eq!(parse_max_age("-1"), None);
        assert_eq!(parse_max_age("soon"), None);
        assert_eq!(parse_max_age("9223372036854775807"), None);
        assert_eq!(parse_max_age(" 60 "), Some(60));
    }
}
