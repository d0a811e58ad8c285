//! The kit's verification against the raw signature check it is built on:
//! the target is ≥ 90% of the raw rate for each algorithm.
//! Run: `cargo bench -p latchkey-resource --bench verify`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use latchkey_crypto::jws;
use latchkey_crypto::signing_key::{SigningKey, generate_pkcs8};
use latchkey_domain::SigningAlg;
use latchkey_resource::{Requirement, Verifier, VerifierConfig};

const ISSUER: &str = "https://auth.example.com";
const AUDIENCE: &str = "https://api.example.com";

/// A typical user access token, valid for an hour from now.
fn claims() -> serde_json::Value {
    let now = latchkey_domain::UnixTime::now().0;
    serde_json::json!({
        "iss": ISSUER, "sub": "3f6d2a1c9b8e4f70a5d6c7b8e9f01234", "aud": AUDIENCE,
        "exp": now + 3600, "iat": now, "jti": "b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2",
        "client_id": "web", "scope": "openid profile orders:read",
        "sid": "5e4d3c2b1a09f8e7d6c5b4a39281706f", "acr": "urn:latchkey:acr:pwd", "auth_time": now - 60
    })
}

fn bench(c: &mut Criterion) {
    let claims = claims();
    let requirement = Requirement::scopes(["orders:read"]);
    for alg in SigningAlg::ALL {
        let key = SigningKey::from_pkcs8(alg, &generate_pkcs8(alg).unwrap()).unwrap();
        let vk = key.verifying_key().unwrap();
        let token = jws::sign(&key, "at+jwt", &claims).unwrap();
        let (input, _) = token.rsplit_once('.').unwrap();
        let (_, _, sig) = jws::decode_unverified(&token).unwrap();
        let verifier = Verifier::with_keys(VerifierConfig::new(ISSUER, AUDIENCE), vec![vk.clone()]);
        assert!(verifier.verify_cached(&token, &requirement).is_ok());

        c.bench_function(&format!("verify/{alg}/raw-signature"), |b| {
            b.iter(|| assert!(vk.verify(black_box(input.as_bytes()), black_box(&sig))))
        });
        c.bench_function(&format!("verify/{alg}/kit"), |b| {
            b.iter(|| verifier.verify_cached(black_box(&token), &requirement).unwrap())
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(std::time::Duration::from_secs(1)).measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
