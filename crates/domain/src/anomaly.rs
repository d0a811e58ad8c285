//! Anomaly detection over the stream of security events, per node: bursts
//! of failed sign-ins or failed client authentications, and one user's new
//! sessions coming from many source addresses in a short window. Reuse of a
//! refresh token or code is an anomaly by itself ([`AnomalyKind::of`]).
//!
//! Counting is a sliding window per key (account, address, client, user),
//! and a key is flagged at most once per window, so a long attack raises
//! one event per window rather than one per attempt. Memory is bounded:
//! at `max_keys` keys, idle keys are dropped and, if that is not enough,
//! the tenth of keys seen longest ago, at most once a second (so a spray
//! of new keys can neither grow memory nor make every event scan the map,
//! nor lock real accounts out of detection).

use std::collections::{HashMap, VecDeque};

use crate::event::{AnomalyKind, SecurityEvent};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnomalyThresholds {
    /// Failed sign-ins for one account, or from one address, within
    /// `login_failure_window` seconds (0: off).
    pub login_failures: u32,
    pub login_failure_window: u64,
    /// `invalid_client` answers for one client id, or to one address.
    pub invalid_client: u32,
    pub invalid_client_window: u64,
    /// Distinct source addresses of one user's new sessions.
    pub session_addresses: u32,
    pub session_window: u64,
    pub max_keys: usize,
}

impl Default for AnomalyThresholds {
    fn default() -> Self {
        AnomalyThresholds {
            login_failures: 10,
            login_failure_window: 300,
            invalid_client: 20,
            invalid_client_window: 300,
            session_addresses: 5,
            session_window: 600,
            max_keys: 100_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Account(String),
    Address(String),
    Client(String),
    Sessions(String),
}

#[derive(Debug, Default)]
struct Window {
    /// Times (seconds) of the occurrences still inside the window, oldest
    /// first, with the source address for session spread.
    seen: VecDeque<(i64, String)>,
    /// No new flag for this key before this time.
    quiet_until: i64,
}

#[derive(Debug, Default)]
pub struct AnomalyDetector {
    thresholds: AnomalyThresholds,
    windows: HashMap<Key, Window>,
    /// When the map was last made room in (seconds).
    last_eviction: Option<i64>,
}

impl AnomalyDetector {
    pub fn new(thresholds: AnomalyThresholds) -> Self {
        AnomalyDetector { thresholds, windows: HashMap::new(), last_eviction: None }
    }

    /// Whether `observe` can do anything with this event: a cheap check
    /// made before taking any lock.
    pub fn watches(event: &SecurityEvent) -> bool {
        matches!(
            event,
            SecurityEvent::LoginFailed { .. }
                | SecurityEvent::ClientAuthFailed { .. }
                | SecurityEvent::LoginSucceeded { .. }
        )
    }

    /// Records `event` (from `source`, at `now` seconds) and returns the
    /// anomalies it completes, each with the address it concerns, if any.
    pub fn observe(
        &mut self,
        event: &SecurityEvent,
        source: Option<&str>,
        now: i64,
    ) -> Vec<(SecurityEvent, Option<String>)> {
        let t = self.thresholds.clone();
        let mut found = Vec::new();
        match event {
            SecurityEvent::LoginFailed { username_hash, user_id, .. } => {
                // The typed name (hashed), known account or not, so that
                // throttled and refused attempts count together.
                let account = username_hash.clone();
                let subject = user_id.clone();
                if let Some(count) =
                    self.count(Key::Account(account), t.login_failures, t.login_failure_window, now, "")
                {
                    found.push((
                        burst(AnomalyKind::LoginFailureBurst, subject, None, count, t.login_failure_window),
                        None,
                    ));
                }
                if let Some(ip) = source
                    && let Some(count) =
                        self.count(Key::Address(ip.to_owned()), t.login_failures, t.login_failure_window, now, "")
                {
                    let event = burst(AnomalyKind::LoginFailureBurst, None, None, count, t.login_failure_window);
                    found.push((event, Some(ip.to_owned())));
                }
            }
            SecurityEvent::ClientAuthFailed { client_id, .. } => {
                let key = Key::Client(client_id.clone());
                if let Some(count) = self.count(key, t.invalid_client, t.invalid_client_window, now, "") {
                    let event = burst(
                        AnomalyKind::InvalidClientBurst,
                        None,
                        Some(client_id.clone()),
                        count,
                        t.invalid_client_window,
                    );
                    found.push((event, None));
                }
                if let Some(ip) = source
                    && let Some(count) = self.count(
                        Key::Address(format!("client@{ip}")),
                        t.invalid_client,
                        t.invalid_client_window,
                        now,
                        "",
                    )
                {
                    let event = burst(AnomalyKind::InvalidClientBurst, None, None, count, t.invalid_client_window);
                    found.push((event, Some(ip.to_owned())));
                }
            }
            SecurityEvent::LoginSucceeded { user_id, .. } => {
                if let Some(ip) = source
                    && let Some(count) =
                        self.count(Key::Sessions(user_id.clone()), t.session_addresses, t.session_window, now, ip)
                {
                    let event = burst(AnomalyKind::SessionSpread, Some(user_id.clone()), None, count, t.session_window);
                    found.push((event, None));
                }
            }
            _ => {}
        }
        found
    }

    /// Adds one occurrence under `key`; returns the count when it reaches
    /// `threshold` within `window` and the key is not already flagged. With
    /// a non-empty `distinct`, counts distinct values instead (addresses).
    fn count(&mut self, key: Key, threshold: u32, window: u64, now: i64, distinct: &str) -> Option<u64> {
        if threshold == 0 || window == 0 {
            return None;
        }
        let window = i64::try_from(window).unwrap_or(i64::MAX);
        if !self.windows.contains_key(&key) && self.windows.len() >= self.thresholds.max_keys {
            if self.last_eviction.is_none_or(|t| now > t) {
                self.last_eviction = Some(now);
                self.make_room(now);
            }
            if self.windows.len() >= self.thresholds.max_keys {
                return None;
            }
        }
        let w = self.windows.entry(key).or_default();
        while w.seen.front().is_some_and(|(t, _)| now.saturating_sub(*t) >= window) {
            w.seen.pop_front();
        }
        if !distinct.is_empty() {
            // One entry per address, refreshed to its latest time.
            w.seen.retain(|(_, a)| a != distinct);
        }
        w.seen.push_back((now, distinct.to_owned()));
        let threshold = threshold as usize;
        while w.seen.len() > threshold {
            w.seen.pop_front();
        }
        if w.seen.len() >= threshold && now >= w.quiet_until {
            w.quiet_until = now.saturating_add(window);
            return Some(w.seen.len() as u64);
        }
        None
    }

    /// Drops idle keys and, if the map is still full, the tenth seen
    /// longest ago.
    fn make_room(&mut self, now: i64) {
        self.prune(now);
        let max = self.thresholds.max_keys;
        if self.windows.len() < max {
            return;
        }
        let mut last_seen: Vec<i64> =
            self.windows.values().map(|w| w.seen.back().map_or(i64::MIN, |(t, _)| *t)).collect();
        let cut = (max / 10).max(1).min(last_seen.len().saturating_sub(1));
        let (_, threshold, _) = last_seen.select_nth_unstable(cut);
        let threshold = *threshold;
        self.windows.retain(|_, w| w.seen.back().map_or(i64::MIN, |(t, _)| *t) > threshold);
    }

    /// Drops keys whose occurrences and flag have all run out.
    fn prune(&mut self, now: i64) {
        let t = &self.thresholds;
        let longest = t.login_failure_window.max(t.invalid_client_window).max(t.session_window);
        let longest = i64::try_from(longest).unwrap_or(i64::MAX);
        self.windows
            .retain(|_, w| now < w.quiet_until || w.seen.back().is_some_and(|(t, _)| now.saturating_sub(*t) < longest));
    }
}

fn burst(
    kind: AnomalyKind,
    subject: Option<String>,
    client_id: Option<String>,
    count: u64,
    window_secs: u64,
) -> SecurityEvent {
    SecurityEvent::AnomalyDetected { kind, subject, client_id, count, window_secs }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(user: &str) -> SecurityEvent {
        SecurityEvent::LoginFailed {
            username: None,
            username_hash: format!("h-{user}"),
            user_id: None,
            reason: "wrong_credentials".into(),
        }
    }

    fn small() -> AnomalyThresholds {
        AnomalyThresholds {
            login_failures: 3,
            login_failure_window: 60,
            invalid_client: 2,
            invalid_client_window: 60,
            session_addresses: 3,
            session_window: 60,
            max_keys: 100,
        }
    }

    #[test]
    fn a_burst_of_failures_is_flagged_once_per_window() {
        let mut d = AnomalyDetector::new(small());
        assert!(d.observe(&failed("alice"), Some("10.0.0.1"), 0).is_empty());
        assert!(d.observe(&failed("alice"), Some("10.0.0.2"), 10).is_empty());
        let found = d.observe(&failed("alice"), Some("10.0.0.3"), 20);
        assert_eq!(found.len(), 1, "the account reached 3, no address did");
        assert!(matches!(
            &found[0].0,
            SecurityEvent::AnomalyDetected { kind: AnomalyKind::LoginFailureBurst, count: 3, .. }
        ));
        assert!(d.observe(&failed("alice"), Some("10.0.0.4"), 30).is_empty(), "flagged once per window");
        // After the window, a new burst is flagged again.
        for t in [100, 101] {
            assert!(d.observe(&failed("alice"), None, t).is_empty());
        }
        assert_eq!(d.observe(&failed("alice"), None, 102).len(), 1);
    }

    #[test]
    fn failures_spread_over_time_are_not_a_burst() {
        let mut d = AnomalyDetector::new(small());
        for t in [0, 40, 80, 120, 160] {
            assert!(d.observe(&failed("bob"), None, t).is_empty(), "at {t}");
        }
    }

    #[test]
    fn one_address_failing_for_many_accounts_is_flagged_with_its_address() {
        let mut d = AnomalyDetector::new(small());
        d.observe(&failed("a"), Some("192.0.2.9"), 0);
        d.observe(&failed("b"), Some("192.0.2.9"), 1);
        let found = d.observe(&failed("c"), Some("192.0.2.9"), 2);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].1.as_deref(), Some("192.0.2.9"));
    }

    #[test]
    fn sessions_from_many_addresses_are_flagged_not_many_from_one() {
        let mut d = AnomalyDetector::new(small());
        let login = SecurityEvent::LoginSucceeded {
            user_id: "u1".into(),
            session_id: "s".into(),
            acr: "1".into(),
            amr: vec!["pwd".into()],
        };
        for t in 0..10 {
            assert!(d.observe(&login, Some("10.1.1.1"), t).is_empty(), "one address is not a spread");
        }
        assert!(d.observe(&login, Some("10.1.1.2"), 11).is_empty());
        let found = d.observe(&login, Some("10.1.1.3"), 12);
        assert!(matches!(
            &found[..],
            [(SecurityEvent::AnomalyDetected { kind: AnomalyKind::SessionSpread, subject: Some(s), .. }, None)] if s == "u1"
        ));
    }

    #[test]
    fn invalid_client_bursts_per_client() {
        let mut d = AnomalyDetector::new(small());
        let e = SecurityEvent::ClientAuthFailed { client_id: "svc".into(), reason: "wrong secret".into() };
        assert!(d.observe(&e, None, 0).is_empty());
        let found = d.observe(&e, None, 1);
        assert!(matches!(
            &found[..],
            [(SecurityEvent::AnomalyDetected { kind: AnomalyKind::InvalidClientBurst, client_id: Some(c), .. }, None)] if c == "svc"
        ));
    }

    #[test]
    fn memory_is_bounded_and_a_spray_cannot_blind_detection() {
        let mut d = AnomalyDetector::new(AnomalyThresholds { max_keys: 10, ..small() });
        for i in 0..1000 {
            d.observe(&failed(&format!("user{i}")), None, 0);
        }
        assert!(d.windows.len() <= 10);
        // A second later the oldest tenth makes way, even under the spray,
        // and a real burst is still seen.
        for t in [1, 1, 1] {
            d.observe(&failed(&format!("spray{t}")), None, t);
        }
        let mut found = Vec::new();
        for t in 2..5 {
            found.extend(d.observe(&failed("victim"), None, t));
        }
        assert!(d.windows.len() <= 10);
        assert_eq!(found.len(), 1, "the burst on the victim is flagged");
        // Once the old keys are idle past their window, new ones fit again.
        d.observe(&failed("late"), None, 1000);
        assert!(d.windows.contains_key(&Key::Account("h-late".into())));
    }

    #[test]
    fn zero_disables_a_rule() {
        let mut d = AnomalyDetector::new(AnomalyThresholds { login_failures: 0, ..small() });
        for t in 0..10 {
            assert!(d.observe(&failed("x"), Some("10.0.0.1"), t).is_empty());
        }
    }
}
