//! The kit's verification against the raw signature check it is built on:
//! the target is ≥ 90% of the raw rate for each algorithm.
//! Run: `cargo bench -p latchkey-resource --bench verify`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group};
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

/// A key, a token it signed, the token's signing input and signature, and
/// a verifier that knows the key.
struct Fixture {
    vk: latchkey_crypto::signing_key::VerifyingKey,
    token: String,
    input: String,
    sig: Vec<u8>,
    verifier: Verifier,
}

fn fixture(alg: SigningAlg, claims: &serde_json::Value) -> Fixture {
    let key = SigningKey::from_pkcs8(alg, &generate_pkcs8(alg).unwrap()).unwrap();
    let vk = key.verifying_key().unwrap();
    let token = jws::sign(&key, "at+jwt", claims).unwrap();
    let input = token.rsplit_once('.').unwrap().0.to_owned();
    let (_, _, sig) = jws::decode_unverified(&token).unwrap();
    let verifier = Verifier::with_keys(VerifierConfig::new(ISSUER, AUDIENCE), vec![vk.clone()]);
    Fixture { vk, token, input, sig, verifier }
}

fn bench(c: &mut Criterion) {
    let claims = claims();
    let requirement = Requirement::scopes(["orders:read"]);
    for alg in SigningAlg::ALL {
        let Fixture { vk, token, input, sig, verifier } = fixture(alg, &claims);
        assert!(verifier.verify_cached(&token, &requirement).is_ok());

        c.bench_function(&format!("verify/{alg}/raw-signature"), |b| {
            b.iter(|| assert!(vk.verify(black_box(input.as_bytes()), black_box(&sig))))
        });
        c.bench_function(&format!("verify/{alg}/kit"), |b| {
            b.iter(|| verifier.verify_cached(black_box(&token), &requirement).unwrap())
        });
    }
}

/// Criterion measures raw and kit one after the other, so load that
/// changes in between (a shared machine) skews their ratio. This measures
/// them interleaved: rounds of a block of raw checks then a block of kit
/// verifications, and the ratio of the median blocks.
fn interleaved() {
    let claims = claims();
    let requirement = Requirement::scopes(["orders:read"]);
    println!("\ninterleaved: 40 rounds of 300 raw checks and 300 kit verifications");
    println!("| alg | raw µs | kit µs | kit rate / raw rate |");
    println!("| --- | ---: | ---: | ---: |");
    for alg in SigningAlg::ALL {
        let Fixture { vk, token, input, sig, verifier } = fixture(alg, &claims);
        let (mut raw, mut kit) = (Vec::new(), Vec::new());
        for _ in 0..40 {
            let t = std::time::Instant::now();
            for _ in 0..300 {
                assert!(vk.verify(black_box(input.as_bytes()), black_box(&sig)));
            }
            raw.push(t.elapsed().as_secs_f64() / 300.0);
            let t = std::time::Instant::now();
            for _ in 0..300 {
                black_box(verifier.verify_cached(black_box(&token), &requirement).unwrap());
            }
            kit.push(t.elapsed().as_secs_f64() / 300.0);
        }
        raw.sort_by(f64::total_cmp);
        kit.sort_by(f64::total_cmp);
        let (r, k) = (raw[raw.len() / 2], kit[kit.len() / 2]);
        println!("| {alg} | {:.1} | {:.1} | {:.1}% |", r * 1e6, k * 1e6, 100.0 * r / k);
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(std::time::Duration::from_secs(1)).measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}

fn main() {
    benches();
    interleaved();
    Criterion::default().configure_from_args().final_summary();
}
