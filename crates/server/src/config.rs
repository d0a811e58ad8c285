//! Configuration: command-line flags and environment variables (through the
//! binary) over a TOML file over defaults, resolved once at start into a
//! [`Config`] that the rest of the server trusts. Every error names the
//! setting and how to fix it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use latchkey_domain::client::{AuthMethod, ClientKind, GrantType};
use latchkey_domain::resource::ResourceScope;
use latchkey_domain::throttle::ThrottlePolicy;
use latchkey_domain::{ScopeSet, Secret, SigningAlg};
use serde::Deserialize;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("config file {path} is not valid: {reason}")]
    Parse { path: String, reason: String },
    #[error("{setting}: {reason}")]
    Invalid { setting: String, reason: String },
    #[error("{setting}: environment variable {var} is not set; export it or put the value in the config file")]
    MissingEnv { setting: String, var: String },
}

pub(crate) fn invalid(setting: impl Into<String>, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { setting: setting.into(), reason: reason.into() }
}

/// A value given literally, or read from an environment variable or a file
/// at start, so that secrets need not sit in the config file.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum ValueRef {
    Literal(String),
    Env { env: String },
    File { file: PathBuf },
}

impl ValueRef {
    pub(crate) fn resolve(&self, setting: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Secret, ConfigError> {
        match self {
            ValueRef::Literal(v) => Ok(Secret::new(v.clone())),
            ValueRef::Env { env: var } => env(var)
                .map(Secret::new)
                .ok_or_else(|| ConfigError::MissingEnv { setting: setting.into(), var: var.clone() }),
            ValueRef::File { file } => std::fs::read_to_string(file)
                .map(|s| Secret::new(s.trim_end_matches(['\n', '\r']).to_string()))
                .map_err(|e| invalid(setting, format!("cannot read {}: {e}", file.display()))),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(format!("log format must be text or json, not {s:?}")),
        }
    }
}

/// Token requests per minute per client, and per source address: high
/// enough for a busy service, low enough to stop a runaway loop.
pub const DEFAULT_TOKEN_PER_CLIENT: u32 = 60_000;
pub const DEFAULT_TOKEN_PER_ADDRESS: u32 = 120_000;

/// The TOML file, as written. Unknown keys are errors: a typo must not
/// silently leave a security setting at its default.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub issuer: Option<String>,
    pub listen: Option<String>,
    pub metrics_listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<ValueRef>,
    pub master_key: Option<ValueRef>,
    pub log_format: Option<LogFormat>,
    #[serde(default)]
    pub database: DatabaseFile,
    #[serde(default)]
    pub keys: KeysFile,
    #[serde(default)]
    pub tokens: TokensFile,
    #[serde(default)]
    pub http: HttpFile,
    #[serde(default)]
    pub sessions: SessionsFile,
    #[serde(default)]
    pub outbound: OutboundFile,
    #[serde(default)]
    pub login: LoginFile,
    #[serde(default)]
    pub signup: SignupFile,
    #[serde(default)]
    pub token_exchange: TokenExchangeFile,
    #[serde(default)]
    pub admin: AdminFile,
    #[serde(default)]
    pub sweep: SweepFile,
    #[serde(default)]
    pub authz: crate::authz::config::AuthzFile,
    #[serde(default)]
    pub rate_limits: RateLimitsFile,
    #[serde(default)]
    pub audit: crate::audit::config::AuditFile,
    #[serde(default)]
    pub portal: crate::portal::config::PortalFile,
    #[serde(default)]
    pub clients: Vec<ClientFile>,
    #[serde(default)]
    pub users: Vec<UserFile>,
    #[serde(default)]
    pub resources: Vec<ResourceFile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseFile {
    pub max_connections: Option<u32>,
    pub connect_timeout: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeysFile {
    pub algorithms: Option<Vec<String>>,
    pub prepublish: Option<String>,
    pub retention: Option<String>,
    pub reload_interval: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokensFile {
    pub access_token_ttl: Option<String>,
    pub id_token_ttl: Option<String>,
    pub refresh_token_ttl: Option<String>,
    pub refresh_token_idle_ttl: Option<String>,
    pub authorization_code_ttl: Option<String>,
    pub issuance_event_sample_every: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenExchangeFile {
    #[serde(default)]
    pub trusted_issuers: Vec<latchkey_domain::token_exchange::TrustedIssuer>,
}

/// Self-service sign-up.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignupFile {
    pub enabled: Option<bool>,
}

/// Throttling of failed logins.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginFile {
    pub free_failures_per_account: Option<u32>,
    pub free_failures_per_address: Option<u32>,
    pub base_delay: Option<String>,
    pub max_delay: Option<String>,
    pub max_account_delay: Option<String>,
    pub window: Option<String>,
}

/// Requests Latchkey itself makes (client `jwks_uri` documents).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboundFile {
    pub allow_loopback: Option<bool>,
    pub timeout: Option<String>,
    pub jwks_cache_ttl: Option<String>,
    pub jwks_refetch_interval: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpFile {
    pub request_timeout: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionsFile {
    pub lifetime: Option<String>,
    pub logout_keeps_offline_grants: Option<bool>,
    pub client_info_retention: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminFile {
    pub key: Option<ValueRef>,
    pub scope: Option<String>,
}

/// Requests per minute, per node; 0 turns a limit off.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitsFile {
    pub token_per_client: Option<u32>,
    pub token_per_address: Option<u32>,
    pub login_per_address: Option<u32>,
    pub authorize_per_address: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct RateLimits {
    pub token_per_client: u32,
    pub token_per_address: u32,
    pub login_per_address: u32,
    pub authorize_per_address: u32,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepFile {
    pub interval: Option<String>,
    pub batch: Option<u32>,
    pub event_retention: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientFile {
    pub id: String,
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    pub secret: Option<ValueRef>,
    pub auth_method: Option<String>,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Option<Vec<String>>,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub audiences: Vec<String>,
    pub id_token_alg: Option<String>,
    pub access_token_ttl: Option<String>,
    pub refresh_token_ttl: Option<String>,
    pub id_token_ttl: Option<String>,
    #[serde(default)]
    pub first_party: bool,
    pub refresh_token_reuse_grace: Option<String>,
    pub jwks_uri: Option<String>,
    /// Inline public keys (a JWKS document), literal, from env or a file.
    pub jwks: Option<ValueRef>,
    #[serde(default)]
    pub token_exchange: latchkey_domain::token_exchange::ExchangeSettings,
    pub backchannel_logout_uri: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserFile {
    pub username: String,
    pub password: Option<ValueRef>,
    pub password_hash: Option<String>,
    pub email: Option<String>,
    #[serde(default)]
    pub email_verified: bool,
    pub name: Option<String>,
    #[serde(default)]
    pub disabled: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceFile {
    pub identifier: String,
    pub name: Option<String>,
    #[serde(default)]
    pub scopes: Vec<ResourceScope>,
    pub access_token_ttl: Option<String>,
    pub signing_alg: Option<String>,
    #[serde(default)]
    pub forwarded_claims: Vec<String>,
    #[serde(default)]
    pub introspection_clients: Vec<String>,
}

/// What the command line (and its environment variables) said; wins over
/// the file.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub config_file: Option<PathBuf>,
    pub listen: Option<String>,
    pub issuer: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub log_format: Option<LogFormat>,
    pub metrics_listen: Option<String>,
    pub master_key: Option<String>,
    pub admin_key: Option<String>,
    pub dev: bool,
}

/// The resolved configuration the server runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub dev: bool,
    pub listen: SocketAddr,
    /// `None`: `http://` + the bound address (loopback only).
    pub issuer: Option<String>,
    pub metrics_listen: Option<SocketAddr>,
    pub data_dir: PathBuf,
    pub database_url: Secret,
    pub database_max_connections: u32,
    pub database_connect_timeout: Duration,
    pub master_key: Option<Secret>,
    pub log_format: LogFormat,
    pub keys: KeysConfig,
    pub tokens: TokensConfig,
    pub outbound: OutboundConfig,
    /// Other issuers whose JWTs may be exchanged (RFC 8693).
    pub trusted_issuers: Vec<latchkey_domain::token_exchange::TrustedIssuer>,
    pub request_timeout: Duration,
    /// How long a browser session (a login) lasts.
    pub session_ttl: Duration,
    /// How long a session's user agent and source address are kept.
    pub session_client_info_retention: Duration,
    /// Whether logout spares the session's `offline_access` grants.
    pub logout_keeps_offline_grants: bool,
    /// Whether people may create their own accounts (off by default).
    pub signup_enabled: bool,
    /// Failed-login throttling per account name and per source address.
    pub login_throttle_account: latchkey_domain::throttle::ThrottlePolicy,
    pub login_throttle_address: latchkey_domain::throttle::ThrottlePolicy,
    pub admin_key: Option<Secret>,
    pub admin_scope: String,
    pub sweep_interval: Duration,
    pub sweep_batch: u32,
    pub event_retention: Duration,
    pub clients: Vec<StaticClient>,
    pub users: Vec<StaticUser>,
    pub resources: Vec<latchkey_domain::ApiResource>,
    /// Real-time authorization: policies, callers, signal sources.
    pub authz: crate::authz::config::AuthzConfig,
    pub rate_limits: RateLimits,
    /// The audit log: retention, queue, anomalies.
    pub audit: crate::audit::config::AuditConfig,
    /// The developer portal: self-service sandbox, administrators.
    pub portal: crate::portal::config::PortalConfig,
}

#[derive(Debug, Clone)]
pub struct KeysConfig {
    /// Algorithms that always have a signing key.
    pub algorithms: Vec<SigningAlg>,
    /// How long a new key is published before it signs.
    pub prepublish: Duration,
    /// How long a retired key stays published (≥ the longest token lifetime).
    pub retention: Duration,
    /// How often each node re-reads the key table.
    pub reload_interval: Duration,
}

impl KeysConfig {
    /// JWKS `Cache-Control: max-age`: always shorter than the pre-publication
    /// delay, so a verifier's cached set contains a key before it signs.
    pub fn jwks_max_age(&self) -> Duration {
        (self.prepublish / 2).min(Duration::from_secs(300))
    }
}

#[derive(Debug, Clone)]
pub struct TokensConfig {
    pub access_token_ttl: Duration,
    pub id_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub refresh_token_idle_ttl: Duration,
    pub authorization_code_ttl: Duration,
    /// One issuance event per this many client-credentials tokens (0: none).
    pub issuance_event_sample_every: u64,
}

#[derive(Debug, Clone)]
pub struct OutboundConfig {
    /// Let `jwks_uri` fetches reach loopback addresses (tests, local
    /// development). Private and link-local networks stay refused.
    pub allow_loopback: bool,
    pub timeout: Duration,
    /// How long a fetched JWKS is used before it is fetched again (a
    /// `Cache-Control: max-age` from the client shortens or lengthens it
    /// within bounds).
    pub jwks_cache_ttl: Duration,
    /// At most one refetch per this interval when a `kid` is unknown, so a
    /// forged `kid` cannot make us hammer a client's server.
    pub jwks_refetch_interval: Duration,
}

#[derive(Debug, Clone)]
pub struct StaticClient {
    pub id: String,
    pub name: String,
    pub kind: ClientKind,
    pub secret: Option<Secret>,
    pub auth_method: AuthMethod,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<GrantType>,
    pub scopes: ScopeSet,
    pub audiences: Vec<String>,
    pub id_token_alg: SigningAlg,
    pub access_token_ttl: Option<u64>,
    pub refresh_token_ttl: Option<u64>,
    pub id_token_ttl: Option<u64>,
    pub first_party: bool,
    pub refresh_token_grace: u64,
    pub jwks_uri: Option<String>,
    pub jwks: Option<String>,
    pub token_exchange: latchkey_domain::token_exchange::ExchangeSettings,
    pub backchannel_logout_uri: Option<String>,
}

#[derive(Debug, Clone)]
pub enum StaticPassword {
    Plain(Secret),
    Hash(String),
    None,
}

#[derive(Debug, Clone)]
pub struct StaticUser {
    pub username: String,
    pub password: StaticPassword,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    pub disabled: bool,
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "./latchkey-data";
pub const DEFAULT_ADMIN_SCOPE: &str = "latchkey:admin";

pub(crate) fn duration(setting: &str, value: Option<&String>, default: Duration) -> Result<Duration, ConfigError> {
    match value {
        None => Ok(default),
        Some(v) => humantime::parse_duration(v).map_err(|e| {
            invalid(setting, format!("{v:?} is not a duration ({e}); write e.g. \"90s\", \"5m\", \"12h\", \"30d\""))
        }),
    }
}

fn ttl(setting: &str, value: Option<&String>) -> Result<Option<u64>, ConfigError> {
    value.map(|v| duration(setting, Some(v), Duration::ZERO).map(|d| d.as_secs())).transpose()
}

/// RFC 9700 §2.5 / our rule: a configured secret must carry at least 256
/// bits. Estimated from its alphabet: 64 hex digits or 43 base64url
/// characters, with enough distinct characters to rule out "aaaa…".
pub fn secret_has_enough_entropy(secret: &str) -> bool {
    let len = secret.chars().count();
    let distinct = secret.chars().collect::<std::collections::HashSet<_>>().len();
    let bits_per_char = if secret.chars().all(|c| c.is_ascii_hexdigit()) { 4 } else { 6 };
    len * bits_per_char >= 256 && distinct >= 12
}

impl Config {
    /// Reads the file named in `overrides` (if any) and resolves everything.
    /// `env` looks up environment variables named by `{ env = "…" }`.
    pub fn load(overrides: &Overrides, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let file = match &overrides.config_file {
            Some(path) => Self::read_file(path)?,
            None => FileConfig::default(),
        };
        Self::resolve(file, overrides, env)
    }

    pub fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::Read { path: path.display().to_string(), reason: e.to_string() })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.display().to_string(),
            reason: e.to_string().replace('\n', " ").trim().to_string(),
        })
    }

    pub fn resolve(
        file: FileConfig,
        o: &Overrides,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let dev = o.dev;
        let listen_text = o.listen.clone().or(file.listen).unwrap_or_else(|| DEFAULT_LISTEN.to_string());
        let listen: SocketAddr = listen_text
            .parse()
            .map_err(|_| invalid("listen", format!("{listen_text:?} is not an address like 127.0.0.1:8080")))?;
        if dev && !listen.ip().is_loopback() {
            return Err(invalid(
                "listen",
                format!(
                    "--dev refuses the non-loopback address {listen}: the sandbox has published passwords; listen on 127.0.0.1"
                ),
            ));
        }
        let metrics_listen = match o.metrics_listen.clone().or(file.metrics_listen) {
            None => None,
            Some(t) => Some(t.parse().map_err(|_| invalid("metrics_listen", format!("{t:?} is not an address")))?),
        };
        let issuer = match o.issuer.clone().or(file.issuer) {
            Some(i) => Some(validate_issuer(&i, dev)?),
            None if !listen.ip().is_loopback() && !dev => {
                return Err(invalid(
                    "issuer",
                    format!("listening on {listen} needs an explicit https issuer: set --issuer or LATCHKEY_ISSUER"),
                ));
            }
            None => None,
        };
        let data_dir = o.data_dir.clone().or(file.data_dir).unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let database_url = match (&o.database_url, &file.database_url) {
            (Some(url), _) => Secret::new(url.clone()),
            (None, Some(r)) => r.resolve("database_url", env)?,
            (None, None) => Secret::new(format!("sqlite://{}", data_dir.join("latchkey.db").display())),
        };
        latchkey_store::Backend::from_url(database_url.expose()).map_err(|e| invalid("database_url", e.to_string()))?;
        let master_key = match (&o.master_key, &file.master_key) {
            (Some(k), _) => Some(Secret::new(k.clone())),
            (None, Some(r)) => Some(r.resolve("master_key", env)?),
            (None, None) => None,
        };
        let admin_key = match (&o.admin_key, &file.admin.key) {
            (Some(k), _) => Some(Secret::new(k.clone())),
            (None, Some(r)) => Some(r.resolve("admin.key", env)?),
            (None, None) => None,
        };
        if let Some(k) = &admin_key
            && !secret_has_enough_entropy(k.expose())
        {
            return Err(invalid(
                "admin.key",
                "the admin key needs 256 bits of entropy: generate one with `openssl rand -base64 32` or `latchkey key generate-master-key`",
            ));
        }

        let keys = KeysConfig {
            algorithms: match &file.keys.algorithms {
                None => vec![SigningAlg::ES256, SigningAlg::RS256],
                Some(list) => {
                    let mut algs = list
                        .iter()
                        .map(|a| {
                            a.parse().map_err(|e: latchkey_domain::algorithm::UnsupportedAlg| {
                                invalid("keys.algorithms", e.to_string())
                            })
                        })
                        .collect::<Result<Vec<SigningAlg>, _>>()?;
                    // OIDC Core §15.1: RS256 ID tokens must always be possible.
                    if !algs.contains(&SigningAlg::RS256) {
                        algs.push(SigningAlg::RS256);
                    }
                    algs
                }
            },
            prepublish: duration("keys.prepublish", file.keys.prepublish.as_ref(), Duration::from_secs(15 * 60))?,
            retention: duration("keys.retention", file.keys.retention.as_ref(), Duration::from_secs(24 * 3600))?,
            reload_interval: duration(
                "keys.reload_interval",
                file.keys.reload_interval.as_ref(),
                Duration::from_secs(30),
            )?,
        };
        let tokens = TokensConfig {
            access_token_ttl: duration(
                "tokens.access_token_ttl",
                file.tokens.access_token_ttl.as_ref(),
                Duration::from_secs(300),
            )?,
            id_token_ttl: duration(
                "tokens.id_token_ttl",
                file.tokens.id_token_ttl.as_ref(),
                Duration::from_secs(3600),
            )?,
            refresh_token_ttl: duration(
                "tokens.refresh_token_ttl",
                file.tokens.refresh_token_ttl.as_ref(),
                Duration::from_secs(30 * 86400),
            )?,
            refresh_token_idle_ttl: duration(
                "tokens.refresh_token_idle_ttl",
                file.tokens.refresh_token_idle_ttl.as_ref(),
                Duration::from_secs(7 * 86400),
            )?,
            authorization_code_ttl: duration(
                "tokens.authorization_code_ttl",
                file.tokens.authorization_code_ttl.as_ref(),
                Duration::from_secs(60),
            )?,
            issuance_event_sample_every: file.tokens.issuance_event_sample_every.unwrap_or(1000),
        };
        let outbound = OutboundConfig {
            allow_loopback: file.outbound.allow_loopback.unwrap_or(dev),
            timeout: duration("outbound.timeout", file.outbound.timeout.as_ref(), Duration::from_secs(5))?,
            jwks_cache_ttl: duration(
                "outbound.jwks_cache_ttl",
                file.outbound.jwks_cache_ttl.as_ref(),
                Duration::from_secs(300),
            )?,
            jwks_refetch_interval: duration(
                "outbound.jwks_refetch_interval",
                file.outbound.jwks_refetch_interval.as_ref(),
                Duration::from_secs(30),
            )?,
        };
        if tokens.authorization_code_ttl > Duration::from_secs(600) {
            return Err(invalid("tokens.authorization_code_ttl", "must be at most 10 minutes (RFC 6749 §4.1.2)"));
        }
        let longest_signed = tokens.access_token_ttl.max(tokens.id_token_ttl);
        if keys.retention < longest_signed {
            return Err(invalid(
                "keys.retention",
                format!(
                    "must be at least the longest token lifetime ({}s), or retired keys vanish while their tokens are valid",
                    longest_signed.as_secs()
                ),
            ));
        }
        if !keys.prepublish.is_zero() && keys.prepublish <= keys.reload_interval {
            return Err(invalid(
                "keys.prepublish",
                "must be longer than keys.reload_interval, so every node knows a key before it signs",
            ));
        }

        let login_timing = ThrottlePolicy {
            free_failures: 0,
            base_delay: duration("login.base_delay", file.login.base_delay.as_ref(), Duration::from_secs(1))?,
            max_delay: duration("login.max_delay", file.login.max_delay.as_ref(), Duration::from_secs(15 * 60))?,
            window: duration("login.window", file.login.window.as_ref(), Duration::from_secs(15 * 60))?,
        };
        let trusted_issuers = file.token_exchange.trusted_issuers;
        for t in &trusted_issuers {
            t.validate()
                .map_err(|e| invalid(format!("token_exchange.trusted_issuers[{}]", t.issuer), e.to_string()))?;
        }
        let clients = file.clients.iter().map(|c| resolve_client(c, env)).collect::<Result<Vec<_>, _>>()?;
        let mut seen = std::collections::HashSet::new();
        for c in &clients {
            if !seen.insert(c.id.clone()) {
                return Err(invalid(format!("clients[{}]", c.id), "declared twice"));
            }
        }
        let users = file.users.iter().map(|u| resolve_user(u, env)).collect::<Result<Vec<_>, _>>()?;
        let resources = file.resources.iter().map(resolve_resource).collect::<Result<Vec<_>, _>>()?;
        // Files named in the config are relative to the config file.
        let base = o
            .config_file
            .as_ref()
            .and_then(|p| p.parent())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let sampling_set = file.authz.decision_event_sample_every.is_some();
        let mut authz = crate::authz::config::resolve(file.authz, &base, env)?;
        if dev {
            authz.enable_sandbox_idv();
            // Every decision recorded, so the playground's replay has them.
            if !sampling_set {
                authz.decision_event_sample_every = 1;
            }
        }
        let audit = crate::audit::config::resolve(file.audit, env)?;
        let portal = crate::portal::config::resolve(file.portal, dev)?;

        Ok(Config {
            dev,
            listen,
            issuer,
            metrics_listen,
            data_dir,
            database_url,
            database_max_connections: file.database.max_connections.unwrap_or(16).max(1),
            database_connect_timeout: duration(
                "database.connect_timeout",
                file.database.connect_timeout.as_ref(),
                Duration::from_secs(5),
            )?,
            master_key,
            log_format: o.log_format.or(file.log_format).unwrap_or_default(),
            keys,
            tokens,
            outbound,
            trusted_issuers,
            request_timeout: duration(
                "http.request_timeout",
                file.http.request_timeout.as_ref(),
                Duration::from_secs(30),
            )?,
            session_ttl: duration(
                "sessions.lifetime",
                file.sessions.lifetime.as_ref(),
                Duration::from_secs(24 * 3600),
            )?,
            logout_keeps_offline_grants: file.sessions.logout_keeps_offline_grants.unwrap_or(false),
            session_client_info_retention: duration(
                "sessions.client_info_retention",
                file.sessions.client_info_retention.as_ref(),
                Duration::from_secs(24 * 3600),
            )?,
            signup_enabled: file.signup.enabled.unwrap_or(false),
            login_throttle_account: ThrottlePolicy {
                free_failures: file.login.free_failures_per_account.unwrap_or(5),
                // Short: an attacker who fails on purpose must not keep an
                // account's owner out for long (the address limit does the rest).
                max_delay: duration(
                    "login.max_account_delay",
                    file.login.max_account_delay.as_ref(),
                    Duration::from_secs(60),
                )?,
                ..login_timing.clone()
            },
            login_throttle_address: ThrottlePolicy {
                free_failures: file.login.free_failures_per_address.unwrap_or(20),
                ..login_timing
            },
            admin_key,
            admin_scope: file.admin.scope.unwrap_or_else(|| DEFAULT_ADMIN_SCOPE.to_string()),
            sweep_interval: duration("sweep.interval", file.sweep.interval.as_ref(), Duration::from_secs(60))?,
            sweep_batch: file.sweep.batch.unwrap_or(1000).max(1),
            event_retention: duration(
                "sweep.event_retention",
                file.sweep.event_retention.as_ref(),
                Duration::from_secs(7 * 86400),
            )?,
            clients,
            users,
            resources,
            authz,
            rate_limits: RateLimits {
                token_per_client: file.rate_limits.token_per_client.unwrap_or(DEFAULT_TOKEN_PER_CLIENT),
                token_per_address: file.rate_limits.token_per_address.unwrap_or(DEFAULT_TOKEN_PER_ADDRESS),
                login_per_address: file.rate_limits.login_per_address.unwrap_or(60),
                authorize_per_address: file.rate_limits.authorize_per_address.unwrap_or(600),
            },
            audit,
            portal,
        })
    }

    /// Builds a config for tests and embedders, from TOML text and overrides.
    pub fn from_toml(text: &str, o: &Overrides, env: &HashMap<String, String>) -> Result<Config, ConfigError> {
        let file: FileConfig =
            toml::from_str(text).map_err(|e| ConfigError::Parse { path: "<inline>".into(), reason: e.to_string() })?;
        Self::resolve(file, o, &|k| env.get(k).cloned())
    }
}

/// RFC 8414 §2: https, no query, no fragment. Plain http only for loopback
/// or the dev sandbox.
pub fn validate_issuer(issuer: &str, dev: bool) -> Result<String, ConfigError> {
    let url = url::Url::parse(issuer).map_err(|_| invalid("issuer", format!("{issuer:?} is not an absolute URL")))?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("issuer", "must not have a query or fragment (RFC 8414 §2)"));
    }
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback || dev => {}
        _ => {
            return Err(invalid(
                "issuer",
                format!("{issuer:?} must use https (plain http only on loopback or with --dev)"),
            ));
        }
    }
    Ok(issuer.trim_end_matches('/').to_string())
}

fn resolve_client(c: &ClientFile, env: &dyn Fn(&str) -> Option<String>) -> Result<StaticClient, ConfigError> {
    let setting = format!("clients[{}]", c.id);
    let field = |f: &str| format!("{setting}.{f}");
    let kind: ClientKind =
        c.kind.parse().map_err(|e: latchkey_domain::client::ParseEnumError| invalid(field("type"), e.to_string()))?;
    let auth_method = match (&c.auth_method, kind) {
        (Some(m), _) => m
            .parse()
            .map_err(|e: latchkey_domain::client::ParseEnumError| invalid(field("auth_method"), e.to_string()))?,
        (None, ClientKind::Public) => AuthMethod::None,
        (None, ClientKind::Confidential) => AuthMethod::ClientSecretBasic,
    };
    let secret = c.secret.as_ref().map(|s| s.resolve(&field("secret"), env)).transpose()?;
    match (&secret, kind, auth_method) {
        (Some(_), ClientKind::Public, _) => {
            return Err(invalid(field("secret"), "a public client has no secret"));
        }
        (None, ClientKind::Confidential, AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost) => {
            return Err(invalid(field("secret"), "a confidential client with a client_secret_* method needs a secret"));
        }
        (Some(s), _, _) if !secret_has_enough_entropy(s.expose()) => {
            return Err(invalid(
                field("secret"),
                "shorter than 256 bits of entropy (at least 43 random base64url characters); generate one with `openssl rand -base64 32 | tr '+/' '-_' | tr -d =`",
            ));
        }
        _ => {}
    }
    let grant_types = match &c.grant_types {
        Some(list) => list
            .iter()
            .map(|g| {
                g.parse()
                    .map_err(|e: latchkey_domain::client::ParseEnumError| invalid(field("grant_types"), e.to_string()))
            })
            .collect::<Result<Vec<GrantType>, _>>()?,
        None if c.redirect_uris.is_empty() && kind == ClientKind::Confidential => {
            vec![GrantType::ClientCredentials]
        }
        None => vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
    };
    let scopes = ScopeSet::from_tokens(&c.scopes).map_err(|e| invalid(field("scopes"), e.to_string()))?;
    let jwks = match &c.jwks {
        None => None,
        Some(v) => {
            let text = v.resolve(&field("jwks"), env)?.expose().to_string();
            latchkey_crypto::jwk::parse_public_jwks(&text).map_err(|e| invalid(field("jwks"), e.to_string()))?;
            Some(text)
        }
    };
    let id_token_alg = match &c.id_token_alg {
        Some(a) => a
            .parse()
            .map_err(|e: latchkey_domain::algorithm::UnsupportedAlg| invalid(field("id_token_alg"), e.to_string()))?,
        None => SigningAlg::RS256,
    };
    let sc = StaticClient {
        id: c.id.clone(),
        name: c.name.clone().unwrap_or_else(|| c.id.clone()),
        kind,
        secret,
        auth_method,
        redirect_uris: c.redirect_uris.clone(),
        post_logout_redirect_uris: c.post_logout_redirect_uris.clone(),
        grant_types,
        scopes,
        audiences: c.audiences.clone(),
        id_token_alg,
        access_token_ttl: ttl(&field("access_token_ttl"), c.access_token_ttl.as_ref())?,
        refresh_token_ttl: ttl(&field("refresh_token_ttl"), c.refresh_token_ttl.as_ref())?,
        id_token_ttl: ttl(&field("id_token_ttl"), c.id_token_ttl.as_ref())?,
        first_party: c.first_party,
        refresh_token_grace: ttl(&field("refresh_token_reuse_grace"), c.refresh_token_reuse_grace.as_ref())?
            .unwrap_or(0),
        jwks_uri: c.jwks_uri.clone(),
        jwks,
        token_exchange: c.token_exchange.clone(),
        backchannel_logout_uri: c.backchannel_logout_uri.clone(),
    };
    // The same rules as for clients registered any other way.
    sc.to_client(None, latchkey_domain::UnixTime(0)).validate().map_err(|e| invalid(&setting, e.to_string()))?;
    Ok(sc)
}

impl StaticClient {
    pub fn to_client(&self, secret_hash: Option<Vec<u8>>, now: latchkey_domain::UnixTime) -> latchkey_domain::Client {
        latchkey_domain::Client {
            id: self.id.clone(),
            name: self.name.clone(),
            kind: self.kind,
            secret_hash,
            redirect_uris: self.redirect_uris.clone(),
            post_logout_redirect_uris: self.post_logout_redirect_uris.clone(),
            grant_types: self.grant_types.clone(),
            scopes: self.scopes.clone(),
            audiences: self.audiences.clone(),
            auth_method: self.auth_method,
            id_token_alg: self.id_token_alg,
            access_token_ttl: self.access_token_ttl,
            refresh_token_ttl: self.refresh_token_ttl,
            id_token_ttl: self.id_token_ttl,
            first_party: self.first_party,
            refresh_token_grace: self.refresh_token_grace,
            jwks_uri: self.jwks_uri.clone(),
            jwks: self.jwks.clone(),
            token_exchange: self.token_exchange.clone(),
            backchannel_logout_uri: self.backchannel_logout_uri.clone(),
            origin: latchkey_domain::user::Origin::Config,
            created_at: now,
            updated_at: now,
        }
    }
}

fn resolve_user(u: &UserFile, env: &dyn Fn(&str) -> Option<String>) -> Result<StaticUser, ConfigError> {
    let setting = format!("users[{}]", u.username);
    latchkey_domain::user::validate_username(&u.username).map_err(|e| invalid(&setting, e.to_string()))?;
    let password = match (&u.password, &u.password_hash) {
        (Some(_), Some(_)) => {
            return Err(invalid(&setting, "give password or password_hash, not both"));
        }
        (Some(p), None) => StaticPassword::Plain(p.resolve(&format!("{setting}.password"), env)?),
        (None, Some(h)) => {
            if !latchkey_crypto::password::is_argon2id_phc(h) {
                return Err(invalid(
                    format!("{setting}.password_hash"),
                    "must be an Argon2id PHC string ($argon2id$…)",
                ));
            }
            StaticPassword::Hash(h.clone())
        }
        (None, None) => StaticPassword::None,
    };
    Ok(StaticUser {
        username: u.username.clone(),
        password,
        email: u.email.clone(),
        email_verified: u.email_verified,
        name: u.name.clone(),
        disabled: u.disabled,
    })
}

fn resolve_resource(r: &ResourceFile) -> Result<latchkey_domain::ApiResource, ConfigError> {
    let setting = format!("resources[{}]", r.identifier);
    let resource = latchkey_domain::ApiResource {
        identifier: r.identifier.clone(),
        name: r.name.clone().unwrap_or_else(|| r.identifier.clone()),
        scopes: r.scopes.clone(),
        access_token_ttl: ttl(&format!("{setting}.access_token_ttl"), r.access_token_ttl.as_ref())?,
        signing_alg: r
            .signing_alg
            .as_ref()
            .map(|a| {
                a.parse().map_err(|e: latchkey_domain::algorithm::UnsupportedAlg| {
                    invalid(format!("{setting}.signing_alg"), e.to_string())
                })
            })
            .transpose()?,
        forwarded_claims: r.forwarded_claims.clone(),
        introspection_clients: r.introspection_clients.clone(),
    };
    resource.validate().map_err(|e| invalid(&setting, e.to_string()))?;
    Ok(resource)
}
