//! `latchkey token get|introspect|revoke` against any issuer, found through
//! its discovery document. With `LATCHKEY_CLIENT_SECRET` the client is
//! confidential (`client_secret_basic`); without it, the grants a public
//! client may run (authorization_code, refresh_token) send `client_id` in
//! the form. Responses are printed as they come (JSON); errors say the
//! RFC's error and description. The authorization code flow, with its
//! loopback listener, is in `code_flow`.

use anyhow::{Context, Result, bail};
use serde_json::Value;

use super::{Negative, arg_or_stdin, code_flow, print_json};
use crate::cli::{ClientArgs, TokenCommand, TokenGetArgs};

pub(super) struct Issuer {
    pub http: reqwest::Client,
    /// The discovery document.
    pub doc: Value,
    /// The issuer identifier, as given and as the document names it.
    pub issuer: String,
    pub client_id: String,
    secret: Option<String>,
}

impl Issuer {
    /// `secret_required`: refuse to go on without LATCHKEY_CLIENT_SECRET
    /// (the grants and endpoints only confidential clients use).
    async fn discover(args: &ClientArgs, secret_required: bool) -> Result<Issuer> {
        let secret = std::env::var("LATCHKEY_CLIENT_SECRET").ok().filter(|s| !s.is_empty());
        if secret.is_none() && secret_required {
            bail!("LATCHKEY_CLIENT_SECRET is not set (the client's secret)");
        }
        let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(15)).build()?;
        let url = format!("{}/.well-known/openid-configuration", args.issuer.trim_end_matches('/'));
        let resp = http.get(&url).send().await.with_context(|| format!("fetching {url}"))?;
        if !resp.status().is_success() {
            bail!("{url} answered {}", resp.status());
        }
        let doc: Value = resp.json().await.context("the discovery document is not JSON")?;
        if doc["issuer"].as_str() != Some(args.issuer.as_str()) {
            bail!("the discovery document names issuer {} instead of {}", doc["issuer"], args.issuer);
        }
        Ok(Issuer { http, doc, issuer: args.issuer.clone(), client_id: args.client_id.clone(), secret })
    }

    /// The endpoint named `field` in the metadata.
    pub fn endpoint(&self, field: &str) -> Result<&str> {
        self.doc[field].as_str().with_context(|| format!("the issuer advertises no {field}"))
    }

    /// POSTs `form` to the endpoint named `field` in the metadata, with
    /// the client's credentials (Basic), or its id alone for a public client.
    pub async fn post(&self, field: &str, form: &[(&str, &str)]) -> Result<(u16, Value)> {
        let url = self.endpoint(field)?;
        let mut form = form.to_vec();
        let mut request = self.http.post(url);
        match &self.secret {
            Some(secret) => request = request.basic_auth(form_encode(&self.client_id), Some(form_encode(secret))),
            None => form.push(("client_id", &self.client_id)),
        }
        let resp = request.form(&form).send().await.with_context(|| format!("calling {url}"))?;
        let status = resp.status().as_u16();
        let text = resp.text().await?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::String(text))))
    }
}

/// RFC 6749 §2.3.1: id and secret are form-urlencoded inside Basic.
fn form_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub(super) fn refused(status: u16, body: &Value) -> anyhow::Error {
    anyhow::anyhow!(
        "{status} {}: {}",
        body["error"].as_str().unwrap_or("error"),
        body["error_description"].as_str().unwrap_or("(no description)")
    )
}

pub async fn run(cmd: TokenCommand) -> Result<()> {
    match cmd {
        TokenCommand::Get(args) => get(&args).await,
        TokenCommand::Introspect { client, token } => {
            let issuer = Issuer::discover(&client, true).await?;
            let token = arg_or_stdin(&token)?;
            let (status, body) = issuer.post("introspection_endpoint", &[("token", &token)]).await?;
            if status != 200 {
                return Err(refused(status, &body));
            }
            print_json(&body)?;
            if body["active"] == true { Ok(()) } else { Err(Negative.into()) }
        }
        TokenCommand::Revoke { client, token } => {
            let issuer = Issuer::discover(&client, true).await?;
            let token = arg_or_stdin(&token)?;
            let (status, body) = issuer.post("revocation_endpoint", &[("token", &token)]).await?;
            if status != 200 {
                return Err(refused(status, &body));
            }
            eprintln!("revoked (or it was not a valid token: RFC 7009 §2.2 answers the same)");
            Ok(())
        }
    }
}

async fn get(args: &TokenGetArgs) -> Result<()> {
    let public_allowed = args.grant != "client_credentials";
    let issuer = Issuer::discover(&args.client, !public_allowed).await?;
    if args.grant == "authorization_code" {
        return code_flow::run(&issuer, args).await;
    }
    let refresh = args.refresh_token.as_deref().map(arg_or_stdin).transpose()?;
    let mut form: Vec<(&str, &str)> = Vec::new();
    match args.grant.as_str() {
        "client_credentials" => form.push(("grant_type", "client_credentials")),
        "refresh_token" => {
            let token = refresh.as_deref().context("--refresh-token is needed for the refresh_token grant")?;
            form.extend([("grant_type", "refresh_token"), ("refresh_token", token)]);
        }
        other => bail!("--grant {other}: use client_credentials, authorization_code or refresh_token"),
    }
    if let Some(s) = &args.scope {
        form.push(("scope", s));
    }
    if let Some(r) = &args.resource {
        form.push(("resource", r));
    }
    let (status, body) = issuer.post("token_endpoint", &form).await?;
    if status != 200 {
        return Err(refused(status, &body));
    }
    if args.client.json {
        return print_json(&body);
    }
    println!("{}", body["access_token"].as_str().unwrap_or_default());
    Ok(())
}
