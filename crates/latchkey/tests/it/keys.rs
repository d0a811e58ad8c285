//! Signing keys: persistence, encryption at rest, and the rotation timeline
//! (pre-publication, activation, retirement, revocation).

use std::time::Duration;

use latchkey_crypto::jws;
use latchkey_domain::access_token::{AccessTokenClaims, Audience};
use latchkey_domain::{SigningAlg, UnixTime};
use latchkey_server::access_tokens;
use latchkey_server::keyring::KeyManager;
use latchkey_testkit::{Backend, Setup, TestServer};

use crate::both_backends;

async fn jwks_kids(server: &TestServer) -> Vec<String> {
    let (_, jwks) = server.get_json("/jwks").await.unwrap();
    let mut kids: Vec<String> =
        jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_string()).collect();
    kids.sort();
    kids
}

fn claims(server: &TestServer, scope: Option<&str>) -> AccessTokenClaims {
    let now = UnixTime::now().0;
    AccessTokenClaims {
        iss: server.issuer().into(),
        sub: "s".into(),
        aud: Audience::One(server.issuer().into()),
        exp: now + 60,
        iat: now,
        nbf: None,
        jti: latchkey_crypto::random::id(),
        client_id: "c".into(),
        scope: scope.map(str::to_string),
        sid: None,
        auth_time: None,
        acr: None,
        amr: None,
        act: None,
        may_act: None,
        extra: Default::default(),
    }
}

fn token_kid(server: &TestServer, alg: SigningAlg) -> String {
    let token = access_tokens::mint(server.state(), alg, &claims(server, None)).unwrap();
    jws::decode_unverified(&token).unwrap().0.kid.unwrap()
}

async fn reload(server: &TestServer) {
    let s = server.state();
    let manager = KeyManager { store: &s.store, master: &s.master, events: s.events.as_ref() };
    s.keys.reload(&manager).await.unwrap();
}

fn manager(server: &TestServer) -> KeyManager<'_> {
    let s = server.state();
    KeyManager { store: &s.store, master: &s.master, events: s.events.as_ref() }
}

async fn keys_survive_a_restart_encrypted(backend: Backend) {
    let Some(setup) = Setup::new(backend).await.unwrap() else { return };
    let server = setup.start().await.unwrap();
    let before = jwks_kids(&server).await;
    let es_kid = token_kid(&server, SigningAlg::ES256);
    server.stop().await;

    let server = setup.start().await.unwrap();
    assert_eq!(jwks_kids(&server).await, before, "same keys after restart");
    assert_eq!(token_kid(&server, SigningAlg::ES256), es_kid);

    // At rest, private keys are sealed: the stored bytes open only with the
    // master key and the kid as context, and hold no plaintext PKCS#8.
    let stored = server.state().store.list_keys().await.unwrap();
    let master = latchkey_crypto::MasterKey::parse(&setup.master_key).unwrap();
    for k in &stored {
        let ctx = format!("signing_key:{}", k.timeline.kid);
        let pkcs8 = master.open(&ctx, &k.sealed_private_key).unwrap();
        assert!(!k.sealed_private_key.windows(16).any(|w| pkcs8.windows(16).skip(8).any(|p| p == w)));
        assert!(master.open("signing_key:other", &k.sealed_private_key).is_err());
    }
    server.stop().await;

    // Another master key: the server refuses to start, with the fix named.
    let mut wrong = Setup { master_key: latchkey_crypto::MasterKey::generate_text(), ..setup };
    let err = match wrong.start().await {
        Ok(_) => panic!("started with the wrong master key"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("use the LATCHKEY_MASTER_KEY the store was created with"), "{err}");
    wrong.master_key = "not a key".into();
    let err = wrong.start().await.err().unwrap().to_string();
    assert!(err.contains("LATCHKEY_MASTER_KEY is malformed"), "{err}");
}
both_backends!(keys_survive_a_restart_encrypted);

async fn rotation_prepublishes_then_switches(backend: Backend) {
    let Some(setup) = Setup::new(backend).await.unwrap() else { return };
    let server = setup.start().await.unwrap();
    let old = token_kid(&server, SigningAlg::ES256);

    // Published now, signing in an hour: the JWKS has it, the old key signs.
    let next = manager(&server)
        .rotate(SigningAlg::ES256, Duration::from_secs(3600), Duration::from_secs(86400))
        .await
        .unwrap();
    reload(&server).await;
    assert!(jwks_kids(&server).await.contains(&next.kid));
    assert_eq!(token_kid(&server, SigningAlg::ES256), old);
    assert_eq!(next.activate_at.0 - next.publish_at.0, 3600);

    // A rotation that activates at once: the newest key signs, and both
    // older keys stay published for tokens they signed.
    let now_key = manager(&server).rotate(SigningAlg::ES256, Duration::ZERO, Duration::from_secs(86400)).await.unwrap();
    reload(&server).await;
    assert_eq!(token_kid(&server, SigningAlg::ES256), now_key.kid);
    let kids = jwks_kids(&server).await;
    assert!(kids.contains(&old) && kids.contains(&now_key.kid), "{kids:?}");
    // The never-active key `next` was superseded before signing anything.
    assert!(!kids.contains(&next.kid), "{kids:?}");
    let stored = server.state().store.list_keys().await.unwrap();
    let old_t = stored.iter().find(|k| k.timeline.kid == old).unwrap().timeline.clone();
    assert_eq!(old_t.retire_at, Some(now_key.activate_at));
    assert_eq!(old_t.unpublish_at.unwrap().0 - old_t.retire_at.unwrap().0, 86400);
    assert!(server.events.take().iter().any(|e| e.name() == "key.rotated"));
    server.stop().await;
}
both_backends!(rotation_prepublishes_then_switches);

async fn retire_and_revoke(backend: Backend) {
    let Some(setup) = Setup::new(backend).await.unwrap() else { return };
    let server = setup.start().await.unwrap();
    let rs_old = token_kid(&server, SigningAlg::RS256);

    // The only signer of an algorithm cannot be retired.
    let err = manager(&server).retire(&rs_old, Duration::from_secs(60)).await.unwrap_err().to_string();
    assert!(err.contains("rotate"), "{err}");

    // A successor that only signs later is not enough: that would leave a
    // window in which no RS256 key signs.
    let rs_pending =
        manager(&server).rotate(SigningAlg::RS256, Duration::from_secs(600), Duration::from_secs(3600)).await.unwrap();
    assert!(manager(&server).retire(&rs_old, Duration::from_secs(3600)).await.is_err());
    // Cancelling the pending key restores the old key's timeline.
    manager(&server).retire(&rs_pending.kid, Duration::from_secs(3600)).await.unwrap();
    let stored = server.state().store.list_keys().await.unwrap();
    let old_t = &stored.iter().find(|k| k.timeline.kid == rs_old).unwrap().timeline;
    assert_eq!((old_t.retire_at, old_t.unpublish_at), (None, None));

    // A rotation without pre-publication retires the old key at once: it no
    // longer signs but stays published for the tokens it signed.
    let rs_now = manager(&server).rotate(SigningAlg::RS256, Duration::ZERO, Duration::from_secs(3600)).await.unwrap();
    let stored = server.state().store.list_keys().await.unwrap();
    let old_t = &stored.iter().find(|k| k.timeline.kid == rs_old).unwrap().timeline;
    assert_eq!(old_t.state(UnixTime::now()).as_str(), "retired");
    assert_eq!(old_t.unpublish_at.unwrap().0 - old_t.retire_at.unwrap().0, 3600);
    let e = manager(&server).retire(&rs_old, Duration::from_secs(3600)).await.unwrap_err().to_string();
    assert!(e.contains("is retired and cannot be retired"), "{e}");
    reload(&server).await;
    assert_eq!(token_kid(&server, SigningAlg::RS256), rs_now.kid);
    let kids = jwks_kids(&server).await;
    assert!(kids.contains(&rs_old), "retired keys stay published");
    assert!(!kids.contains(&rs_pending.kid), "a cancelled key is unpublished");

    // Revoked: out of the JWKS at once, and a replacement signs.
    let es_old = token_kid(&server, SigningAlg::ES256);
    let token =
        access_tokens::mint(server.state(), SigningAlg::ES256, &claims(&server, Some("latchkey:admin"))).unwrap();
    // Used once first: the hot-token cache now holds it.
    let status = server.http.get(server.url("/admin/v1/keys")).bearer_auth(&token).send().await.unwrap().status();
    assert_eq!(status, 200);
    let replacement = manager(&server).revoke(&es_old).await.unwrap().expect("replacement for the only ES256 key");
    reload(&server).await;
    let kids = jwks_kids(&server).await;
    assert!(!kids.contains(&es_old));
    assert!(kids.contains(&replacement.kid));
    assert_eq!(token_kid(&server, SigningAlg::ES256), replacement.kid);
    let status = server.http.get(server.url("/admin/v1/keys")).bearer_auth(&token).send().await.unwrap().status();
    assert_eq!(status, 401, "a token signed by a revoked key is no longer valid, cached or not");
    assert!(manager(&server).revoke(&es_old).await.is_err(), "revoking twice is an error");
    server.stop().await;

    // Keys survive restart in their states.
    let server = setup.start().await.unwrap();
    let kids = jwks_kids(&server).await;
    assert!(!kids.contains(&es_old) && kids.contains(&rs_old));
    server.stop().await;
}
both_backends!(retire_and_revoke);

/// A key row that cannot be opened stops the start with the fix named;
/// revoking it (which needs no decryption) lets the server start again.
async fn corrupt_key_row(backend: Backend) {
    let Some(setup) = Setup::new(backend).await.unwrap() else { return };
    let server = setup.start().await.unwrap();
    let kid = token_kid(&server, SigningAlg::ES256);
    server.stop().await;

    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&setup.database.url).await.unwrap();
    sqlx::query("UPDATE signing_keys SET private_key = $1 WHERE kid = $2")
        .bind(&b"garbage-garbage-garbage-garbage"[..])
        .bind(&kid)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    let err = setup.start().await.err().expect("must not start").to_string();
    assert!(err.contains(&format!("latchkey key revoke {kid}")), "{err}");

    let store = setup.database.store().await.unwrap();
    let master = latchkey_crypto::MasterKey::parse(&setup.master_key).unwrap();
    let events = latchkey_domain::event::MemorySink::default();
    let m = KeyManager { store: &store, master: &master, events: &events };
    m.revoke(&kid).await.unwrap();
    store.close().await;
    let server = setup.start().await.unwrap();
    assert!(!jwks_kids(&server).await.contains(&kid));
    server.stop().await;
}
both_backends!(corrupt_key_row);
