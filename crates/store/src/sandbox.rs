//! Who owns each self-service sandbox client (the portal). The client row
//! itself is an ordinary client with origin `sandbox`; deleting it removes
//! the ownership row by cascade.

use latchkey_domain::{Client, UnixTime};
use sqlx::Row;

use crate::{Result, Store, StoreError};

impl Store {
    /// Registers `client` for `owner` unless the owner already has `quota`
    /// clients (then `Ok(false)`). The count and the insert are one
    /// transaction; on PostgreSQL, concurrent registrations by the same
    /// owner may each see the old count, so the quota is a bound a careful
    /// developer cannot pass by accident, not a hard limit.
    pub async fn insert_sandbox_client(&self, client: &Client, owner: &str, quota: usize) -> Result<bool> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM sandbox_clients WHERE owner_id = $1")
            .bind(owner)
            .fetch_one(&self.pool)
            .await?;
        let n: i64 = row.try_get("n")?;
        if usize::try_from(n).unwrap_or(usize::MAX) >= quota {
            return Ok(false);
        }
        self.insert_client(client).await?;
        let inserted = sqlx::query("INSERT INTO sandbox_clients (client_id, owner_id, created_at) VALUES ($1, $2, $3)")
            .bind(&client.id)
            .bind(owner)
            .bind(UnixTime::now().0)
            .execute(&self.pool)
            .await;
        if let Err(e) = inserted {
            // Never leave an ownerless sandbox client behind.
            let _ = self.delete_client(&client.id).await;
            return Err(e.into());
        }
        Ok(true)
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
    /// (then `Ok(false)`).
    pub async fn insert_sandbox_user(&self, user: &latchkey_domain::User, owner: &str, quota: usize) -> Result<bool> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM sandbox_users WHERE owner_id = $1")
            .bind(owner)
            .fetch_one(&self.pool)
            .await?;
        let n: i64 = row.try_get("n")?;
        if usize::try_from(n).unwrap_or(usize::MAX) >= quota {
            return Ok(false);
        }
        self.insert_user(user).await?;
        let inserted = sqlx::query("INSERT INTO sandbox_users (user_id, owner_id, created_at) VALUES ($1, $2, $3)")
            .bind(&user.id)
            .bind(owner)
            .bind(UnixTime::now().0)
            .execute(&self.pool)
            .await;
        if let Err(e) = inserted {
            let _ = self.delete_user(&user.id).await;
            return Err(e.into());
        }
        Ok(true)
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
