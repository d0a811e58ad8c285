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

/// Clients are cached in memory; a change made outside this node (the CLI,
/// another node) reaches the cache through the change feed.
async fn client_cache_follows_changes(backend: Backend) {
    let Some((_setup, server)) = start(backend).await else { return };
    assert_eq!(client_credentials(&server, "service", &[]).await.0, 200, "cached now");
    let store = &server.state().store;
    let new_secret = "Nq7Vb2Xc9Lm4Kj8Hg3Fd6Sa1Pz5Ow0IuYtRe7Wq2Er9Ty";
    let hash = latchkey_crypto::digest::secret_digest(new_secret);
    store.set_client_secret_hash("service", &hash, latchkey_domain::UnixTime::now()).await.unwrap();
    latchkey_testkit::eventually("the rotated secret reaches the cache", || async {
        client_credentials(&server, "service", &[]).await.0 == 401
    })
    .await
    .unwrap();
    let (s, _, _) =
        token_request(&server, Some(("service", new_secret)), &[("grant_type", "client_credentials")]).await;
    assert_eq!(s, 200);
    store.delete_client("service").await.unwrap();
    latchkey_testkit::eventually("the removal reaches the cache", || async {
        token_request(&server, Some(("service", new_secret)), &[("grant_type", "client_credentials")]).await.0 == 401
    })
    .await
    .unwrap();
    server.stop().await;
}
crate::both_backends!(client_cache_follows_changes);

async fn introspect(server: &TestServer, client: &str, token: &str) -> (u16, serde_json::Value) {
    let resp = server
        .http
        .post(server.url("/introspect"))
        .basic_auth(client, Some(WEB_SECRET))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or_default())
}

fn forge(token: &str, header: &str, signature: &str) -> String {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    format!("{}.{payload}.{signature}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(header))
}

/// RFC 7662: who may introspect what, and every token not valid now is
/// simply inactive.
async fn introspection(backend: Backend) {
    let Some((_setup, server)) = start(backend).await else { return };
    let t = tokens_for(&server, "web", "openid offline_access").await;
    let (access, rt) = (t["access_token"].as_str().unwrap(), t["refresh_token"].as_str().unwrap());

    let (s, v) = introspect(&server, "web", access).await;
    assert_eq!(s, 200);
    assert_eq!(v["active"], true, "{v}");
    for field in ["scope", "client_id", "sub", "aud", "iss", "exp", "iat", "jti", "token_type", "sid"] {
        assert!(v.get(field).is_some(), "introspection lacks {field}: {v}");
    }
    assert_eq!((v["client_id"].as_str(), v["token_type"].as_str()), (Some("web"), Some("Bearer")));
    // Another client learns nothing; the owner sees its refresh token.
    assert_eq!(introspect(&server, "graceful", access).await.1, serde_json::json!({"active": false}));
    let (_, v) = introspect(&server, "web", rt).await;
    assert_eq!((v["active"].as_bool(), v["token_type"].as_str()), (Some(true), Some("refresh_token")), "{v}");
    assert_eq!(introspect(&server, "graceful", rt).await.1["active"], false);

    // The API's resource-server client sees tokens for its audience only.
    let (_, api_token) = client_credentials(&server, "service", &[("resource", "https://orders.example.test")]).await;
    let api_token = api_token["access_token"].as_str().unwrap();
    assert_eq!(introspect(&server, "orders-api", api_token).await.1["active"], true);
    assert_eq!(introspect(&server, "orders-api", access).await.1["active"], false, "not its audience");
    assert_eq!(introspect(&server, "graceful", api_token).await.1["active"], false);

    // Forged and invalid tokens: inactive, never an error.
    let kid = latchkey_crypto::jws::decode_unverified(access).unwrap().0.kid.unwrap();
    let mut tampered = access.to_string();
    let at = tampered.find('.').unwrap() + 5;
    let c = tampered.remove(at);
    tampered.insert(at, if c == 'x' { 'y' } else { 'x' });
    let now = latchkey_domain::UnixTime::now().0;
    let base = serde_json::from_slice::<latchkey_domain::access_token::AccessTokenClaims>(
        &latchkey_crypto::jws::decode_unverified(access).unwrap().1,
    )
    .unwrap();
    let mut expired = base.clone();
    (expired.iat, expired.exp) = (now - 600, now - 300);
    let mut other_issuer = base.clone();
    other_issuer.iss = "https://evil.example".into();
    let mint =
        |c| latchkey_server::access_tokens::mint(server.state(), latchkey_domain::SigningAlg::ES256, &c).unwrap();
    let cases = [
        ("alg none", forge(access, r#"{"alg":"none","typ":"at+jwt"}"#, "")),
        (
            "HS256 with our kid",
            forge(access, &format!(r#"{{"alg":"HS256","typ":"at+jwt","kid":"{kid}"}}"#), "c2lnbmF0dXJl"),
        ),
        ("bad signature", tampered),
        ("expired", mint(expired)),
        ("another issuer", mint(other_issuer)),
        ("garbage", "not-a-token".to_string()),
    ];
    for (name, token) in cases {
        let (s, v) = introspect(&server, "web", &token).await;
        assert_eq!((s, v), (200, serde_json::json!({"active": false})), "{name}");
    }

    // Revoked, and session ended.
    let t2 = tokens_for(&server, "web", "openid").await;
    let a2 = t2["access_token"].as_str().unwrap();
    assert_eq!(introspect(&server, "web", a2).await.1["active"], true);
    let resp = server
        .http
        .post(server.url("/revoke"))
        .basic_auth("web", Some(WEB_SECRET))
        .form(&[("token", a2)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(introspect(&server, "web", a2).await.1["active"], false, "revoked");
    let sid = introspect(&server, "web", access).await.1["sid"].as_str().unwrap().to_string();
    // Ended as another node would: through the store and its change feed.
    server.state().store.end_session(&sid, latchkey_domain::UnixTime::now()).await.unwrap();
    latchkey_testkit::eventually("the ended session reaches the node", || async {
        introspect(&server, "web", access).await.1["active"] == false
    })
    .await
    .unwrap();

    // Public clients cannot introspect.
    let resp = server
        .http
        .post(server.url("/introspect"))
        .form(&[("token", access), ("client_id", "spa")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    server.stop().await;
}
crate::both_backends!(introspection);

async fn feed(server: &TestServer, client: &str, query: &str) -> (u16, serde_json::Value) {
    let resp = server
        .http
        .get(server.url(&format!("/revocations{query}")))
        .basic_auth(client, Some(WEB_SECRET))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or_default())
}

/// The revocation feed: a snapshot, then deltas after a cursor, paged.
async fn revocation_feed(backend: Backend) {
    let Some((_setup, server)) = start(backend).await else { return };
    assert_eq!(feed(&server, "web", "").await.0, 403, "not an API's resource-server client");
    let (s, snap) = feed(&server, "orders-api", "").await;
    assert_eq!(s, 200, "{snap}");
    let c0 = snap["cursor"].as_str().unwrap().to_string();

    let t = tokens_for(&server, "web", "openid").await;
    let access = t["access_token"].as_str().unwrap();
    assert_eq!(revoke(&server, "web", &[("token", access)]).await, 200);
    let jti = claims(access)["jti"].as_str().unwrap().to_string();
    let sid = claims(access)["sid"].as_str().unwrap().to_string();
    server.state().store.end_session(&sid, latchkey_domain::UnixTime::now()).await.unwrap();

    let (_, page) = feed(&server, "orders-api", &format!("?after={c0}&limit=1")).await;
    assert_eq!(
        page["revoked"],
        serde_json::json!([{"type": "token", "jti": jti, "expires_at": claims(access)["exp"]}])
    );
    assert_eq!(page["more"], true);
    let (_, next) = feed(&server, "orders-api", &format!("?after={}", page["cursor"].as_str().unwrap())).await;
    assert_eq!(next["revoked"][0]["type"], "session");
    assert_eq!(next["revoked"][0]["sid"], sid.as_str());
    assert_eq!(next["more"], false);
    let last = next["cursor"].as_str().unwrap().to_string();
    let (_, again) = feed(&server, "orders-api", &format!("?after={last}")).await;
    assert_eq!(again["revoked"], serde_json::json!([]), "nothing new");
    // Re-reading a window below the cursor returns both again, and the
    // cursor stays where it was.
    let (_, reread) = feed(&server, "orders-api", &format!("?after={last}&reread=256")).await;
    assert_eq!(reread["revoked"].as_array().unwrap().len(), 2, "{reread}");
    assert_eq!((reread["cursor"].as_str(), reread["more"].as_bool()), (Some(last.as_str()), Some(false)));
    // A cursor from another history (ahead of the newest change): reset.
    let (_, ahead) = feed(&server, "orders-api", &format!("?after={}", last.parse::<i64>().unwrap() + 1000)).await;
    assert_eq!(ahead["reset"], true, "{ahead}");

    let (_, snap) = feed(&server, "orders-api", "").await;
    let kinds: Vec<&str> = snap["revoked"].as_array().unwrap().iter().map(|r| r["type"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"token") && kinds.contains(&"session"), "{snap}");
    assert_eq!(feed(&server, "orders-api", "?after=nonsense").await.0, 400);

    // History swept past the cursor: start over from a snapshot.
    let now = latchkey_domain::UnixTime::now();
    server.state().store.sweep_expired(now, latchkey_domain::UnixTime(now.0 + 10), 1000).await.unwrap();
    let t2 = tokens_for(&server, "web", "openid").await;
    assert_eq!(revoke(&server, "web", &[("token", t2["access_token"].as_str().unwrap())]).await, 200);
    let (_, reset) = feed(&server, "orders-api", &format!("?after={c0}")).await;
    assert_eq!(reset["reset"], true, "{reset}");
    assert!(reset["revoked"].as_array().unwrap().len() >= 2, "a full snapshot: {reset}");
    server.stop().await;
}
crate::both_backends!(revocation_feed);
