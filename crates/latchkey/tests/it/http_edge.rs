//! The HTTP edge: the error format, request ids, body limits and headers.

use latchkey_testkit::{Backend, Setup};

async fn server() -> latchkey_testkit::TestServer {
    Setup::new(Backend::Sqlite).await.unwrap().unwrap().start().await.unwrap()
}

#[tokio::test]
async fn errors_use_the_rfc_format_with_a_trace_id() {
    let server = server().await;
    let resp = server.http.get(server.url("/no/such/thing")).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    let request_id = resp.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "not_found");
    assert!(body["error_description"].as_str().is_some_and(|d| !d.is_empty()));
    assert_eq!(body["error_uri"], format!("{}/portal/errors/not_found", server.issuer()));
    assert_eq!(body["trace_id"], request_id.as_str());

    // The reference keeps an anchor per code (earlier error_uris used them).
    let resp = server.http.get(server.url("/portal/errors")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    let page = resp.text().await.unwrap();
    for code in ["invalid_request", "invalid_grant", "invalid_client", "invalid_target", "not_found"] {
        assert!(page.contains(&format!("id=\"{code}\"")), "{code}");
    }
    server.stop().await;
}

#[tokio::test]
async fn request_ids_are_echoed_only_when_safe() {
    let server = server().await;
    let resp = server.http.get(server.url("/healthz")).header("x-request-id", "abc-123_XYZ").send().await.unwrap();
    assert_eq!(resp.headers()["x-request-id"], "abc-123_XYZ");
    let resp = server.http.get(server.url("/healthz")).header("x-request-id", "a b\"c").send().await.unwrap();
    let id = resp.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 32, "a generated id replaces an unsafe one: {id}");
    server.stop().await;
}

#[tokio::test]
async fn oversized_bodies_get_413_in_the_error_format() {
    let server = server().await;
    let body = "a=".to_string() + &"x".repeat(70 * 1024);
    let resp = server
        .http
        .post(server.url("/healthz"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    let json: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(json["error"], "invalid_request");
    assert!(json["trace_id"].as_str().is_some_and(|t| !t.is_empty()));
    // A wrong method is a JSON error too, never a 5xx.
    let resp = server.http.post(server.url("/jwks")).body("x").send().await.unwrap();
    assert_eq!(resp.status(), 405);
    let json: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(json["error"], "invalid_request");
    server.stop().await;
}

#[tokio::test]
async fn security_headers_on_every_response() {
    let server = server().await;
    for path in ["/healthz", "/jwks", "/nope", "/.well-known/openid-configuration"] {
        let resp = server.http.get(server.url(path)).send().await.unwrap();
        let h = resp.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert!(h["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"), "{path}");
        assert!(h.contains_key("x-request-id"), "{path}");
    }
    server.stop().await;
}

/// Browser-based clients call token, revocation and userinfo cross-origin:
/// preflights are answered, responses (errors too) readable by any origin.
#[tokio::test]
async fn api_endpoints_allow_cross_origin_calls() {
    let server = server().await;
    for path in ["/token", "/revoke", "/userinfo"] {
        let resp = server
            .http
            .request(reqwest::Method::OPTIONS, server.url(path))
            .header("origin", "https://spa.example")
            .header("access-control-request-method", "POST")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 204, "{path}");
        assert_eq!(resp.headers()["access-control-allow-origin"], "*", "{path}");
        assert_eq!(resp.headers()["access-control-allow-methods"], "GET, POST");
        assert_eq!(resp.headers()["access-control-allow-headers"], "authorization, content-type");
    }
    let resp = server
        .http
        .post(server.url("/token"))
        .header("origin", "https://spa.example")
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
    // Pages and admin APIs are not for other origins.
    let resp =
        server.http.get(server.url("/admin/v1/keys")).header("origin", "https://spa.example").send().await.unwrap();
    assert!(resp.headers().get("access-control-allow-origin").is_none());
    server.stop().await;
}
