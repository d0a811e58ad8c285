//! The OpenID AuthZEN interop vectors (todo app, API gateway, search)
//! against `examples/authzen-interop/latchkey.toml`, over HTTP, compared
//! exactly as the interop harness compares them. The vectors live in
//! `../shared/conformance/authzen/` beside the repository; without that
//! folder the test says so and skips.

use std::path::{Path, PathBuf};

use latchkey_testkit::{Backend, Setup, TestServer};
use serde_json::{Value, json};

pub const PEP_KEY: &str = "interop-pep-key-0123456789abcdef";

fn vectors_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/authzen");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIP: AuthZEN interop vectors not found at {} (../shared/conformance/authzen)", dir.display());
        None
    }
}

fn example_config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/authzen-interop/latchkey.toml")
}

/// A server on the example's configuration, with the PEP key in the
/// environment variable the example names (and its setup, which owns the
/// data directory).
pub async fn interop_server(backend: Backend) -> Option<(Setup, TestServer)> {
    let mut setup = Setup::new(backend).await.expect("setup")?;
    let path = example_config();
    setup.toml = std::fs::read_to_string(&path).expect("example config");
    setup.config_file = Some(path);
    setup.env.insert("AUTHZEN_PDP_API_KEY".into(), PEP_KEY.into());
    let server = setup.start().await.expect("server starts");
    Some((setup, server))
}

async fn post(server: &TestServer, path: &str, body: &Value) -> Value {
    let resp =
        server.http.post(server.url(path)).header("Authorization", PEP_KEY).json(body).send().await.expect("request");
    let status = resp.status();
    if status != 200 {
        panic!("{path} {body}: {status} {}", resp.text().await.unwrap_or_default());
    }
    resp.json().await.expect("json")
}

fn load(dir: &Path, file: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join(file)).expect("vector file")).expect("vector json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn todo_and_gateway_vectors_pass() {
    let Some(dir) = vectors_dir() else { return };
    let (_setup, server) = interop_server(Backend::Sqlite).await.expect("sqlite always runs");
    let mut failures = Vec::new();
    let mut count = 0;
    for file in ["todo-decisions.json", "gateway-decisions.json"] {
        let v = load(&dir, file);
        for case in v["evaluation"].as_array().expect("evaluation cases") {
            let got = post(&server, "/access/v1/evaluation", &case["request"]).await;
            count += 1;
            if got != json!({ "decision": case["expected"] }) {
                failures.push(format!("{file}: {} -> {got}", case["request"]));
            }
        }
        for case in v["evaluations"].as_array().into_iter().flatten() {
            let got = post(&server, "/access/v1/evaluations", &case["request"]).await;
            count += 1;
            if got != json!({ "evaluations": case["expected"] }) {
                failures.push(format!("{file}: {} -> {got}", case["request"]));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {count} vectors failed:\n{}", failures.len(), failures.join("\n"));
    assert_eq!(count, 40 + 3 + 25);
    server.stop().await;
}

/// Follows `page.next_token` until it is empty, as the harness does.
async fn search_all(server: &TestServer, path: &str, request: &Value, limit: Option<u64>) -> Vec<Value> {
    let mut results = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..100 {
        let mut req = request.clone();
        if limit.is_some() || token.is_some() {
            req["page"] = json!({ "limit": limit, "token": token });
        }
        let got = post(server, path, &req).await;
        results.extend(got["results"].as_array().expect("results").iter().cloned());
        match got["page"]["next_token"].as_str() {
            Some(t) if !t.is_empty() => token = Some(t.to_owned()),
            _ => return results,
        }
    }
    panic!("search did not finish in 100 pages");
}

async fn search_vectors(backend: Backend) {
    let Some(dir) = vectors_dir() else { return };
    let Some((_setup, server)) = interop_server(backend).await else { return };
    let mut failures = Vec::new();
    let mut count = 0;
    for kind in ["subject", "resource", "action"] {
        let v = load(&dir, &format!("search/{kind}-results.json"));
        let path = format!("/access/v1/search/{kind}");
        for case in v["evaluation"].as_array().expect("cases") {
            count += 1;
            let got = post(&server, &path, &case["request"]).await;
            let want = &case["expected"]["results"];
            if &got["results"] != want {
                failures.push(format!("{kind}: {} -> {got}", case["request"]));
            }
            // Paged two at a time, the pages add up to the same list.
            let paged = search_all(&server, &path, &case["request"], Some(2)).await;
            if &Value::Array(paged.clone()) != want {
                failures.push(format!("{kind} paged: {} -> {paged:?}", case["request"]));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {count} search vectors failed:\n{}", failures.len(), failures.join("\n"));
    assert_eq!(count, 60 + 18 + 120);
    server.stop().await;
}
crate::both_backends!(search_vectors);
