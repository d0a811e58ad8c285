//! Throttling failed logins (RFC 9700 §4.14 spirit, OWASP's guidance):
//! per account and per source address, with exponential backoff instead of
//! a lockout. A lockout would let anyone lock any user out by failing on
//! purpose; backoff keeps guessing slow while the owner can still get in
//! once the pause is over.
//!
//! Accounts are keyed by the *submitted* username, known or not: throttling
//! then says nothing about which usernames exist.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures tolerated before the first pause.
    pub free_failures: u32,
    /// The first pause; each further failure doubles it.
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Failures older than this are forgotten.
    pub window: Duration,
}

impl ThrottlePolicy {
    /// After the `failures`-th failure in the window: how long the next
    /// attempt must wait (`None`: it need not).
    pub fn pause_after(&self, failures: u32) -> Option<Duration> {
        let over = failures.checked_sub(self.free_failures)?;
        let factor = 1u32.checked_shl(over.min(31)).unwrap_or(u32::MAX);
        Some(self.base_delay.saturating_mul(factor).min(self.max_delay))
    }
}

/// What is throttled: an account name or a source address.
pub fn account_key(username: &str) -> String {
    format!("account:{}", username.trim().to_lowercase())
}

/// IPv6 clients usually hold a whole /64: throttle the prefix, or one
/// client would get 2^64 fresh addresses to guess from.
pub fn address_key(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => format!("address:{v4}"),
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => format!("address:{v4}"),
            None => {
                let s = v6.segments();
                format!("address:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let p = ThrottlePolicy {
            free_failures: 5,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
            window: Duration::from_secs(900),
        };
        assert_eq!(p.pause_after(4), None);
        assert_eq!(p.pause_after(5), Some(Duration::from_secs(1)));
        assert_eq!(p.pause_after(6), Some(Duration::from_secs(2)));
        assert_eq!(p.pause_after(9), Some(Duration::from_secs(16)));
        assert_eq!(p.pause_after(40), Some(Duration::from_secs(60)));
        assert_eq!(p.pause_after(u32::MAX), Some(Duration::from_secs(60)));
    }

    #[test]
    fn keys() {
        assert_eq!(account_key(" Alice "), "account:alice");
        assert_eq!(address_key("192.0.2.1".parse().unwrap()), "address:192.0.2.1");
        assert_eq!(address_key("2001:db8:1:2:3:4:5:6".parse().unwrap()), "address:2001:db8:1:2::/64");
        assert_eq!(address_key("::ffff:192.0.2.1".parse().unwrap()), "address:192.0.2.1");
    }
}
