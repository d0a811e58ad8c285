//! Session administration: list a user's sessions and grants, end one
//! session or all, revoke a grant, list and withdraw consents.

use latchkey_testkit::browser::Browser;
use latchkey_testkit::{Backend, TEST_ADMIN_KEY, TestServer};
use serde_json::Value;

use crate::sign_in::{WEB_REDIRECT, WEB_SECRET, auth_url, token_request};

async fn admin(server: &TestServer, method: reqwest::Method, path: &str) -> (u16, Value) {
    let resp = server
        .http
        .request(method, server.url(path))
        .header("authorization", format!("Bearer {TEST_ADMIN_KEY}"))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or_default())
}

async fn sign_in(server: &TestServer) -> Value {
    let url = auth_url(
        server,
        &[
            ("response_type", "code"),
            ("client_id", "web"),
            ("redirect_uri", WEB_REDIRECT),
            ("scope", "openid offline_access"),
        ],
    );
    let q = Browser::new().authorize_to_redirect(&url, "alice", "alice-password").await.unwrap();
    let (s, t, _) = token_request(
        server,
        Some(("web", WEB_SECRET)),
        &[("grant_type", "authorization_code"), ("code", &q["code"]), ("redirect_uri", WEB_REDIRECT)],
    )
    .await;
    assert_eq!(s, 200, "{t}");
    t
}

async fn refresh_status(server: &TestServer, t: &Value) -> u16 {
    token_request(
        server,
        Some(("web", WEB_SECRET)),
        &[("grant_type", "refresh_token"), ("refresh_token", t["refresh_token"].as_str().unwrap())],
    )
    .await
    .0
}

fn sub(t: &Value) -> String {
    let (_, payload, _) = latchkey_crypto::jws::decode_unverified(t["id_token"].as_str().unwrap()).unwrap();
    serde_json::from_slice::<Value>(&payload).unwrap()["sub"].as_str().unwrap().to_string()
}

async fn session_administration(backend: Backend) {
    let setup = crate::setup_or_skip!(backend).with_toml(&crate::sign_in::config());
    let server = setup.start().await.unwrap();
    let (t1, t2, t3) = (sign_in(&server).await, sign_in(&server).await, sign_in(&server).await);
    let user = sub(&t1);
    use reqwest::Method;

    let (s, listed) = admin(&server, Method::GET, &format!("/admin/v1/users/{user}/sessions")).await;
    assert_eq!(s, 200);
    assert_eq!(listed["sessions"].as_array().unwrap().len(), 3);
    assert_eq!(listed["grants"].as_array().unwrap().len(), 3);
    let first = &listed["sessions"][0];
    assert!(first["source_ip"].is_string() && first["acr"].is_string() && first["created_at"].is_i64(), "{first}");
    // Unauthenticated callers get nothing.
    let resp = server.http.get(server.url(&format!("/admin/v1/users/{user}/sessions"))).send().await.unwrap();
    assert_eq!(resp.status(), 401);

    // One session: its refresh token dies, the others live.
    let sid = |t: &Value| {
        let (_, p, _) = latchkey_crypto::jws::decode_unverified(t["id_token"].as_str().unwrap()).unwrap();
        serde_json::from_slice::<Value>(&p).unwrap()["sid"].as_str().unwrap().to_string()
    };
    assert_eq!(admin(&server, Method::DELETE, &format!("/admin/v1/sessions/{}", sid(&t1))).await.0, 204);
    assert_eq!(refresh_status(&server, &t1).await, 400);
    assert_eq!(crate::sign_in::userinfo_status(&server, t1["access_token"].as_str().unwrap()).await, 401);
    assert_eq!(
        admin(&server, Method::DELETE, &format!("/admin/v1/sessions/{}", sid(&t1))).await.0,
        404,
        "already ended"
    );

    // One grant.
    let (_, listed) = admin(&server, Method::GET, &format!("/admin/v1/users/{user}/sessions")).await;
    let grant_of_t2 =
        listed["grants"].as_array().unwrap().iter().find(|g| g["sid"] == sid(&t2).as_str()).unwrap()["grant_id"]
            .as_str()
            .unwrap()
            .to_string();
    assert_eq!(admin(&server, Method::DELETE, &format!("/admin/v1/grants/{grant_of_t2}")).await.0, 204);
    assert_eq!(refresh_status(&server, &t2).await, 400);
    assert_eq!(crate::sign_in::userinfo_status(&server, t2["access_token"].as_str().unwrap()).await, 401);

    // Consents: listed, and withdrawing one revokes the client's grants.
    let (_, consents) = admin(&server, Method::GET, &format!("/admin/v1/users/{user}/consents")).await;
    assert_eq!(consents["consents"][0]["client_id"], "web");
    assert_eq!(admin(&server, Method::DELETE, &format!("/admin/v1/users/{user}/consents/web")).await.0, 204);
    assert_eq!(refresh_status(&server, &t3).await, 400);
    assert_eq!(admin(&server, Method::DELETE, &format!("/admin/v1/users/{user}/consents/web")).await.0, 404);

    // All sessions at once.
    let t4 = sign_in(&server).await;
    let (s, ended) = admin(&server, Method::DELETE, &format!("/admin/v1/users/{user}/sessions")).await;
    assert_eq!((s, ended["ended"].as_u64()), (200, Some(3)), "t2's (only its grant was revoked), t3's and t4's");
    assert_eq!(crate::sign_in::userinfo_status(&server, t4["access_token"].as_str().unwrap()).await, 401);
    assert_eq!(admin(&server, Method::GET, "/admin/v1/users/nobody/sessions").await.0, 404);
    let names: Vec<&str> = server.events.take().iter().map(|e| e.name()).collect();
    for n in ["session.ended", "grant.revoked", "consent.revoked"] {
        assert!(names.contains(&n), "{n}: {names:?}");
    }
    server.stop().await;
}
crate::both_backends!(session_administration);
