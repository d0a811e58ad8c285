//! `latchkey session`: a user's sessions, grants and consents, through a
//! running server's admin API rather than the store, so that ending a
//! session does everything the server does (grants revoked, back-channel
//! logout sent, every node's caches told). Authenticates with
//! `LATCHKEY_ADMIN_KEY`; a username is resolved to the user id in the store.

use anyhow::{Context, Result, bail};
use reqwest::Method;
use serde_json::Value;

use super::{AdminContext, print_json};
use crate::cli::{Global, ServerArgs, SessionCommand};

pub(super) struct Api {
    base: String,
    key: String,
    http: reqwest::Client,
}

impl Api {
    pub(super) fn new(ctx: &AdminContext, server: &ServerArgs) -> Result<Api> {
        let key = std::env::var("LATCHKEY_ADMIN_KEY")
            .ok()
            .filter(|k| !k.is_empty())
            .context("LATCHKEY_ADMIN_KEY is not set: the admin API needs it")?;
        let base = server
            .server
            .clone()
            .or_else(|| ctx.config.issuer.clone())
            .unwrap_or_else(|| "http://127.0.0.1:8080".into());
        let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(30)).build()?;
        Ok(Api { base: base.trim_end_matches('/').to_owned(), key, http })
    }

    pub(super) async fn call(&self, method: Method, path: &str) -> Result<Value> {
        let url = format!("{}{path}", self.base);
        let resp = self
            .http
            .request(method, &url)
            .bearer_auth(&self.key)
            .send()
            .await
            .with_context(|| format!("calling {url} (is the server running? --server)"))?;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if status.as_u16() == 404 {
            bail!("not found (no such user, session, grant or consent)");
        }
        if !status.is_success() {
            bail!("{status}: {}", body["error_description"].as_str().unwrap_or("request refused"));
        }
        Ok(body)
    }
}

/// A user id from a username or an id.
pub(super) async fn user_id(ctx: &AdminContext, user: &str) -> Result<String> {
    if let Some(u) = ctx.store.get_user_by_username(user).await? {
        return Ok(u.id);
    }
    if ctx.store.get_user(user).await?.is_some() {
        return Ok(user.to_owned());
    }
    bail!("no user {user:?}")
}

pub(super) fn seg(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub async fn run(global: &Global, cmd: SessionCommand) -> Result<()> {
    let ctx = AdminContext::open(global).await?;
    match cmd {
        SessionCommand::List { user, server } => {
            let api = Api::new(&ctx, &server)?;
            let id = user_id(&ctx, &user).await?;
            let v = api.call(Method::GET, &format!("/admin/v1/users/{}/sessions", seg(&id))).await?;
            if server.json {
                return print_json(&v);
            }
            for s in v["sessions"].as_array().into_iter().flatten() {
                println!(
                    "session\t{}\tcreated {}\tacr {}\t{}",
                    s["sid"].as_str().unwrap_or(""),
                    s["created_at"],
                    s["acr"].as_str().unwrap_or("-"),
                    s["user_agent"].as_str().unwrap_or("")
                );
            }
            for g in v["grants"].as_array().into_iter().flatten() {
                println!(
                    "grant\t{}\tclient {}\tscope {}",
                    g["grant_id"].as_str().unwrap_or(""),
                    g["client_id"].as_str().unwrap_or(""),
                    g["scope"].as_str().unwrap_or("")
                );
            }
            Ok(())
        }
        SessionCommand::End { sid, server } => {
            Api::new(&ctx, &server)?.call(Method::DELETE, &format!("/admin/v1/sessions/{}", seg(&sid))).await?;
            eprintln!("session ended");
            Ok(())
        }
        SessionCommand::EndAll { user, server } => {
            let api = Api::new(&ctx, &server)?;
            let id = user_id(&ctx, &user).await?;
            let v = api.call(Method::DELETE, &format!("/admin/v1/users/{}/sessions", seg(&id))).await?;
            if server.json {
                return print_json(&v);
            }
            eprintln!("{} session(s) ended", v["ended"]);
            Ok(())
        }
        SessionCommand::RevokeGrant { grant_id, server } => {
            Api::new(&ctx, &server)?.call(Method::DELETE, &format!("/admin/v1/grants/{}", seg(&grant_id))).await?;
            eprintln!("grant revoked");
            Ok(())
        }
        SessionCommand::Consents { user, server } => {
            let api = Api::new(&ctx, &server)?;
            let id = user_id(&ctx, &user).await?;
            let v = api.call(Method::GET, &format!("/admin/v1/users/{}/consents", seg(&id))).await?;
            if server.json {
                return print_json(&v);
            }
            for c in v["consents"].as_array().into_iter().flatten() {
                println!("{}\t{}", c["client_id"].as_str().unwrap_or(""), c["scope"].as_str().unwrap_or(""));
            }
            Ok(())
        }
        SessionCommand::RevokeConsent { user, client_id, server } => {
            let api = Api::new(&ctx, &server)?;
            let id = user_id(&ctx, &user).await?;
            api.call(Method::DELETE, &format!("/admin/v1/users/{}/consents/{}", seg(&id), seg(&client_id))).await?;
            eprintln!("consent withdrawn");
            Ok(())
        }
    }
}
