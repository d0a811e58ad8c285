//! Self-service sign-up: off by default; when on, a CSRF-protected,
//! throttled form that creates an unverified account and signs it in.

use latchkey_testkit::browser::{Browser, hidden_input};
use latchkey_testkit::{Backend, TestServer};

use crate::sign_in::{WEB_REDIRECT, WEB_SECRET, auth_url, token_request};

fn config(enabled: bool) -> String {
    format!(
        "{}\n[signup]\nenabled = {enabled}\n\n[login]\nfree_failures_per_address = 3\nbase_delay = \"1h\"\n",
        crate::sign_in::config()
    )
}

/// Starts an authorization for the first-party client; the login page URL.
async fn login_page(server: &TestServer, browser: &Browser) -> String {
    let url = auth_url(
        server,
        &[("response_type", "code"), ("client_id", "first"), ("redirect_uri", WEB_REDIRECT), ("scope", "openid email")],
    );
    browser.get(&url).await.unwrap().headers()["location"].to_str().unwrap().to_string()
}

async fn sign_up(browser: &Browser, signup_url: &str, username: &str, password: &str) -> reqwest::Response {
    let html = browser.get(signup_url).await.unwrap().text().await.unwrap();
    let (tx, csrf) = (hidden_input(&html, "tx").unwrap(), hidden_input(&html, "csrf").unwrap());
    let post = signup_url.split('?').next().unwrap().to_string();
    browser
        .post_form(
            &post,
            &[
                ("tx", &tx),
                ("csrf", &csrf),
                ("username", username),
                ("email", "carol@example.com"),
                ("password", password),
            ],
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn sign_up_is_off_by_default() {
    let setup = crate::setup_or_skip!(Backend::Sqlite).with_toml(&config(false));
    let server = setup.start().await.unwrap();
    let browser = Browser::new();
    let login = login_page(&server, &browser).await;
    let html = browser.get(&login).await.unwrap().text().await.unwrap();
    assert!(!html.contains("Create an account"));
    let signup = login.replace("/login?", "/signup?");
    assert_eq!(browser.get(&signup).await.unwrap().status(), 404);
    server.stop().await;
}

async fn self_service_sign_up(backend: Backend) {
    let setup = crate::setup_or_skip!(backend).with_toml(&config(true));
    let server = setup.start().await.unwrap();
    let browser = Browser::new();
    let login = login_page(&server, &browser).await;
    let html = browser.get(&login).await.unwrap().text().await.unwrap();
    assert!(html.contains("Create an account"), "{html}");
    let signup = login.replace("/login?", "/signup?");

    let html = sign_up(&browser, &signup, "carol", "short").await.text().await.unwrap();
    assert!(html.contains("at least 8 characters"), "{html}");
    let html = sign_up(&browser, &signup, "ALICE", "a long passphrase").await.text().await.unwrap();
    assert!(html.contains("taken"), "usernames are unique ignoring case: {html}");
    // A forged form (no CSRF cookie match) is refused.
    let tx = login.split("tx=").nth(1).unwrap().to_string();
    let resp = Browser::new()
        .post_form(
            signup.split('?').next().unwrap(),
            &[("tx", &tx), ("csrf", "x"), ("username", "eve"), ("password", "a long passphrase")],
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);

    let resp = sign_up(&browser, &signup, "carol", "a long passphrase").await;
    assert_eq!(resp.status(), 303);
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    let q: std::collections::HashMap<String, String> =
        url::Url::parse(&location).unwrap().query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let (s, t, _) = token_request(
        &server,
        Some(("first", WEB_SECRET)),
        &[("grant_type", "authorization_code"), ("code", &q["code"]), ("redirect_uri", WEB_REDIRECT)],
    )
    .await;
    assert_eq!(s, 200, "{t}");
    let info: serde_json::Value = server
        .http
        .get(server.url("/userinfo"))
        .bearer_auth(t["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!((info["email"].as_str(), info["email_verified"].as_bool()), (Some("carol@example.com"), Some(false)));
    let user = server.state().store.get_user_by_username("carol").await.unwrap().unwrap();
    assert_eq!(user.origin.as_str(), "signup");
    // And carol can sign in with her password.
    let q = Browser::new()
        .authorize_to_redirect(
            &auth_url(
                &server,
                &[
                    ("response_type", "code"),
                    ("client_id", "first"),
                    ("redirect_uri", WEB_REDIRECT),
                    ("scope", "openid"),
                ],
            ),
            "carol",
            "a long passphrase",
        )
        .await
        .unwrap();
    assert!(q.contains_key("code"));

    // A request that needs a second factor cannot be met by a new account.
    let browser = Browser::new();
    let url = auth_url(
        &server,
        &[
            ("response_type", "code"),
            ("client_id", "first"),
            ("redirect_uri", WEB_REDIRECT),
            ("scope", "openid"),
            ("acr_values", "urn:latchkey:acr:mfa"),
        ],
    );
    let login = browser.get(&url).await.unwrap().headers()["location"].to_str().unwrap().to_string();
    let resp = sign_up(&browser, &login.replace("/login?", "/signup?"), "erin", "a long passphrase").await;
    assert!(resp.headers()["location"].to_str().unwrap().contains("error=unmet_authentication_requirements"));
    assert!(server.state().store.get_user_by_username("erin").await.unwrap().is_none());

    // Throttled per address: three attempts were made from here.
    let browser = Browser::new();
    let signup = login_page(&server, &browser).await.replace("/login?", "/signup?");
    let resp = sign_up(&browser, &signup, "dave", "a long passphrase").await;
    assert_eq!(resp.status(), 429);
    assert!(resp.headers().contains_key("retry-after"));
    server.stop().await;
}
crate::both_backends!(self_service_sign_up);
