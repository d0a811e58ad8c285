//! What every handler can reach: passed explicitly, no globals.

use std::sync::Arc;

use latchkey_domain::EventSink;
use latchkey_store::Store;

use crate::config::Config;
use crate::issuer::Issuer;
use crate::keyring::KeyRing;
use crate::metrics::Metrics;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub config: Config,
    pub issuer: Issuer,
    pub store: Store,
    pub keys: KeyRing,
    pub metrics: Metrics,
    /// Security events: the audit log (which also passes them to the log).
    pub events: Arc<dyn EventSink>,
    /// The same audit log, for flushing at shutdown.
    pub audit: Arc<crate::audit::AuditLog>,
    /// SHA-256 of the admin key, if one is configured.
    pub admin_key_digest: Option<Vec<u8>>,
    pub master: latchkey_crypto::MasterKey,
    /// API resources known at start (config, sandbox, admin-made).
    pub resources: Vec<latchkey_domain::ApiResource>,
    /// Verified against when a username is unknown, so that a missing user
    /// costs the same time as a wrong password.
    pub dummy_password_hash: String,
    /// Clients, revocations, sessions and verified tokens in memory.
    pub caches: crate::caches::Caches,
    /// Client public keys for private_key_jwt.
    pub client_keys: crate::client_keys::ClientKeys,
    /// Client-credentials tokens issued by this node, for event sampling.
    pub issued_client_tokens: std::sync::atomic::AtomicU64,
    /// Decides which token exchanges a client may perform (RFC 8693).
    pub exchange_policy: Box<dyn latchkey_domain::token_exchange::ExchangePolicy>,
    /// Request rate limits (per node).
    pub rate_limiter: crate::rate_limit::RateLimiter,
    /// Bounds concurrent Argon2 verifications.
    pub password_checks: tokio::sync::Semaphore,
    /// With `--dev`: the sandbox service client's secret, which the
    /// portal's flow runner fills in (a sandbox secret, printed at start).
    pub dev_service_secret: Option<String>,
}

impl AppState {
    pub fn new(inner: Inner) -> Self {
        AppState(Arc::new(inner))
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
