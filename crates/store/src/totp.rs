//! TOTP credentials: sealed secrets and the last accepted time step.

use latchkey_domain::UnixTime;
use sqlx::Row;

use crate::codec::{flag_from_db, flag_to_db};
use crate::{Result, Store};

#[derive(Debug, Clone)]
pub struct TotpCredential {
    /// Sealed with the master key; only the server opens it.
    pub sealed_secret: Vec<u8>,
    pub confirmed: bool,
    pub last_step: i64,
}

impl Store {
    /// Starts an enrolment: a new, unconfirmed secret replaces any earlier
    /// one only once it is confirmed (see `confirm_totp`); until then a
    /// confirmed credential stays in force.
    pub async fn put_pending_totp(&self, user_id: &str, sealed: &[u8], now: UnixTime) -> Result<()> {
        sqlx::query(
            "INSERT INTO totp_credentials (user_id, secret, confirmed, last_step, created_at) VALUES ($1, $2, $3, -1, $4) \
             ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, confirmed = excluded.confirmed, \
             last_step = -1, created_at = excluded.created_at WHERE totp_credentials.confirmed = 0",
        )
        .bind(user_id)
        .bind(sealed)
        .bind(flag_to_db(false))
        .bind(now.0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn get_totp(&self, user_id: &str) -> Result<Option<TotpCredential>> {
        let row = sqlx::query("SELECT secret, confirmed, last_step FROM totp_credentials WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(TotpCredential {
                sealed_secret: r.try_get("secret")?,
                confirmed: flag_from_db(r.try_get("confirmed")?),
                last_step: r.try_get("last_step")?,
            })
        })
        .transpose()
    }

    /// Confirms the pending credential with the step of the code just
    /// checked (which is thereby used).
    pub async fn confirm_totp(&self, user_id: &str, step: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE totp_credentials SET confirmed = 1, last_step = $2 WHERE user_id = $1 AND confirmed = 0",
        )
        .bind(user_id)
        .bind(step)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Accepts `step` for the user once: false if it (or a later one) was
    /// already used. One statement, so two concurrent uses cannot both pass.
    pub async fn use_totp_step(&self, user_id: &str, step: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE totp_credentials SET last_step = $2 WHERE user_id = $1 AND confirmed = 1 AND last_step < $2",
        )
        .bind(user_id)
        .bind(step)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Removes a user's second factor (an administrator's reset, e.g. a
    /// lost phone); whether there was one.
    pub async fn delete_totp(&self, user_id: &str) -> Result<bool> {
        let done =
            sqlx::query("DELETE FROM totp_credentials WHERE user_id = $1").bind(user_id).execute(&self.pool).await?;
        Ok(done.rows_affected() > 0)
    }
}
