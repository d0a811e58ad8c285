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
