//! PRODUCT.md scenarios A, B and C end to end against a real server, and
//! the decision point's promises: a signal or a policy change flips the
//! very next decision, an ended session denies, a capability allows until
//! it expires, `auth_time` past `max_age` denies without any change event,
//! a caller cannot promote a subject, signed webhooks refuse replays and
//! out-of-order updates.

use latchkey_testkit::browser::Browser;
use latchkey_testkit::{Backend, Setup, TEST_ADMIN_KEY, TestServer, eventually};
use serde_json::{Value, json};

use crate::sign_in::{WEB_REDIRECT, WEB_SECRET, auth_url, token_request};

pub const PEP_KEY: &str = "bank-pep-key-0123456789abcdef";
const IDV_KEY: &str = "idv-source-key-0123456789abcdef";
const IDV_HMAC: &str = "idv-hmac-secret-0123456789abcdef";
const FRAUD_KEY: &str = "fraud-source-key-0123456789abcdef";
pub const BANK: &str = "https://bank.api.test";
pub const SANDBOX: &str = "https://sandbox.api.test";
const PRODUCTION: &str = "https://api.test";
const MFA: &str = "urn:latchkey:acr:mfa";

fn example(file: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/scenarios").join(file);
    std::fs::read_to_string(path).unwrap()
}

/// The scenarios' schema (docs/authorization.md), plus a test-only action
/// with a very short `max_age`.
fn schema() -> String {
    example("schema.cedarschema").replace(
        "action view_account, change_payout, change_legal_identity",
        "action view_account, change_payout, change_legal_identity, quick_check",
    )
}

const QUICK_CHECK: &str = r#"
@id("owner-quick-check")
permit(principal is User, action == Action::"quick_check", resource is Account)
when { resource has owner && resource.owner == principal.id };
@id("quick-check-needs-recent-login")
@max_age("4")
forbid(principal is User, action == Action::"quick_check", resource)
unless { context has auth_age && context.auth_age <= 4 };
"#;

pub fn policies() -> String {
    format!("{}\n{QUICK_CHECK}", example("policies.cedar"))
}

pub async fn start(backend: Backend) -> Option<(Setup, TestServer)> {
    start_with_issuer(backend, None).await
}

/// [`start`] with a fixed issuer (several nodes share one).
pub async fn start_with_issuer(backend: Backend, issuer: Option<&str>) -> Option<(Setup, TestServer)> {
    let mut setup = Setup::new(backend).await.unwrap()?;
    setup.issuer = issuer.map(str::to_owned);
    let dir = setup.data_dir();
    std::fs::write(dir.join("schema.cedarschema"), schema()).unwrap();
    std::fs::write(dir.join("policies.cedar"), policies()).unwrap();
    let toml = format!(
        r#"{base}
[[resources]]
identifier = "{BANK}"
scopes = [{{ name = "account:read" }}, {{ name = "payout:write" }}]

[[resources]]
identifier = "{SANDBOX}"
scopes = [{{ name = "sandbox:read" }}, {{ name = "data:write" }}]

[[resources]]
identifier = "{PRODUCTION}"
scopes = [{{ name = "sandbox:read" }}, {{ name = "data:write" }}]

[[clients]]
id = "bank"
type = "confidential"
secret = "{WEB_SECRET}"
redirect_uris = ["{WEB_REDIRECT}"]
scopes = ["openid", "account:read", "payout:write"]
audiences = ["{BANK}"]
first_party = true

[[clients]]
id = "integrator"
type = "confidential"
secret = "{WEB_SECRET}"
grant_types = ["client_credentials"]
scopes = ["sandbox:read", "data:write"]
audiences = ["{SANDBOX}", "{PRODUCTION}"]

[authz]
schema = "{schema}"
policies = ["{policies}"]
govern_issuance = true
token_attributes = ["verification_level", "kyc_status"]
risk_revoke_threshold = 80

[[authz.peps]]
name = "bank-api"
key = "{PEP_KEY}"

[[authz.signal_sources]]
name = "idv"
key = "{IDV_KEY}"
hmac_secret = "{IDV_HMAC}"
attributes = ["verification_level", "kyc_status"]

[[authz.signal_sources]]
name = "fraud"
key = "{FRAUD_KEY}"
attributes = ["risk_score"]
"#,
        base = crate::sign_in::config(),
        schema = dir.join("schema.cedarschema").display(),
        policies = dir.join("policies.cedar").display(),
    );
    let setup = setup.with_toml(&toml);
    let server = setup.start().await.unwrap();
    Some((setup, server))
}

fn claims(token: &str) -> Value {
    serde_json::from_slice(&latchkey_crypto::jws::decode_unverified(token).unwrap().1).unwrap()
}

/// One AuthZEN evaluation by the bank's PEP: (decision, context).
pub async fn decide(server: &TestServer, subject: Value, action: &str, resource: Value) -> (bool, Value) {
    let body = json!({ "subject": subject, "action": { "name": action }, "resource": resource });
    let resp = server
        .http
        .post(server.url("/access/v1/evaluation"))
        .header("authorization", format!("Bearer {PEP_KEY}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    (v["decision"] == true, v["context"].clone())
}

fn token_subject(token: &str) -> Value {
    json!({ "type": "access_token", "id": token })
}

fn account(id: &str) -> Value {
    json!({ "type": "Account", "id": id })
}

pub async fn admin(server: &TestServer, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = server.http.request(method, server.url(path)).bearer_auth(TEST_ADMIN_KEY);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Sends a signal as the identity-verification provider (signed) or the
/// fraud system (unsigned); (status, body).
pub async fn signal(server: &TestServer, source: &str, body: &Value, signed_at: Option<i64>) -> (u16, Value) {
    let raw = serde_json::to_vec(body).unwrap();
    let key = if source == "idv" { IDV_KEY } else { FRAUD_KEY };
    let mut req = server
        .http
        .post(server.url("/signals/v1"))
        .bearer_auth(key)
        .header("content-type", "application/json")
        .body(raw.clone());
    if let Some(t) = signed_at {
        req = req.header("latchkey-signature", latchkey_server::authz::signals::sign(IDV_HMAC, t, &raw));
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Scope strings compare as sets (the server writes them sorted).
fn scopes(v: &Value) -> std::collections::BTreeSet<String> {
    v.as_str().unwrap_or("").split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

fn set(s: &str) -> std::collections::BTreeSet<String> {
    scopes(&Value::from(s))
}

fn now() -> i64 {
    latchkey_domain::UnixTime::now().0
}

/// Alice signs in to the bank with her password; (browser, token response).
pub async fn alice_signs_in(server: &TestServer, scope: &str) -> (Browser, Value) {
    let browser = Browser::new();
    let url = bank_auth_url(server, scope, &[]);
    let q = browser.authorize_to_redirect(&url, "alice", "alice-password").await.unwrap();
    let tokens = redeem(server, &q["code"]).await;
    (browser, tokens)
}

pub fn bank_auth_url(server: &TestServer, scope: &str, extra: &[(&str, &str)]) -> String {
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", "bank"),
        ("redirect_uri", WEB_REDIRECT),
        ("scope", scope),
        ("resource", BANK),
        ("state", "s"),
    ];
    params.extend_from_slice(extra);
    auth_url(server, &params)
}

pub async fn redeem(server: &TestServer, code: &str) -> Value {
    let (s, t, _) = token_request(
        server,
        Some(("bank", WEB_SECRET)),
        &[("grant_type", "authorization_code"), ("code", code), ("redirect_uri", WEB_REDIRECT)],
    )
    .await;
    assert_eq!(s, 200, "{t}");
    t
}

pub async fn client_credentials(server: &TestServer, scope: &str, resource: &str) -> (u16, Value) {
    let (s, b, _) = token_request(
        server,
        Some(("integrator", WEB_SECRET)),
        &[("grant_type", "client_credentials"), ("scope", scope), ("resource", resource)],
    )
    .await;
    (s, b)
}

/// Scenario A: sandbox at once; write access and production only after
/// the contract is approved, with the same client.
async fn scenario_a_integrator(backend: Backend) {
    let Some((_setup, server)) = start(backend).await else { return };
    let (s, t) = client_credentials(&server, "sandbox:read data:write", SANDBOX).await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(t["scope"], "sandbox:read", "write access is withheld before the contract");
    assert_eq!(claims(t["access_token"].as_str().unwrap())["scope"], "sandbox:read");
    let (s, e) = client_credentials(&server, "sandbox:read", PRODUCTION).await;
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_target")), "{e}");

    // An administrator records the approved contract on the client.
    let (s, _) = admin(
        &server,
        reqwest::Method::PATCH,
        "/admin/v1/entities/Client/integrator",
        Some(json!({ "attributes": { "contract_status": "approved" } })),
    )
    .await;
    assert_eq!(s, 200);
    let (s, t) = client_credentials(&server, "sandbox:read data:write", PRODUCTION).await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(scopes(&t["scope"]), set("sandbox:read data:write"));
    assert_eq!(claims(t["access_token"].as_str().unwrap())["aud"], PRODUCTION);
    server.stop().await;
}
crate::both_backends!(scenario_a_integrator);

/// Scenario B: an ordinary token views; a payout change needs a fresh MFA
/// (the deny says so), a legal-identity change also a verification.
async fn scenario_b_sensitive_change(backend: Backend) {
    let Some((_setup, server)) = start(backend).await else { return };
    let (browser, t0) = alice_signs_in(&server, "openid account:read payout:write").await;
    assert_eq!(scopes(&t0["scope"]), set("openid account:read"), "payout:write needs a fresh MFA: withheld");
    let token = t0["access_token"].as_str().unwrap().to_string();
    let alice = claims(&token)["sub"].as_str().unwrap().to_string();
    let (s, _) = admin(
        &server,
        reqwest::Method::PUT,
        "/admin/v1/entities/Account/acc-alice",
        Some(json!({ "attributes": { "owner": alice } })),
    )
    .await;
    assert_eq!(s, 200);

    assert!(decide(&server, token_subject(&token), "view_account", account("acc-alice")).await.0);
    let (allowed, ctx) = decide(&server, token_subject(&token), "change_payout", account("acc-alice")).await;
    assert!(!allowed);
    assert_eq!(ctx, json!({ "acr_values": MFA, "max_age": 300 }), "the deny carries the step-up");
    assert!(!ctx.to_string().contains("sensitive-changes"), "no explanation unless asked");

    // Step-up: enrol a second factor, then authenticate with it.
    let (secret, used_at) = crate::mfa::enrol_totp(&server, &browser, "alice-password").await;
    let url = bank_auth_url(&server, "openid account:read payout:write", &[("acr_values", MFA)]);
    let q = crate::mfa::step_up(&browser, &url, &secret, used_at).await;
    let t1 = redeem(&server, &q["code"]).await;
    assert_eq!(scopes(&t1["scope"]), set("openid account:read payout:write"), "fresh MFA: the privileged scope");
    let strong = t1["access_token"].as_str().unwrap().to_string();
    assert_eq!(claims(&strong)["acr"], MFA);
    assert!(decide(&server, token_subject(&strong), "change_payout", account("acc-alice")).await.0);

    // Legal identity also needs a document verification.
    let (allowed, ctx) = decide(&server, token_subject(&strong), "change_legal_identity", account("acc-alice")).await;
    assert!(!allowed);
    assert_eq!(ctx["required_verification"], "document");
    let body = json!({
        "event_id": "idv-1", "occurred_at": now(),
        "subject": { "id": alice }, "attributes": { "verification_level": "document" },
    });
    assert_eq!(signal(&server, "idv", &body, Some(now())).await.0, 200);
    assert!(decide(&server, token_subject(&strong), "change_legal_identity", account("acc-alice")).await.0);
    // Someone else's account stays out of reach, token or not.
    assert!(!decide(&server, token_subject(&strong), "view_account", account("acc-bob")).await.0);
    server.stop().await;
}
crate::both_backends!(scenario_b_sensitive_change);

/// Scenario C: verification and KYC raise trust (and the next token says
/// so); a fraud signal lowers it on the next request and, past the
/// threshold, ends the sessions.
async fn scenario_c_onboarding(backend: Backend) {
    let Some((_setup, server)) = start(backend).await else { return };
    let (_browser, t0) = alice_signs_in(&server, "openid account:read").await;
    let token = t0["access_token"].as_str().unwrap().to_string();
    let alice = claims(&token)["sub"].as_str().unwrap().to_string();
    assert!(claims(&token).get("verification_level").is_none());
    let api = |id: &str| json!({ "type": "Api", "id": id });
    assert!(decide(&server, token_subject(&token), "call_api", api("profile")).await.0);
    assert!(!decide(&server, token_subject(&token), "call_api", api("payments")).await.0);

    // The provider reports the document check, then KYC.
    for (id, attrs) in
        [("idv-doc", json!({ "verification_level": "document" })), ("idv-kyc", json!({ "kyc_status": "passed" }))]
    {
        let body = json!({ "event_id": id, "occurred_at": now(), "subject": { "id": alice }, "attributes": attrs });
        let (s, b) = signal(&server, "idv", &body, Some(now())).await;
        assert_eq!((s, b["status"].as_str()), (200, Some("applied")), "{b}");
    }
    assert!(decide(&server, token_subject(&token), "call_api", api("payments")).await.0, "the next decision");
    // The next token carries the new trust level.
    let (s, t1, _) = token_request(
        &server,
        Some(("bank", WEB_SECRET)),
        &[("grant_type", "refresh_token"), ("refresh_token", t0["refresh_token"].as_str().unwrap_or(""))],
    )
    .await;
    let fresh = if s == 200 { t1 } else { alice_signs_in(&server, "openid account:read").await.1 };
    let c = claims(fresh["access_token"].as_str().unwrap());
    assert_eq!((c["verification_level"].as_str(), c["kyc_status"].as_str()), (Some("document"), Some("passed")));

    // A fraud signal: the very next decision denies, and the sessions end.
    let body = json!({ "event_id": "fraud-1", "occurred_at": now(), "subject": { "id": alice }, "attributes": { "risk_score": 95 } });
    let (s, b) = signal(&server, "fraud", &body, None).await;
    assert_eq!(s, 200, "{b}");
    assert!(b["sessions_ended"].as_u64().unwrap() >= 1, "{b}");
    let explicit = json!({ "type": "User", "id": alice });
    let (allowed, _) = decide(&server, explicit, "call_api", api("profile")).await;
    assert!(!allowed, "fraud flag denies the explicit subject");
    let resp = server
        .http
        .post(server.url("/access/v1/evaluation"))
        .bearer_auth(PEP_KEY)
        .json(
            &json!({ "subject": token_subject(&token), "action": { "name": "call_api" }, "resource": api("profile") }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.json::<Value>().await.unwrap(), json!({ "decision": false }), "the ended session denies");
    server.stop().await;
}
crate::both_backends!(scenario_c_onboarding);

/// Caller properties never override stored attributes or claim protected
/// ones; capabilities allow until they expire; a policy update flips the
/// next decision; `auth_time` past `max_age` denies with no change event.
async fn decision_point_promises(backend: Backend) {
    let Some((_setup, server)) = start(backend).await else { return };
    let (_browser, t0) = alice_signs_in(&server, "openid account:read").await;
    let token = t0["access_token"].as_str().unwrap().to_string();
    let alice = claims(&token)["sub"].as_str().unwrap().to_string();
    let api = |id: &str| json!({ "type": "Api", "id": id });

    // Properties: a PEP cannot promote a subject.
    let (s, _) = admin(
        &server,
        reqwest::Method::PUT,
        &format!("/admin/v1/entities/User/{alice}"),
        Some(json!({ "attributes": { "verification_level": "none" } })),
    )
    .await;
    assert_eq!(s, 200);
    let claimed = json!({ "type": "User", "id": alice, "properties": {
        "verification_level": "document", "kyc_status": "passed", "risk_score": 0 } });
    assert!(!decide(&server, claimed, "call_api", api("payments")).await.0, "stored and protected attributes win");

    // A capability: bob's account is viewable by alice until it expires.
    let (s, _) = admin(
        &server,
        reqwest::Method::PUT,
        "/admin/v1/entities/Account/acc-bob",
        Some(json!({ "attributes": { "owner": "bob" } })),
    )
    .await;
    assert_eq!(s, 200);
    assert!(!decide(&server, token_subject(&token), "view_account", account("acc-bob")).await.0);
    let (s, cap) = admin(
        &server,
        reqwest::Method::POST,
        "/admin/v1/capabilities",
        Some(json!({ "subject": { "type": "User", "id": alice }, "action": "view_account",
                     "resource": { "type": "Account", "id": "acc-bob" }, "expires_in": 2 })),
    )
    .await;
    assert_eq!(s, 201, "{cap}");
    assert!(decide(&server, token_subject(&token), "view_account", account("acc-bob")).await.0, "granted");
    eventually("the capability expires", || async {
        !decide(&server, token_subject(&token), "view_account", account("acc-bob")).await.0
    })
    .await
    .unwrap();

    // A policy update flips the next decision.
    let (s, _) = admin(
        &server,
        reqwest::Method::PUT,
        "/admin/v1/entities/Account/acc-alice",
        Some(json!({ "attributes": { "owner": alice } })),
    )
    .await;
    assert_eq!(s, 200);
    assert!(decide(&server, token_subject(&token), "view_account", account("acc-alice")).await.0);
    let stricter = format!(
        "{}\n@id(\"maintenance\") forbid(principal, action == Action::\"view_account\", resource);\n",
        policies()
    );
    let (s, put) =
        admin(&server, reqwest::Method::PUT, "/admin/v1/policies", Some(json!({ "policies": stricter }))).await;
    assert_eq!(s, 200, "{put}");
    assert!(!decide(&server, token_subject(&token), "view_account", account("acc-alice")).await.0, "new policy");
    // A draft that does not validate is refused and changes nothing.
    let (s, e) = admin(
        &server,
        reqwest::Method::PUT,
        "/admin/v1/policies",
        Some(json!({ "policies": "permit(principal, action == Action::\"nope\", resource);" })),
    )
    .await;
    assert_eq!(s, 400, "{e}");
    let (_, active) = admin(&server, reqwest::Method::GET, "/admin/v1/policies/active", None).await;
    assert_eq!(active["version"], put["version"]);

    // An ended session denies, although the policies would allow.
    assert!(decide(&server, token_subject(&token), "call_api", api("profile")).await.0);
    let (s, _) = admin(&server, reqwest::Method::DELETE, &format!("/admin/v1/users/{alice}/sessions"), None).await;
    assert_eq!(s, 200);
    assert!(!decide(&server, token_subject(&token), "call_api", api("profile")).await.0, "session ended");
    assert!(decide(&server, json!({ "type": "User", "id": alice }), "call_api", api("profile")).await.0);

    // max_age: allowed right after login, denied once auth_time is older
    // than 4 s, with no change event in between.
    let (s, _) =
        admin(&server, reqwest::Method::PUT, "/admin/v1/policies", Some(json!({ "policies": policies() }))).await;
    assert_eq!(s, 200);
    let (_browser, t1) = alice_signs_in(&server, "openid account:read").await;
    let token = t1["access_token"].as_str().unwrap().to_string();
    let auth_time = claims(&token)["auth_time"].as_i64().unwrap();
    if now() - auth_time <= 3 {
        assert!(decide(&server, token_subject(&token), "quick_check", account("acc-alice")).await.0);
    }
    eventually("the authentication grows too old", || async {
        !decide(&server, token_subject(&token), "quick_check", account("acc-alice")).await.0
    })
    .await
    .unwrap();
    server.stop().await;
}
crate::both_backends!(decision_point_promises);

/// Signed webhooks: a replay, a stale signature, a forged one, an
/// attribute the source may not set, and an out-of-order update are all
/// refused or ignored.
async fn signal_webhooks(backend: Backend) {
    let Some((_setup, server)) = start(backend).await else { return };
    let subject = json!({ "type": "User", "id": "u-42" });
    let newer = json!({ "event_id": "e-2", "occurred_at": now(), "subject": subject,
                        "attributes": { "verification_level": "failed" } });
    let (s, b) = signal(&server, "idv", &newer, Some(now())).await;
    assert_eq!((s, b["status"].as_str()), (200, Some("applied")), "{b}");

    // Replayed: same event id, no second effect.
    let (s, b) = signal(&server, "idv", &newer, Some(now())).await;
    assert_eq!((s, b["status"].as_str()), (200, Some("duplicate")), "{b}");
    // Delivered late: an older "document" never overwrites the newer state.
    let older = json!({ "event_id": "e-1", "occurred_at": now() - 60, "subject": subject,
                        "attributes": { "verification_level": "document" } });
    let (s, b) = signal(&server, "idv", &older, Some(now())).await;
    assert_eq!((s, b["status"].as_str()), (200, Some("stale")), "{b}");
    let (_, e) = admin(&server, reqwest::Method::GET, "/admin/v1/entities/User/u-42", None).await;
    assert_eq!(e["attributes"]["verification_level"], "failed");

    // Unsigned, badly signed, or signed outside the replay window.
    let fresh = json!({ "event_id": "e-3", "occurred_at": now(), "subject": subject,
                        "attributes": { "verification_level": "document" } });
    assert_eq!(signal(&server, "idv", &fresh, None).await.0, 401);
    assert_eq!(signal(&server, "idv", &fresh, Some(now() - 3600)).await.0, 401);
    let raw = serde_json::to_vec(&fresh).unwrap();
    let forged = latchkey_server::authz::signals::sign("not-the-secret", now(), &raw);
    let resp = server
        .http
        .post(server.url("/signals/v1"))
        .bearer_auth(IDV_KEY)
        .header("latchkey-signature", forged)
        .body(raw)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    // The fraud system may not set a verification level; nobody unknown may signal.
    let (s, _) = signal(&server, "fraud", &fresh, None).await;
    assert_eq!(s, 403);
    let resp = server
        .http
        .post(server.url("/signals/v1"))
        .bearer_auth("unknown-source-key-0123456789")
        .json(&fresh)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let (_, e) = admin(&server, reqwest::Method::GET, "/admin/v1/entities/User/u-42", None).await;
    assert_eq!(e["attributes"]["verification_level"], "failed", "nothing refused changed anything");
    server.stop().await;
}
crate::both_backends!(signal_webhooks);

/// Roles are parents with a hierarchy of their own; changing a role's
/// parents changes, at once, what everyone holding it may do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_hierarchies_and_their_changes() {
    let Some((_setup, server)) = start(Backend::Sqlite).await else { return };
    let staff_only = format!(
        "{}\n@id(\"staff-internal\") permit(principal in Role::\"staff\", action == Action::\"call_api\", resource == Api::\"internal\");\n",
        policies()
    );
    let (s, put) =
        admin(&server, reqwest::Method::PUT, "/admin/v1/policies", Some(json!({ "policies": staff_only }))).await;
    assert_eq!(s, 200, "{put}");
    let put_entity = |path: &'static str, body: Value| {
        let server = &server;
        async move { admin(server, reqwest::Method::PUT, path, Some(body)).await.0 }
    };
    assert_eq!(
        put_entity("/admin/v1/entities/User/u-9", json!({ "parents": [{ "type": "Role", "id": "manager" }] })).await,
        200
    );
    let (subject, internal) = (json!({ "type": "User", "id": "u-9" }), json!({ "type": "Api", "id": "internal" }));
    assert!(!decide(&server, subject.clone(), "call_api", internal.clone()).await.0, "a manager is not staff yet");
    assert_eq!(
        put_entity("/admin/v1/entities/Role/manager", json!({ "parents": [{ "type": "Role", "id": "staff" }] })).await,
        200
    );
    assert!(decide(&server, subject.clone(), "call_api", internal.clone()).await.0, "manager in staff");
    assert!(decide(&server, subject.clone(), "call_api", internal.clone()).await.0, "cached");
    assert_eq!(put_entity("/admin/v1/entities/Role/manager", json!({ "parents": [] })).await, 200);
    assert!(
        !decide(&server, subject, "call_api", internal).await.0,
        "the hierarchy change reaches the cached decision"
    );
    server.stop().await;
}
