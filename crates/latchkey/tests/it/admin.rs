//! Admin authentication (RFC 6750 §3 challenges): the admin key, or one of
//! our access tokens with the admin scope and our issuer as audience.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use latchkey_domain::access_token::{AccessTokenClaims, Audience};
use latchkey_domain::{SigningAlg, UnixTime};
use latchkey_server::access_tokens;
use latchkey_testkit::{Backend, Setup, TEST_ADMIN_KEY, TestServer};

fn claims(server: &TestServer, scope: &str, exp_in: i64) -> AccessTokenClaims {
    let now = UnixTime::now().0;
    AccessTokenClaims {
        iss: server.issuer().into(),
        sub: "client:ops".into(),
        aud: Audience::One(server.issuer().into()),
        exp: now + exp_in,
        iat: now - 1,
        nbf: None,
        jti: latchkey_crypto::random::id(),
        client_id: "ops".into(),
        scope: Some(scope.into()),
        sid: None,
        auth_time: None,
        acr: None,
        amr: None,
        act: None,
        may_act: None,
        extra: Default::default(),
    }
}

async fn get_keys(server: &TestServer, auth: Option<&str>) -> (u16, Option<String>, serde_json::Value) {
    let mut req = server.http.get(server.url("/admin/v1/keys"));
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let challenge = resp.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_string());
    (status, challenge, resp.json().await.unwrap())
}

async fn admin_authentication(backend: Backend) {
    let Some(setup) = Setup::new(backend).await.unwrap() else { return };
    let server = setup.start().await.unwrap();

    // No credentials: 401 with a challenge and no error code (RFC 6750 §3.1).
    let (status, challenge, _) = get_keys(&server, None).await;
    assert_eq!(status, 401);
    let challenge = challenge.unwrap();
    assert!(challenge.starts_with("Bearer realm="), "{challenge}");
    assert!(!challenge.contains("error="), "{challenge}");

    // The admin key.
    let (status, _, body) = get_keys(&server, Some(&format!("Bearer {TEST_ADMIN_KEY}"))).await;
    assert_eq!(status, 200);
    let keys = body["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    assert!(keys.iter().all(|k| k["state"] == "active" && k.get("private_key").is_none()));

    // A wrong key.
    let (status, challenge, body) = get_keys(&server, Some("Bearer not-the-admin-key")).await;
    assert_eq!(status, 401);
    assert!(challenge.unwrap().contains("error=\"invalid_token\""));
    assert_eq!(body["error"], "invalid_token");
    assert!(!body.to_string().contains("not-the-admin-key"), "never echo credentials");

    // An access token of ours with the admin scope.
    let token =
        access_tokens::mint(server.state(), SigningAlg::ES256, &claims(&server, "latchkey:admin", 300)).unwrap();
    let (status, _, _) = get_keys(&server, Some(&format!("Bearer {token}"))).await;
    assert_eq!(status, 200);
    // RS256-signed tokens verify too.
    let token =
        access_tokens::mint(server.state(), SigningAlg::RS256, &claims(&server, "latchkey:admin", 300)).unwrap();
    let (status, _, _) = get_keys(&server, Some(&format!("Bearer {token}"))).await;
    assert_eq!(status, 200);

    // Without the scope: 403 insufficient_scope naming the scope.
    let token = access_tokens::mint(server.state(), SigningAlg::ES256, &claims(&server, "orders:read", 300)).unwrap();
    let (status, challenge, body) = get_keys(&server, Some(&format!("Bearer {token}"))).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"], "insufficient_scope");
    assert!(challenge.unwrap().contains("scope=\"latchkey:admin\""));

    // Expired (beyond the leeway).
    let token =
        access_tokens::mint(server.state(), SigningAlg::ES256, &claims(&server, "latchkey:admin", -120)).unwrap();
    assert_eq!(get_keys(&server, Some(&format!("Bearer {token}"))).await.0, 401);

    // Another audience.
    let mut c = claims(&server, "latchkey:admin", 300);
    c.aud = Audience::One("https://api.example.com".into());
    let token = access_tokens::mint(server.state(), SigningAlg::ES256, &c).unwrap();
    assert_eq!(get_keys(&server, Some(&format!("Bearer {token}"))).await.0, 401);

    // Another issuer.
    let mut c = claims(&server, "latchkey:admin", 300);
    c.iss = "https://evil.example".into();
    let token = access_tokens::mint(server.state(), SigningAlg::ES256, &c).unwrap();
    assert_eq!(get_keys(&server, Some(&format!("Bearer {token}"))).await.0, 401);

    // alg=none forgery of a valid token.
    let c = claims(&server, "latchkey:admin", 300);
    let token = access_tokens::mint(server.state(), SigningAlg::ES256, &c).unwrap();
    let payload = token.split('.').nth(1).unwrap();
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"at+jwt"}"#);
    assert_eq!(get_keys(&server, Some(&format!("Bearer {header}.{payload}."))).await.0, 401);

    // Revoked by jti, as another node would: through the store.
    server.state().store.revoke_jti(&c.jti, UnixTime(c.exp), UnixTime::now()).await.unwrap();
    let auth = format!("Bearer {token}");
    latchkey_testkit::eventually("the revocation reaches the node", || async {
        get_keys(&server, Some(&auth)).await.0 == 401
    })
    .await
    .unwrap();

    // Every refusal is a security event.
    let events = server.events.take();
    assert!(events.iter().filter(|e| e.name() == "admin.access_denied").count() >= 6, "{events:?}");
    server.stop().await;
}
crate::both_backends!(admin_authentication);

/// Off loopback, /metrics needs admin credentials.
#[tokio::test]
async fn metrics_need_admin_auth_off_loopback() {
    let setup = Setup::new(Backend::Sqlite).await.unwrap().unwrap();
    let mut config = setup.config().unwrap();
    // Bind all interfaces with an https issuer; tests still talk to 127.0.0.1.
    config.listen = "0.0.0.0:0".parse().unwrap();
    config.issuer = Some("https://auth.example.test".into());
    config.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
    let server = TestServer::start_with(config).await.unwrap();
    let port = server.base_url.rsplit(':').next().unwrap().to_string();
    let url = format!("http://127.0.0.1:{port}/metrics");
    assert_eq!(server.http.get(&url).send().await.unwrap().status(), 401);
    let resp = server.http.get(&url).bearer_auth(TEST_ADMIN_KEY).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().contains("latchkey_http_requests_total"));
    // The separate metrics address is for a private network: no auth.
    let metrics = format!("{}/metrics", server.metrics_url.clone().unwrap());
    assert_eq!(server.http.get(&metrics).send().await.unwrap().status(), 200);
    server.stop().await;
}
