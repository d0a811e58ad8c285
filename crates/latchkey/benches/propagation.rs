//! How long a revocation made through node A takes to reach node B's
//! memory, two nodes on one PostgreSQL (LISTEN/NOTIFY, poll as fallback).
//! Measured from A's answer to the revocation (the change is committed) to
//! B's in-memory revocation set holding the token id.
//!
//! `LATCHKEY_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo bench -p latchkey --bench propagation`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use latchkey_testkit::{Backend, Setup, TestServer};

const SECRET: &str = "Zq3v9XkP2mWc7TbN4hRyL8sDfGj6aE1uKo5iCxBwVnM";
const ROUNDS: usize = 300;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(run());
}

async fn run() {
    let Some(mut setup) = Setup::new(Backend::Postgres).await.unwrap() else {
        eprintln!("SKIP: set LATCHKEY_TEST_DATABASE_URL to a PostgreSQL the benchmark may create databases in");
        return;
    };
    setup.issuer = Some("http://127.0.0.1:9".into());
    setup.toml = format!(
        "[[clients]]\nid = \"svc\"\ntype = \"confidential\"\nsecret = \"{SECRET}\"\ngrant_types = [\"client_credentials\"]\nscopes = [\"read\"]\n"
    );
    let a = setup.start().await.unwrap();
    let b = TestServer::start_with(setup.config().unwrap()).await.unwrap();
    let mut delays = Vec::with_capacity(ROUNDS);
    // From sending the revocation to A (includes A's own handling).
    let mut whole = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let resp = a
            .http
            .post(a.url("/token"))
            .basic_auth("svc", Some(SECRET))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        let token = resp.json::<serde_json::Value>().await.unwrap()["access_token"].as_str().unwrap().to_string();
        let (_, payload, _) = latchkey_crypto::jws::decode_unverified(&token).unwrap();
        let jti = serde_json::from_slice::<serde_json::Value>(&payload).unwrap()["jti"].as_str().unwrap().to_string();
        let sent = Instant::now();
        let resp = a
            .http
            .post(a.url("/revoke"))
            .basic_auth("svc", Some(SECRET))
            .form(&[("token", token.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let committed = Instant::now();
        let deadline = committed + Duration::from_secs(5);
        while !b.state().caches.revocations.is_revoked(&jti) {
            assert!(Instant::now() < deadline, "B never saw the revocation");
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        delays.push(committed.elapsed());
        whole.push(sent.elapsed());
    }
    report("after A answered", &mut delays);
    report("from the request to A", &mut whole);
    b.stop().await;
    a.stop().await;
}

fn report(what: &str, delays: &mut [Duration]) {
    delays.sort();
    let at = |q: f64| delays[((delays.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1e3;
    println!(
        "propagation A→B over {ROUNDS} revocations, {what}: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.1} ms",
        at(0.5),
        at(0.9),
        at(0.99),
        at(1.0)
    );
}
