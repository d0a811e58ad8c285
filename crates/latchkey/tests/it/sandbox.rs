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
