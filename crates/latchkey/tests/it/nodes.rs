//! Several nodes on one PostgreSQL: a revocation, an identity signal and a
//! policy change made through node A take effect on node B (woken by
//! LISTEN/NOTIFY, with the poll as the fallback). The test polls with a
//! bound; it asserts no time (the delay is a benchmark's business).

use latchkey_testkit::{Backend, TestServer, eventually};
use serde_json::json;

use crate::authz_scenarios::{SANDBOX, admin, client_credentials, decide, policies, signal, start_with_issuer};
use crate::sign_in::WEB_SECRET;

async fn introspect_active(node: &TestServer, token: &str) -> bool {
    let resp = node
        .http
        .post(node.url("/introspect"))
        .basic_auth("integrator", Some(WEB_SECRET))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    resp.json::<serde_json::Value>().await.unwrap()["active"] == true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_on_one_node_reach_another() {
    // Behind a load balancer every node has the same issuer.
    let Some((setup, a)) = start_with_issuer(Backend::Postgres, Some("http://127.0.0.1:9")).await else { return };
    let b = TestServer::start_with(setup.config().unwrap()).await.unwrap();

    // A token revoked through A is inactive on B.
    let (s, t) = client_credentials(&a, "sandbox:read", SANDBOX).await;
    assert_eq!(s, 200, "{t}");
    let token = t["access_token"].as_str().unwrap().to_string();
    assert!(introspect_active(&b, &token).await);
    let resp = a
        .http
        .post(a.url("/revoke"))
        .basic_auth("integrator", Some(WEB_SECRET))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    eventually("B learns of the revocation", || async { !introspect_active(&b, &token).await }).await.unwrap();

    // A fraud signal received by A flips B's next decision (B had the
    // subject's attributes and the decision in memory).
    let subject = json!({ "type": "User", "id": "u-7" });
    let profile = json!({ "type": "Api", "id": "profile" });
    assert!(decide(&b, subject.clone(), "call_api", profile.clone()).await.0);
    assert!(decide(&b, subject.clone(), "call_api", profile.clone()).await.0, "now cached on B");
    let fraud = json!({ "event_id": "n-1", "occurred_at": latchkey_domain::UnixTime::now().0,
                        "subject": { "id": "u-7" }, "attributes": { "risk_score": 99 } });
    assert_eq!(signal(&a, "fraud", &fraud, None).await.0, 200);
    eventually("B applies the signal", || async { !decide(&b, subject.clone(), "call_api", profile.clone()).await.0 })
        .await
        .unwrap();

    // A policy published through A is B's next policy.
    let other = json!({ "type": "User", "id": "u-8" });
    assert!(decide(&b, other.clone(), "call_api", profile.clone()).await.0);
    let stricter =
        format!("{}\n@id(\"closed\") forbid(principal, action == Action::\"call_api\", resource);\n", policies());
    let (s, put) = admin(&a, reqwest::Method::PUT, "/admin/v1/policies", Some(json!({ "policies": stricter }))).await;
    assert_eq!(s, 200, "{put}");
    eventually("B switches to the new policy set", || async {
        !decide(&b, other.clone(), "call_api", profile.clone()).await.0
    })
    .await
    .unwrap();
    let (_, active) = admin(&b, reqwest::Method::GET, "/admin/v1/policies/active", None).await;
    assert_eq!(active["version"], put["version"]);
    b.stop().await;
    a.stop().await;
}

/// A key rotated (or revoked) by one node is in the other's JWKS long
/// before its periodic key re-read (set to an hour here): key changes
/// travel the change feed too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_changes_reach_another_node() {
    let setup =
        crate::setup_or_skip!(Backend::Postgres).with_toml("[keys]\nreload_interval = \"1h\"\nprepublish = \"2h\"\n");
    let a = setup.start().await.unwrap();
    let b = setup.start().await.unwrap();
    let kids = |node: &TestServer| {
        let (http, url) = (node.http.clone(), node.url("/jwks"));
        async move {
            let jwks: serde_json::Value = http.get(url).send().await.unwrap().json().await.unwrap();
            jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
        }
    };
    let state = a.state();
    let manager = latchkey_server::keyring::KeyManager {
        store: &state.store,
        master: &state.master,
        events: state.events.as_ref(),
    };
    let new = manager
        .rotate(
            latchkey_domain::SigningAlg::ES256,
            std::time::Duration::from_secs(600),
            std::time::Duration::from_secs(3600),
        )
        .await
        .unwrap();
    eventually("B publishes the new key", || async { kids(&b).await.contains(&new.kid) }).await.unwrap();
    manager.revoke(&new.kid).await.unwrap();
    eventually("B withdraws the revoked key", || async { !kids(&b).await.contains(&new.kid) }).await.unwrap();
    b.stop().await;
    a.stop().await;
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// SIGKILL in the middle of load loses no grant: node A (a real `latchkey
/// serve` process) is killed while clients rotate refresh tokens on it, and
/// the last refresh token each client received then works on node B. A
/// rotation A committed but could not answer is covered by the client's
/// reuse grace window, which is what lets such a client retry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_node_loses_no_grant() {
    use crate::sign_in::{WEB_REDIRECT, WEB_SECRET};
    let toml = format!(
        r#"{base}
[[clients]]
id = "resilient"
type = "confidential"
secret = "{WEB_SECRET}"
redirect_uris = ["{WEB_REDIRECT}"]
scopes = ["openid", "offline_access"]
first_party = true
refresh_token_reuse_grace = "60s"
"#,
        base = crate::sign_in::config()
    );
    let setup = crate::setup_or_skip!(Backend::Postgres).with_toml(&toml);
    let config = setup.data_dir().join("latchkey.toml");
    std::fs::write(&config, &toml).unwrap();
    let port = free_port();
    let a_url = format!("http://127.0.0.1:{port}");
    let mut node_a = crate::cli::latchkey()
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(setup.data_dir())
        .arg("--database-url")
        .arg(&setup.database.url)
        .env("LATCHKEY_MASTER_KEY", &setup.master_key)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    eventually("node A is ready", || async {
        http.get(format!("{a_url}/readyz")).send().await.is_ok_and(|r| r.status() == 200)
    })
    .await
    .unwrap();

    // Four clients sign in on A, each getting its own grant.
    let client = http.clone();
    let refresh_on = move |base: String, token: String| {
        let http = client.clone();
        async move {
            let resp = http
                .post(format!("{base}/token"))
                .basic_auth("resilient", Some(WEB_SECRET))
                .form(&[("grant_type", "refresh_token"), ("refresh_token", token.as_str())])
                .send()
                .await?;
            let status = resp.status().as_u16();
            let body: serde_json::Value = resp.json().await?;
            Ok::<_, reqwest::Error>((status, body))
        }
    };
    let mut tokens = Vec::new();
    for i in 0..4 {
        let auth = format!(
            "{a_url}/authorize?response_type=code&client_id=resilient&scope=openid%20offline_access&state=s{i}&redirect_uri={}",
            url::form_urlencoded::byte_serialize(WEB_REDIRECT.as_bytes()).collect::<String>()
        );
        let q = latchkey_testkit::browser::Browser::new()
            .authorize_to_redirect(&auth, "alice", "alice-password")
            .await
            .unwrap();
        let resp = http
            .post(format!("{a_url}/token"))
            .basic_auth("resilient", Some(WEB_SECRET))
            .form(&[("grant_type", "authorization_code"), ("code", &q["code"]), ("redirect_uri", WEB_REDIRECT)])
            .send()
            .await
            .unwrap();
        let body: serde_json::Value = resp.json().await.unwrap();
        tokens.push(body["refresh_token"].as_str().unwrap().to_owned());
    }

    // Each client rotates its token on A as fast as it can; A is killed
    // once they are well under way. A client keeps the last token it
    // received, and stops at its first failure (A is gone).
    let rotations = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut clients = Vec::new();
    for token in tokens {
        let (refresh_on, a_url, rotations) = (refresh_on.clone(), a_url.clone(), rotations.clone());
        clients.push(tokio::spawn(async move {
            let mut held = token;
            for _ in 0..100_000 {
                match refresh_on(a_url.clone(), held.clone()).await {
                    Ok((200, body)) => {
                        held = body["refresh_token"].as_str().unwrap().to_owned();
                        rotations.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    Ok((status, body)) => panic!("A refused a rotation before dying: {status} {body}"),
                    Err(_) => break,
                }
            }
            held
        }));
    }
    eventually("the clients are rotating", || async { rotations.load(std::sync::atomic::Ordering::Relaxed) >= 40 })
        .await
        .unwrap();
    let killed = std::process::Command::new("kill").args(["-KILL", &node_a.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let _ = node_a.wait();
    let mut held = Vec::new();
    for c in clients {
        held.push(c.await.unwrap());
    }

    // Node B, on the same database: every token a client holds works.
    let b = TestServer::start_with(setup.config().unwrap()).await.unwrap();
    for token in held {
        let (status, body) = refresh_on(b.base_url.clone(), token).await.unwrap();
        assert_eq!(status, 200, "a token received from the killed node must work on B: {body}");
    }
    b.stop().await;
}
