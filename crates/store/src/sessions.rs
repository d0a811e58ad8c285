//! Browser sessions: one per login. The cookie carries a secret whose
//! SHA-256 is stored; the public id (`sid`) never leaves in a cookie.

use latchkey_domain::UnixTime;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::codec::{from_json, to_json};
use crate::{Result, Store};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: String,
    pub user_id: String,
    pub created_at: UnixTime,
    pub last_seen_at: UnixTime,
    pub auth_time: UnixTime,
    pub acr: Option<String>,
    pub amr: Vec<String>,
    pub user_agent: Option<String>,
    pub source_ip: Option<String>,
    pub expires_at: UnixTime,
    pub ended_at: Option<UnixTime>,
}

impl Session {
    pub fn is_active(&self, now: UnixTime) -> bool {
        self.ended_at.is_none() && self.expires_at > now
    }
}

const COLUMNS: &str =
    "id, user_id, created_at, last_seen_at, auth_time, acr, amr, user_agent, source_ip, expires_at, ended_at";

fn from_row(r: &AnyRow) -> Result<Session> {
    Ok(Session {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        created_at: UnixTime(r.try_get("created_at")?),
        last_seen_at: UnixTime(r.try_get("last_seen_at")?),
        auth_time: UnixTime(r.try_get("auth_time")?),
        acr: r.try_get("acr")?,
        amr: from_json("amr", &r.try_get::<String, _>("amr")?)?,
        user_agent: r.try_get("user_agent")?,
        source_ip: r.try_get("source_ip")?,
        expires_at: UnixTime(r.try_get("expires_at")?),
        ended_at: r.try_get::<Option<i64>, _>("ended_at")?.map(UnixTime),
    })
}

impl Store {
    pub async fn insert_session(&self, s: &Session, secret_hash: &[u8]) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (id, secret_hash, user_id, created_at, last_seen_at, auth_time, acr, amr, user_agent, source_ip, expires_at, ended_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&s.id)
        .bind(secret_hash)
        .bind(&s.user_id)
        .bind(s.created_at.0)
        .bind(s.last_seen_at.0)
        .bind(s.auth_time.0)
        .bind(s.acr.clone())
        .bind(to_json(&s.amr)?)
        .bind(s.user_agent.clone())
        .bind(s.source_ip.clone())
        .bind(s.expires_at.0)
        .bind(s.ended_at.map(|t| t.0))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The session a cookie secret belongs to, if it is still active.
    pub async fn active_session_by_secret(&self, secret_hash: &[u8], now: UnixTime) -> Result<Option<Session>> {
        let sql =
            format!("SELECT {COLUMNS} FROM sessions WHERE secret_hash = $1 AND ended_at IS NULL AND expires_at > $2");
        let row =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(secret_hash).bind(now.0).fetch_optional(&self.pool).await?;
        row.as_ref().map(from_row).transpose()
    }

    /// A user's sessions that are still active, newest first.
    pub async fn active_sessions_of_user(&self, user_id: &str, now: UnixTime) -> Result<Vec<Session>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM sessions WHERE user_id = $1 AND ended_at IS NULL AND expires_at > $2 \
             ORDER BY created_at DESC, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(user_id).bind(now.0).fetch_all(&self.pool).await?;
        rows.iter().map(from_row).collect()
    }

    pub async fn get_session(&self, id: &str) -> Result<Option<Session>> {
        let sql = format!("SELECT {COLUMNS} FROM sessions WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(from_row).transpose()
    }

    pub async fn touch_session(&self, id: &str, now: UnixTime) -> Result<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2")
            .bind(now.0)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn end_session(&self, id: &str, now: UnixTime) -> Result<bool> {
        let done = sqlx::query("UPDATE sessions SET ended_at = $1 WHERE id = $2 AND ended_at IS NULL")
            .bind(now.0)
            .bind(id)
            .execute(&self.pool)
            .await?;
        let ended = done.rows_affected() > 0;
        if ended {
            let change = crate::Change::SessionEnded { session_id: id.to_string() };
            crate::changes::append(&self.pool, &change, now).await?;
        }
        Ok(ended)
    }

    /// Forgets the user agent and source address of sessions started before
    /// `cutoff`, at most `batch` of them: kept to show people their
    /// sessions, not to track them.
    pub async fn forget_session_client_info(&self, cutoff: UnixTime, batch: i64) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE sessions SET user_agent = NULL, source_ip = NULL WHERE id IN \
             (SELECT id FROM sessions WHERE created_at < $1 AND (user_agent IS NOT NULL OR source_ip IS NOT NULL) LIMIT $2)",
        )
        .bind(cutoff.0)
        .bind(batch)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }
}
