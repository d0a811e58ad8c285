//! Failed-login counters (see `latchkey_domain::throttle`), shared by every
//! node through the store so that spreading guesses over nodes gains
//! nothing.

use latchkey_domain::UnixTime;
use latchkey_domain::throttle::ThrottlePolicy;
use sqlx::Row;

use crate::{Result, Store};

impl Store {
    /// The latest instant until which any of `keys` must wait, if one must.
    pub async fn login_blocked_until(&self, keys: [&str; 2], now: UnixTime) -> Result<Option<UnixTime>> {
        let row = sqlx::query(
            "SELECT MAX(blocked_until) AS until FROM login_failures WHERE key IN ($1, $2) AND blocked_until > $3",
        )
        .bind(keys[0])
        .bind(keys[1])
        .bind(now.0)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get::<Option<i64>, _>("until")?.map(UnixTime))
    }

    /// Counts a failure for `key` and sets the pause the policy asks for.
    /// Concurrent failures may be counted one short, never lost wholesale.
    pub async fn record_login_failure(&self, key: &str, now: UnixTime, policy: &ThrottlePolicy) -> Result<()> {
        let window_cutoff = now.minus(policy.window).0;
        let row = sqlx::query(
            "INSERT INTO login_failures (key, failures, window_start, blocked_until, expires_at) VALUES ($1, 1, $2, 0, $3) \
             ON CONFLICT (key) DO UPDATE SET \
               failures = CASE WHEN login_failures.window_start < $4 THEN 1 ELSE login_failures.failures + 1 END, \
               window_start = CASE WHEN login_failures.window_start < $4 THEN $2 ELSE login_failures.window_start END \
             RETURNING failures, window_start",
        )
        .bind(key)
        .bind(now.0)
        .bind(now.plus(policy.window).0)
        .bind(window_cutoff)
        .fetch_one(&self.pool)
        .await?;
        let failures: i64 = row.try_get("failures")?;
        let window_start: i64 = row.try_get("window_start")?;
        let pause = policy.pause_after(u32::try_from(failures).unwrap_or(u32::MAX));
        let blocked_until = pause.map(|p| now.plus(p).0).unwrap_or(0);
        let expires_at = UnixTime(window_start).plus(policy.window).0.max(blocked_until);
        sqlx::query("UPDATE login_failures SET blocked_until = $1, expires_at = $2 WHERE key = $3")
            .bind(blocked_until)
            .bind(expires_at)
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// A successful login forgets the account's failures.
    pub async fn clear_login_failures(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM login_failures WHERE key = $1").bind(key).execute(&self.pool).await?;
        Ok(())
    }
}
