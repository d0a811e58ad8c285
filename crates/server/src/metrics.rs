//! Prometheus metrics. Labels are bounded by construction: the route is the
//! matched route template (never the raw path), so an attacker cannot blow
//! up cardinality with random URLs.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: &'static str,
    pub route: &'static str,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: &'static str,
    pub route: &'static str,
}

/// Label values without an allocation per request: methods map to static
/// names, and route templates (a fixed set: the router's) are interned once.
fn method_label(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "POST" => "POST",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "PATCH" => "PATCH",
        _ => "other",
    }
}

fn route_label(route: &str) -> &'static str {
    static ROUTES: std::sync::RwLock<Vec<&'static str>> = std::sync::RwLock::new(Vec::new());
    let read = ROUTES.read().unwrap_or_else(|p| p.into_inner());
    if let Some(r) = read.iter().find(|r| **r == route) {
        return r;
    }
    drop(read);
    let mut write = ROUTES.write().unwrap_or_else(|p| p.into_inner());
    // Bounded: only the router's templates and "unmatched" ever get here.
    if write.len() >= 256 {
        return "other";
    }
    let leaked: &'static str = Box::leak(route.to_string().into_boxed_str());
    write.push(leaked);
    leaked
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GrantLabels {
    pub grant_type: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DecisionLabels {
    pub decision: &'static str,
    /// `hit` or `miss` of the decision cache.
    pub cache: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LimitLabels {
    pub limit: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AuditLabels {
    /// `written`, `dropped_queue_full` or `dropped_write_failed`.
    pub result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AnomalyLabels {
    pub kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PoolLabels {
    pub state: &'static str,
}

type HistogramFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub latency: HistogramFamily,
    pub pool: Family<PoolLabels, Gauge>,
    /// Tokens issued per grant: counted, not one event each (an event per
    /// token at thousands per second would be its own bottleneck).
    pub tokens_issued: Family<GrantLabels, Counter>,
    /// Authorization decisions by outcome and cache result: the cache's
    /// hit ratio is hits / (hits + misses).
    pub decisions: Family<DecisionLabels, Counter>,
    /// Requests refused with 429, by limit.
    pub rate_limited: Family<LimitLabels, Counter>,
    /// Audit events written or dropped (a full queue never blocks).
    pub audit_events: Family<AuditLabels, Counter>,
    /// Anomalies flagged, by kind.
    pub anomalies: Family<AnomalyLabels, Counter>,
    /// Anomaly webhook deliveries by result (`delivered`, `failed`, `dropped`).
    pub webhook_deliveries: Family<AuditLabels, Counter>,
}

fn latency_histogram() -> Histogram {
    // 50 µs … ~1.6 s
    Histogram::new(exponential_buckets(0.000_05, 2.0, 16))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("latchkey");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency: HistogramFamily = Family::new_with_constructor(latency_histogram);
        let pool = Family::<PoolLabels, Gauge>::default();
        registry.register("http_requests", "HTTP requests by method, route and status", requests.clone());
        registry.register("http_request_duration_seconds", "HTTP request latency by method and route", latency.clone());
        registry.register("db_pool_connections", "Database pool connections by state", pool.clone());
        let tokens_issued = Family::<GrantLabels, Counter>::default();
        registry.register("tokens_issued", "Access tokens issued by grant type", tokens_issued.clone());
        let decisions = Family::<DecisionLabels, Counter>::default();
        registry.register(
            "authz_decisions",
            "Authorization decisions by outcome and decision-cache result",
            decisions.clone(),
        );
        let rate_limited = Family::<LimitLabels, Counter>::default();
        registry.register("rate_limited", "Requests refused with 429 by rate limit", rate_limited.clone());
        let audit_events = Family::<AuditLabels, Counter>::default();
        registry.register("audit_events", "Audit events written, or dropped, by result", audit_events.clone());
        let anomalies = Family::<AnomalyLabels, Counter>::default();
        registry.register("anomalies", "Anomalies flagged in the audit log, by kind", anomalies.clone());
        let webhook_deliveries = Family::<AuditLabels, Counter>::default();
        registry.register(
            "anomaly_webhook_deliveries",
            "Anomaly webhook deliveries by result",
            webhook_deliveries.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            pool,
            tokens_issued,
            decisions,
            rate_limited,
            audit_events,
            anomalies,
            webhook_deliveries,
        }
    }
}

impl Metrics {
    /// `route` must be a route template (or "unmatched"), never a raw path.
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let (method, route) = (method_label(method), route_label(route));
        self.requests.get_or_create(&RequestLabels { method, route, status }).inc();
        self.latency.get_or_create(&RouteLabels { method, route }).observe(seconds);
    }

    pub fn observe_decision(&self, allow: bool, cache_hit: bool) {
        let labels = DecisionLabels {
            decision: if allow { "allow" } else { "deny" },
            cache: if cache_hit { "hit" } else { "miss" },
        };
        self.decisions.get_or_create(&labels).inc();
    }

    pub fn observe_rate_limited(&self, class: crate::rate_limit::Class) {
        use crate::rate_limit::Class;
        let limit = match class {
            Class::TokenByAddress => "token_per_address",
            Class::TokenByClient => "token_per_client",
            Class::LoginByAddress => "login_per_address",
            Class::AuthorizeByAddress => "authorize_per_address",
            Class::RefusalsByClient => "refusal_events_per_client",
        };
        self.rate_limited.get_or_create(&LimitLabels { limit }).inc();
    }

    pub fn set_pool(&self, open: u32, idle: u32, max: u32) {
        for (state, v) in [("open", open), ("idle", idle), ("max", max)] {
            self.pool.get_or_create(&PoolLabels { state }).set(i64::from(v));
        }
    }

    /// The OpenMetrics text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
