//! The audit log, black-box: what a sign-in, a refresh and a token exchange
//! record; filters and paging of the query API; anomalies (bursts, reuse)
//! with their signed webhook; a full queue that drops and counts instead
//! of blocking; sweeping; and `latchkey audit tail|export`.

use latchkey_testkit::browser::Browser;
use latchkey_testkit::receiver::Receiver;
use latchkey_testkit::{Backend, TEST_ADMIN_KEY, TestServer, eventually};
use serde_json::Value;

use crate::sign_in::{WEB_REDIRECT, WEB_SECRET, auth_url, refresh, token_request, tokens_for};

const WEBHOOK_SECRET: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

/// `GET /admin/v1/audit/events?{query}` as the administrator.
async fn query_audit(server: &TestServer, query: &str) -> reqwest::Response {
    server
        .http
        .get(server.url(&format!("/admin/v1/audit/events?{query}")))
        .bearer_auth(TEST_ADMIN_KEY)
        .send()
        .await
        .unwrap()
}

async fn audit_page(server: &TestServer, query: &str) -> Value {
    let resp = query_audit(server, query).await;
    assert_eq!(resp.status(), 200, "{query}");
    resp.json().await.unwrap()
}

pub(crate) async fn audit(server: &TestServer, query: &str) -> Vec<Value> {
    audit_page(server, query).await["events"].as_array().unwrap().clone()
}

fn types(events: &[Value]) -> Vec<&str> {
    events.iter().filter_map(|e| e["type"].as_str()).collect()
}

fn sub_of(token: &str) -> String {
    let (_, payload, _) = latchkey_crypto::jws::decode_unverified(token).unwrap();
    let claims: Value = serde_json::from_slice(&payload).unwrap();
    claims["sub"].as_str().unwrap().to_string()
}

async fn metrics(server: &TestServer) -> String {
    server.http.get(server.url("/metrics")).send().await.unwrap().text().await.unwrap()
}

/// A sign-in, a code redemption, a refresh and a token exchange each leave
/// their event, with time, trace id, source address and node, under the
/// user; no token, code, secret or password appears anywhere in the log.
async fn sign_in_refresh_and_exchange_are_audited(backend: Backend) {
    let setup = crate::setup_or_skip!(backend).with_toml(&crate::exchange::exchange_config());
    let server = setup.start().await.unwrap();

    let t0 = tokens_for(&server, "web", "openid offline_access").await;
    let rt0 = t0["refresh_token"].as_str().unwrap();
    let (s, t1) = refresh(&server, ("web", Some(WEB_SECRET)), rt0, None).await;
    assert_eq!(s, 200, "{t1}");
    let front = crate::exchange::user_token_for_front(&server).await;
    let front_token = front["access_token"].as_str().unwrap();
    let (s, exchanged) = crate::exchange::exchange(
        &server,
        "front",
        &[
            ("subject_token", front_token),
            ("subject_token_type", "urn:ietf:params:oauth:token-type:access_token"),
            ("audience", "https://profile.example.test"),
            ("scope", "profile:read"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{exchanged}");

    let alice = sub_of(front_token);
    let wanted = ["login.succeeded", "consent.granted", "token.issued", "token.refreshed", "token.exchanged"];
    eventually("the flow's events are written", || async {
        let events = audit(&server, &format!("subject={alice}")).await;
        let seen = types(&events);
        wanted.iter().all(|w| seen.contains(w))
    })
    .await
    .unwrap();
    let events = audit(&server, &format!("subject={alice}")).await;
    let seen = types(&events);
    // Two sign-ins (web, then app), each followed by its code redemption.
    assert_eq!(seen.iter().filter(|t| **t == "login.succeeded").count(), 2, "{seen:?}");
    assert_eq!(seen.iter().filter(|t| **t == "token.issued").count(), 2, "{seen:?}");
    let first_login = seen.iter().position(|t| *t == "login.succeeded").unwrap();
    let first_issue = seen.iter().position(|t| *t == "token.issued").unwrap();
    assert!(first_login < first_issue, "oldest first: {seen:?}");
    // Start-up events (the configured users) have no request behind them;
    // every event of the flow has its request's context.
    let from_requests: Vec<&Value> = events.iter().filter(|e| e["trace_id"].is_string()).collect();
    for w in wanted {
        assert!(from_requests.iter().any(|e| e["type"] == w), "{w} has a trace id: {events:?}");
    }
    for e in from_requests {
        assert_eq!(e["subject"], alice.as_str(), "{e}");
        assert!(e["trace_id"].as_str().is_some_and(|t| !t.is_empty()), "{e}");
        assert_eq!(e["source_ip"], "127.0.0.1", "{e}");
        assert!(e["node"].as_str().is_some_and(|n| !n.is_empty()), "{e}");
        assert!(e["time"].as_str().is_some_and(|t| t.ends_with('Z')), "{e}");
        assert!(e["id"].as_i64().unwrap() > 0);
    }
    let exchange = events.iter().find(|e| e["type"] == "token.exchanged").unwrap();
    assert_eq!((exchange["client_id"].as_str(), exchange["outcome"].as_str()), (Some("front"), Some("success")));
    assert_eq!(exchange["details"]["audience"], "https://profile.example.test");
    let refreshed = events.iter().find(|e| e["type"] == "token.refreshed").unwrap();
    assert_eq!(refreshed["actor"], "web", "a token operation's actor is its client");
    let login = events.iter().find(|e| e["type"] == "login.succeeded").unwrap();
    assert_eq!(login["actor"], alice.as_str());

    // Nothing secret anywhere in the whole log.
    let everything = serde_json::to_string(&audit(&server, "limit=1000").await).unwrap();
    for secret in [
        front_token,
        rt0,
        t1["refresh_token"].as_str().unwrap(),
        t1["access_token"].as_str().unwrap(),
        exchanged["access_token"].as_str().unwrap(),
        WEB_SECRET,
        "alice-password",
    ] {
        assert!(!everything.contains(secret), "the audit log holds a secret");
    }
    server.stop().await;
}
crate::both_backends!(sign_in_refresh_and_exchange_are_audited);

/// Filters (subject, client, type prefix, outcome, time), paging in both
/// orders, and the API's own refusals.
async fn queries_filter_and_page(backend: Backend) {
    let setup = crate::setup_or_skip!(backend).with_toml(&crate::sign_in::config());
    let server = setup.start().await.unwrap();
    for _ in 0..5 {
        let (s, _, _) =
            token_request(&server, Some(("orders-api", "wrong-secret")), &[("grant_type", "client_credentials")]).await;
        assert_eq!(s, 401);
    }
    eventually("the failures are written", || async { audit(&server, "type=client.auth_failed").await.len() == 5 })
        .await
        .unwrap();

    let failures = audit(&server, "client_id=orders-api&outcome=failure").await;
    assert_eq!(failures.len(), 5);
    assert!(failures.iter().all(|e| e["details"]["reason"].as_str().unwrap().contains("wrong secret")));
    assert!(audit(&server, "type=client.*").await.len() >= 5, "a prefix matches");
    assert!(audit(&server, "type=client").await.is_empty(), "a bare word is an exact type");
    assert!(audit(&server, "client_id=orders-api&outcome=success&type=client.a*").await.is_empty());
    assert!(audit(&server, "since=2000000000").await.is_empty(), "nothing from the future");
    assert_eq!(audit(&server, "since=1h&type=client.auth_failed").await.len(), 5);

    // Pages of two, oldest first, following next_cursor; then newest first.
    let mut ids = Vec::new();
    let mut cursor = String::new();
    for _ in 0..10 {
        let page = audit_page(&server, &format!("type=client.auth_failed&limit=2{cursor}")).await;
        ids.extend(page["events"].as_array().unwrap().iter().map(|e| e["id"].as_i64().unwrap()));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(ids.len(), 5, "{ids:?}");
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    let page = audit_page(&server, "type=client.auth_failed&order=desc&limit=2").await;
    let newest: Vec<i64> = page["events"].as_array().unwrap().iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert_eq!(newest, vec![ids[4], ids[3]]);
    let cursor = page["next_cursor"].as_str().unwrap();
    let older: Vec<i64> = audit(&server, &format!("type=client.auth_failed&order=desc&limit=2&cursor={cursor}"))
        .await
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert_eq!(older, vec![ids[2], ids[1]], "newest first, continued below the cursor");
    // `_` in a prefix is a character, not LIKE's wildcard; case is folded.
    assert_eq!(audit(&server, "type=client.auth_*").await.len(), 5);
    assert!(audit(&server, "type=client.auth__*").await.is_empty());
    assert_eq!(audit(&server, "type=CLIENT.AUTH_FAILED").await.len(), 5);
    let everything = serde_json::to_string(&audit(&server, "limit=1000").await).unwrap();
    assert!(!everything.contains("wrong-secret"), "a presented secret is never recorded");

    for bad in ["limit=0", "limit=5000", "order=sideways", "cursor=x", "outcome=maybe", "since=soon", "type=*.x"] {
        let resp = query_audit(&server, bad).await;
        assert_eq!(resp.status(), 400, "{bad}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"], "invalid_request", "{bad}");
    }
    let resp = server.http.get(server.url("/admin/v1/audit/events")).send().await.unwrap();
    assert_eq!(resp.status(), 401, "the audit log is for administrators");
    server.stop().await;
}
crate::both_backends!(queries_filter_and_page);

fn anomaly_config(webhook: &str) -> String {
    format!(
        r#"{base}
[audit.anomalies]
login_failures = 3
invalid_client = 4
webhook_url = "{webhook}"
webhook_secret = "{WEBHOOK_SECRET}"
"#,
        base = crate::sign_in::config()
    )
}

/// Three wrong passwords for alice raise one login-failure burst; reuse of
/// a refresh token is flagged by itself; both are counted in /metrics and
/// POSTed to the webhook, signed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anomalies_are_flagged_counted_and_sent_signed() {
    let receiver = Receiver::start("/siem").await.unwrap();
    let setup = crate::setup_or_skip!(Backend::Sqlite).with_toml(&anomaly_config(&receiver.url));
    let server = setup.start().await.unwrap();

    let url = auth_url(
        &server,
        &[
            ("response_type", "code"),
            ("client_id", "web"),
            ("redirect_uri", WEB_REDIRECT),
            ("scope", "openid"),
            ("state", "s"),
        ],
    );
    for _ in 0..3 {
        let page = Browser::new().authorize(&url, "alice", "not-her-password").await.unwrap().text().await.unwrap();
        assert!(page.contains("Wrong username or password"), "{page}");
    }
    eventually("the burst is flagged", || async { !audit(&server, "type=anomaly.detected").await.is_empty() })
        .await
        .unwrap();
    let failed = audit(&server, "type=login.failed").await;
    assert_eq!(failed.len(), 3);
    assert!(failed[0]["subject"].as_str().is_some_and(|s| !s.is_empty()), "known account: its id is the subject");
    assert_eq!(failed[0]["details"]["username"], "alice");
    // An unknown name is kept only as a hash: it may be a mistyped password.
    let page =
        Browser::new().authorize(&url, "Tr0ub4dor&3-in-the-name-field", "x").await.unwrap().text().await.unwrap();
    assert!(page.contains("Wrong username or password"));
    eventually("the unknown name's failure is written", || async {
        audit(&server, "type=login.failed").await.len() == 4
    })
    .await
    .unwrap();
    let unknown = &audit(&server, "type=login.failed").await[3];
    assert!(unknown["subject"].is_null() && unknown["details"]["username"].is_null(), "{unknown}");
    assert_eq!(unknown["details"]["username_hash"].as_str().map(str::len), Some(16));
    let everything = serde_json::to_string(&audit(&server, "limit=1000").await).unwrap();
    assert!(!everything.contains("Tr0ub4dor") && !everything.contains("not-her-password"));
    let anomalies = audit(&server, "type=anomaly.detected").await;
    assert_eq!(anomalies.len(), 2, "one for the account, one for the address: {anomalies:?}");
    assert!(anomalies.iter().all(|a| a["outcome"] == "flagged" && a["details"]["kind"] == "login_failure_burst"));
    assert!(anomalies.iter().any(|a| a["subject"] == failed[0]["subject"]));

    // Refresh-token reuse.
    let t0 = tokens_for(&server, "web", "openid offline_access").await;
    let rt0 = t0["refresh_token"].as_str().unwrap();
    assert_eq!(refresh(&server, ("web", Some(WEB_SECRET)), rt0, None).await.0, 200);
    assert_eq!(refresh(&server, ("web", Some(WEB_SECRET)), rt0, None).await.0, 400);
    eventually("the reuse is flagged", || async {
        audit(&server, "outcome=flagged").await.iter().any(|e| e["type"] == "token.refresh_reused")
    })
    .await
    .unwrap();
    let m = metrics(&server).await;
    assert!(m.contains("latchkey_anomalies_total{kind=\"login_failure_burst\"} 2"), "{m}");
    assert!(m.contains("latchkey_anomalies_total{kind=\"refresh_token_reuse\"} 1"), "{m}");

    // The webhook got all three, each signed over "t.body" with our secret.
    eventually("the webhook receives them", || async { receiver.received().len() >= 3 }).await.unwrap();
    for r in receiver.received() {
        let signature = r.header("latchkey-signature").unwrap();
        let (t, v1) = signature.split_once(',').unwrap();
        let t = t.strip_prefix("t=").unwrap();
        let tag = latchkey_crypto::digest::hex_decode(v1.strip_prefix("v1=").unwrap()).unwrap();
        let signed = format!("{t}.{}", r.body);
        assert!(latchkey_crypto::digest::hmac_sha256_verify(WEBHOOK_SECRET.as_bytes(), signed.as_bytes(), &tag));
        let event: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(event["outcome"], "flagged", "{event}");
    }
    server.stop().await;
}

/// With the database locked, the writer cannot write and the small queue
/// fills: requests keep being answered, the overflow is dropped and
/// counted, and what was queued is written once the lock is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_drops_and_counts_but_never_blocks() {
    use sqlx::Connection;
    let setup = crate::setup_or_skip!(Backend::Sqlite)
        .with_toml(&format!("{}\n[audit]\nqueue_capacity = 4\nbatch = 1\n", crate::sign_in::config()));
    let server = setup.start().await.unwrap();
    // Let the start-up events be written first.
    eventually("start-up events written", || async { !audit(&server, "limit=1").await.is_empty() }).await.unwrap();

    let mut lock = sqlx::sqlite::SqliteConnection::connect(&setup.database.url).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE").execute(&mut lock).await.unwrap();
    for _ in 0..40 {
        let (s, b, _) =
            token_request(&server, Some(("orders-api", "wrong")), &[("grant_type", "client_credentials")]).await;
        assert_eq!(s, 401, "{b}");
    }
    let m = metrics(&server).await;
    let dropped = m
        .lines()
        .find_map(|l| l.strip_prefix("latchkey_audit_events_total{result=\"dropped_queue_full\"} "))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    assert!(dropped >= 30, "at most the queue and one batch wait: {dropped} dropped\n{m}");
    sqlx::query("ROLLBACK").execute(&mut lock).await.unwrap();
    eventually("what was queued is written", || async { !audit(&server, "type=client.auth_failed").await.is_empty() })
        .await
        .unwrap();
    server.stop().await;
}

/// Rows past the retention go, network details past theirs are cleared,
/// and recent rows stay whole.
async fn old_events_are_swept(backend: Backend) {
    let setup = crate::setup_or_skip!(backend).with_toml(&format!(
        "{}\n[sweep]\ninterval = \"1s\"\nbatch = 2\n[audit]\nretention = \"1h\"\nnetwork_retention = \"5m\"\n",
        crate::sign_in::config()
    ));
    let server = setup.start().await.unwrap();
    let store = &server.state().store;
    let now = latchkey_domain::time::now_millis();
    let record = |age_ms: i64, subject: &str| latchkey_domain::AuditRecord {
        id: 0,
        at_ms: now - age_ms,
        kind: "login.failed".into(),
        outcome: "failure".into(),
        actor: None,
        subject: Some(subject.into()),
        client_id: None,
        source_ip: Some("192.0.2.1".into()),
        user_agent: Some("Mozilla/5.0".into()),
        trace_id: Some("t".into()),
        node: Some("n".into()),
        details: serde_json::json!({}),
    };
    let mut records = Vec::new();
    for i in 0..5 {
        records.push(record(2 * 3600 * 1000, &format!("old{i}")));
        records.push(record(10 * 60 * 1000, &format!("aging{i}")));
    }
    records.push(record(0, "fresh"));
    store.append_audit(&records).await.unwrap();

    eventually("old rows deleted and network details cleared", || async {
        let all = audit(&server, "type=login.failed&limit=100").await;
        let old = all.iter().filter(|e| e["subject"].as_str().unwrap().starts_with("old")).count();
        let aging_clean = all
            .iter()
            .filter(|e| e["subject"].as_str().unwrap().starts_with("aging"))
            .all(|e| e["source_ip"].is_null() && e["user_agent"].is_null());
        old == 0 && aging_clean
    })
    .await
    .unwrap();
    let all = audit(&server, "type=login.failed&limit=100").await;
    assert_eq!(all.iter().filter(|e| e["subject"].as_str().unwrap().starts_with("aging")).count(), 5);
    let fresh = all.iter().find(|e| e["subject"] == "fresh").unwrap();
    assert_eq!((fresh["source_ip"].as_str(), fresh["user_agent"].as_str()), (Some("192.0.2.1"), Some("Mozilla/5.0")));
    server.stop().await;
}
crate::both_backends!(old_events_are_swept);

/// Addresses can be cut to their network, or not recorded at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn addresses_can_be_truncated() {
    let setup = crate::setup_or_skip!(Backend::Sqlite)
        .with_toml(&format!("{}\n[audit]\ntruncate_addresses = true\n", crate::sign_in::config()));
    let server = setup.start().await.unwrap();
    let (s, _, _) =
        token_request(&server, Some(("orders-api", "wrong")), &[("grant_type", "client_credentials")]).await;
    assert_eq!(s, 401);
    eventually("written", || async { !audit(&server, "type=client.auth_failed").await.is_empty() }).await.unwrap();
    let e = &audit(&server, "type=client.auth_failed").await[0];
    assert_eq!(e["source_ip"], "127.0.0.0/24");
    server.stop().await;

    let setup = crate::setup_or_skip!(Backend::Sqlite)
        .with_toml(&format!("{}\n[audit]\nnetwork_retention = \"0s\"\n", crate::sign_in::config()));
    let server = setup.start().await.unwrap();
    let (s, _, _) =
        token_request(&server, Some(("orders-api", "wrong")), &[("grant_type", "client_credentials")]).await;
    assert_eq!(s, 401);
    eventually("written", || async { !audit(&server, "type=client.auth_failed").await.is_empty() }).await.unwrap();
    let e = &audit(&server, "type=client.auth_failed").await[0];
    assert!(e["source_ip"].is_null() && e["user_agent"].is_null(), "{e}");
    server.stop().await;
}

/// `latchkey audit tail` and `export`: JSON lines, oldest first, filtered;
/// a username is resolved to the user's id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_tails_and_exports_json_lines() {
    let setup = crate::setup_or_skip!(Backend::Sqlite).with_toml(&crate::sign_in::config());
    let server = setup.start().await.unwrap();
    let t = tokens_for(&server, "web", "openid").await;
    let alice = sub_of(t["access_token"].as_str().unwrap());
    eventually("written", || async { !audit(&server, "type=token.issued").await.is_empty() }).await.unwrap();

    let run = |args: &[&str]| {
        let mut cmd = crate::cli::latchkey();
        cmd.arg("audit")
            .args(args)
            .arg("--server")
            .arg(&server.base_url)
            .env("LATCHKEY_DATABASE_URL", &setup.database.url)
            .env("LATCHKEY_DATA_DIR", setup.data_dir())
            .env("LATCHKEY_ADMIN_KEY", TEST_ADMIN_KEY);
        cmd.output().unwrap()
    };
    let lines = |out: &std::process::Output| -> Vec<Value> {
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    };
    let tail = lines(&run(&["tail", "-n", "2", "--subject", "alice"]));
    assert_eq!(tail.len(), 2);
    assert!(tail.iter().all(|e| e["subject"] == alice.as_str()));
    assert!(tail[0]["id"].as_i64() < tail[1]["id"].as_i64(), "oldest first");
    assert_eq!(tail[1]["type"], "token.issued", "the newest last");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("audit.jsonl");
    let out = run(&["export", "--since", "1h", "--type", "token.*", "--output", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let exported: Vec<Value> =
        std::fs::read_to_string(&file).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(!exported.is_empty() && exported.iter().all(|e| e["type"].as_str().unwrap().starts_with("token.")));
    assert!(String::from_utf8_lossy(&out.stderr).contains("exported"));
    let out = run(&["export", "--outcome", "nonsense"]);
    assert_eq!(out.status.code(), Some(1), "a refused query is an error");
    server.stop().await;
}

/// Decisions go to the audit log through the same queue, sampled as
/// configured (here every one), with the caller as actor and the outcome.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_are_audited_as_sampled() {
    use std::path::{Path, PathBuf};
    let mut setup = crate::setup_or_skip!(Backend::Sqlite);
    let path: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/authzen-interop/latchkey.toml");
    setup.toml =
        std::fs::read_to_string(&path).unwrap().replace("[authz]\n", "[authz]\ndecision_event_sample_every = 1\n");
    setup.config_file = Some(path);
    setup.env.insert("AUTHZEN_PDP_API_KEY".into(), crate::authzen_interop::PEP_KEY.into());
    let server = setup.start().await.unwrap();
    // Morty may read a user, not delete Rick's todo.
    let morty = "CiRmZDE2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs";
    let requests = [
        (serde_json::json!({ "type": "user", "id": "beth@the-smiths.com" }), "can_read_user", true),
        (
            serde_json::json!({ "type": "todo", "id": "7240d0db-8ff0-41ec-98b2-34a096273b92",
                                "properties": { "ownerID": "rick@the-citadel.com" } }),
            "can_delete_todo",
            false,
        ),
    ];
    for (resource, action, expected) in requests {
        let body = serde_json::json!({
            "subject": { "type": "user", "id": morty },
            "action": { "name": action },
            "resource": resource,
        });
        let resp = server
            .http
            .post(server.url("/access/v1/evaluation"))
            .header("Authorization", crate::authzen_interop::PEP_KEY)
            .json(&body)
            .send()
            .await
            .unwrap();
        let got: Value = resp.json().await.unwrap();
        assert_eq!(got["decision"], expected, "{action}: {got}");
    }
    eventually("both decisions are written", || async {
        audit(&server, "type=authz.decision_sampled").await.len() == 2
    })
    .await
    .unwrap();
    let events = audit(&server, "type=authz.decision_sampled").await;
    assert_eq!(events[0]["outcome"], "success");
    assert_eq!(events[1]["outcome"], "denied");
    assert!(events.iter().all(|e| e["actor"] == "interop" && e["subject"] == format!("user::{morty}").as_str()));
    assert_eq!(events[0]["details"]["action"], "can_read_user");
    server.stop().await;
}
