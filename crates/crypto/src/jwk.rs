//! Public JWKs (RFC 7517) and their thumbprints (RFC 7638).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    /// Private exponent: present only if someone pasted a private key. We
    /// never produce it; it is here so that tests can assert its absence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub d: Option<String>,
}

impl Jwk {
    fn empty(kty: &str) -> Self {
        Jwk {
            kty: kty.into(),
            kid: None,
            use_: None,
            alg: None,
            crv: None,
            x: None,
            y: None,
            n: None,
            e: None,
            d: None,
        }
    }

    pub fn ec(crv: &str, x: String, y: String) -> Self {
        Jwk { crv: Some(crv.into()), x: Some(x), y: Some(y), ..Self::empty("EC") }
    }

    pub fn rsa(n: String, e: String) -> Self {
        Jwk { n: Some(n), e: Some(e), ..Self::empty("RSA") }
    }

    pub fn okp(crv: &str, x: String) -> Self {
        Jwk { crv: Some(crv.into()), x: Some(x), ..Self::empty("OKP") }
    }

    /// RFC 7638: SHA-256 over the required members in lexicographic order,
    /// with no whitespace.
    pub fn thumbprint(&self) -> String {
        let s = |o: &Option<String>| o.clone().unwrap_or_default();
        let canonical = match self.kty.as_str() {
            "EC" => format!(r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#, s(&self.crv), s(&self.x), s(&self.y)),
            "RSA" => format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, s(&self.e), s(&self.n)),
            _ => format!(r#"{{"crv":"{}","kty":"{}","x":"{}"}}"#, s(&self.crv), self.kty, s(&self.x)),
        };
        URL_SAFE_NO_PAD.encode(crate::digest::sha256(canonical.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of RFC 7638 §3.1.
    #[test]
    fn rfc7638_example() {
        let jwk = Jwk::rsa(
            "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw".into(),
            "AQAB".into(),
        );
        assert_eq!(jwk.thumbprint(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    }
}
