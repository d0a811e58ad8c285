//! Things that may be used once: authorization codes, refresh tokens and
//! client-assertion `jti`s. Each is consumed by one atomic statement, so two
//! concurrent uses can never both succeed, on either backend.

use latchkey_domain::UnixTime;
use sqlx::Row;

use crate::{Result, Store};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsumeOutcome<T> {
    /// First use: here is what the item was bound to.
    Consumed(T),
    /// Used before. Carries the grant it belongs to, so the caller can revoke
    /// what the first use issued (RFC 6749 §4.1.2, RFC 9700 §4.14.2).
    Replayed {
        grant_id: String,
    },
    Expired,
    Unknown,
}

#[derive(Debug, Clone)]
pub struct NewGrant {
    pub id: String,
    pub user_id: Option<String>,
    pub client_id: String,
    pub session_id: Option<String>,
    pub scopes: String,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
}

impl Store {
    pub async fn insert_grant(&self, g: &NewGrant) -> Result<()> {
        sqlx::query(
            "INSERT INTO grants (id, user_id, client_id, session_id, scopes, created_at, last_used_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6, $7)",
        )
        .bind(&g.id)
        .bind(g.user_id.clone())
        .bind(&g.client_id)
        .bind(g.session_id.clone())
        .bind(&g.scopes)
        .bind(g.created_at.0)
        .bind(g.expires_at.0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Revokes a grant and deletes its refresh tokens. Returns whether it
    /// was active before.
    pub async fn revoke_grant(&self, grant_id: &str, now: UnixTime) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("UPDATE grants SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now.0)
            .bind(grant_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM refresh_tokens WHERE grant_id = $1").bind(grant_id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn grant_is_active(&self, grant_id: &str, now: UnixTime) -> Result<bool> {
        let row = sqlx::query("SELECT id FROM grants WHERE id = $1 AND revoked_at IS NULL AND expires_at > $2")
            .bind(grant_id)
            .bind(now.0)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    pub async fn insert_authorization_code(
        &self,
        code_hash: &[u8],
        client_id: &str,
        grant_id: &str,
        binding_json: &str,
        now: UnixTime,
        expires_at: UnixTime,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO authorization_codes (code_hash, client_id, grant_id, binding, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(code_hash)
        .bind(client_id)
        .bind(grant_id)
        .bind(binding_json)
        .bind(now.0)
        .bind(expires_at.0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Marks the code used and returns (client id, grant id, binding) on
    /// first use. The used row is kept until it expires so that a replay is
    /// recognised as one.
    pub async fn consume_authorization_code(
        &self,
        code_hash: &[u8],
        now: UnixTime,
    ) -> Result<ConsumeOutcome<(String, String, String)>> {
        let row = sqlx::query(
            "UPDATE authorization_codes SET used_at = $1 \
             WHERE code_hash = $2 AND used_at IS NULL AND expires_at > $1 \
             RETURNING client_id, grant_id, binding",
        )
        .bind(now.0)
        .bind(code_hash)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(r) = row {
            return Ok(ConsumeOutcome::Consumed((
                r.try_get("client_id")?,
                r.try_get("grant_id")?,
                r.try_get("binding")?,
            )));
        }
        let row = sqlx::query("SELECT grant_id, used_at FROM authorization_codes WHERE code_hash = $1")
            .bind(code_hash)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            None => ConsumeOutcome::Unknown,
            Some(r) if r.try_get::<Option<i64>, _>("used_at")?.is_some() => {
                ConsumeOutcome::Replayed { grant_id: r.try_get("grant_id")? }
            }
            Some(_) => ConsumeOutcome::Expired,
        })
    }

    pub async fn insert_refresh_token(
        &self,
        token_hash: &[u8],
        grant_id: &str,
        now: UnixTime,
        expires_at: UnixTime,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, grant_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(grant_id)
        .bind(now.0)
        .bind(expires_at.0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Spends a refresh token; returns its grant on first use. A spent token
    /// presented again is `Replayed`: rotation's reuse detection.
    pub async fn consume_refresh_token(&self, token_hash: &[u8], now: UnixTime) -> Result<ConsumeOutcome<String>> {
        let row = sqlx::query(
            "UPDATE refresh_tokens SET used_at = $1 \
             WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 \
             RETURNING grant_id",
        )
        .bind(now.0)
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(r) = row {
            return Ok(ConsumeOutcome::Consumed(r.try_get("grant_id")?));
        }
        let row = sqlx::query("SELECT grant_id, used_at FROM refresh_tokens WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            None => ConsumeOutcome::Unknown,
            Some(r) if r.try_get::<Option<i64>, _>("used_at")?.is_some() => {
                ConsumeOutcome::Replayed { grant_id: r.try_get("grant_id")? }
            }
            Some(_) => ConsumeOutcome::Expired,
        })
    }

    /// Records a `jti` from `issuer`; true on first sight, false on replay.
    pub async fn consume_jti(&self, issuer: &str, jti: &str, expires_at: UnixTime) -> Result<bool> {
        let done =
            sqlx::query("INSERT INTO used_jtis (issuer, jti, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(issuer)
                .bind(jti)
                .bind(expires_at.0)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Revokes a JWT by id until it would have expired anyway.
    pub async fn revoke_jti(&self, jti: &str, expires_at: UnixTime, now: UnixTime) -> Result<()> {
        sqlx::query(
            "INSERT INTO revoked_tokens (jti, expires_at, revoked_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(jti)
        .bind(expires_at.0)
        .bind(now.0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn is_jti_revoked(&self, jti: &str) -> Result<bool> {
        let row =
            sqlx::query("SELECT jti FROM revoked_tokens WHERE jti = $1").bind(jti).fetch_optional(&self.pool).await?;
        Ok(row.is_some())
    }
}
