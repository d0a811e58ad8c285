//! Latchkey's persistence: one query layer over SQLite (the embedded default)
//! and PostgreSQL (several nodes). Queries are written once in portable SQL
//! (`$n` placeholders, `RETURNING`, `ON CONFLICT`, times as BIGINT seconds)
//! and run through sqlx's `Any` driver; only the migrations differ.
//!
//! Architecture invariant: this crate speaks the domain's types and returns
//! [`StoreError`]; no HTTP type ever appears here.

mod audit;
mod auth_requests;
mod authz;
mod changes;
mod clients;
mod codec;
mod consents;
mod keys;
mod meta;
mod resources;
mod sandbox;
mod sessions;
mod single_use;
mod sweep;
mod throttle;
mod totp;
mod users;

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

pub use audit::AuditQuery;
pub use authz::{Capability, ParentRef, PolicyVersion, SignalMerge, StoredEntity};
pub use changes::{CHANGE_CHANNEL, Change, ChangeListener, REREAD_WINDOW};
pub use keys::StoredKey;
pub use sessions::Session;
pub use single_use::{ConsumeOutcome, Grant, NewRefreshToken, PeekedCode, RefreshTokenInfo};
pub use sweep::SweepReport;
pub use totp::TotpCredential;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("already exists: {0}")]
    Conflict(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("unsupported database URL {0:?}: use sqlite:PATH or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
    #[error("cannot reach the database at {url}: {source}")]
    Unreachable { url: String, source: sqlx::Error },
    #[error("migrating the database schema failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(db.message().to_string()),
            _ => StoreError::Database(e),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl(redact_url(url)))
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The URL with any password replaced, for logs and error messages.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("redacted"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub max_connections: u32,
    pub connect_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions { max_connections: 16, connect_timeout: Duration::from_secs(5) }
    }
}

/// A handle on the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// For PostgreSQL's LISTEN connection (never printed).
    url: Redacted,
}

#[derive(Clone)]
struct Redacted(String);

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact_url(&self.0))
    }
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Connects and applies the embedded migrations.
    pub async fn connect(url: &str, options: &StoreOptions) -> Result<Store> {
        install_default_drivers();
        let backend = Backend::from_url(url)?;
        let mut pool_options =
            AnyPoolOptions::new().max_connections(options.max_connections).acquire_timeout(options.connect_timeout);
        let url = match backend {
            Backend::Sqlite => {
                // Why these pragmas: WAL lets readers run beside the single
                // writer; busy_timeout makes a concurrent writer wait instead
                // of failing; foreign keys are off by default in SQLite.
                pool_options = pool_options.after_connect(|conn, _meta| {
                    Box::pin(async move {
                        conn.execute(
                            "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL;",
                        )
                        .await?;
                        Ok(())
                    })
                });
                if url.contains('?') { url.to_string() } else { format!("{url}?mode=rwc") }
            }
            Backend::Postgres => url.to_string(),
        };
        let pool = pool_options
            .connect(&url)
            .await
            .map_err(|source| StoreError::Unreachable { url: redact_url(&url), source })?;
        if backend == Backend::Sqlite {
            pool.execute("PRAGMA journal_mode = WAL;").await?;
        }
        let store = Store { pool, backend, url: Redacted(url) };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<()> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// For readiness checks: one round trip.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// (connections open, connections idle, maximum), for metrics.
    pub fn pool_usage(&self) -> (u32, u32, u32) {
        let size = self.pool.size();
        let idle = u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX);
        (size, idle, self.pool.options().get_max_connections())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}
