//! Test kit: starts a real Latchkey server on `127.0.0.1:0` over a fresh
//! SQLite directory or a fresh PostgreSQL database, and hands back a typed
//! client. Every black-box test goes through here.
//!
//! PostgreSQL tests need `LATCHKEY_TEST_DATABASE_URL` (a database the tests
//! may connect to in order to create their own); without it they skip with
//! a message, and `.ci/run` always sets it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use latchkey_domain::EventSink;
use latchkey_domain::event::MemorySink;
use latchkey_server::config::{Config, Overrides};
use latchkey_server::{AppState, Server};
use latchkey_store::{Store, StoreOptions};
use sqlx::Connection;

pub mod browser;
pub mod receiver;

pub const PG_ENV: &str = "LATCHKEY_TEST_DATABASE_URL";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub const BOTH: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];

/// A database of its own for one test; dropped (with `FORCE`) when this
/// value is dropped, so tests never see each other's rows.
pub struct TestDatabase {
    pub url: String,
    pg: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    /// `None` when PostgreSQL is asked for but not configured (the test
    /// should return early; a message says why).
    pub async fn create(backend: Backend, dir: &Path) -> Result<Option<TestDatabase>> {
        match backend {
            Backend::Sqlite => Ok(Some(TestDatabase {
                url: format!("sqlite://{}", dir.join("latchkey.db").display()),
                pg: None,
                _dir: None,
            })),
            Backend::Postgres => {
                let Ok(admin_url) = std::env::var(PG_ENV) else {
                    eprintln!(
                        "skipping the PostgreSQL variant: set {PG_ENV} (e.g. postgres://postgres@127.0.0.1:5432/test) to run it"
                    );
                    return Ok(None);
                };
                let name = format!("latchkey_test_{}", latchkey_crypto::random::id());
                let mut conn = sqlx::PgConnection::connect(&admin_url)
                    .await
                    .context("connecting to LATCHKEY_TEST_DATABASE_URL")?;
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut conn).await?;
                conn.close().await?;
                let mut url = url::Url::parse(&admin_url)?;
                url.set_path(&name);
                Ok(Some(TestDatabase { url: url.to_string(), pg: Some((admin_url, name)), _dir: None }))
            }
        }
    }

    pub async fn store(&self) -> Result<Store> {
        Ok(Store::connect(&self.url, &StoreOptions::default()).await?)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.pg.take() {
            // Drop may run inside a runtime: do the async work on a thread
            // of its own and wait for it.
            let _ = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
                rt.block_on(async move {
                    if let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url).await {
                        let _ =
                            sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                                .execute(&mut conn)
                                .await;
                    }
                });
            })
            .join();
        }
    }
}

/// Everything a test server is started from; restart with the same
/// `Setup` to test persistence.
pub struct Setup {
    pub backend: Backend,
    pub dir: tempfile::TempDir,
    pub database: TestDatabase,
    pub master_key: String,
    pub admin_key: Option<String>,
    pub toml: String,
    pub env: HashMap<String, String>,
    pub issuer: Option<String>,
    pub dev: bool,
    /// Where `toml` came from: relative paths in it are read from there.
    pub config_file: Option<PathBuf>,
}

pub const TEST_ADMIN_KEY: &str = "test-admin-key-0123456789abcdefghijklmnopqrstuvwxyzABCDEF";

impl Setup {
    /// `None` if the backend is not available here (PostgreSQL unset).
    pub async fn new(backend: Backend) -> Result<Option<Setup>> {
        let dir = tempfile::tempdir()?;
        let Some(database) = TestDatabase::create(backend, dir.path()).await? else {
            return Ok(None);
        };
        Ok(Some(Setup {
            backend,
            dir,
            database,
            master_key: latchkey_crypto::MasterKey::generate_text(),
            admin_key: Some(TEST_ADMIN_KEY.to_string()),
            toml: String::new(),
            env: HashMap::new(),
            issuer: None,
            dev: false,
            config_file: None,
        }))
    }

    pub fn with_toml(mut self, toml: &str) -> Self {
        self.toml = toml.to_string();
        self
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    pub fn config(&self) -> Result<Config> {
        let overrides = Overrides {
            listen: Some("127.0.0.1:0".into()),
            data_dir: Some(self.data_dir()),
            database_url: Some(self.database.url.clone()),
            master_key: Some(self.master_key.clone()),
            admin_key: self.admin_key.clone(),
            issuer: self.issuer.clone(),
            dev: self.dev,
            config_file: self.config_file.clone(),
            ..Overrides::default()
        };
        Ok(Config::from_toml(&self.toml, &overrides, &self.env)?)
    }

    pub async fn start(&self) -> Result<TestServer> {
        TestServer::start_with(self.config()?).await
    }
}

/// A running server and an HTTP client for it.
pub struct TestServer {
    pub base_url: String,
    /// `http://addr` of the separate metrics listener, if configured.
    pub metrics_url: Option<String>,
    pub http: reqwest::Client,
    pub events: Arc<MemorySink>,
    state: AppState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<()>>,
}

impl TestServer {
    pub async fn start_with(config: Config) -> Result<TestServer> {
        let events = Arc::new(MemorySink::default());
        let sink: Arc<dyn EventSink> = events.clone();
        let server = Server::build_with_events(config, sink).await?;
        let addr = server.local_addr().context("no local address")?;
        let state = server.state().clone();
        let metrics_url = server.metrics_addr().map(|a| format!("http://{a}"));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(async move {
            let _ = server
                .run(async move {
                    let _ = rx.await;
                })
                .await;
        });
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
        Ok(TestServer {
            base_url: format!("http://{addr}"),
            metrics_url,
            http,
            events,
            state,
            shutdown: Some(tx),
            handle: Some(handle),
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn issuer(&self) -> &str {
        self.state.issuer.as_str()
    }

    /// GET and parse JSON, whatever the status.
    pub async fn get_json(&self, path: &str) -> Result<(reqwest::StatusCode, serde_json::Value)> {
        let r = self.http.get(self.url(path)).send().await?;
        let status = r.status();
        Ok((status, r.json().await?))
    }

    /// Stops gracefully and waits until the server has closed its store.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            let _ = h.await;
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Waits until `check` holds, for what another node (or process) wrote to
/// the store to reach the server through its change feed (polled every
/// half second). Bounded: gives up after ten seconds with an error.
pub async fn eventually<F, Fut>(what: &str, mut check: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if check().await {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    anyhow::bail!("not within 10 s: {what}")
}
