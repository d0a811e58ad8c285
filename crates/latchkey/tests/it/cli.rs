//! The administration CLI, run as the real binary against both stores.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use latchkey_testkit::{Backend, Setup};

use crate::both_backends;

pub fn latchkey() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_latchkey"));
    for var in [
        "LATCHKEY_CONFIG",
        "LATCHKEY_DATA_DIR",
        "LATCHKEY_DATABASE_URL",
        "LATCHKEY_MASTER_KEY",
        "LATCHKEY_ADMIN_KEY",
        "LATCHKEY_LISTEN",
        "LATCHKEY_ISSUER",
        "LATCHKEY_LOG_FORMAT",
        "RUST_LOG",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

fn run(setup: &Setup, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = latchkey();
    cmd.args(args)
        .env("LATCHKEY_DATABASE_URL", &setup.database.url)
        .env("LATCHKEY_DATA_DIR", setup.data_dir())
        .env("LATCHKEY_MASTER_KEY", &setup.master_key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn ok(setup: &Setup, args: &[&str]) -> String {
    let out = run(setup, args, None);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn json(setup: &Setup, args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&ok(setup, args)).unwrap()
}

fn fails(setup: &Setup, args: &[&str]) -> String {
    let out = run(setup, args, None);
    assert_eq!(out.status.code(), Some(1), "{args:?} should fail");
    String::from_utf8(out.stderr).unwrap()
}

async fn client_commands(backend: Backend) {
    let Some(setup) = Setup::new(backend).await.unwrap() else { return };
    let added = json(
        &setup,
        &[
            "client",
            "add",
            "--id",
            "web",
            "--name",
            "Web",
            "--type",
            "confidential",
            "--redirect-uri",
            "https://app.example.com/cb",
            "--scope",
            "openid profile",
            "--json",
        ],
    );
    let secret = added["client_secret"].as_str().unwrap().to_string();
    assert_eq!(secret.len(), 43, "256-bit server-generated secret");
    assert_eq!(added["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(added["grant_types"], serde_json::json!(["authorization_code", "refresh_token"]));

    // Stored as a digest only.
    let store = setup.database.store().await.unwrap();
    let stored = store.get_client("web").await.unwrap().unwrap();
    assert!(latchkey_crypto::digest::verify_secret(&secret, stored.secret_hash.as_deref().unwrap()));
    assert_ne!(stored.secret_hash.as_deref(), Some(secret.as_bytes()));

    let public =
        json(&setup, &["client", "add", "--type", "public", "--redirect-uri", "http://127.0.0.1/cb", "--json"]);
    assert!(public.get("client_secret").is_none());
    let generated_id = public["client_id"].as_str().unwrap().to_string();
    assert_eq!(generated_id.len(), 32);

    let list = json(&setup, &["client", "list", "--json"]);
    assert_eq!(list.as_array().unwrap().len(), 2);
    let text = ok(&setup, &["client", "list"]);
    assert!(text.contains("web") && text.contains(&generated_id));
    let shown = json(&setup, &["client", "show", "web"]);
    assert_eq!(shown["scope"], "openid profile");
    assert!(shown.get("client_secret").is_none() && !shown.to_string().contains(&secret));

    let rotated = json(&setup, &["client", "rotate-secret", "web", "--json"]);
    let new_secret = rotated["client_secret"].as_str().unwrap();
    let stored = store.get_client("web").await.unwrap().unwrap();
    assert!(latchkey_crypto::digest::verify_secret(new_secret, stored.secret_hash.as_deref().unwrap()));
    assert!(!latchkey_crypto::digest::verify_secret(&secret, stored.secret_hash.as_deref().unwrap()));
    let e = fails(&setup, &["client", "rotate-secret", &generated_id]);
    assert!(e.contains("has no secret"), "{e}");

    let e =
        fails(&setup, &["client", "add", "--id", "web", "--type", "public", "--redirect-uri", "http://127.0.0.1/cb"]);
    assert!(e.contains("already exists"), "{e}");
    let e = fails(&setup, &["client", "add", "--type", "public", "--redirect-uri", "https://x.example/*"]);
    assert!(e.contains("wildcards"), "{e}");
    let e = fails(&setup, &["client", "add", "--type", "confidential", "--auth-method", "client_secret_jwt"]);
    assert!(e.contains("client_secret_jwt"), "{e}");

    ok(&setup, &["client", "remove", "web"]);
    assert!(store.get_client("web").await.unwrap().is_none());
    let e = fails(&setup, &["client", "remove", "web"]);
    assert!(e.contains("no client"), "{e}");
    store.close().await;
}
both_backends!(client_commands);

async fn user_commands(backend: Backend) {
    let Some(setup) = Setup::new(backend).await.unwrap() else { return };
    let out = run(
        &setup,
        &["user", "add", "carol", "--email", "carol@example.com", "--password-stdin"],
        Some("carol-password\n"),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let store = setup.database.store().await.unwrap();
    let carol = store.get_user_by_username("carol").await.unwrap().unwrap();
    assert!(latchkey_crypto::password::verify("carol-password", carol.password_hash.as_deref().unwrap()));
    assert!(carol.password_hash.unwrap().starts_with("$argon2id$"));

    let dave = json(&setup, &["user", "add", "dave", "--json"]);
    let generated = dave["password"].as_str().unwrap();
    let stored = store.get_user_by_username("dave").await.unwrap().unwrap();
    assert!(latchkey_crypto::password::verify(generated, stored.password_hash.as_deref().unwrap()));

    let out = run(&setup, &["user", "add", "carol", "--password-stdin"], Some("another-password\n"));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("taken"));
    let out = run(&setup, &["user", "add", "erin", "--password-stdin"], Some("short\n"));
    assert_eq!(out.status.code(), Some(1), "passwords under 8 characters are refused");

    let out = run(&setup, &["user", "set-password", "carol"], Some("new-carol-password\n"));
    assert!(out.status.success());
    let carol = store.get_user_by_username("carol").await.unwrap().unwrap();
    assert!(latchkey_crypto::password::verify("new-carol-password", carol.password_hash.as_deref().unwrap()));

    ok(&setup, &["user", "disable", "carol"]);
    assert!(store.get_user_by_username("carol").await.unwrap().unwrap().disabled);
    ok(&setup, &["user", "enable", "carol"]);
    assert!(!store.get_user_by_username("carol").await.unwrap().unwrap().disabled);
    let list = json(&setup, &["user", "list", "--json"]);
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert!(!list.to_string().contains("argon2"), "hashes never leave the store");
    ok(&setup, &["user", "remove", "carol"]);
    assert!(store.get_user_by_username("carol").await.unwrap().is_none());
    assert!(fails(&setup, &["user", "disable", "nobody"]).contains("no user"));
    store.close().await;
}
both_backends!(user_commands);

async fn key_commands(backend: Backend) {
    let Some(setup) = Setup::new(backend).await.unwrap() else { return };
    // A started server creates the keys; the CLI then manages them.
    setup.start().await.unwrap().stop().await;
    let keys = json(&setup, &["key", "list", "--json"]);
    assert_eq!(keys.as_array().unwrap().len(), 2);
    let es =
        keys.as_array().unwrap().iter().find(|k| k["alg"] == "ES256").unwrap()["kid"].as_str().unwrap().to_string();

    let rotated = json(&setup, &["key", "rotate", "--alg", "ES256", "--prepublish", "10m", "--json"]);
    assert_eq!(rotated["state"], "published");
    assert_eq!(rotated["activate_at"].as_i64().unwrap() - rotated["publish_at"].as_i64().unwrap(), 600);
    let text = ok(&setup, &["key", "list"]);
    assert!(text.contains("published") && text.contains("active"), "{text}");

    let e = fails(&setup, &["key", "retire", &es]);
    assert!(e.contains("only ES256 key signing now"), "{e}");
    // Retiring a pending key cancels the rotation.
    let cancelled = json(&setup, &["key", "retire", rotated["kid"].as_str().unwrap(), "--json"]);
    assert_eq!(cancelled["state"], "expired");
    let now_kid = ok(&setup, &["key", "rotate", "--alg", "ES256", "--prepublish", "0s"]).trim().to_string();
    let listed = json(&setup, &["key", "list", "--json"]);
    let es_state = listed.as_array().unwrap().iter().find(|k| k["kid"] == es.as_str()).unwrap()["state"].clone();
    assert_eq!(es_state, "retired", "the rotation retired the old key");
    let revoked = json(&setup, &["key", "revoke", &now_kid, "--json"]);
    assert_eq!(revoked["revoked"], now_kid.as_str());
    assert!(revoked["replacement"].as_str().is_some(), "the only signer was revoked: a replacement signs");
    let e = fails(&setup, &["key", "revoke", "no-such-kid"]);
    assert!(e.contains("no key with kid"), "{e}");
    // Thumbprints are base64url and may start with '-': still a kid.
    let e = fails(&setup, &["key", "revoke", "-no-such-kid", "--json"]);
    assert!(e.contains("no key with kid"), "{e}");
    let e = fails(&setup, &["key", "rotate", "--alg", "HS256"]);
    assert!(e.contains("unsupported signing algorithm"), "{e}");
    let eddsa = json(&setup, &["key", "rotate", "--alg", "EdDSA", "--prepublish", "0s", "--json"]);
    assert_eq!(eddsa["alg"], "EdDSA");

    // The server starts on the changed store and publishes what the CLI did.
    let server = setup.start().await.unwrap();
    let (_, jwks) = server.get_json("/jwks").await.unwrap();
    let kids: Vec<&str> = jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert!(kids.contains(&es.as_str()), "retired key still published");
    assert!(!kids.contains(&now_kid.as_str()), "revoked key gone");
    assert!(kids.contains(&eddsa["kid"].as_str().unwrap()));
    server.stop().await;

    // A wrong master key is refused before anything is written.
    let mut cmd = latchkey();
    let out = cmd
        .args(["key", "rotate"])
        .env("LATCHKEY_DATABASE_URL", &setup.database.url)
        .env("LATCHKEY_MASTER_KEY", latchkey_crypto::MasterKey::generate_text())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("master key does not match"), "{stderr}");
    assert_eq!(json(&setup, &["key", "list", "--json"]).as_array().unwrap().len(), keys.as_array().unwrap().len() + 4);
}
both_backends!(key_commands);

#[test]
fn generate_master_key_and_usage_errors() {
    let out = latchkey().args(["key", "generate-master-key"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(latchkey_crypto::MasterKey::parse(text.trim()).is_ok());
    let out = latchkey().args(["client", "frobnicate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "usage errors exit 2");
}

#[test]
fn unreachable_database_is_one_clear_line() {
    let out = latchkey()
        .args(["client", "list"])
        .env("LATCHKEY_DATABASE_URL", "postgres://postgres@127.0.0.1:1/none")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("cannot reach the database at postgres://postgres@127.0.0.1:1/none"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}
