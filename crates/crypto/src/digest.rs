//! Digests of high-entropy secrets. Server-generated client secrets carry 256
//! bits of entropy, so a single SHA-256 is as strong as any slow hash and
//! keeps client authentication cheap; comparison is constant-time.

use aws_lc_rs::digest;
use subtle::ConstantTimeEq;

pub fn sha256(data: &[u8]) -> Vec<u8> {
    digest::digest(&digest::SHA256, data).as_ref().to_vec()
}

/// What we store for a client secret or refresh token.
pub fn secret_digest(secret: &str) -> Vec<u8> {
    sha256(secret.as_bytes())
}

/// Constant-time check of a presented secret against a stored digest.
pub fn verify_secret(presented: &str, stored_digest: &[u8]) -> bool {
    let d = secret_digest(presented);
    d.len() == stored_digest.len() && bool::from(d.ct_eq(stored_digest))
}

/// Constant-time equality of two secrets of any length: compares digests so
/// that the time taken reveals neither content nor length.
pub fn secrets_equal(a: &str, b: &str) -> bool {
    bool::from(sha256(a.as_bytes()).ct_eq(&sha256(b.as_bytes())))
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out
}

/// Bytes from hex (either case); `None` if it is not hex.
pub fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| s.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok())).collect()
}

/// The item whose stored secret digest matches `presented`. Every item is
/// compared, in constant time, so the timing tells nothing about which
/// (or whether one) matched.
pub fn find_by_secret<'a, T>(presented: &str, items: &'a [T], digest_of: impl Fn(&T) -> &[u8]) -> Option<&'a T> {
    let d = secret_digest(presented);
    let mut found = None;
    for item in items {
        if bool::from(d.ct_eq(digest_of(item))) {
            found = Some(item);
        }
    }
    found
}

/// HMAC-SHA256 (RFC 2104), for signed webhooks.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key);
    aws_lc_rs::hmac::sign(&key, data).as_ref().to_vec()
}

/// Constant-time check of an HMAC-SHA256 tag.
pub fn hmac_sha256_verify(key: &[u8], data: &[u8], tag: &[u8]) -> bool {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key);
    aws_lc_rs::hmac::verify(&key, data, tag).is_ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex_round_trips() {
        assert_eq!(super::hex(&[0x00, 0xab, 0xff]), "00abff");
        assert_eq!(super::hex_decode("00ABff"), Some(vec![0x00, 0xab, 0xff]));
        assert_eq!(super::hex_decode("0g"), None);
        assert_eq!(super::hex_decode("abc"), None);
    }

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let tag = super::hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(super::hex(&tag), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        assert!(super::hmac_sha256_verify(b"Jefe", b"what do ya want for nothing?", &tag));
        assert!(!super::hmac_sha256_verify(b"Jefe", b"what do ya want for nothing!", &tag));
    }

    use super::*;

    #[test]
    fn verifies_only_the_right_secret() {
        let d = secret_digest("s3cret");
        assert!(verify_secret("s3cret", &d));
        assert!(!verify_secret("s3creT", &d));
        assert!(!verify_secret("", &d));
        assert!(secrets_equal("a", "a"));
        assert!(!secrets_equal("a", "ab"));
    }
}

/// OIDC Core §3.1.3.6 `at_hash` (and §3.3.2.11 `c_hash`): the left half of
/// the hash of the token's ASCII, base64url; the hash is the one of the ID
/// token's algorithm (SHA-256 for ES256/RS256/PS256, SHA-512 for Ed25519).
pub fn token_half_hash(alg: latchkey_domain::SigningAlg, token: &str) -> String {
    use base64::Engine;
    let full = match alg {
        latchkey_domain::SigningAlg::EdDSA => digest::digest(&digest::SHA512, token.as_bytes()).as_ref().to_vec(),
        _ => sha256(token.as_bytes()),
    };
    let half = full.get(..full.len() / 2).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(half)
}

/// PKCE S256 (RFC 7636 §4.2): base64url(SHA-256(verifier)).
pub fn pkce_s256(verifier: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha256(verifier.as_bytes()))
}

#[cfg(test)]
mod rfc_vectors {
    /// RFC 7636 Appendix B.
    #[test]
    fn pkce_appendix_b() {
        assert_eq!(
            super::pkce_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
