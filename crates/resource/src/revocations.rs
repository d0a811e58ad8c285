//! Following the authorization server's revocation feed
//! (`GET {issuer}/revocations`), so that tokens verified locally honour
//! revocations within seconds: a compact in-memory set of revoked token
//! ids and ended session ids, each kept until it would have expired anyway.
//!
//! When the feed cannot be read for longer than `max_staleness`, the set
//! may be missing revocations: [`OnStale::FailClosed`] (the default)
//! refuses every token until the feed is back (503), [`OnStale::FailOpen`]
//! accepts valid tokens and logs a warning.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::{Error, Rejection};

/// Feed ids are assigned when a change is written, but transactions commit
/// in any order, so each poll asks the server to read this many ids below
/// the cursor again (as Latchkey's own nodes do); seeing a revocation
/// twice is harmless.
const REREAD_WINDOW: i64 = 256;
/// Pages per poll at most (a long backlog is read over several polls).
const MAX_PAGES: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnStale {
    FailClosed,
    FailOpen,
}

#[derive(Debug, Clone)]
pub struct FeedConfig {
    /// `{issuer}/revocations`.
    pub url: String,
    /// A confidential client listed in the API's `introspection_clients`.
    pub client_id: String,
    pub client_secret: String,
    pub poll_interval: Duration,
    pub max_staleness: Duration,
    pub on_stale: OnStale,
    pub timeout: Duration,
}

impl FeedConfig {
    pub fn new(issuer: &str, client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        FeedConfig {
            url: format!("{}/revocations", issuer.trim_end_matches('/')),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            poll_interval: Duration::from_secs(2),
            max_staleness: Duration::from_secs(30),
            on_stale: OnStale::FailClosed,
            timeout: Duration::from_secs(5),
        }
    }
}

#[derive(Default)]
struct Revoked {
    /// jti → expiry (Unix seconds).
    tokens: HashMap<String, i64>,
    /// sid → expiry.
    sessions: HashMap<String, i64>,
    cursor: Option<i64>,
    last_success: Option<Instant>,
}

pub struct RevocationFeed {
    config: FeedConfig,
    http: reqwest::Client,
    state: RwLock<Revoked>,
    last_stale_warning: std::sync::atomic::AtomicI64,
}

impl RevocationFeed {
    pub fn new(config: FeedConfig, http: reqwest::Client) -> Arc<RevocationFeed> {
        Arc::new(RevocationFeed {
            config,
            http,
            state: RwLock::new(Revoked::default()),
            last_stale_warning: std::sync::atomic::AtomicI64::new(0),
        })
    }

    /// Polls every `poll_interval` until the feed is dropped.
    pub fn spawn(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let weak = Arc::downgrade(self);
        let interval = self.config.poll_interval;
        tokio::spawn(async move {
            loop {
                let Some(feed) = weak.upgrade() else { return };
                if let Err(e) = feed.poll().await {
                    tracing::warn!(error = %e, "reading the revocation feed failed; retrying");
                }
                drop(feed);
                tokio::time::sleep(interval).await;
            }
        })
    }

    /// Refuses a token whose id or session was revoked; refuses everything
    /// (fail closed) or nothing (fail open) while the feed is stale.
    pub fn check(&self, jti: &str, sid: Option<&str>) -> Result<(), Rejection> {
        let state = self.state.read().unwrap_or_else(|p| p.into_inner());
        let fresh = state.last_success.is_some_and(|t| t.elapsed() <= self.config.max_staleness);
        if !fresh {
            match self.config.on_stale {
                OnStale::FailClosed => {
                    return Err(Rejection::Unavailable("the revocation feed is not current".into()));
                }
                OnStale::FailOpen => {
                    // Once a minute at most: this runs for every request.
                    let now = latchkey_domain::UnixTime::now().0;
                    let last = self.last_stale_warning.load(std::sync::atomic::Ordering::Relaxed);
                    if now - last >= 60 {
                        self.last_stale_warning.store(now, std::sync::atomic::Ordering::Relaxed);
                        tracing::warn!("the revocation feed is not current; accepting tokens without it (fail open)");
                    }
                }
            }
        }
        if state.tokens.contains_key(jti) {
            return Err(Rejection::Revoked("the token was revoked"));
        }
        if sid.is_some_and(|s| state.sessions.contains_key(s)) {
            return Err(Rejection::Revoked("the sign-in session behind the token has ended"));
        }
        Ok(())
    }

    /// Reads what is new (a snapshot the first time), prunes what expired.
    pub async fn poll(&self) -> Result<(), Error> {
        for _ in 0..MAX_PAGES {
            let cursor = self.state.read().unwrap_or_else(|p| p.into_inner()).cursor;
            let url = match cursor {
                None => self.config.url.clone(),
                // The real cursor (the server judges its age by it), and the
                // window below it to read again.
                Some(c) => format!("{}?after={c}&limit=1000&reread={REREAD_WINDOW}", self.config.url),
            };
            let request = self
                .http
                .get(url)
                .basic_auth(&self.config.client_id, Some(&self.config.client_secret))
                .timeout(self.config.timeout);
            let response = request.send().await.map_err(|e| Error::Unreachable(e.without_url().to_string()))?;
            if !response.status().is_success() {
                return Err(Error::Unreachable(format!("the revocation feed answered {}", response.status())));
            }
            let page: serde_json::Value =
                response.json().await.map_err(|e| Error::Unreachable(e.without_url().to_string()))?;
            let new_cursor = page["cursor"].as_str().and_then(|c| c.parse::<i64>().ok());
            let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
            // A snapshot (first read, or the server says our cursor is too
            // old) replaces the set; a delta adds to it.
            if cursor.is_none() || page["reset"] == true {
                state.tokens.clear();
                state.sessions.clear();
            }
            for item in page["revoked"].as_array().into_iter().flatten() {
                let exp = item["expires_at"].as_i64().unwrap_or(i64::MAX);
                match (item["type"].as_str(), item["jti"].as_str(), item["sid"].as_str()) {
                    (Some("token"), Some(jti), _) => {
                        state.tokens.insert(jti.to_owned(), exp);
                    }
                    (Some("session"), _, Some(sid)) => {
                        state.sessions.insert(sid.to_owned(), exp);
                    }
                    _ => {}
                }
            }
            // The server's cursor, which never moves back within one
            // history (a reset starts another).
            state.cursor = match (state.cursor, new_cursor) {
                (Some(old), Some(new)) if page["reset"] != true => Some(old.max(new)),
                (_, new) => new.or(state.cursor),
            };
            state.last_success = Some(Instant::now());
            if page["more"] != true {
                break;
            }
        }
        // Once per poll: what has expired can go.
        let now = latchkey_domain::UnixTime::now().0;
        let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
        state.tokens.retain(|_, exp| *exp > now);
        state.sessions.retain(|_, exp| *exp > now);
        Ok(())
    }

    /// (revoked token ids, ended session ids) held now.
    pub fn len(&self) -> (usize, usize) {
        let state = self.state.read().unwrap_or_else(|p| p.into_inner());
        (state.tokens.len(), state.sessions.len())
    }
}
