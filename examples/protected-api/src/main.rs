//! Runs the example API (see README.md beside this crate).
//!
//! Environment: `LATCHKEY_ISSUER` (default http://127.0.0.1:8080),
//! `API_AUDIENCE` (default https://api.example.com, the sandbox's API),
//! `API_LISTEN` (default 127.0.0.1:8081), `PEP_KEY` (the decision point's
//! key; without it the account routes answer 503), `FEED_CLIENT_ID` and
//! `FEED_CLIENT_SECRET` (a client in the API's `introspection_clients`;
//! without them revocations are not followed).

use std::sync::Arc;

use anyhow::Context;
use latchkey_resource::{Decisions, FeedConfig, RevocationFeed, Verifier, VerifierConfig};
use protected_api::{Api, router};

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_writer(std::io::stderr).init();
    let issuer = env("LATCHKEY_ISSUER").unwrap_or_else(|| "http://127.0.0.1:8080".into());
    let audience = env("API_AUDIENCE").unwrap_or_else(|| "https://api.example.com".into());
    let listen = env("API_LISTEN").unwrap_or_else(|| "127.0.0.1:8081".into());
    let http = reqwest::Client::new();

    let mut verifier = Verifier::discover(VerifierConfig::new(&issuer, &audience), http.clone())
        .await
        .with_context(|| format!("reaching the authorization server at {issuer}"))?;
    let _feed = match (env("FEED_CLIENT_ID"), env("FEED_CLIENT_SECRET")) {
        (Some(id), Some(secret)) => {
            let feed = RevocationFeed::new(FeedConfig::new(&issuer, id, secret), http.clone());
            verifier = verifier.with_revocations(feed.clone());
            Some(feed.spawn())
        }
        _ => {
            eprintln!("FEED_CLIENT_ID/FEED_CLIENT_SECRET not set: revocations are not followed");
            None
        }
    };
    let decisions = env("PEP_KEY").map(|key| Arc::new(Decisions::new(&issuer, key, http)));
    let app = router(Api { verifier: Arc::new(verifier), decisions });
    let listener = tokio::net::TcpListener::bind(&listen).await.with_context(|| format!("listening on {listen}"))?;
    eprintln!("protected API for {audience} on http://{listen} (issuer {issuer})");
    axum::serve(listener, app).await?;
    Ok(())
}
