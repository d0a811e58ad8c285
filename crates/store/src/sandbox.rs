//! Who owns each self-service sandbox client (the portal). The client row
//! itself is an ordinary client with origin `sandbox`; deleting it removes
//! the ownership row by cascade.

use latchkey_domain::{Client, UnixTime};
use sqlx::Row;

use crate::{Result, Store, StoreError};

impl Store {
    /// Registers `client` for `owner` unless the owner already has `quota`
    /// clients (then `Ok(false)`, and nothing stays stored).
    pub async fn insert_sandbox_client(&self, client: &Client, owner: &str, quota: usize) -> Result<bool> {
        // The client row first: the ownership row refers to it.
        self.insert_client(client).await?;
        match self.claim_slot("sandbox_clients", "client_id", &client.id, owner, quota).await {
            Ok(true) => Ok(true),
            Ok(false) => {
                self.delete_client(&client.id).await?;
                Ok(false)
            }
            Err(e) => {
                // Never leave an ownerless sandbox client behind.
                let _ = self.delete_client(&client.id).await;
                Err(e)
            }
        }
    }

    /// Records `id` as `owner`'s in `table` if the owner has fewer than
    /// `quota` rows there. One conditional INSERT, so the count and the
    /// write cannot interleave with another request's on SQLite (one
    /// writer); on PostgreSQL an advisory lock per owner serialises them.
    async fn claim_slot(&self, table: &str, column: &str, id: &str, owner: &str, quota: usize) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        if self.backend == crate::Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
                .bind(format!("sandbox-quota:{owner}"))
                .execute(&mut *tx)
                .await?;
        }
        let sql = format!(
            "INSERT INTO {table} ({column}, owner_id, created_at) SELECT $1, $2, $3 \
             WHERE (SELECT COUNT(*) FROM {table} WHERE owner_id = $4) < $5"
        );
        let done = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(owner)
            .bind(UnixTime::now().0)
            .bind(owner)
            .bind(i64::try_from(quota).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// The sandbox clients `owner` registered, oldest first.
    pub async fn sandbox_clients_of(&self, owner: &str) -> Result<Vec<Client>> {
        let rows =
            sqlx::query("SELECT client_id FROM sandbox_clients WHERE owner_id = $1 ORDER BY created_at, client_id")
                .bind(owner)
                .fetch_all(&self.pool)
                .await?;
        let mut clients = Vec::with_capacity(rows.len());
        for r in rows {
            let id: String = r.try_get("client_id")?;
            if let Some(c) = self.get_client(&id).await? {
                clients.push(c);
            }
        }
        Ok(clients)
    }

    /// The owner of a sandbox client, if it is one.
    pub async fn sandbox_client_owner(&self, client_id: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT owner_id FROM sandbox_clients WHERE client_id = $1")
            .bind(client_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get("owner_id")).transpose()?)
    }

    /// Deletes `client_id` if `owner` owns it; `NotFound` otherwise (the
    /// same answer whether it does not exist or is someone else's).
    pub async fn delete_sandbox_client(&self, owner: &str, client_id: &str) -> Result<()> {
        match self.sandbox_client_owner(client_id).await? {
            Some(o) if o == owner => self.delete_client(client_id).await,
            _ => Err(StoreError::NotFound),
        }
    }
}

impl Store {
    /// Creates a test user for `owner` unless they already have `quota`
    /// (then `Ok(false)`, and nothing stays stored).
    pub async fn insert_sandbox_user(&self, user: &latchkey_domain::User, owner: &str, quota: usize) -> Result<bool> {
        self.insert_user(user).await?;
        match self.claim_slot("sandbox_users", "user_id", &user.id, owner, quota).await {
            Ok(true) => Ok(true),
            Ok(false) => {
                self.delete_user(&user.id).await?;
                Ok(false)
            }
            Err(e) => {
                let _ = self.delete_user(&user.id).await;
                Err(e)
            }
        }
    }

    /// The test users `owner` made, oldest first.
    pub async fn sandbox_users_of(&self, owner: &str) -> Result<Vec<latchkey_domain::User>> {
        let rows = sqlx::query("SELECT user_id FROM sandbox_users WHERE owner_id = $1 ORDER BY created_at, user_id")
            .bind(owner)
            .fetch_all(&self.pool)
            .await?;
        let mut users = Vec::with_capacity(rows.len());
        for r in rows {
            let id: String = r.try_get("user_id")?;
            if let Some(u) = self.get_user(&id).await? {
                users.push(u);
            }
        }
        Ok(users)
    }

    /// Deletes a test user if `owner` made it; `NotFound` otherwise.
    pub async fn delete_sandbox_user(&self, owner: &str, user_id: &str) -> Result<()> {
        let row = sqlx::query("SELECT owner_id FROM sandbox_users WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        match row.map(|r| r.try_get::<String, _>("owner_id")).transpose()? {
            Some(o) if o == owner => self.delete_user(user_id).await,
            _ => Err(StoreError::NotFound),
        }
    }
}
