//! Authorization requests parked while the user signs in.

use latchkey_domain::UnixTime;
use sqlx::Row;

use crate::{Result, Store};

impl Store {
    pub async fn insert_auth_request(
        &self,
        id: &str,
        request_json: &str,
        now: UnixTime,
        expires_at: UnixTime,
    ) -> Result<()> {
        sqlx::query("INSERT INTO auth_requests (id, request, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(request_json)
            .bind(now.0)
            .bind(expires_at.0)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn get_auth_request(&self, id: &str, now: UnixTime) -> Result<Option<String>> {
        let row = sqlx::query("SELECT request FROM auth_requests WHERE id = $1 AND expires_at > $2")
            .bind(id)
            .bind(now.0)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => Some(r.try_get("request")?),
            None => None,
        })
    }

    /// Removes the request once it has been answered; true if this call
    /// removed it (so a double submit completes only once).
    pub async fn take_auth_request(&self, id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM auth_requests WHERE id = $1").bind(id).execute(&self.pool).await?;
        Ok(done.rows_affected() == 1)
    }
}
