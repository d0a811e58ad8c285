//! Signing keys: generated as PKCS#8, parsed once into AWS-LC key pairs and
//! kept in memory (re-parsing per signature cost ~40% of issuance
//! throughput). The key id is the RFC 7638 thumbprint of the public JWK.

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use latchkey_domain::SigningAlg;

use crate::CryptoError;
use crate::jwk::Jwk;

enum Inner {
    Ecdsa(EcdsaKeyPair),
    Rsa(RsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

/// A private signing key, parsed and ready.
pub struct SigningKey {
    alg: SigningAlg,
    kid: String,
    inner: Inner,
    rng: SystemRandom,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("alg", &self.alg).field("kid", &self.kid).finish_non_exhaustive()
    }
}

/// Generates a new private key for `alg` as PKCS#8 DER.
pub fn generate_pkcs8(alg: SigningAlg) -> Result<Vec<u8>, CryptoError> {
    let rng = SystemRandom::new();
    match alg {
        SigningAlg::ES256 => EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map(|d| d.as_ref().to_vec())
            .map_err(|_| CryptoError::KeyGeneration),
        SigningAlg::RS256 | SigningAlg::PS256 => {
            let kp = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| CryptoError::KeyGeneration)?;
            let der: Pkcs8V1Der = kp.as_der().map_err(|_| CryptoError::KeyGeneration)?;
            Ok(der.as_ref().to_vec())
        }
        SigningAlg::EdDSA => {
            Ed25519KeyPair::generate_pkcs8(&rng).map(|d| d.as_ref().to_vec()).map_err(|_| CryptoError::KeyGeneration)
        }
    }
}

impl SigningKey {
    /// Parses a PKCS#8 private key for `alg`; the kid is derived from it.
    pub fn from_pkcs8(alg: SigningAlg, pkcs8: &[u8]) -> Result<Self, CryptoError> {
        let inner = match alg {
            SigningAlg::ES256 => EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8)
                .map(Inner::Ecdsa)
                .map_err(|_| CryptoError::BadKeyMaterial("ES256"))?,
            SigningAlg::RS256 | SigningAlg::PS256 => {
                RsaKeyPair::from_pkcs8(pkcs8).map(Inner::Rsa).map_err(|_| CryptoError::BadKeyMaterial("RSA"))?
            }
            SigningAlg::EdDSA => Ed25519KeyPair::from_pkcs8(pkcs8)
                .map(Inner::Ed25519)
                .map_err(|_| CryptoError::BadKeyMaterial("Ed25519"))?,
        };
        let mut key = SigningKey { alg, kid: String::new(), inner, rng: SystemRandom::new() };
        key.kid = key.public_jwk_without_kid().thumbprint();
        Ok(key)
    }

    pub fn alg(&self) -> SigningAlg {
        self.alg
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The JWS signature over `message`, in JWS form (for ECDSA the fixed
    /// r‖s encoding of RFC 7518 §3.4, not DER).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, CryptoError> {
        match &self.inner {
            Inner::Ecdsa(kp) => {
                kp.sign(&self.rng, message).map(|s| s.as_ref().to_vec()).map_err(|_| CryptoError::Signing)
            }
            Inner::Rsa(kp) => {
                let padding: &'static dyn signature::RsaEncoding = match self.alg {
                    SigningAlg::PS256 => &signature::RSA_PSS_SHA256,
                    _ => &signature::RSA_PKCS1_SHA256,
                };
                let mut sig = vec![0u8; kp.public_modulus_len()];
                kp.sign(padding, &self.rng, message, &mut sig).map_err(|_| CryptoError::Signing)?;
                Ok(sig)
            }
            Inner::Ed25519(kp) => Ok(kp.sign(message).as_ref().to_vec()),
        }
    }

    /// The public half as a JWK with `kid`, `alg` and `use: sig`.
    pub fn public_jwk(&self) -> Jwk {
        let mut jwk = self.public_jwk_without_kid();
        jwk.kid = Some(self.kid.clone());
        jwk.alg = Some(self.alg.as_str().to_string());
        jwk.use_ = Some("sig".to_string());
        jwk
    }

    pub fn verifying_key(&self) -> Result<VerifyingKey, CryptoError> {
        VerifyingKey::new(self.kid.clone(), self.alg, self.public_bytes())
    }

    fn public_bytes(&self) -> Vec<u8> {
        match &self.inner {
            Inner::Ecdsa(kp) => kp.public_key().as_ref().to_vec(),
            Inner::Rsa(kp) => kp.public_key().as_ref().to_vec(),
            Inner::Ed25519(kp) => kp.public_key().as_ref().to_vec(),
        }
    }

    fn public_jwk_without_kid(&self) -> Jwk {
        let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
        match &self.inner {
            Inner::Ecdsa(kp) => {
                // Uncompressed SEC1 point: 0x04 ‖ x(32) ‖ y(32).
                let point = kp.public_key().as_ref();
                let x = point.get(1..33).unwrap_or_default();
                let y = point.get(33..65).unwrap_or_default();
                Jwk::ec("P-256", b64(x), b64(y))
            }
            Inner::Rsa(kp) => {
                let public = kp.public_key();
                let n = public.modulus().big_endian_without_leading_zero();
                let e = public.exponent().big_endian_without_leading_zero();
                Jwk::rsa(b64(n), b64(e))
            }
            Inner::Ed25519(kp) => Jwk::okp("Ed25519", b64(kp.public_key().as_ref())),
        }
    }
}

/// A public key that checks signatures made with one algorithm only: the
/// algorithm is fixed by the key, never taken from the token's header. The
/// key is parsed once (parsing per verification costs as much again).
#[derive(Clone)]
pub struct VerifyingKey {
    pub kid: String,
    pub alg: SigningAlg,
    public: Vec<u8>,
    parsed: signature::ParsedPublicKey,
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyingKey").field("kid", &self.kid).field("alg", &self.alg).finish_non_exhaustive()
    }
}

impl PartialEq for VerifyingKey {
    fn eq(&self, other: &Self) -> bool {
        self.kid == other.kid && self.alg == other.alg && self.public == other.public
    }
}

fn verification_algorithm(alg: SigningAlg) -> &'static dyn signature::VerificationAlgorithm {
    match alg {
        SigningAlg::ES256 => &signature::ECDSA_P256_SHA256_FIXED,
        SigningAlg::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        SigningAlg::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
        SigningAlg::EdDSA => &signature::ED25519,
    }
}

impl VerifyingKey {
    /// `public` is the raw public key as AWS-LC encodes it (SEC1 point,
    /// PKCS#1 RSAPublicKey, or the 32 Ed25519 bytes).
    pub fn new(kid: String, alg: SigningAlg, public: Vec<u8>) -> Result<Self, CryptoError> {
        let parsed = signature::ParsedPublicKey::new(verification_algorithm(alg), &public)
            .map_err(|_| CryptoError::BadKeyMaterial("public key"))?;
        Ok(VerifyingKey { kid, alg, public, parsed })
    }

    pub fn verify(&self, message: &[u8], sig: &[u8]) -> bool {
        self.parsed.verify_sig(message, sig).is_ok()
    }

    /// Verification that parses the key on every call: only for measuring
    /// what parsing once saves.
    pub fn verify_unparsed(&self, message: &[u8], sig: &[u8]) -> bool {
        UnparsedPublicKey::new(verification_algorithm(self.alg), &self.public).verify(message, sig).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_signs_and_verifies() {
        for alg in SigningAlg::ALL {
            let der = generate_pkcs8(alg).unwrap();
            let key = SigningKey::from_pkcs8(alg, &der).unwrap();
            let again = SigningKey::from_pkcs8(alg, &der).unwrap();
            assert_eq!(key.kid(), again.kid(), "kid is stable for {alg}");
            let sig = key.sign(b"hello").unwrap();
            let vk = key.verifying_key().unwrap();
            assert!(vk.verify(b"hello", &sig), "{alg}");
            assert!(!vk.verify(b"hellO", &sig), "{alg}");
            let jwk = key.public_jwk();
            assert_eq!(jwk.alg.as_deref(), Some(alg.as_str()));
            assert!(jwk.d.is_none());
        }
        assert!(SigningKey::from_pkcs8(SigningAlg::ES256, b"junk").is_err());
    }
}
