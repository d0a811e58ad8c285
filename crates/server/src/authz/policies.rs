//! Policy versions: from the configured files at start, from the admin API
//! and the CLI at run time. A version is compiled and validated before it
//! is stored, so the store never holds a set that does not validate; it
//! becomes active on this node at once and on the others through the
//! change feed.

use latchkey_authz::PolicySet;
use latchkey_domain::{EventSink, SecurityEvent, UnixTime};
use latchkey_store::Store;

use super::runtime::{ActivePolicies, Runtime};

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("{0}")]
    Invalid(#[from] latchkey_authz::CompileError),
    #[error("{0}")]
    Store(#[from] latchkey_store::StoreError),
    #[error("policy compilation failed: {0}")]
    Task(String),
}

/// SHA-256 (hex) of a schema and policy text pair.
pub fn digest(schema: &str, policies: &str) -> String {
    let mut data = Vec::with_capacity(schema.len() + policies.len() + 1);
    data.extend_from_slice(schema.as_bytes());
    data.push(0);
    data.extend_from_slice(policies.as_bytes());
    latchkey_crypto::digest::hex(&latchkey_crypto::digest::sha256(&data))
}

/// Compiles off the async threads: a thousand-policy set takes a while.
pub async fn compile(schema: &str, policies: &str) -> Result<PolicySet, PolicyError> {
    let (s, p) = (schema.to_owned(), policies.to_owned());
    tokio::task::spawn_blocking(move || PolicySet::compile(&s, &p))
        .await
        .map_err(|e| PolicyError::Task(e.to_string()))?
        .map_err(PolicyError::from)
}

/// What `put` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Put {
    pub version: i64,
    /// The text was already the active version: nothing was stored.
    pub unchanged: bool,
}

/// Validates and stores a new version, and activates it in `runtime`.
#[allow(clippy::too_many_arguments)]
pub async fn put(
    store: &Store,
    runtime: &Runtime,
    events: &dyn EventSink,
    schema: &str,
    policies: &str,
    source: &str,
    by: &str,
    comment: Option<&str>,
) -> Result<Put, PolicyError> {
    let set = compile(schema, policies).await?;
    let digest = digest(schema, policies);
    if let Some(active) = store.active_policy_version().await?
        && active.digest == digest
    {
        return Ok(Put { version: active.version, unchanged: true });
    }
    let version = store.put_policy_version(schema, policies, &digest, source, comment, UnixTime::now()).await?;
    runtime.install(ActivePolicies { version, digest, schema: schema.to_owned(), policies: policies.to_owned(), set });
    events.emit(SecurityEvent::PolicyChanged { version, source: source.to_owned(), by: by.to_owned() });
    Ok(Put { version, unchanged: false })
}

/// At start: the configured files become a version if they differ from
/// the active one; then the active version is compiled and installed.
pub async fn bootstrap(
    store: &Store,
    runtime: &Runtime,
    events: &dyn EventSink,
    files: Option<&(String, String)>,
) -> Result<(), PolicyError> {
    if let Some((schema, policies)) = files {
        put(store, runtime, events, schema, policies, "config", "config", None).await?;
    }
    if runtime.policies().is_none()
        && let Some(active) = store.active_policy_version().await?
    {
        let set = compile(&active.schema, &active.policies).await?;
        runtime.install(ActivePolicies {
            version: active.version,
            digest: active.digest,
            schema: active.schema,
            policies: active.policies,
            set,
        });
    }
    Ok(())
}
