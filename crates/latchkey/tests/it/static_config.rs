//! Declarative clients, users and resources: applied at start, changed and
//! removed when the file changes, left alone when it does not.

use latchkey_testkit::{Backend, Setup};

const SECRET: &str = "Zq3v9XkP2mWc7TbN4hRyL8sDfGj6aE1uKo5iCxBwVnM";

fn config(extra_client: bool) -> String {
    let mut toml = format!(
        r#"
[[resources]]
identifier = "https://api.example.com"
name = "Orders"
scopes = [{{ name = "orders:read" }}]

[[clients]]
id = "web"
type = "confidential"
secret = "{SECRET}"
redirect_uris = ["https://app.example.com/cb"]
scopes = ["openid", "orders:read"]

[[users]]
username = "alice"
password = "alice-password"
email = "alice@example.com"
"#
    );
    if extra_client {
        toml.push_str("\n[[clients]]\nid = \"extra\"\ntype = \"public\"\nredirect_uris = [\"http://127.0.0.1/cb\"]\n");
    }
    toml
}

async fn declarative_records(backend: Backend) {
    let Some(setup) = Setup::new(backend).await.unwrap() else { return };
    let setup = setup.with_toml(&config(true));
    let server = setup.start().await.unwrap();
    let store = &server.state().store;
    let web = store.get_client("web").await.unwrap().unwrap();
    assert!(latchkey_crypto::digest::verify_secret(SECRET, web.secret_hash.as_deref().unwrap()));
    assert!(store.get_client("extra").await.unwrap().is_some());
    let alice = store.get_user_by_username("alice").await.unwrap().unwrap();
    assert!(latchkey_crypto::password::verify("alice-password", alice.password_hash.as_deref().unwrap()));
    let (_, doc) = server.get_json("/.well-known/openid-configuration").await.unwrap();
    assert!(doc["scopes_supported"].as_array().unwrap().contains(&"orders:read".into()));
    // A record made by an administrator is not the config's to remove.
    let mut admin_client = web.clone();
    admin_client.id = "admin-made".into();
    admin_client.origin = latchkey_domain::user::Origin::Admin;
    store.insert_client(&admin_client).await.unwrap();
    let events = server.events.take();
    assert!(events.iter().any(|e| e.name() == "client.created"));
    server.stop().await;

    // Unchanged file: nothing rewritten, the password hash is kept as is.
    let server = setup.start().await.unwrap();
    let store = &server.state().store;
    let again = store.get_user_by_username("alice").await.unwrap().unwrap();
    assert_eq!(again, alice);
    assert_eq!(store.get_client("web").await.unwrap().unwrap(), web);
    assert!(server.events.take().iter().all(|e| !e.name().starts_with("client.") && !e.name().starts_with("user.")));
    server.stop().await;

    // A client dropped from the file is removed; others stay.
    let setup = setup.with_toml(&config(false));
    let server = setup.start().await.unwrap();
    let store = &server.state().store;
    assert!(store.get_client("extra").await.unwrap().is_none());
    assert!(store.get_client("web").await.unwrap().is_some());
    assert!(store.get_client("admin-made").await.unwrap().is_some());
    assert!(server.events.take().iter().any(|e| e.name() == "client.removed"));
    server.stop().await;
}
crate::both_backends!(declarative_records);

/// The sandbox: demo users, a public PKCE client, a confidential service
/// client and an API resource; its secret is stable across restarts.
#[tokio::test]
async fn dev_sandbox_is_seeded_once() {
    let mut setup = Setup::new(Backend::Sqlite).await.unwrap().unwrap();
    setup.dev = true;
    let server = setup.start().await.unwrap();
    let store = &server.state().store;
    let spa = store.get_client("sandbox-spa").await.unwrap().unwrap();
    assert_eq!(spa.kind.as_str(), "public");
    assert_eq!(spa.auth_method.as_str(), "none");
    let service = store.get_client("sandbox-service").await.unwrap().unwrap();
    assert_eq!(service.kind.as_str(), "confidential");
    let users = store.list_users().await.unwrap();
    assert!(users.iter().any(|u| u.username == "alice") && users.iter().any(|u| u.username == "bob"));
    assert_eq!(store.list_resources().await.unwrap()[0].identifier, "https://api.example.com");
    let secret = {
        let creds = std::fs::read_to_string(setup.data_dir().join("dev-credentials.json")).unwrap();
        serde_json::from_str::<serde_json::Value>(&creds).unwrap()["service_client_secret"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(latchkey_crypto::digest::verify_secret(&secret, service.secret_hash.as_deref().unwrap()));
    server.stop().await;
    let server = setup.start().await.unwrap();
    let service2 = server.state().store.get_client("sandbox-service").await.unwrap().unwrap();
    assert_eq!(service2.secret_hash, service.secret_hash, "same secret after restart");
    server.stop().await;
}

/// A declared user must not adopt an account someone created through
/// sign-up (their sessions and second factor would come with it).
#[tokio::test]
async fn declared_users_never_adopt_signed_up_accounts() {
    let setup = crate::setup_or_skip!(Backend::Sqlite);
    let store = setup.database.store().await.unwrap();
    let now = latchkey_domain::UnixTime::now();
    store
        .insert_user(&latchkey_domain::User {
            id: "attacker".into(),
            username: "admin".into(),
            email: None,
            email_verified: false,
            name: None,
            password_hash: None,
            disabled: false,
            origin: latchkey_domain::user::Origin::SignUp,
            created_at: now,
            updated_at: now,
        })
        .await
        .unwrap();
    let setup = setup.with_toml("[[users]]\nusername = \"admin\"\npassword = \"a long admin password\"\n");
    let err = setup.start().await.err().expect("start refused").to_string();
    assert!(err.contains("created that account through sign-up"), "{err}");
}
