//! The `[authz]` section: policies, the entity directory's seed data, the
//! callers (PEPs) and the identity-signal sources.

use std::path::{Path, PathBuf};
use std::time::Duration;

use latchkey_domain::Secret;
use serde::Deserialize;

use crate::config::{ConfigError, ValueRef, duration};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthzFile {
    /// Cedar schema file (Cedar schema syntax).
    pub schema: Option<PathBuf>,
    /// Cedar policy files, concatenated in this order.
    #[serde(default)]
    pub policies: Vec<PathBuf>,
    /// JSON files of entities (`[{"type", "id", "attributes", "parents"}]`)
    /// written to the directory at every start.
    #[serde(default)]
    pub entities: Vec<PathBuf>,
    pub user_type: Option<String>,
    pub client_type: Option<String>,
    pub role_type: Option<String>,
    pub pep_scope: Option<String>,
    pub privileged_scope: Option<String>,
    pub cache: Option<bool>,
    pub cache_entries: Option<usize>,
    pub cache_ttl: Option<String>,
    pub decision_event_sample_every: Option<u64>,
    /// Batches read their unseen entities in one query first (default on).
    pub batch_prefetch: Option<bool>,
    /// Subject attributes a caller's `properties` may never set, beside the
    /// built-in ones.
    #[serde(default)]
    pub protected_attributes: Vec<String>,
    /// Subject attributes copied into users' access tokens.
    #[serde(default)]
    pub token_attributes: Vec<String>,
    /// Scopes and audiences at the token endpoint are decided by the
    /// policies (actions `request_scope`, `request_audience`).
    pub govern_issuance: Option<bool>,
    /// A `risk_score` signal at or above this ends the subject's sessions.
    pub risk_revoke_threshold: Option<i64>,
    #[serde(default)]
    pub peps: Vec<PepFile>,
    #[serde(default)]
    pub signal_sources: Vec<SignalSourceFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PepFile {
    pub name: String,
    pub key: ValueRef,
    #[serde(default)]
    pub privileged: bool,
    #[serde(default)]
    pub resource_types: Vec<String>,
    pub tenant: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignalSourceFile {
    pub name: String,
    pub key: ValueRef,
    pub hmac_secret: Option<ValueRef>,
    pub attributes: Vec<String>,
    pub replay_window: Option<String>,
}

/// Attributes only the store or a validated token may set on a subject.
pub const BUILT_IN_PROTECTED: &[&str] = &[
    "roles",
    "tenant",
    "device",
    "verification_level",
    "kyc_status",
    "risk_score",
    "flags",
    "contract_status",
    "scopes",
    "acr",
    "amr",
    "auth_time",
    "sid",
    "client_id",
    "exp",
    "actors",
];

#[derive(Debug, Clone)]
pub struct AuthzConfig {
    /// (schema, policies) texts read at start, if configured.
    pub policy_files: Option<(String, String)>,
    pub entities: Vec<SeedEntity>,
    pub user_type: String,
    pub client_type: String,
    pub role_type: String,
    pub pep_scope: String,
    pub privileged_scope: String,
    pub cache: bool,
    pub cache_entries: usize,
    pub cache_ttl: Duration,
    pub decision_event_sample_every: u64,
    pub batch_prefetch: bool,
    pub protected_attributes: Vec<String>,
    pub token_attributes: Vec<String>,
    pub govern_issuance: bool,
    pub risk_revoke_threshold: Option<i64>,
    pub peps: Vec<Pep>,
    pub signal_sources: Vec<SignalSource>,
    /// `--dev` only: the simulated identity-verification provider's
    /// credentials (it calls the signals endpoint like any provider).
    pub sandbox_idv: Option<SandboxIdv>,
}

#[derive(Debug, Clone)]
pub struct SandboxIdv {
    pub key: Secret,
    pub hmac_secret: Secret,
}

/// The source name of the `--dev` simulated provider.
pub const SANDBOX_IDV_SOURCE: &str = "sandbox-idv";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedEntity {
    #[serde(rename = "type")]
    pub ty: String,
    pub id: String,
    #[serde(default)]
    pub attributes: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub parents: Vec<latchkey_store::ParentRef>,
}

#[derive(Debug, Clone)]
pub struct Pep {
    pub name: String,
    pub key_digest: Vec<u8>,
    pub privileged: bool,
    /// Empty: every type.
    pub resource_types: Vec<String>,
    pub tenant: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SignalSource {
    pub name: String,
    pub key_digest: Vec<u8>,
    pub hmac_secret: Option<Secret>,
    pub attributes: Vec<String>,
    pub replay_window: Duration,
}

impl AuthzConfig {
    /// Registers the `--dev` simulated provider as a signal source with
    /// fresh credentials (they live in memory only).
    pub fn enable_sandbox_idv(&mut self) {
        let key = latchkey_crypto::random::token(32);
        let hmac_secret = latchkey_crypto::random::token(32);
        self.signal_sources.push(SignalSource {
            name: SANDBOX_IDV_SOURCE.into(),
            key_digest: latchkey_crypto::digest::secret_digest(&key),
            hmac_secret: Some(Secret::new(hmac_secret.clone())),
            attributes: vec!["verification_level".into(), "kyc_status".into()],
            replay_window: Duration::from_secs(300),
        });
        self.sandbox_idv = Some(SandboxIdv { key: Secret::new(key), hmac_secret: Secret::new(hmac_secret) });
    }

    pub fn is_protected(&self, attribute: &str) -> bool {
        BUILT_IN_PROTECTED.contains(&attribute) || self.protected_attributes.iter().any(|a| a == attribute)
    }
}

fn invalid(setting: impl Into<String>, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { setting: setting.into(), reason: reason.into() }
}

fn read(setting: &str, base: &Path, path: &Path) -> Result<String, ConfigError> {
    let full = if path.is_absolute() { path.to_path_buf() } else { base.join(path) };
    std::fs::read_to_string(&full).map_err(|e| invalid(setting, format!("cannot read {}: {e}", full.display())))
}

/// Resolves the section; relative paths are read from `base` (the config
/// file's directory).
pub fn resolve(file: AuthzFile, base: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<AuthzConfig, ConfigError> {
    let policy_files = match (&file.schema, file.policies.is_empty()) {
        (None, true) => None,
        (None, false) => return Err(invalid("authz.schema", "policies need a schema to be validated against")),
        (Some(_), true) => return Err(invalid("authz.policies", "a schema without policies allows nothing")),
        (Some(schema), false) => {
            let schema = read("authz.schema", base, schema)?;
            let mut text = String::new();
            for p in &file.policies {
                text.push_str(&read("authz.policies", base, p)?);
                text.push('\n');
            }
            Some((schema, text))
        }
    };
    let mut entities = Vec::new();
    for path in &file.entities {
        let text = read("authz.entities", base, path)?;
        let mut list: Vec<SeedEntity> =
            serde_json::from_str(&text).map_err(|e| invalid("authz.entities", format!("{}: {e}", path.display())))?;
        entities.append(&mut list);
    }
    let mut peps = Vec::new();
    let mut pep_names = std::collections::HashSet::new();
    for p in &file.peps {
        // Decisions are cached per caller name; token callers are `client:<id>`.
        if p.name.starts_with("client:") || !pep_names.insert(p.name.clone()) {
            return Err(invalid(
                format!("authz.peps[{}]", p.name),
                "names must be unique and not start with `client:`",
            ));
        }
        let setting = format!("authz.peps[{}].key", p.name);
        let key = p.key.resolve(&setting, env)?;
        if key.expose().len() < 16 {
            return Err(invalid(setting, "must be at least 16 characters"));
        }
        peps.push(Pep {
            name: p.name.clone(),
            key_digest: latchkey_crypto::digest::secret_digest(key.expose()),
            privileged: p.privileged,
            resource_types: p.resource_types.clone(),
            tenant: p.tenant.clone(),
        });
    }
    let mut signal_sources = Vec::new();
    for s in &file.signal_sources {
        let setting = format!("authz.signal_sources[{}]", s.name);
        let key = s.key.resolve(&format!("{setting}.key"), env)?;
        if key.expose().len() < 16 {
            return Err(invalid(format!("{setting}.key"), "must be at least 16 characters"));
        }
        let hmac_secret = match &s.hmac_secret {
            Some(v) => Some(v.resolve(&format!("{setting}.hmac_secret"), env)?),
            None => None,
        };
        if s.attributes.is_empty() {
            return Err(invalid(format!("{setting}.attributes"), "name the attributes this source may set"));
        }
        signal_sources.push(SignalSource {
            name: s.name.clone(),
            key_digest: latchkey_crypto::digest::secret_digest(key.expose()),
            hmac_secret,
            attributes: s.attributes.clone(),
            replay_window: duration(
                &format!("{setting}.replay_window"),
                s.replay_window.as_ref(),
                Duration::from_secs(300),
            )?,
        });
    }
    const REGISTERED: &[&str] = &[
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "nbf",
        "jti",
        "client_id",
        "scope",
        "sid",
        "auth_time",
        "acr",
        "amr",
        "act",
        "may_act",
        "cnf",
        "typ",
        "email",
        "email_verified",
        "name",
        "preferred_username",
    ];
    if let Some(bad) = file.token_attributes.iter().find(|a| REGISTERED.contains(&a.as_str())) {
        return Err(invalid("authz.token_attributes", format!("`{bad}` is a claim Latchkey sets itself")));
    }
    Ok(AuthzConfig {
        policy_files,
        entities,
        user_type: file.user_type.unwrap_or_else(|| "User".into()),
        client_type: file.client_type.unwrap_or_else(|| "Client".into()),
        role_type: file.role_type.unwrap_or_else(|| "Role".into()),
        pep_scope: file.pep_scope.unwrap_or_else(|| "authzen".into()),
        privileged_scope: file.privileged_scope.unwrap_or_else(|| "authzen:privileged".into()),
        cache: file.cache.unwrap_or(true),
        cache_entries: file.cache_entries.unwrap_or(100_000).max(16),
        cache_ttl: duration("authz.cache_ttl", file.cache_ttl.as_ref(), Duration::from_secs(300))?,
        decision_event_sample_every: file.decision_event_sample_every.unwrap_or(100),
        batch_prefetch: file.batch_prefetch.unwrap_or(true),
        protected_attributes: file.protected_attributes,
        token_attributes: file.token_attributes,
        govern_issuance: file.govern_issuance.unwrap_or(false),
        risk_revoke_threshold: file.risk_revoke_threshold,
        peps,
        signal_sources,
        sandbox_idv: None,
    })
}
