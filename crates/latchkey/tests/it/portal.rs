//! The developer portal, black box over HTTP: signing in through the
//! portal's own client, fenced sandbox clients and test users, the error
//! reference, trace lookup by a client's owner only, the decoder's
//! server-side token check, and the playground's backend. (The scripted
//! pages are exercised in headless Chromium by tests/browser, see
//! browser.rs.)

use latchkey_testkit::browser::{Browser, hidden_input};
use latchkey_testkit::{Backend, TestServer};
use serde_json::{Value, json};

/// Signs in to the portal the way a browser does: portal → authorize →
/// login → callback → portal.
async fn sign_in(server: &TestServer, user: &str, password: &str) -> Browser {
    let browser = Browser::new();
    let start = browser.get(&server.url("/portal/signin?next=/portal/sandbox")).await.unwrap();
    assert_eq!(start.status(), 303);
    let authorize = start.headers()["location"].to_str().unwrap().to_string();
    assert!(authorize.contains("client_id=latchkey-portal"), "{authorize}");
    let back = browser.authorize(&authorize, user, password).await.unwrap();
    let callback = back.headers()["location"].to_str().unwrap().to_string();
    assert!(callback.starts_with(&server.url("/portal/callback")), "{callback}");
    let done = browser.get(&callback).await.unwrap();
    assert_eq!(done.status(), 303);
    assert_eq!(done.headers()["location"], server.url("/portal/sandbox"));
    browser
}

/// Posts one of the sandbox page's forms with a fresh CSRF value.
async fn sandbox_form(server: &TestServer, browser: &Browser, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let page = browser.get(&server.url("/portal/sandbox")).await.unwrap().text().await.unwrap();
    let csrf = hidden_input(&page, "csrf").expect("csrf on the sandbox page");
    let mut fields = vec![("csrf", csrf.as_str())];
    fields.extend_from_slice(form);
    let resp = browser.post_form(&server.url(path), &fields).await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap())
}

fn between<'a>(html: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = html.find(start)? + start.len();
    Some(&html[from..from + html[from..].find(end)?])
}

/// Registers a confidential sandbox client with `orders:read`; its id and
/// the secret the page shows once.
async fn register_service(server: &TestServer, browser: &Browser) -> (String, String) {
    let (status, html) = sandbox_form(
        server,
        browser,
        "/portal/sandbox/clients",
        &[("name", "Svc"), ("kind", "confidential"), ("scope", "orders:read")],
    )
    .await;
    assert_eq!(status, 201, "{html}");
    let id = between(&html, "id=\"new-client-id\">", "<").unwrap().to_string();
    let secret = between(&html, "id=\"new-secret\" readonly value=\"", "\"").unwrap().to_string();
    (id, secret)
}

async fn client_credentials(server: &TestServer, id: &str, secret: &str) -> Value {
    let resp = server
        .http
        .post(server.url("/token"))
        .basic_auth(id, Some(secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "orders:read"),
            ("resource", "https://api.example.com"),
        ])
        .send()
        .await
        .unwrap();
    resp.json().await.unwrap()
}

#[tokio::test]
async fn developers_register_fenced_sandbox_clients() {
    let mut setup = crate::setup_or_skip!(Backend::Sqlite);
    setup.dev = true;
    setup.toml = "[portal]\nsandbox_quota = 3\n".into();
    let server = setup.start().await.unwrap();

    // Signed out, the portal is readable and asks to sign in for the sandbox.
    let home = server.http.get(server.url("/portal")).send().await.unwrap();
    assert_eq!(home.status(), 200);
    assert!(home.headers()["content-security-policy"].to_str().unwrap().contains("script-src 'self'"));
    let html = home.text().await.unwrap();
    assert!(html.contains("Quickstarts") && html.contains("sandbox-spa"), "{html}");
    let page = server.http.get(server.url("/portal/sandbox")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("/portal/signin"), "{page}");

    let alice = sign_in(&server, "alice", "alice-sandbox-password").await;
    let page = alice.get(&server.url("/portal/sandbox")).await.unwrap().text().await.unwrap();
    assert!(page.contains("Signed in as <strong>alice</strong>"), "{page}");

    // A public client: fenced to the sandbox API, never first party, the
    // flow runner among its redirect URIs.
    let (status, html) = sandbox_form(
        &server,
        &alice,
        "/portal/sandbox/clients",
        &[
            ("name", "My SPA"),
            ("kind", "public"),
            ("redirect_uris", "https://app.example.com/cb"),
            ("scope", "openid"),
            ("scope", "orders:read"),
        ],
    )
    .await;
    assert_eq!(status, 201, "{html}");
    let spa = between(&html, "id=\"new-client-id\">", "<").unwrap().to_string();
    let stored = server.state().store.get_client(&spa).await.unwrap().unwrap();
    assert_eq!(stored.origin, latchkey_domain::user::Origin::Sandbox);
    assert!(!stored.first_party);
    assert_eq!(stored.audiences, vec!["https://api.example.com".to_string()]);
    assert!(stored.redirect_uris.contains(&server.url("/portal/flows")));
    assert!(stored.secret_hash.is_none());

    // A confidential client: its secret is shown once and works; token
    // exchange is refused even though the client is confidential.
    let (status, html) = sandbox_form(
        &server,
        &alice,
        "/portal/sandbox/clients",
        &[("name", "My service"), ("kind", "confidential"), ("scope", "orders:read")],
    )
    .await;
    assert_eq!(status, 201, "{html}");
    let service = between(&html, "id=\"new-client-id\">", "<").unwrap().to_string();
    let secret = between(&html, "id=\"new-secret\" readonly value=\"", "\"").unwrap().to_string();
    let again = alice.get(&server.url("/portal/sandbox")).await.unwrap().text().await.unwrap();
    assert!(!again.contains(&secret), "the secret is shown only once");
    let token = client_credentials(&server, &service, &secret).await;
    let access = token["access_token"].as_str().expect("a token for the sandbox client").to_string();
    let exchange = server
        .http
        .post(server.url("/token"))
        .basic_auth(&service, Some(&secret))
        .form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"),
            ("subject_token", access.as_str()),
            ("subject_token_type", "urn:ietf:params:oauth:token-type:access_token"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(exchange.status(), 400);
    assert_eq!(exchange.json::<Value>().await.unwrap()["error"], "unauthorized_client");

    // The fence: script schemes, wildcards, fragments, foreign scopes.
    for (redirect, scope) in [
        ("javascript:alert(1)", "openid"),
        ("https://*.example.com/cb", "openid"),
        ("https://app.example.com/cb#x", "openid"),
        ("https://app.example.com/cb", "admin:all"),
    ] {
        let (status, html) = sandbox_form(
            &server,
            &alice,
            "/portal/sandbox/clients",
            &[("name", "Bad"), ("kind", "public"), ("redirect_uris", redirect), ("scope", scope)],
        )
        .await;
        assert_eq!(status, 400, "{redirect} {scope}: {html}");
        assert!(html.contains("role=\"alert\""), "{html}");
    }
    // A form without its CSRF value changes nothing.
    let forged = alice
        .post_form(
            &server.url("/portal/sandbox/clients"),
            &[("name", "Forged"), ("kind", "public"), ("scope", "openid")],
        )
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let alice_id = server.state().store.get_user_by_username("alice").await.unwrap().unwrap().id;
    assert_eq!(server.state().store.sandbox_clients_of(&alice_id).await.unwrap().len(), 2);

    // The quota (3 here).
    let (status, html) =
        sandbox_form(&server, &alice, "/portal/sandbox/clients", &[("name", "Third"), ("scope", "openid")]).await;
    assert_eq!(status, 201);
    let third = between(&html, "id=\"new-client-id\">", "<").unwrap().to_string();
    let (status, html) =
        sandbox_form(&server, &alice, "/portal/sandbox/clients", &[("name", "Fourth"), ("scope", "openid")]).await;
    assert_eq!(status, 409, "{html}");
    assert!(html.contains("limit of 3"), "{html}");

    // Consent is always asked for a sandbox app, and labelled as such.
    for _ in 0..2 {
        let url = format!(
            "{}?response_type=code&client_id={spa}&redirect_uri={}&scope=openid&state=s&code_challenge={}&code_challenge_method=S256",
            server.url("/authorize"),
            url::form_urlencoded::byte_serialize(server.url("/portal/flows").as_bytes()).collect::<String>(),
            latchkey_crypto::digest::pkce_s256("a-verifier-of-enough-length-0123456789-abcdef"),
        );
        let resp = alice.get(&url).await.unwrap();
        let consent = resp.headers()["location"].to_str().unwrap().to_string();
        assert!(consent.contains("/consent?tx="), "consent must be asked every time: {consent}");
        let html = alice.get(&consent).await.unwrap().text().await.unwrap();
        assert!(html.contains("<strong>sandbox</strong> app"), "{html}");
        let tx = hidden_input(&html, "tx").unwrap();
        let csrf = hidden_input(&html, "csrf").unwrap();
        let back = alice
            .post_form(&server.url("/consent"), &[("tx", &tx), ("csrf", &csrf), ("decision", "approve")])
            .await
            .unwrap();
        assert!(back.headers()["location"].to_str().unwrap().starts_with(&server.url("/portal/flows?code=")));
    }

    // Someone else cannot delete it; its owner can.
    let bob = sign_in(&server, "bob", "bob-sandbox-password").await;
    let (status, _) = sandbox_form(&server, &bob, &format!("/portal/sandbox/clients/{spa}/delete"), &[]).await;
    assert_eq!(status, 404);
    assert!(server.state().store.get_client(&spa).await.unwrap().is_some());
    let (status, _) = sandbox_form(&server, &alice, &format!("/portal/sandbox/clients/{spa}/delete"), &[]).await;
    assert_eq!(status, 200);
    assert!(server.state().store.get_client(&spa).await.unwrap().is_none());

    // Test users: the password is shown once; it signs in to sandbox apps
    // only, never to the portal or any other app.
    let (status, html) = sandbox_form(&server, &alice, "/portal/sandbox/users", &[]).await;
    assert_eq!(status, 201, "{html}");
    let username = between(&html, "Created test user <code>", "<").unwrap().to_string();
    let password = between(&html, "id=\"new-password\" readonly value=\"", "\"").unwrap().to_string();
    let tester = Browser::new();
    let start = tester.get(&server.url("/portal/signin")).await.unwrap();
    let back = tester.authorize(start.headers()["location"].to_str().unwrap(), &username, &password).await.unwrap();
    let refused = back.headers()["location"].to_str().unwrap().to_string();
    assert!(refused.contains("error=access_denied"), "{refused}");
    let url = format!(
        "{}?response_type=code&client_id={third}&redirect_uri={}&scope=openid&state=s&code_challenge={}&code_challenge_method=S256",
        server.url("/authorize"),
        url::form_urlencoded::byte_serialize(server.url("/portal/flows").as_bytes()).collect::<String>(),
        latchkey_crypto::digest::pkce_s256("a-verifier-of-enough-length-0123456789-abcdef"),
    );
    let q = tester.authorize_to_redirect(&url, &username, &password).await.unwrap();
    assert!(q.contains_key("code"), "a test user signs in to a sandbox app: {q:?}");

    // Deleting the developer deletes what they made on the portal.
    server.state().store.delete_user(&alice_id).await.unwrap();
    assert!(server.state().store.get_client(&third).await.unwrap().is_none());
    assert!(server.state().store.get_user_by_username(&username).await.unwrap().is_none());
    server.stop().await;
}

#[tokio::test]
async fn sign_in_returns_only_to_portal_pages() {
    let mut setup = crate::setup_or_skip!(Backend::Sqlite);
    setup.dev = true;
    let server = setup.start().await.unwrap();
    for next in [
        "/portal/../authorize",
        "//evil.example/portal",
        "/portal/x?y=1",
        "https://evil.example/portal",
        "/portal/%2e%2e/token",
    ] {
        let browser = Browser::new();
        let q: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
        let start = browser.get(&server.url(&format!("/portal/signin?next={q}"))).await.unwrap();
        let authorize = start.headers()["location"].to_str().unwrap().to_string();
        let back = browser.authorize(&authorize, "alice", "alice-sandbox-password").await.unwrap();
        let callback = back.headers()["location"].to_str().unwrap().to_string();
        let done = browser.get(&callback).await.unwrap();
        assert_eq!(done.headers()["location"], server.url("/portal"), "{next}");
    }
    // The callback shows nothing from its query until the state matches.
    let page = Browser::new()
        .get(&server.url("/portal/callback?error=access_denied&error_description=Call+support+at+555"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("555") && page.contains("state mismatch"), "{page}");
    server.stop().await;
}

#[tokio::test]
async fn a_policy_denial_keeps_its_reasons_from_the_clients_developer() {
    let mut setup = crate::setup_or_skip!(Backend::Sqlite);
    setup.dev = true;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/scenarios/latchkey.toml");
    setup.toml = std::fs::read_to_string(&path).unwrap();
    setup.config_file = Some(path);
    let server = setup.start().await.unwrap();
    let alice = sign_in(&server, "alice", "alice-sandbox-password").await;
    let (id, secret) = register_service(&server, &alice).await;
    // The scenarios' policies give clients no sandbox API: a policy denial.
    let body = client_credentials(&server, &id, &secret).await;
    assert_eq!(body["error"], "invalid_target", "{body}");
    assert!(body["error_uri"].as_str().unwrap().ends_with("/portal/errors/invalid_target/policy_denied"));
    let lookup = server.url(&format!("/portal/trace?id={}", body["trace_id"].as_str().unwrap()));
    latchkey_testkit::eventually("the refusal is recorded", || async {
        alice.get(&lookup).await.unwrap().text().await.unwrap().contains("refused by an authorization policy")
    })
    .await
    .unwrap();
    let html = alice.get(&lookup).await.unwrap().text().await.unwrap();
    assert!(!html.contains("reasons="), "policy ids must not reach the developer: {html}");
    server.stop().await;
}

#[tokio::test]
async fn only_a_clients_owner_sees_the_reason_behind_its_trace_id() {
    let mut setup = crate::setup_or_skip!(Backend::Sqlite);
    setup.dev = true;
    let server = setup.start().await.unwrap();
    let alice = sign_in(&server, "alice", "alice-sandbox-password").await;
    let (id, secret) = register_service(&server, &alice).await;

    // An invalid_grant: the response says only that, plus a trace id and
    // an error_uri to the reference.
    let resp = server
        .http
        .post(server.url("/token"))
        .basic_auth(&id, Some(&secret))
        .form(&[("grant_type", "authorization_code"), ("code", "no-such-code"), ("redirect_uri", "https://x.test/cb")])
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
    let trace = body["trace_id"].as_str().unwrap().to_string();
    // The error_uri names the specific cause's page of the reference.
    let error_uri = body["error_uri"].as_str().unwrap();
    assert_eq!(error_uri, server.url("/portal/errors/invalid_grant/unknown_code"));
    let reference = server.http.get(error_uri).send().await.unwrap();
    assert_eq!(reference.status(), 200);
    assert!(reference.text().await.unwrap().contains("same client_id that asked for it"));

    // The owner sees the server's reason once the audit writer has it.
    let lookup = server.url(&format!("/portal/trace?id={trace}"));
    latchkey_testkit::eventually("the refusal is recorded", || async {
        let html = alice.get(&lookup).await.unwrap().text().await.unwrap();
        html.contains("unknown code") && html.contains("request.refused")
    })
    .await
    .unwrap();

    // Another developer learns nothing, not even that the trace exists.
    let bob = sign_in(&server, "bob", "bob-sandbox-password").await;
    let theirs = bob.get(&lookup).await.unwrap().text().await.unwrap();
    let unknown = bob.get(&server.url("/portal/trace?id=does-not-exist")).await.unwrap().text().await.unwrap();
    assert!(!theirs.contains("unknown code"));
    assert_eq!(
        between(&theirs, "<div class=\"notice\"", "</div>"),
        between(&unknown, "<div class=\"notice\"", "</div>"),
        "the same answer for someone else's trace and no trace at all"
    );
    // Signed out: only a sign-in prompt.
    let anonymous = server.http.get(&lookup).send().await.unwrap().text().await.unwrap();
    assert!(!anonymous.contains("unknown code") && anonymous.contains("/portal/signin"));
    server.stop().await;
}

#[tokio::test]
async fn the_error_reference_has_a_page_per_code_and_cause() {
    let setup = crate::setup_or_skip!(Backend::Sqlite);
    let server = setup.start().await.unwrap();
    for code in latchkey_domain::ErrorCode::ALL {
        let resp = server.http.get(server.url(&format!("/portal/errors/{}", code.as_str()))).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{}", code.as_str());
        for cause in code.causes() {
            let path = format!("/portal/errors/{}/{}", code.as_str(), cause.id);
            let resp = server.http.get(server.url(&path)).send().await.unwrap();
            assert_eq!(resp.status(), 200, "{path}");
            assert!(resp.text().await.unwrap().contains(cause.fix.split('\'').next().unwrap_or("")));
        }
    }
    let missing = server.http.get(server.url("/portal/errors/no_such_code")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    let missing = server.http.get(server.url("/portal/errors/invalid_grant/no_such_cause")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    server.stop().await;
}

async fn portal_api(browser: &Browser, server: &TestServer, path: &str, body: &Value, header: bool) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .post(server.url(&format!("/portal/api{path}")))
        .header(reqwest::header::COOKIE, browser_cookies(browser))
        .json(body);
    if header {
        req = req.header("x-latchkey-portal", "1");
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

fn browser_cookies(browser: &Browser) -> String {
    ["latchkey_session"]
        .iter()
        .filter_map(|n| browser.cookie(n).map(|v| format!("{n}={v}")))
        .collect::<Vec<_>>()
        .join("; ")
}

#[tokio::test]
async fn the_decoders_server_check_is_for_the_tokens_owner() {
    let mut setup = crate::setup_or_skip!(Backend::Sqlite);
    setup.dev = true;
    let server = setup.start().await.unwrap();
    let alice = sign_in(&server, "alice", "alice-sandbox-password").await;
    let (id, secret) = register_service(&server, &alice).await;
    let token = client_credentials(&server, &id, &secret).await["access_token"].as_str().unwrap().to_string();
    let body = json!({ "token": token });

    let (status, state) = portal_api(&alice, &server, "/token-state", &body, true).await;
    assert_eq!((status, &state["active"], &state["revoked"]), (200, &json!(true), &json!(false)), "{state}");
    // Without the header (what a cross-site form would send): refused.
    assert_eq!(portal_api(&alice, &server, "/token-state", &body, false).await.0, 400);
    // Signed out, or someone else's client: refused.
    assert_eq!(portal_api(&Browser::new(), &server, "/token-state", &body, true).await.0, 401);
    let bob = sign_in(&server, "bob", "bob-sandbox-password").await;
    assert_eq!(portal_api(&bob, &server, "/token-state", &body, true).await.0, 403);
    // Not JSON: the RFC-format 400, not the extractor's text.
    let resp = reqwest::Client::new()
        .post(server.url("/portal/api/token-state"))
        .header(reqwest::header::COOKIE, browser_cookies(&alice))
        .header("x-latchkey-portal", "1")
        .header("content-type", "application/json")
        .body("{bad")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.json::<Value>().await.unwrap()["error"], "invalid_request");

    let revoked = server
        .http
        .post(server.url("/revoke"))
        .basic_auth(&id, Some(&secret))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let (_, state) = portal_api(&alice, &server, "/token-state", &body, true).await;
    assert_eq!(state["revoked"], true, "{state}");
    // Revoked or not, someone else's token stays none of bob's business.
    assert_eq!(portal_api(&bob, &server, "/token-state", &body, true).await.0, 403);
    server.stop().await;
}

#[tokio::test]
async fn the_playground_decides_on_the_live_engine_and_on_drafts() {
    let mut setup = crate::setup_or_skip!(Backend::Sqlite);
    setup.dev = true;
    let server = setup.start().await.unwrap();
    let alice = sign_in(&server, "alice", "alice-sandbox-password").await;
    let alice_id = server.state().store.get_user_by_username("alice").await.unwrap().unwrap().id;
    let view = |owner: &str| {
        json!({ "request": {
            "subject": { "type": "User", "id": alice_id },
            "action": { "name": "view_account" },
            "resource": { "type": "Account", "id": "acc-1", "properties": { "owner": owner } },
        }})
    };
    // The --dev sample policies are active: owners view their accounts.
    let (status, allow) = portal_api(&alice, &server, "/playground/evaluate", &view(&alice_id), true).await;
    assert_eq!(status, 200, "{allow}");
    assert_eq!(allow["decision"], true, "{allow}");
    assert_eq!(allow["context"]["reasons"], json!(["owner-views"]), "{allow}");
    let (_, deny) = portal_api(&alice, &server, "/playground/evaluate", &view("someone-else"), true).await;
    assert_eq!(deny["decision"], false, "{deny}");

    // A draft without the permit denies; a broken draft reports why.
    let active = server.state().caches.authz.policies().unwrap();
    let without: String = active.policies.replace("@id(\"owner-views\")\npermit", "@id(\"owner-views\")\nforbid");
    let mut with_draft = view(&alice_id);
    with_draft["policies"] = json!(without);
    let (_, drafted) = portal_api(&alice, &server, "/playground/evaluate", &with_draft, true).await;
    assert_eq!((drafted["decision"].clone(), drafted["against"].clone()), (json!(false), json!("draft")), "{drafted}");
    // Replay: the decisions made above, with the properties they were
    // made with, against the draft: the owner's view would flip.
    let replay = json!({ "policies": without });
    latchkey_testkit::eventually("the replay sees the decision", || async {
        let (_, r) = portal_api(&alice, &server, "/playground/replay", &replay, true).await;
        r["changed"].as_array().is_some_and(|c| {
            c.iter().any(|x| x["action"] == "view_account" && x["active"] == true && x["draft"] == false)
        })
    })
    .await
    .unwrap();
    with_draft["policies"] = json!("permit(principal, action, resource) when { nonsense };");
    let (_, broken) = portal_api(&alice, &server, "/playground/evaluate", &with_draft, true).await;
    assert!(broken["compile_error"].is_string(), "{broken}");

    // A malformed request is a 400, not a 500.
    let (status, _) =
        portal_api(&alice, &server, "/playground/evaluate", &json!({ "request": { "subject": 1 } }), true).await;
    assert_eq!(status, 400);
    server.stop().await;
}

#[tokio::test]
async fn without_dev_the_playground_is_for_portal_administrators() {
    let mut setup = crate::setup_or_skip!(Backend::Sqlite);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/scenarios/latchkey.toml");
    setup.toml = format!(
        "{}\n[portal]\nadmins = [\"carol\"]\n\n[[users]]\nusername = \"carol\"\npassword = \"carol-portal-password\"\n\n\
         [[users]]\nusername = \"dave\"\npassword = \"dave-portal-password\"\n",
        std::fs::read_to_string(&path).unwrap()
    );
    setup.config_file = Some(path);
    let server = setup.start().await.unwrap();
    let request = json!({ "request": {
        "subject": { "type": "User", "id": "x" }, "action": { "name": "call_api" }, "resource": { "type": "Api", "id": "profile" },
    }});
    let dave = sign_in(&server, "dave", "dave-portal-password").await;
    assert_eq!(portal_api(&dave, &server, "/playground/evaluate", &request, true).await.0, 403);
    let carol = sign_in(&server, "carol", "carol-portal-password").await;
    let (status, out) = portal_api(&carol, &server, "/playground/evaluate", &request, true).await;
    assert_eq!(status, 200, "{out}");
    // Without --dev there are no self-service sandbox clients.
    let page = carol.get(&server.url("/portal/sandbox")).await.unwrap().text().await.unwrap();
    assert!(page.contains("turned off"), "{page}");
    server.stop().await;
}
