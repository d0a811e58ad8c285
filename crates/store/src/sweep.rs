//! Expiry sweeping: nothing grows without bound. Each call deletes at most
//! `batch` rows per table, so a sweep never holds a long lock; the server
//! calls it on a timer until it reports nothing left.

use latchkey_domain::UnixTime;

use crate::{Result, Store};

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SweepReport {
    pub authorization_codes: u64,
    pub refresh_tokens: u64,
    pub grants: u64,
    pub sessions: u64,
    pub revoked_tokens: u64,
    pub used_jtis: u64,
    pub auth_requests: u64,
    pub login_failures: u64,
    pub events: u64,
    pub capabilities: u64,
    pub signal_receipts: u64,
}

impl SweepReport {
    pub fn total(&self) -> u64 {
        self.authorization_codes
            + self.refresh_tokens
            + self.grants
            + self.sessions
            + self.revoked_tokens
            + self.used_jtis
            + self.auth_requests
            + self.login_failures
            + self.events
            + self.capabilities
            + self.signal_receipts
    }
}

/// (table, primary key, condition on `$1` = cut-off time)
const EXPIRING: [(&str, &str, &str); 10] = [
    ("authorization_codes", "code_hash", "expires_at < $1"),
    ("refresh_tokens", "token_hash", "expires_at < $1"),
    ("grants", "id", "expires_at < $1 OR revoked_at < $1"),
    ("sessions", "id", "expires_at < $1 OR ended_at < $1"),
    ("revoked_tokens", "jti", "expires_at < $1"),
    ("used_jtis", "jti", "expires_at < $1"),
    ("auth_requests", "id", "expires_at < $1"),
    ("login_failures", "key", "expires_at < $1"),
    ("capabilities", "id", "expires_at < $1"),
    ("signal_receipts", "event_id", "expires_at < $1"),
];

impl Store {
    /// Deletes expired rows, and events older than `event_retention_cutoff`.
    pub async fn sweep_expired(
        &self,
        now: UnixTime,
        event_retention_cutoff: UnixTime,
        batch: i64,
    ) -> Result<SweepReport> {
        let mut counts = [0u64; 10];
        for (i, (table, pk, condition)) in EXPIRING.iter().enumerate() {
            // `used_jtis` has a composite key; its jti alone bounds the batch
            // well enough, and extra rows deleted are expired anyway.
            let sql = format!(
                "DELETE FROM {table} WHERE {pk} IN (SELECT {pk} FROM {table} WHERE {condition} LIMIT $2) AND ({condition})"
            );
            let done = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now.0).bind(batch).execute(&self.pool).await?;
            if let Some(c) = counts.get_mut(i) {
                *c = done.rows_affected();
            }
        }
        let events =
            // The newest event always stays: it marks how far the history
            // went, so a feed reader whose cursor predates what was swept
            // is told to start over rather than silently miss changes.
            sqlx::query(
                "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE created_at < $1 \
                 AND id < (SELECT MAX(id) FROM events) LIMIT $2)",
            )
                .bind(event_retention_cutoff.0)
                .bind(batch)
                .execute(&self.pool)
                .await?
                .rows_affected();
        let [
            authorization_codes,
            refresh_tokens,
            grants,
            sessions,
            revoked_tokens,
            used_jtis,
            auth_requests,
            login_failures,
            capabilities,
            signal_receipts,
        ] = counts;
        Ok(SweepReport {
            authorization_codes,
            refresh_tokens,
            grants,
            sessions,
            revoked_tokens,
            used_jtis,
            auth_requests,
            login_failures,
            events,
            capabilities,
            signal_receipts,
        })
    }

    /// Appends a cross-node event (the event bus of a later issue reads them).
    pub async fn append_event(&self, kind: &str, payload_json: &str, now: UnixTime) -> Result<()> {
        sqlx::query("INSERT INTO events (kind, payload, created_at) VALUES ($1, $2, $3)")
            .bind(kind)
            .bind(payload_json)
            .bind(now.0)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
