//! Grants and the things that may be used once: authorization codes,
//! refresh tokens and client-assertion `jti`s. Each is consumed by one
//! atomic statement, so two concurrent uses can never both succeed, on
//! either backend.

use latchkey_domain::UnixTime;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::codec::{from_json, to_json};
use crate::{Result, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsumeOutcome<T> {
    /// First use: here is what the item was bound to.
    Consumed(T),
    /// Used before (at `used_at`). Carries the grant it belongs to, so the
    /// caller can revoke what the first use issued (RFC 6749 §4.1.2,
    /// RFC 9700 §4.14.2), and the successor a refresh token was replaced by.
    Replayed {
        grant_id: String,
        used_at: UnixTime,
        successor: Option<Vec<u8>>,
    },
    Expired,
    Unknown,
}

/// One authorization of a client: consent plus its refresh-token family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub id: String,
    pub user_id: Option<String>,
    pub client_id: String,
    pub session_id: Option<String>,
    pub scopes: String,
    pub auth_time: Option<UnixTime>,
    pub acr: Option<String>,
    pub amr: Vec<String>,
    pub resource: Option<String>,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
    pub revoked_at: Option<UnixTime>,
}

impl Grant {
    pub fn is_active(&self, now: UnixTime) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
}

fn grant_from_row(r: &AnyRow) -> Result<Grant> {
    Ok(Grant {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        client_id: r.try_get("client_id")?,
        session_id: r.try_get("session_id")?,
        scopes: r.try_get("scopes")?,
        auth_time: r.try_get::<Option<i64>, _>("auth_time")?.map(UnixTime),
        acr: r.try_get("acr")?,
        amr: from_json("amr", &r.try_get::<String, _>("amr")?)?,
        resource: r.try_get("resource")?,
        created_at: UnixTime(r.try_get("created_at")?),
        expires_at: UnixTime(r.try_get("expires_at")?),
        revoked_at: r.try_get::<Option<i64>, _>("revoked_at")?.map(UnixTime),
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTokenInfo {
    pub grant_id: String,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
    pub used: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeekedCode {
    pub client_id: String,
    pub grant_id: String,
    pub binding: String,
    pub expires_at: UnixTime,
    pub used: bool,
}

/// A refresh token to store, with the access token issued beside it (so
/// that revoking the family revokes that access token too).
#[derive(Debug, Clone)]
pub struct NewRefreshToken {
    pub token_hash: Vec<u8>,
    pub grant_id: String,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
    pub access_jti: Option<String>,
    pub access_expires_at: Option<UnixTime>,
}

impl Store {
    pub async fn insert_grant(&self, g: &Grant) -> Result<()> {
        sqlx::query(
            "INSERT INTO grants (id, user_id, client_id, session_id, scopes, auth_time, acr, amr, resource, created_at, last_used_at, expires_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12)",
        )
        .bind(&g.id)
        .bind(g.user_id.clone())
        .bind(&g.client_id)
        .bind(g.session_id.clone())
        .bind(&g.scopes)
        .bind(g.auth_time.map(|t| t.0))
        .bind(g.acr.clone())
        .bind(to_json(&g.amr)?)
        .bind(g.resource.clone())
        .bind(g.created_at.0)
        .bind(g.expires_at.0)
        .bind(g.revoked_at.map(|t| t.0))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn get_grant(&self, id: &str) -> Result<Option<Grant>> {
        let row = sqlx::query(
            "SELECT id, user_id, client_id, session_id, scopes, auth_time, acr, amr, resource, created_at, expires_at, revoked_at FROM grants WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(grant_from_row).transpose()
    }

    /// Revokes a grant and everything it issued: its refresh tokens are
    /// deleted and the access tokens recorded beside them and beside its
    /// code are added to the revoked list, in one transaction. Returns
    /// whether it was active before.
    pub async fn revoke_grant(&self, grant_id: &str, now: UnixTime) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("UPDATE grants SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now.0)
            .bind(grant_id)
            .execute(&mut *tx)
            .await?;
        // Every access token recorded beside the grant's refresh tokens and
        // code: denied until expiry, and announced on the change feed.
        for table in ["refresh_tokens", "authorization_codes"] {
            let sql = format!(
                "SELECT access_jti, access_expires_at FROM {table} \
                 WHERE grant_id = $1 AND access_jti IS NOT NULL AND access_expires_at > $2"
            );
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(grant_id).bind(now.0).fetch_all(&mut *tx).await?;
            for r in rows {
                let jti: String = r.try_get("access_jti")?;
                let expires_at: i64 = r.try_get("access_expires_at")?;
                insert_revoked(&mut tx, &jti, expires_at, now).await?;
            }
        }
        sqlx::query("DELETE FROM refresh_tokens WHERE grant_id = $1").bind(grant_id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// A user's active grants (every client), newest first.
    pub async fn active_grants_of_user(&self, user_id: &str, now: UnixTime) -> Result<Vec<Grant>> {
        let rows = sqlx::query(
            "SELECT id, user_id, client_id, session_id, scopes, auth_time, acr, amr, resource, created_at, expires_at, revoked_at \
             FROM grants WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at DESC, id",
        )
        .bind(user_id)
        .bind(now.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(grant_from_row).collect()
    }

    /// The active grants issued in a browser session (logout revokes them).
    pub async fn active_grants_of_session(&self, session_id: &str, now: UnixTime) -> Result<Vec<Grant>> {
        let rows = sqlx::query(
            "SELECT id, user_id, client_id, session_id, scopes, auth_time, acr, amr, resource, created_at, expires_at, revoked_at \
             FROM grants WHERE session_id = $1 AND revoked_at IS NULL AND expires_at > $2",
        )
        .bind(session_id)
        .bind(now.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(grant_from_row).collect()
    }

    /// Step-up replaces a session: its grants move to the new one, so that
    /// logging out of the new session still revokes them.
    pub async fn move_session_grants(&self, from: &str, to: &str) -> Result<()> {
        sqlx::query("UPDATE grants SET session_id = $1 WHERE session_id = $2")
            .bind(to)
            .bind(from)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn grant_is_active(&self, grant_id: &str, now: UnixTime) -> Result<bool> {
        Ok(self.get_grant(grant_id).await?.is_some_and(|g| g.is_active(now)))
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
    /// A code as stored, without consuming it: so that everything that can
    /// be checked (PKCE, redirect URI, client) is checked before the code is
    /// spent, and a request that fails those checks cannot burn it.
    pub async fn peek_authorization_code(&self, code_hash: &[u8]) -> Result<Option<PeekedCode>> {
        let row = sqlx::query(
            "SELECT client_id, grant_id, binding, expires_at, used_at FROM authorization_codes WHERE code_hash = $1",
        )
        .bind(code_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| -> Result<PeekedCode> {
            Ok(PeekedCode {
                client_id: r.try_get("client_id")?,
                grant_id: r.try_get("grant_id")?,
                binding: r.try_get("binding")?,
                expires_at: UnixTime(r.try_get("expires_at")?),
                used: r.try_get::<Option<i64>, _>("used_at")?.is_some(),
            })
        })
        .transpose()
    }

    /// A code presented by another client than its own is not consumed
    /// (so a thief cannot burn it) and reads as unknown.
    pub async fn consume_authorization_code(
        &self,
        code_hash: &[u8],
        client_id: &str,
        now: UnixTime,
    ) -> Result<ConsumeOutcome<(String, String, String)>> {
        let row = sqlx::query(
            "UPDATE authorization_codes SET used_at = $1 \
             WHERE code_hash = $2 AND client_id = $3 AND used_at IS NULL AND expires_at > $1 \
             RETURNING client_id, grant_id, binding",
        )
        .bind(now.0)
        .bind(code_hash)
        .bind(client_id)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(r) = row {
            return Ok(ConsumeOutcome::Consumed((
                r.try_get("client_id")?,
                r.try_get("grant_id")?,
                r.try_get("binding")?,
            )));
        }
        let row = sqlx::query("SELECT client_id, grant_id, used_at FROM authorization_codes WHERE code_hash = $1")
            .bind(code_hash)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            None => ConsumeOutcome::Unknown,
            Some(r)
                if r.try_get::<Option<i64>, _>("used_at")?.is_none()
                    && r.try_get::<String, _>("client_id")? != client_id =>
            {
                ConsumeOutcome::Unknown
            }
            Some(r) => match r.try_get::<Option<i64>, _>("used_at")? {
                Some(used_at) => ConsumeOutcome::Replayed {
                    grant_id: r.try_get("grant_id")?,
                    used_at: UnixTime(used_at),
                    successor: None,
                },
                None => ConsumeOutcome::Expired,
            },
        })
    }

    /// Records what a code's redemption issued: the access token (revoked
    /// with the grant if the code is replayed) and the first refresh token.
    /// Returns false if the grant was revoked meanwhile (a concurrent
    /// replay): then the access token is revoked at once and no refresh
    /// token is stored.
    pub async fn record_code_issuance(
        &self,
        code_hash: &[u8],
        grant_id: &str,
        access_jti: &str,
        access_expires_at: UnixTime,
        refresh: Option<&NewRefreshToken>,
        now: UnixTime,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let active = lock_active_grant(&mut tx, grant_id, now).await?;
        sqlx::query("UPDATE authorization_codes SET access_jti = $1, access_expires_at = $2 WHERE code_hash = $3")
            .bind(access_jti)
            .bind(access_expires_at.0)
            .bind(code_hash)
            .execute(&mut *tx)
            .await?;
        if active {
            if let Some(t) = refresh {
                insert_refresh(&mut tx, t).await?;
            }
        } else {
            revoke_in(&mut tx, access_jti, access_expires_at, now).await?;
        }
        tx.commit().await?;
        Ok(active)
    }

    pub async fn insert_refresh_token(&self, t: &NewRefreshToken) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        insert_refresh(&mut tx, t).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The grant a refresh token belongs to, without spending it: so that
    /// a request the grant refuses (wrong client, wider scope) does not burn
    /// the token.
    pub async fn refresh_token_grant(&self, token_hash: &[u8]) -> Result<Option<String>> {
        let row = sqlx::query("SELECT grant_id FROM refresh_tokens WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => Some(r.try_get("grant_id")?),
            None => None,
        })
    }

    /// What introspection may say about a refresh token.
    pub async fn refresh_token_info(&self, token_hash: &[u8]) -> Result<Option<RefreshTokenInfo>> {
        let row =
            sqlx::query("SELECT grant_id, created_at, expires_at, used_at FROM refresh_tokens WHERE token_hash = $1")
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|r| -> Result<RefreshTokenInfo> {
            Ok(RefreshTokenInfo {
                grant_id: r.try_get("grant_id")?,
                created_at: UnixTime(r.try_get("created_at")?),
                expires_at: UnixTime(r.try_get("expires_at")?),
                used: r.try_get::<Option<i64>, _>("used_at")?.is_some(),
            })
        })
        .transpose()
    }

    /// Spends a refresh token; returns its grant on first use. A spent token
    /// presented again is `Replayed`: rotation's reuse detection.
    pub async fn consume_refresh_token(&self, token_hash: &[u8], now: UnixTime) -> Result<ConsumeOutcome<String>> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "UPDATE refresh_tokens SET used_at = $1 \
             WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 \
             RETURNING grant_id",
        )
        .bind(now.0)
        .bind(token_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let outcome = match row {
            Some(r) => ConsumeOutcome::Consumed(r.try_get("grant_id")?),
            None => classify_unusable(&mut tx, token_hash).await?,
        };
        tx.commit().await?;
        Ok(outcome)
    }

    /// Rotates a refresh token in one transaction: marks `spent_hash` used
    /// and stores `successor` as its replacement, or nothing at all. One
    /// transaction matters for crashes: a node killed between "spent" and
    /// "successor stored" would leave a client whose answer was lost unable
    /// to retry within its grace window (no successor to replace), and its
    /// retry would look like reuse.
    ///
    /// `Consumed(false)` if the grant was revoked meanwhile (a concurrent
    /// reuse revoked the family): the token is spent, the successor is not
    /// stored, and its access token is revoked at once.
    pub async fn rotate_refresh_token(
        &self,
        spent_hash: &[u8],
        successor: &NewRefreshToken,
        now: UnixTime,
    ) -> Result<ConsumeOutcome<bool>> {
        let mut tx = self.pool.begin().await?;
        // The grant first: the same lock order as every other writer of a
        // grant's tokens, so concurrent rotations and revocations queue.
        let active = lock_active_grant(&mut tx, &successor.grant_id, now).await?;
        let spent = sqlx::query(
            "UPDATE refresh_tokens SET used_at = $1 \
             WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1",
        )
        .bind(now.0)
        .bind(spent_hash)
        .execute(&mut *tx)
        .await?;
        if spent.rows_affected() == 0 {
            // Nothing to rotate: say why, and change nothing.
            let outcome = classify_unusable(&mut tx, spent_hash).await?;
            tx.rollback().await?;
            return Ok(outcome);
        }
        if active {
            insert_refresh(&mut tx, successor).await?;
            sqlx::query("UPDATE refresh_tokens SET replaced_by = $1 WHERE token_hash = $2")
                .bind(&successor.token_hash)
                .bind(spent_hash)
                .execute(&mut *tx)
                .await?;
        } else if let (Some(jti), Some(exp)) = (&successor.access_jti, successor.access_expires_at) {
            revoke_in(&mut tx, jti, exp, now).await?;
        }
        tx.commit().await?;
        Ok(ConsumeOutcome::Consumed(active))
    }

    /// The grace-window path: replaces the unused successor of `spent_hash`
    /// with `fresh`, revoking the successor and its access token. Fails with
    /// `NotFound` if the successor was used meanwhile (then the family must
    /// be revoked instead).
    pub async fn replace_refresh_successor(
        &self,
        spent_hash: &[u8],
        old_successor: &[u8],
        fresh: &NewRefreshToken,
        now: UnixTime,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        if !lock_active_grant(&mut tx, &fresh.grant_id, now).await? {
            return Err(StoreError::NotFound);
        }
        let gone = sqlx::query(
            "DELETE FROM refresh_tokens WHERE token_hash = $1 AND used_at IS NULL RETURNING access_jti, access_expires_at",
        )
        .bind(old_successor)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(gone) = gone else {
            return Err(StoreError::NotFound);
        };
        let jti: Option<String> = gone.try_get("access_jti")?;
        let exp: Option<i64> = gone.try_get("access_expires_at")?;
        if let (Some(jti), Some(exp)) = (jti, exp) {
            insert_revoked(&mut tx, &jti, exp, now).await?;
        }
        insert_refresh(&mut tx, fresh).await?;
        sqlx::query("UPDATE refresh_tokens SET replaced_by = $1 WHERE token_hash = $2")
            .bind(&fresh.token_hash)
            .bind(spent_hash)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
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
        let mut tx = self.pool.begin().await?;
        insert_revoked(&mut tx, jti, expires_at.0, now).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn is_jti_revoked(&self, jti: &str) -> Result<bool> {
        let row =
            sqlx::query("SELECT jti FROM revoked_tokens WHERE jti = $1").bind(jti).fetch_optional(&self.pool).await?;
        Ok(row.is_some())
    }
}

type Tx<'a> = sqlx::Transaction<'a, sqlx::Any>;

/// Adds a JWT id to the revoked list and, the first time, to the change
/// feed, in the caller's transaction.
async fn insert_revoked(tx: &mut Tx<'_>, jti: &str, expires_at: i64, now: UnixTime) -> Result<()> {
    let done = sqlx::query(
        "INSERT INTO revoked_tokens (jti, expires_at, revoked_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(jti)
    .bind(expires_at)
    .bind(now.0)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() > 0 {
        let change = crate::Change::TokenRevoked { jti: jti.to_string(), expires_at };
        crate::changes::append(&mut **tx, &change, now).await?;
    }
    Ok(())
}

/// Locks the grant row (PostgreSQL row lock; SQLite's single writer) and
/// says whether it is still active. A concurrent `revoke_grant` therefore
/// either sees what this transaction stores, or this transaction sees the
/// revocation: nothing issued slips between the two.
async fn lock_active_grant(tx: &mut Tx<'_>, grant_id: &str, now: UnixTime) -> Result<bool> {
    let done = sqlx::query("UPDATE grants SET last_used_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now.0)
        .bind(grant_id)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Why a refresh token could not be spent: unknown, spent before (with
/// when and its successor), or expired.
async fn classify_unusable<T>(tx: &mut Tx<'_>, token_hash: &[u8]) -> Result<ConsumeOutcome<T>> {
    let row = sqlx::query("SELECT grant_id, used_at, replaced_by FROM refresh_tokens WHERE token_hash = $1")
        .bind(token_hash)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(match row {
        None => ConsumeOutcome::Unknown,
        Some(r) => match r.try_get::<Option<i64>, _>("used_at")? {
            Some(used_at) => ConsumeOutcome::Replayed {
                grant_id: r.try_get("grant_id")?,
                used_at: UnixTime(used_at),
                successor: r.try_get("replaced_by")?,
            },
            None => ConsumeOutcome::Expired,
        },
    })
}

async fn insert_refresh(tx: &mut Tx<'_>, t: &NewRefreshToken) -> Result<()> {
    sqlx::query(
        "INSERT INTO refresh_tokens (token_hash, grant_id, created_at, expires_at, access_jti, access_expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&t.token_hash)
    .bind(&t.grant_id)
    .bind(t.created_at.0)
    .bind(t.expires_at.0)
    .bind(t.access_jti.clone())
    .bind(t.access_expires_at.map(|x| x.0))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn revoke_in(tx: &mut Tx<'_>, jti: &str, expires_at: UnixTime, now: UnixTime) -> Result<()> {
    insert_revoked(tx, jti, expires_at.0, now).await
}
