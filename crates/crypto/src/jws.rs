//! Compact JWS (RFC 7515 §7.1) for JWTs. Verification is strict by design:
//! the algorithm comes from our key, never from the token (RFC 8725 §2.1,
//! §3.1), so `alg: none` and HMAC-with-a-public-key confusion cannot happen.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::CryptoError;
use crate::signing_key::{SigningKey, VerifyingKey};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub alg: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub typ: Option<String>,
}

/// Signs `claims` with `key`, giving `header.payload.signature`.
pub fn sign<T: Serialize>(key: &SigningKey, typ: &str, claims: &T) -> Result<String, CryptoError> {
    let header =
        Header { alg: key.alg().as_str().to_string(), kid: Some(key.kid().to_string()), typ: Some(typ.to_string()) };
    let header_json = serde_json::to_vec(&header).map_err(|_| CryptoError::Signing)?;
    let claims_json = serde_json::to_vec(claims).map_err(|_| CryptoError::Signing)?;
    let mut token = URL_SAFE_NO_PAD.encode(header_json);
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(claims_json));
    let sig = key.sign(token.as_bytes())?;
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(sig));
    Ok(token)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwsError {
    #[error("not a compact JWS: expected three base64url parts")]
    Malformed,
    #[error("the header is not valid JSON")]
    BadHeader,
    #[error("algorithm {0:?} is not accepted")]
    AlgorithmNotAllowed(String),
    #[error("no key with kid {0:?}")]
    UnknownKid(String),
    #[error("the token names algorithm {got} but key {kid} is for {expected}")]
    AlgorithmMismatch { kid: String, expected: String, got: String },
    #[error("the signature does not verify")]
    BadSignature,
    #[error("the payload is not valid JSON")]
    BadPayload,
}

/// A JWS whose signature has been checked.
#[derive(Debug)]
pub struct Verified {
    pub header: Header,
    pub payload: Vec<u8>,
}

/// Splits and decodes without verifying: for explaining tokens, never for
/// trusting them.
pub fn decode_unverified(token: &str) -> Result<(Header, Vec<u8>, Vec<u8>), JwsError> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(JwsError::Malformed);
    };
    let header_bytes = URL_SAFE_NO_PAD.decode(h).map_err(|_| JwsError::Malformed)?;
    let header: Header = serde_json::from_slice(&header_bytes).map_err(|_| JwsError::BadHeader)?;
    let payload = URL_SAFE_NO_PAD.decode(p).map_err(|_| JwsError::Malformed)?;
    let sig = URL_SAFE_NO_PAD.decode(s).map_err(|_| JwsError::Malformed)?;
    Ok((header, payload, sig))
}

/// Verifies `token` against the key `find_key` returns for its kid.
pub fn verify<'k>(token: &str, find_key: impl Fn(&str) -> Option<&'k VerifyingKey>) -> Result<Verified, JwsError> {
    let (header, payload, sig) = decode_unverified(token)?;
    if header.alg.parse::<latchkey_domain::SigningAlg>().is_err() {
        return Err(JwsError::AlgorithmNotAllowed(header.alg));
    }
    let kid = header.kid.clone().unwrap_or_default();
    let key = find_key(&kid).ok_or_else(|| JwsError::UnknownKid(kid.clone()))?;
    if key.alg.as_str() != header.alg {
        return Err(JwsError::AlgorithmMismatch { kid, expected: key.alg.to_string(), got: header.alg });
    }
    // The signing input is the first two parts exactly as sent.
    let signing_input_len = token.rfind('.').ok_or(JwsError::Malformed)?;
    let signing_input = token.get(..signing_input_len).ok_or(JwsError::Malformed)?;
    if !key.verify(signing_input.as_bytes(), &sig) {
        return Err(JwsError::BadSignature);
    }
    Ok(Verified { header, payload })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing_key::generate_pkcs8;
    use latchkey_domain::SigningAlg;

    #[test]
    fn signs_verifies_and_refuses_tampering() {
        let key = SigningKey::from_pkcs8(SigningAlg::ES256, &generate_pkcs8(SigningAlg::ES256).unwrap()).unwrap();
        let vk = key.verifying_key().unwrap();
        let token = sign(&key, "at+jwt", &serde_json::json!({"sub": "u1"})).unwrap();
        let find = |kid: &str| (kid == vk.kid).then_some(&vk);
        let v = verify(&token, find).unwrap();
        assert_eq!(v.header.typ.as_deref(), Some("at+jwt"));

        // alg=none with the signature stripped.
        let (_, p, _) = decode_unverified(&token).unwrap();
        let none_header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"none","kid":"{}"}}"#, vk.kid));
        let forged = format!("{none_header}.{}.", URL_SAFE_NO_PAD.encode(&p));
        assert!(matches!(verify(&forged, find), Err(JwsError::AlgorithmNotAllowed(_))));

        // HS256 claiming our kid.
        let hs_header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"HS256","kid":"{}"}}"#, vk.kid));
        let forged = format!("{hs_header}.{}.AAAA", URL_SAFE_NO_PAD.encode(&p));
        assert!(matches!(verify(&forged, find), Err(JwsError::AlgorithmNotAllowed(_))));

        // RS256 claiming an EC kid.
        let rs_header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"RS256","kid":"{}"}}"#, vk.kid));
        let forged = format!("{rs_header}.{}.AAAA", URL_SAFE_NO_PAD.encode(&p));
        assert!(matches!(verify(&forged, find), Err(JwsError::AlgorithmMismatch { .. })));

        // Changed payload.
        let mut parts: Vec<&str> = token.split('.').collect();
        let other = URL_SAFE_NO_PAD.encode(br#"{"sub":"admin"}"#);
        parts[1] = &other;
        assert_eq!(verify(&parts.join("."), find).unwrap_err(), JwsError::BadSignature);
        assert_eq!(verify("a.b", find).unwrap_err(), JwsError::Malformed);
    }
}
