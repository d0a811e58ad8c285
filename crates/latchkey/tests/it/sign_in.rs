//! The sign-in protocol, driven by a certified-grade relying party library
//! (`openidconnect`) against a real server and real stores, plus the
//! negative cases of RFC 6749, RFC 7636, RFC 9700 and OIDC Core.

use std::collections::HashMap;

use latchkey_testkit::browser::{Browser, oidc_send};
use latchkey_testkit::{Backend, Setup, TestServer};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};

use crate::both_backends;

pub const WEB_SECRET: &str = "Zq3v9XkP2mWc7TbN4hRyL8sDfGj6aE1uKo5iCxBwVnM";
pub const SPA_REDIRECT: &str = "http://127.0.0.1:9/spa/callback";
pub const WEB_REDIRECT: &str = "https://app.example.test/callback";

pub fn config() -> String {
    format!(
        r#"
[[clients]]
id = "spa"
type = "public"
redirect_uris = ["{SPA_REDIRECT}"]
scopes = ["openid", "profile", "email", "offline_access"]
first_party = true

[[resources]]
identifier = "https://orders.example.test"
scopes = [{{ name = "orders:read" }}]
access_token_ttl = "2m"
signing_alg = "RS256"
introspection_clients = ["orders-api"]

[[clients]]
id = "orders-api"
type = "confidential"
secret = "{WEB_SECRET}"
grant_types = ["client_credentials"]

[[resources]]
identifier = "https://other.example.test"

[[clients]]
id = "web"
type = "confidential"
secret = "{WEB_SECRET}"
redirect_uris = ["{WEB_REDIRECT}", "https://app.example.test/other"]
scopes = ["openid", "profile", "email", "offline_access", "orders:read"]
audiences = ["https://orders.example.test"]

[[clients]]
id = "web-post"
type = "confidential"
auth_method = "client_secret_post"
secret = "{WEB_SECRET}"
redirect_uris = ["{WEB_REDIRECT}"]
scopes = ["openid", "offline_access"]

[[clients]]
id = "graceful"
type = "confidential"
secret = "{WEB_SECRET}"
redirect_uris = ["{WEB_REDIRECT}"]
scopes = ["openid", "offline_access"]
refresh_token_reuse_grace = "60s"

[[clients]]
id = "service"
type = "confidential"
secret = "{WEB_SECRET}"
grant_types = ["client_credentials"]
scopes = ["orders:read", "orders:write", "openid"]
audiences = ["https://orders.example.test"]

[[clients]]
id = "first"
type = "confidential"
secret = "{WEB_SECRET}"
redirect_uris = ["{WEB_REDIRECT}"]
scopes = ["openid", "email"]
first_party = true

[[clients]]
id = "native"
type = "public"
redirect_uris = ["http://127.0.0.1/native/cb", "http://localhost/native/cb"]
scopes = ["openid"]

[[users]]
username = "alice"
password = "alice-password"
email = "alice@example.com"
email_verified = true
name = "Alice Example"
"#
    )
}

pub async fn start(backend: Backend) -> Option<(Setup, TestServer)> {
    let setup = Setup::new(backend).await.unwrap()?.with_toml(&config());
    let server = setup.start().await.unwrap();
    Some((setup, server))
}

pub(crate) async fn rp(
    server: &TestServer,
    client_id: &str,
    secret: Option<&str>,
    redirect: &str,
) -> CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
> {
    let http = |r| oidc_send(&server.http, r);
    let metadata = CoreProviderMetadata::discover_async(IssuerUrl::new(server.issuer().to_string()).unwrap(), &http)
        .await
        .unwrap();
    CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(client_id.into()),
        secret.map(|s| ClientSecret::new(s.into())),
    )
    .set_redirect_uri(RedirectUrl::new(redirect.into()).unwrap())
}

/// discovery → code + PKCE → token → ID token validation → userinfo →
/// refresh, for a public and a confidential client.
async fn relying_party_full_flow(backend: Backend) {
    let Some((_setup, server)) = start(backend).await else { return };
    for (client_id, secret, redirect) in [("spa", None, SPA_REDIRECT), ("web", Some(WEB_SECRET), WEB_REDIRECT)] {
        let client = rp(&server, client_id, secret, redirect).await;
        let http = |r| oidc_send(&server.http, r);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (auth_url, csrf, nonce) = client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .add_scope(Scope::new("profile".into()))
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("offline_access".into()))
            .set_pkce_challenge(challenge)
            .url();

        let browser = Browser::new();
        let q = browser.authorize_to_redirect(auth_url.as_str(), "alice", "alice-password").await.unwrap();
        assert_eq!(q.get("state"), Some(csrf.secret()), "state echoed");
        assert_eq!(q.get("iss").map(String::as_str), Some(server.issuer()), "RFC 9207 iss");
        let code = q.get("code").unwrap();
        assert!(code.len() >= 43, "codes carry at least 128 bits");

        let tokens = client
            .exchange_code(AuthorizationCode::new(code.clone()))
            .unwrap()
            .set_pkce_verifier(verifier)
            .request_async(&http)
            .await
            .unwrap();
        let id_token = tokens.id_token().expect("an ID token");
        let verifier = client.id_token_verifier();
        let claims = id_token.claims(&verifier, &nonce).unwrap();
        assert_eq!(claims.issuer().as_str(), server.issuer());
        let auth_time = claims.auth_time().expect("auth_time");
        assert!(claims.auth_context_ref().is_some(), "acr");
        // at_hash binds the access token to the ID token.
        let expected = AccessTokenHash::from_token(
            tokens.access_token(),
            id_token.signing_alg().unwrap(),
            id_token.signing_key(&verifier).unwrap(),
        )
        .unwrap();
        assert_eq!(claims.access_token_hash(), Some(&expected));
        let sub = claims.subject().clone();

        // The access token: RFC 9068.
        let (header, payload, _) = latchkey_crypto::jws::decode_unverified(tokens.access_token().secret()).unwrap();
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        let at: serde_json::Value = serde_json::from_slice(&payload).unwrap();
        for claim in ["iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope", "sid", "auth_time", "acr", "amr"]
        {
            assert!(at.get(claim).is_some(), "access token lacks {claim}: {at}");
        }
        assert_eq!(at["client_id"], client_id);
        assert_eq!(at["aud"], server.issuer());
        assert_eq!(at["exp"].as_i64().unwrap() - at["iat"].as_i64().unwrap(), 300, "5 minutes by default");

        let info: CoreUserInfoClaims = client
            .user_info(tokens.access_token().to_owned(), Some(sub.clone()))
            .unwrap()
            .request_async(&http)
            .await
            .unwrap();
        assert_eq!(info.email().map(|e| e.as_str()), Some("alice@example.com"));
        assert_eq!(info.preferred_username().map(|u| u.as_str()), Some("alice"));

        // Refresh: rotated, same authentication time (OIDC Core §12.2).
        let refresh = tokens.refresh_token().expect("offline_access gives a refresh token").clone();
        assert!(refresh.secret().len() >= 43);
        let refreshed = client.exchange_refresh_token(&refresh).unwrap().request_async(&http).await.unwrap();
        let new_refresh = refreshed.refresh_token().expect("rotated").clone();
        assert_ne!(new_refresh.secret(), refresh.secret());
        let new_id = refreshed.id_token().expect("an ID token on refresh");
        let new_claims = new_id.claims(&verifier, |_: Option<&Nonce>| Ok::<(), String>(())).unwrap();
        assert_eq!(new_claims.auth_time(), Some(auth_time), "refresh never makes a login look fresher");
        assert_eq!(new_claims.subject(), &sub);
        let again: CoreUserInfoClaims =
            client.user_info(refreshed.access_token().to_owned(), None).unwrap().request_async(&http).await.unwrap();
        assert_eq!(again.subject(), &sub);
    }
    server.stop().await;
}
both_backends!(relying_party_full_flow);

// ---- helpers for raw protocol requests -------------------------------------------------------

pub fn pkce() -> (String, String) {
    let verifier = latchkey_crypto::random::token(32);
    let challenge = latchkey_crypto::digest::pkce_s256(&verifier);
    (verifier, challenge)
}

pub fn auth_url(server: &TestServer, params: &[(&str, &str)]) -> String {
    let mut url = url::Url::parse(&server.url("/authorize")).unwrap();
    url.query_pairs_mut().extend_pairs(params);
    url.to_string()
}

/// Signs alice in for `client` and returns the code (PKCE with `challenge`).
pub async fn code_for(
    server: &TestServer,
    browser: &Browser,
    client: &str,
    redirect: &str,
    challenge: Option<&str>,
    scope: &str,
) -> String {
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", client),
        ("redirect_uri", redirect),
        ("scope", scope),
        ("state", "s1"),
    ];
    if let Some(c) = challenge {
        params.push(("code_challenge", c));
        params.push(("code_challenge_method", "S256"));
    }
    let q = browser.authorize_to_redirect(&auth_url(server, &params), "alice", "alice-password").await.unwrap();
    q.get("code").cloned().unwrap_or_else(|| panic!("no code: {q:?}"))
}

pub async fn token_request(
    server: &TestServer,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (u16, serde_json::Value, reqwest::header::HeaderMap) {
    let mut req = server.http.post(server.url("/token")).form(form);
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, resp.json().await.unwrap(), headers)
}

pub async fn redeem_spa(server: &TestServer, code: &str, verifier: &str) -> (u16, serde_json::Value) {
    let (s, b, _) = token_request(
        server,
        None,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", SPA_REDIRECT),
            ("client_id", "spa"),
            ("code_verifier", verifier),
        ],
    )
    .await;
    (s, b)
}

pub async fn userinfo_status(server: &TestServer, access_token: &str) -> u16 {
    server.http.get(server.url("/userinfo")).bearer_auth(access_token).send().await.unwrap().status().as_u16()
}

fn redirect_query(resp: &reqwest::Response) -> HashMap<String, String> {
    let location =
        resp.headers().get("location").unwrap_or_else(|| panic!("no redirect: {}", resp.status())).to_str().unwrap();
    url::Url::parse(location).unwrap().query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

// ---- authorization endpoint ------------------------------------------------------------------

#[tokio::test]
async fn pkce_rules_at_the_authorization_endpoint() {
    let (_setup, server) = start(Backend::Sqlite).await.unwrap();
    let (_, challenge) = pkce();
    let base = [("response_type", "code"), ("client_id", "spa"), ("redirect_uri", SPA_REDIRECT), ("state", "xyz")];
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![], "code_challenge is required"),
        (vec![("code_challenge", &challenge)], "code_challenge_method is missing"),
        (vec![("code_challenge", &challenge), ("code_challenge_method", "plain")], "must be S256"),
        (vec![("code_challenge", "short"), ("code_challenge_method", "S256")], "43 base64url"),
    ];
    for (extra, expected) in cases {
        let params: Vec<(&str, &str)> = base.iter().copied().chain(extra).collect();
        let resp = server.http.get(auth_url(&server, &params)).send().await.unwrap();
        assert_eq!(resp.status(), 303);
        let q = redirect_query(&resp);
        assert_eq!(q["error"], "invalid_request", "{q:?}");
        assert!(q["error_description"].contains(expected), "{q:?}");
        assert_eq!(q["state"], "xyz");
        assert_eq!(q["iss"], server.issuer());
        assert!(resp.headers()["location"].to_str().unwrap().starts_with(SPA_REDIRECT));
    }
    server.stop().await;
}

#[tokio::test]
async fn bad_clients_and_redirect_uris_get_an_error_page_never_a_redirect() {
    let (_setup, server) = start(Backend::Sqlite).await.unwrap();
    let (_, challenge) = pkce();
    let pk = [("code_challenge", challenge.as_str()), ("code_challenge_method", "S256"), ("response_type", "code")];
    let cases: Vec<Vec<(&str, &str)>> = vec![
        vec![("client_id", "nobody"), ("redirect_uri", SPA_REDIRECT)],
        vec![("client_id", "spa"), ("redirect_uri", "https://evil.example/cb")],
        vec![("client_id", "spa"), ("redirect_uri", "http://127.0.0.1:9/spa/callback/../evil")],
        vec![("client_id", "spa"), ("redirect_uri", SPA_REDIRECT), ("redirect_uri", SPA_REDIRECT)],
        vec![("redirect_uri", SPA_REDIRECT)],
        // Several registered: redirect_uri is required.
        vec![("client_id", "web")],
        // localhost gets no port leniency (RFC 8252 §8.3).
        vec![("client_id", "native"), ("redirect_uri", "http://localhost:4567/native/cb")],
    ];
    for params in cases {
        let all: Vec<(&str, &str)> = params.iter().copied().chain(pk).collect();
        let resp = server.http.get(auth_url(&server, &all)).send().await.unwrap();
        assert_eq!(resp.status(), 400, "{all:?}");
        assert!(resp.headers().get("location").is_none(), "never redirect: {all:?}");
        assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let page = resp.text().await.unwrap();
        assert!(!page.contains("evil.example"), "the page does not echo the URI");
    }
    // Loopback IP literals: only the port may vary (RFC 8252 §7.3).
    let all = [("client_id", "native"), ("redirect_uri", "http://127.0.0.1:45678/native/cb")]
        .into_iter()
        .chain(pk)
        .collect::<Vec<_>>();
    let resp = server.http.get(auth_url(&server, &all)).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    assert!(resp.headers()["location"].to_str().unwrap().contains("/login?tx="));
    server.stop().await;
}

#[tokio::test]
async fn other_authorization_errors_go_back_to_the_client() {
    let (_setup, server) = start(Backend::Sqlite).await.unwrap();
    let (_, challenge) = pkce();
    let base = [
        ("client_id", "spa"),
        ("redirect_uri", SPA_REDIRECT),
        ("state", "st"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ];
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![], "invalid_request"),
        (vec![("response_type", "token")], "unsupported_response_type"),
        (vec![("response_type", "code id_token")], "unsupported_response_type"),
        (vec![("response_type", "code"), ("scope", "openid admin")], "invalid_scope"),
        (vec![("response_type", "code"), ("request", "eyJ...")], "request_not_supported"),
        (vec![("response_type", "code"), ("request_uri", "https://x")], "request_uri_not_supported"),
        (vec![("response_type", "code"), ("prompt", "none login")], "invalid_request"),
        (vec![("response_type", "code"), ("max_age", "-1")], "invalid_request"),
        (vec![("response_type", "code"), ("response_mode", "fragment")], "invalid_request"),
        (vec![("response_type", "code"), ("scope", "openid"), ("scope", "email")], "invalid_request"),
        (vec![("response_type", "code"), ("scope", "openid"), ("prompt", "none")], "login_required"),
    ];
    for (extra, expected) in cases {
        let params: Vec<(&str, &str)> = base.iter().copied().chain(extra.clone()).collect();
        let resp = server.http.get(auth_url(&server, &params)).send().await.unwrap();
        assert_eq!(resp.status(), 303, "{extra:?}");
        let q = redirect_query(&resp);
        assert_eq!(q["error"], expected, "{extra:?}: {q:?}");
        assert_eq!(q["state"], "st");
        assert_eq!(q["iss"], server.issuer());
        assert!(q["error_uri"].ends_with(&format!("/portal/errors/{expected}")));
    }
    server.stop().await;
}

#[tokio::test]
async fn sessions_prompt_and_max_age() {
    let (_setup, server) = start(Backend::Sqlite).await.unwrap();
    let browser = Browser::new();
    let (_, challenge) = pkce();
    let params = |extra: &[(&'static str, &'static str)]| {
        let mut p = vec![
            ("response_type", "code"),
            ("client_id", "spa"),
            ("redirect_uri", SPA_REDIRECT),
            ("scope", "openid"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ];
        p.extend_from_slice(extra);
        auth_url(&server, &p)
    };
    // First visit: sign in; the session cookie is HttpOnly and SameSite.
    let resp = browser.authorize(&params(&[]), "alice", "alice-password").await.unwrap();
    assert_eq!(resp.status(), 303);
    let set_cookie: Vec<String> =
        resp.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).collect();
    let session_cookie = set_cookie.iter().find(|c| c.starts_with("latchkey_session=")).unwrap();
    assert!(session_cookie.contains("HttpOnly") && session_cookie.contains("SameSite=Lax"), "{session_cookie}");

    // With a session, prompt=none succeeds without any page.
    let resp = browser.get(&params(&[("prompt", "none")])).await.unwrap();
    assert!(redirect_query(&resp).contains_key("code"));
    // max_age=0 and prompt=login force a new login page.
    for extra in [[("max_age", "0")], [("prompt", "login")]] {
        let resp = browser.get(&params(&extra)).await.unwrap();
        assert!(resp.headers()["location"].to_str().unwrap().contains("/login?tx="), "{extra:?}");
    }
    // max_age=0 with prompt=none cannot show the page.
    let resp = browser.get(&params(&[("max_age", "0"), ("prompt", "none")])).await.unwrap();
    assert_eq!(redirect_query(&resp)["error"], "login_required");
    // Without the cookie there is no session.
    browser.forget_cookies();
    let resp = browser.get(&params(&[("prompt", "none")])).await.unwrap();
    assert_eq!(redirect_query(&resp)["error"], "login_required");
    server.stop().await;
}

#[tokio::test]
async fn login_page_rules() {
    let (_setup, server) = start(Backend::Sqlite).await.unwrap();
    let (_, challenge) = pkce();
    let url = auth_url(
        &server,
        &[
            ("response_type", "code"),
            ("client_id", "spa"),
            ("redirect_uri", SPA_REDIRECT),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("login_hint", "al<i>ce"),
        ],
    );
    let browser = Browser::new();
    let resp = browser.get(&url).await.unwrap();
    let login = resp.headers()["location"].to_str().unwrap().to_string();
    let page_resp = browser.get(&login).await.unwrap();
    let csp = page_resp.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("frame-ancestors 'none'"));
    // Browsers apply form-action to the redirect after the POST as well.
    assert!(csp.contains("form-action 'self' http://127.0.0.1:9"), "{csp}");
    let page = page_resp.text().await.unwrap();
    assert!(page.contains("value=\"al&lt;i&gt;ce\""), "login_hint prefilled and escaped");
    assert!(page.contains("<label for=\"username\">") && page.contains("name=\"password\""));
    let tx = latchkey_testkit::browser::hidden_input(&page, "tx").unwrap();
    let csrf = latchkey_testkit::browser::hidden_input(&page, "csrf").unwrap();
    let post = server.url("/login");

    // Wrong password and unknown user: the same answer.
    let mut answers = Vec::new();
    for (u, p) in [("alice", "wrong"), ("nobody", "alice-password")] {
        let r = browser
            .post_form(
                &post,
                &[("tx", &tx), ("csrf", &browser.cookie("latchkey_csrf").unwrap()), ("username", u), ("password", p)],
            )
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let body = r.text().await.unwrap();
        assert!(body.contains("Wrong username or password."));
        answers.push(body.replace(u, "USER"));
    }
    // Without the CSRF cookie value, the form is refused.
    let r = browser
        .post_form(&post, &[("tx", &tx), ("csrf", &csrf), ("username", "alice"), ("password", "alice-password")])
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "the form's csrf no longer matches the latest cookie");
    let other = Browser::new();
    let r = other
        .post_form(&post, &[("tx", &tx), ("csrf", "forged"), ("username", "alice"), ("password", "alice-password")])
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // An unknown transaction.
    let r = browser.get(&server.url("/login?tx=nope")).await.unwrap();
    assert_eq!(r.status(), 400);
    server.stop().await;
}

#[tokio::test]
async fn form_post_response_mode_works_without_javascript() {
    let (_setup, server) = start(Backend::Sqlite).await.unwrap();
    let (_, challenge) = pkce();
    let url = auth_url(
        &server,
        &[
            ("response_type", "code"),
            ("client_id", "spa"),
            ("redirect_uri", SPA_REDIRECT),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("response_mode", "form_post"),
            ("state", "a\"b<c"),
        ],
    );
    let resp = Browser::new().authorize(&url, "alice", "alice-password").await.unwrap();
    assert_eq!(resp.status(), 200);
    let csp = resp.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("form-action http://127.0.0.1:9") && csp.contains("script-src 'sha256-"), "{csp}");
    let page = resp.text().await.unwrap();
    assert!(page.contains(&format!("<form method=\"post\" action=\"{SPA_REDIRECT}\">")));
    assert!(page.contains("name=\"code\"") && page.contains("name=\"iss\""));
    assert!(page.contains("value=\"a&quot;b&lt;c\""), "state escaped");
    assert!(page.contains("<button type=\"submit\">"), "works without JavaScript");
    server.stop().await;
}

// ---- token endpoint --------------------------------------------------------------------------

#[tokio::test]
async fn pkce_and_binding_rules_at_the_token_endpoint() {
    let (_setup, server) = start(Backend::Sqlite).await.unwrap();
    let browser = Browser::new();
    let (verifier, challenge) = pkce();
    let expect_grant_error = |(status, body): (u16, serde_json::Value), needle: &str| {
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"], "invalid_grant", "{body}");
        assert!(body["error_description"].as_str().unwrap().contains(needle), "{body}");
        assert!(body["trace_id"].as_str().is_some_and(|t| !t.is_empty()));
    };

    // Wrong verifier. The check runs before the code is spent, so a thief
    // without the verifier cannot burn it: the rightful client still can.
    let code = code_for(&server, &browser, "spa", SPA_REDIRECT, Some(&challenge), "openid").await;
    expect_grant_error(redeem_spa(&server, &code, &pkce().0).await, "does not match");
    assert_eq!(redeem_spa(&server, &code, &verifier).await.0, 200);
    assert!(server.events.take().iter().all(|e| e.name() != "token.code_replayed"));
    // No verifier.
    let code = code_for(&server, &browser, "spa", SPA_REDIRECT, Some(&challenge), "openid").await;
    let (s, b, _) = token_request(
        &server,
        None,
        &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", SPA_REDIRECT), ("client_id", "spa")],
    )
    .await;
    expect_grant_error((s, b), "code_verifier is required");
    // Malformed verifier.
    let code = code_for(&server, &browser, "spa", SPA_REDIRECT, Some(&challenge), "openid").await;
    let (s, b) = redeem_spa(&server, &code, "too-short").await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_request")));
    // Downgrade: a code issued without a challenge, redeemed with a verifier.
    let code = code_for(&server, &browser, "web", WEB_REDIRECT, None, "openid").await;
    let (s, b, _) = token_request(
        &server,
        Some(("web", WEB_SECRET)),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", WEB_REDIRECT),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    expect_grant_error((s, b), "without a code_challenge");
    // Redirect URI must match the authorization request.
    let code = code_for(&server, &browser, "web", WEB_REDIRECT, None, "openid").await;
    let (s, b, _) = token_request(
        &server,
        Some(("web", WEB_SECRET)),
        &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", "https://app.example.test/other")],
    )
    .await;
    expect_grant_error((s, b), "redirect_uri");
    // Another client cannot redeem (or burn) the code.
    let code = code_for(&server, &browser, "web", WEB_REDIRECT, None, "openid").await;
    let (s, b, _) = token_request(
        &server,
        Some(("graceful", WEB_SECRET)),
        &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", WEB_REDIRECT)],
    )
    .await;
    expect_grant_error((s, b), "invalid");
    let (s, b, h) = token_request(
        &server,
        Some(("web", WEB_SECRET)),
        &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", WEB_REDIRECT)],
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(b["token_type"], "Bearer");
    assert!(b.get("refresh_token").is_none(), "no offline_access, no refresh token");
    server.stop().await;
}

#[tokio::test]
async fn client_authentication_rules() {
    let (_setup, server) = start(Backend::Sqlite).await.unwrap();
    let form = [("grant_type", "authorization_code"), ("code", "x"), ("redirect_uri", WEB_REDIRECT)];
    // Wrong secret: 401 with a challenge.
    let (s, b, h) = token_request(&server, Some(("web", "wrong-secret")), &form).await;
    assert_eq!((s, b["error"].as_str()), (401, Some("invalid_client")));
    assert!(h["www-authenticate"].to_str().unwrap().starts_with("Basic realm="));
    assert!(!b.to_string().contains("wrong-secret"));
    // Unknown client looks the same.
    let (s, b2, _) = token_request(&server, Some(("ghost", "wrong-secret")), &form).await;
    assert_eq!((s, &b2["error_description"]), (401, &b["error_description"]));
    // A confidential client without credentials.
    let mut f = form.to_vec();
    f.push(("client_id", "web"));
    let (s, b, _) = token_request(&server, None, &f).await;
    assert_eq!((s, b["error"].as_str()), (401, Some("invalid_client")));
    // Two methods at once.
    let mut f = form.to_vec();
    f.push(("client_secret", WEB_SECRET));
    let (s, b, _) = token_request(&server, Some(("web", WEB_SECRET)), &f).await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_request")));
    // The registered method only: post for a basic client, basic for a post client.
    let mut f = form.to_vec();
    f.extend([("client_id", "web"), ("client_secret", WEB_SECRET)]);
    assert_eq!(token_request(&server, None, &f).await.0, 401);
    assert_eq!(token_request(&server, Some(("web-post", WEB_SECRET)), &form).await.0, 401);
    // client_secret_post works for its client (the code is bad: invalid_grant, not invalid_client).
    let mut f = form.to_vec();
    f.extend([("client_id", "web-post"), ("client_secret", WEB_SECRET)]);
    assert_eq!(token_request(&server, None, &f).await.1["error"], "invalid_grant");
    // Basic credentials are form-urlencoded (RFC 6749 §2.3.1): an encoded secret still works.
    let (s, b, _) = token_request(&server, Some(("web", WEB_SECRET)), &form).await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_grant")));

    // Parameters in the query string, repeats, unknown grants, wrong content type.
    let resp = server
        .http
        .post(server.url("/token?client_secret=x"))
        .basic_auth("web", Some(WEB_SECRET))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let mut f = form.to_vec();
    f.push(("code", "y"));
    let (s, b, _) = token_request(&server, Some(("web", WEB_SECRET)), &f).await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_request")));
    assert!(b["error_description"].as_str().unwrap().contains("code"));
    let (s, b, _) = token_request(&server, Some(("web", WEB_SECRET)), &[("grant_type", "password")]).await;
    assert_eq!((s, b["error"].as_str()), (400, Some("unsupported_grant_type")));
    let (s, b, _) = token_request(
        &server,
        Some(("web", WEB_SECRET)),
        &[("grant_type", "urn:ietf:params:oauth:grant-type:device_code")],
    )
    .await;
    assert_eq!((s, b["error"].as_str()), (400, Some("unsupported_grant_type")));
    let resp = server
        .http
        .post(server.url("/token"))
        .basic_auth("web", Some(WEB_SECRET))
        .json(&serde_json::json!({"grant_type": "authorization_code"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    server.stop().await;
}

/// A replayed code fails and revokes what its first redemption issued.
async fn code_replay_revokes_the_first_redemption(backend: Backend) {
    let Some((_setup, server)) = start(backend).await else { return };
    let browser = Browser::new();
    let (verifier, challenge) = pkce();
    let code = code_for(&server, &browser, "spa", SPA_REDIRECT, Some(&challenge), "openid offline_access").await;
    let (s, first) = redeem_spa(&server, &code, &verifier).await;
    assert_eq!(s, 200, "{first}");
    let access = first["access_token"].as_str().unwrap();
    assert_eq!(userinfo_status(&server, access).await, 200);

    let (s, second) = redeem_spa(&server, &code, &verifier).await;
    assert_eq!((s, second["error"].as_str()), (400, Some("invalid_grant")));
    assert!(second["error_description"].as_str().unwrap().contains("already used"));
    assert_eq!(userinfo_status(&server, access).await, 401, "the first access token is revoked");
    let (s, b, _) = token_request(
        &server,
        None,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", first["refresh_token"].as_str().unwrap()),
            ("client_id", "spa"),
        ],
    )
    .await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_grant")), "the first refresh token is revoked");
    assert!(server.events.take().iter().any(|e| e.name() == "token.code_replayed"));
    server.stop().await;
}
both_backends!(code_replay_revokes_the_first_redemption);

/// 50 concurrent redemptions of one code: exactly one token response.
async fn concurrent_code_redemptions(backend: Backend) {
    let Some((_setup, server)) = start(backend).await else { return };
    let browser = Browser::new();
    let (verifier, challenge) = pkce();
    let code = code_for(&server, &browser, "spa", SPA_REDIRECT, Some(&challenge), "openid").await;
    let server = std::sync::Arc::new(server);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (server, code, verifier) = (server.clone(), code.clone(), verifier.clone());
            tokio::spawn(async move { redeem_spa(&server, &code, &verifier).await.0 })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 200 || *s == 400), "{statuses:?}");
}
both_backends!(concurrent_code_redemptions);

pub async fn refresh(
    server: &TestServer,
    client: (&str, Option<&str>),
    token: &str,
    scope: Option<&str>,
) -> (u16, serde_json::Value) {
    let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", token)];
    if let Some(s) = scope {
        form.push(("scope", s));
    }
    let basic = client.1.map(|secret| (client.0, secret));
    if basic.is_none() {
        form.push(("client_id", client.0));
    }
    let (s, b, _) = token_request(server, basic, &form).await;
    (s, b)
}

pub async fn tokens_for(server: &TestServer, client: &str, scope: &str) -> serde_json::Value {
    let browser = Browser::new();
    let code = code_for(server, &browser, client, WEB_REDIRECT, None, scope).await;
    let (s, b, _) = token_request(
        server,
        Some((client, WEB_SECRET)),
        &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", WEB_REDIRECT)],
    )
    .await;
    assert_eq!(s, 200, "{b}");
    b
}

/// Reuse of a spent refresh token revokes the whole family.
async fn refresh_reuse_revokes_the_family(backend: Backend) {
    let Some((_setup, server)) = start(backend).await else { return };
    let t0 = tokens_for(&server, "web", "openid offline_access").await;
    let rt0 = t0["refresh_token"].as_str().unwrap();
    let (s, t1) = refresh(&server, ("web", Some(WEB_SECRET)), rt0, None).await;
    assert_eq!(s, 200, "{t1}");
    let rt1 = t1["refresh_token"].as_str().unwrap();
    // Scope may narrow, never widen.
    let (s, b) = refresh(&server, ("web", Some(WEB_SECRET)), rt1, Some("openid profile")).await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_scope")));
    let (s, t2) = refresh(&server, ("web", Some(WEB_SECRET)), rt1, Some("openid")).await;
    assert_eq!((s, t2["scope"].as_str()), (200, Some("openid")), "{t2}");
    let rt2 = t2["refresh_token"].as_str().unwrap().to_string();
    // Another client cannot use it.
    let (s, _) = refresh(&server, ("graceful", Some(WEB_SECRET)), &rt2, None).await;
    assert_eq!(s, 400);

    // Replaying rt0: theft. Everything in the family dies.
    let t3 = tokens_for(&server, "web", "openid offline_access").await;
    let (_, t4) = refresh(&server, ("web", Some(WEB_SECRET)), t3["refresh_token"].as_str().unwrap(), None).await;
    let (s, b) = refresh(&server, ("web", Some(WEB_SECRET)), t3["refresh_token"].as_str().unwrap(), None).await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_grant")));
    let (s, _) = refresh(&server, ("web", Some(WEB_SECRET)), t4["refresh_token"].as_str().unwrap(), None).await;
    assert_eq!(s, 400, "the successor is revoked with its family");
    assert_eq!(userinfo_status(&server, t4["access_token"].as_str().unwrap()).await, 401, "so is its access token");
    assert!(server.events.take().iter().any(|e| e.name() == "token.refresh_reused"));
    server.stop().await;
}
both_backends!(refresh_reuse_revokes_the_family);

/// With a grace window, a quick repeat gets a fresh successor and the
/// earlier successor is revoked, instead of the family.
async fn refresh_grace_window(backend: Backend) {
    let Some((_setup, server)) = start(backend).await else { return };
    let t0 = tokens_for(&server, "graceful", "openid offline_access").await;
    let rt0 = t0["refresh_token"].as_str().unwrap();
    let (s, t1) = refresh(&server, ("graceful", Some(WEB_SECRET)), rt0, None).await;
    assert_eq!(s, 200);
    let (s, t1b) = refresh(&server, ("graceful", Some(WEB_SECRET)), rt0, None).await;
    assert_eq!(s, 200, "a repeat within the grace window succeeds: {t1b}");
    assert_ne!(t1b["refresh_token"], t1["refresh_token"]);
    // The earlier successor and its access token are revoked.
    let (s, _) = refresh(&server, ("graceful", Some(WEB_SECRET)), t1["refresh_token"].as_str().unwrap(), None).await;
    assert_eq!(s, 400);
    assert_eq!(userinfo_status(&server, t1["access_token"].as_str().unwrap()).await, 401);
    // The fresh successor works.
    let (s, t2) = refresh(&server, ("graceful", Some(WEB_SECRET)), t1b["refresh_token"].as_str().unwrap(), None).await;
    assert_eq!(s, 200, "{t2}");
    // Once the successor has been used, a repeat is reuse after all.
    let (s, _) = refresh(&server, ("graceful", Some(WEB_SECRET)), rt0, None).await;
    assert_eq!(s, 400);
    let (s, _) = refresh(&server, ("graceful", Some(WEB_SECRET)), t2["refresh_token"].as_str().unwrap(), None).await;
    assert_eq!(s, 400, "and the family is revoked");
    server.stop().await;
}
both_backends!(refresh_grace_window);

/// 50 concurrent uses of one refresh token: exactly one rotation succeeds.
async fn concurrent_refreshes(backend: Backend) {
    let Some((_setup, server)) = start(backend).await else { return };
    let t0 = tokens_for(&server, "web", "openid offline_access").await;
    let rt0 = t0["refresh_token"].as_str().unwrap().to_string();
    let server = std::sync::Arc::new(server);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (server, rt) = (server.clone(), rt0.clone());
            tokio::spawn(async move { refresh(&server, ("web", Some(WEB_SECRET)), &rt, None).await.0 })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 200 || *s == 400), "{statuses:?}");
}
both_backends!(concurrent_refreshes);

// ---- userinfo --------------------------------------------------------------------------------

#[tokio::test]
async fn userinfo_rules() {
    let (_setup, server) = start(Backend::Sqlite).await.unwrap();
    let t = tokens_for(&server, "web", "openid email").await;
    let access = t["access_token"].as_str().unwrap();
    let resp = server.http.post(server.url("/userinfo")).bearer_auth(access).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let claims: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(claims["email"], "alice@example.com");
    assert!(claims.get("name").is_none(), "no profile scope, no profile claims");

    // An ID token is not an access token.
    let resp =
        server.http.get(server.url("/userinfo")).bearer_auth(t["id_token"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert!(resp.headers()["www-authenticate"].to_str().unwrap().contains("invalid_token"));
    // No token: a challenge without an error code.
    let resp = server.http.get(server.url("/userinfo")).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert!(!resp.headers()["www-authenticate"].to_str().unwrap().contains("error="));
    // A tampered token.
    // The scheme name is case-insensitive; another scheme counts as no token.
    let resp = server
        .http
        .get(server.url("/userinfo"))
        .header("authorization", format!("bEaReR {access}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = server.http.get(server.url("/userinfo")).basic_auth("alice", Some("x")).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    assert!(!resp.headers()["www-authenticate"].to_str().unwrap().contains("error="));
    // A tampered token: one payload character changed.
    let dot = access.find('.').unwrap() + 5;
    let mut tampered = access.to_string();
    let original = tampered.remove(dot);
    tampered.insert(dot, if original == 'x' { 'y' } else { 'x' });
    assert_eq!(userinfo_status(&server, &tampered).await, 401);
    // A token in the query string is refused.
    let resp = server.http.get(server.url(&format!("/userinfo?access_token={access}"))).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    server.stop().await;
}

/// RFC 8707 resource indicators select the access token's audience, and
/// the API resource's lifetime and algorithm apply.
#[tokio::test]
async fn resource_indicators() {
    let (_setup, server) = start(Backend::Sqlite).await.unwrap();
    let browser = Browser::new();
    let api = "https://orders.example.test";
    let url = |resource: &str| {
        auth_url(
            &server,
            &[
                ("response_type", "code"),
                ("client_id", "web"),
                ("redirect_uri", WEB_REDIRECT),
                ("scope", "openid orders:read offline_access"),
                ("resource", resource),
            ],
        )
    };
    // Not among the client's audiences, not registered, or not a URI.
    for bad in
        ["https://other.example.test", "https://unknown.example.test", "not a uri", "https://orders.example.test#x"]
    {
        let resp = browser.get(&url(bad)).await.unwrap();
        assert_eq!(redirect_query(&resp)["error"], "invalid_target", "{bad}");
    }
    let q = browser.authorize_to_redirect(&url(api), "alice", "alice-password").await.unwrap();
    let code = q["code"].clone();
    let form = |resource: &'static str| {
        vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", WEB_REDIRECT),
            ("resource", resource),
        ]
    };
    let (s, b, _) = token_request(&server, Some(("web", WEB_SECRET)), &form("https://other.example.test")).await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_target")));
    let q = browser.authorize_to_redirect(&url(api), "alice", "alice-password").await.unwrap();
    let (s, t, _) = token_request(
        &server,
        Some(("web", WEB_SECRET)),
        &[("grant_type", "authorization_code"), ("code", &q["code"]), ("redirect_uri", WEB_REDIRECT)],
    )
    .await;
    assert_eq!(s, 200, "{t}");
    let access = t["access_token"].as_str().unwrap();
    let (header, payload, _) = latchkey_crypto::jws::decode_unverified(access).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(claims["aud"], api);
    assert_eq!(header.alg, "RS256", "the resource's algorithm");
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 120, "the resource's lifetime");
    assert_eq!(userinfo_status(&server, access).await, 401, "a token for an API is not a token for userinfo");
    // Refresh keeps the audience; a resource the client may not target is refused.
    let rt = t["refresh_token"].as_str().unwrap();
    let (s, b, _) = token_request(
        &server,
        Some(("web", WEB_SECRET)),
        &[("grant_type", "refresh_token"), ("refresh_token", rt), ("resource", "https://other.example.test")],
    )
    .await;
    assert_eq!((s, b["error"].as_str()), (400, Some("invalid_target")));
    let (s, t2, _) =
        token_request(&server, Some(("web", WEB_SECRET)), &[("grant_type", "refresh_token"), ("refresh_token", rt)])
            .await;
    assert_eq!(s, 200, "a refused request did not burn the token: {t2}");
    let (_, payload, _) = latchkey_crypto::jws::decode_unverified(t2["access_token"].as_str().unwrap()).unwrap();
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&payload).unwrap()["aud"], api);
    server.stop().await;
}

/// With an https issuer at the root, cookies carry the `__Host-` prefix and
/// the Secure flag, so sibling subdomains cannot plant them.
#[tokio::test]
async fn host_prefixed_secure_cookies_with_an_https_issuer() {
    let mut setup = Setup::new(Backend::Sqlite).await.unwrap().unwrap().with_toml(&config());
    setup.issuer = Some("https://auth.example.test".into());
    let server = setup.start().await.unwrap();
    let (_, challenge) = pkce();
    // The issuer names another host; requests still reach the bound port.
    let url = auth_url(
        &server,
        &[
            ("response_type", "code"),
            ("client_id", "spa"),
            ("redirect_uri", SPA_REDIRECT),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let browser = Browser::new();
    let resp = browser.get(&url).await.unwrap();
    let login = resp.headers()["location"].to_str().unwrap().replace("https://auth.example.test", &server.base_url);
    let page = browser.get(&login).await.unwrap();
    let csrf_cookie = page.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        csrf_cookie.starts_with("__Host-latchkey_csrf=")
            && csrf_cookie.contains("; Secure")
            && csrf_cookie.contains("Path=/;"),
        "{csrf_cookie}"
    );
    let html = page.text().await.unwrap();
    let tx = latchkey_testkit::browser::hidden_input(&html, "tx").unwrap();
    let csrf = latchkey_testkit::browser::hidden_input(&html, "csrf").unwrap();
    let done = browser
        .post_form(
            &server.url("/login"),
            &[("tx", &tx), ("csrf", &csrf), ("username", "alice"), ("password", "alice-password")],
        )
        .await
        .unwrap();
    assert_eq!(done.status(), 303);
    let session = done
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.contains("latchkey_session"))
        .unwrap();
    assert!(session.starts_with("__Host-latchkey_session=") && session.contains("; Secure"), "{session}");
    server.stop().await;
}

/// Consent (OIDC Core §3.1.2.4): asked for third-party clients, remembered
/// per user and client, asked again when scopes grow or prompt=consent,
/// never for first-party clients; a denial goes back as access_denied.
#[tokio::test]
async fn consent_is_asked_remembered_and_refusable() {
    let (_setup, server) = start(Backend::Sqlite).await.unwrap();
    let url = |client: &str, scope: &str, extra: &[(&str, &str)]| {
        let mut p = vec![
            ("response_type", "code"),
            ("client_id", client),
            ("redirect_uri", WEB_REDIRECT),
            ("scope", scope),
            ("state", "s9"),
        ];
        p.extend_from_slice(extra);
        auth_url(&server, &p)
    };
    // Deny: back to the client with access_denied, state and iss.
    let browser = Browser::new();
    let resp =
        browser.authorize_deciding(&url("web", "openid email", &[]), "alice", "alice-password", "deny").await.unwrap();
    let q = redirect_query(&resp);
    assert_eq!((q["error"].as_str(), q["state"].as_str(), q["iss"].as_str()), ("access_denied", "s9", server.issuer()));

    // The consent page says what is asked, in words.
    let resp = browser.get(&url("web", "openid email", &[])).await.unwrap();
    let consent = resp.headers()["location"].to_str().unwrap().to_string();
    assert!(consent.contains("/consent?tx="), "signed in, but no consent yet: {consent}");
    let page = browser.get(&consent).await.unwrap().text().await.unwrap();
    assert!(
        page.contains("See your email address")
            && page.contains("value=\"approve\"")
            && page.contains("value=\"deny\"")
    );
    // prompt=none cannot show it.
    let resp = browser.get(&url("web", "openid email", &[("prompt", "none")])).await.unwrap();
    assert_eq!(redirect_query(&resp)["error"], "consent_required");

    // Allow once; then remembered.
    let resp = browser.authorize(&url("web", "openid email", &[]), "alice", "alice-password").await.unwrap();
    assert!(redirect_query(&resp).contains_key("code"));
    let resp = browser.get(&url("web", "openid", &[("prompt", "none")])).await.unwrap();
    assert!(redirect_query(&resp).contains_key("code"), "a subset of what was allowed");
    // More scopes, or prompt=consent: asked again.
    let resp = browser.get(&url("web", "openid email profile", &[])).await.unwrap();
    assert!(resp.headers()["location"].to_str().unwrap().contains("/consent?tx="));
    let resp = browser.get(&url("web", "openid", &[("prompt", "consent")])).await.unwrap();
    assert!(resp.headers()["location"].to_str().unwrap().contains("/consent?tx="));
    // A forged consent post is refused.
    let tx = resp.headers()["location"].to_str().unwrap().split("tx=").nth(1).unwrap().to_string();
    let other = Browser::new();
    let r =
        other.post_form(&server.url("/consent"), &[("tx", &tx), ("csrf", "x"), ("decision", "approve")]).await.unwrap();
    assert_eq!(r.status(), 403);

    // First-party clients are not asked.
    let fresh = Browser::new();
    let resp = fresh.get(&url("first", "openid email", &[])).await.unwrap();
    let login = resp.headers()["location"].to_str().unwrap().to_string();
    let html = fresh.get(&login).await.unwrap().text().await.unwrap();
    let tx = latchkey_testkit::browser::hidden_input(&html, "tx").unwrap();
    let csrf = latchkey_testkit::browser::hidden_input(&html, "csrf").unwrap();
    let resp = fresh
        .post_form(
            &server.url("/login"),
            &[("tx", &tx), ("csrf", &csrf), ("username", "alice"), ("password", "alice-password")],
        )
        .await
        .unwrap();
    assert!(redirect_query(&resp).contains_key("code"), "first-party: straight to the client");
    server.stop().await;
}
