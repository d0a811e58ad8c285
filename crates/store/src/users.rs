//! People who sign in.

use latchkey_domain::user::Origin;
use latchkey_domain::{UnixTime, User};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::codec::{flag_from_db, flag_to_db};
use crate::{Result, Store, StoreError};

const COLUMNS: &str =
    "id, username, email, email_verified, name, password_hash, disabled, origin, created_at, updated_at";

fn from_row(r: &AnyRow) -> Result<User> {
    let origin: String = r.try_get("origin")?;
    Ok(User {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        email: r.try_get("email")?,
        email_verified: flag_from_db(r.try_get("email_verified")?),
        name: r.try_get("name")?,
        password_hash: r.try_get("password_hash")?,
        disabled: flag_from_db(r.try_get("disabled")?),
        origin: Origin::parse(&origin).ok_or_else(|| StoreError::Corrupt(format!("user origin {origin:?}")))?,
        created_at: UnixTime(r.try_get("created_at")?),
        updated_at: UnixTime(r.try_get("updated_at")?),
    })
}

impl Store {
    /// Inserts a new user; `Conflict` if the id or username is taken.
    /// Whether a username is taken, ignoring case: sign-up must not create
    /// "Alice" beside "alice".
    pub async fn username_taken_ignoring_case(&self, username: &str) -> Result<bool> {
        let row = sqlx::query("SELECT id FROM users WHERE LOWER(username) = LOWER($1)")
            .bind(username)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    pub async fn insert_user(&self, u: &User) -> Result<()> {
        let sql = format!("INSERT INTO users ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&u.id)
            .bind(&u.username)
            .bind(u.email.clone())
            .bind(flag_to_db(u.email_verified))
            .bind(u.name.clone())
            .bind(u.password_hash.clone())
            .bind(flag_to_db(u.disabled))
            .bind(u.origin.as_str())
            .bind(u.created_at.0)
            .bind(u.updated_at.0)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Rewrites the profile fields of an existing user (keeps id and creation time).
    pub async fn update_user(&self, u: &User) -> Result<()> {
        let done = sqlx::query(
            "UPDATE users SET username = $1, email = $2, email_verified = $3, name = $4, password_hash = $5, \
             disabled = $6, origin = $7, updated_at = $8 WHERE id = $9",
        )
        .bind(&u.username)
        .bind(u.email.clone())
        .bind(flag_to_db(u.email_verified))
        .bind(u.name.clone())
        .bind(u.password_hash.clone())
        .bind(flag_to_db(u.disabled))
        .bind(u.origin.as_str())
        .bind(u.updated_at.0)
        .bind(&u.id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    pub async fn get_user_by_username(&self, username: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE username = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(username).fetch_optional(&self.pool).await?;
        row.as_ref().map(from_row).transpose()
    }

    pub async fn get_user(&self, id: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(from_row).transpose()
    }

    pub async fn list_users(&self) -> Result<Vec<User>> {
        let sql = format!("SELECT {COLUMNS} FROM users ORDER BY username");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
        rows.iter().map(from_row).collect()
    }

    pub async fn set_user_password_hash(&self, id: &str, hash: &str, now: UnixTime) -> Result<()> {
        let done = sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(hash)
            .bind(now.0)
            .bind(id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    pub async fn set_user_disabled(&self, id: &str, disabled: bool, now: UnixTime) -> Result<()> {
        let done = sqlx::query("UPDATE users SET disabled = $1, updated_at = $2 WHERE id = $3")
            .bind(flag_to_db(disabled))
            .bind(now.0)
            .bind(id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    /// Deletes a user and, by cascade, their sessions and grants; the
    /// sessions are announced as ended on the change feed so that no node
    /// keeps them alive in its cache. The sandbox clients and test users
    /// the user made on the portal go with them: nobody else could remove
    /// them.
    pub async fn delete_user(&self, id: &str) -> Result<()> {
        let owned_clients = sqlx::query("SELECT client_id FROM sandbox_clients WHERE owner_id = $1")
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
        let owned_users =
            sqlx::query("SELECT user_id FROM sandbox_users WHERE owner_id = $1").bind(id).fetch_all(&self.pool).await?;
        self.delete_user_row(id).await?;
        for r in owned_clients {
            match self.delete_client(&r.try_get::<String, _>("client_id")?).await {
                Ok(()) | Err(StoreError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        for r in owned_users {
            // Test users never own anything (the portal refuses them).
            match self.delete_user_row(&r.try_get::<String, _>("user_id")?).await {
                Ok(()) | Err(StoreError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    async fn delete_user_row(&self, id: &str) -> Result<()> {
        let now = UnixTime::now();
        let mut tx = self.pool.begin().await?;
        // A write first: on SQLite a transaction that reads and then writes
        // fails at once ("database is locked") if another connection wrote
        // in between; one that starts by writing waits its turn instead.
        let sessions =
            sqlx::query("UPDATE sessions SET ended_at = $1 WHERE user_id = $2 AND ended_at IS NULL RETURNING id")
                .bind(now.0)
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
        let done = sqlx::query("DELETE FROM users WHERE id = $1").bind(id).execute(&mut *tx).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        for r in sessions {
            let change = crate::Change::SessionEnded { session_id: r.try_get("id")? };
            crate::changes::append(&mut *tx, &change, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Removes the users of `origin` whose usernames are not in `keep`.
    pub async fn delete_users_of_origin_except(&self, origin: Origin, keep: &[String]) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT id, username FROM users WHERE origin = $1")
            .bind(origin.as_str())
            .fetch_all(&self.pool)
            .await?;
        let mut removed = Vec::new();
        for r in rows {
            let username: String = r.try_get("username")?;
            if !keep.contains(&username) {
                let id: String = r.try_get("id")?;
                self.delete_user(&id).await?;
                removed.push(username);
            }
        }
        Ok(removed)
    }
}
