//! `latchkey jwt decode|verify`. Decoding never trusts anything; verifying
//! explains every check (pass, fail, skipped) with a hint for each failure,
//! against the issuer's live JWKS (through discovery) or given keys.
//! Exit codes for verify: 0 valid, 2 invalid, 1 error.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use latchkey_crypto::signing_key::VerifyingKey;
use latchkey_resource::explain::{Expectations, Status, explain};
use serde_json::{Value, json};

use super::{Negative, arg_or_stdin, print_json};
use crate::cli::{JwtCommand, JwtSignArgs, JwtVerifyArgs};

pub async fn run(cmd: JwtCommand) -> Result<()> {
    match cmd {
        JwtCommand::Decode { token } => {
            let token = arg_or_stdin(&token)?;
            let (header, payload, _) =
                latchkey_crypto::jws::decode_unverified(&token).context("not a JWT (header.payload.signature)")?;
            let claims: Value = serde_json::from_slice(&payload).context("the payload is not JSON")?;
            print_json(&json!({ "header": header, "claims": claims }))
        }
        JwtCommand::Verify(args) => verify(args).await,
        JwtCommand::Sign(args) => sign(args),
    }
}

/// Signs with a PKCS#8 PEM key; the kid is the key's JWK thumbprint, as
/// Latchkey's own keys have.
fn sign(args: JwtSignArgs) -> Result<()> {
    let alg: latchkey_domain::SigningAlg =
        args.alg.parse().map_err(|_| anyhow::anyhow!("--alg {}: use ES256, RS256, PS256 or EdDSA", args.alg))?;
    let pem = std::fs::read_to_string(&args.key).with_context(|| format!("reading {}", args.key.display()))?;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).map(str::trim).collect();
    if !pem.contains("-----BEGIN PRIVATE KEY-----") {
        bail!("{}: expected a PKCS#8 PEM key (-----BEGIN PRIVATE KEY-----)", args.key.display());
    }
    let der = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, body)
        .with_context(|| format!("{}: the PEM body is not base64", args.key.display()))?;
    let key = latchkey_crypto::signing_key::SigningKey::from_pkcs8(alg, &der)
        .map_err(|e| anyhow::anyhow!("{}: not a {alg} private key ({e})", args.key.display()))?;
    if args.public_jwk {
        return print_json(&serde_json::to_value(key.public_jwk())?);
    }
    let text = arg_or_stdin(args.claims.as_deref().unwrap_or("-"))?;
    let mut claims: Value = serde_json::from_str(&text).context("the claims are not JSON")?;
    let Some(map) = claims.as_object_mut() else { bail!("the claims must be a JSON object") };
    let ttl = humantime::parse_duration(&args.expires_in)
        .with_context(|| format!("--expires-in: {:?} is not a duration like 5m", args.expires_in))?;
    let now = latchkey_domain::UnixTime::now();
    map.entry("iat").or_insert(json!(now.0));
    map.entry("exp").or_insert(json!(now.plus(ttl).0));
    println!("{}", latchkey_crypto::jws::sign(&key, &args.typ, &claims)?);
    Ok(())
}

async fn verify(args: JwtVerifyArgs) -> Result<()> {
    let token = arg_or_stdin(&args.token)?;
    let leeway = humantime::parse_duration(&args.leeway)
        .with_context(|| format!("--leeway: {:?} is not a duration like 5s", args.leeway))?;
    let keys = keys(&args).await?;
    let expect = Expectations {
        issuer: args.issuer.clone(),
        audience: args.audience.clone(),
        typ: (!args.any_type).then(|| "at+jwt".to_owned()),
        scopes: args.scopes.clone(),
        leeway,
        ..Expectations::default()
    };
    let explained = explain(&token, Some(&keys), &expect, latchkey_domain::UnixTime::now().0);
    if args.json {
        print_json(&json!({
            "valid": explained.valid(),
            "header": explained.header,
            "claims": explained.claims,
            "steps": explained.steps,
        }))?;
    } else {
        let color = std::env::var_os("NO_COLOR").is_none() && std::io::IsTerminal::is_terminal(&std::io::stdout());
        for s in &explained.steps {
            let (label, paint) = match s.status {
                Status::Pass => ("PASS", "32"),
                Status::Fail => ("FAIL", "31"),
                Status::Skipped => ("SKIP", "90"),
            };
            let label = if color { format!("\x1b[{paint}m{label}\x1b[0m") } else { label.to_owned() };
            println!("{label}  {:<9} {}", s.check, s.detail);
            if let Some(h) = &s.hint {
                println!("      {:<9} hint: {h}", "");
            }
        }
        let unchecked: Vec<&str> = ["iss", "aud"]
            .into_iter()
            .filter(|c| explained.steps.iter().any(|s| s.check == *c && s.status == Status::Skipped))
            .collect();
        match (explained.valid(), unchecked.is_empty()) {
            (false, _) => println!("invalid"),
            (true, true) => println!("valid"),
            (true, false) => {
                println!("valid, but {} not checked (give --issuer and --audience)", unchecked.join(" and "))
            }
        }
    }
    if explained.valid() { Ok(()) } else { Err(Negative.into()) }
}

/// The keys to verify with: --jwks (a file holding a JWKS or one JWK, or
/// a URL), else the issuer's JWKS found through discovery.
async fn keys(args: &JwtVerifyArgs) -> Result<Vec<VerifyingKey>> {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
    let text = match (&args.jwks, &args.issuer) {
        (Some(source), _) if source.starts_with("https://") || source.starts_with("http://") => {
            fetch(&http, source).await?
        }
        (Some(path), _) => std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?,
        (None, Some(issuer)) => {
            let url = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
            let doc: Value = serde_json::from_str(&fetch(&http, &url).await?).context("the discovery document")?;
            if doc["issuer"].as_str() != Some(issuer.as_str()) {
                bail!("the discovery document names issuer {} instead of {issuer}", doc["issuer"]);
            }
            let jwks_uri = doc["jwks_uri"].as_str().context("the discovery document has no jwks_uri")?;
            fetch(&http, jwks_uri).await?
        }
        (None, None) => bail!("give --issuer (its JWKS is fetched) or --jwks FILE|URL to check the signature"),
    };
    // One JWK, or a set.
    let value: Value = serde_json::from_str(&text).context("the keys are not JSON")?;
    let set = if value.get("kty").is_some() { json!({ "keys": [value] }) } else { value };
    Ok(latchkey_crypto::jwk::parse_public_jwks(&set.to_string())?)
}

async fn fetch(http: &reqwest::Client, url: &str) -> Result<String> {
    let resp = http.get(url).send().await.with_context(|| format!("fetching {url}"))?;
    if !resp.status().is_success() {
        bail!("{url} answered {}", resp.status());
    }
    Ok(resp.text().await?)
}
