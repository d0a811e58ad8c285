//! The `--dev` sandbox's built-in relying party: the whole flow in a
//! browser, as the README describes it.

use latchkey_testkit::Backend;
use latchkey_testkit::browser::Browser;

#[tokio::test]
async fn the_sandbox_runs_the_whole_flow_in_a_browser() {
    let mut setup = crate::setup_or_skip!(Backend::Sqlite);
    setup.dev = true;
    let server = setup.start().await.unwrap();
    let browser = Browser::new();
    let home = browser.get(&server.url("/sandbox")).await.unwrap();
    assert_eq!(home.status(), 200);
    assert!(home.text().await.unwrap().contains("Sign in"));

    let start = browser.get(&server.url("/sandbox/start")).await.unwrap();
    assert_eq!(start.status(), 303);
    let authorize = start.headers()["location"].to_str().unwrap().to_string();
    let back = browser.authorize(&authorize, "alice", "alice-sandbox-password").await.unwrap();
    assert_eq!(back.status(), 303);
    let callback = back.headers()["location"].to_str().unwrap().to_string();
    assert!(callback.starts_with(&server.url("/sandbox/callback")), "{callback}");
    let html = browser.get(&callback).await.unwrap().text().await.unwrap();
    assert!(html.contains("Signed in") && html.contains("urn:latchkey:acr:pwd"), "{html}");
    assert!(html.contains("issued (offline_access)"), "{html}");

    // Sign out returns to the sandbox (a registered post-logout URI).
    let logout = html
        .split("href=\"")
        .find(|s| s.contains("/logout?"))
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    let resp = browser.get(&logout).await.unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], server.url("/sandbox"));
    server.stop().await;

    // Without --dev there is no sandbox.
    let setup = crate::setup_or_skip!(Backend::Sqlite);
    let server = setup.start().await.unwrap();
    assert_eq!(Browser::new().get(&server.url("/sandbox")).await.unwrap().status(), 404);
    server.stop().await;
}

/// Scenario C on the sandbox: the simulated provider's document check
/// reaches the signals endpoint as a signed webhook, and the next
/// decision (the scenarios' example model) sees it.
#[tokio::test]
async fn the_simulated_provider_signals_a_document_check() {
    let mut setup = crate::setup_or_skip!(Backend::Sqlite);
    setup.dev = true;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/scenarios/latchkey.toml");
    setup.toml = std::fs::read_to_string(&path).unwrap();
    setup.config_file = Some(path);
    let server = setup.start().await.unwrap();
    let browser = Browser::new();

    // Signed out: the page says to sign in first.
    assert_eq!(browser.get(&server.url("/sandbox/verify")).await.unwrap().status(), 401);
    let start = browser.get(&server.url("/sandbox/start")).await.unwrap();
    let authorize = start.headers()["location"].to_str().unwrap().to_string();
    let back = browser.authorize(&authorize, "alice", "alice-sandbox-password").await.unwrap();
    let callback = back.headers()["location"].to_str().unwrap().to_string();
    browser.get(&callback).await.unwrap();

    let alice = server.state().store.get_user_by_username("alice").await.unwrap().unwrap().id;
    let ask = || async {
        let body = serde_json::json!({ "subject": { "type": "User", "id": alice }, "action": { "name": "call_api" },
                                       "resource": { "type": "Api", "id": "payments" } });
        let resp = server
            .http
            .post(server.url("/access/v1/evaluation"))
            .header("authorization", "sandbox-pep-key-0123456789abcdef")
            .json(&body)
            .send()
            .await
            .unwrap();
        resp.json::<serde_json::Value>().await.unwrap()["decision"] == true
    };
    assert!(!ask().await, "no verification yet");

    let html = browser.get(&server.url("/sandbox/verify")).await.unwrap().text().await.unwrap();
    assert!(html.contains("verification level now: <code>none</code>"), "{html}");
    let csrf = latchkey_testkit::browser::hidden_input(&html, "csrf").unwrap();
    let resp =
        browser.post_form(&server.url("/sandbox/verify"), &[("csrf", &csrf), ("outcome", "pass")]).await.unwrap();
    let html = resp.text().await.unwrap();
    assert!(html.contains("answered 200"), "{html}");
    assert!(html.contains("verification level now: <code>document</code>"), "{html}");
    assert!(ask().await, "verified and KYC passed: the next decision allows");
    // It went through the signals endpoint as source `sandbox-idv`.
    assert!(server.events.take().iter().any(
        |e| matches!(e, latchkey_domain::SecurityEvent::SignalReceived { source, .. } if source == "sandbox-idv")
    ));

    // A forged form (no CSRF cookie match) changes nothing.
    let resp =
        browser.post_form(&server.url("/sandbox/verify"), &[("csrf", "forged"), ("outcome", "fail")]).await.unwrap();
    assert_eq!(resp.status(), 403);
    assert!(ask().await);
    server.stop().await;
}
