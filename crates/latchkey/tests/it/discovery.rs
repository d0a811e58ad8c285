//! Discovery (OIDC Discovery 1.0, RFC 8414), JWKS and the operations endpoints.

use latchkey_testkit::Backend;

use crate::{both_backends, setup_or_skip};

async fn metadata_and_jwks(backend: Backend) {
    let setup = setup_or_skip!(backend);
    let server = setup.start().await.unwrap();
    let issuer = server.issuer().to_string();

    let (status, oidc) = server.get_json("/.well-known/openid-configuration").await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(oidc["issuer"], issuer.as_str());
    assert_eq!(oidc["jwks_uri"], format!("{issuer}/jwks"));
    assert_eq!(oidc["subject_types_supported"], serde_json::json!(["public"]));
    let algs = oidc["id_token_signing_alg_values_supported"].as_array().unwrap();
    assert!(algs.contains(&"RS256".into()), "OIDC Core §15.1 requires RS256: {algs:?}");
    assert!(algs.contains(&"ES256".into()));
    // Exactly what is implemented.
    assert_eq!(oidc["authorization_endpoint"], format!("{issuer}/authorize"));
    assert_eq!(oidc["token_endpoint"], format!("{issuer}/token"));
    assert_eq!(oidc["userinfo_endpoint"], format!("{issuer}/userinfo"));
    assert_eq!(oidc["response_types_supported"], serde_json::json!(["code"]));
    assert_eq!(oidc["response_modes_supported"], serde_json::json!(["query", "form_post"]));
    assert_eq!(
        oidc["grant_types_supported"],
        serde_json::json!([
            "authorization_code",
            "refresh_token",
            "client_credentials",
            "urn:ietf:params:oauth:grant-type:token-exchange"
        ])
    );
    assert_eq!(oidc["revocation_endpoint"], format!("{issuer}/revoke"));
    assert_eq!(oidc["code_challenge_methods_supported"], serde_json::json!(["S256"]));
    assert_eq!(oidc["authorization_response_iss_parameter_supported"], true);
    assert_eq!(
        oidc["token_endpoint_auth_methods_supported"],
        serde_json::json!(["client_secret_basic", "client_secret_post", "private_key_jwt", "none"])
    );
    // RFC 8414 §2: required beside private_key_jwt; never "none" or HMAC.
    assert_eq!(
        oidc["token_endpoint_auth_signing_alg_values_supported"],
        serde_json::json!(["ES256", "EdDSA", "PS256", "RS256"])
    );
    assert_eq!(oidc["introspection_endpoint"], format!("{issuer}/introspect"));
    assert_eq!(oidc["end_session_endpoint"], format!("{issuer}/logout"));
    assert_eq!(
        (oidc["backchannel_logout_supported"].as_bool(), oidc["backchannel_logout_session_supported"].as_bool()),
        (Some(true), Some(true))
    );
    for absent in ["registration_endpoint", "frontchannel_logout_supported"] {
        assert!(oidc.get(absent).is_none(), "{absent} is not implemented yet");
    }

    // Browser-based clients fetch metadata and keys cross-origin.
    for path in ["/.well-known/openid-configuration", "/jwks"] {
        let resp = server.http.get(server.url(path)).header("origin", "https://spa.example").send().await.unwrap();
        assert_eq!(resp.headers()["access-control-allow-origin"], "*", "{path}");
    }

    let (status, rfc8414) = server.get_json("/.well-known/oauth-authorization-server").await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(rfc8414, oidc);

    let resp = server.http.get(server.url("/jwks")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let cache = resp.headers()["cache-control"].to_str().unwrap().to_string();
    let max_age: u64 = cache.split("max-age=").nth(1).unwrap().parse().unwrap();
    assert!(max_age < setup.config().unwrap().keys.prepublish.as_secs(), "{cache}");
    let jwks: serde_json::Value = resp.json().await.unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    let mut seen: Vec<&str> = keys.iter().map(|k| k["alg"].as_str().unwrap()).collect();
    seen.sort();
    assert_eq!(seen, ["ES256", "RS256"]);
    for k in keys {
        assert_eq!(k["use"], "sig");
        assert!(k["kid"].as_str().is_some_and(|s| !s.is_empty()));
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(k.get(private).is_none(), "private member {private} published");
        }
    }
    let ec = keys.iter().find(|k| k["alg"] == "ES256").unwrap();
    assert_eq!((ec["kty"].as_str(), ec["crv"].as_str()), (Some("EC"), Some("P-256")));
    let rsa = keys.iter().find(|k| k["alg"] == "RS256").unwrap();
    assert_eq!(rsa["kty"], "RSA");
    assert_eq!(rsa["e"], "AQAB");
    server.stop().await;
}
both_backends!(metadata_and_jwks);

async fn operations_endpoints(backend: Backend) {
    let setup = setup_or_skip!(backend);
    let server = setup.start().await.unwrap();
    let (status, body) = server.get_json("/healthz").await.unwrap();
    assert_eq!((status.as_u16(), body["status"].as_str()), (200, Some("ok")));
    let (status, body) = server.get_json("/readyz").await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(body["store"], if backend == Backend::Sqlite { "sqlite" } else { "postgres" });

    // Loopback listener: metrics are open; they count the requests above.
    let text = server.http.get(server.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(text.contains(r#"latchkey_http_requests_total{method="GET",route="/healthz",status="200"} 1"#), "{text}");
    assert!(text.contains("latchkey_http_request_duration_seconds_bucket"));
    assert!(text.contains(r#"latchkey_db_pool_connections{state="max"}"#));
    server.stop().await;
}
both_backends!(operations_endpoints);

/// RFC 8414 §3.1: an issuer with a path gets the well-known segment
/// inserted before the path; OIDC Discovery appends it.
#[tokio::test]
async fn issuer_with_path_gets_well_known_path_insertion() {
    let mut setup = latchkey_testkit::Setup::new(Backend::Sqlite).await.unwrap().unwrap();
    // The issuer is configuration; the port is unknown until bind, so use a
    // fixed loopback issuer (requests still go to the bound port).
    setup.issuer = Some("http://127.0.0.1:9/tenant-a".into());
    let server = setup.start().await.unwrap();
    let (status, inserted) = server.get_json("/.well-known/oauth-authorization-server/tenant-a").await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(inserted["issuer"], "http://127.0.0.1:9/tenant-a");
    assert_eq!(inserted["jwks_uri"], "http://127.0.0.1:9/tenant-a/jwks");
    let (status, appended) = server.get_json("/tenant-a/.well-known/openid-configuration").await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(appended, inserted);
    let (status, _) = server.get_json("/.well-known/openid-configuration/tenant-a").await.unwrap();
    assert_eq!(status, 200);
    // The root metadata of another issuer is not served here.
    let (status, _) = server.get_json("/.well-known/oauth-authorization-server").await.unwrap();
    assert_eq!(status, 404);
    let (status, jwks) = server.get_json("/tenant-a/jwks").await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
    server.stop().await;
}

/// The issuer never comes from the Host header.
#[tokio::test]
async fn host_header_does_not_change_the_issuer() {
    let setup = latchkey_testkit::Setup::new(Backend::Sqlite).await.unwrap().unwrap();
    let server = setup.start().await.unwrap();
    let doc: serde_json::Value = server
        .http
        .get(server.url("/.well-known/openid-configuration"))
        .header("host", "evil.example")
        .header("x-forwarded-host", "evil.example")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["issuer"], server.issuer());
    assert!(!doc.to_string().contains("evil.example"));
    server.stop().await;
}
