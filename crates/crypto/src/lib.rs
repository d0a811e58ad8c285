//! Latchkey's cryptography, on aws-lc-rs: signing keys and their JWKs,
//! compact JWS, encryption at rest under the master key, client-secret
//! digests and user password hashes.
//!
//! Everything that compares secrets does so in constant time; everything
//! that holds private key material keeps it out of `Debug`.

pub mod digest;
pub mod jwk;
pub mod jws;
pub mod password;
pub mod random;
pub mod seal;
pub mod signing_key;
pub mod totp;

pub use jwk::Jwk;
pub use seal::MasterKey;
pub use signing_key::{SigningKey, VerifyingKey};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("key generation failed")]
    KeyGeneration,
    #[error("stored key material is not a valid {0} private key")]
    BadKeyMaterial(&'static str),
    #[error("signing failed")]
    Signing,
    #[error("decryption failed: wrong master key or tampered data")]
    Decrypt,
    #[error("master key must be 32 bytes, given as 43 base64url characters or 64 hex digits")]
    MasterKeyFormat,
    #[error("password hashing failed")]
    PasswordHash,
}
