//! The audit log's table: batched appends, filtered pages, and the sweeps
//! that delete old rows and clear old network details.

use latchkey_domain::AuditRecord;
use sqlx::Row;

use crate::{Backend, Result, Store, StoreError};

/// Columns written per row, in the order of [`INSERT_COLUMNS`].
const COLUMNS: usize = 11;
const INSERT_COLUMNS: &str =
    "at_ms, type, outcome, actor, subject, client_id, source_ip, user_agent, trace_id, node, details";
/// Rows per INSERT statement: well under both databases' parameter limits.
const ROWS_PER_STATEMENT: usize = 100;

/// A page of the audit log. Every filter is optional; `kind` is a type
/// (`login.failed`) or a prefix ending in `.*` (`token.*`).
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub subject: Option<String>,
    pub client_id: Option<String>,
    /// The request's trace id (the portal's trace lookup).
    pub trace_id: Option<String>,
    pub kind: Option<String>,
    pub outcome: Option<String>,
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
    /// Rows with a greater id (oldest first), or with a smaller id when
    /// `newest_first`.
    pub cursor: Option<i64>,
    pub newest_first: bool,
    pub limit: i64,
}

impl Store {
    /// Appends `records` in one transaction. On PostgreSQL the transaction
    /// takes an advisory lock first, so that audit rows commit in id order
    /// across nodes and a reader paging by id never skips a row that a
    /// slower transaction committed later with a smaller id.
    pub async fn append_audit(&self, records: &[AuditRecord]) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(7302155)").execute(&mut *tx).await?;
        }
        for chunk in records.chunks(ROWS_PER_STATEMENT) {
            let mut sql = format!("INSERT INTO audit_events ({INSERT_COLUMNS}) VALUES ");
            for i in 0..chunk.len() {
                if i > 0 {
                    sql.push(',');
                }
                sql.push('(');
                for c in 0..COLUMNS {
                    if c > 0 {
                        sql.push(',');
                    }
                    sql.push_str(&format!("${}", i * COLUMNS + c + 1));
                }
                sql.push(')');
            }
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for r in chunk {
                let details = serde_json::to_string(&r.details).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                query = query
                    .bind(r.at_ms)
                    .bind(r.kind.clone())
                    .bind(r.outcome.clone())
                    .bind(r.actor.clone())
                    .bind(r.subject.clone())
                    .bind(r.client_id.clone())
                    .bind(r.source_ip.clone())
                    .bind(r.user_agent.clone())
                    .bind(r.trace_id.clone())
                    .bind(r.node.clone())
                    .bind(details);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// One page of audit events matching `q`.
    pub async fn list_audit(&self, q: &AuditQuery) -> Result<Vec<AuditRecord>> {
        let mut conditions: Vec<String> = Vec::new();
        let mut texts: Vec<String> = Vec::new();
        let mut numbers: Vec<i64> = Vec::new();
        // Text parameters first ($1..), then numbers, so placeholders can
        // be numbered as conditions are added.
        let mut text = |column: &str, op: &str, value: String, conditions: &mut Vec<String>| {
            texts.push(value);
            conditions.push(format!("{column} {op} ${}", texts.len()));
        };
        if let Some(s) = &q.subject {
            text("subject", "=", s.clone(), &mut conditions);
        }
        if let Some(c) = &q.client_id {
            text("client_id", "=", c.clone(), &mut conditions);
        }
        if let Some(o) = &q.outcome {
            text("outcome", "=", o.clone(), &mut conditions);
        }
        if let Some(t) = &q.trace_id {
            text("trace_id", "=", t.clone(), &mut conditions);
        }
        if let Some(k) = &q.kind {
            match k.strip_suffix('*') {
                Some(prefix) => {
                    let escaped = prefix.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
                    text("type", "LIKE", format!("{escaped}%"), &mut conditions);
                    if let Some(last) = conditions.last_mut() {
                        last.push_str(" ESCAPE '\\'");
                    }
                }
                None => text("type", "=", k.clone(), &mut conditions),
            }
        }
        let offset = texts.len();
        let mut number = |column: &str, op: &str, value: i64, conditions: &mut Vec<String>| {
            numbers.push(value);
            conditions.push(format!("{column} {op} ${}", offset + numbers.len()));
        };
        if let Some(t) = q.since_ms {
            number("at_ms", ">=", t, &mut conditions);
        }
        if let Some(t) = q.until_ms {
            number("at_ms", "<", t, &mut conditions);
        }
        if let Some(c) = q.cursor {
            number("id", if q.newest_first { "<" } else { ">" }, c, &mut conditions);
        }
        let filter = if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
        let order = if q.newest_first { "DESC" } else { "ASC" };
        let sql = format!(
            "SELECT id, {INSERT_COLUMNS} FROM audit_events {filter} ORDER BY id {order} LIMIT ${}",
            offset + numbers.len() + 1
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for t in texts {
            query = query.bind(t);
        }
        for n in numbers {
            query = query.bind(n);
        }
        let rows = query.bind(q.limit).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let details: String = r.try_get("details")?;
                Ok(AuditRecord {
                    id: r.try_get("id")?,
                    at_ms: r.try_get("at_ms")?,
                    kind: r.try_get("type")?,
                    outcome: r.try_get("outcome")?,
                    actor: r.try_get("actor")?,
                    subject: r.try_get("subject")?,
                    client_id: r.try_get("client_id")?,
                    source_ip: r.try_get("source_ip")?,
                    user_agent: r.try_get("user_agent")?,
                    trace_id: r.try_get("trace_id")?,
                    node: r.try_get("node")?,
                    details: serde_json::from_str(&details).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                })
            })
            .collect()
    }

    /// Deletes at most `batch` audit rows older than `cutoff_ms`.
    pub async fn sweep_audit(&self, cutoff_ms: i64, batch: i64) -> Result<u64> {
        let done = sqlx::query(
            "DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE at_ms < $1 ORDER BY at_ms LIMIT $2)",
        )
        .bind(cutoff_ms)
        .bind(batch)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Clears the source address and user agent of at most `batch` audit
    /// rows older than `cutoff_ms`: the rest of the event stays.
    pub async fn forget_audit_network_details(&self, cutoff_ms: i64, batch: i64) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE audit_events SET source_ip = NULL, user_agent = NULL WHERE id IN (SELECT id FROM audit_events \
             WHERE at_ms < $1 AND (source_ip IS NOT NULL OR user_agent IS NOT NULL) LIMIT $2)",
        )
        .bind(cutoff_ms)
        .bind(batch)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }
}
