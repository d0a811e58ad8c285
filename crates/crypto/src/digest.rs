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

#[cfg(test)]
mod tests {
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
