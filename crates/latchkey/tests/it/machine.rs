//! Machine-to-machine: client credentials (RFC 6749 §4.4) and revocation
//! (RFC 7009), against a real server.

use latchkey_testkit::{Backend, TestServer};

use crate::sign_in::{WEB_SECRET, refresh, start, token_request, tokens_for, userinfo_status};

fn claims(token: &str) -> serde_json::Value {
    let (_, payload, _) = latchkey_crypto::jws::decode_unverified(token).unwrap();
    serde_json::from_slice(&payload).unwrap()
}

async fn client_credentials(server: &TestServer, client: &str, extra: &[(&str, &str)]) -> (u16, serde_json::Value) {
    let mut form = vec![("grant_type", "client_credentials")];
    form.extend_from_slice(extra);
    let (s, b, _) = token_request(server, Some((client, WEB_SECRET)), &form).await;
    (s, b)
}

async fn client_credentials_grant(backend: Backend) {
    let Some((_setup, server)) = start(backend).await else { return };
    // Default scope: what the client may request, less user scopes.
    let (s, t) = client_credentials(&server, "service", &[]).await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(t["scope"], "orders:read orders:write");
    assert!(t.get("refresh_token").is_none() && t.get("id_token").is_none(), "RFC 6749 §4.4.3");
    let c = claims(t["access_token"].as_str().unwrap());
    assert_eq!(c["sub"], "client:service", "client subjects live in their own id space");
    assert_eq!(c["client_id"], "service");
    assert_eq!(c["aud"], server.issuer());
    assert!(c.get("sid").is_none() && c.get("auth_time").is_none());
    // It names no user and cannot carry openid: userinfo refuses it.
    assert_eq!(userinfo_status(&server, t["access_token"].as_str().unwrap()).await, 403);

    // A resource selects the audience, with the resource's lifetime.
    let (s, t) = client_credentials(
        &server,
        "service",
        &[("scope", "orders:read"), ("resource", "https://orders.example.test")],
    )
    .await;
    assert_eq!(s, 200, "{t}");
    let c = claims(t["access_token"].as_str().unwrap());
    assert_eq!((c["aud"].as_str(), c["scope"].as_str()), (Some("https://orders.example.test"), Some("orders:read")));
    assert_eq!(t["expires_in"], 120);

    for (extra, code) in [
        (vec![("scope", "orders:delete")], "invalid_scope"),
        (vec![("scope", "openid")], "invalid_scope"),
        (vec![("resource", "https://other.example.test")], "invalid_target"),
    ] {
        let (s, b) = client_credentials(&server, "service", &extra).await;
        assert_eq!((s, b["error"].as_str()), (400, Some(code)), "{extra:?}");
    }
    // A client not registered for the grant, and a public client.
    let (s, b) = client_credentials(&server, "web", &[]).await;
    assert_eq!((s, b["error"].as_str()), (400, Some("unauthorized_client")));
    let (s, b, _) = token_request(&server, None, &[("grant_type", "client_credentials"), ("client_id", "spa")]).await;
    assert_eq!((s, b["error"].as_str()), (400, Some("unauthorized_client")));
    // Counted in metrics rather than one event each.
    let metrics = server.http.get(server.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains(r#"latchkey_tokens_issued_total{grant_type="client_credentials"} 2"#), "{metrics}");
    server.stop().await;
}
crate::both_backends!(client_credentials_grant);

async fn revoke(server: &TestServer, client: &str, form: &[(&str, &str)]) -> u16 {
    let resp =
        server.http.post(server.url("/revoke")).basic_auth(client, Some(WEB_SECRET)).form(form).send().await.unwrap();
    resp.status().as_u16()
}

async fn revocation(backend: Backend) {
    let Some((_setup, server)) = start(backend).await else { return };
    let t = tokens_for(&server, "web", "openid offline_access").await;
    let (access, rt) = (t["access_token"].as_str().unwrap(), t["refresh_token"].as_str().unwrap());

    // Another client: 200, nothing changes (RFC 7009 §2.1).
    assert_eq!(revoke(&server, "graceful", &[("token", access)]).await, 200);
    assert_eq!(revoke(&server, "graceful", &[("token", rt), ("token_type_hint", "refresh_token")]).await, 200);
    assert_eq!(userinfo_status(&server, access).await, 200);

    // The owner revokes the access token: denied at once.
    assert_eq!(revoke(&server, "web", &[("token", access), ("token_type_hint", "access_token")]).await, 200);
    assert_eq!(userinfo_status(&server, access).await, 401);
    // The refresh token: the whole grant goes.
    let (s, t2) = refresh(&server, ("web", Some(WEB_SECRET)), rt, None).await;
    assert_eq!(s, 200);
    let rt2 = t2["refresh_token"].as_str().unwrap();
    assert_eq!(revoke(&server, "web", &[("token", rt2)]).await, 200);
    assert_eq!(refresh(&server, ("web", Some(WEB_SECRET)), rt2, None).await.0, 400);
    assert_eq!(userinfo_status(&server, t2["access_token"].as_str().unwrap()).await, 401, "its access token with it");

    // Unknown tokens: 200. No token: 400. Bad credentials: 401.
    assert_eq!(revoke(&server, "web", &[("token", "no-such-token")]).await, 200);
    assert_eq!(revoke(&server, "web", &[("token_type_hint", "access_token")]).await, 400);
    let resp = server
        .http
        .post(server.url("/revoke"))
        .basic_auth("web", Some("wrong"))
        .form(&[("token", access)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(server.events.take().iter().filter(|e| e.name() == "token.revoked").count() >= 2);
    server.stop().await;
}
crate::both_backends!(revocation);
