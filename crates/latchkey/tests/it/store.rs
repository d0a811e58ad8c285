//! The store suite, run against SQLite and PostgreSQL alike.

use latchkey_domain::client::{AuthMethod, Client, ClientKind, GrantType};
use latchkey_domain::user::Origin;
use latchkey_domain::{ScopeSet, SigningAlg, UnixTime, User};
use latchkey_store::{ConsumeOutcome, Grant, NewRefreshToken, Store, StoreError};
use latchkey_testkit::{Backend, TestDatabase};

use crate::both_backends;

async fn store_for(backend: Backend) -> Option<(Store, TestDatabase, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDatabase::create(backend, dir.path()).await.unwrap()?;
    let store = db.store().await.unwrap();
    Some((store, db, dir))
}

fn client(id: &str) -> Client {
    Client {
        id: id.into(),
        name: format!("{id} app"),
        kind: ClientKind::Confidential,
        secret_hash: Some(latchkey_crypto::digest::secret_digest("s")),
        redirect_uris: vec!["https://app.example.com/cb".into()],
        post_logout_redirect_uris: vec!["https://app.example.com/bye".into()],
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken, GrantType::TokenExchange],
        scopes: ScopeSet::parse("openid orders:read").unwrap(),
        audiences: vec!["https://api.example.com".into()],
        auth_method: AuthMethod::ClientSecretPost,
        id_token_alg: SigningAlg::PS256,
        access_token_ttl: Some(120),
        refresh_token_ttl: None,
        id_token_ttl: Some(600),
        first_party: true,
        refresh_token_grace: 5,
        jwks_uri: None,
        jwks: None,
        token_exchange: Default::default(),
        backchannel_logout_uri: None,
        origin: Origin::Admin,
        created_at: UnixTime(1000),
        updated_at: UnixTime(1000),
    }
}

fn user(name: &str) -> User {
    User {
        id: format!("id-{name}"),
        username: name.into(),
        email: Some(format!("{name}@example.com")),
        email_verified: false,
        name: None,
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        disabled: false,
        origin: Origin::Admin,
        created_at: UnixTime(5),
        updated_at: UnixTime(5),
    }
}

async fn clients_round_trip(backend: Backend) {
    let Some((store, _db, _dir)) = store_for(backend).await else { return };
    let c = client("web");
    store.insert_client(&c).await.unwrap();
    assert_eq!(store.get_client("web").await.unwrap(), Some(c.clone()));
    assert!(matches!(store.insert_client(&c).await, Err(StoreError::Conflict(_))));
    let mut changed = c.clone();
    changed.name = "renamed".into();
    changed.origin = Origin::Config;
    store.upsert_client(&changed).await.unwrap();
    assert_eq!(store.get_client("web").await.unwrap().unwrap().name, "renamed");
    store.set_client_secret_hash("web", b"new", UnixTime(2000)).await.unwrap();
    let got = store.get_client("web").await.unwrap().unwrap();
    assert_eq!(got.secret_hash.as_deref(), Some(&b"new"[..]));
    assert_eq!(got.updated_at, UnixTime(2000));
    store.insert_client(&client("other")).await.unwrap();
    assert_eq!(store.list_clients().await.unwrap().len(), 2);
    // Config-owned clients not declared any more are removed; others stay.
    let removed = store.delete_clients_of_origin_except(Origin::Config, &[]).await.unwrap();
    assert_eq!(removed, vec!["web".to_string()]);
    assert!(store.get_client("web").await.unwrap().is_none());
    assert!(matches!(store.delete_client("web").await, Err(StoreError::NotFound)));
    assert!(store.get_client("other").await.unwrap().is_some());
}
both_backends!(clients_round_trip);

async fn users_round_trip(backend: Backend) {
    let Some((store, _db, _dir)) = store_for(backend).await else { return };
    let u = user("alice");
    store.insert_user(&u).await.unwrap();
    assert_eq!(store.get_user_by_username("alice").await.unwrap(), Some(u.clone()));
    assert_eq!(store.get_user("id-alice").await.unwrap(), Some(u.clone()));
    let mut dup = user("alice");
    dup.id = "another-id".into();
    assert!(matches!(store.insert_user(&dup).await, Err(StoreError::Conflict(_))), "usernames are unique");
    store.set_user_disabled("id-alice", true, UnixTime(9)).await.unwrap();
    store.set_user_password_hash("id-alice", "$argon2id$new", UnixTime(9)).await.unwrap();
    let got = store.get_user("id-alice").await.unwrap().unwrap();
    assert!(got.disabled);
    assert_eq!(got.password_hash.as_deref(), Some("$argon2id$new"));
    let mut updated = got.clone();
    updated.email_verified = true;
    updated.name = Some("Alice".into());
    store.update_user(&updated).await.unwrap();
    assert_eq!(store.get_user("id-alice").await.unwrap(), Some(updated));
    store.delete_user("id-alice").await.unwrap();
    assert!(store.list_users().await.unwrap().is_empty());
}
both_backends!(users_round_trip);

async fn grant(store: &Store, id: &str) {
    store.insert_client(&client("web")).await.ok();
    store
        .insert_grant(&Grant {
            id: id.into(),
            user_id: None,
            client_id: "web".into(),
            session_id: None,
            scopes: "openid".into(),
            auth_time: Some(UnixTime(77)),
            acr: Some("urn:latchkey:acr:pwd".into()),
            amr: vec!["pwd".into()],
            resource: None,
            created_at: UnixTime::now(),
            expires_at: UnixTime::now().plus(std::time::Duration::from_secs(3600)),
            revoked_at: None,
        })
        .await
        .unwrap();
}

/// Two concurrent redemptions of one code: exactly one wins, and a later
/// one is recognised as a replay of its grant.
async fn codes_are_single_use_under_concurrency(backend: Backend) {
    let Some((store, _db, _dir)) = store_for(backend).await else { return };
    grant(&store, "g1").await;
    let now = UnixTime::now();
    let later = now.plus(std::time::Duration::from_secs(60));
    for round in 0..5 {
        let hash = latchkey_crypto::digest::sha256(format!("code-{round}").as_bytes());
        store.insert_authorization_code(&hash, "web", "g1", r#"{"nonce":"n"}"#, now, later).await.unwrap();
        let attempts = (0..8).map(|_| {
            let store = store.clone();
            let hash = hash.clone();
            tokio::spawn(async move { store.consume_authorization_code(&hash, "web", UnixTime::now()).await.unwrap() })
        });
        let results = futures_join(attempts).await;
        let wins = results.iter().filter(|r| matches!(r, ConsumeOutcome::Consumed(_))).count();
        assert_eq!(wins, 1, "round {round}: {results:?}");
        for r in &results {
            match r {
                ConsumeOutcome::Consumed((client, grant, binding)) => {
                    assert_eq!((client.as_str(), grant.as_str(), binding.as_str()), ("web", "g1", r#"{"nonce":"n"}"#));
                }
                ConsumeOutcome::Replayed { grant_id, .. } => assert_eq!(grant_id, "g1"),
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    let expired = latchkey_crypto::digest::sha256(b"old");
    store.insert_authorization_code(&expired, "web", "g1", "{}", UnixTime(1), UnixTime(2)).await.unwrap();
    assert_eq!(store.consume_authorization_code(&expired, "web", now).await.unwrap(), ConsumeOutcome::Expired);
    assert_eq!(store.consume_authorization_code(b"nope", "web", now).await.unwrap(), ConsumeOutcome::Unknown);
}
both_backends!(codes_are_single_use_under_concurrency);

async fn futures_join<T: std::fmt::Debug + Send + 'static>(
    handles: impl Iterator<Item = tokio::task::JoinHandle<T>>,
) -> Vec<T> {
    let mut out = Vec::new();
    for h in handles.collect::<Vec<_>>() {
        out.push(h.await.unwrap());
    }
    out
}

fn refresh(hash: &[u8], grant: &str, now: UnixTime, exp: UnixTime) -> NewRefreshToken {
    NewRefreshToken {
        token_hash: hash.to_vec(),
        grant_id: grant.into(),
        created_at: now,
        expires_at: exp,
        access_jti: Some(format!("at-{}", latchkey_crypto::random::id())),
        access_expires_at: Some(exp),
    }
}

async fn refresh_tokens_rotate_once(backend: Backend) {
    let Some((store, _db, _dir)) = store_for(backend).await else { return };
    grant(&store, "g2").await;
    let now = UnixTime::now();
    let hash = latchkey_crypto::digest::secret_digest("rt-1");
    store.insert_refresh_token(&refresh(&hash, "g2", now, now.plus(std::time::Duration::from_secs(60)))).await.unwrap();
    // Eight rotations race: exactly one spends the token and stores its
    // successor, in one transaction; the others see a replay.
    let exp = now.plus(std::time::Duration::from_secs(60));
    let attempts = (0..8).map(|i| {
        let store = store.clone();
        let hash = hash.clone();
        let succ = refresh(format!("succ-0-{i}").as_bytes(), "g2", now, exp);
        tokio::spawn(async move {
            let outcome = store.rotate_refresh_token(&hash, &succ, UnixTime::now()).await.unwrap();
            (succ, outcome)
        })
    });
    let results = futures_join(attempts).await;
    let winners: Vec<&NewRefreshToken> =
        results.iter().filter(|(_, r)| *r == ConsumeOutcome::Consumed(true)).map(|(s, _)| s).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    assert!(results.iter().all(|(_, r)| matches!(r, ConsumeOutcome::Consumed(true) | ConsumeOutcome::Replayed { .. })));
    let succ = winners[0].clone();
    let g = store.get_grant("g2").await.unwrap().unwrap();
    assert_eq!(
        (g.auth_time, g.acr.as_deref(), g.amr.clone()),
        (Some(UnixTime(77)), Some("urn:latchkey:acr:pwd"), vec!["pwd".to_string()])
    );
    for (loser, _) in results.iter().filter(|(s, _)| s.token_hash != succ.token_hash) {
        assert_eq!(store.consume_refresh_token(&loser.token_hash, now).await.unwrap(), ConsumeOutcome::Unknown);
    }

    // The grace path replaces the successor once.
    match store.consume_refresh_token(&hash, now).await.unwrap() {
        ConsumeOutcome::Replayed { successor, .. } => assert_eq!(successor, Some(succ.token_hash.clone())),
        other => panic!("{other:?}"),
    }
    let fresh = refresh(b"succ-2", "g2", now, exp);
    store.replace_refresh_successor(&hash, &succ.token_hash, &fresh, now).await.unwrap();
    assert!(
        store.is_jti_revoked(succ.access_jti.as_deref().unwrap()).await.unwrap(),
        "replaced successor's access token revoked"
    );
    assert_eq!(store.consume_refresh_token(&succ.token_hash, now).await.unwrap(), ConsumeOutcome::Unknown);
    // Once the successor is spent, it can no longer be replaced.
    assert_eq!(store.consume_refresh_token(b"succ-2", now).await.unwrap(), ConsumeOutcome::Consumed("g2".into()));
    let again = refresh(b"succ-3", "g2", now, exp);
    assert!(matches!(store.replace_refresh_successor(&hash, b"succ-2", &again, now).await, Err(StoreError::NotFound)));

    // Revoking the grant revokes the access tokens recorded beside it.
    assert!(store.grant_is_active("g2", now).await.unwrap());
    assert!(store.revoke_grant("g2", now).await.unwrap());
    assert!(!store.grant_is_active("g2", now).await.unwrap());
    assert!(store.is_jti_revoked(fresh.access_jti.as_deref().unwrap()).await.unwrap());
    assert_eq!(store.consume_refresh_token(&hash, now).await.unwrap(), ConsumeOutcome::Unknown);
    // A rotation after the revocation finds nothing to rotate and stores
    // nothing.
    let late = refresh(b"late", "g2", now, exp);
    assert_eq!(store.rotate_refresh_token(b"succ-2", &late, now).await.unwrap(), ConsumeOutcome::Unknown);
    assert_eq!(store.consume_refresh_token(b"late", now).await.unwrap(), ConsumeOutcome::Unknown);
}
both_backends!(refresh_tokens_rotate_once);

async fn jtis_and_revocations(backend: Backend) {
    let Some((store, _db, _dir)) = store_for(backend).await else { return };
    let exp = UnixTime::now().plus(std::time::Duration::from_secs(60));
    assert!(store.consume_jti("client-a", "j1", exp).await.unwrap());
    assert!(!store.consume_jti("client-a", "j1", exp).await.unwrap(), "replay");
    assert!(store.consume_jti("client-b", "j1", exp).await.unwrap(), "jtis are per issuer");
    assert!(!store.is_jti_revoked("t1").await.unwrap());
    store.revoke_jti("t1", exp, UnixTime::now()).await.unwrap();
    store.revoke_jti("t1", exp, UnixTime::now()).await.unwrap();
    assert!(store.is_jti_revoked("t1").await.unwrap());
}
both_backends!(jtis_and_revocations);

/// Expired rows go, live rows stay, and one call deletes at most `batch`.
async fn sweeping_is_bounded(backend: Backend) {
    let Some((store, _db, _dir)) = store_for(backend).await else { return };
    grant(&store, "live").await;
    let now = UnixTime::now();
    let past = UnixTime(now.0 - 10);
    let future = now.plus(std::time::Duration::from_secs(600));
    for i in 0..5 {
        store.revoke_jti(&format!("old-{i}"), past, past).await.unwrap();
        store.consume_jti("c", &format!("old-{i}"), past).await.unwrap();
        store.insert_authorization_code(format!("old-{i}").as_bytes(), "web", "live", "{}", past, past).await.unwrap();
    }
    store.revoke_jti("fresh", future, now).await.unwrap();
    store.insert_refresh_token(&refresh(b"live-rt", "live", now, future)).await.unwrap();
    store.append_event("key.rotated", "{}", UnixTime(1)).await.unwrap();
    store.append_event("key.rotated", "{}", now).await.unwrap();

    let first = store.sweep_expired(now, UnixTime(now.0 - 100), 3).await.unwrap();
    assert_eq!((first.revoked_tokens, first.used_jtis, first.authorization_codes, first.events), (3, 3, 3, 1));
    let second = store.sweep_expired(now, UnixTime(now.0 - 100), 3).await.unwrap();
    assert_eq!((second.revoked_tokens, second.used_jtis, second.authorization_codes), (2, 2, 2));
    let third = store.sweep_expired(now, UnixTime(now.0 - 100), 3).await.unwrap();
    assert_eq!(third.total(), 0, "{third:?}");
    assert!(store.is_jti_revoked("fresh").await.unwrap());
    assert_eq!(store.consume_refresh_token(b"live-rt", now).await.unwrap(), ConsumeOutcome::Consumed("live".into()));
}
both_backends!(sweeping_is_bounded);

/// Session user agents and addresses are forgotten after their retention;
/// the session itself stays.
async fn session_client_info_is_forgotten(backend: Backend) {
    let Some((store, _db, _dir)) = store_for(backend).await else { return };
    let now = UnixTime::now();
    store.insert_user(&user("carol")).await.unwrap();
    for (id, age) in [("old", 7200), ("new", 10)] {
        let s = latchkey_store::Session {
            id: id.into(),
            user_id: "id-carol".into(),
            created_at: UnixTime(now.0 - age),
            last_seen_at: now,
            auth_time: now,
            acr: None,
            amr: vec!["pwd".into()],
            user_agent: Some("Mozilla/5.0".into()),
            source_ip: Some("192.0.2.7".into()),
            expires_at: UnixTime(now.0 + 3600),
            ended_at: None,
        };
        store.insert_session(&s, id.as_bytes()).await.unwrap();
    }
    assert_eq!(store.forget_session_client_info(UnixTime(now.0 - 3600), 10).await.unwrap(), 1);
    let old = store.get_session("old").await.unwrap().unwrap();
    assert_eq!((old.user_agent, old.source_ip), (None, None));
    let new = store.get_session("new").await.unwrap().unwrap();
    assert_eq!(new.source_ip.as_deref(), Some("192.0.2.7"));
    assert_eq!(store.forget_session_client_info(UnixTime(now.0 - 3600), 10).await.unwrap(), 0);

    // Deleting the user ends the sessions on the change feed too, so that
    // no node keeps them alive in memory.
    let mark = store.latest_change_id().await.unwrap();
    store.delete_user("id-carol").await.unwrap();
    let ended: Vec<_> = store
        .changes_since(mark + latchkey_store::REREAD_WINDOW, 100)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|(_, c)| match c {
            latchkey_store::Change::SessionEnded { session_id } => Some(session_id),
            _ => None,
        })
        .collect();
    assert_eq!(ended.len(), 2, "{ended:?}");
}
both_backends!(session_client_info_is_forgotten);

/// A batch's entities in one read: exactly the stored ones among the keys,
/// whatever shares a type or an id.
async fn entities_are_read_many_at_once(backend: Backend) {
    let Some((store, _db, _dir)) = store_for(backend).await else { return };
    let attrs = |n: i64| serde_json::json!({ "n": n }).as_object().cloned().unwrap();
    let role = latchkey_store::ParentRef { ty: "Role".into(), id: "admin".into() };
    store.seed_entity("User", "a", &attrs(1), std::slice::from_ref(&role), UnixTime(1)).await.unwrap();
    store.seed_entity("User", "b", &attrs(2), &[], UnixTime(1)).await.unwrap();
    store.seed_entity("Doc", "a", &attrs(3), &[], UnixTime(1)).await.unwrap();
    let keys: Vec<(String, String)> = [("User", "a"), ("User", "b"), ("Doc", "a"), ("Doc", "b"), ("User", "c")]
        .iter()
        .map(|(t, i)| (t.to_string(), i.to_string()))
        .collect();
    let mut got: Vec<(String, String, i64)> = store
        .entities_many(&keys)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.entity_type, e.entity_id, e.attributes["n"].as_i64().unwrap()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![("Doc".into(), "a".into(), 3), ("User".into(), "a".into(), 1), ("User".into(), "b".into(), 2)]
    );
    let one = store.entities_many(&keys[..1]).await.unwrap();
    assert_eq!(one[0].parents, vec![role]);
    // More keys than one statement takes.
    let many: Vec<(String, String)> = (0..250).map(|i| ("User".to_string(), format!("x{i}"))).chain(keys).collect();
    assert_eq!(store.entities_many(&many).await.unwrap().len(), 3);
}
both_backends!(entities_are_read_many_at_once);
