//! Signing keys in memory, and the operations that change them.
//!
//! Keys are decrypted and parsed once, then shared: re-parsing per signature
//! cost ~40% of issuance throughput. Each node re-reads the key table every
//! `keys.reload_interval` and picks the signing key from the stored
//! timelines, so all nodes switch at the same stored instant.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use latchkey_crypto::jwk::Jwk;
use latchkey_crypto::signing_key::generate_pkcs8;
use latchkey_crypto::{CryptoError, MasterKey, SigningKey, VerifyingKey};
use latchkey_domain::key_lifecycle::{self, KeyState, KeyTimeline, LifecycleError};
use latchkey_domain::{EventSink, SecurityEvent, SigningAlg, UnixTime};
use latchkey_store::{Store, StoreError, StoredKey};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Lifecycle(#[from] LifecycleError),
    #[error(
        "signing key {kid} cannot be opened ({source}); if it is corrupt, remove it with `latchkey key revoke {kid}`"
    )]
    Unreadable { kid: String, source: CryptoError },
    #[error("key generation failed: {0}")]
    Crypto(#[from] CryptoError),
    #[error("the master key does not match this store: use the LATCHKEY_MASTER_KEY the store was created with")]
    MasterKeyMismatch,
}

pub struct LoadedKey {
    pub timeline: KeyTimeline,
    pub signer: SigningKey,
    pub verifier: VerifyingKey,
    pub jwk: Jwk,
}

/// An immutable snapshot of the keys; swapped whole on reload.
#[derive(Default)]
pub struct KeySet {
    keys: Vec<Arc<LoadedKey>>,
}

impl KeySet {
    /// The key that signs for `alg` now. Runs per token: no allocation.
    pub fn signer(&self, alg: SigningAlg, now: UnixTime) -> Option<&LoadedKey> {
        let chosen = key_lifecycle::signing_key(self.keys.iter().map(|k| &k.timeline), alg, now)?;
        self.keys.iter().find(|k| k.timeline.kid == chosen.kid).map(|k| k.as_ref())
    }

    /// Public keys currently in the JWKS.
    pub fn published(&self, now: UnixTime) -> Vec<&Jwk> {
        self.keys.iter().filter(|k| k.timeline.state(now).is_published()).map(|k| &k.jwk).collect()
    }

    /// A key a token may be verified with: published and not revoked.
    pub fn verifier(&self, kid: &str, now: UnixTime) -> Option<&VerifyingKey> {
        self.keys.iter().find(|k| k.timeline.kid == kid && k.timeline.state(now).is_published()).map(|k| &k.verifier)
    }

    /// Algorithms for which a key signs now.
    pub fn signing_algs(&self, now: UnixTime) -> Vec<SigningAlg> {
        let mut algs: Vec<SigningAlg> =
            SigningAlg::ALL.into_iter().filter(|a| self.signer(*a, now).is_some()).collect();
        algs.sort();
        algs
    }

    fn get(&self, kid: &str) -> Option<&Arc<LoadedKey>> {
        self.keys.iter().find(|k| k.timeline.kid == kid)
    }
}

/// The shared, swappable key set of a running server.
#[derive(Default)]
pub struct KeyRing {
    current: RwLock<Arc<KeySet>>,
}

impl KeyRing {
    pub fn snapshot(&self) -> Arc<KeySet> {
        match self.current.read() {
            Ok(g) => Arc::clone(&g),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    fn replace(&self, set: KeySet) {
        match self.current.write() {
            Ok(mut g) => *g = Arc::new(set),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(set),
        }
    }

    /// Re-reads the key table; keys already parsed are reused.
    pub async fn reload(&self, manager: &KeyManager<'_>) -> Result<(), KeyError> {
        let previous = self.snapshot();
        let set = manager.load(Some(&previous)).await?;
        self.replace(set);
        Ok(())
    }
}

/// Key operations over the store, shared by the server and the CLI.
pub struct KeyManager<'a> {
    pub store: &'a Store,
    pub master: &'a MasterKey,
    pub events: &'a dyn EventSink,
}

const MASTER_KEY_CHECK: &str = "master_key_check";

fn seal_context(kid: &str) -> String {
    format!("signing_key:{kid}")
}

impl KeyManager<'_> {
    /// Fails with [`KeyError::MasterKeyMismatch`] when the store was created
    /// under another master key; records the check value on a new store.
    pub async fn verify_master_key(&self) -> Result<(), KeyError> {
        let fresh = self.master.seal(MASTER_KEY_CHECK, b"latchkey")?;
        let stored = self.store.meta_insert_if_absent(MASTER_KEY_CHECK, &fresh).await?;
        match self.master.open(MASTER_KEY_CHECK, &stored) {
            Ok(plain) if plain == b"latchkey" => Ok(()),
            _ => Err(KeyError::MasterKeyMismatch),
        }
    }

    /// Decrypts and parses every key that can still matter (not revoked,
    /// not expired), reusing those already in `previous`.
    pub async fn load(&self, previous: Option<&KeySet>) -> Result<KeySet, KeyError> {
        let now = UnixTime::now();
        let mut keys = Vec::new();
        for stored in self.store.list_keys().await? {
            let t = &stored.timeline;
            if matches!(t.state(now), KeyState::Revoked | KeyState::Expired) {
                continue;
            }
            if let Some(existing) = previous.and_then(|p| p.get(&t.kid))
                && existing.timeline == *t
            {
                keys.push(Arc::clone(existing));
                continue;
            }
            keys.push(Arc::new(self.open(&stored)?));
        }
        Ok(KeySet { keys })
    }

    fn open(&self, stored: &StoredKey) -> Result<LoadedKey, KeyError> {
        let kid = stored.timeline.kid.clone();
        let unreadable = |source| KeyError::Unreadable { kid: kid.clone(), source };
        let pkcs8 = self.master.open(&seal_context(&kid), &stored.sealed_private_key).map_err(unreadable)?;
        let signer = SigningKey::from_pkcs8(stored.timeline.alg, &pkcs8).map_err(unreadable)?;
        if signer.kid() != kid {
            return Err(unreadable(CryptoError::BadKeyMaterial("kid does not match key")));
        }
        let verifier = signer.verifying_key().map_err(unreadable)?;
        Ok(LoadedKey { timeline: stored.timeline.clone(), verifier, jwk: signer.public_jwk(), signer })
    }

    fn generate(&self, alg: SigningAlg, now: UnixTime, prepublish: Duration) -> Result<StoredKey, KeyError> {
        let pkcs8 = generate_pkcs8(alg)?;
        let key = SigningKey::from_pkcs8(alg, &pkcs8)?;
        let kid = key.kid().to_string();
        let sealed = self.master.seal(&seal_context(&kid), &pkcs8)?;
        Ok(StoredKey { timeline: KeyTimeline::new(kid, alg, now, prepublish), sealed_private_key: sealed })
    }

    async fn timelines(&self) -> Result<Vec<KeyTimeline>, KeyError> {
        Ok(self.store.list_keys().await?.into_iter().map(|k| k.timeline).collect())
    }

    /// Makes sure each algorithm has a key that signs or will sign; a
    /// missing one is generated active at once (first start).
    pub async fn ensure(&self, algs: &[SigningAlg]) -> Result<Vec<String>, KeyError> {
        let now = UnixTime::now();
        let timelines = self.timelines().await?;
        let mut generated = Vec::new();
        for &alg in algs {
            let has = timelines.iter().any(|t| {
                t.alg == alg && matches!(t.state(now), KeyState::Active | KeyState::Published | KeyState::Scheduled)
            });
            if !has {
                let key = self.generate(alg, now, Duration::ZERO)?;
                self.store.apply_key_changes(Some(&key), &[]).await?;
                self.events.emit(SecurityEvent::KeyGenerated {
                    kid: key.timeline.kid.clone(),
                    alg: alg.to_string(),
                    activate_at: key.timeline.activate_at.0,
                });
                generated.push(key.timeline.kid);
            }
        }
        Ok(generated)
    }

    /// Publishes a new key now that signs after `prepublish`; the keys it
    /// replaces retire at that instant and stay published for `retention`.
    pub async fn rotate(
        &self,
        alg: SigningAlg,
        prepublish: Duration,
        retention: Duration,
    ) -> Result<KeyTimeline, KeyError> {
        let now = UnixTime::now();
        let timelines = self.timelines().await?;
        let key = self.generate(alg, now, prepublish)?;
        let plan = key_lifecycle::plan_rotation(&timelines, key.timeline.kid.clone(), alg, now, prepublish, retention);
        self.store.apply_key_changes(Some(&key), &plan.superseded).await?;
        self.events.emit(SecurityEvent::KeyRotated {
            kid: plan.new_key.kid.clone(),
            alg: alg.to_string(),
            activate_at: plan.new_key.activate_at.0,
            retiring: plan.superseded.iter().map(|k| k.kid.clone()).collect(),
        });
        Ok(plan.new_key)
    }

    pub async fn retire(&self, kid: &str, retention: Duration) -> Result<KeyTimeline, KeyError> {
        let now = UnixTime::now();
        let changed = key_lifecycle::plan_retire(&self.timelines().await?, kid, now, retention)?;
        self.store.apply_key_changes(None, &changed).await?;
        let retired =
            changed.into_iter().find(|k| k.kid == kid).ok_or_else(|| LifecycleError::UnknownKid(kid.to_string()))?;
        self.events.emit(SecurityEvent::KeyRetired {
            kid: kid.to_string(),
            unpublish_at: retired.unpublish_at.map(|t| t.0).unwrap_or(now.0),
        });
        Ok(retired)
    }

    /// Removes a compromised key from the JWKS at once. If it was the only
    /// signer of its algorithm, an immediately active replacement is made in
    /// the same transaction, so signing never stops.
    pub async fn revoke(&self, kid: &str) -> Result<Option<KeyTimeline>, KeyError> {
        let now = UnixTime::now();
        let timelines = self.timelines().await?;
        let (changed, needs_replacement) = key_lifecycle::plan_revoke(&timelines, kid, now)?;
        let alg = timelines.iter().find(|k| k.kid == kid).map(|k| k.alg);
        let replacement = match (needs_replacement, alg) {
            (true, Some(alg)) => Some(self.generate(alg, now, Duration::ZERO)?),
            _ => None,
        };
        self.store.apply_key_changes(replacement.as_ref(), &changed).await?;
        let replacement = replacement.map(|k| k.timeline);
        self.events.emit(SecurityEvent::KeyRevoked {
            kid: kid.to_string(),
            replacement: replacement.as_ref().map(|k| k.kid.clone()),
        });
        Ok(replacement)
    }
}
