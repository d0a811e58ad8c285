//! The resource-server kit (`latchkey-resource`) against a real server:
//! valid and forged tokens, key rotation, an unknown-kid flood, the
//! revocation feed (and what happens when it goes stale), and the axum
//! middleware's RFC 6750 / RFC 9470 answers with a step-up that a real
//! relying party (the `openidconnect` crate) completes.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use latchkey_domain::SigningAlg;
use latchkey_domain::access_token::TokenProblem;
use latchkey_resource::{
    FeedConfig, KeyOptions, OnStale, Rejection, Requirement, RevocationFeed, Verifier, VerifierConfig,
};
use latchkey_testkit::browser::Browser;
use latchkey_testkit::{Backend, TEST_ADMIN_KEY, TestServer, eventually};
use serde_json::{Value, json};

use crate::sign_in::{WEB_REDIRECT, WEB_SECRET, auth_url, token_request};

const ORDERS: &str = "https://orders.example.test";
const MFA: &str = "urn:latchkey:acr:mfa";

fn config(extra: &str) -> String {
    format!(
        r#"{base}
[[clients]]
id = "svc"
type = "confidential"
secret = "{WEB_SECRET}"
grant_types = ["client_credentials"]
scopes = ["orders:read"]
audiences = ["{ORDERS}"]
{extra}"#,
        base = crate::sign_in::config()
    )
}

async fn start(extra: &str) -> (latchkey_testkit::Setup, TestServer) {
    let setup = latchkey_testkit::Setup::new(Backend::Sqlite).await.unwrap().unwrap().with_toml(&config(extra));
    let server = setup.start().await.unwrap();
    (setup, server)
}

async fn verifier(server: &TestServer, keys: KeyOptions) -> Verifier {
    let mut config = VerifierConfig::new(server.issuer(), ORDERS);
    config.keys = keys;
    Verifier::discover(config, reqwest::Client::new()).await.unwrap()
}

/// A client-credentials token for the orders API.
async fn service_token(server: &TestServer) -> String {
    let (s, b, _) = token_request(
        server,
        Some(("svc", WEB_SECRET)),
        &[("grant_type", "client_credentials"), ("scope", "orders:read"), ("resource", ORDERS)],
    )
    .await;
    assert_eq!(s, 200, "{b}");
    b["access_token"].as_str().unwrap().to_owned()
}

fn claims_of(token: &str) -> Value {
    serde_json::from_slice(&latchkey_crypto::jws::decode_unverified(token).unwrap().1).unwrap()
}

/// `claims` signed with the server's own RS256 key, under header `typ`.
fn signed_by_server(server: &TestServer, typ: &str, claims: &Value) -> String {
    let keys = server.state().keys.snapshot();
    let signer = keys.signer(SigningAlg::RS256, latchkey_domain::UnixTime::now()).unwrap();
    latchkey_crypto::jws::sign(&signer.signer, typ, claims).unwrap()
}

fn with_header(token: &str, header: Value, signature: &str) -> String {
    let payload = token.split('.').nth(1).unwrap();
    format!("{}.{payload}.{signature}", URL_SAFE_NO_PAD.encode(header.to_string()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valid_tokens_pass_and_forged_ones_are_refused_with_their_reason() {
    let (_setup, server) = start("").await;
    let v = verifier(&server, KeyOptions::default()).await;
    let token = service_token(&server).await;
    let ok = v.verify(&token, &Requirement::scopes(["orders:read"])).await.unwrap();
    assert_eq!(ok.claims().sub, "client:svc");
    assert_eq!(ok.token(), token.as_str());

    let header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').next().unwrap()).unwrap()).unwrap();
    let kid = header["kid"].as_str().unwrap();
    let any = Requirement::default();
    let refused = |t: String| {
        let v = &v;
        async move { v.verify(&t, &Requirement::default()).await.unwrap_err() }
    };

    // alg none, and HMAC keyed with the public key (algorithm confusion).
    let none = with_header(&token, json!({ "alg": "none", "kid": kid, "typ": "at+jwt" }), "");
    assert!(matches!(refused(none).await, Rejection::Invalid(TokenProblem::Signature(m)) if m.contains("none")));
    let jwks: Value = server.http.get(server.url("/jwks")).send().await.unwrap().json().await.unwrap();
    let n =
        jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid).unwrap()["n"].as_str().unwrap().to_owned();
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(json!({ "alg": "HS256", "kid": kid, "typ": "at+jwt" }).to_string()),
        token.split('.').nth(1).unwrap()
    );
    let mac = latchkey_crypto::digest::hmac_sha256(n.as_bytes(), input.as_bytes());
    let confused = format!("{input}.{}", URL_SAFE_NO_PAD.encode(mac));
    assert!(matches!(refused(confused).await, Rejection::Invalid(TokenProblem::Signature(m)) if m.contains("HS256")));
    // The right key and algorithm, but ES256 claimed for an RSA kid.
    let es =
        with_header(&token, json!({ "alg": "ES256", "kid": kid, "typ": "at+jwt" }), token.split('.').nth(2).unwrap());
    assert!(matches!(refused(es).await, Rejection::Invalid(TokenProblem::Signature(_))));

    // A changed payload: the signature no longer verifies.
    let mut claims = claims_of(&token);
    claims["scope"] = json!("orders:read orders:write");
    let tampered = format!(
        "{}.{}.{}",
        token.split('.').next().unwrap(),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        token.split('.').nth(2).unwrap()
    );
    assert!(
        matches!(refused(tampered).await, Rejection::Invalid(TokenProblem::Signature(m)) if m.contains("does not verify"))
    );

    // Signed by the server, but wrong in one claim or the type each time.
    let now = latchkey_domain::UnixTime::now().0;
    let base = claims_of(&token);
    let variant = |k: &str, val: Value| {
        let mut c = base.clone();
        c[k] = val;
        c
    };
    type Expect = fn(&Rejection) -> bool;
    let cases: Vec<(String, Expect)> = vec![
        (signed_by_server(&server, "at+jwt", &variant("iss", json!("https://evil.example"))), |r| {
            matches!(r, Rejection::Invalid(TokenProblem::WrongIssuer { .. }))
        }),
        (signed_by_server(&server, "at+jwt", &variant("aud", json!("https://other.example.test"))), |r| {
            matches!(r, Rejection::Invalid(TokenProblem::WrongAudience(_)))
        }),
        (signed_by_server(&server, "at+jwt", &variant("exp", json!(now - 60))), |r| {
            matches!(r, Rejection::Invalid(TokenProblem::Expired(_)))
        }),
        (signed_by_server(&server, "at+jwt", &variant("nbf", json!(now + 600))), |r| {
            matches!(r, Rejection::Invalid(TokenProblem::NotYetValid(_)))
        }),
        (signed_by_server(&server, "JWT", &base), |r| matches!(r, Rejection::Invalid(TokenProblem::WrongType(_)))),
    ];
    for (forged, expected) in cases {
        let got = v.verify(&forged, &any).await.unwrap_err();
        assert!(expected(&got), "{got:?}");
    }
    // Valid, but the route needs a scope the token lacks.
    let got = v.verify(&token, &Requirement::scopes(["orders:write"])).await.unwrap_err();
    assert_eq!(got, Rejection::InsufficientScope { required: vec!["orders:write".into()] });
    assert_eq!(refused("not.a.jwt".into()).await.status(), 401);
    server.stop().await;
}

/// The server rotates its key while tokens keep coming: no verification
/// fails, and tokens signed by the new key verify.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_rotation_is_followed_without_a_failed_request() {
    let (_setup, server) = start("[keys]\nprepublish = \"2s\"\nreload_interval = \"1s\"\n").await;
    // No refetch for unknown kids: the new key must come from the
    // background refresh, before any token it signed arrives.
    let v = verifier(
        &server,
        KeyOptions {
            min_ttl: Duration::from_millis(500),
            unknown_kid_refetch_interval: Duration::from_secs(3600),
            ..KeyOptions::default()
        },
    )
    .await;
    let first_kid = claims_kid(&service_token(&server).await);
    let state = server.state();
    let manager = latchkey_server::keyring::KeyManager {
        store: &state.store,
        master: &state.master,
        events: state.events.as_ref(),
    };
    let new = manager.rotate(SigningAlg::RS256, Duration::from_secs(2), Duration::from_secs(3600)).await.unwrap();
    let mut verified_with_new = false;
    for _ in 0..2000 {
        let token = service_token(&server).await;
        let kid = claims_kid(&token);
        v.verify(&token, &Requirement::scopes(["orders:read"])).await.unwrap_or_else(|e| panic!("{kid}: {e}"));
        if kid == new.kid {
            verified_with_new = true;
            break;
        }
        assert_eq!(kid, first_kid);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(verified_with_new, "the server never signed with the new key");
    server.stop().await;
}

fn claims_kid(token: &str) -> String {
    latchkey_crypto::jws::decode_unverified(token).unwrap().0.kid.unwrap()
}

/// A flood of tokens naming unknown kids fetches the JWKS at most once per
/// interval.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_kid_flood_fetches_at_most_once_per_interval() {
    let (_setup, server) = start("").await;
    let v = Arc::new(
        verifier(
            &server,
            KeyOptions { unknown_kid_refetch_interval: Duration::from_secs(3600), ..KeyOptions::default() },
        )
        .await,
    );
    let token = service_token(&server).await;
    let before = v.keys().fetch_count();
    let mut tasks = Vec::new();
    for i in 0..200 {
        let (v, token) = (v.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let forged =
                with_header(&token, json!({ "alg": "RS256", "kid": format!("forged-{i}"), "typ": "at+jwt" }), "AAAA");
            v.verify(&forged, &Requirement::default()).await.unwrap_err()
        }));
    }
    for t in tasks {
        assert!(matches!(t.await.unwrap(), Rejection::UnknownKey(_)));
    }
    assert!(v.keys().fetch_count() - before <= 1, "{} fetches", v.keys().fetch_count() - before);
    // The real token still verifies from memory.
    assert!(v.verify(&token, &Requirement::default()).await.is_ok());
    server.stop().await;
}

fn feed(server: &TestServer, on_stale: OnStale, max_staleness: Duration) -> Arc<RevocationFeed> {
    let mut config = FeedConfig::new(server.issuer(), "orders-api", WEB_SECRET);
    config.poll_interval = Duration::from_millis(100);
    config.max_staleness = max_staleness;
    config.on_stale = on_stale;
    RevocationFeed::new(config, reqwest::Client::new())
}

/// A user's token for the orders API, from a password sign-in.
async fn user_token(server: &TestServer, browser: &Browser) -> String {
    let url = auth_url(
        server,
        &[
            ("response_type", "code"),
            ("client_id", "web"),
            ("redirect_uri", WEB_REDIRECT),
            ("scope", "openid orders:read"),
            ("resource", ORDERS),
        ],
    );
    let q = browser.authorize_to_redirect(&url, "alice", "alice-password").await.unwrap();
    let (s, b, _) = token_request(
        server,
        Some(("web", WEB_SECRET)),
        &[("grant_type", "authorization_code"), ("code", &q["code"]), ("redirect_uri", WEB_REDIRECT)],
    )
    .await;
    assert_eq!(s, 200, "{b}");
    b["access_token"].as_str().unwrap().to_owned()
}

/// An ended session and a revoked token are refused once the feed has
/// delivered them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocations_reach_the_resource_server() {
    let (_setup, server) = start("").await;
    let revocations = feed(&server, OnStale::FailClosed, Duration::from_secs(30));
    let _poller = revocations.spawn();
    let v = verifier(&server, KeyOptions::default()).await.with_revocations(revocations.clone());
    eventually("the feed's first read", || async {
        v.verify(&service_token(&server).await, &Requirement::default()).await.is_ok()
    })
    .await
    .unwrap();

    let user = user_token(&server, &Browser::new()).await;
    assert!(v.verify(&user, &Requirement::default()).await.is_ok());
    let sid = claims_of(&user)["sid"].as_str().unwrap().to_owned();
    let resp = server
        .http
        .delete(server.url(&format!("/admin/v1/sessions/{sid}")))
        .bearer_auth(TEST_ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    eventually("the ended session is refused", || async {
        matches!(v.verify(&user, &Requirement::default()).await, Err(Rejection::Revoked(_)))
    })
    .await
    .unwrap();

    let service = service_token(&server).await;
    assert!(v.verify(&service, &Requirement::default()).await.is_ok());
    let resp = server
        .http
        .post(server.url("/revoke"))
        .basic_auth("svc", Some(WEB_SECRET))
        .form(&[("token", service.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    eventually("the revoked token is refused", || async {
        matches!(v.verify(&service, &Requirement::default()).await, Err(Rejection::Revoked(_)))
    })
    .await
    .unwrap();
    server.stop().await;
}

/// A feed that is not current refuses everything when failing closed, and
/// nothing when failing open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_feed_fails_closed_or_open_as_configured() {
    let (_setup, server) = start("").await;
    let token = service_token(&server).await;
    for (on_stale, accepted_when_stale) in [(OnStale::FailClosed, false), (OnStale::FailOpen, true)] {
        // Read once, never again: it goes stale after the bound.
        let revocations = feed(&server, on_stale, Duration::from_millis(300));
        revocations.poll().await.unwrap();
        let v = verifier(&server, KeyOptions::default()).await.with_revocations(revocations.clone());
        assert!(v.verify(&token, &Requirement::default()).await.is_ok(), "current: accepted");
        eventually("the feed goes stale", || async {
            v.verify(&token, &Requirement::default()).await.is_ok() == accepted_when_stale
                && (accepted_when_stale
                    || matches!(v.verify(&token, &Requirement::default()).await, Err(Rejection::Unavailable(_))))
        })
        .await
        .unwrap();
    }
    // A feed that never could be read is stale from the start.
    let mut config = FeedConfig::new(server.issuer(), "orders-api", "wrong-secret");
    config.max_staleness = Duration::from_secs(60);
    let broken = RevocationFeed::new(config, reqwest::Client::new());
    assert!(broken.poll().await.is_err());
    let v = verifier(&server, KeyOptions::default()).await.with_revocations(broken);
    assert_eq!(v.verify(&token, &Requirement::default()).await.unwrap_err().status(), 503);
    server.stop().await;
}

/// An API behind the middleware: RFC 6750 answers, and an RFC 9470
/// step-up challenge that the relying party meets by signing in again
/// with a second factor.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_middleware_answers_by_the_rfcs_and_step_up_round_trips() {
    use axum::routing::{get, post};
    use latchkey_resource::axum::{Guard, require};
    use openidconnect::{AuthorizationCode, CsrfToken, Nonce, Scope};

    let (_setup, server) = start("").await;
    let v = Arc::new(verifier(&server, KeyOptions::default()).await);
    let read = Guard::new(v.clone()).require(Requirement::scopes(["orders:read"]));
    let payout = Guard::new(v.clone())
        .require(Requirement::scopes(["orders:read"]).with_acr([MFA]).with_max_age(Duration::from_secs(300)));
    let app = axum::Router::new()
        .route("/orders", get(|t: latchkey_resource::VerifiedToken| async move { t.claims().sub.clone() }))
        .route_layer(axum::middleware::from_fn_with_state(read, require))
        .merge(
            axum::Router::new()
                .route("/payouts", post(|| async { "paid" }))
                .route_layer(axum::middleware::from_fn_with_state(payout, require)),
        )
        .merge(axum::Router::new().route("/orders/{id}", axum::routing::delete(|| async { "deleted" })).route_layer(
            axum::middleware::from_fn_with_state(
                Guard::new(v.clone()).require(Requirement::scopes(["orders:write"])),
                require,
            ),
        ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = format!("http://{}", listener.local_addr().unwrap());
    let serving = tokio::spawn(async move { axum::serve(listener, app).await });
    let http = reqwest::Client::new();
    let call = |method: reqwest::Method, path: &str, token: Option<&str>| {
        let mut req = http.request(method, format!("{api}{path}"));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        async move {
            let resp = req.send().await.unwrap();
            let challenge = resp.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned());
            (resp.status().as_u16(), challenge, resp.text().await.unwrap())
        }
    };

    // RFC 6750 §3.1: no token, no error code; a bad one is invalid_token.
    let (s, c, _) = call(reqwest::Method::GET, "/orders", None).await;
    assert_eq!((s, c.as_deref()), (401, Some(format!("Bearer realm=\"{ORDERS}\"").as_str())));
    let (s, c, _) = call(reqwest::Method::GET, "/orders", Some("garbage")).await;
    assert_eq!(s, 401);
    assert!(c.unwrap().contains("error=\"invalid_token\""));
    let service = service_token(&server).await;
    let (s, _, body) = call(reqwest::Method::GET, "/orders", Some(&service)).await;
    assert_eq!((s, body.as_str()), (200, "client:svc"));

    // A password session's token may read but not pay out: step up.
    let browser = Browser::new();
    let user = user_token(&server, &browser).await;
    assert_eq!(call(reqwest::Method::GET, "/orders", Some(&user)).await.0, 200);
    let (s, c, _) = call(reqwest::Method::POST, "/payouts", Some(&user)).await;
    let c = c.unwrap();
    assert_eq!(s, 401);
    assert!(c.contains("error=\"insufficient_user_authentication\""), "{c}");
    let acr = c.split("acr_values=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let max_age: u64 =
        c.split("max_age=").nth(1).unwrap().split(|ch: char| !ch.is_ascii_digit()).next().unwrap().parse().unwrap();
    assert_eq!((acr.as_str(), max_age), (MFA, 300));

    // The user has a second factor; the relying party asks for what the
    // challenge named, with the openidconnect crate.
    let (secret, now) = crate::mfa::enrol_totp(&server, &browser, "alice-password").await;
    let client = crate::sign_in::rp(&server, "web", Some(WEB_SECRET), WEB_REDIRECT).await;
    let (auth_url, _csrf, _nonce) = client
        .authorize_url(
            openidconnect::core::CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("orders:read".into()))
        .add_extra_param("acr_values", acr)
        .add_extra_param("resource", ORDERS)
        .set_max_age(Duration::from_secs(max_age))
        .url();
    // The password session is not enough: the second factor is asked for.
    let q = crate::mfa::step_up(&browser, auth_url.as_str(), &secret, now).await;
    let http_rp = |r| latchkey_testkit::browser::oidc_send(&server.http, r);
    let tokens =
        client.exchange_code(AuthorizationCode::new(q["code"].clone())).unwrap().request_async(&http_rp).await.unwrap();
    let stepped_up = openidconnect::OAuth2TokenResponse::access_token(&tokens).secret().clone();
    assert_eq!(claims_of(&stepped_up)["acr"], MFA);
    let (s, _, body) = call(reqwest::Method::POST, "/payouts", Some(&stepped_up)).await;
    assert_eq!((s, body.as_str()), (200, "paid"));

    // A scope the token lacks: 403 with the scope needed.
    let (s, c, _) = call(reqwest::Method::DELETE, "/orders/1", Some(&service)).await;
    assert_eq!(s, 403);
    assert!(c.unwrap().contains("error=\"insufficient_scope\""));
    serving.abort();
    server.stop().await;
}

/// The example API (examples/protected-api) on scenario B's bank: a
/// decision per account, and a payout that needs a fresh second factor,
/// reached by stepping up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_api_asks_the_decision_point_and_steps_up() {
    use crate::authz_scenarios::{BANK, PEP_KEY, admin, alice_signs_in, bank_auth_url, redeem};
    let Some((_setup, server)) = crate::authz_scenarios::start(Backend::Sqlite).await else { return };
    let (browser, t0) = alice_signs_in(&server, "openid account:read").await;
    let token = t0["access_token"].as_str().unwrap().to_owned();
    let alice = claims_of(&token)["sub"].as_str().unwrap().to_owned();
    let (s, _) = admin(
        &server,
        reqwest::Method::PUT,
        "/admin/v1/entities/Account/acc-alice",
        Some(json!({ "attributes": { "owner": alice } })),
    )
    .await;
    assert_eq!(s, 200);

    let config = VerifierConfig::new(server.issuer(), BANK);
    let verifier = Arc::new(Verifier::discover(config, reqwest::Client::new()).await.unwrap());
    let decisions = Some(Arc::new(latchkey_resource::Decisions::new(server.issuer(), PEP_KEY, reqwest::Client::new())));
    let app = protected_api::router(protected_api::Api { verifier, decisions });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = format!("http://{}", listener.local_addr().unwrap());
    let serving = tokio::spawn(async move { axum::serve(listener, app).await });
    let http = reqwest::Client::new();
    let call = |method: reqwest::Method, path: &str, token: &str| {
        let req = http.request(method, format!("{api}{path}")).bearer_auth(token);
        async move {
            let resp = req.send().await.unwrap();
            let challenge = resp.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned());
            (resp.status().as_u16(), challenge)
        }
    };

    assert_eq!(call(reqwest::Method::GET, "/me", &token).await.0, 200);
    assert_eq!(call(reqwest::Method::GET, "/accounts/acc-alice", &token).await.0, 200);
    assert_eq!(call(reqwest::Method::GET, "/accounts/acc-bob", &token).await.0, 403, "not hers");
    let (s, c) = call(reqwest::Method::POST, "/accounts/acc-alice/payout", &token).await;
    assert_eq!(s, 401);
    let c = c.unwrap();
    assert!(c.contains("insufficient_user_authentication") && c.contains(MFA) && c.contains("max_age=300"), "{c}");

    let (secret, used_at) = crate::mfa::enrol_totp(&server, &browser, "alice-password").await;
    let url = bank_auth_url(&server, "openid account:read", &[("acr_values", MFA), ("max_age", "300")]);
    let q = crate::mfa::step_up(&browser, &url, &secret, used_at).await;
    let strong = redeem(&server, &q["code"]).await["access_token"].as_str().unwrap().to_owned();
    assert_eq!(call(reqwest::Method::POST, "/accounts/acc-alice/payout", &strong).await.0, 200);
    serving.abort();
    server.stop().await;
}
