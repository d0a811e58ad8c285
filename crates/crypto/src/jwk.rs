//! Public JWKs (RFC 7517) and their thumbprints (RFC 7638).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use latchkey_domain::SigningAlg;
use serde::{Deserialize, Serialize};

use crate::signing_key::VerifyingKey;

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

/// Why a JWKS document or one of its keys cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwkError {
    #[error("not a JWKS document: {0}")]
    Document(String),
    #[error("key {kid:?}: {reason}")]
    Key { kid: String, reason: String },
}

#[derive(Deserialize)]
struct JwksDocument {
    keys: Vec<serde_json::Value>,
}

/// The verifying keys of a JWKS document (RFC 7517 §5) someone else
/// publishes, such as a client's for `private_key_jwt`. Keys of types we do
/// not verify with, or marked for encryption, are skipped (§5: ignore what
/// is not understood); a document carrying a private key is refused whole,
/// since its owner has leaked it.
pub fn parse_public_jwks(text: &str) -> Result<Vec<VerifyingKey>, JwkError> {
    let doc: JwksDocument = serde_json::from_str(text).map_err(|e| JwkError::Document(e.to_string()))?;
    let mut keys = Vec::new();
    for value in doc.keys {
        let Ok(jwk) = serde_json::from_value::<Jwk>(value) else { continue };
        keys.extend(jwk.verifying_keys()?);
    }
    if keys.is_empty() {
        return Err(JwkError::Document("no usable signature verification key (EC P-256, RSA, Ed25519)".into()));
    }
    Ok(keys)
}

impl Jwk {
    /// The keys this JWK verifies with: one per algorithm it may be used
    /// with (an RSA key without `alg` serves RS256 and PS256). The
    /// algorithm stays bound to the key type, so a token cannot pick HMAC
    /// or `none`.
    pub fn verifying_keys(&self) -> Result<Vec<VerifyingKey>, JwkError> {
        let kid = self.kid.clone().unwrap_or_default();
        let err = |reason: &str| JwkError::Key { kid: kid.clone(), reason: reason.to_string() };
        if self.d.is_some() {
            return Err(err("contains private key material (\"d\"); publish only the public key"));
        }
        if self.use_.as_deref().is_some_and(|u| u != "sig") {
            return Ok(vec![]);
        }
        let b64 = |v: &Option<String>, name: &str| -> Result<Vec<u8>, JwkError> {
            let v = v.as_deref().ok_or_else(|| err(&format!("missing {name}")))?;
            URL_SAFE_NO_PAD.decode(v).map_err(|_| err(&format!("{name} is not base64url")))
        };
        let (algs, public): (Vec<SigningAlg>, Vec<u8>) = match (self.kty.as_str(), self.crv.as_deref()) {
            ("EC", Some("P-256")) => {
                let (x, y) = (b64(&self.x, "x")?, b64(&self.y, "y")?);
                if x.len() != 32 || y.len() != 32 {
                    return Err(err("P-256 coordinates must be 32 bytes"));
                }
                let mut point = vec![0x04];
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                (vec![SigningAlg::ES256], point)
            }
            ("OKP", Some("Ed25519")) => (vec![SigningAlg::EdDSA], b64(&self.x, "x")?),
            ("RSA", _) => {
                let (n, e) = (b64(&self.n, "n")?, b64(&self.e, "e")?);
                (vec![SigningAlg::RS256, SigningAlg::PS256], rsa_public_key_der(&n, &e))
            }
            _ => return Ok(vec![]),
        };
        let algs: Vec<SigningAlg> = match self.alg.as_deref() {
            None => algs,
            Some(a) => match a.parse::<SigningAlg>() {
                Ok(alg) if algs.contains(&alg) => vec![alg],
                Ok(_) => return Err(err(&format!("alg {a} does not fit key type {}", self.kty))),
                Err(_) => return Ok(vec![]),
            },
        };
        algs.into_iter()
            .map(|alg| VerifyingKey::new(kid.clone(), alg, public.clone()).map_err(|_| err("not a valid public key")))
            .collect()
    }
}

/// PKCS#1 `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent
/// INTEGER }` in DER, the form AWS-LC parses RSA public keys from.
fn rsa_public_key_der(n: &[u8], e: &[u8]) -> Vec<u8> {
    fn length(len: usize, out: &mut Vec<u8>) {
        if len < 0x80 {
            out.push(len as u8);
        } else {
            let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
            out.push(0x80 | bytes.len() as u8);
            out.extend(bytes);
        }
    }
    fn integer(value: &[u8], out: &mut Vec<u8>) {
        let trimmed: Vec<u8> = value.iter().copied().skip_while(|b| *b == 0).collect();
        // A set high bit would make the INTEGER negative: prefix a zero.
        let pad = trimmed.first().is_none_or(|b| b & 0x80 != 0);
        out.push(0x02);
        length(trimmed.len() + usize::from(pad), out);
        if pad {
            out.push(0);
        }
        out.extend(trimmed);
    }
    let mut body = Vec::new();
    integer(n, &mut body);
    integer(e, &mut body);
    let mut der = vec![0x30];
    length(body.len(), &mut der);
    der.extend(body);
    der
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing_key::{SigningKey, generate_pkcs8};

    /// Our own public JWKs, read back as someone else's, verify our
    /// signatures for every algorithm.
    #[test]
    fn public_jwks_round_trip() {
        for alg in [SigningAlg::ES256, SigningAlg::RS256, SigningAlg::PS256, SigningAlg::EdDSA] {
            let key = SigningKey::from_pkcs8(alg, &generate_pkcs8(alg).unwrap()).unwrap();
            let mut jwk = key.public_jwk();
            jwk.alg = None;
            let doc = serde_json::json!({ "keys": [jwk] }).to_string();
            let keys = parse_public_jwks(&doc).unwrap();
            let sig = key.sign(b"message").unwrap();
            assert!(keys.iter().any(|k| k.alg == alg && k.verify(b"message", &sig)), "{alg}");
            assert!(keys.iter().all(|k| !k.verify(b"other", &sig)));
        }
    }

    #[test]
    fn private_keys_and_junk_are_refused() {
        let mut jwk = Jwk::okp("Ed25519", "AAAA".into());
        jwk.d = Some("secret".into());
        let doc = serde_json::json!({ "keys": [jwk] }).to_string();
        assert!(parse_public_jwks(&doc).unwrap_err().to_string().contains("private"));
        assert!(parse_public_jwks("{}").is_err());
        assert!(parse_public_jwks(r#"{"keys":[{"kty":"oct","k":"AAAA"}]}"#).is_err());
    }

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
