//! Failed logins are throttled per account name and per source address,
//! with backoff rather than lockout, and without revealing which accounts
//! exist.

use latchkey_testkit::browser::{Browser, hidden_input};
use latchkey_testkit::{Backend, TestServer};

use crate::sign_in::{WEB_REDIRECT, auth_url};

fn config(per_account: u32, per_address: u32) -> String {
    format!(
        r#"{base}
[login]
free_failures_per_account = {per_account}
free_failures_per_address = {per_address}
base_delay = "1h"

[[users]]
username = "bob"
password = "bob-password"
"#,
        base = crate::sign_in::config()
    )
}

/// One sign-in attempt in a fresh browser: the login page's status and text.
async fn attempt(server: &TestServer, username: &str, password: &str) -> (u16, String, Option<String>) {
    let browser = Browser::new();
    let url = auth_url(
        server,
        &[("response_type", "code"), ("client_id", "web"), ("redirect_uri", WEB_REDIRECT), ("scope", "openid")],
    );
    let login = browser.get(&url).await.unwrap().headers()["location"].to_str().unwrap().to_string();
    let html = browser.get(&login).await.unwrap().text().await.unwrap();
    let (tx, csrf) = (hidden_input(&html, "tx").unwrap(), hidden_input(&html, "csrf").unwrap());
    let post = login.split('?').next().unwrap().to_string();
    let resp = browser
        .post_form(&post, &[("tx", &tx), ("csrf", &csrf), ("username", username), ("password", password)])
        .await
        .unwrap();
    let retry_after = resp.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
    (resp.status().as_u16(), resp.text().await.unwrap_or_default(), retry_after)
}

const WRONG: &str = "Wrong username or password.";
const THROTTLED: &str = "Too many failed sign-ins";

async fn per_account(backend: Backend) {
    let setup = crate::setup_or_skip!(backend).with_toml(&config(3, 100));
    let server = setup.start().await.unwrap();
    for _ in 0..3 {
        let (s, html, _) = attempt(&server, "alice", "guess").await;
        assert_eq!(s, 200);
        assert!(html.contains(WRONG));
    }
    // Paused now, even with the right password: guessing stays slow.
    let (s, html, retry_after) = attempt(&server, "alice", "alice-password").await;
    assert_eq!(s, 429, "{html}");
    assert!(html.contains(THROTTLED));
    assert!(retry_after.unwrap().parse::<u64>().unwrap() > 0);
    // An account that does not exist behaves exactly the same.
    for _ in 0..3 {
        assert!(attempt(&server, "mallory", "guess").await.1.contains(WRONG));
    }
    let (s, html, _) = attempt(&server, "Mallory", "guess").await;
    assert_eq!(s, 429);
    assert!(html.contains(THROTTLED));
    // Others are not affected; a success forgets earlier failures.
    for _ in 0..2 {
        attempt(&server, "bob", "guess").await;
    }
    let (s, html, _) = attempt(&server, "bob", "bob-password").await;
    assert!(s == 303 || s == 200 && !html.contains(WRONG), "{s} {html}");
    for _ in 0..2 {
        assert!(attempt(&server, "bob", "guess").await.1.contains(WRONG));
    }
    let (s, _, _) = attempt(&server, "bob", "bob-password").await;
    assert_ne!(s, 429, "the counter restarted at the success");
    server.stop().await;
}
crate::both_backends!(per_account);

/// Many accounts guessed from one address: the address pauses too.
#[tokio::test]
async fn per_source_address() {
    let setup = crate::setup_or_skip!(Backend::Sqlite).with_toml(&config(100, 4));
    let server = setup.start().await.unwrap();
    for name in ["a1", "a2", "a3", "a4"] {
        assert!(attempt(&server, name, "guess").await.1.contains(WRONG));
    }
    let (s, html, _) = attempt(&server, "bob", "bob-password").await;
    assert_eq!(s, 429, "{html}");
    server.stop().await;
}
