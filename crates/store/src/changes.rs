//! The change feed: every write that in-memory caches depend on (a client
//! changed, a token revoked, a session ended) appends a row to `events`, so
//! that every node, and every process sharing the database (the CLI beside
//! a running server), learns of it by reading the feed. The many-nodes
//! issue adds `LISTEN/NOTIFY` on top; the table stays the source of truth.

use latchkey_domain::UnixTime;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::{Result, Store};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    ClientChanged {
        client_id: String,
    },
    TokenRevoked {
        jti: String,
        expires_at: i64,
    },
    SessionEnded {
        session_id: String,
    },
    /// A new policy version is active.
    PolicyChanged {
        version: i64,
    },
    /// An entity's attributes, parents or capabilities changed.
    EntityChanged {
        entity_type: String,
        entity_id: String,
    },
    /// A signing key was added, retired or revoked.
    KeysChanged,
}

impl Change {
    fn kind(&self) -> &'static str {
        match self {
            Change::ClientChanged { .. } => "client.changed",
            Change::TokenRevoked { .. } => "token.revoked",
            Change::SessionEnded { .. } => "session.ended",
            Change::PolicyChanged { .. } => "policy.changed",
            Change::EntityChanged { .. } => "entity.changed",
            Change::KeysChanged => "keys.changed",
        }
    }
}

/// Ids are assigned at insert but transactions commit in any order, so a
/// reader re-reads this many ids below its watermark; applying a change
/// twice is harmless.
pub const REREAD_WINDOW: i64 = 256;

pub(crate) async fn append<'e, E>(executor: E, change: &Change, now: UnixTime) -> Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let payload = serde_json::to_string(change).map_err(|e| crate::StoreError::Corrupt(e.to_string()))?;
    sqlx::query("INSERT INTO events (kind, payload, created_at) VALUES ($1, $2, $3)")
        .bind(change.kind())
        .bind(payload)
        .bind(now.0)
        .execute(executor)
        .await?;
    Ok(())
}

/// The PostgreSQL channel a trigger notifies on every new change row.
pub const CHANGE_CHANNEL: &str = "latchkey_changes";

/// Wakes a node when another one commits a change (PostgreSQL only).
pub struct ChangeListener(sqlx::postgres::PgListener);

impl ChangeListener {
    /// Waits for the next notification. An error means the connection was
    /// lost (it reconnects on the next call; notifications in between are
    /// lost, which the poll makes up for).
    pub async fn next(&mut self) -> Result<()> {
        self.0.recv().await?;
        Ok(())
    }
}

impl Store {
    /// A listener for other nodes' changes; `None` on SQLite (one node).
    pub async fn listen_for_changes(&self) -> Result<Option<ChangeListener>> {
        if self.backend != crate::Backend::Postgres {
            return Ok(None);
        }
        let mut listener = sqlx::postgres::PgListener::connect(&self.url.0).await?;
        listener.listen(CHANGE_CHANNEL).await?;
        Ok(Some(ChangeListener(listener)))
    }

    /// The id of the newest change, where a new reader starts.
    pub async fn latest_change_id(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COALESCE(MAX(id), 0) AS id FROM events").fetch_one(&self.pool).await?;
        Ok(row.try_get::<i64, _>("id")?)
    }

    /// Changes after `after - REREAD_WINDOW`, oldest first, at most `limit`.
    /// Rows of other kinds (written by other features) are skipped.
    pub async fn changes_since(&self, after: i64, limit: i64) -> Result<Vec<(i64, Change)>> {
        let rows = sqlx::query("SELECT id, payload FROM events WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(after.saturating_sub(REREAD_WINDOW))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let id: i64 = r.try_get("id")?;
            let payload: String = r.try_get("payload")?;
            if let Ok(change) = serde_json::from_str::<Change>(&payload) {
                out.push((id, change));
            }
        }
        Ok(out)
    }

    /// Changes strictly after `after`, oldest first, at most `limit`: the
    /// revocation feed's page (exact, unlike the nodes' re-reading window).
    pub async fn changes_after(&self, after: i64, limit: i64) -> Result<Vec<(i64, Change)>> {
        self.changes_since(after.saturating_add(REREAD_WINDOW), limit).await
    }

    /// The oldest change still kept (`None`: the feed is empty).
    pub async fn oldest_change_id(&self) -> Result<Option<i64>> {
        let row = sqlx::query("SELECT MIN(id) AS id FROM events").fetch_one(&self.pool).await?;
        Ok(row.try_get::<Option<i64>, _>("id")?)
    }

    /// Sessions ended but not yet expired, with their expiry.
    pub async fn ended_unexpired_sessions(&self, now: UnixTime) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query("SELECT id, expires_at FROM sessions WHERE ended_at IS NOT NULL AND expires_at > $1")
            .bind(now.0)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok((r.try_get("id")?, r.try_get("expires_at")?))).collect()
    }

    /// Every JWT id revoked and not yet expired, with its expiry: what a
    /// node loads into memory at start.
    pub async fn active_revoked_jtis(&self, now: UnixTime) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query("SELECT jti, expires_at FROM revoked_tokens WHERE expires_at > $1")
            .bind(now.0)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok((r.try_get("jti")?, r.try_get("expires_at")?))).collect()
    }
}
