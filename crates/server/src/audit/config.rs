//! The `[audit]` section: how long events and their network details are
//! kept, the writer's queue, and the anomaly thresholds and webhook.

use std::time::Duration;

use latchkey_domain::Secret;
use latchkey_domain::anomaly::AnomalyThresholds;
use serde::Deserialize;

use crate::config::{ConfigError, ValueRef, duration, invalid};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditFile {
    /// Events older than this are deleted by the sweeper.
    pub retention: Option<String>,
    /// Source addresses and user agents are cleared from events older than
    /// this ("0s": never recorded).
    pub network_retention: Option<String>,
    /// Record only an address's network (IPv4 /24, IPv6 /48).
    pub truncate_addresses: Option<bool>,
    /// Events waiting to be written; beyond it they are dropped (counted).
    pub queue_capacity: Option<usize>,
    /// At most this many events per write.
    pub batch: Option<usize>,
    /// This node's name on its events (default: host name and listen port).
    pub node: Option<String>,
    #[serde(default)]
    pub anomalies: AnomaliesFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnomaliesFile {
    pub login_failures: Option<u32>,
    pub login_failure_window: Option<String>,
    pub invalid_client: Option<u32>,
    pub invalid_client_window: Option<String>,
    pub session_addresses: Option<u32>,
    pub session_window: Option<String>,
    /// Flagged events are POSTed here, signed like signals.
    pub webhook_url: Option<String>,
    pub webhook_secret: Option<ValueRef>,
}

#[derive(Debug, Clone)]
pub struct AuditConfig {
    pub retention: Duration,
    pub network_retention: Duration,
    pub truncate_addresses: bool,
    pub queue_capacity: usize,
    pub batch: usize,
    pub node: Option<String>,
    pub anomalies: AnomalyThresholds,
    pub webhook: Option<WebhookConfig>,
}

#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub url: String,
    pub secret: Secret,
}

fn seconds(setting: &str, value: Option<&String>, default: u64) -> Result<u64, ConfigError> {
    Ok(duration(setting, value, Duration::from_secs(default))?.as_secs())
}

pub fn resolve(file: AuditFile, env: &dyn Fn(&str) -> Option<String>) -> Result<AuditConfig, ConfigError> {
    let a = file.anomalies;
    let defaults = AnomalyThresholds::default();
    let webhook = match (a.webhook_url, a.webhook_secret) {
        (None, None) => None,
        (Some(_), None) => {
            return Err(invalid("audit.anomalies.webhook_secret", "a webhook needs a secret to sign its deliveries"));
        }
        (None, Some(_)) => return Err(invalid("audit.anomalies.webhook_url", "a webhook secret needs a URL")),
        (Some(url), Some(secret)) => {
            let parsed = url::Url::parse(&url)
                .map_err(|_| invalid("audit.anomalies.webhook_url", format!("{url:?} is not an absolute URL")))?;
            if !matches!(parsed.scheme(), "https" | "http") {
                return Err(invalid("audit.anomalies.webhook_url", "use an https (or http) URL"));
            }
            let secret = secret.resolve("audit.anomalies.webhook_secret", env)?;
            if !crate::config::secret_has_enough_entropy(secret.expose()) {
                return Err(invalid(
                    "audit.anomalies.webhook_secret",
                    "too weak: use at least 256 random bits (e.g. `openssl rand -hex 32`)",
                ));
            }
            Some(WebhookConfig { url, secret })
        }
    };
    Ok(AuditConfig {
        retention: duration("audit.retention", file.retention.as_ref(), Duration::from_secs(90 * 86400))?,
        network_retention: duration(
            "audit.network_retention",
            file.network_retention.as_ref(),
            Duration::from_secs(7 * 86400),
        )?,
        truncate_addresses: file.truncate_addresses.unwrap_or(false),
        queue_capacity: file.queue_capacity.unwrap_or(10_000).max(1),
        batch: file.batch.unwrap_or(500).clamp(1, 10_000),
        node: file.node,
        anomalies: AnomalyThresholds {
            login_failures: a.login_failures.unwrap_or(defaults.login_failures),
            login_failure_window: seconds(
                "audit.anomalies.login_failure_window",
                a.login_failure_window.as_ref(),
                defaults.login_failure_window,
            )?,
            invalid_client: a.invalid_client.unwrap_or(defaults.invalid_client),
            invalid_client_window: seconds(
                "audit.anomalies.invalid_client_window",
                a.invalid_client_window.as_ref(),
                defaults.invalid_client_window,
            )?,
            session_addresses: a.session_addresses.unwrap_or(defaults.session_addresses),
            session_window: seconds(
                "audit.anomalies.session_window",
                a.session_window.as_ref(),
                defaults.session_window,
            )?,
            max_keys: defaults.max_keys,
        },
        webhook,
    })
}
