//! Request rate limits per source address and per client, in memory, per
//! node (a limit of N per minute on each of K nodes behind a balancer lets
//! a caller make up to K·N; see docs/operations.md). Over the limit: 429
//! with `Retry-After`.
//!
//! Counting is a sliding window over two fixed one-minute windows (the
//! previous window's count weighted by how much of it still overlaps), so a
//! burst at a window's edge cannot double the rate. Memory is bounded: at
//! most `MAX_KEYS` keys per shard are tracked; beyond that the oldest
//! windows are forgotten.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::sync::Mutex;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use latchkey_domain::{ErrorCode, UnixTime};

use crate::error::ApiError;
use crate::state::AppState;

const WINDOW: i64 = 60;
const SHARDS: usize = 16;
const MAX_KEYS: usize = 50_000;

/// What is limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    TokenByAddress,
    TokenByClient,
    LoginByAddress,
    AuthorizeByAddress,
    /// `request.refused` audit events per client: a client (or someone
    /// naming a public client) cannot flood the audit log.
    RefusalsByClient,
}

#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    window: i64,
    current: u32,
    previous: u32,
}

pub struct RateLimiter {
    shards: Vec<Mutex<HashMap<(Class, String), Counts>>>,
}

impl Default for RateLimiter {
    fn default() -> Self {
        RateLimiter { shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect() }
    }
}

impl RateLimiter {
    /// Counts one request; `Err(seconds)` to wait if it is over `per_minute`
    /// (0: unlimited). A refused request is not counted.
    pub fn check(&self, class: Class, key: &str, per_minute: u32, now: UnixTime) -> Result<(), u64> {
        if per_minute == 0 {
            return Ok(());
        }
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (class, key).hash(&mut h);
        let Some(shard) = self.shards.get((h.finish() as usize) % SHARDS) else { return Ok(()) };
        let mut map = shard.lock().unwrap_or_else(|p| p.into_inner());
        let window = now.0.div_euclid(WINDOW);
        if map.len() >= MAX_KEYS && !map.contains_key(&(class, key.to_owned())) {
            map.retain(|_, c| c.window >= window);
            if map.len() >= MAX_KEYS {
                map.clear();
            }
        }
        let c = map.entry((class, key.to_owned())).or_default();
        if c.window != window {
            c.previous = if c.window == window - 1 { c.current } else { 0 };
            c.current = 0;
            c.window = window;
        }
        // The share of the previous window still inside the last minute.
        let elapsed = now.0.rem_euclid(WINDOW);
        let weight = (WINDOW - elapsed) as f64 / WINDOW as f64;
        let estimate = f64::from(c.previous) * weight + f64::from(c.current);
        if estimate + 1.0 > f64::from(per_minute) {
            return Err(u64::try_from(WINDOW - elapsed).unwrap_or(1).max(1));
        }
        c.current = c.current.saturating_add(1);
        Ok(())
    }
}

/// The 429 answer.
pub fn too_many(retry_after: u64, what: &str) -> ApiError {
    let mut e = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::TemporarilyUnavailable,
        format!("too many requests {what}; retry after {retry_after} s"),
    );
    e.retry_after = Some(retry_after);
    e
}

/// Per-address limits of the sign-in and token endpoints, before any work.
pub async fn by_address(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let connect = req.extensions().get::<ConnectInfo<std::net::SocketAddr>>().copied();
    let limits = &state.config.rate_limits;
    let post = req.method() == Method::POST;
    let class_limit = match req.uri().path().strip_prefix(state.issuer.path()) {
        Some("/token") if post => Some((Class::TokenByAddress, limits.token_per_address)),
        Some("/login") if post => Some((Class::LoginByAddress, limits.login_per_address)),
        Some("/authorize") => Some((Class::AuthorizeByAddress, limits.authorize_per_address)),
        _ => None,
    };
    if let (Some((class, limit)), Some(ConnectInfo(peer))) = (class_limit, connect) {
        let key = address_key(peer.ip());
        if let Err(wait) = state.rate_limiter.check(class, &key, limit, UnixTime::now()) {
            state.metrics.observe_rate_limited(class);
            return too_many(wait, "from this address").into_response();
        }
    }
    next.run(req).await
}

/// IPv6 clients usually hold a whole /64: limit the prefix, not the address.
fn address_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_up_to_the_limit_then_says_how_long_to_wait() {
        let l = RateLimiter::default();
        let t = UnixTime(1_800_000_000); // a multiple of 60: a window's start
        for _ in 0..5 {
            assert!(l.check(Class::LoginByAddress, "a", 5, t).is_ok());
        }
        assert_eq!(l.check(Class::LoginByAddress, "a", 5, t), Err(60));
        assert!(l.check(Class::LoginByAddress, "b", 5, t).is_ok(), "per key");
        assert!(l.check(Class::TokenByAddress, "a", 5, t).is_ok(), "per class");
        assert!(l.check(Class::LoginByAddress, "a", 0, t).is_ok(), "0 is unlimited");
        // Half a window later the previous window still weighs half.
        let later = UnixTime(t.0 + 90);
        assert!(l.check(Class::LoginByAddress, "a", 5, later).is_ok());
        assert!(l.check(Class::LoginByAddress, "a", 5, later).is_ok());
        assert!(l.check(Class::LoginByAddress, "a", 5, later).is_err(), "2.5 + 2 + 1 > 5");
        // Two windows later the past is gone.
        assert!(l.check(Class::LoginByAddress, "a", 5, UnixTime(t.0 + 240)).is_ok());
    }

    #[test]
    fn ipv6_is_limited_by_prefix() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_eq!(address_key("::ffff:192.0.2.1".parse().unwrap()), "192.0.2.1");
    }
}
