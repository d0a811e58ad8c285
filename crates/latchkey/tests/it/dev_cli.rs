//! The developer commands, as the real binary: `pkce`, `errors`,
//! `jwt decode|verify` against a running server's keys, `authz check`
//! against the AuthZEN interop example, `doctor`, and `token` with every
//! grant (the authorization code flow with the test playing the browser
//! against the CLI's loopback listener). Exit codes: 0 success (valid,
//! allow), 2 a negative answer (invalid, deny), 1 an error.

use std::io::Write;
use std::process::{Output, Stdio};

use serde_json::{Value, json};

use crate::cli::latchkey;

fn run(args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
    let mut cmd = latchkey();
    cmd.args(args).env("NO_COLOR", "1").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn pkce_makes_and_checks_verifiers() {
    let out = run(&["pkce", "--json"], &[], None);
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let verifier = v["code_verifier"].as_str().unwrap();
    assert_eq!(verifier.len(), 43, "256 random bits");
    assert_eq!(v["code_challenge"], latchkey_crypto::digest::pkce_s256(verifier));
    assert_eq!(v["code_challenge_method"], "S256");
    // RFC 7636 appendix B.
    let out = run(&["pkce", "--verifier", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"], &[], None);
    assert!(stdout(&out).contains("code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"), "{}", stdout(&out));
    let out = run(&["pkce", "--verifier", "too-short"], &[], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("43 to 128"));
}

#[test]
fn errors_are_explained() {
    let out = run(&["errors", "list"], &[], None);
    assert!(stdout(&out).lines().any(|l| l == "invalid_grant"));
    let out = run(&["errors", "show", "invalid_grant", "--json"], &[], None);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"], "invalid_grant");
    assert!(!v["explanation"].as_str().unwrap().is_empty());
    let out = run(&["errors", "show", "no_such_error"], &[], None);
    assert_eq!(out.status.code(), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_decode_and_verify_explain_each_check() {
    let setup = crate::setup_or_skip!(latchkey_testkit::Backend::Sqlite).with_toml(&crate::sign_in::config());
    let server = setup.start().await.unwrap();
    let (s, b, _) = crate::sign_in::token_request(
        &server,
        Some(("orders-api", crate::sign_in::WEB_SECRET)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let token = b["access_token"].as_str().unwrap().to_owned();
    let issuer = server.issuer().to_owned();
    let aud = latchkey_crypto::jws::decode_unverified(&token).map(|(_, p, _)| p).unwrap();
    let aud = serde_json::from_slice::<Value>(&aud).unwrap()["aud"].as_str().unwrap().to_owned();

    // decode: from the argument and from stdin.
    let out = run(&["jwt", "decode", &token], &[], None);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["header"]["typ"], "at+jwt");
    assert_eq!(v["claims"]["iss"], issuer.as_str());
    let out = run(&["jwt", "decode", "-"], &[], Some(&token));
    assert!(out.status.success());
    assert_eq!(run(&["jwt", "decode", "not-a-jwt"], &[], None).status.code(), Some(1));

    // verify: valid against the live JWKS found through discovery.
    let verify = |t: &str, extra: &[&str]| {
        let mut args = vec!["jwt", "verify", t, "--issuer", issuer.as_str(), "--audience", aud.as_str()];
        args.extend_from_slice(extra);
        run(&args, &[], None)
    };
    let out = verify(&token, &[]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
    assert!(stdout(&out).contains("PASS  signature") && stdout(&out).ends_with("valid\n"), "{}", stdout(&out));

    // Tampered: the failing step is named, with a hint; exit code 2.
    let mut parts: Vec<&str> = token.split('.').collect();
    let mut claims: Value =
        serde_json::from_slice(&latchkey_crypto::jws::decode_unverified(&token).unwrap().1).unwrap();
    claims["scope"] = json!("everything");
    let forged_payload = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, claims.to_string());
    parts[1] = &forged_payload;
    let tampered = parts.join(".");
    let out = verify(&tampered, &[]);
    assert_eq!(out.status.code(), Some(2));
    let text = stdout(&out);
    assert!(text.contains("FAIL  signature") && text.contains("hint:") && text.ends_with("invalid\n"), "{text}");

    // Several failures at once, as JSON: audience and scope.
    let out = run(
        &[
            "jwt",
            "verify",
            &token,
            "--issuer",
            &issuer,
            "--audience",
            "https://elsewhere",
            "--scope",
            "admin",
            "--json",
        ],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], false);
    let failed: Vec<&str> = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "fail")
        .map(|s| s["check"].as_str().unwrap())
        .collect();
    assert_eq!(failed, vec!["aud", "scope"]);

    // Keys from a file holding one JWK; no keys at all is an error.
    let jwks: Value = server.http.get(server.url("/jwks")).send().await.unwrap().json().await.unwrap();
    let kid = latchkey_crypto::jws::decode_unverified(&token).unwrap().0.kid.unwrap();
    let jwk = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid.as_str()).unwrap().clone();
    let file = setup.data_dir().join("key.json");
    std::fs::write(&file, jwk.to_string()).unwrap();
    let out = run(&["jwt", "verify", &token, "--jwks", file.to_str().unwrap()], &[], None);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("SKIP  iss"), "no --issuer: skipped, not passed");
    let out = run(&["jwt", "verify", &token], &[], None);
    assert_eq!(out.status.code(), Some(1));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authz_check_answers_with_exit_codes() {
    let Some((_setup, server)) = crate::authzen_interop::interop_server(latchkey_testkit::Backend::Sqlite).await else {
        return;
    };
    let key = [("LATCHKEY_PEP_KEY", crate::authzen_interop::PEP_KEY)];
    let rick = "user:CiRmZDA2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs";
    let morty = "user:CiRmZDE2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs";
    let check = |subject: &str, action: &str, resource: &str, env: &[(&str, &str)]| {
        run(
            &[
                "authz",
                "check",
                "--server",
                &server.base_url,
                "--subject",
                subject,
                "--action",
                action,
                "--resource",
                resource,
            ],
            env,
            None,
        )
    };
    let out = check(rick, "can_read_user", "user:beth@the-smiths.com", &key);
    assert_eq!((out.status.code(), stdout(&out).trim()), (Some(0), "allow"));
    let out = check(morty, "can_delete_todo", "todo:7240d0db-8ff0-41ec-98b2-34a096273b92", &key);
    assert_eq!((out.status.code(), stdout(&out).lines().next()), (Some(2), Some("deny")));
    assert_eq!(check(rick, "can_read_user", "user:x", &[]).status.code(), Some(1), "no key");
    assert_eq!(check("rick", "can_read_user", "user:x", &key).status.code(), Some(1), "not TYPE:ID");
    assert_eq!(check(rick, "can_read_user", "user:x", &[("LATCHKEY_PEP_KEY", "wrong")]).status.code(), Some(1));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_cross_checks_an_issuer() {
    let setup = crate::setup_or_skip!(latchkey_testkit::Backend::Sqlite).with_toml(&crate::sign_in::config());
    let server = setup.start().await.unwrap();
    let issuer = server.issuer().to_owned();
    let redirect = crate::sign_in::WEB_REDIRECT;
    let out = run(&["doctor", &issuer, "--client-id", "web", "--redirect-uri", redirect], &[], None);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    for line in ["PASS  issuer", "PASS  pkce", "PASS  clock", "PASS  jwks", "PASS  redirect_uri", "WARN  https"] {
        assert!(text.contains(line), "{line}: {text}");
    }
    // A redirect URI the client does not have: that check fails, exit 2.
    let out = run(
        &["doctor", &issuer, "--client-id", "web", "--redirect-uri", "https://evil.example/cb", "--json"],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert!(v["checks"].as_array().unwrap().iter().any(|c| c["check"] == "redirect_uri" && c["result"] == "fail"));
    // An issuer that does not match its own document: an exact comparison.
    let out = run(&["doctor", &format!("{issuer}/")], &[], None);
    assert_eq!(out.status.code(), Some(2), "a trailing slash is another issuer: {}", stdout(&out));
    assert!(stdout(&out).contains("FAIL  issuer"));
    server.stop().await;
    // Nobody there: an error, not a verdict.
    assert_eq!(run(&["doctor", "http://127.0.0.1:9"], &[], None).status.code(), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_get_introspect_and_revoke_through_discovery() {
    let setup = crate::setup_or_skip!(latchkey_testkit::Backend::Sqlite).with_toml(&crate::sign_in::config());
    let server = setup.start().await.unwrap();
    let issuer = server.issuer().to_owned();
    let secret = [("LATCHKEY_CLIENT_SECRET", crate::sign_in::WEB_SECRET)];
    let client = ["--issuer", issuer.as_str(), "--client-id", "orders-api"];
    let with = |cmd: &[&str], extra: &[&str]| -> Vec<String> {
        cmd.iter().chain(client.iter()).chain(extra.iter()).map(|s| s.to_string()).collect()
    };
    let args = with(&["token", "get"], &["--json"]);
    let out = run(&args.iter().map(String::as_str).collect::<Vec<_>>(), &secret, None);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let body: Value = serde_json::from_slice(&out.stdout).unwrap();
    let token = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(body["token_type"], "Bearer");

    let introspect = with(&["token", "introspect"], &["-"]);
    let introspect: Vec<&str> = introspect.iter().map(String::as_str).collect();
    let out = run(&introspect, &secret, Some(&token));
    assert_eq!(out.status.code(), Some(0), "active: {}", stdout(&out));
    assert_eq!(serde_json::from_slice::<Value>(&out.stdout).unwrap()["active"], true);

    let revoke = with(&["token", "revoke"], &[token.as_str()]);
    let out = run(&revoke.iter().map(String::as_str).collect::<Vec<_>>(), &secret, None);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let out = run(&introspect, &secret, Some(&token));
    assert_eq!(out.status.code(), Some(2), "inactive after revocation: {}", stdout(&out));

    // A wrong secret: the RFC's error, exit 1; no secret at all: exit 1.
    let out = run(&args.iter().map(String::as_str).collect::<Vec<_>>(), &[("LATCHKEY_CLIENT_SECRET", "wrong")], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid_client"));
    assert_eq!(run(&args.iter().map(String::as_str).collect::<Vec<_>>(), &[], None).status.code(), Some(1));
    server.stop().await;
}

#[test]
fn jwt_sign_makes_tokens_that_verify_with_the_public_jwk() {
    use base64::Engine;
    let dir = tempfile::tempdir().unwrap();
    let der = latchkey_crypto::signing_key::generate_pkcs8(latchkey_domain::SigningAlg::ES256).unwrap();
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        base64::engine::general_purpose::STANDARD.encode(der)
    );
    let key = dir.path().join("key.pem");
    std::fs::write(&key, pem).unwrap();
    let key = key.to_str().unwrap();

    let out = run(&["jwt", "sign", "--key", key, "--alg", "ES256", "--public-jwk"], &[], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let jwk = dir.path().join("jwk.json");
    std::fs::write(&jwk, &out.stdout).unwrap();

    let claims = r#"{"iss":"https://as.example","sub":"u","aud":"https://api.example","jti":"j","client_id":"c"}"#;
    let out = run(&["jwt", "sign", "--key", key, "--alg", "ES256", "-"], &[], Some(claims));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = stdout(&out).trim().to_owned();
    let c: Value = serde_json::from_slice(&latchkey_crypto::jws::decode_unverified(&token).unwrap().1).unwrap();
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 300, "exp added: 5 minutes");

    let out = run(
        &[
            "jwt",
            "verify",
            &token,
            "--jwks",
            jwk.to_str().unwrap(),
            "--issuer",
            "https://as.example",
            "--audience",
            "https://api.example",
        ],
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    // The wrong algorithm for the key, or claims that are not an object.
    assert_eq!(run(&["jwt", "sign", "--key", key, "--alg", "RS256", "{}"], &[], None).status.code(), Some(1));
    assert_eq!(run(&["jwt", "sign", "--key", key, "--alg", "ES256", "[1]"], &[], None).status.code(), Some(1));
}

#[test]
fn shell_completions_are_printed() {
    for shell in ["bash", "zsh", "fish"] {
        let out = run(&["completions", shell], &[], None);
        assert!(out.status.success(), "{shell}");
        let text = stdout(&out);
        assert!(text.contains("latchkey") && text.contains("doctor"), "{shell}: {}", &text[..text.len().min(200)]);
    }
    assert_eq!(run(&["completions", "cmd.exe"], &[], None).status.code(), Some(2), "a usage error");
}

/// Native clients for `token get --grant authorization_code`: the
/// registered loopback redirect URI matches any port (RFC 8252 §7.3).
fn code_flow_config() -> String {
    format!(
        r#"{}
[[clients]]
id = "cli-public"
type = "public"
redirect_uris = ["http://127.0.0.1/callback"]
scopes = ["openid", "profile", "offline_access"]

[[clients]]
id = "cli-confidential"
type = "confidential"
secret = "{}"
redirect_uris = ["http://127.0.0.1/cli/cb"]
scopes = ["openid", "profile"]
"#,
        crate::sign_in::config(),
        crate::sign_in::WEB_SECRET
    )
}

/// The CLI running in the background while the test plays the browser;
/// its stderr is collected as it comes. Killed if the test fails first.
struct Background {
    child: std::process::Child,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Background {
    fn start(args: &[&str], env: &[(&str, &str)]) -> Background {
        let mut cmd = latchkey();
        cmd.args(args).env("NO_COLOR", "1").stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        let reader = std::thread::spawn(move || {
            for line in std::io::BufRead::lines(std::io::BufReader::new(pipe)).map_while(Result::ok) {
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        Background { child, stderr, reader: Some(reader) }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// The authorization URL the CLI printed (on stderr, a line of its own).
    async fn authorization_url(&self) -> url::Url {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let text = self.stderr();
            if let Some(line) = text.lines().find(|l| l.starts_with("http") && l.contains("code_challenge=")) {
                return url::Url::parse(line).unwrap();
            }
            assert!(std::time::Instant::now() < deadline, "no authorization URL on stderr: {text}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Exit code, stdout and stderr once the CLI is done.
    fn finish(mut self) -> (Option<i32>, String, String) {
        let status = tokio::task::block_in_place(|| self.child.wait()).unwrap();
        let mut out = String::new();
        std::io::Read::read_to_string(&mut self.child.stdout.take().unwrap(), &mut out).unwrap();
        // The reader thread ends with stderr, once the process is gone.
        if let Some(reader) = self.reader.take() {
            reader.join().unwrap();
        }
        (status.code(), out, self.stderr())
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn param(url: &url::Url, name: &str) -> String {
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned()).unwrap_or_default()
}

fn location(resp: &reqwest::Response) -> String {
    resp.headers().get(reqwest::header::LOCATION).and_then(|l| l.to_str().ok()).unwrap_or_default().to_owned()
}

fn code_flow_args<'a>(issuer: &'a str, client_id: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "token",
        "get",
        "--grant",
        "authorization_code",
        "--issuer",
        issuer,
        "--client-id",
        client_id,
        "--no-browser",
        "--timeout",
        "60s",
    ];
    args.extend_from_slice(extra);
    args
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_get_runs_the_code_flow_through_a_loopback_listener() {
    let setup = crate::setup_or_skip!(latchkey_testkit::Backend::Sqlite).with_toml(&code_flow_config());
    let server = setup.start().await.unwrap();
    let issuer = server.issuer().to_owned();

    // A public client, a free port picked by the CLI, the readable output.
    let cli = Background::start(&code_flow_args(&issuer, "cli-public", &["--scope", "openid offline_access"]), &[]);
    let url = cli.authorization_url().await;
    let redirect = param(&url, "redirect_uri");
    assert!(redirect.starts_with("http://127.0.0.1:") && redirect.ends_with("/callback"), "{redirect}");
    assert_eq!(param(&url, "code_challenge_method"), "S256");
    assert!(!param(&url, "state").is_empty() && !param(&url, "nonce").is_empty());
    let browser = latchkey_testkit::browser::Browser::new();
    let resp = browser.authorize(url.as_str(), "alice", "alice-password").await.unwrap();
    let back = location(&resp);
    assert!(back.starts_with(&format!("{redirect}?")), "back to the CLI's listener: {back}");
    let page = browser.get(&back).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("close this window"));
    let (code, out, err) = cli.finish();
    assert_eq!(code, Some(0), "{err}");
    let field = |name: &str| {
        out.lines().find_map(|l| l.strip_prefix(&format!("{name}="))).map(str::to_owned).unwrap_or_default()
    };
    assert!(!field("access_token").is_empty(), "{out}");
    assert_eq!(field("token_type"), "Bearer");
    assert!(!field("id_token").is_empty(), "{out}");
    assert!(err.contains("ID token verified"), "{err}");
    let claims = latchkey_crypto::jws::decode_unverified(&field("access_token")).unwrap().1;
    assert_eq!(serde_json::from_slice::<Value>(&claims).unwrap()["client_id"], "cli-public");

    // The refresh token, redeemed by the same public client (no secret).
    let refresh = field("refresh_token");
    assert!(!refresh.is_empty(), "{out}");
    let out = run(
        &[
            "token",
            "get",
            "--grant",
            "refresh_token",
            "--issuer",
            &issuer,
            "--client-id",
            "cli-public",
            "--refresh-token",
            "-",
        ],
        &[],
        Some(&refresh),
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout(&out).starts_with("ey"), "an access token: {}", stdout(&out));

    // A confidential client (Basic with LATCHKEY_CLIENT_SECRET), the port
    // and path given, JSON on stdout.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let redirect = format!("http://127.0.0.1:{port}/cli/cb");
    let secret = [("LATCHKEY_CLIENT_SECRET", crate::sign_in::WEB_SECRET)];
    let args = code_flow_args(&issuer, "cli-confidential", &["--redirect-uri", &redirect, "--json"]);
    let cli = Background::start(&args, &secret);
    let url = cli.authorization_url().await;
    assert_eq!(param(&url, "redirect_uri"), redirect);
    let resp = browser.authorize(url.as_str(), "alice", "alice-password").await.unwrap();
    let back = location(&resp);
    assert!(back.starts_with(&format!("{redirect}?")), "{back}");
    assert_eq!(browser.get(&back).await.unwrap().status(), 200);
    let (code, out, err) = cli.finish();
    assert_eq!(code, Some(0), "{err}");
    let body: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["access_token"].is_string() && body["id_token"].is_string(), "{body}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_get_code_flow_refuses_errors_forged_state_and_silence() {
    let setup = crate::setup_or_skip!(latchkey_testkit::Backend::Sqlite).with_toml(&code_flow_config());
    let server = setup.start().await.unwrap();
    let issuer = server.issuer().to_owned();

    // The user denies consent: error=access_denied comes back, exit 1.
    let cli = Background::start(&code_flow_args(&issuer, "cli-public", &[]), &[]);
    let url = cli.authorization_url().await;
    let browser = latchkey_testkit::browser::Browser::new();
    let resp = browser.authorize_deciding(url.as_str(), "alice", "alice-password", "deny").await.unwrap();
    let back = location(&resp);
    assert!(back.contains("error=access_denied"), "{back}");
    let page = browser.get(&back).await.unwrap();
    assert_eq!(page.status(), 400);
    let (code, out, err) = cli.finish();
    assert_eq!(code, Some(1), "{err}");
    assert!(out.is_empty(), "nothing on stdout: {out}");
    assert!(err.contains("error: the authorization server answered access_denied"), "{err}");

    // A redirect whose state is not this sign-in's: refused, exit 1, and
    // the code is never redeemed.
    let cli = Background::start(&code_flow_args(&issuer, "cli-public", &[]), &[]);
    let url = cli.authorization_url().await;
    let resp = browser.authorize(url.as_str(), "alice", "alice-password").await.unwrap();
    let mut back = url::Url::parse(&location(&resp)).unwrap();
    let pairs: Vec<(String, String)> = back
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "state" { "forged".to_owned() } else { v.into_owned() };
            (k.into_owned(), v)
        })
        .collect();
    back.query_pairs_mut().clear().extend_pairs(pairs);
    assert_eq!(browser.get(back.as_str()).await.unwrap().status(), 400);
    let (code, _, err) = cli.finish();
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("state"), "{err}");

    // Nobody comes back in time.
    let out = run(
        &["token", "get", "--grant", "authorization_code", "--issuer", &issuer, "--client-id", "cli-public"]
            .into_iter()
            .chain(["--no-browser", "--timeout", "1s"])
            .collect::<Vec<_>>(),
        &[],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no redirect came back"));

    // A redirect URI that is not a loopback http one.
    let args = code_flow_args(&issuer, "cli-public", &["--redirect-uri", "https://app.example.test/callback"]);
    let out = run(&args, &[], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback"));
    server.stop().await;
}
