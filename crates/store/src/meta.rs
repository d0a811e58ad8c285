//! Small named values the server keeps about itself (the master-key check).

use sqlx::Row;

use crate::{Result, Store};

impl Store {
    pub async fn meta_get(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let row = sqlx::query("SELECT value FROM meta WHERE name = $1").bind(name).fetch_optional(&self.pool).await?;
        Ok(match row {
            Some(r) => Some(r.try_get("value")?),
            None => None,
        })
    }

    /// Stores `value` unless `name` exists; returns the value in force, so
    /// two nodes starting together agree on one.
    pub async fn meta_insert_if_absent(&self, name: &str, value: &[u8]) -> Result<Vec<u8>> {
        sqlx::query("INSERT INTO meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(value)
            .execute(&self.pool)
            .await?;
        self.meta_get(name).await?.ok_or(crate::StoreError::NotFound)
    }
}
