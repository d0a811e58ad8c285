//! What the audit log keeps of a source address: nothing when network
//! details are not kept at all, only its network when truncation is on
//! (IPv4 /24, IPv6 /48: enough to see where traffic comes from, not
//! enough to single out a household), the address otherwise.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::config::AuditConfig;

pub fn recorded(ip: IpAddr, config: &AuditConfig) -> Option<String> {
    if config.network_retention.is_zero() {
        return None;
    }
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    if !config.truncate_addresses {
        return Some(ip.to_string());
    }
    Some(match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{}/24", Ipv4Addr::new(a, b, c, 0))
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{}/48", Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(truncate: bool, retention_secs: u64) -> AuditConfig {
        let mut c = super::super::config::resolve(Default::default(), &|_| None).expect("defaults");
        c.truncate_addresses = truncate;
        c.network_retention = std::time::Duration::from_secs(retention_secs);
        c
    }

    #[test]
    fn addresses_are_kept_truncated_or_not_at_all() {
        let v4: IpAddr = "198.51.100.77".parse().expect("ip");
        let v6: IpAddr = "2001:db8:abcd:12:1:2:3:4".parse().expect("ip");
        let mapped: IpAddr = "::ffff:198.51.100.77".parse().expect("ip");
        assert_eq!(recorded(v4, &config(false, 60)).as_deref(), Some("198.51.100.77"));
        assert_eq!(recorded(mapped, &config(false, 60)).as_deref(), Some("198.51.100.77"));
        assert_eq!(recorded(v4, &config(true, 60)).as_deref(), Some("198.51.100.0/24"));
        assert_eq!(recorded(v6, &config(true, 60)).as_deref(), Some("2001:db8:abcd::/48"));
        assert_eq!(recorded(v4, &config(false, 0)), None);
    }
}
