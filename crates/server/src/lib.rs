//! Latchkey's HTTP server: resolves configuration, opens the store and the
//! keys, applies the declarative config, and serves the routes.
//!
//! `app(state)` builds the router for `main` and tests alike; [`Server`]
//! wires everything around it.

pub mod access_tokens;
pub mod admin_auth;
pub mod audit;
pub mod authorization;
pub mod authz;
pub mod bootstrap;
pub mod caches;
pub mod client_assertion;
pub mod client_auth;
pub mod client_keys;
pub mod config;
pub mod cors;
pub mod error;
pub mod events;
pub mod forms;
pub mod grants;
pub mod issuer;
pub mod keyring;
pub mod logout;
pub mod master_key;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod outbound;
pub mod pages;
pub mod portal;
pub mod rate_limit;
pub mod routes;
pub mod session;
pub mod state;
mod tasks;
pub mod tokens;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::map_response;
use axum::routing::{delete, get, post};
use latchkey_domain::EventSink;
use latchkey_store::{Store, StoreOptions};
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

pub use bootstrap::DevSandbox;
pub use config::Config;
pub use state::AppState;

use crate::error::ApiError;
use crate::issuer::Issuer;
use crate::keyring::{KeyError, KeyManager, KeyRing};
use crate::routes::{
    admin, admin_authz, authorize, authzen, consent, discovery, end_session, health, introspect, jwks, login, mfa,
    revocations, revoke, sandbox, sandbox_idv, signup, token, userinfo,
};

/// Concurrent Argon2 verifications (each holds 19 MiB).
pub const PASSWORD_CHECKS: usize = 8;

/// Form and JSON bodies above this are refused with 413 before parsing.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Why the server could not start: one line naming the problem and the fix.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    MasterKey(#[from] master_key::MasterKeyError),
    #[error("{0}")]
    Store(#[from] latchkey_store::StoreError),
    #[error("{0}")]
    Keys(#[from] KeyError),
    #[error("{0}")]
    Bootstrap(#[from] bootstrap::BootstrapError),
    #[error("cannot listen on {addr}: {reason} (is another process using it?)")]
    Bind { addr: SocketAddr, reason: String },
    #[error("cannot create the data directory {path}: {reason}")]
    DataDir { path: String, reason: String },
    #[error("authorization policies: {0}")]
    Policies(String),
    #[error("server stopped: {0}")]
    Serve(String),
}

/// A configured server, bound and ready to run.
pub struct Server {
    state: AppState,
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    dev_sandbox: Option<DevSandbox>,
}

impl Server {
    pub async fn build(config: Config) -> Result<Server, StartError> {
        let events: Arc<dyn EventSink> = Arc::new(events::LogSink);
        Self::build_with_events(config, events).await
    }

    /// `also` receives every security event beside the audit log (the
    /// process log, or memory in tests).
    pub async fn build_with_events(config: Config, also: Arc<dyn EventSink>) -> Result<Server, StartError> {
        ensure_sqlite_dir(&config)?;
        // Check what needs no I/O first: a refused start leaves no files.
        let explicit_master = match &config.master_key {
            Some(_) => Some(master_key::resolve(&config)?),
            None if !config.dev => return Err(master_key::MasterKeyError::Missing.into()),
            None => None,
        };
        let store = Store::connect(
            config.database_url.expose(),
            &StoreOptions {
                max_connections: config.database_max_connections,
                connect_timeout: config.database_connect_timeout,
            },
        )
        .await?;
        let metrics = metrics::Metrics::default();
        let audit = audit::AuditLog::start(store.clone(), config.audit.clone(), node_name(&config), also, &metrics);
        let events: Arc<dyn EventSink> = audit.clone();

        // The dev key file is written only once the store answers.
        let master = match explicit_master {
            Some(m) => m,
            None => master_key::resolve(&config)?,
        };
        let keys = KeyRing::default();
        {
            let manager = KeyManager { store: &store, master: &master, events: events.as_ref() };
            manager.verify_master_key().await?;
            // Every algorithm a client signs ID tokens with needs a key.
            let mut algs = config.keys.algorithms.clone();
            for client in store
                .list_clients()
                .await?
                .iter()
                .map(|c| c.id_token_alg)
                .chain(config.clients.iter().map(|c| c.id_token_alg))
            {
                if !algs.contains(&client) {
                    algs.push(client);
                }
            }
            manager.ensure(&algs).await?;
            keys.reload(&manager).await?;
        }
        bootstrap::apply_static_config(&store, &config, events.as_ref()).await?;
        let dev_sandbox =
            if config.dev { Some(bootstrap::seed_dev(&store, &config.data_dir, events.as_ref()).await?) } else { None };

        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|e| StartError::Bind { addr: config.listen, reason: e.to_string() })?;
        let metrics_listener = match config.metrics_listen {
            Some(addr) => {
                Some(TcpListener::bind(addr).await.map_err(|e| StartError::Bind { addr, reason: e.to_string() })?)
            }
            None => None,
        };
        let local =
            listener.local_addr().map_err(|e| StartError::Bind { addr: config.listen, reason: e.to_string() })?;
        let issuer = Issuer::new(&config.issuer.clone().unwrap_or_else(|| format!("http://{local}")));
        if config.dev {
            bootstrap::register_sandbox_rp(&store, &issuer).await?;
        }
        portal::signin::register_client(&store, &issuer).await?;
        let admin_key_digest = config.admin_key.as_ref().map(|k| latchkey_crypto::digest::secret_digest(k.expose()));
        let resources = store.list_resources().await?;
        let narrowed = portal::sandbox::refence(&store, &portal::sandbox::fence_of(&config.portal, &resources)).await?;
        if narrowed > 0 {
            tracing::info!(narrowed, "sandbox clients narrowed to the configured sandbox");
        }
        let dummy_password_hash = latchkey_crypto::password::dummy_hash()
            .map_err(|e| StartError::Serve(format!("password hashing unavailable: {e}")))?;
        // After the start-up writes above, so their changes are behind the
        // watermark: they are in the store, which the caches (and the set
        // of stored entity keys) are loaded from; later writes, such as the
        // entity seeding below, reach them through the feed.
        let caches = caches::Caches::load(&store).await?;
        caches.authz.cache.set_capacity(config.authz.cache_entries);
        authz::policies::bootstrap(&store, &caches.authz, events.as_ref(), config.authz.policy_files.as_ref())
            .await
            .map_err(|e| StartError::Policies(e.to_string()))?;
        if config.dev && caches.authz.policies().is_none() {
            // A ready playground on a fresh sandbox: the product scenarios'
            // model (docs/authorization.md), until policies are published.
            authz::policies::put(
                &store,
                &caches.authz,
                events.as_ref(),
                include_str!("../../../examples/scenarios/schema.cedarschema"),
                include_str!("../../../examples/scenarios/policies.cedar"),
                "dev",
                "dev",
                Some("the --dev sample policies (examples/scenarios)"),
            )
            .await
            .map_err(|e| StartError::Policies(e.to_string()))?;
        }
        let now = latchkey_domain::UnixTime::now();
        for e in &config.authz.entities {
            store.seed_entity(&e.ty, &e.id, &e.attributes, &e.parents, now).await?;
        }
        // The seeding above is this node's own write: apply it at once.
        caches.sync(&store).await?;
        let client_keys = client_keys::ClientKeys::new(config.outbound.clone());
        let state = AppState::new(state::Inner {
            caches,
            client_keys,
            issued_client_tokens: std::sync::atomic::AtomicU64::new(0),
            config,
            issuer,
            store,
            keys,
            metrics,
            events,
            audit,
            admin_key_digest,
            master,
            resources,
            dummy_password_hash,
            password_checks: tokio::sync::Semaphore::new(PASSWORD_CHECKS),
            dev_service_secret: dev_sandbox.as_ref().map(|d| d.service_client_secret.clone()),
            rate_limiter: rate_limit::RateLimiter::default(),
            exchange_policy: Box::new(latchkey_domain::token_exchange::ConfiguredPolicy),
        });
        Ok(Server { state, listener, metrics_listener, dev_sandbox })
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener.as_ref().and_then(|l| l.local_addr().ok())
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn dev_sandbox(&self) -> Option<&DevSandbox> {
        self.dev_sandbox.as_ref()
    }

    /// Serves until `shutdown` completes, then drains in-flight requests.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> Result<(), StartError> {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let background = tasks::spawn(self.state.clone(), stop_rx.clone());

        let metrics_task = self.metrics_listener.map(|listener| {
            let router = Router::new().route("/metrics", get(routes::metrics::open)).with_state(self.state.clone());
            let mut rx = stop_rx.clone();
            tokio::spawn(async move {
                let _ = axum::serve(listener, router)
                    .with_graceful_shutdown(async move {
                        let _ = rx.wait_for(|stop| *stop).await;
                    })
                    .await;
            })
        });

        let app = app(self.state.clone());
        let result = axum::serve(self.listener, app.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async move {
                shutdown.await;
                tracing::info!("shutting down: draining in-flight requests");
                let _ = stop_tx.send(true);
            })
            .await;
        background.abort();
        if let Some(t) = metrics_task {
            let _ = t.await;
        }
        // What was audited before the stop is written before the store closes.
        if !self.state.audit.flush(std::time::Duration::from_secs(5)).await {
            tracing::warn!("not every audit event could be written before stopping");
        }
        self.state.store.close().await;
        result.map_err(|e| StartError::Serve(e.to_string()))
    }
}

/// How this node names itself on its audit events: the host name and the
/// port it listens on, unless `[audit] node` says otherwise.
fn node_name(config: &Config) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| config.listen.ip().to_string());
    format!("{host}:{}", config.listen.port())
}

fn ensure_sqlite_dir(config: &Config) -> Result<(), StartError> {
    let url = config.database_url.expose();
    let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) else {
        return Ok(());
    };
    let path = path.split('?').next().unwrap_or(path);
    if path == ":memory:" || path.is_empty() {
        return Ok(());
    }
    if let Some(dir) = std::path::Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| StartError::DataDir { path: dir.display().to_string(), reason: e.to_string() })?;
    }
    Ok(())
}

/// Every endpoint of the issuer under its path, operations endpoints at the
/// root. Registered through [`openapi::Routes`], which remembers each
/// path: a test holds them to the OpenAPI description, so a route added
/// here must be described in `openapi/` too.
pub fn app_routes(state: &AppState) -> openapi::Routes {
    let issuer = state.issuer.clone();
    let p = issuer.path();
    let mut router = openapi::Routes::new()
        .route(&issuer.well_known_appended("openid-configuration"), get(discovery::get))
        .route(&issuer.well_known_inserted("oauth-authorization-server"), get(discovery::get))
        .route(&format!("{p}/jwks"), get(jwks::get))
        .route(&format!("{p}/authorize"), get(authorize::handle).post(authorize::handle))
        .route(&format!("{p}/login"), get(login::show).post(login::submit))
        .route(&format!("{p}/consent"), get(consent::show).post(consent::decide))
        .route(&format!("{p}/logout"), get(end_session::handle).post(end_session::handle))
        .route(&format!("{p}/login/otp"), get(mfa::otp_show).post(mfa::otp_submit))
        .route(&format!("{p}/signup"), get(signup::show).post(signup::submit))
        .route(&format!("{p}{}", sandbox::HOME_PATH), get(sandbox::home))
        .route(&format!("{p}/sandbox/start"), get(sandbox::start))
        .route(&format!("{p}{}", sandbox::CALLBACK_PATH), get(sandbox::callback))
        .route(&format!("{p}{}", sandbox_idv::PATH), get(sandbox_idv::show).post(sandbox_idv::submit))
        .route(&format!("{p}/account/totp"), get(mfa::enrol_show).post(mfa::enrol_submit))
        .route(
            &format!("{p}/token"),
            post(token::handle).options(cors::preflight).layer(map_response(cors::allow_any_origin)),
        )
        .route(
            &format!("{p}/revoke"),
            post(revoke::handle).options(cors::preflight).layer(map_response(cors::allow_any_origin)),
        )
        .route(&format!("{p}/introspect"), post(introspect::handle))
        .route(&format!("{p}/revocations"), get(revocations::feed))
        .route(
            &format!("{p}/userinfo"),
            get(userinfo::handle)
                .post(userinfo::handle)
                .options(cors::preflight)
                .layer(map_response(cors::allow_any_origin)),
        )
        .route(&issuer.well_known_inserted("authzen-configuration"), get(authzen::configuration))
        .route(&format!("{p}/access/v1/evaluation"), post(authzen::evaluation))
        .route(&format!("{p}/access/v1/evaluations"), post(authzen::evaluations))
        .route(&format!("{p}/access/v1/search/subject"), post(authzen::search_subject))
        .route(&format!("{p}/access/v1/search/resource"), post(authzen::search_resource))
        .route(&format!("{p}/access/v1/search/action"), post(authzen::search_action))
        .route(&format!("{p}/signals/v1"), post(authz::signals::receive))
        .route(&format!("{p}/admin/v1/keys"), get(admin::list_keys))
        .route(
            &format!("{p}/admin/v1/users/{{user_id}}/sessions"),
            get(admin::user_sessions).delete(admin::end_user_sessions),
        )
        .route(&format!("{p}/admin/v1/sessions/{{sid}}"), delete(admin::end_session))
        .route(&format!("{p}/admin/v1/grants/{{grant_id}}"), delete(admin::revoke_grant))
        .route(&format!("{p}/admin/v1/users/{{user_id}}/totp"), delete(admin::reset_totp))
        .route(&format!("{p}/admin/v1/users/{{user_id}}/consents"), get(admin::user_consents))
        .route(&format!("{p}/admin/v1/users/{{user_id}}/consents/{{client_id}}"), delete(admin::revoke_consent))
        .route(&format!("{p}/admin/v1/policies"), get(admin_authz::list_policies).put(admin_authz::put_policies))
        .route(&format!("{p}/admin/v1/policies/active"), get(admin_authz::active_policies))
        .route(&format!("{p}/admin/v1/policies/validate"), post(admin_authz::validate_policies))
        .route(&format!("{p}/admin/v1/policies/test"), post(admin_authz::test_policies))
        .route(&format!("{p}/admin/v1/policies/{{version}}"), get(admin_authz::policy_version))
        .route(
            &format!("{p}/admin/v1/entities/{{entity_type}}/{{entity_id}}"),
            get(admin_authz::get_entity)
                .put(admin_authz::put_entity)
                .patch(admin_authz::patch_entity)
                .delete(admin_authz::delete_entity),
        )
        .route(
            &format!("{p}/admin/v1/entities/{{entity_type}}/{{entity_id}}/capabilities"),
            get(admin_authz::list_capabilities),
        )
        .route(&format!("{p}/admin/v1/audit/events"), get(routes::admin_audit::list_events))
        .route(&format!("{p}/admin/v1/capabilities"), post(admin_authz::grant_capability))
        .route(&format!("{p}/admin/v1/capabilities/{{capability_id}}"), delete(admin_authz::revoke_capability))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .merge(portal::routes(p));
    if !p.is_empty() {
        // RFC 8414 §5 lets clients find OIDC metadata by path insertion too.
        router = router.route(&issuer.well_known_inserted("openid-configuration"), get(discovery::get));
    }
    router = if state.config.listen.ip().is_loopback() {
        router.route("/metrics", get(routes::metrics::open))
    } else {
        router.route("/metrics", get(routes::metrics::protected))
    };
    router
}

/// The router: [`app_routes`] and the cross-cutting layers around all of it.
pub fn app(state: AppState) -> Router {
    let router = app_routes(&state).into_router();
    let timeout = state.config.request_timeout;
    // One composed layer rather than one `.layer` call each: axum boxes
    // every route once per `.layer` call and clones each box per request,
    // which measurably cost the token endpoint (docs/benchmarks.md).
    let cross_cutting = tower::ServiceBuilder::new()
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::request_context))
        .layer(axum::middleware::from_fn_with_state(state.clone(), rate_limit::by_address))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, timeout))
        .layer(axum::middleware::from_fn(middleware::security_headers))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        // Innermost: it changes the body type, which only a route accepts.
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT));
    router.fallback(|| async { ApiError::not_found() }).layer(cross_cutting).with_state(state)
}
