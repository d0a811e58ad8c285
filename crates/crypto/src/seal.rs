//! Encryption at rest: AES-256-GCM under the master key (the key-encryption
//! key). The caller's context string is bound as associated data, so a
//! sealed value moved to another row (another kid) fails to open.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::CryptoError;

pub struct MasterKey(LessSafeKey);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

impl MasterKey {
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        let key = UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| CryptoError::MasterKeyFormat)?;
        Ok(MasterKey(LessSafeKey::new(key)))
    }

    /// 43 base64url characters (no padding) or 64 hex digits.
    pub fn parse(text: &str) -> Result<Self, CryptoError> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            (0..32)
                .map(|i| u8::from_str_radix(text.get(2 * i..2 * i + 2).unwrap_or(""), 16))
                .collect::<Result<Vec<u8>, _>>()
                .map_err(|_| CryptoError::MasterKeyFormat)?
        } else {
            URL_SAFE_NO_PAD.decode(text).map_err(|_| CryptoError::MasterKeyFormat)?
        };
        if bytes.len() != 32 {
            return Err(CryptoError::MasterKeyFormat);
        }
        Self::from_bytes(&bytes)
    }

    /// A fresh master key in its text form.
    pub fn generate_text() -> String {
        crate::random::token(32)
    }

    /// nonce ‖ ciphertext ‖ tag.
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let nonce_bytes = crate::random::bytes(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&nonce_bytes).map_err(|_| CryptoError::Signing)?;
        let mut in_out = plaintext.to_vec();
        self.0
            .seal_in_place_append_tag(nonce, Aad::from(context.as_bytes()), &mut in_out)
            .map_err(|_| CryptoError::Signing)?;
        let mut out = nonce_bytes;
        out.extend_from_slice(&in_out);
        Ok(out)
    }

    pub fn open(&self, context: &str, sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let (nonce_bytes, ciphertext) = sealed.split_at_checked(NONCE_LEN).ok_or(CryptoError::Decrypt)?;
        let nonce = Nonce::try_assume_unique_for_key(nonce_bytes).map_err(|_| CryptoError::Decrypt)?;
        let mut in_out = ciphertext.to_vec();
        let plain = self
            .0
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut in_out)
            .map_err(|_| CryptoError::Decrypt)?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_binds_context() {
        let k = MasterKey::parse(&MasterKey::generate_text()).unwrap();
        let sealed = k.seal("key:a", b"private").unwrap();
        assert_eq!(k.open("key:a", &sealed).unwrap(), b"private");
        assert_eq!(k.open("key:b", &sealed), Err(CryptoError::Decrypt));
        let other = MasterKey::parse(&MasterKey::generate_text()).unwrap();
        assert_eq!(other.open("key:a", &sealed), Err(CryptoError::Decrypt));
        assert!(MasterKey::parse("short").is_err());
        assert!(MasterKey::parse(&"ab".repeat(32)).is_ok());
    }
}
