//! `latchkey token get --grant authorization_code`: a sign-in in the
//! browser, as a native app does it (RFC 8252). The CLI listens on a
//! loopback address (any free port unless `--redirect-uri` names one:
//! RFC 8252 §7.3 lets the port vary), sends the browser to the
//! authorization endpoint with state, nonce and PKCE S256, takes exactly
//! one redirect back, checks `iss` (RFC 9207) and `state`, redeems the code
//! with the verifier, and verifies the ID token (signature through the
//! issuer's JWKS, iss, aud, exp, nonce) before printing anything.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use latchkey_resource::explain::{Expectations, Status, explain};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use url::{Host, Url};

use super::print_json;
use super::token::{Issuer, refused};
use crate::cli::TokenGetArgs;

pub(super) async fn run(issuer: &Issuer, args: &TokenGetArgs) -> Result<()> {
    let timeout = humantime::parse_duration(&args.timeout)
        .with_context(|| format!("--timeout: {:?} is not a duration like 5m", args.timeout))?;
    let mut url = Url::parse(issuer.endpoint("authorization_endpoint")?).context("authorization_endpoint")?;
    let (listener, redirect_uri) = bind(args.redirect_uri.as_deref()).await?;
    let state = latchkey_crypto::random::token(16);
    let nonce = latchkey_crypto::random::token(16);
    let verifier = latchkey_crypto::random::token(32);
    let scope = args.scope.as_deref().unwrap_or("openid");
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", &issuer.client_id)
            .append_pair("redirect_uri", redirect_uri.as_str())
            .append_pair("scope", scope)
            .append_pair("state", &state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &latchkey_crypto::digest::pkce_s256(&verifier))
            .append_pair("code_challenge_method", "S256");
        for (name, value) in [("resource", &args.resource), ("acr_values", &args.acr_values), ("prompt", &args.prompt)]
        {
            if let Some(v) = value {
                query.append_pair(name, v);
            }
        }
    }
    let expected = Expected {
        state,
        issuer: issuer.issuer.clone(),
        iss_always_sent: issuer.doc["authorization_response_iss_parameter_supported"] == true,
    };
    let callback = Callback::listen(listener, redirect_uri.path().to_owned(), expected);

    eprintln!("Sign in through this URL:");
    eprintln!("{url}");
    if !args.no_browser {
        open_browser(url.as_str());
    }
    eprintln!("Waiting up to {} for the redirect to {redirect_uri} …", humantime::format_duration(timeout));
    let code = callback.wait(timeout).await?;

    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect_uri.as_str()),
        ("code_verifier", verifier.as_str()),
    ];
    if let Some(r) = &args.resource {
        form.push(("resource", r));
    }
    let (status, body) = issuer.post("token_endpoint", &form).await?;
    if status != 200 {
        return Err(refused(status, &body));
    }
    let id_claims = match body["id_token"].as_str() {
        Some(id_token) => Some(check_id_token(issuer, id_token, &nonce).await?),
        None => {
            if scope.split(' ').any(|s| s == "openid") {
                eprintln!("warning: openid was asked for but no ID token came back");
            }
            None
        }
    };
    if args.client.json {
        print_json(&body)?;
    } else {
        for field in ["access_token", "token_type", "expires_in", "scope", "refresh_token", "id_token"] {
            match &body[field] {
                Value::Null => {}
                Value::String(s) => println!("{field}={s}"),
                other => println!("{field}={other}"),
            }
        }
    }
    if let Some(claims) = id_claims {
        let sub = claims["sub"].as_str().unwrap_or("(no sub)");
        eprintln!("signed in: sub {sub} (ID token verified: signature, iss, aud, exp, nonce)");
    }
    Ok(())
}

/// The listener for `--redirect-uri` (default `http://127.0.0.1/callback`)
/// and the redirect URI with the port it got.
async fn bind(given: Option<&str>) -> Result<(TcpListener, Url)> {
    let text = given.unwrap_or("http://127.0.0.1/callback");
    let mut uri = Url::parse(text).with_context(|| format!("--redirect-uri {text:?} is not a URL"))?;
    let loopback_only = "--redirect-uri must be http on a loopback address, without query or fragment: \
                         http://127.0.0.1[:PORT]/PATH (RFC 8252 §7.3)";
    if uri.scheme() != "http" || uri.query().is_some() || uri.fragment().is_some() {
        bail!("{loopback_only}");
    }
    let host = match uri.host() {
        Some(Host::Ipv4(ip)) if ip.is_loopback() => IpAddr::V4(ip),
        Some(Host::Ipv6(ip)) if ip.is_loopback() => IpAddr::V6(ip),
        // Allowed, but the server then wants the exact port registered (RFC 8252 §8.3).
        Some(Host::Domain("localhost")) => IpAddr::V4(Ipv4Addr::LOCALHOST),
        _ => bail!("{loopback_only}"),
    };
    // Url drops a default port: a written-out ":80" is still port 80.
    let authority = text.split("://").nth(1).and_then(|rest| rest.split('/').next()).unwrap_or("");
    let port = uri.port().unwrap_or(if authority.ends_with(":80") { 80 } else { 0 });
    let listener = TcpListener::bind((host, port))
        .await
        .with_context(|| format!("listening on {host}:{port} for the redirect"))?;
    let port = listener.local_addr()?.port();
    uri.set_port(Some(port)).map_err(|()| anyhow!("{text}: cannot take a port"))?;
    Ok((listener, uri))
}

/// What the redirect must carry.
struct Expected {
    state: String,
    issuer: String,
    /// The issuer says it always sends `iss` (RFC 9207 §3): a redirect
    /// without it is refused.
    iss_always_sent: bool,
}

/// The code from the redirect's query, or why it is refused. Everything
/// quoted from the query is made printable (it is shown in a terminal).
fn verdict(query: &str, expected: &Expected) -> Result<String, String> {
    let mut params: HashMap<String, String> = HashMap::new();
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if params.insert(name.to_string(), value.into_owned()).is_some() {
            return Err(format!("the redirect repeats {}: refused", printable(&name)));
        }
    }
    match params.get("iss") {
        Some(iss) if *iss != expected.issuer => {
            return Err(format!(
                "the redirect names issuer {} instead of {}: refused (RFC 9207, a mix-up?)",
                printable(iss),
                expected.issuer
            ));
        }
        None if expected.iss_always_sent => {
            return Err("the redirect has no iss although the issuer always sends one (RFC 9207 §2.4): refused".into());
        }
        _ => {}
    }
    if params.get("state") != Some(&expected.state) {
        return Err("the redirect's state is not this sign-in's (a forged or stale redirect?): refused".into());
    }
    if let Some(error) = params.get("error") {
        let description = params.get("error_description").map_or("(no description)", String::as_str);
        return Err(format!("the authorization server answered {}: {}", printable(error), printable(description)));
    }
    params.remove("code").filter(|c| !c.is_empty()).ok_or_else(|| "the redirect has neither code nor error".into())
}

/// Control characters (escape sequences) replaced.
fn printable(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { '?' } else { c }).collect()
}

/// The loopback listener: it answers the first request to the redirect
/// path (404 to anything else, such as /favicon.ico) and hands its verdict
/// over once.
struct Callback {
    verdict: oneshot::Receiver<Result<String, String>>,
    stop: oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

struct Slot {
    path: String,
    expected: Expected,
    sender: Mutex<Option<oneshot::Sender<Result<String, String>>>>,
}

impl Callback {
    fn listen(listener: TcpListener, path: String, expected: Expected) -> Callback {
        let (sender, verdict) = oneshot::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let slot = Arc::new(Slot { path, expected, sender: Mutex::new(Some(sender)) });
        let app = axum::Router::new().fallback(move |method: Method, uri: Uri| {
            let slot = slot.clone();
            async move { answer(&slot, &method, &uri) }
        });
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
        });
        Callback { verdict, stop, server }
    }

    /// The code, once the browser came back with one.
    async fn wait(self, timeout: Duration) -> Result<String> {
        let got = tokio::time::timeout(timeout, self.verdict).await;
        let _ = self.stop.send(());
        // The browser's page is finished before the listener goes.
        let _ = tokio::time::timeout(Duration::from_secs(2), self.server).await;
        match got {
            Err(_) => bail!(
                "no redirect came back within {} (finish the sign-in in the browser, or give a longer --timeout)",
                humantime::format_duration(timeout)
            ),
            Ok(Err(_)) => bail!("the loopback listener stopped before the redirect came"),
            Ok(Ok(Err(reason))) => Err(anyhow!(reason)),
            Ok(Ok(Ok(code))) => Ok(code),
        }
    }
}

fn answer(slot: &Slot, method: &Method, uri: &Uri) -> Response {
    if uri.path() != slot.path {
        return html(StatusCode::NOT_FOUND, "Not found", "This is Latchkey's sign-in listener; nothing is here.");
    }
    if method != Method::GET {
        return html(StatusCode::METHOD_NOT_ALLOWED, "Not allowed", "The redirect comes as a GET request.");
    }
    let Some(sender) = slot.sender.lock().ok().and_then(|mut s| s.take()) else {
        return html(
            StatusCode::CONFLICT,
            "Already answered",
            "This sign-in already came back. You can close this window.",
        );
    };
    let outcome = verdict(uri.query().unwrap_or(""), &slot.expected);
    let response = match &outcome {
        Ok(_) => html(StatusCode::OK, "Signed in", "You can close this window and return to the terminal."),
        Err(reason) => html(
            StatusCode::BAD_REQUEST,
            "Sign-in failed",
            &format!("{reason}. You can close this window; the terminal says the same."),
        ),
    };
    let _ = sender.send(outcome);
    response
}

/// A small page; the text is escaped, nothing is loaded, nothing leaks
/// the code through a Referer.
fn html(status: StatusCode, title: &str, text: &str) -> Response {
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} · Latchkey</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem}}</style>\
         </head><body><h1>{title}</h1><p>{}</p></body></html>",
        escape(text)
    );
    let mut response = (status, page).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
    );
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// Opens the system's browser; failing to is not an error (the URL is
/// printed). On Windows through url.dll rather than `cmd /c start`, which
/// would cut the URL at its first `&`.
fn open_browser(url: &str) {
    let (program, args): (&str, Vec<&str>) = if cfg!(target_os = "macos") {
        ("open", vec![url])
    } else if cfg!(windows) {
        ("rundll32", vec!["url.dll,FileProtocolHandler", url])
    } else {
        ("xdg-open", vec![url])
    };
    let spawned = std::process::Command::new(program)
        .args(&args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    match spawned {
        Ok(mut child) => {
            eprintln!("(opening it with {program}; if no browser shows up, open it yourself)");
            // Reaped in the background; its exit status says nothing useful.
            std::thread::spawn(move || child.wait());
        }
        Err(e) => eprintln!("(no browser opened: {program}: {e}; open the URL yourself)"),
    }
}

/// The ID token, checked against the issuer's JWKS: signature, iss, aud
/// (this client), exp, iat, and the nonce this sign-in sent.
async fn check_id_token(issuer: &Issuer, id_token: &str, nonce: &str) -> Result<Value> {
    let jwks_uri = issuer.endpoint("jwks_uri")?;
    let resp = issuer.http.get(jwks_uri).send().await.with_context(|| format!("fetching {jwks_uri}"))?;
    if !resp.status().is_success() {
        bail!("{jwks_uri} answered {}", resp.status());
    }
    let keys = latchkey_crypto::jwk::parse_public_jwks(&resp.text().await?).context("the issuer's JWKS")?;
    let expect = Expectations {
        issuer: Some(issuer.issuer.clone()),
        audience: Some(issuer.client_id.clone()),
        typ: None,
        ..Expectations::default()
    };
    let explained = explain(id_token, Some(&keys), &expect, latchkey_domain::UnixTime::now().0);
    let failed: Vec<String> = explained
        .steps
        .iter()
        .filter(|s| s.status == Status::Fail)
        .map(|s| format!("{}: {}", s.check, s.detail))
        .collect();
    if !failed.is_empty() {
        bail!("the ID token does not verify ({}); nothing printed", failed.join("; "));
    }
    let claims = explained.claims.unwrap_or(Value::Null);
    if claims["nonce"].as_str() != Some(nonce) {
        bail!(
            "the ID token's nonce is not the one this sign-in sent (a replayed or injected ID token); nothing printed"
        );
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::{Expected, verdict};

    fn expected() -> Expected {
        Expected { state: "s1".into(), issuer: "https://as.example".into(), iss_always_sent: true }
    }

    #[test]
    fn the_redirect_is_checked_before_its_code_is_taken() {
        let e = expected();
        assert_eq!(verdict("code=c1&state=s1&iss=https%3A%2F%2Fas.example", &e), Ok("c1".into()));
        assert!(verdict("code=c1&state=s2&iss=https%3A%2F%2Fas.example", &e).unwrap_err().contains("state"));
        assert!(verdict("code=c1&state=s1", &e).unwrap_err().contains("no iss"));
        assert!(verdict("code=c1&state=s1&iss=https%3A%2F%2Fevil.example", &e).unwrap_err().contains("mix-up"));
        assert!(verdict("code=c1&code=c2&state=s1&iss=https%3A%2F%2Fas.example", &e).unwrap_err().contains("repeats"));
        let denied = "error=access_denied&error_description=no%1b%5B31m&state=s1&iss=https%3A%2F%2Fas.example";
        assert_eq!(
            verdict(denied, &e).unwrap_err(),
            "the authorization server answered access_denied: no?[31m",
            "escape sequences are not passed to the terminal"
        );
        let lax = Expected { iss_always_sent: false, ..expected() };
        assert_eq!(verdict("code=c1&state=s1", &lax), Ok("c1".into()));
    }
}
