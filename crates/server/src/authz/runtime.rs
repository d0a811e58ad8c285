//! The decision point's memory: the active policy set, the entity
//! directory (attributes, parents, capabilities), the epochs that version
//! them, and the decision cache.
//!
//! Invariant: the decision cache can never answer with a stale decision.
//! Every entry's key holds the global epoch (policy set, hierarchies) and
//! the epochs of its subject and resource; any change to one of them,
//! applied from the change feed, bumps the epoch and so orphans every
//! entry built on the old state. Entries also carry the earliest instant
//! any of their inputs expires (token, capability, `auth_time + max_age`).

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use latchkey_authz::{EntityData, EntityRef, PolicySet, PreparedEntity, Requirement};
use latchkey_domain::UnixTime;
use latchkey_store::{Capability, Change, ParentRef, Store, StoredEntity};

use crate::caches::{read, write};

/// One policy version, compiled.
pub struct ActivePolicies {
    pub version: i64,
    pub digest: String,
    pub schema: String,
    pub policies: String,
    pub set: PolicySet,
}

type Key = (String, String);

/// Directory entries held in memory; beyond this the map starts over
/// (callers choose the ids they ask about, so memory must stay bounded).
const MAX_DIRECTORY_ENTRIES: usize = 100_000;
/// Beyond this many stored entities at start, no key set is kept (about
/// 40 bytes each) and unseen ids are read from the store.
const MAX_KNOWN_KEYS: usize = 2_000_000;

/// How often the key set is topped up from the store (`refresh_known`):
/// the longest an entity whose change event the feed missed can be
/// answered as absent on a node.
pub const KNOWN_REFRESH: std::time::Duration = std::time::Duration::from_secs(30);

/// A key's hash for the known set. A collision only costs a store read.
fn key_hash(ty: &str, id: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (ty, id).hash(&mut h);
    h.finish()
}

/// Hierarchies deeper than this are cut (and cycles are harmless).
const MAX_ANCESTORS: usize = 64;

#[derive(Default)]
pub struct Runtime {
    active: RwLock<Option<Arc<ActivePolicies>>>,
    /// The newest version announced by the change feed.
    wanted: AtomicI64,
    global_epoch: AtomicU64,
    epoch_counter: AtomicU64,
    entity_epochs: RwLock<HashMap<Key, u64>>,
    entities: RwLock<HashMap<Key, Option<Arc<StoredEntity>>>>,
    capabilities: RwLock<HashMap<Key, Arc<Vec<Capability>>>>,
    /// Entities seen as someone's parent: changing one changes what its
    /// descendants inherit, so it bumps the global epoch.
    parents_seen: RwLock<HashSet<Key>>,
    /// Directory entries with their ancestors walked and their Cedar form,
    /// each stamped with the generation it was built in.
    resolved: RwLock<HashMap<Key, Arc<Resolved>>>,
    /// Bumped by every invalidation, so a read racing one never caches.
    generation: AtomicU64,
    /// Hashes of every (type, id) the store holds (a superset: deleted
    /// entities stay), loaded at start and grown by the change feed: an id
    /// outside it is answered "not stored" without a store read. `None`
    /// when the store held more than `MAX_KNOWN_KEYS` at start.
    known: RwLock<Option<HashSet<u64>>>,
    pub cache: DecisionCache,
    /// Decisions taken, for event sampling.
    pub decisions: AtomicU64,
}

impl Runtime {
    pub fn policies(&self) -> Option<Arc<ActivePolicies>> {
        read(&self.active).clone()
    }

    /// Swaps the whole set: decisions in flight keep the one they hold.
    pub fn install(&self, active: ActivePolicies) {
        let version = active.version;
        {
            let mut slot = write(&self.active);
            // Concurrent publishes: never step back to an older version.
            if slot.as_ref().is_some_and(|a| a.version > version) {
                return;
            }
            *slot = Some(Arc::new(active));
        }
        self.wanted.fetch_max(version, Ordering::AcqRel);
        self.global_epoch.fetch_add(1, Ordering::AcqRel);
    }

    pub fn apply(&self, change: &Change) {
        match change {
            Change::PolicyChanged { version } => {
                self.wanted.fetch_max(*version, Ordering::AcqRel);
            }
            Change::EntityChanged { entity_type, entity_id } => {
                if let Some(known) = write(&self.known).as_mut() {
                    known.insert(key_hash(entity_type, entity_id));
                }
                self.invalidate(&(entity_type.clone(), entity_id.clone()));
            }
            _ => {}
        }
    }

    fn invalidate(&self, key: &Key) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        write(&self.entities).remove(key);
        write(&self.capabilities).remove(key);
        // Again once the stale entries are gone: a resolved entry built
        // from memory read between the first bump and the removals carries
        // the first bump's stamp, which this one makes stale (see
        // `Resolved`).
        self.generation.fetch_add(1, Ordering::AcqRel);
        let epoch = self.epoch_counter.fetch_add(1, Ordering::AcqRel) + 1;
        write(&self.entity_epochs).insert(key.clone(), epoch);
        if read(&self.parents_seen).contains(key) {
            self.global_epoch.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// Loads and compiles the newest announced version if it is not the
    /// active one. A version that no longer compiles (a stricter Cedar)
    /// keeps the previous set and is logged.
    pub async fn reload_if_wanted(&self, store: &Store) -> latchkey_store::Result<()> {
        let wanted = self.wanted.load(Ordering::Acquire);
        let current = self.policies().map(|p| p.version).unwrap_or(0);
        if wanted <= current {
            return Ok(());
        }
        let Some(stored) = store.active_policy_version().await? else { return Ok(()) };
        if stored.version <= current {
            return Ok(());
        }
        let (schema, policies) = (stored.schema.clone(), stored.policies.clone());
        let compiled = tokio::task::spawn_blocking(move || PolicySet::compile(&schema, &policies)).await;
        match compiled {
            Ok(Ok(set)) => {
                tracing::info!(version = stored.version, policies = set.len(), "policy set activated");
                self.install(ActivePolicies {
                    version: stored.version,
                    digest: stored.digest,
                    schema: stored.schema,
                    policies: stored.policies,
                    set,
                });
            }
            Ok(Err(e)) => {
                tracing::error!(version = stored.version, error = %e, "stored policy version does not compile; keeping the active one");
                self.wanted.store(current, Ordering::Release);
            }
            Err(e) => tracing::error!(error = %e, "policy compilation task failed"),
        }
        Ok(())
    }

    pub fn global_epoch(&self) -> u64 {
        self.global_epoch.load(Ordering::Acquire)
    }

    pub fn epoch_of(&self, ty: &str, id: &str) -> u64 {
        read(&self.entity_epochs).get(&(ty.to_owned(), id.to_owned())).copied().unwrap_or(0)
    }

    /// Loads the keys of the stored entities (at start, after the change
    /// feed's watermark is taken, so that none written meanwhile is
    /// missed: those arrive through the feed).
    pub async fn load_known(&self, store: &Store) -> latchkey_store::Result<()> {
        let limit = i64::try_from(MAX_KNOWN_KEYS + 1).unwrap_or(i64::MAX);
        let keys = store.entity_keys(limit).await?;
        let set = (keys.len() <= MAX_KNOWN_KEYS).then(|| keys.iter().map(|(t, i)| key_hash(t, i)).collect());
        if set.is_none() {
            tracing::info!(max = MAX_KNOWN_KEYS, "too many stored entities to keep their keys: unseen ids are read");
        }
        *write(&self.known) = set;
        Ok(())
    }

    /// Adds every key the store holds now to the set (never removes one,
    /// so it cannot race the feed's additions). The backstop for a change
    /// the feed missed: one committed late beyond its re-read window, or
    /// swept while this node was paused. Run every `KNOWN_REFRESH`.
    pub async fn refresh_known(&self, store: &Store) -> latchkey_store::Result<()> {
        if read(&self.known).is_none() {
            return Ok(());
        }
        let limit = i64::try_from(MAX_KNOWN_KEYS + 1).unwrap_or(i64::MAX);
        let keys = store.entity_keys(limit).await?;
        let mut guard = write(&self.known);
        if keys.len() > MAX_KNOWN_KEYS {
            *guard = None;
            return Ok(());
        }
        if let Some(set) = guard.as_mut() {
            set.extend(keys.iter().map(|(t, i)| key_hash(t, i)));
            // Deleted keys are never removed: past the bound, start reading.
            if set.len() > MAX_KNOWN_KEYS {
                *guard = None;
            }
        }
        Ok(())
    }

    /// Whether the store certainly does not hold this entity.
    fn surely_absent(&self, ty: &str, id: &str) -> bool {
        read(&self.known).as_ref().is_some_and(|k| !k.contains(&key_hash(ty, id)))
    }

    /// The stored entity, from memory when `use_memory` (the feed is
    /// current), else from the store.
    pub async fn entity(
        &self,
        store: &Store,
        ty: &str,
        id: &str,
        use_memory: bool,
    ) -> latchkey_store::Result<Option<Arc<StoredEntity>>> {
        let key = (ty.to_owned(), id.to_owned());
        if use_memory && let Some(hit) = read(&self.entities).get(&key) {
            return Ok(hit.clone());
        }
        // An id the store never held: no read, and nothing kept (callers
        // invent such ids without limit).
        if use_memory && self.surely_absent(ty, id) {
            return Ok(None);
        }
        let generation = self.generation.load(Ordering::Acquire);
        let loaded = store.entity(ty, id).await?.map(Arc::new);
        if let Some(e) = &loaded
            && !e.parents.is_empty()
        {
            let mut seen = write(&self.parents_seen);
            for p in &e.parents {
                seen.insert((p.ty.clone(), p.id.clone()));
            }
        }
        let mut map = write(&self.entities);
        if self.generation.load(Ordering::Acquire) == generation {
            if map.len() >= MAX_DIRECTORY_ENTRIES {
                map.clear();
            }
            map.insert(key, loaded.clone());
        }
        Ok(loaded)
    }

    /// Reads into the directory, in one store query, every entity of
    /// `keys` it does not hold yet (held as absent when the store has
    /// none), so that a batch's decisions then find them in memory. Only
    /// when the change feed is current (as for `entity`'s memory).
    pub async fn prefetch(&self, store: &Store, keys: &[(String, String)]) -> latchkey_store::Result<()> {
        let unseen: Vec<&(String, String)> = {
            let map = read(&self.entities);
            keys.iter().filter(|k| !map.contains_key(*k)).collect()
        };
        // One lock at a time: never the directory's and the key set's together.
        let missing: Vec<(String, String)> =
            unseen.into_iter().filter(|k| !self.surely_absent(&k.0, &k.1)).cloned().collect();
        if missing.len() < 2 {
            // One read is what `entity` does anyway.
            return Ok(());
        }
        let generation = self.generation.load(Ordering::Acquire);
        let mut loaded: HashMap<Key, Arc<StoredEntity>> = store
            .entities_many(&missing)
            .await?
            .into_iter()
            .map(|e| ((e.entity_type.clone(), e.entity_id.clone()), Arc::new(e)))
            .collect();
        {
            let mut seen = write(&self.parents_seen);
            for e in loaded.values() {
                for p in &e.parents {
                    seen.insert((p.ty.clone(), p.id.clone()));
                }
            }
        }
        let mut map = write(&self.entities);
        // As in `entity`: only what was read within one generation is kept.
        if self.generation.load(Ordering::Acquire) == generation {
            if map.len() + missing.len() >= MAX_DIRECTORY_ENTRIES {
                map.clear();
            }
            for key in missing {
                let entry = loaded.remove(&key);
                map.insert(key, entry);
            }
        }
        Ok(())
    }

    /// A subject's capabilities (expired ones are filtered by the caller).
    pub async fn capabilities(
        &self,
        store: &Store,
        ty: &str,
        id: &str,
        now: UnixTime,
        use_memory: bool,
    ) -> latchkey_store::Result<Arc<Vec<Capability>>> {
        let key = (ty.to_owned(), id.to_owned());
        if use_memory && let Some(hit) = read(&self.capabilities).get(&key) {
            return Ok(hit.clone());
        }
        let generation = self.generation.load(Ordering::Acquire);
        let loaded = Arc::new(store.capabilities_of(ty, id, now).await?);
        let mut map = write(&self.capabilities);
        if self.generation.load(Ordering::Acquire) == generation {
            if map.len() >= MAX_DIRECTORY_ENTRIES {
                map.clear();
            }
            map.insert(key, loaded.clone());
        }
        Ok(loaded)
    }

    /// A directory entry with its ancestors, from memory when `use_memory`
    /// and nothing changed since it was built, else built afresh (and kept
    /// when `use_memory`).
    pub async fn resolve(
        &self,
        store: &Store,
        ty: &str,
        id: &str,
        use_memory: bool,
    ) -> latchkey_store::Result<Arc<Resolved>> {
        let key = (ty.to_owned(), id.to_owned());
        let generation = self.generation.load(Ordering::Acquire);
        if use_memory
            && let Some(hit) = read(&self.resolved).get(&key)
            && hit.generation == generation
        {
            return Ok(hit.clone());
        }
        let stored = self.entity(store, ty, id, use_memory).await?;
        let ancestors = match &stored {
            Some(s) => self.ancestors(store, &s.parents, use_memory).await?,
            None => Vec::new(),
        };
        let resolved = Arc::new(Resolved {
            ty: key.0.clone(),
            id: key.1.clone(),
            stored,
            ancestors,
            generation,
            prepared: OnceLock::new(),
        });
        // Only entities the store holds are kept: ids it does not hold are
        // the ones callers invent without limit (a fresh id per request),
        // whose miss the directory already remembers, and which have no
        // ancestors to walk. Keeping them too filled this map as fast as
        // the directory, and clearing a full map stalled requests (p99 of
        // fresh-id decisions went from ~16 to ~60 ms).
        if use_memory && resolved.stored.is_some() {
            let mut map = write(&self.resolved);
            // Built entirely in this generation, or not kept.
            if self.generation.load(Ordering::Acquire) == generation {
                if map.len() >= MAX_DIRECTORY_ENTRIES {
                    map.clear();
                }
                map.insert(key, resolved.clone());
            }
        }
        Ok(resolved)
    }

    /// Every ancestor of an entity with these parents, nearest first.
    pub async fn ancestors(
        &self,
        store: &Store,
        parents: &[ParentRef],
        use_memory: bool,
    ) -> latchkey_store::Result<Vec<EntityRef>> {
        let mut out: Vec<EntityRef> = Vec::new();
        let mut queue: Vec<ParentRef> = parents.to_vec();
        let mut i = 0;
        while i < queue.len() && out.len() < MAX_ANCESTORS {
            let p = queue[i].clone();
            i += 1;
            let r = EntityRef::new(p.ty.clone(), p.id.clone());
            if out.contains(&r) {
                continue;
            }
            out.push(r);
            let key = (p.ty.clone(), p.id.clone());
            if !read(&self.parents_seen).contains(&key) {
                write(&self.parents_seen).insert(key);
            }
            if let Some(e) = self.entity(store, &p.ty, &p.id, use_memory).await? {
                queue.extend(e.parents.iter().cloned());
            }
        }
        Ok(out)
    }
}

/// A directory entry and what decisions derive from it alone: its
/// ancestors (walked once), and its Cedar form when the directory is all
/// that describes it (converted once, on first use).
///
/// Invariant: an entry kept in memory is used only while the generation
/// is the one it was built in. Every invalidation bumps the generation
/// (twice: before and after removing the stale directory entries), so any
/// change to the entry, to one of its ancestors, or to anything else,
/// makes it stale; a change is rare, and rebuilding from the directory in
/// memory is cheap.
pub struct Resolved {
    ty: String,
    id: String,
    pub stored: Option<Arc<StoredEntity>>,
    pub ancestors: Vec<EntityRef>,
    generation: u64,
    prepared: OnceLock<Option<PreparedEntity>>,
}

impl Resolved {
    /// The entity as the directory alone describes it: its stored
    /// attributes and its ancestors.
    pub fn data(&self) -> EntityData {
        let mut data = EntityData::new(self.ty.as_str(), self.id.as_str());
        if let Some(s) = &self.stored {
            data.attrs = s.attributes.clone();
            data.parents = self.ancestors.clone();
        }
        data
    }

    /// [`Resolved::data`] converted to Cedar's form, once. `None` when it
    /// does not convert: the caller then decides on the data, whose
    /// decision carries the error. The form does not depend on the policy
    /// set (see `PolicySet::prepare`), so the first set to ask is as good
    /// as any.
    pub fn prepared(&self, set: &PolicySet) -> Option<&PreparedEntity> {
        self.prepared.get_or_init(|| set.prepare(&self.data()).ok()).as_ref()
    }
}

/// A cached decision.
#[derive(Clone)]
pub struct CachedDecision {
    pub allow: bool,
    pub requirement: Option<Requirement>,
    /// The determining policies and errors, for explanations of hits.
    pub reasons: Vec<String>,
    pub errors: Vec<String>,
    pub expires_at: i64,
}

const SHARDS: usize = 16;

/// Decisions by their whole request (plus epochs), in shards so that
/// concurrent decisions rarely share a lock. A full shard starts over,
/// which costs misses, never correctness.
pub struct DecisionCache {
    shards: Vec<Mutex<HashMap<Vec<u8>, CachedDecision>>>,
    per_shard: AtomicU64,
    pub hits: AtomicU64,
    pub misses: AtomicU64,
}

impl Default for DecisionCache {
    fn default() -> Self {
        DecisionCache {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            per_shard: AtomicU64::new(100_000 / SHARDS as u64),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }
}

impl DecisionCache {
    pub fn set_capacity(&self, entries: usize) {
        self.per_shard.store((entries / SHARDS).max(1) as u64, Ordering::Release);
    }

    fn shard(&self, key: &[u8]) -> Option<&Mutex<HashMap<Vec<u8>, CachedDecision>>> {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        key.hash(&mut h);
        self.shards.get((h.finish() as usize) % SHARDS)
    }

    pub fn get(&self, key: &[u8], now: UnixTime) -> Option<CachedDecision> {
        let shard = self.shard(key)?;
        let map = shard.lock().unwrap_or_else(|p| p.into_inner());
        let hit = map.get(key).filter(|d| d.expires_at > now.0).cloned();
        drop(map);
        match hit {
            Some(d) => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                Some(d)
            }
            None => {
                self.misses.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    pub fn insert(&self, key: Vec<u8>, decision: CachedDecision) {
        let Some(shard) = self.shard(&key) else { return };
        let mut map = shard.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() as u64 >= self.per_shard.load(Ordering::Acquire) {
            map.clear();
        }
        map.insert(key, decision);
    }
}
