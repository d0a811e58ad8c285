//! Token exchange (RFC 8693), as scenario D of the product spec runs it: a
//! user's token for a front-end API is exchanged hop by hop for narrower
//! tokens for downstream services, the `act` chain records who acted for
//! whom, and ending the user's session stops the whole chain.

use latchkey_testkit::browser::Browser;
use latchkey_testkit::{Backend, TestServer, eventually};
use serde_json::json;

use crate::sign_in::{WEB_REDIRECT, WEB_SECRET, auth_url, config, token_request};

const EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS: &str = "urn:ietf:params:oauth:token-type:access_token";
const ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";
const FRONT: &str = "https://front.example.test";
const PROFILE: &str = "https://profile.example.test";
const ORDERS: &str = "https://orders.example.test";

pub(crate) fn exchange_config() -> String {
    format!(
        r#"{base}
[[resources]]
identifier = "{FRONT}"
scopes = [{{ name = "front:use" }}, {{ name = "profile:read" }}]

[[resources]]
identifier = "{PROFILE}"
scopes = [{{ name = "profile:read" }}]
forwarded_claims = ["email"]
introspection_clients = ["profile-svc"]

[[clients]]
id = "app"
type = "confidential"
secret = "{WEB_SECRET}"
redirect_uris = ["{WEB_REDIRECT}"]
grant_types = ["authorization_code", "{EXCHANGE}"]
scopes = ["openid", "front:use", "profile:read"]
audiences = ["{FRONT}"]

[[clients]]
id = "front"
type = "confidential"
secret = "{WEB_SECRET}"
grant_types = ["{EXCHANGE}"]
scopes = ["profile:read", "front:use", "orders:read"]
audiences = ["{PROFILE}", "{ORDERS}"]
token_exchange = {{ subject_audiences = ["{FRONT}"] }}

[[clients]]
id = "profile-svc"
type = "confidential"
secret = "{WEB_SECRET}"
grant_types = ["client_credentials", "{EXCHANGE}"]
scopes = ["profile:read"]
audiences = ["{ORDERS}"]
token_exchange = {{ subject_audiences = ["{PROFILE}"] }}

[[clients]]
id = "stranger"
type = "confidential"
secret = "{WEB_SECRET}"
grant_types = ["{EXCHANGE}"]
scopes = ["profile:read"]
audiences = ["{PROFILE}"]

[[clients]]
id = "impersonator"
type = "confidential"
secret = "{WEB_SECRET}"
grant_types = ["{EXCHANGE}"]
scopes = ["profile:read"]
audiences = ["{PROFILE}"]
token_exchange = {{ subject_audiences = ["{FRONT}"], impersonation = true }}
"#,
        base = config()
    )
}

fn claims(token: &str) -> serde_json::Value {
    let (_, payload, _) = latchkey_crypto::jws::decode_unverified(token).unwrap();
    serde_json::from_slice(&payload).unwrap()
}

pub(crate) async fn exchange(server: &TestServer, client: &str, form: &[(&str, &str)]) -> (u16, serde_json::Value) {
    let mut full = vec![("grant_type", EXCHANGE)];
    full.extend_from_slice(form);
    let (s, b, headers) = token_request(server, Some((client, WEB_SECRET)), &full).await;
    if s == 200 {
        assert_eq!(headers.get("cache-control").unwrap(), "no-store");
    }
    (s, b)
}

/// Alice signs in to `app` for the front-end API; returns the token response.
pub(crate) async fn user_token_for_front(server: &TestServer) -> serde_json::Value {
    let browser = Browser::new();
    let url = auth_url(
        server,
        &[
            ("response_type", "code"),
            ("client_id", "app"),
            ("redirect_uri", WEB_REDIRECT),
            ("scope", "openid front:use profile:read"),
            ("resource", FRONT),
            ("state", "s"),
        ],
    );
    let q = browser.authorize_to_redirect(&url, "alice", "alice-password").await.unwrap();
    let (s, b, _) = token_request(
        server,
        Some(("app", WEB_SECRET)),
        &[("grant_type", "authorization_code"), ("code", &q["code"]), ("redirect_uri", WEB_REDIRECT)],
    )
    .await;
    assert_eq!(s, 200, "{b}");
    b
}

async fn introspect_active(server: &TestServer, client: &str, token: &str) -> bool {
    let resp = server
        .http
        .post(server.url("/introspect"))
        .basic_auth(client, Some(WEB_SECRET))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    resp.json::<serde_json::Value>().await.unwrap()["active"] == true
}

/// Scenario D's downstream decision: the orders service reads a profile
/// only when the profile service acted for the user.
const CHAIN_SCHEMA: &str = r#"
entity User { id: String, scopes?: Set<String>, actors?: Set<String> };
entity Orders { id: String };
action read_orders appliesTo { principal: [User], resource: [Orders] };
"#;
const CHAIN_POLICY: &str = r#"
@id("orders-via-profile-service")
permit(principal is User, action == Action::"read_orders", resource is Orders)
when { principal has scopes && principal.scopes.contains("profile:read")
       && principal has actors && principal.actors.contains("client:profile-svc") };
"#;
const ORDERS_PEP: &str = "orders-pep-key-0123456789abcdef";

async fn orders_decision(server: &TestServer, token: &str) -> bool {
    let body = json!({ "subject": { "type": "access_token", "id": token }, "action": { "name": "read_orders" },
                       "resource": { "type": "Orders", "id": "o-1" } });
    let resp =
        server.http.post(server.url("/access/v1/evaluation")).bearer_auth(ORDERS_PEP).json(&body).send().await.unwrap();
    resp.json::<serde_json::Value>().await.unwrap()["decision"] == true
}

async fn service_chain(backend: Backend) {
    let mut setup = crate::setup_or_skip!(backend).with_toml(&exchange_config());
    let dir = setup.data_dir();
    std::fs::write(dir.join("chain.cedarschema"), CHAIN_SCHEMA).unwrap();
    std::fs::write(dir.join("chain.cedar"), CHAIN_POLICY).unwrap();
    setup.toml.push_str(&format!(
        "\n[authz]\nschema = \"{}\"\npolicies = [\"{}\"]\n[[authz.peps]]\nname = \"orders\"\nkey = \"{ORDERS_PEP}\"\n",
        dir.join("chain.cedarschema").display(),
        dir.join("chain.cedar").display()
    ));
    let server = setup.start().await.unwrap();
    let user = user_token_for_front(&server).await;
    let t0 = user["access_token"].as_str().unwrap();
    let c0 = claims(t0);
    assert_eq!(c0["aud"], FRONT);

    // Hop 1: the front-end API trades the user's token for the profile API.
    let (s, r1) = exchange(
        &server,
        "front",
        &[("subject_token", t0), ("subject_token_type", ACCESS), ("resource", PROFILE), ("scope", "profile:read")],
    )
    .await;
    assert_eq!(s, 200, "{r1}");
    assert_eq!(r1["issued_token_type"], ACCESS, "RFC 8693 §2.2.1");
    assert_eq!(r1["token_type"], "Bearer");
    assert!(r1.get("refresh_token").is_none(), "no refresh token from an exchange");
    let t1 = r1["access_token"].as_str().unwrap();
    let c1 = claims(t1);
    assert_eq!(c1["sub"], c0["sub"], "the same user");
    assert_eq!((c1["aud"].as_str(), c1["scope"].as_str()), (Some(PROFILE), Some("profile:read")));
    assert_eq!(c1["client_id"], "front");
    assert_eq!(c1["act"], json!({"sub": "client:front"}), "the exchanging client acts for the user");
    for copied in ["sid", "auth_time", "acr", "amr"] {
        assert_eq!(c1[copied], c0[copied], "{copied} is copied, never raised");
    }
    assert!(c1["exp"].as_i64() <= c0["exp"].as_i64(), "never outlives the subject token");
    assert_eq!(c1["email"], "alice@example.com", "the profile API has email forwarded");
    assert!(c0.get("email").is_none(), "the front API does not");

    // Hop 2, delegated: the profile service acts with its own token.
    let (_, own, _) = token_request(
        &server,
        Some(("profile-svc", WEB_SECRET)),
        &[("grant_type", "client_credentials"), ("scope", "profile:read")],
    )
    .await;
    let actor = own["access_token"].as_str().unwrap();
    let (s, r2) = exchange(
        &server,
        "profile-svc",
        &[
            ("subject_token", t1),
            ("subject_token_type", ACCESS),
            ("actor_token", actor),
            ("actor_token_type", ACCESS),
            ("audience", ORDERS),
        ],
    )
    .await;
    assert_eq!(s, 200, "{r2}");
    let t2 = r2["access_token"].as_str().unwrap();
    let c2 = claims(t2);
    assert_eq!(
        c2["act"],
        json!({"sub": "client:profile-svc", "client_id": "profile-svc", "act": {"sub": "client:front"}}),
        "the chain, most recent actor outermost"
    );
    assert_eq!((c2["aud"].as_str(), c2["scope"].as_str()), (Some(ORDERS), Some("profile:read")));
    assert!(c2.get("email").is_none(), "only the target's configured claims are forwarded");
    assert!(c2["exp"].as_i64() <= c1["exp"].as_i64());

    // Never broader, never elsewhere, never by a stranger.
    let base = [("subject_token", t0), ("subject_token_type", ACCESS)];
    let with = |extra: &[(&'static str, &'static str)]| -> Vec<(&str, &str)> {
        base.iter().copied().chain(extra.iter().copied()).collect()
    };
    for (client, form, status, code) in [
        ("front", with(&[("resource", PROFILE), ("scope", "orders:read")]), 400, "invalid_scope"),
        ("front", with(&[("resource", "https://unknown.example.test")]), 400, "invalid_target"),
        ("front", with(&[("resource", "https://other.example.test")]), 400, "invalid_target"),
        ("front", with(&[]), 400, "invalid_request"),
        ("stranger", with(&[("resource", PROFILE)]), 400, "invalid_grant"),
        ("orders-api", with(&[("resource", PROFILE)]), 400, "unauthorized_client"),
        (
            "front",
            vec![("subject_token", t0), ("subject_token_type", "urn:x:unknown"), ("resource", PROFILE)],
            400,
            "invalid_request",
        ),
        ("front", vec![("subject_token", t0), ("resource", PROFILE)], 400, "invalid_request"),
        ("front", with(&[("resource", PROFILE), ("actor_token", "x")]), 400, "invalid_request"),
        (
            "front",
            with(&[("resource", PROFILE), ("requested_token_type", "urn:ietf:params:oauth:token-type:refresh_token")]),
            400,
            "invalid_request",
        ),
        (
            "front",
            vec![("subject_token", "garbage"), ("subject_token_type", ACCESS), ("resource", PROFILE)],
            400,
            "invalid_grant",
        ),
    ] {
        let (s, b) = exchange(&server, client, &form).await;
        assert_eq!((s, b["error"].as_str()), (status, Some(code)), "{client} {form:?}: {b}");
    }
    // An actor token must be the exchanging client's own.
    let form = [
        ("subject_token", t0),
        ("subject_token_type", ACCESS),
        ("resource", PROFILE),
        ("actor_token", actor),
        ("actor_token_type", ACCESS),
    ];
    let (s, b) = exchange(&server, "front", &form).await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_grant")), "{b}");

    // Impersonation: only for a client allowed to, and then without `act`.
    let (s, r) = exchange(&server, "impersonator", &with(&[("resource", PROFILE)])).await;
    assert_eq!(s, 200, "{r}");
    assert!(claims(r["access_token"].as_str().unwrap()).get("act").is_none());

    // An ID token: only by the client it was issued to, within consent.
    let id_token = user["id_token"].as_str().unwrap();
    let (s, r) =
        exchange(&server, "app", &[("subject_token", id_token), ("subject_token_type", ID_TOKEN), ("resource", FRONT)])
            .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["scope"], "front:use openid profile:read");
    let (s, b) = exchange(
        &server,
        "front",
        &[("subject_token", id_token), ("subject_token_type", ID_TOKEN), ("resource", PROFILE)],
    )
    .await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_grant")), "{b}");

    // Every exchange is an event.
    let events = server.events.take();
    assert!(events.iter().filter(|e| e.name() == "token.exchanged").count() >= 4, "{events:?}");

    // Ending the user's session stops the whole chain.
    let sid = c0["sid"].as_str().unwrap();
    assert!(introspect_active(&server, "profile-svc", t1).await);
    let resp = server
        .http
        .post(server.url("/introspect"))
        .basic_auth("front", Some(WEB_SECRET))
        .form(&[("token", t2)])
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = resp.json().await.unwrap();
    assert_eq!((v["active"].as_bool(), &v["act"]), (Some(false), &serde_json::Value::Null), "not front's token: {v}");
    let resp = server
        .http
        .post(server.url("/introspect"))
        .basic_auth("profile-svc", Some(WEB_SECRET))
        .form(&[("token", t2)])
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(v["act"], c2["act"], "introspection shows the actor chain: {v}");
    // The downstream decision sees who acted for whom.
    assert!(orders_decision(&server, t2).await, "the profile service acted for the user");
    assert!(!orders_decision(&server, t1).await, "the front end alone may not");
    server.state().store.end_session(sid, latchkey_domain::UnixTime::now()).await.unwrap();
    eventually("the session end reaches the chain", || async {
        !introspect_active(&server, "profile-svc", t1).await && !introspect_active(&server, "profile-svc", t2).await
    })
    .await
    .unwrap();
    assert!(!orders_decision(&server, t2).await, "an ended session denies down the chain");
    let (s, b) = exchange(&server, "front", &with(&[("resource", PROFILE)])).await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_grant")), "{b}");
    server.stop().await;
}
crate::both_backends!(service_chain);

/// The exchanged token's lifetime is capped by the subject token's.
#[tokio::test]
async fn exchanged_tokens_never_outlive_the_subject() {
    let setup = crate::setup_or_skip!(Backend::Sqlite).with_toml(&exchange_config());
    let server = setup.start().await.unwrap();
    let now = latchkey_domain::UnixTime::now().0;
    let subject = latchkey_domain::access_token::AccessTokenClaims {
        iss: server.issuer().to_string(),
        sub: "user-1".into(),
        aud: latchkey_domain::access_token::Audience::One(FRONT.into()),
        exp: now + 20,
        iat: now,
        nbf: None,
        jti: "short-lived".into(),
        client_id: "app".into(),
        scope: Some("profile:read".into()),
        sid: None,
        auth_time: None,
        acr: None,
        amr: None,
        act: None,
        may_act: Some(latchkey_domain::token_exchange::Actor {
            sub: "client:someone-else".into(),
            iss: None,
            client_id: None,
            act: None,
        }),
        extra: Default::default(),
    };
    let token =
        latchkey_server::access_tokens::mint(server.state(), latchkey_domain::SigningAlg::ES256, &subject).unwrap();
    // may_act names another party: the front service may not act.
    let form = [("subject_token", token.as_str()), ("subject_token_type", ACCESS), ("resource", PROFILE)];
    let (s, b) = exchange(&server, "front", &form).await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_grant")), "{b}");

    let allowed = latchkey_domain::access_token::AccessTokenClaims {
        jti: "short-lived-2".into(),
        may_act: Some(latchkey_domain::token_exchange::Actor {
            sub: "client:front".into(),
            iss: None,
            client_id: None,
            act: None,
        }),
        ..subject
    };
    let token =
        latchkey_server::access_tokens::mint(server.state(), latchkey_domain::SigningAlg::ES256, &allowed).unwrap();
    let form = [("subject_token", token.as_str()), ("subject_token_type", ACCESS), ("resource", PROFILE)];
    let (s, r) = exchange(&server, "front", &form).await;
    assert_eq!(s, 200, "{r}");
    assert!(r["expires_in"].as_u64().unwrap() <= 20, "{r}");
    assert!(claims(r["access_token"].as_str().unwrap())["exp"].as_i64().unwrap() <= now + 20);
    server.stop().await;
}

/// RFC 8693 with a JWT from a trusted issuer: verified with that issuer's
/// keys, its subject kept in its own id space, its scopes capped, and only
/// for the clients the issuer is trusted for.
#[tokio::test]
async fn trusted_external_issuer() {
    use crate::assertion::{JwksServer, jwks, key};
    let partner_key = key(latchkey_domain::SigningAlg::ES256);
    let keys = JwksServer::start(jwks(&[&partner_key])).await;
    let partner = "https://partner.example.test";
    let config = format!(
        r#"{base}
[outbound]
allow_loopback = true

[token_exchange]
trusted_issuers = [{{ issuer = "{partner}", jwks_uri = "{jwks_uri}", subject_prefix = "partner", clients = ["front"], scopes = ["profile:read"] }}]
"#,
        base = exchange_config(),
        jwks_uri = keys.url,
    );
    let setup = crate::setup_or_skip!(Backend::Sqlite).with_toml(&config);
    let server = setup.start().await.unwrap();
    let now = latchkey_domain::UnixTime::now().0;
    let sign = |k: &latchkey_crypto::SigningKey, claims: serde_json::Value| {
        latchkey_crypto::jws::sign(k, "JWT", &claims).unwrap()
    };
    let good = json!({"iss": partner, "sub": "u-77", "aud": server.issuer(), "exp": now + 120, "scope": "profile:read orders:read"});
    let token = sign(&partner_key, good.clone());
    let form = |t: &str| {
        vec![
            ("subject_token", t.to_string()),
            ("subject_token_type", "urn:ietf:params:oauth:token-type:jwt".to_string()),
            ("resource", PROFILE.to_string()),
        ]
    };
    let send = |client: &'static str, form: Vec<(&'static str, String)>| {
        let server = &server;
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            exchange(server, client, &form).await
        }
    };
    let (s, r) = send("front", form(&token)).await;
    assert_eq!(s, 200, "{r}");
    let c = claims(r["access_token"].as_str().unwrap());
    assert_eq!(c["sub"], "partner:u-77", "the partner's subjects keep their own id space");
    assert_eq!(c["scope"], "profile:read", "capped to what the partner is trusted for");
    assert_eq!(c["act"], json!({"sub": "client:front"}));
    assert!(c["exp"].as_i64().unwrap() <= now + 120);

    let mut wrong_aud = good.clone();
    wrong_aud["aud"] = json!("https://elsewhere.example");
    let mut expired = good.clone();
    expired["exp"] = json!(now - 300);
    let mut untrusted = good.clone();
    untrusted["iss"] = json!("https://unknown-idp.example");
    for (name, client, token) in [
        ("a client the partner is not trusted for", "stranger", sign(&partner_key, good.clone())),
        ("aud not naming us", "front", sign(&partner_key, wrong_aud)),
        ("expired", "front", sign(&partner_key, expired)),
        ("an untrusted issuer", "front", sign(&partner_key, untrusted)),
        ("signed by another key", "front", sign(&key(latchkey_domain::SigningAlg::ES256), good.clone())),
    ] {
        let (s, b) = send(client, form(&token)).await;
        assert_eq!((s, b["error"].as_str()), (400, Some("invalid_grant")), "{name}: {b}");
    }
    server.stop().await;
}
