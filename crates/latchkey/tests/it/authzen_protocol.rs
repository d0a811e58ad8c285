//! The AuthZEN 1.0 protocol rules of the decision API, black-box over HTTP
//! against `examples/authzen-interop/latchkey.toml`: PDP metadata, PEP
//! authentication, the shape of decisions, 400s, unknown fields, request
//! ids, batches and their semantics, explanations, search paging and the
//! limits of non-privileged and type-limited PEPs.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use latchkey_testkit::{Backend, Setup, TestServer};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::authzen_interop::{PEP_KEY, interop_server};

/// Todo users by PID (their roles in `entities.json`).
const RICK: &str = "CiRmZDA2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"; // admin, evil_genius
const MORTY: &str = "CiRmZDE2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"; // editor
const SUMMER: &str = "CiRmZDI2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"; // editor
const BETH: &str = "CiRmZDM2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"; // viewer

/// A non-privileged PEP, added to the example's configuration.
const APP_KEY: &str = "app-pep-key-0123456789abcdef";
/// A PEP that may only ask about gateway routes.
const ROUTES_KEY: &str = "routes-pep-key-0123456789abcdef";

const EVALUATION: &str = "/access/v1/evaluation";
const EVALUATIONS: &str = "/access/v1/evaluations";

async fn server() -> (Setup, TestServer) {
    interop_server(Backend::Sqlite).await.expect("sqlite always runs")
}

/// The example's server with two more PEPs: `app` (not privileged) and
/// `routes` (privileged, but only for resources of type `route`).
async fn server_with_extra_peps() -> (Setup, TestServer) {
    let mut setup = Setup::new(Backend::Sqlite).await.expect("setup").expect("sqlite always runs");
    let path: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/authzen-interop/latchkey.toml");
    setup.toml = std::fs::read_to_string(&path).expect("example config");
    setup.toml.push_str(&format!(
        r#"
[[authz.peps]]
name = "app"
key = "{APP_KEY}"
privileged = false

[[authz.peps]]
name = "routes"
key = "{ROUTES_KEY}"
privileged = true
resource_types = ["route"]
"#
    ));
    setup.config_file = Some(path);
    setup.env.insert("AUTHZEN_PDP_API_KEY".into(), PEP_KEY.into());
    let server = setup.start().await.expect("server starts");
    (setup, server)
}

/// POSTs `body` as JSON with `key` raw in `Authorization`; the status,
/// headers and JSON body (`Null` if the body is not JSON).
async fn call(server: &TestServer, path: &str, key: &str, body: &Value) -> (StatusCode, HeaderMap, Value) {
    let resp =
        server.http.post(server.url(path)).header("Authorization", key).json(body).send().await.expect("request");
    let (status, headers) = (resp.status(), resp.headers().clone());
    let text = resp.text().await.expect("body");
    (status, headers, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A 200 answer to the interop PEP.
async fn ok(server: &TestServer, path: &str, body: &Value) -> Value {
    let (status, _, got) = call(server, path, PEP_KEY, body).await;
    assert_eq!(status, StatusCode::OK, "{path} {body}: {got}");
    got
}

/// POSTs raw bytes with a content type, as the interop PEP.
async fn raw(server: &TestServer, path: &str, content_type: &str, body: &str) -> (StatusCode, Value) {
    let resp = server
        .http
        .post(server.url(path))
        .header("Authorization", PEP_KEY)
        .header("Content-Type", content_type)
        .body(body.to_owned())
        .send()
        .await
        .expect("request");
    let status = resp.status();
    let text = resp.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn todo_question(subject: &str, action: &str) -> Value {
    json!({
        "subject": { "type": "user", "id": subject },
        "action": { "name": action },
        "resource": { "type": "todo", "id": "todo-1" },
    })
}

fn assert_bad_request(what: &str, status: StatusCode, body: &Value) {
    assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {body}");
    assert!(body["error"].is_string(), "{what}: a 400 carries a JSON `error`, got {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_names_the_issuer_and_absolute_endpoints() {
    let (_setup, server) = server().await;
    let resp = server.http.get(server.url("/.well-known/authzen-configuration")).send().await.expect("request");
    assert_eq!(resp.status(), StatusCode::OK, "the metadata needs no credentials");
    let meta: Value = resp.json().await.expect("json");
    let issuer = server.issuer();
    assert_eq!(meta["policy_decision_point"], json!(issuer));
    for (field, path) in [
        ("access_evaluation_endpoint", EVALUATION),
        ("access_evaluations_endpoint", EVALUATIONS),
        ("search_subject_endpoint", "/access/v1/search/subject"),
        ("search_resource_endpoint", "/access/v1/search/resource"),
        ("search_action_endpoint", "/access/v1/search/action"),
    ] {
        let url = meta[field].as_str().unwrap_or_else(|| panic!("{field} missing in {meta}"));
        assert!(url.starts_with(issuer) && url.starts_with("http"), "{field} = {url} is not absolute under {issuer}");
        assert_eq!(url, format!("{issuer}{path}"), "{field}");
    }
    assert!(meta["capabilities"].is_array(), "capabilities must be an array: {meta}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pep_authentication() {
    let (_setup, server) = server().await;
    let body = todo_question(RICK, "can_read_todos");

    // No credentials: a bare Bearer challenge, no error code (RFC 6750 §3.1).
    let resp = server.http.post(server.url(EVALUATION)).json(&body).send().await.expect("request");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let challenge = resp
        .headers()
        .get("www-authenticate")
        .expect("a 401 carries WWW-Authenticate")
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(challenge.starts_with("Bearer"), "challenge: {challenge}");
    assert!(!challenge.contains("error="), "no credentials, no error code: {challenge}");

    // A key no PEP holds.
    for value in ["wrong-pep-key-0123456789abcdef", "Bearer wrong-pep-key-0123456789abcdef"] {
        let (status, _, got) = call(&server, EVALUATION, value, &body).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "Authorization: {value}: {got}");
        assert!(got["error"].is_string(), "{got}");
    }

    // The key raw (as the interop harness sends it) and as a bearer token.
    for value in [PEP_KEY.to_owned(), format!("Bearer {PEP_KEY}")] {
        let (status, _, got) = call(&server, EVALUATION, &value, &body).await;
        assert_eq!(status, StatusCode::OK, "Authorization: {value}: {got}");
        assert_eq!(got, json!({ "decision": true }));
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_are_exactly_the_boolean() {
    let (_setup, server) = server().await;
    // Beth is a viewer: she may not create todos; Rick (admin) may.
    let (status, _, got) = call(&server, EVALUATION, PEP_KEY, &todo_question(BETH, "can_create_todo")).await;
    assert_eq!(status, StatusCode::OK, "a deny is a 200: {got}");
    assert_eq!(got, json!({ "decision": false }));
    let (status, _, got) = call(&server, EVALUATION, PEP_KEY, &todo_question(RICK, "can_create_todo")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got, json!({ "decision": true }));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_are_400() {
    let (_setup, server) = server().await;
    let valid = todo_question(RICK, "can_read_todos");
    let without = |key: &str| {
        let mut v = valid.clone();
        v.as_object_mut().expect("object").remove(key);
        v
    };
    let with = |key: &str, value: Value| {
        let mut v = valid.clone();
        v[key] = value;
        v
    };
    let cases = [
        ("missing subject", without("subject")),
        ("missing action", without("action")),
        ("missing resource", without("resource")),
        ("subject.id a number", with("subject", json!({ "type": "user", "id": 42 }))),
        ("action.name missing", with("action", json!({ "verb": "can_read_todos" }))),
        ("context not an object", with("context", json!("not an object"))),
    ];
    for (what, body) in &cases {
        let (status, _, got) = call(&server, EVALUATION, PEP_KEY, body).await;
        assert_bad_request(what, status, &got);
    }
    let (status, got) = raw(&server, EVALUATION, "application/json", r#"{"subject": {"type": "user","#).await;
    assert_bad_request("malformed JSON", status, &got);
    let (status, got) = raw(&server, EVALUATION, "application/json", &json!([valid]).to_string()).await;
    assert_bad_request("a JSON array", status, &got);
    let (status, got) = raw(&server, EVALUATION, "text/plain", &valid.to_string()).await;
    assert_bad_request("text/plain", status, &got);

    // The same request, well formed, is answered: the 400s are the defects.
    assert_eq!(ok(&server, EVALUATION, &valid).await, json!({ "decision": true }));
    let (status, got) = raw(&server, EVALUATION, "application/json; charset=utf-8", &valid.to_string()).await;
    assert_eq!((status, got), (StatusCode::OK, json!({ "decision": true })));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_fields_are_ignored() {
    let (_setup, server) = server().await;
    let decorate = |mut v: Value| {
        v["x_extension"] = json!({ "anything": [1, 2, 3] });
        v["subject"]["x_subject_extra"] = json!("ignored");
        v["action"]["x_action_extra"] = json!(7);
        v["resource"]["x_resource_extra"] = json!(null);
        v
    };
    for (subject, action, want) in [(RICK, "can_create_todo", true), (BETH, "can_create_todo", false)] {
        let plain = todo_question(subject, action);
        let without = ok(&server, EVALUATION, &plain).await;
        let with = ok(&server, EVALUATION, &decorate(plain)).await;
        assert_eq!(without, json!({ "decision": want }));
        assert_eq!(with, without, "unknown fields changed the decision");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_id_is_echoed() {
    let (_setup, server) = server().await;
    let id = "9b2f3c1e-7d4a-4f1b-8a2e-interop.test:1";
    for body in [todo_question(RICK, "can_read_todos"), json!({ "subject": 1 })] {
        let resp = server
            .http
            .post(server.url(EVALUATION))
            .header("Authorization", PEP_KEY)
            .header("X-Request-ID", id)
            .json(&body)
            .send()
            .await
            .expect("request");
        let echoed = resp.headers().get("x-request-id").map(|v| v.to_str().expect("ascii").to_owned());
        assert_eq!(echoed.as_deref(), Some(id), "status {}", resp.status());
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_merges_defaults_and_keeps_order() {
    let (_setup, server) = server().await;
    let mortys_todo = json!({ "type": "todo", "id": "t-1", "properties": { "ownerID": "morty@the-citadel.com" } });
    let body = json!({
        "subject": { "type": "user", "id": RICK },
        "action": { "name": "can_update_todo" },
        "resource": mortys_todo,
        "evaluations": [
            {},                                                   // Rick, evil genius: any todo
            { "subject": { "type": "user", "id": BETH } },        // a viewer
            { "subject": { "type": "user", "id": MORTY } },       // an editor, his own todo
            { "subject": { "type": "user", "id": SUMMER } },      // an editor, not hers
            // The item's resource replaces the default whole: no ownerID.
            { "subject": { "type": "user", "id": MORTY }, "resource": { "type": "todo", "id": "t-1" } },
            { "action": { "name": "can_read_todos" }, "subject": { "type": "user", "id": BETH } },
        ],
    });
    let got = ok(&server, EVALUATIONS, &body).await;
    let want: Vec<Value> = [true, false, true, false, false, true].iter().map(|d| json!({ "decision": d })).collect();
    assert_eq!(got, json!({ "evaluations": want }));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_item_that_cannot_be_evaluated_is_a_deny() {
    let (_setup, server) = server().await;
    let body = json!({
        "subject": { "type": "user", "id": BETH },
        "action": { "name": "can_read_todos" },
        "evaluations": [
            { "resource": { "type": "todo", "id": "a" } },
            { "context": { "note": "no resource here, none by default" } },
            { "resource": { "type": "todo", "id": "b" } },
        ],
    });
    let got = ok(&server, EVALUATIONS, &body).await;
    assert_eq!(got, json!({ "evaluations": [{ "decision": true }, { "decision": false }, { "decision": true }] }));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_semantics() {
    let (_setup, server) = server().await;
    // Creating a todo: Rick yes, Beth no.
    let batch = |semantic: Option<&str>, subjects: &[&str]| {
        let mut v = json!({
            "action": { "name": "can_create_todo" },
            "resource": { "type": "todo", "id": "t" },
            "evaluations": subjects.iter().map(|s| json!({ "subject": { "type": "user", "id": s } })).collect::<Vec<_>>(),
        });
        if let Some(s) = semantic {
            v["options"] = json!({ "evaluations_semantic": s });
        }
        v
    };
    let decisions = |got: Value| -> Vec<bool> {
        got["evaluations"]
            .as_array()
            .unwrap_or_else(|| panic!("evaluations: {got}"))
            .iter()
            .map(|r| r["decision"].as_bool().expect("decision"))
            .collect()
    };
    let all = [RICK, BETH, RICK, BETH];
    for semantic in [None, Some("execute_all")] {
        let got = decisions(ok(&server, EVALUATIONS, &batch(semantic, &all)).await);
        assert_eq!(got, [true, false, true, false], "{semantic:?}");
    }
    let got = decisions(ok(&server, EVALUATIONS, &batch(Some("deny_on_first_deny"), &[RICK, RICK, BETH, RICK])).await);
    assert_eq!(got, [true, true, false], "deny_on_first_deny stops after the first deny");
    let got = decisions(ok(&server, EVALUATIONS, &batch(Some("deny_on_first_deny"), &[RICK, RICK])).await);
    assert_eq!(got, [true, true], "deny_on_first_deny without a deny runs all");
    let got =
        decisions(ok(&server, EVALUATIONS, &batch(Some("permit_on_first_permit"), &[BETH, BETH, RICK, BETH])).await);
    assert_eq!(got, [false, false, true], "permit_on_first_permit stops after the first permit");
    let got = decisions(ok(&server, EVALUATIONS, &batch(Some("permit_on_first_permit"), &[BETH, BETH])).await);
    assert_eq!(got, [false, false], "permit_on_first_permit without a permit runs all");

    let (status, _, got) = call(&server, EVALUATIONS, PEP_KEY, &batch(Some("majority_vote"), &all)).await;
    assert_bad_request("unknown evaluations_semantic", status, &got);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_without_items_is_a_single_evaluation() {
    let (_setup, server) = server().await;
    for (subject, want) in [(RICK, true), (BETH, false)] {
        let single = todo_question(subject, "can_create_todo");
        assert_eq!(ok(&server, EVALUATIONS, &single).await, json!({ "decision": want }));
        let mut empty = single.clone();
        empty["evaluations"] = json!([]);
        assert_eq!(ok(&server, EVALUATIONS, &empty).await, json!({ "decision": want }));
    }
    // Without items the top level is the question: it must be complete.
    let mut incomplete = todo_question(RICK, "can_create_todo");
    incomplete.as_object_mut().expect("object").remove("resource");
    let (status, _, got) = call(&server, EVALUATIONS, PEP_KEY, &incomplete).await;
    assert_bad_request("single evaluation without resource", status, &got);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_size_is_bounded() {
    let (_setup, server) = server().await;
    let batch = |n: usize| {
        let mut v = todo_question(RICK, "can_read_todos");
        v["evaluations"] = Value::Array(vec![json!({}); n]);
        v
    };
    let (status, _, got) = call(&server, EVALUATIONS, PEP_KEY, &batch(1001)).await;
    assert_bad_request("1001 evaluations", status, &got);
    let got = ok(&server, EVALUATIONS, &batch(1000)).await;
    let results = got["evaluations"].as_array().expect("evaluations");
    assert_eq!(results.len(), 1000);
    assert!(results.iter().all(|r| *r == json!({ "decision": true })));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explanations_for_the_privileged_pep() {
    let (_setup, server) = server().await;
    // Asked first with `explain`, so the answer is evaluated, not cached.
    let mut body = todo_question(RICK, "can_create_todo");
    body["options"] = json!({ "explain": true });
    let got = ok(&server, EVALUATION, &body).await;
    assert_eq!(got["decision"], json!(true), "{got}");
    let reasons = got["context"]["reasons"].as_array().unwrap_or_else(|| panic!("context.reasons: {got}"));
    assert!(reasons.contains(&json!("todo-create")), "reasons name the permitting policy: {got}");
    assert!(got["context"]["policy_version"].is_i64(), "context.policy_version: {got}");

    // Without `explain`, nothing but the decision.
    let plain = todo_question(BETH, "can_create_todo");
    assert_eq!(ok(&server, EVALUATION, &plain).await, json!({ "decision": false }));
    let mut body = todo_question(RICK, "can_read_todos");
    body["options"] = json!({ "explain": false });
    assert_eq!(ok(&server, EVALUATION, &body).await, json!({ "decision": true }));

    // In a batch, each result is explained.
    let body = json!({
        "subject": { "type": "user", "id": RICK },
        "resource": { "type": "todo", "id": "t-2" },
        "options": { "explain": true },
        "evaluations": [{ "action": { "name": "can_delete_todo" } }],
    });
    let got = ok(&server, EVALUATIONS, &body).await;
    assert_eq!(got["evaluations"][0]["decision"], json!(true), "{got}");
    assert!(
        got["evaluations"][0]["context"]["reasons"].as_array().is_some_and(|r| r.contains(&json!("todo-delete-any"))),
        "{got}"
    );
    server.stop().await;
}

/// An explanation asked for after the same plain question: the decision
/// comes from the cache; does it still say why?
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explanations_survive_the_decision_cache() {
    let (_setup, server) = server().await;
    let plain = todo_question(RICK, "can_create_todo");
    assert_eq!(ok(&server, EVALUATION, &plain).await, json!({ "decision": true }));
    let mut body = plain.clone();
    body["options"] = json!({ "explain": true });
    let got = ok(&server, EVALUATION, &body).await;
    assert_eq!(got["decision"], json!(true), "{got}");
    assert!(
        got["context"]["reasons"].as_array().is_some_and(|r| r.contains(&json!("todo-create"))),
        "a repeated question explained: {got}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_privileged_pep_gets_decisions_only() {
    let (_setup, server) = server_with_extra_peps().await;
    let question = todo_question(RICK, "can_create_todo");
    let (status, _, got) = call(&server, EVALUATION, APP_KEY, &question).await;
    assert_eq!((status, got), (StatusCode::OK, json!({ "decision": true })));
    let (status, _, got) = call(&server, EVALUATION, &format!("Bearer {APP_KEY}"), &question).await;
    assert_eq!((status, got), (StatusCode::OK, json!({ "decision": true })));

    let mut explained = question.clone();
    explained["options"] = json!({ "explain": true });
    for path in [EVALUATION, EVALUATIONS] {
        let (status, _, got) = call(&server, path, APP_KEY, &explained).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path} explain: {got}");
        assert!(got["error"].is_string(), "{got}");
    }
    let search = json!({
        "subject": { "type": "user" },
        "action": { "name": "view" },
        "resource": { "type": "record", "id": "101" },
    });
    let (status, _, got) = call(&server, "/access/v1/search/subject", APP_KEY, &search).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "subject search: {got}");
    // The same requests from the privileged PEP are answered.
    let (status, _, got) = call(&server, "/access/v1/search/subject", PEP_KEY, &search).await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert!(got["results"].as_array().is_some_and(|r| !r.is_empty()), "{got}");
    let (status, _, got) = call(&server, EVALUATION, PEP_KEY, &explained).await;
    assert_eq!(status, StatusCode::OK, "{got}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_pages_follow_tokens() {
    let (_setup, server) = server().await;
    let path = "/access/v1/search/resource";
    let question = json!({
        "subject": { "type": "user", "id": "alice" },
        "action": { "name": "view" },
        "resource": { "type": "record" },
    });
    // Alice is a manager: she views all twenty records.
    let everything = ok(&server, path, &question).await;
    let all: Vec<Value> = (101..=120).map(|i| json!({ "type": "record", "id": i.to_string() })).collect();
    assert_eq!(everything["results"], Value::Array(all.clone()));

    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut req = question.clone();
        req["page"] = json!({ "limit": 3, "token": token });
        let got = ok(&server, path, &req).await;
        pages += 1;
        let results = got["results"].as_array().unwrap_or_else(|| panic!("results: {got}")).clone();
        assert!(results.len() <= 3, "page {pages} exceeds the limit: {got}");
        let next = got["page"]["next_token"].as_str().unwrap_or_else(|| panic!("page.next_token: {got}")).to_owned();
        if pages == 1 {
            assert_eq!(results.len(), 3, "a full first page: {got}");
            assert!(!next.is_empty(), "more to come: {got}");
        }
        seen.extend(results);
        if next.is_empty() {
            break;
        }
        assert!(pages < 20, "paging does not end");
        token = Some(next);
    }
    let distinct: HashSet<String> = seen.iter().map(Value::to_string).collect();
    assert_eq!(distinct.len(), seen.len(), "duplicates across pages: {seen:?}");
    assert_eq!(seen, all, "the pages add up to every record, in order");
    assert_eq!(pages, 7, "20 results, 3 a page");

    let mut garbage = question.clone();
    garbage["page"] = json!({ "limit": 3, "token": "%%%" });
    let (status, _, got) = call(&server, path, PEP_KEY, &garbage).await;
    assert_bad_request("page.token %%%", status, &got);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pep_limited_to_resource_types() {
    let (_setup, server) = server_with_extra_peps().await;
    let todo = todo_question(RICK, "can_create_todo");
    let (status, _, got) = call(&server, EVALUATION, PEP_KEY, &todo).await;
    assert_eq!((status, got), (StatusCode::OK, json!({ "decision": true })), "the interop PEP");
    let (status, _, got) = call(&server, EVALUATION, ROUTES_KEY, &todo).await;
    assert_eq!((status, got), (StatusCode::OK, json!({ "decision": false })), "a todo, asked by the routes PEP");

    // Its own type is decided as usual.
    let route = json!({
        "subject": { "type": "identity", "id": RICK },
        "action": { "name": "POST" },
        "resource": { "type": "route", "id": "/todos" },
    });
    let (status, _, got) = call(&server, EVALUATION, ROUTES_KEY, &route).await;
    assert_eq!((status, got), (StatusCode::OK, json!({ "decision": true })), "a route, asked by the routes PEP");

    // In a batch, the todo item is denied, the route item allowed.
    let batch = json!({
        "subject": { "type": "user", "id": RICK },
        "evaluations": [
            { "action": { "name": "can_create_todo" }, "resource": { "type": "todo", "id": "t" } },
            route,
        ],
    });
    let (status, _, got) = call(&server, EVALUATIONS, ROUTES_KEY, &batch).await;
    assert_eq!(
        (status, got),
        (StatusCode::OK, json!({ "evaluations": [{ "decision": false }, { "decision": true }] }))
    );
    server.stop().await;
}
