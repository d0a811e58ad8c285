//! `latchkey authz check`: one AuthZEN evaluation against a running
//! server, with the PEP key from `LATCHKEY_PEP_KEY`. Exit code 0: allow,
//! 2: deny (with what would allow it, if the server says), 1: error.

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::{Negative, print_json};
use crate::cli::{AuthzCommand, Global};

pub async fn run(global: &Global, cmd: AuthzCommand) -> Result<()> {
    let AuthzCommand::Check(args) = cmd;
    let key = std::env::var("LATCHKEY_PEP_KEY")
        .ok()
        .filter(|k| !k.is_empty())
        .context("LATCHKEY_PEP_KEY is not set: the decision point needs a caller's key")?;
    let base = match &args.server {
        Some(s) => s.clone(),
        None => configured_issuer(global).unwrap_or_else(|| "http://127.0.0.1:8080".into()),
    };
    let subject = match (&args.subject, &args.subject_token) {
        (_, Some(token)) => json!({ "type": "access_token", "id": token }),
        (Some(s), None) => entity("--subject", s)?,
        (None, None) => bail!("give --subject TYPE:ID or --subject-token TOKEN"),
    };
    let body = json!({ "subject": subject, "action": { "name": args.action }, "resource": entity("--resource", &args.resource)? });
    let url = format!("{}/access/v1/evaluation", base.trim_end_matches('/'));
    let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(10)).build()?;
    let resp = http
        .post(&url)
        .bearer_auth(&key)
        .json(&body)
        .send()
        .await
        .with_context(|| format!("calling {url} (is the server running? --server)"))?;
    let status = resp.status();
    let answer: Value = resp.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!("{status}: {}", answer["error_description"].as_str().unwrap_or("request refused"));
    }
    if !answer["decision"].is_boolean() {
        bail!("the answer has no decision: {answer}");
    }
    let allowed = answer["decision"] == true;
    if args.json {
        print_json(&answer)?;
    } else {
        println!("{}", if allowed { "allow" } else { "deny" });
        if let Some(context) = answer.get("context").filter(|c| c.is_object()) {
            println!("{}", serde_json::to_string(context)?);
        }
    }
    if allowed { Ok(()) } else { Err(Negative.into()) }
}

/// `TYPE:ID` as an AuthZEN entity (the id may contain `:`).
fn entity(flag: &str, value: &str) -> Result<Value> {
    match value.split_once(':') {
        Some((ty, id)) if !ty.is_empty() && !id.is_empty() => Ok(json!({ "type": ty, "id": id })),
        _ => bail!("{flag} must be TYPE:ID, e.g. User:alice"),
    }
}

/// The issuer from the config file, if one is given (no store needed).
fn configured_issuer(global: &Global) -> Option<String> {
    let overrides = super::overrides(global).ok()?;
    let config = super::load_config(&overrides).ok()?;
    config.issuer
}
