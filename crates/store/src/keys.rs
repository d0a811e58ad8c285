//! Signing keys: private parts sealed by the caller, timelines in the clear
//! so every node (and the CLI) can reason about them without the master key.

use latchkey_domain::UnixTime;
use latchkey_domain::key_lifecycle::KeyTimeline;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::codec::parse;
use crate::{Result, Store, StoreError};

#[derive(Debug, Clone)]
pub struct StoredKey {
    pub timeline: KeyTimeline,
    /// PKCS#8 sealed under the master key with the kid as context.
    pub sealed_private_key: Vec<u8>,
}

fn from_row(r: &AnyRow) -> Result<StoredKey> {
    let opt = |name: &str| -> Result<Option<UnixTime>> { Ok(r.try_get::<Option<i64>, _>(name)?.map(UnixTime)) };
    Ok(StoredKey {
        timeline: KeyTimeline {
            kid: r.try_get("kid")?,
            alg: parse("alg", &r.try_get::<String, _>("alg")?)?,
            created_at: UnixTime(r.try_get("created_at")?),
            publish_at: UnixTime(r.try_get("publish_at")?),
            activate_at: UnixTime(r.try_get("activate_at")?),
            retire_at: opt("retire_at")?,
            unpublish_at: opt("unpublish_at")?,
            revoked_at: opt("revoked_at")?,
        },
        sealed_private_key: r.try_get("private_key")?,
    })
}

impl Store {
    pub async fn list_keys(&self) -> Result<Vec<StoredKey>> {
        let rows = sqlx::query(
            "SELECT kid, alg, private_key, created_at, publish_at, activate_at, retire_at, unpublish_at, revoked_at \
             FROM signing_keys ORDER BY created_at, kid",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Inserts `new` and rewrites the timelines of `changed` in one
    /// transaction, so a rotation is never half-applied.
    pub async fn apply_key_changes(&self, new: Option<&StoredKey>, changed: &[KeyTimeline]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        if let Some(k) = new {
            let t = &k.timeline;
            sqlx::query(
                "INSERT INTO signing_keys (kid, alg, private_key, created_at, publish_at, activate_at, retire_at, unpublish_at, revoked_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&t.kid)
            .bind(t.alg.as_str())
            .bind(&k.sealed_private_key)
            .bind(t.created_at.0)
            .bind(t.publish_at.0)
            .bind(t.activate_at.0)
            .bind(t.retire_at.map(|x| x.0))
            .bind(t.unpublish_at.map(|x| x.0))
            .bind(t.revoked_at.map(|x| x.0))
            .execute(&mut *tx)
            .await?;
        }
        for t in changed {
            let done = sqlx::query(
                "UPDATE signing_keys SET retire_at = $1, unpublish_at = $2, revoked_at = $3 WHERE kid = $4",
            )
            .bind(t.retire_at.map(|x| x.0))
            .bind(t.unpublish_at.map(|x| x.0))
            .bind(t.revoked_at.map(|x| x.0))
            .bind(&t.kid)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
        }
        // Every node re-reads its key set when it sees this.
        crate::changes::append(&mut *tx, &crate::Change::KeysChanged, latchkey_domain::UnixTime::now()).await?;
        tx.commit().await?;
        Ok(())
    }
}
