//! Consent: the scopes a user allowed a client, remembered per pair.

use latchkey_domain::UnixTime;
use sqlx::Row;

use crate::{Result, Store};

impl Store {
    /// The scopes (space-separated) the user has allowed the client.
    pub async fn get_consent(&self, user_id: &str, client_id: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT scopes FROM consents WHERE user_id = $1 AND client_id = $2")
            .bind(user_id)
            .bind(client_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => Some(r.try_get("scopes")?),
            None => None,
        })
    }

    /// Records `scopes` (the caller passes the union with what was allowed before).
    pub async fn put_consent(&self, user_id: &str, client_id: &str, scopes: &str, now: UnixTime) -> Result<()> {
        sqlx::query(
            "INSERT INTO consents (user_id, client_id, scopes, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) \
             ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = excluded.scopes, updated_at = excluded.updated_at",
        )
        .bind(user_id)
        .bind(client_id)
        .bind(scopes)
        .bind(now.0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every client the user has consented to: (client id, scopes, created, updated).
    pub async fn consents_of_user(&self, user_id: &str) -> Result<Vec<(String, String, UnixTime, UnixTime)>> {
        let rows = sqlx::query(
            "SELECT client_id, scopes, created_at, updated_at FROM consents WHERE user_id = $1 ORDER BY client_id",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("client_id")?,
                    r.try_get("scopes")?,
                    UnixTime(r.try_get("created_at")?),
                    UnixTime(r.try_get("updated_at")?),
                ))
            })
            .collect()
    }

    /// Forgets a consent; whether there was one.
    pub async fn delete_consent(&self, user_id: &str, client_id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM consents WHERE user_id = $1 AND client_id = $2")
            .bind(user_id)
            .bind(client_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
