//! `latchkey doctor ISSUER`: what an integrator checks first when tokens
//! do not work. Discovery (the document's issuer must equal the one asked
//! for, exactly), the metadata a client needs, S256 PKCE, the JWKS (keys
//! parse, kids unique, no private parts), the clock offset from the
//! server's `Date` header, https endpoints, and optionally whether a
//! client may use a redirect URI. Each check: PASS, WARN or FAIL with a
//! reason. Exit code 0: no failure, 2: a check failed, 1: unreachable.

use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::{Negative, print_json};
use crate::cli::DoctorArgs;

struct Check {
    name: &'static str,
    level: &'static str,
    detail: String,
}

fn check(name: &'static str, ok: bool, detail: impl Into<String>) -> Check {
    Check { name, level: if ok { "pass" } else { "fail" }, detail: detail.into() }
}

fn warn(name: &'static str, detail: impl Into<String>) -> Check {
    Check { name, level: "warn", detail: detail.into() }
}

pub async fn run(args: DoctorArgs) -> Result<()> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let issuer = args.issuer.clone();
    let mut checks = Vec::new();

    let url = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
    let resp = http.get(&url).send().await.with_context(|| format!("fetching {url}"))?;
    let date = resp.headers().get(reqwest::header::DATE).and_then(|d| d.to_str().ok()).map(str::to_owned);
    if !resp.status().is_success() {
        bail!("{url} answered {}", resp.status());
    }
    let doc: Value = resp.json().await.context("the discovery document is not JSON")?;
    checks.push(check(
        "issuer",
        doc["issuer"].as_str() == Some(issuer.as_str()),
        format!("the document says {} (must equal {issuer} exactly: OIDC Discovery §4.3)", doc["issuer"]),
    ));
    for field in [
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "response_types_supported",
        "subject_types_supported",
        "id_token_signing_alg_values_supported",
    ] {
        checks.push(check("metadata", !doc[field].is_null(), format!("{field}: {}", short(&doc[field]))));
    }
    let s256 = doc["code_challenge_methods_supported"].as_array().is_some_and(|m| m.iter().any(|v| v == "S256"));
    checks.push(check(
        "pkce",
        s256,
        format!("code_challenge_methods_supported: {}", short(&doc["code_challenge_methods_supported"])),
    ));

    // Endpoints: https, except on loopback.
    for field in ["authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint"] {
        if let Some(u) = doc[field].as_str() {
            let loopback = url::Url::parse(u)
                .ok()
                .and_then(|p| {
                    p.host_str()
                        .map(|h| h == "localhost" || h.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback()))
                })
                .unwrap_or(false);
            if u.starts_with("https://") {
                checks.push(check("https", true, format!("{field} {u}")));
            } else if loopback {
                checks.push(warn("https", format!("{field} {u} is plain http (fine on loopback only)")));
            } else {
                checks.push(check("https", false, format!("{field} {u} is not https")));
            }
        }
    }

    // Clock offset from the Date header.
    match date.as_deref().and_then(httpdate) {
        Some(server) => {
            let now = SystemTime::now();
            let offset = match server.duration_since(now) {
                Ok(ahead) => ahead.as_secs() as i64,
                Err(behind) => -(behind.duration().as_secs() as i64),
            };
            let detail = format!("the server's clock is {offset:+} s from this machine's");
            if offset.abs() <= 5 {
                checks.push(check("clock", true, detail));
            } else if offset.abs() <= 60 {
                checks.push(warn("clock", format!("{detail}: tokens may look not yet valid or expired")));
            } else {
                checks.push(check("clock", false, format!("{detail}: fix NTP on one side")));
            }
        }
        None => checks.push(warn("clock", "no Date header to compare with")),
    }

    // The JWKS.
    if let Some(jwks_uri) = doc["jwks_uri"].as_str() {
        match fetch_keys(&http, jwks_uri).await {
            Ok((count, kids, cache)) => {
                let unique = kids.len() == kids.iter().collect::<std::collections::HashSet<_>>().len();
                checks.push(check("jwks", count > 0, format!("{count} usable key(s): {kids:?}")));
                checks.push(check(
                    "jwks",
                    unique,
                    if unique { "every kid is unique".into() } else { "two keys share a kid".to_string() },
                ));
                checks.push(match cache {
                    Some(c) => check("jwks", true, format!("Cache-Control: {c}")),
                    None => warn("jwks", "no Cache-Control: verifiers cannot tell how long to keep the keys"),
                });
            }
            Err(e) => checks.push(check("jwks", false, e.to_string())),
        }
    }

    // A client's redirect URI: an authorization request either moves on
    // (to login) or is stopped on an error page (never redirected).
    if let (Some(client), Some(redirect), Some(endpoint)) =
        (&args.client_id, &args.redirect_uri, doc["authorization_endpoint"].as_str())
    {
        let mut u = url::Url::parse(endpoint).context("authorization_endpoint")?;
        u.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", client)
            .append_pair("redirect_uri", redirect)
            .append_pair("scope", "openid")
            .append_pair("state", "doctor")
            .append_pair("code_challenge", &latchkey_crypto::digest::pkce_s256(&latchkey_crypto::random::token(32)))
            .append_pair("code_challenge_method", "S256");
        let resp = http.get(u).send().await.context("calling the authorization endpoint")?;
        let status = resp.status();
        let location =
            resp.headers().get(reqwest::header::LOCATION).and_then(|l| l.to_str().ok()).unwrap_or("").to_owned();
        let accepted = status.is_redirection() && !location.contains("error=");
        checks.push(check(
            "redirect_uri",
            accepted,
            if accepted {
                format!("client {client} may use {redirect}")
            } else {
                format!("client {client} with {redirect}: {status} {}", location)
            },
        ));
    }

    let failed = checks.iter().any(|c| c.level == "fail");
    if args.json {
        let list: Vec<Value> =
            checks.iter().map(|c| json!({ "check": c.name, "result": c.level, "detail": c.detail })).collect();
        print_json(&json!({ "issuer": issuer, "ok": !failed, "checks": list }))?;
    } else {
        for c in &checks {
            println!("{:<4}  {:<12} {}", c.level.to_uppercase(), c.name, c.detail);
        }
    }
    if failed { Err(Negative.into()) } else { Ok(()) }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 100 { format!("{}…", &s[..s.char_indices().nth(97).map_or(s.len(), |(i, _)| i)]) } else { s }
}

async fn fetch_keys(http: &reqwest::Client, uri: &str) -> Result<(usize, Vec<String>, Option<String>)> {
    let resp = http.get(uri).send().await.with_context(|| format!("fetching {uri}"))?;
    if !resp.status().is_success() {
        bail!("{uri} answered {}", resp.status());
    }
    let cache = resp.headers().get(reqwest::header::CACHE_CONTROL).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let text = resp.text().await?;
    let keys = latchkey_crypto::jwk::parse_public_jwks(&text)?;
    let mut kids: Vec<String> = keys.iter().map(|k| k.kid.clone()).collect();
    // A kid serving several algorithms (RSA without alg) is one key.
    kids.dedup();
    Ok((keys.len(), kids, cache))
}

/// An HTTP date (RFC 9110 §5.6.7, IMF-fixdate).
fn httpdate(text: &str) -> Option<SystemTime> {
    humantime::parse_rfc3339_weak(&imf_to_rfc3339(text)?).ok()
}

/// "Sun, 06 Nov 1994 08:49:37 GMT" → "1994-11-06 08:49:37".
fn imf_to_rfc3339(text: &str) -> Option<String> {
    let parts: Vec<&str> = text.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else { return None };
    let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        .iter()
        .position(|m| m == month)?
        + 1;
    Some(format!("{year}-{month:02}-{day:0>2} {time}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn http_dates_are_read() {
        let t = super::httpdate("Sun, 06 Nov 1994 08:49:37 GMT").expect("a date");
        assert_eq!(t.duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs(), 784111777);
        assert!(super::httpdate("yesterday").is_none());
    }
}
