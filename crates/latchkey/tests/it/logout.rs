//! RP-Initiated Logout 1.0 and Back-Channel Logout 1.0, driven like a
//! browser and a relying party would.

use latchkey_testkit::browser::{Browser, hidden_input};
use latchkey_testkit::receiver::Receiver;
use latchkey_testkit::{Backend, TestServer, eventually};
use serde_json::Value;

use crate::sign_in::{WEB_REDIRECT, WEB_SECRET, auth_url, token_request};

const BYE: &str = "https://app.example.test/bye";

fn config(backchannel: &str, keep_offline: bool) -> String {
    format!(
        r#"{base}
[outbound]
allow_loopback = true

[sessions]
logout_keeps_offline_grants = {keep_offline}

[[clients]]
id = "rp"
name = "Relying Party"
type = "confidential"
secret = "{WEB_SECRET}"
redirect_uris = ["{WEB_REDIRECT}"]
post_logout_redirect_uris = ["{BYE}"]
scopes = ["openid", "offline_access"]
backchannel_logout_uri = "{backchannel}"

[[clients]]
id = "rp2"
type = "confidential"
secret = "{WEB_SECRET}"
redirect_uris = ["{WEB_REDIRECT}"]
scopes = ["openid"]
"#,
        base = crate::sign_in::config()
    )
}

/// Alice signs in (or is already signed in) with `browser` for `client`.
async fn sign_in(server: &TestServer, browser: &Browser, client: &str, scope: &str) -> Value {
    let url = auth_url(
        server,
        &[("response_type", "code"), ("client_id", client), ("redirect_uri", WEB_REDIRECT), ("scope", scope)],
    );
    let q = browser.authorize_to_redirect(&url, "alice", "alice-password").await.unwrap();
    let (s, t, _) = token_request(
        server,
        Some((client, WEB_SECRET)),
        &[("grant_type", "authorization_code"), ("code", &q["code"]), ("redirect_uri", WEB_REDIRECT)],
    )
    .await;
    assert_eq!(s, 200, "{t}");
    t
}

async fn active(server: &TestServer, client: &str, token: &str) -> bool {
    let resp = server
        .http
        .post(server.url("/introspect"))
        .basic_auth(client, Some(WEB_SECRET))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    resp.json::<Value>().await.unwrap()["active"] == true
}

fn logout_url(server: &TestServer, params: &[(&str, &str)]) -> String {
    let mut url = url::Url::parse(&server.url("/logout")).unwrap();
    url.query_pairs_mut().extend_pairs(params);
    url.to_string()
}

fn claims(token: &str) -> Value {
    serde_json::from_slice(&latchkey_crypto::jws::decode_unverified(token).unwrap().1).unwrap()
}

async fn rp_initiated_logout(backend: Backend) {
    let receiver = Receiver::start("/backchannel-logout").await.unwrap();
    let setup = crate::setup_or_skip!(backend).with_toml(&config(&receiver.url, false));
    let server = setup.start().await.unwrap();
    let browser = Browser::new();
    let t1 = sign_in(&server, &browser, "rp", "openid offline_access").await;
    let t2 = sign_in(&server, &browser, "rp2", "openid").await;
    let sid = claims(t1["id_token"].as_str().unwrap())["sid"].as_str().unwrap().to_string();
    assert_eq!(claims(t2["id_token"].as_str().unwrap())["sid"], sid.as_str(), "one session, two clients");

    // Without an id_token_hint naming this session: the user confirms.
    let url = logout_url(&server, &[("client_id", "rp"), ("post_logout_redirect_uri", BYE), ("state", "xyz")]);
    let resp = browser.get(&url).await.unwrap();
    assert_eq!(resp.status(), 200);
    let html = resp.text().await.unwrap();
    assert!(html.contains("Sign out?") && html.contains("Relying Party"), "{html}");
    assert!(active(&server, "rp", t1["access_token"].as_str().unwrap()).await, "nothing ended yet");
    // A forged confirmation (a wrong CSRF value) only shows the page again.
    let resp = browser
        .post_form(&server.url("/logout"), &[("confirm", "yes"), ("client_id", "rp"), ("csrf", "forged")])
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(active(&server, "rp", t1["access_token"].as_str().unwrap()).await);
    let html = resp.text().await.unwrap();
    let csrf = hidden_input(&html, "csrf").unwrap();
    let resp = browser
        .post_form(
            &server.url("/logout"),
            &[
                ("confirm", "yes"),
                ("csrf", &csrf),
                ("client_id", "rp"),
                ("post_logout_redirect_uri", BYE),
                ("state", "xyz"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], format!("{BYE}?state=xyz"));
    assert!(browser.cookie("latchkey_session").is_none(), "the session cookie is cleared");

    // The session's tokens and grants are gone.
    assert!(!active(&server, "rp", t1["access_token"].as_str().unwrap()).await);
    assert!(!active(&server, "rp2", t2["access_token"].as_str().unwrap()).await);
    let (s, b, _) = token_request(
        &server,
        Some(("rp", WEB_SECRET)),
        &[("grant_type", "refresh_token"), ("refresh_token", t1["refresh_token"].as_str().unwrap())],
    )
    .await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_grant")), "the refresh token died with the session");

    // rp was told over the back channel, with a valid logout token.
    eventually("the logout token arrives", || async { !receiver.bodies().is_empty() }).await.unwrap();
    let body = receiver.bodies()[0].clone();
    let token: String = url::form_urlencoded::parse(body.as_bytes())
        .find(|(k, _)| k == "logout_token")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let jwks = server.http.get(server.url("/jwks")).send().await.unwrap().text().await.unwrap();
    let keys = latchkey_crypto::jwk::parse_public_jwks(&jwks).unwrap();
    let header = latchkey_crypto::jws::decode_unverified(&token).unwrap().0;
    let key = keys.iter().find(|k| Some(&k.kid) == header.kid.as_ref() && k.alg.as_str() == header.alg).unwrap();
    latchkey_crypto::jws::verify(&token, |_| Some(key)).unwrap();
    assert_eq!(header.typ.as_deref(), Some("logout+jwt"));
    let c = claims(&token);
    assert_eq!((c["iss"].as_str(), c["aud"].as_str()), (Some(server.issuer()), Some("rp")));
    assert_eq!(c["sid"], sid.as_str());
    assert_eq!(c["sub"], claims(t1["id_token"].as_str().unwrap())["sub"]);
    assert!(c["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
    assert!(c.get("nonce").is_none() && c["jti"].is_string() && c["exp"].as_i64() > c["iat"].as_i64());
    assert_eq!(receiver.bodies().len(), 1, "rp2 registered no back channel");
    assert!(server.events.take().iter().any(|e| e.name() == "session.ended"));

    // A new session; an expired id_token_hint naming it logs out at once,
    // but an unregistered return address keeps the user here.
    let t3 = sign_in(&server, &browser, "rp", "openid").await;
    let mut expired = claims(t3["id_token"].as_str().unwrap());
    let now = latchkey_domain::UnixTime::now().0;
    (expired["iat"], expired["exp"]) = (now.into(), (now - 3600).into());
    let hint = {
        let keys = server.state().keys.snapshot();
        let signer = keys.signer(latchkey_domain::SigningAlg::RS256, latchkey_domain::UnixTime::now()).unwrap();
        latchkey_crypto::jws::sign(&signer.signer, "JWT", &expired).unwrap()
    };
    let url = logout_url(
        &server,
        &[("id_token_hint", &hint), ("post_logout_redirect_uri", "https://evil.example/"), ("state", "s")],
    );
    let resp = browser.get(&url).await.unwrap();
    assert_eq!(resp.status(), 200, "never redirected to an unregistered address");
    assert!(resp.headers().get("location").is_none());
    assert!(resp.text().await.unwrap().contains("not registered"));
    assert!(!active(&server, "rp", t3["access_token"].as_str().unwrap()).await, "logged out without asking");

    // A hint we did not sign, or one for another client than client_id.
    let mut forged = hint.clone();
    forged.truncate(forged.len() - 4);
    forged.push_str("AAAA");
    let resp = browser.get(&logout_url(&server, &[("id_token_hint", &forged)])).await.unwrap();
    assert_eq!(resp.status(), 400);
    let resp = browser.get(&logout_url(&server, &[("id_token_hint", &hint), ("client_id", "rp2")])).await.unwrap();
    assert_eq!(resp.status(), 400);

    // No session at all: a registered address of an identified client is
    // followed (there is nothing to end), with state.
    let resp = Browser::new()
        .get(&logout_url(&server, &[("client_id", "rp"), ("post_logout_redirect_uri", BYE), ("state", "z")]))
        .await
        .unwrap();
    assert_eq!(
        (resp.status().as_u16(), resp.headers()["location"].to_str().unwrap()),
        (303, &*format!("{BYE}?state=z"))
    );
    server.stop().await;
}
crate::both_backends!(rp_initiated_logout);

/// With `logout_keeps_offline_grants`, offline access survives logout, and
/// tokens refreshed from it no longer name the ended session.
#[tokio::test]
async fn offline_grants_can_outlive_logout() {
    let receiver = Receiver::start("/backchannel-logout").await.unwrap();
    let setup = crate::setup_or_skip!(Backend::Sqlite).with_toml(&config(&receiver.url, true));
    let server = setup.start().await.unwrap();
    let browser = Browser::new();
    let t = sign_in(&server, &browser, "rp", "openid offline_access").await;
    let resp = browser.get(&logout_url(&server, &[("id_token_hint", t["id_token"].as_str().unwrap())])).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(!active(&server, "rp", t["access_token"].as_str().unwrap()).await, "the session's access token ends");
    let (s, r, _) = token_request(
        &server,
        Some(("rp", WEB_SECRET)),
        &[("grant_type", "refresh_token"), ("refresh_token", t["refresh_token"].as_str().unwrap())],
    )
    .await;
    assert_eq!(s, 200, "{r}");
    assert!(claims(r["access_token"].as_str().unwrap()).get("sid").is_none());
    assert!(active(&server, "rp", r["access_token"].as_str().unwrap()).await);
    server.stop().await;
}
