//! `private_key_jwt` client authentication (RFC 7523, OIDC Core §9): keys
//! inline or from the client's `jwks_uri`, audience rules, replay, expiry.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use latchkey_crypto::SigningKey;
use latchkey_crypto::signing_key::generate_pkcs8;
use latchkey_domain::SigningAlg;
use latchkey_testkit::{Backend, TestServer};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::sign_in::{WEB_SECRET, token_request};

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

pub fn key(alg: SigningAlg) -> SigningKey {
    SigningKey::from_pkcs8(alg, &generate_pkcs8(alg).unwrap()).unwrap()
}

pub fn jwks(keys: &[&SigningKey]) -> String {
    json!({ "keys": keys.iter().map(|k| k.public_jwk()).collect::<Vec<_>>() }).to_string()
}

/// A client's key server on 127.0.0.1: serves whatever JWKS it holds now
/// and counts the fetches.
pub struct JwksServer {
    pub url: String,
    pub body: Arc<Mutex<String>>,
    pub fetches: Arc<AtomicUsize>,
}

impl JwksServer {
    pub async fn start(initial: String) -> JwksServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
        let body = Arc::new(Mutex::new(initial));
        let fetches = Arc::new(AtomicUsize::new(0));
        let (b, f) = (body.clone(), fetches.clone());
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                f.fetch_add(1, Ordering::SeqCst);
                let text = b.lock().unwrap().clone();
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                    text.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
                let _ = socket.shutdown().await;
            }
        });
        JwksServer { url, body, fetches }
    }
}

fn config(inline: &str, jwks_uri: &str, refetch_interval: &str) -> String {
    config_with(inline, jwks_uri, refetch_interval, true)
}

fn config_with(inline: &str, jwks_uri: &str, refetch_interval: &str, allow_loopback: bool) -> String {
    format!(
        r#"{base}
[outbound]
allow_loopback = {allow_loopback}
jwks_refetch_interval = "{refetch_interval}"

[[clients]]
id = "signed"
type = "confidential"
auth_method = "private_key_jwt"
jwks = '{inline}'
grant_types = ["client_credentials"]
scopes = ["orders:read"]

[[clients]]
id = "signed-uri"
type = "confidential"
auth_method = "private_key_jwt"
jwks_uri = "{jwks_uri}"
grant_types = ["client_credentials"]
scopes = ["orders:read"]
"#,
        base = crate::sign_in::config()
    )
}

fn assertion(key: &SigningKey, claims: Value) -> String {
    latchkey_crypto::jws::sign(key, "JWT", &claims).unwrap()
}

fn claims_for(client: &str, aud: Value, lifetime: i64, jti: &str) -> Value {
    let now = latchkey_domain::UnixTime::now().0;
    json!({ "iss": client, "sub": client, "aud": aud, "iat": now, "exp": now + lifetime, "jti": jti })
}

async fn with_assertion(server: &TestServer, assertion: &str, extra: &[(&str, &str)]) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", assertion),
    ];
    form.extend_from_slice(extra);
    let (s, b, _) = token_request(server, None, &form).await;
    (s, b)
}

async fn private_key_jwt(backend: Backend) {
    let inline_key = key(SigningAlg::ES256);
    let uri_key = key(SigningAlg::RS256);
    let jwks_server = JwksServer::start(jwks(&[&uri_key])).await;
    let setup = crate::setup_or_skip!(backend).with_toml(&config(&jwks(&[&inline_key]), &jwks_server.url, "1h"));
    let server = setup.start().await.unwrap();
    let issuer = json!(server.issuer());

    // Inline keys; the issuer identifier as audience (rfc7523bis).
    let a = assertion(&inline_key, claims_for("signed", issuer.clone(), 60, "a-1"));
    let (s, t) = with_assertion(&server, &a, &[]).await;
    assert_eq!(s, 200, "{t}");
    let (_, payload, _) = latchkey_crypto::jws::decode_unverified(t["access_token"].as_str().unwrap()).unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&payload).unwrap()["sub"], "client:signed");
    // The same assertion again: a replay.
    let (s, b) = with_assertion(&server, &a, &[]).await;
    assert_eq!((s, b["error"].as_str()), (401, Some("invalid_client")), "replay");
    // The token endpoint as audience is accepted too, with client_id.
    let token_endpoint = json!(server.url("/token"));
    let a = assertion(&inline_key, claims_for("signed", token_endpoint, 60, "a-2"));
    let (s, b) = with_assertion(&server, &a, &[("client_id", "signed")]).await;
    assert_eq!(s, 200, "{b}");

    // jwks_uri: fetched through the guard, then cached.
    let a = assertion(&uri_key, claims_for("signed-uri", issuer.clone(), 60, "u-1"));
    let (s, b) = with_assertion(&server, &a, &[]).await;
    assert_eq!(s, 200, "{b}");
    let a = assertion(&uri_key, claims_for("signed-uri", issuer.clone(), 60, "u-2"));
    assert_eq!(with_assertion(&server, &a, &[]).await.0, 200);
    assert_eq!(jwks_server.fetches.load(Ordering::SeqCst), 1, "cached");
    // A forged kid cannot make us fetch again within the interval.
    let stranger = key(SigningAlg::RS256);
    for i in 0..3 {
        let a = assertion(&stranger, claims_for("signed-uri", issuer.clone(), 60, &format!("f-{i}")));
        assert_eq!(with_assertion(&server, &a, &[]).await.0, 401);
    }
    assert_eq!(jwks_server.fetches.load(Ordering::SeqCst), 1, "no fetch storm on unknown kids");

    // Everything else is invalid_client.
    let now = latchkey_domain::UnixTime::now().0;
    let other_key = key(SigningAlg::ES256);
    type Case<'a> = (&'a str, String, Vec<(&'a str, &'a str)>);
    let cases: Vec<Case> = vec![
        ("aud array", assertion(&inline_key, claims_for("signed", json!([server.issuer()]), 60, "b-1")), vec![]),
        (
            "aud elsewhere",
            assertion(&inline_key, claims_for("signed", json!("https://evil.example"), 60, "b-2")),
            vec![],
        ),
        ("lives an hour", assertion(&inline_key, claims_for("signed", issuer.clone(), 3600, "b-3")), vec![]),
        ("expired", assertion(&inline_key, claims_for("signed", issuer.clone(), -120, "b-4")), vec![]),
        (
            "no jti",
            assertion(&inline_key, json!({"iss": "signed", "sub": "signed", "aud": issuer, "exp": now + 60})),
            vec![],
        ),
        (
            "iss differs from sub",
            assertion(&inline_key, json!({"iss": "x", "sub": "signed", "aud": issuer, "exp": now + 60, "jti": "b-5"})),
            vec![],
        ),
        ("another key", assertion(&other_key, claims_for("signed", issuer.clone(), 60, "b-6")), vec![]),
        (
            "alg none",
            {
                use base64::Engine;
                let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
                format!("{}.{}.", b64(&json!({"alg": "none"})), b64(&claims_for("signed", issuer.clone(), 60, "b-7")))
            },
            vec![],
        ),
        (
            "client_id differs",
            assertion(&inline_key, claims_for("signed", issuer.clone(), 60, "b-8")),
            vec![("client_id", "service")],
        ),
        ("secret client", assertion(&inline_key, claims_for("service", issuer.clone(), 60, "b-9")), vec![]),
    ];
    for (name, a, extra) in cases {
        let (s, b) = with_assertion(&server, &a, &extra).await;
        assert_eq!((s, b["error"].as_str()), (401, Some("invalid_client")), "{name}: {b}");
    }
    // A private_key_jwt client cannot fall back to a secret.
    let (s, b, _) = token_request(&server, Some(("signed", WEB_SECRET)), &[("grant_type", "client_credentials")]).await;
    assert_eq!((s, b["error"].as_str()), (401, Some("invalid_client")));
    // Two methods at once, or a wrong assertion type: invalid_request.
    let a = assertion(&inline_key, claims_for("signed", issuer.clone(), 60, "c-1"));
    let (s, b, _) = token_request(
        &server,
        Some(("signed", WEB_SECRET)),
        &[("grant_type", "client_credentials"), ("client_assertion_type", JWT_BEARER), ("client_assertion", &a)],
    )
    .await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_request")));
    let (s, b, _) = token_request(
        &server,
        None,
        &[("grant_type", "client_credentials"), ("client_assertion_type", "urn:x"), ("client_assertion", &a)],
    )
    .await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_request")));
    server.stop().await;
}
crate::both_backends!(private_key_jwt);

/// A client rotating its key: an unknown kid makes us refetch its JWKS
/// (here with no minimum interval), so the new key works at once.
#[tokio::test]
async fn jwks_uri_key_rotation_is_picked_up() {
    let old = key(SigningAlg::EdDSA);
    let jwks_server = JwksServer::start(jwks(&[&old])).await;
    let setup = crate::setup_or_skip!(Backend::Sqlite).with_toml(&config(
        &jwks(&[&key(SigningAlg::ES256)]),
        &jwks_server.url,
        "0s",
    ));
    let server = setup.start().await.unwrap();
    let issuer = json!(server.issuer());
    let a = assertion(&old, claims_for("signed-uri", issuer.clone(), 60, "r-1"));
    assert_eq!(with_assertion(&server, &a, &[]).await.0, 200);
    let new = key(SigningAlg::PS256);
    *jwks_server.body.lock().unwrap() = jwks(&[&old, &new]);
    let a = assertion(&new, claims_for("signed-uri", issuer.clone(), 60, "r-2"));
    let (s, b) = with_assertion(&server, &a, &[]).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(jwks_server.fetches.load(Ordering::SeqCst), 2);
    server.stop().await;
}

/// The outbound guard: without `allow_loopback`, a jwks_uri pointing at
/// this host is never fetched (as it would be for any private address).
#[tokio::test]
async fn jwks_uri_to_a_private_address_is_refused() {
    let k = key(SigningAlg::ES256);
    let jwks_server = JwksServer::start(jwks(&[&k])).await;
    let setup = crate::setup_or_skip!(Backend::Sqlite).with_toml(&config_with(
        &jwks(&[&key(SigningAlg::ES256)]),
        &jwks_server.url,
        "0s",
        false,
    ));
    let server = setup.start().await.unwrap();
    let a = assertion(&k, claims_for("signed-uri", json!(server.issuer()), 60, "g-1"));
    let (s, b) = with_assertion(&server, &a, &[]).await;
    assert_eq!((s, b["error"].as_str()), (401, Some("invalid_client")), "{b}");
    assert_eq!(jwks_server.fetches.load(Ordering::SeqCst), 0, "never contacted");
    server.stop().await;
}
