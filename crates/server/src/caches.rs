//! In-memory state that keeps the hot paths off the database: clients, the
//! revoked JWT ids, active sessions and recently verified tokens.
//!
//! Invariant: a cache may save work, never change an answer. Each one is
//! kept true by the change feed (`latchkey_store::Change`): this node
//! applies a change as soon as it has written it ([`Caches::sync`] right
//! after the write), every other node or process within one poll interval
//! (the background task in `tasks`). The hot-token cache skips only the
//! signature check and parsing; expiry, revocation and session state are
//! checked on every use.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use latchkey_domain::access_token::AccessTokenClaims;
use latchkey_domain::{Client, UnixTime};
use latchkey_store::{Change, Store};

pub(crate) fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

pub(crate) fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Clients by id. Unknown ids are not cached (they would let anyone fill
/// memory); a generation counter keeps a read that raced an invalidation
/// from caching the stale row.
#[derive(Default)]
pub struct ClientCache {
    map: RwLock<HashMap<String, Arc<Client>>>,
    generation: AtomicU64,
}

impl ClientCache {
    pub async fn get(&self, store: &Store, id: &str) -> latchkey_store::Result<Option<Arc<Client>>> {
        if let Some(c) = read(&self.map).get(id) {
            return Ok(Some(c.clone()));
        }
        let generation = self.generation.load(Ordering::Acquire);
        let Some(client) = store.get_client(id).await? else { return Ok(None) };
        let client = Arc::new(client);
        let mut map = write(&self.map);
        if self.generation.load(Ordering::Acquire) == generation {
            map.insert(id.to_string(), client.clone());
        }
        Ok(Some(client))
    }

    pub fn invalidate(&self, id: &str) {
        let mut map = write(&self.map);
        self.generation.fetch_add(1, Ordering::AcqRel);
        map.remove(id);
    }
}

/// Revoked JWT ids until they expire: every node holds the whole set (it is
/// small: access tokens live minutes, and only revoked ones are here).
#[derive(Default)]
pub struct Revocations {
    jtis: RwLock<HashMap<String, i64>>,
}

impl Revocations {
    pub fn is_revoked(&self, jti: &str) -> bool {
        read(&self.jtis).contains_key(jti)
    }

    pub fn add(&self, jti: String, expires_at: i64) {
        write(&self.jtis).insert(jti, expires_at);
    }

    /// Forgets ids whose tokens have expired anyway.
    pub fn prune(&self, now: UnixTime) {
        write(&self.jtis).retain(|_, exp| *exp > now.0);
    }
}

/// Sessions known to be active, with their expiry. Ended sessions are
/// removed by the change feed; unknown ones are read from the store.
#[derive(Default)]
pub struct SessionCache {
    active: RwLock<HashMap<String, i64>>,
    ended: RwLock<HashSet<String>>,
}

impl SessionCache {
    pub async fn is_active(&self, store: &Store, sid: &str, now: UnixTime) -> latchkey_store::Result<bool> {
        if let Some(exp) = read(&self.active).get(sid) {
            return Ok(*exp > now.0);
        }
        if read(&self.ended).contains(sid) {
            return Ok(false);
        }
        let session = store.get_session(sid).await?;
        let active = session.as_ref().is_some_and(|s| s.is_active(now));
        if let Some(s) = session.filter(|_| active) {
            // Lock order active → ended, as in `ended`: an end applied while
            // we read the store is seen here, or removes what we insert.
            let mut map = write(&self.active);
            if !read(&self.ended).contains(sid) {
                map.insert(sid.to_string(), s.expires_at.0);
            }
        }
        Ok(active)
    }

    fn ended(&self, sid: &str) {
        let mut map = write(&self.active);
        write(&self.ended).insert(sid.to_string());
        map.remove(sid);
    }

    pub fn prune(&self, now: UnixTime) {
        write(&self.active).retain(|_, exp| *exp > now.0);
        // An ended session's tokens are short-lived; after a day nothing
        // can carry its sid any more (refresh drops ended sids), and the
        // store answers for the rare straggler.
        let mut ended = write(&self.ended);
        if ended.len() > 100_000 {
            ended.clear();
        }
    }
}

/// Tokens whose signature has been checked, by their exact text, with the
/// key that signed them (re-checked on every use: a revoked key must stop
/// its tokens at once). Bounded: when full it starts over (cheap, and a
/// miss only costs a verification).
#[derive(Default)]
pub struct TokenCache {
    map: RwLock<HashMap<String, VerifiedToken>>,
}

/// A verified token's signing key id and claims.
pub type VerifiedToken = (Arc<str>, Arc<AccessTokenClaims>);

pub const TOKEN_CACHE_CAPACITY: usize = 10_000;

impl TokenCache {
    pub fn get(&self, token: &str) -> Option<VerifiedToken> {
        read(&self.map).get(token).cloned()
    }

    pub fn insert(&self, token: &str, kid: &str, claims: Arc<AccessTokenClaims>) {
        let mut map = write(&self.map);
        if map.len() >= TOKEN_CACHE_CAPACITY {
            map.clear();
        }
        map.insert(token.to_string(), (Arc::from(kid), claims));
    }

    pub fn prune(&self, now: UnixTime) {
        write(&self.map).retain(|_, (_, c)| c.exp > now.0);
    }
}

/// All of the above, and where this node is in the change feed.
#[derive(Default)]
pub struct Caches {
    pub clients: ClientCache,
    pub revocations: Revocations,
    pub sessions: SessionCache,
    pub tokens: TokenCache,
    /// Policies, the entity directory and the decision cache.
    pub authz: crate::authz::Runtime,
    watermark: AtomicI64,
    /// Key changes already acted on (ids within the re-read window), and
    /// whether the key set must be re-read.
    key_changes_seen: std::sync::Mutex<std::collections::BTreeSet<i64>>,
    keys_changed: std::sync::atomic::AtomicBool,
    /// When the feed was last read successfully (Unix seconds).
    last_sync: AtomicI64,
    sync_lock: tokio::sync::Mutex<()>,
}

/// Past this, a node that cannot read the change feed stops trusting its
/// in-memory revocation and session state and asks the store (fail closed).
pub const MAX_FEED_LAG_SECS: i64 = 5;

/// Changes read per query; a backlog is read in several.
const BATCH: i64 = 1000;

impl Caches {
    /// Loads what must be complete from the start (the revoked ids) and
    /// places the watermark, before the node serves.
    pub async fn load(store: &Store) -> latchkey_store::Result<Caches> {
        let caches = Caches::default();
        // Watermark first: a revocation landing between the two reads is
        // then read again from the feed rather than missed.
        // Key changes in the re-read window are acted on once more at the
        // first sync: harmless, and it covers a rotation that landed
        // between the start-up key read and this watermark.
        caches.watermark.store(store.latest_change_id().await?, Ordering::Release);
        caches.authz.load_known(store).await?;
        for (jti, exp) in store.active_revoked_jtis(UnixTime::now()).await? {
            caches.revocations.add(jti, exp);
        }
        caches.last_sync.store(UnixTime::now().0, Ordering::Release);
        Ok(caches)
    }

    /// Applies every change since the watermark. Called by the poller and
    /// right after this node's own writes.
    pub async fn sync(&self, store: &Store) -> latchkey_store::Result<()> {
        let _one_at_a_time = self.sync_lock.lock().await;
        loop {
            let after = self.watermark.load(Ordering::Acquire);
            let changes = store.changes_since(after, BATCH).await?;
            let newest = changes.iter().map(|(id, _)| *id).max().unwrap_or(after);
            let fresh = changes.iter().filter(|(id, _)| *id > after).count();
            for (id, change) in changes {
                // Unlike the others, a key change is acted on once per id
                // (the re-read window would reload the keys each time),
                // including one that committed late with a smaller id.
                if change == Change::KeysChanged {
                    let mut seen = self.key_changes_seen.lock().unwrap_or_else(|p| p.into_inner());
                    if seen.insert(id) {
                        self.keys_changed.store(true, Ordering::Release);
                    }
                    let floor = newest.saturating_sub(2 * latchkey_store::REREAD_WINDOW);
                    seen.retain(|i| *i >= floor);
                    continue;
                }
                self.apply(change);
            }
            self.authz.reload_if_wanted(store).await?;
            self.watermark.store(newest.max(after), Ordering::Release);
            // Rows at or below the old watermark are re-read each time (see
            // REREAD_WINDOW); only a full batch of new ones means a backlog.
            if (fresh as i64) < BATCH - latchkey_store::REREAD_WINDOW {
                self.last_sync.store(UnixTime::now().0, Ordering::Release);
                return Ok(());
            }
        }
    }

    /// Whether session `sid` is active: from memory while the change feed is
    /// current, from the store otherwise (so a node cut off from the feed
    /// never keeps an ended session alive).
    pub async fn session_active(&self, store: &Store, sid: &str, now: UnixTime) -> latchkey_store::Result<bool> {
        if self.is_current(now) {
            self.sessions.is_active(store, sid, now).await
        } else {
            Ok(store.get_session(sid).await?.is_some_and(|s| s.is_active(now)))
        }
    }

    /// Whether the in-memory state is recent enough to answer alone.
    pub fn is_current(&self, now: UnixTime) -> bool {
        now.0 - self.last_sync.load(Ordering::Acquire) <= MAX_FEED_LAG_SECS
    }

    fn apply(&self, change: Change) {
        match change {
            Change::ClientChanged { client_id } => self.clients.invalidate(&client_id),
            Change::TokenRevoked { jti, expires_at } => self.revocations.add(jti, expires_at),
            Change::SessionEnded { session_id } => self.sessions.ended(&session_id),
            Change::PolicyChanged { .. } | Change::EntityChanged { .. } => self.authz.apply(&change),
            // Acted on in `sync`, once per change id.
            Change::KeysChanged => {}
        }
    }

    /// Whether a key change was seen since the last call: the caller then
    /// re-reads the key set.
    pub fn take_keys_changed(&self) -> bool {
        self.keys_changed.swap(false, Ordering::AcqRel)
    }

    pub fn prune(&self, now: UnixTime) {
        self.revocations.prune(now);
        self.sessions.prune(now);
        self.tokens.prune(now);
    }
}
