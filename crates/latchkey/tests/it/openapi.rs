//! The OpenAPI description against the real router, so neither can change
//! without the other:
//!
//! - `app_routes` lists every path the router serves (routes can only be
//!   registered through `openapi::Routes`, which remembers them); the
//!   served document must describe exactly those paths;
//! - for each path, the methods the router answers (the `Allow` header of
//!   a 405) must be exactly the described ones;
//! - each described operation, sent to a running server, must reach a
//!   handler (neither 405 nor the router's "no such endpoint");
//! - live answers of the JSON endpoints carry exactly the described fields.

use std::collections::{BTreeMap, BTreeSet};

use latchkey_testkit::{Backend, Setup, TEST_ADMIN_KEY, TestServer};
use reqwest::Method;
use serde_json::Value;

async fn fetch_document(server: &TestServer) -> Value {
    let path = format!("{}/portal/openapi.json", server.state().issuer.path());
    let resp = server.http.get(server.url(&path)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let content_type = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("application/json"), "{content_type}");
    let doc: Value = resp.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["servers"][0]["url"], server.issuer());
    doc
}

/// The described operations as the router spells them: the path under its
/// server's path (the issuer's, or the root's for items naming their own
/// server), and its methods in upper case.
fn described(doc: &Value) -> BTreeMap<String, BTreeSet<String>> {
    let server_path = |servers: &Value| {
        let url = url::Url::parse(servers[0]["url"].as_str().unwrap()).unwrap();
        url.path().trim_end_matches('/').to_owned()
    };
    let issuer_path = server_path(&doc["servers"]);
    let mut out = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let prefix = if item.get("servers").is_some() { server_path(&item["servers"]) } else { issuer_path.clone() };
        let methods: BTreeSet<String> =
            item.as_object().unwrap().keys().filter(|k| *k != "servers").map(|k| k.to_uppercase()).collect();
        assert!(!methods.is_empty(), "{path} has no operation");
        out.insert(format!("{prefix}{path}"), methods);
    }
    out
}

/// A request path for a template: every `{param}` becomes `x`.
fn concrete(template: &str) -> String {
    template
        .split('/')
        .map(|s| if s.starts_with('{') && s.ends_with('}') { "x" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

async fn every_route_is_described(server: &TestServer) {
    let doc = fetch_document(server).await;
    let documented = described(&doc);
    let served: BTreeSet<String> = latchkey_server::app_routes(server.state()).paths().iter().cloned().collect();
    let documented_paths: BTreeSet<String> = documented.keys().cloned().collect();
    let undescribed: Vec<_> = served.difference(&documented_paths).collect();
    assert!(
        undescribed.is_empty(),
        "served but not described (add them in crates/server/src/openapi/): {undescribed:?}"
    );
    let unserved: Vec<_> = documented_paths.difference(&served).collect();
    assert!(unserved.is_empty(), "described but not served: {unserved:?}");

    for (path, methods) in &documented {
        let url = server.url(&concrete(path));
        // No route answers TRACE: the 405 lists what the router serves.
        let resp = server.http.request(Method::TRACE, &url).send().await.unwrap();
        assert_eq!(resp.status(), 405, "TRACE {path}");
        let allow: BTreeSet<String> = resp.headers()["allow"]
            .to_str()
            .unwrap()
            .split(',')
            .map(|m| m.trim().to_owned())
            // axum answers HEAD wherever GET is served.
            .filter(|m| m != "HEAD")
            .collect();
        assert_eq!(&allow, methods, "{path}: methods served (left) and described (right)");

        for method in methods {
            let resp = server.http.request(Method::from_bytes(method.as_bytes()).unwrap(), &url).send().await.unwrap();
            let status = resp.status();
            let body = resp.text().await.unwrap_or_default();
            assert_ne!(status, 405, "{method} {path}");
            assert!(
                !(status == 404 && body.contains("no such endpoint")),
                "{method} {path} fell through to the router's fallback"
            );
        }
    }
}

#[tokio::test]
async fn every_route_is_described_at_a_root_issuer() {
    let mut setup = Setup::new(Backend::Sqlite).await.unwrap().unwrap();
    // With the sandbox's routes answering as they do in development.
    setup.dev = true;
    let server = setup.start().await.unwrap();
    every_route_is_described(&server).await;
    server.stop().await;
}

/// With an issuer path, discovery is served at both the issuer's path and
/// by insertion at the root (an extra route): the document follows.
#[tokio::test]
async fn every_route_is_described_under_an_issuer_path() {
    let mut setup = Setup::new(Backend::Sqlite).await.unwrap().unwrap();
    setup.issuer = Some("http://127.0.0.1:9/tenant-a".into());
    let server = setup.start().await.unwrap();
    every_route_is_described(&server).await;
    let doc = fetch_document(&server).await;
    assert_eq!(doc["paths"]["/healthz"]["servers"][0]["url"], "http://127.0.0.1:9");
    assert!(doc["paths"]["/.well-known/openid-configuration/tenant-a"].is_object());
    server.stop().await;
}

/// `#/components/schemas/X` or an inline schema, resolved.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => doc.pointer(r.trim_start_matches('#')).unwrap_or_else(|| panic!("{r} does not resolve")),
        None => schema,
    }
}

/// Every field the server sent is described, and every required field was
/// sent, down through objects and arrays.
fn conforms(doc: &Value, schema: &Value, value: &Value, at: &str) {
    let schema = resolve(doc, schema);
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        let obj = value.as_object().unwrap_or_else(|| panic!("{at} is not an object: {value}"));
        for key in obj.keys() {
            assert!(props.contains_key(key), "{at}.{key} is sent but not described");
        }
        for required in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            let name = required.as_str().unwrap();
            assert!(obj.contains_key(name), "{at}.{name} is described as required but not sent");
        }
        for (key, v) in obj.iter().filter(|(_, v)| !v.is_null()) {
            conforms(doc, &props[key], v, &format!("{at}.{key}"));
        }
    }
    if let (Some(items), Some(values)) = (schema.get("items"), value.as_array()) {
        for (i, v) in values.iter().enumerate() {
            conforms(doc, items, v, &format!("{at}[{i}]"));
        }
    }
}

/// The schema of an operation's 200 (or other) JSON answer.
fn answer_schema<'a>(doc: &'a Value, path: &str, method: &str, status: &str) -> &'a Value {
    let reply = resolve(doc, &doc["paths"][path][method]["responses"][status]);
    let schema = &reply["content"]["application/json"]["schema"];
    assert!(schema.is_object(), "{method} {path} {status} has no JSON schema");
    schema
}

#[tokio::test]
async fn live_answers_carry_the_described_fields() {
    let mut setup = Setup::new(Backend::Sqlite).await.unwrap().unwrap();
    // The development server has policies active (its sample set).
    setup.dev = true;
    let server = setup.start().await.unwrap();
    let doc = fetch_document(&server).await;

    for path in
        ["/.well-known/openid-configuration", "/jwks", "/.well-known/authzen-configuration", "/healthz", "/readyz"]
    {
        let (status, body) = server.get_json(path).await.unwrap();
        assert_eq!(status, 200, "{path}");
        conforms(&doc, answer_schema(&doc, path, "get", "200"), &body, path);
    }
    let admin = [
        "/admin/v1/keys",
        "/admin/v1/policies",
        "/admin/v1/policies/active",
        "/admin/v1/audit/events",
        "/admin/v1/entities/{entity_type}/{entity_id}/capabilities",
    ];
    for path in admin {
        let resp = server.http.get(server.url(&concrete(path))).bearer_auth(TEST_ADMIN_KEY).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        let body: Value = resp.json().await.unwrap();
        conforms(&doc, answer_schema(&doc, path, "get", "200"), &body, path);
    }
    // Errors: the shared 404 answer, from an admin route that looks up.
    let resp = server
        .http
        .get(server.url("/admin/v1/users/nobody/sessions"))
        .bearer_auth(TEST_ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let body: Value = resp.json().await.unwrap();
    conforms(&doc, answer_schema(&doc, "/admin/v1/users/{user_id}/sessions", "get", "404"), &body, "error");
    server.stop().await;
}
