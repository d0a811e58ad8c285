//! Other parties' public keys: clients' for `private_key_jwt` (RFC 7523),
//! inline in the registration or fetched from the client's `jwks_uri`, and
//! trusted issuers' for token exchange; fetched through the outbound guard
//! and cached. A fresh set is used until it expires; an
//! unknown `kid` triggers a refetch at most once per interval (a forged
//! `kid` must not make us hammer the client's server); when the client's
//! server is unreachable, the last good set keeps serving.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use latchkey_crypto::jwk::parse_public_jwks;
use latchkey_crypto::{VerifyingKey, jws};
use latchkey_domain::Client;

use crate::config::OutboundConfig;
use crate::outbound;

#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    #[error("the client has no keys registered")]
    None,
    #[error("the client's keys are not usable: {0}")]
    Unusable(String),
    #[error("the client's jwks_uri could not be fetched: {0}")]
    Fetch(String),
    #[error("not a JWS: {0}")]
    Malformed(String),
    #[error("no published key (alg {alg}, kid {kid:?}) verifies it")]
    NoMatch { alg: String, kid: Option<String> },
}

/// Whose keys: a client's (inline or `jwks_uri`), or those published at a
/// URL (a trusted issuer's).
pub enum KeySource<'a> {
    Client(&'a Client),
    Url(&'a str),
}

struct Entry {
    keys: Arc<Vec<VerifyingKey>>,
    fetched_at: Instant,
    fresh_until: Instant,
}

/// One URL's keys, and when fetching them last failed (so that a URL that
/// never answered is not fetched again on every assertion either).
#[derive(Default)]
struct SlotState {
    entry: Option<Entry>,
    last_failure: Option<Instant>,
}

type Slot = Arc<tokio::sync::Mutex<SlotState>>;

pub struct ClientKeys {
    config: OutboundConfig,
    /// One slot per URL: fetches of one URL are serialised (single flight),
    /// different URLs do not wait for each other.
    slots: Mutex<HashMap<String, Slot>>,
}

/// Bounds on a `Cache-Control: max-age` from the client's server.
const MIN_TTL: Duration = Duration::from_secs(30);
const MAX_TTL: Duration = Duration::from_secs(24 * 3600);

impl ClientKeys {
    pub fn new(config: OutboundConfig) -> Self {
        ClientKeys { config, slots: Mutex::new(HashMap::new()) }
    }

    /// The client's keys. `wanted` says whether a cached set has the key the
    /// caller needs; when it does not, the set is refetched (rate-limited).
    pub async fn keys(
        &self,
        client: &Client,
        wanted: impl Fn(&[VerifyingKey]) -> bool,
    ) -> Result<Arc<Vec<VerifyingKey>>, KeysError> {
        if let Some(text) = &client.jwks {
            return parse_public_jwks(text).map(Arc::new).map_err(|e| KeysError::Unusable(e.to_string()));
        }
        let Some(url) = &client.jwks_uri else { return Err(KeysError::None) };
        self.keys_at(url, wanted).await.inspect_err(|e| {
            if matches!(e, KeysError::Fetch(_)) {
                tracing::warn!(client_id = %client.id, error = %e, "fetching the client's jwks_uri failed");
            }
        })
    }

    /// Verifies a JWS signed by `source`: with a key fitting its header's
    /// `alg` and `kid` (refetching once per interval when none does), the
    /// algorithm fixed by the key.
    pub async fn verify(&self, source: KeySource<'_>, token: &str) -> Result<jws::Verified, KeysError> {
        let (header, _, _) = jws::decode_unverified(token).map_err(|e| KeysError::Malformed(e.to_string()))?;
        let fits =
            |k: &VerifyingKey| k.alg.as_str() == header.alg && header.kid.as_deref().is_none_or(|kid| k.kid == kid);
        let wanted = |keys: &[VerifyingKey]| keys.iter().any(fits);
        let keys = match source {
            KeySource::Client(client) => self.keys(client, wanted).await?,
            KeySource::Url(url) => self.keys_at(url, wanted).await?,
        };
        keys.iter()
            .filter(|k| fits(k))
            .find_map(|key| jws::verify(token, |_| Some(key)).ok())
            .ok_or(KeysError::NoMatch { alg: header.alg.clone(), kid: header.kid.clone() })
    }

    /// The keys published at `url` (a client's or a trusted issuer's), with
    /// the same caching and refetch rules.
    pub async fn keys_at(
        &self,
        url: &str,
        wanted: impl Fn(&[VerifyingKey]) -> bool,
    ) -> Result<Arc<Vec<VerifyingKey>>, KeysError> {
        let slot = {
            let mut slots = match self.slots.lock() {
                Ok(s) => s,
                Err(poisoned) => poisoned.into_inner(),
            };
            slots.entry(url.to_string()).or_default().clone()
        };
        let mut slot = slot.lock().await;
        let now = Instant::now();
        let interval = self.config.jwks_refetch_interval;
        if let Some(e) = slot.entry.as_ref() {
            let fresh = now < e.fresh_until;
            let may_refetch = now.duration_since(e.fetched_at) >= interval;
            if (fresh && wanted(&e.keys)) || !may_refetch {
                return Ok(e.keys.clone());
            }
        } else if slot.last_failure.is_some_and(|t| now.duration_since(t) < interval) {
            return Err(KeysError::Fetch("it failed moments ago; not retrying before the refetch interval".into()));
        }
        match self.fetch(url).await {
            Ok((keys, ttl)) => {
                let keys = Arc::new(keys);
                slot.entry = Some(Entry { keys: keys.clone(), fetched_at: now, fresh_until: now + ttl });
                slot.last_failure = None;
                Ok(keys)
            }
            Err(e) => {
                slot.last_failure = Some(now);
                match slot.entry.as_mut() {
                    // Serve the last good set; try again after the interval.
                    Some(stale) => {
                        tracing::warn!(url, error = %e, "refetching a JWKS failed; using the last good keys");
                        stale.fetched_at = now;
                        Ok(stale.keys.clone())
                    }
                    None => Err(e),
                }
            }
        }
    }

    async fn fetch(&self, url: &str) -> Result<(Vec<VerifyingKey>, Duration), KeysError> {
        let fetched = outbound::fetch(&self.config, url).await.map_err(|e| KeysError::Fetch(e.to_string()))?;
        let text = String::from_utf8(fetched.body).map_err(|_| KeysError::Unusable("not UTF-8".into()))?;
        let keys = parse_public_jwks(&text).map_err(|e| KeysError::Unusable(e.to_string()))?;
        let ttl = fetched.max_age.map(|a| a.clamp(MIN_TTL, MAX_TTL)).unwrap_or(self.config.jwks_cache_ttl);
        Ok((keys, ttl))
    }
}
