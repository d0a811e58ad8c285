//! TOTP second factor: enrolment with a fresh password, codes accepted
//! once, step-up through `acr_values`, and `unmet_authentication_requirements`.

use latchkey_testkit::browser::{Browser, hidden_input};
use latchkey_testkit::{Backend, TestServer};
use serde_json::Value;

use crate::sign_in::{WEB_REDIRECT, WEB_SECRET, auth_url, token_request};

const MFA: &str = "urn:latchkey:acr:mfa";

fn config() -> String {
    format!("{}\n[[users]]\nusername = \"bob\"\npassword = \"bob-password\"\n", crate::sign_in::config())
}

fn authorize(server: &TestServer, extra: &[(&str, &str)]) -> String {
    let mut params =
        vec![("response_type", "code"), ("client_id", "web"), ("redirect_uri", WEB_REDIRECT), ("scope", "openid")];
    params.extend_from_slice(extra);
    auth_url(server, &params)
}

fn location(resp: &reqwest::Response) -> String {
    resp.headers()["location"].to_str().unwrap().to_string()
}

fn query(url: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(url).unwrap().query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

async fn redeem(server: &TestServer, code: &str) -> Value {
    let (s, t, _) = token_request(
        server,
        Some(("web", WEB_SECRET)),
        &[("grant_type", "authorization_code"), ("code", code), ("redirect_uri", WEB_REDIRECT)],
    )
    .await;
    assert_eq!(s, 200, "{t}");
    t
}

fn claims(token: &str) -> Value {
    serde_json::from_slice(&latchkey_crypto::jws::decode_unverified(token).unwrap().1).unwrap()
}

/// Posts a code on the OTP page at `otp_url`; the response.
async fn submit_code(browser: &Browser, otp_url: &str, code: &str) -> reqwest::Response {
    let html = browser.get(otp_url).await.unwrap().text().await.unwrap();
    let (tx, csrf) = (hidden_input(&html, "tx").unwrap(), hidden_input(&html, "csrf").unwrap());
    let post = otp_url.split('?').next().unwrap().to_string();
    browser.post_form(&post, &[("tx", &tx), ("csrf", &csrf), ("code", code)]).await.unwrap()
}

async fn totp_enrolment_and_step_up(backend: Backend) {
    let setup = crate::setup_or_skip!(backend).with_toml(&config());
    let server = setup.start().await.unwrap();
    let browser = Browser::new();

    // A password session first.
    let q = browser.authorize_to_redirect(&authorize(&server, &[]), "alice", "alice-password").await.unwrap();
    let t0 = redeem(&server, &q["code"]).await;
    assert_eq!(claims(t0["id_token"].as_str().unwrap())["acr"], "urn:latchkey:acr:pwd");

    // Enrolment needs a session, then the password again.
    let enrol = server.url("/account/totp");
    assert_eq!(Browser::new().get(&enrol).await.unwrap().status(), 401);
    let html = browser.get(&enrol).await.unwrap().text().await.unwrap();
    let csrf = hidden_input(&html, "csrf").unwrap();
    let html = browser
        .post_form(&enrol, &[("csrf", &csrf), ("step", "password"), ("password", "wrong")])
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Confirm your password"), "a wrong password shows the form again");
    let (secret, now) = enrol_totp(&server, &browser, "alice-password").await;
    let code = latchkey_crypto::totp::code_at(&secret, now);
    // Stored sealed: the database never holds the secret in the clear.
    let stored = server
        .state()
        .store
        .get_totp(claims(t0["id_token"].as_str().unwrap())["sub"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(!stored.sealed_secret.windows(secret.len()).any(|w| w == secret.as_slice()));

    // Step-up: the client asks for MFA; the password session is not enough.
    let resp = browser.get(&authorize(&server, &[("acr_values", MFA), ("state", "up")])).await.unwrap();
    assert_eq!(resp.status(), 303);
    let otp_url = location(&resp);
    assert!(otp_url.contains("/login/otp?tx="), "{otp_url}");
    // The code already used at enrolment is refused: each code works once.
    let html = submit_code(&browser, &otp_url, &code).await.text().await.unwrap();
    assert!(html.contains("already used"), "{html}");
    let next = latchkey_crypto::totp::code_at(&secret, now + 30);
    let resp = submit_code(&browser, &otp_url, &next).await;
    assert_eq!(resp.status(), 303);
    let q = query(&location(&resp));
    assert_eq!(q["state"], "up");
    let t1 = redeem(&server, &q["code"]).await;
    let c1 = claims(t1["id_token"].as_str().unwrap());
    assert_eq!(c1["acr"], MFA);
    assert_eq!(c1["amr"], serde_json::json!(["pwd", "otp", "mfa"]));
    assert_ne!(c1["sid"], claims(t0["id_token"].as_str().unwrap())["sid"], "a new session id at step-up");
    assert_eq!(
        crate::sign_in::userinfo_status(&server, t0["access_token"].as_str().unwrap()).await,
        401,
        "the old session ended"
    );

    // An enrolled user always gives the second factor, and a code cannot
    // be replayed on another login.
    let other = Browser::new();
    let resp = other.authorize(&authorize(&server, &[]), "alice", "alice-password").await.unwrap();
    assert_eq!(resp.status(), 303);
    let otp_url = location(&resp);
    assert!(otp_url.contains("/login/otp?tx="), "a password alone gives no session: {otp_url}");
    let html = submit_code(&other, &otp_url, &next).await.text().await.unwrap();
    assert!(html.contains("already used"), "{html}");
    let html = submit_code(&other, &otp_url, "000000").await.text().await.unwrap();
    assert!(html.contains("not right") || html.contains("already used"), "{html}");

    // An administrator resets the second factor (a lost phone): the user's
    // sessions end, and the password alone signs in again.
    let user = claims(t0["id_token"].as_str().unwrap())["sub"].as_str().unwrap().to_string();
    let reset = |path: String| {
        server
            .http
            .delete(server.url(&path))
            .header("authorization", format!("Bearer {}", latchkey_testkit::TEST_ADMIN_KEY))
            .send()
    };
    assert_eq!(reset(format!("/admin/v1/users/{user}/totp")).await.unwrap().status(), 204);
    assert_eq!(reset(format!("/admin/v1/users/{user}/totp")).await.unwrap().status(), 404);
    assert_eq!(crate::sign_in::userinfo_status(&server, t1["access_token"].as_str().unwrap()).await, 401);
    let q = Browser::new().authorize_to_redirect(&authorize(&server, &[]), "alice", "alice-password").await.unwrap();
    assert!(q.contains_key("code"), "{q:?}");

    // The audit log tells the story, the administrator as the reset's actor.
    let wanted = ["mfa.enrolled", "mfa.failed", "mfa.verified", "user.second_factor_reset"];
    latchkey_testkit::eventually("the second-factor events are written", || async {
        let seen = crate::audit::audit(&server, &format!("subject={user}")).await;
        wanted.iter().all(|w| seen.iter().any(|e| e["type"] == *w))
    })
    .await
    .unwrap();
    let events = crate::audit::audit(&server, &format!("subject={user}")).await;
    assert!(events.iter().filter(|e| e["type"] == "mfa.failed").count() >= 3, "replays and a wrong code");
    let reset = events.iter().find(|e| e["type"] == "user.second_factor_reset").unwrap();
    assert_eq!(reset["actor"], "admin-key");
    server.stop().await;
}
crate::both_backends!(totp_enrolment_and_step_up);

/// `acr_values` that cannot be met end at the client with
/// `unmet_authentication_requirements`.
#[tokio::test]
async fn unmet_authentication_requirements() {
    let setup = crate::setup_or_skip!(Backend::Sqlite).with_toml(&config());
    let server = setup.start().await.unwrap();
    // An acr we do not know.
    let resp = Browser::new().get(&authorize(&server, &[("acr_values", "urn:example:loa:4")])).await.unwrap();
    assert_eq!(query(&location(&resp))["error"], "unmet_authentication_requirements");
    // MFA for a user without a second factor.
    let q = Browser::new()
        .authorize_to_redirect(&authorize(&server, &[("acr_values", MFA), ("state", "s")]), "bob", "bob-password")
        .await
        .unwrap();
    assert_eq!((q["error"].as_str(), q["state"].as_str()), ("unmet_authentication_requirements", "s"));
    server.stop().await;
}

/// Enrols TOTP for the user signed in on `browser` (happy path: password,
/// then the current code); returns the secret and the step already used.
pub async fn enrol_totp(server: &TestServer, browser: &Browser, password: &str) -> (Vec<u8>, i64) {
    let enrol = server.url("/account/totp");
    let html = browser.get(&enrol).await.unwrap().text().await.unwrap();
    let csrf = hidden_input(&html, "csrf").unwrap();
    let html = browser
        .post_form(&enrol, &[("csrf", &csrf), ("step", "password"), ("password", password)])
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let secret_b32 = html.split("<code id=\"secret\">").nth(1).unwrap().split('<').next().unwrap().to_string();
    assert!(html.contains("otpauth://totp/"), "{html}");
    let secret = latchkey_crypto::totp::base32_decode(&secret_b32).unwrap();
    let now = latchkey_domain::UnixTime::now().0;
    let csrf = hidden_input(&html, "csrf").unwrap();
    let code = latchkey_crypto::totp::code_at(&secret, now);
    let html = browser
        .post_form(&enrol, &[("csrf", &csrf), ("step", "confirm"), ("code", &code)])
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Two-step verification is on"), "{html}");
    (secret, now)
}

/// Completes a step-up: the authorization request at `auth_url` leads to
/// the one-time-code page, where the next code is given; the redirect's
/// query parameters.
pub async fn step_up(
    browser: &Browser,
    auth_url: &str,
    secret: &[u8],
    used_at: i64,
) -> std::collections::HashMap<String, String> {
    let resp = browser.get(auth_url).await.unwrap();
    assert_eq!(resp.status(), 303);
    let otp_url = location(&resp);
    assert!(otp_url.contains("/login/otp?tx="), "{otp_url}");
    let next = latchkey_crypto::totp::code_at(secret, used_at + 30);
    let resp = submit_code(browser, &otp_url, &next).await;
    assert_eq!(resp.status(), 303);
    let mut loc = location(&resp);
    // A client that is not first-party shows consent before the redirect.
    if loc.contains("/consent") {
        let html = browser.get(&loc).await.unwrap().text().await.unwrap();
        let form: Vec<(String, String)> = ["tx", "csrf"]
            .iter()
            .filter_map(|n| hidden_input(&html, n).map(|v| (n.to_string(), v)))
            .chain([("decision".to_string(), "approve".to_string())])
            .collect();
        let pairs: Vec<(&str, &str)> = form.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let post = loc.split('?').next().unwrap().to_string();
        let resp = browser.post_form(&post, &pairs).await.unwrap();
        loc = location(&resp);
    }
    query(&loc)
}
