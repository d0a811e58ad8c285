//! Signing and verification: the cost floor of token issuance and local
//! JWT verification. Run: `cargo bench -p latchkey-crypto --bench jws`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use latchkey_crypto::jws;
use latchkey_crypto::signing_key::{SigningKey, generate_pkcs8};
use latchkey_domain::SigningAlg;

/// Claims the size of a typical access token.
fn claims() -> serde_json::Value {
    serde_json::json!({
        "iss": "https://auth.example.com",
        "sub": "3f6d2a1c9b8e4f70a5d6c7b8e9f01234",
        "aud": "https://api.example.com",
        "exp": 1_795_000_300, "iat": 1_795_000_000,
        "jti": "b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2",
        "client_id": "web", "scope": "openid profile orders:read",
        "sid": "5e4d3c2b1a09f8e7d6c5b4a39281706f", "acr": "urn:latchkey:acr:pwd", "auth_time": 1_794_999_000
    })
}

fn bench(c: &mut Criterion) {
    let claims = claims();
    for alg in SigningAlg::ALL {
        let pkcs8 = generate_pkcs8(alg).unwrap();
        let key = SigningKey::from_pkcs8(alg, &pkcs8).unwrap();
        let vk = key.verifying_key().unwrap();
        let token = jws::sign(&key, "at+jwt", &claims).unwrap();

        c.bench_function(&format!("sign/{alg}/parsed-once"), |b| {
            b.iter(|| jws::sign(black_box(&key), "at+jwt", black_box(&claims)).unwrap())
        });
        if matches!(alg, SigningAlg::ES256 | SigningAlg::RS256) {
            // What "parse once" saves: parsing the PKCS#8 key for every token.
            c.bench_function(&format!("sign/{alg}/parse-per-token"), |b| {
                b.iter(|| {
                    let k = SigningKey::from_pkcs8(alg, black_box(&pkcs8)).unwrap();
                    jws::sign(&k, "at+jwt", black_box(&claims)).unwrap()
                })
            });
        }
        c.bench_function(&format!("verify/{alg}/parsed-once"), |b| {
            b.iter(|| jws::verify(black_box(&token), |kid| (kid == vk.kid).then_some(&vk)).unwrap())
        });
        // What parsing the public key once saves, on the raw signature check.
        let (input, sig) = token.rsplit_once('.').unwrap();
        let sig = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, sig).unwrap();
        c.bench_function(&format!("verify-signature/{alg}/parsed-once"), |b| {
            b.iter(|| assert!(vk.verify(black_box(input.as_bytes()), black_box(&sig))))
        });
        c.bench_function(&format!("verify-signature/{alg}/parse-per-call"), |b| {
            b.iter(|| assert!(vk.verify_unparsed(black_box(input.as_bytes()), black_box(&sig))))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
