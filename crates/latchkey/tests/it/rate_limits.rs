//! Rate limits: per client at the token endpoint (counted only once the
//! client authenticated), per source address at the token, login and
//! authorization endpoints; 429 with `Retry-After` in the RFC error shape.

use latchkey_testkit::Backend;

use crate::sign_in::{WEB_SECRET, token_request};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_answer_429_with_retry_after() {
    let toml = format!(
        "{}\n[rate_limits]\ntoken_per_client = 3\ntoken_per_address = 7\nlogin_per_address = 2\nauthorize_per_address = 0\n",
        crate::sign_in::config()
    );
    let setup = crate::setup_or_skip!(Backend::Sqlite).with_toml(&toml);
    let server = setup.start().await.unwrap();
    let cc = |client: &'static str| {
        let server = &server;
        async move { token_request(server, Some((client, WEB_SECRET)), &[("grant_type", "client_credentials")]).await }
    };

    for _ in 0..3 {
        assert_eq!(cc("service").await.0, 200);
    }
    let (s, body, headers) = cc("service").await;
    assert_eq!(s, 429, "{body}");
    assert_eq!(body["error"], "temporarily_unavailable");
    let wait: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait));
    // Another client has its own budget; a wrong secret does not spend the
    // victim's (it is not counted per client before authentication).
    assert_eq!(cc("orders-api").await.0, 200);
    let (s, _, _) =
        token_request(&server, Some(("orders-api", "wrong")), &[("grant_type", "client_credentials")]).await;
    assert_eq!(s, 401);
    assert_eq!(cc("orders-api").await.0, 200);
    // The address's budget (7, every request counted) is spent whatever the client.
    assert_eq!(cc("orders-api").await.0, 429);

    // Login posts per address.
    let post = || async {
        server.http.post(server.url("/login")).form(&[("username", "x"), ("password", "y")]).send().await.unwrap()
    };
    assert_ne!(post().await.status(), 429);
    assert_ne!(post().await.status(), 429);
    let resp = post().await;
    assert_eq!(resp.status(), 429);
    assert!(resp.headers().contains_key("retry-after"));
    // The authorization endpoint's limit is off here (0).
    for _ in 0..5 {
        assert_ne!(server.http.get(server.url("/authorize")).send().await.unwrap().status(), 429);
    }

    let metrics = server.http.get(server.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("latchkey_rate_limited_total{limit=\"token_per_client\"} 1"), "{metrics}");
    assert!(metrics.contains("latchkey_rate_limited_total{limit=\"login_per_address\"} 1"));
    server.stop().await;
}
