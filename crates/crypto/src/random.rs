//! Randomness from the operating system's CSPRNG (through AWS-LC).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// `n` random bytes.
pub fn bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    // AWS-LC's RNG only fails when the OS entropy source is gone; an all-zero
    // buffer would then be catastrophic, so we abort loudly instead.
    if aws_lc_rs::rand::fill(&mut buf).is_err() {
        std::process::abort();
    }
    buf
}

/// A URL-safe token of `n_bytes` random bytes (32 bytes → 43 characters,
/// 256 bits: client secrets, refresh tokens).
pub fn token(n_bytes: usize) -> String {
    URL_SAFE_NO_PAD.encode(bytes(n_bytes))
}

/// A random identifier of 128 bits, lowercase hex, for ids that people read.
/// (On every request twice, as request id and `jti`: one allocation.)
pub fn id() -> String {
    let mut raw = [0u8; 16];
    if aws_lc_rs::rand::fill(&mut raw).is_err() {
        std::process::abort();
    }
    crate::digest::hex(&raw)
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_128_bit_hex() {
        let a = super::id();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        assert_ne!(a, super::id());
    }
}
