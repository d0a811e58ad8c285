//! The authorization server's signing keys, cached: discovery and the JWKS
//! are fetched once, refreshed in the background before they go stale
//! (honouring `Cache-Control: max-age` within bounds), refetched at most
//! once per interval when a token names an unknown `kid` (so forged kids
//! cannot cause a fetch storm), and the last good set keeps serving while
//! the authorization server is unreachable.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use latchkey_crypto::jws;
use latchkey_crypto::signing_key::VerifyingKey;

use crate::Error;

/// A set of keys, by kid (a kid may serve several algorithms: RSA without
/// `alg`) and by the header Latchkey signs a key's access tokens under.
#[derive(Default)]
pub(crate) struct KeyMap {
    by_kid: HashMap<String, Vec<VerifyingKey>>,
    /// `{"alg":…,"kid":…,"typ":"at+jwt"}` for each key, base64url-encoded
    /// as in a token, built as the server builds it (`jws::sign`).
    headers: Vec<(String, VerifyingKey)>,
}

impl KeyMap {
    fn new(keys: Vec<VerifyingKey>) -> KeyMap {
        let mut map = KeyMap::default();
        for key in keys {
            let header = jws::Header {
                alg: key.alg.as_str().to_owned(),
                kid: Some(key.kid.clone()),
                typ: Some("at+jwt".into()),
            };
            if let Ok(json) = serde_json::to_vec(&header) {
                map.headers.push((URL_SAFE_NO_PAD.encode(json), key.clone()));
            }
            map.by_kid.entry(key.kid.clone()).or_default().push(key);
        }
        map
    }

    /// The keys named `kid`.
    pub(crate) fn get(&self, kid: &str) -> Option<&[VerifyingKey]> {
        self.by_kid.get(kid).map(Vec::as_slice)
    }

    /// The key whose tokens carry exactly this (encoded) header. A set has
    /// a few keys: a scan is quicker than hashing the header.
    pub(crate) fn by_header(&self, encoded: &str) -> Option<&VerifyingKey> {
        self.headers.iter().find(|(h, _)| h == encoded).map(|(_, key)| key)
    }
}

#[derive(Debug, Clone)]
pub struct KeyOptions {
    /// How long a fetched set is used when the server sends no `max-age`.
    pub default_ttl: Duration,
    /// Bounds on a server's `max-age`.
    pub min_ttl: Duration,
    pub max_ttl: Duration,
    /// At most one fetch per this interval because of an unknown kid.
    pub unknown_kid_refetch_interval: Duration,
    /// Per request to the authorization server.
    pub timeout: Duration,
}

impl Default for KeyOptions {
    fn default() -> Self {
        KeyOptions {
            default_ttl: Duration::from_secs(300),
            min_ttl: Duration::from_secs(30),
            max_ttl: Duration::from_secs(3600),
            unknown_kid_refetch_interval: Duration::from_secs(30),
            timeout: Duration::from_secs(5),
        }
    }
}

struct Fetched {
    keys: Arc<KeyMap>,
    /// When to fetch again.
    refresh_at: Instant,
}

pub struct KeyCache {
    jwks_uri: String,
    http: reqwest::Client,
    options: KeyOptions,
    current: RwLock<Arc<KeyMap>>,
    refresh_at: RwLock<Instant>,
    /// Serialises fetches and remembers the last one made for an unknown kid.
    fetching: tokio::sync::Mutex<Option<Instant>>,
    fetches: std::sync::atomic::AtomicU64,
}

impl KeyCache {
    /// Fetches the set once; fails if it cannot (a service should not start
    /// without keys to verify with).
    pub async fn load(jwks_uri: String, http: reqwest::Client, options: KeyOptions) -> Result<Arc<KeyCache>, Error> {
        let cache = KeyCache {
            jwks_uri,
            http,
            options,
            current: RwLock::new(Arc::new(KeyMap::default())),
            refresh_at: RwLock::new(Instant::now()),
            // The first fetch counts: no refetch for an unknown kid within
            // an interval of it.
            fetching: tokio::sync::Mutex::new(Some(Instant::now())),
            fetches: std::sync::atomic::AtomicU64::new(0),
        };
        let first = cache.fetch().await?;
        cache.install(first);
        Ok(Arc::new(cache))
    }

    /// A set that never changes and is never fetched (an unknown kid is
    /// simply unknown).
    pub fn fixed(keys: Vec<VerifyingKey>, mut options: KeyOptions) -> Arc<KeyCache> {
        let map = KeyMap::new(keys);
        options.unknown_kid_refetch_interval = Duration::MAX;
        Arc::new(KeyCache {
            jwks_uri: String::new(),
            http: reqwest::Client::new(),
            options,
            current: RwLock::new(Arc::new(map)),
            refresh_at: RwLock::new(Instant::now()),
            // As if just fetched: no refetch is ever due.
            fetching: tokio::sync::Mutex::new(Some(Instant::now())),
            fetches: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// The keys in memory now: a cheap shared handle.
    pub(crate) fn snapshot(&self) -> Arc<KeyMap> {
        self.current.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// How many times the JWKS was fetched (for tests and metrics).
    pub fn fetch_count(&self) -> u64 {
        self.fetches.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// A token named `kid`, which is not in memory: fetch the set again,
    /// unless that was done less than the refetch interval ago. Returns the
    /// (possibly new) keys.
    pub(crate) async fn refetch_for_unknown(&self, kid: &str) -> Arc<KeyMap> {
        let mut last = self.fetching.lock().await;
        // Another request may have fetched while we waited.
        let now = self.snapshot();
        if now.get(kid).is_some() {
            return now;
        }
        if last.is_some_and(|t| t.elapsed() < self.options.unknown_kid_refetch_interval) {
            return now;
        }
        *last = Some(Instant::now());
        match self.fetch().await {
            Ok(fetched) => self.install(fetched),
            Err(e) => tracing::warn!(error = %e, "refetching the JWKS for an unknown kid failed; keeping the last set"),
        }
        self.snapshot()
    }

    /// Refreshes the set whenever it is due, until the cache is dropped.
    /// Failures keep the last good set and retry sooner.
    pub fn spawn_refresh(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut retry = Duration::from_secs(1);
            loop {
                let Some(cache) = weak.upgrade() else { return };
                let due = *cache.refresh_at.read().unwrap_or_else(|p| p.into_inner());
                drop(cache);
                tokio::time::sleep_until(due.into()).await;
                let Some(cache) = weak.upgrade() else { return };
                // Installed under the lock, so a newer set fetched for an
                // unknown kid is never overwritten by this older one.
                let _one_at_a_time = cache.fetching.lock().await;
                match cache.fetch().await {
                    Ok(fetched) => {
                        cache.install(fetched);
                        retry = Duration::from_secs(1);
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "refreshing the JWKS failed; keeping the last set");
                        *cache.refresh_at.write().unwrap_or_else(|p| p.into_inner()) = later(retry);
                        retry = (retry * 2).min(cache.options.min_ttl.max(Duration::from_secs(1)));
                    }
                }
            }
        })
    }

    fn install(&self, fetched: Fetched) {
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = fetched.keys;
        *self.refresh_at.write().unwrap_or_else(|p| p.into_inner()) = fetched.refresh_at;
    }

    async fn fetch(&self) -> Result<Fetched, Error> {
        self.fetches.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let response = self
            .http
            .get(&self.jwks_uri)
            .timeout(self.options.timeout)
            .send()
            .await
            .map_err(|e| Error::Unreachable(e.without_url().to_string()))?;
        if !response.status().is_success() {
            return Err(Error::Unreachable(format!("the JWKS answered {}", response.status())));
        }
        let max_age =
            response.headers().get(reqwest::header::CACHE_CONTROL).and_then(|v| v.to_str().ok()).and_then(max_age);
        let text = response.text().await.map_err(|e| Error::Unreachable(e.without_url().to_string()))?;
        let parsed = latchkey_crypto::jwk::parse_public_jwks(&text).map_err(|e| Error::BadKeys(e.to_string()))?;
        let keys = KeyMap::new(parsed);
        // Bounded without panicking on odd options (min above max), and
        // never more often than once a second.
        let ttl = max_age
            .unwrap_or(self.options.default_ttl)
            .min(self.options.max_ttl)
            .max(self.options.min_ttl)
            .max(Duration::from_secs(1));
        // Refresh a little before the set goes stale.
        Ok(Fetched { keys: Arc::new(keys), refresh_at: later(ttl.mul_f64(0.9)) })
    }
}

/// Now plus `d`, or a day from now if that cannot be represented.
fn later(d: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(d).or_else(|| now.checked_add(Duration::from_secs(86_400))).unwrap_or(now)
}

fn max_age(cache_control: &str) -> Option<Duration> {
    cache_control.split(',').find_map(|d| {
        let (name, value) = d.trim().split_once('=')?;
        name.trim().eq_ignore_ascii_case("max-age").then(|| value.trim().parse().ok().map(Duration::from_secs))?
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The server signs access tokens with `jws::sign`: their header is
    /// the one recognised without parsing.
    #[test]
    fn the_servers_access_token_header_is_recognised() {
        use latchkey_crypto::signing_key::{SigningKey, generate_pkcs8};
        use latchkey_domain::SigningAlg;
        for alg in SigningAlg::ALL {
            let key =
                SigningKey::from_pkcs8(alg, &generate_pkcs8(alg).unwrap_or_default()).unwrap_or_else(|e| panic!("{e}"));
            let vk = key.verifying_key().unwrap_or_else(|e| panic!("{e}"));
            let token = jws::sign(&key, "at+jwt", &serde_json::json!({})).unwrap_or_else(|e| panic!("{e}"));
            let keys = KeyMap::new(vec![vk]);
            let header = token.split('.').next().unwrap_or_default();
            assert_eq!(keys.by_header(header).map(|k| k.alg), Some(alg));
            assert!(keys.by_header(&header[1..]).is_none());
        }
    }

    #[test]
    fn max_age_is_read_from_cache_control() {
        assert_eq!(max_age("public, max-age=120"), Some(Duration::from_secs(120)));
        assert_eq!(max_age("no-store"), None);
        assert_eq!(max_age("max-age=abc"), None);
    }
}
