//! The outbound-request guard: the only way Latchkey reaches out to a URL
//! someone else chose (a client's `jwks_uri` or `backchannel_logout_uri`,
//! a trusted issuer's keys). Such a URL must not turn the
//! server into a proxy into its own network (SSRF, RFC 9700 §4.15 in
//! spirit): only https (plain http to loopback when allowed), every
//! resolved address public, the connection pinned to the vetted addresses
//! (so DNS cannot be rebound between check and connect), no redirects, a
//! timeout and a size limit.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use crate::config::OutboundConfig;

/// Larger documents are refused: a JWKS is a few kilobytes.
pub const MAX_BODY: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    #[error("{0}")]
    Refused(String),
    #[error("fetching failed: {0}")]
    Fetch(String),
}

/// A fetched document and how long its server says it may be cached.
pub struct Fetched {
    pub body: Vec<u8>,
    pub max_age: Option<Duration>,
}

/// Fetches `url` with GET, under the guard's rules.
pub async fn fetch(config: &OutboundConfig, url: &str) -> Result<Fetched, OutboundError> {
    let (client, parsed) = guarded_client(config, url).await?;
    let mut response = client
        .get(parsed)
        .header(reqwest::header::ACCEPT, "application/json, application/jwk-set+json")
        .send()
        .await
        .map_err(|e| OutboundError::Fetch(e.without_url().to_string()))?;
    if response.status() != reqwest::StatusCode::OK {
        return Err(OutboundError::Fetch(format!("status {}", response.status().as_u16())));
    }
    if response.content_length().is_some_and(|l| l > MAX_BODY as u64) {
        return Err(OutboundError::Refused(format!("the document is larger than {MAX_BODY} bytes")));
    }
    let max_age =
        response.headers().get(reqwest::header::CACHE_CONTROL).and_then(|v| v.to_str().ok()).and_then(max_age);
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| OutboundError::Fetch(e.without_url().to_string()))? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(OutboundError::Refused(format!("the document is larger than {MAX_BODY} bytes")));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Fetched { body, max_age })
}

/// POSTs a form to `url` under the guard's rules; the answer's status.
pub async fn post_form(config: &OutboundConfig, url: &str, form: &[(&str, &str)]) -> Result<u16, OutboundError> {
    let (client, parsed) = guarded_client(config, url).await?;
    let response =
        client.post(parsed).form(form).send().await.map_err(|e| OutboundError::Fetch(e.without_url().to_string()))?;
    Ok(response.status().as_u16())
}

/// Checks `url` and resolves it; a client that can only reach the vetted
/// addresses, follows no redirect and gives up after the timeout.
async fn guarded_client(config: &OutboundConfig, url: &str) -> Result<(reqwest::Client, url::Url), OutboundError> {
    let parsed = url::Url::parse(url).map_err(|_| OutboundError::Refused(format!("{url:?} is not a URL")))?;
    let host = parsed.host_str().ok_or_else(|| OutboundError::Refused("the URL has no host".into()))?.to_string();
    match parsed.scheme() {
        "https" => {}
        "http" if config.allow_loopback => {}
        other => return Err(OutboundError::Refused(format!("scheme {other} is not allowed; use https"))),
    }
    let port = parsed.port_or_known_default().unwrap_or(443);
    let bare_host = host.trim_start_matches('[').trim_end_matches(']').to_string();
    let addrs: Vec<SocketAddr> =
        tokio::time::timeout(config.timeout, tokio::net::lookup_host((bare_host.as_str(), port)))
            .await
            .map_err(|_| OutboundError::Fetch(format!("resolving {host} timed out")))?
            .map_err(|e| OutboundError::Fetch(format!("resolving {host}: {e}")))?
            .collect();
    if addrs.is_empty() {
        return Err(OutboundError::Fetch(format!("{host} has no address")));
    }
    if let Some(bad) = addrs.iter().find(|a| !allowed(a.ip(), config.allow_loopback)) {
        return Err(OutboundError::Refused(format!("{host} resolves to {}, which is not a public address", bad.ip())));
    }
    if parsed.scheme() == "http" && !addrs.iter().all(|a| a.ip().is_loopback()) {
        return Err(OutboundError::Refused("plain http is only allowed to loopback addresses".into()));
    }
    let client = reqwest::Client::builder()
        // A proxy would resolve the name itself, undoing the checks above.
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(config.timeout)
        .resolve_to_addrs(&bare_host, &addrs)
        .build()
        .map_err(|e| OutboundError::Fetch(e.to_string()))?;
    Ok((client, parsed))
}

fn max_age(cache_control: &str) -> Option<Duration> {
    cache_control.split(',').find_map(|d| {
        let (name, value) = d.trim().split_once('=')?;
        name.eq_ignore_ascii_case("max-age").then(|| value.trim().parse().ok().map(Duration::from_secs))?
    })
}

/// Public unicast addresses only: never the host itself (unless allowed),
/// private networks, link-local (cloud metadata lives there), shared or
/// reserved ranges.
pub fn allowed(ip: IpAddr, allow_loopback: bool) -> bool {
    match ip {
        IpAddr::V4(v4) => v4_allowed(v4, allow_loopback),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4_allowed(v4, allow_loopback),
            None => v6_allowed(v6, allow_loopback),
        },
    }
}

fn v4_allowed(ip: Ipv4Addr, allow_loopback: bool) -> bool {
    if ip.is_loopback() {
        return allow_loopback;
    }
    let [a, b, c, _] = ip.octets();
    let shared = a == 100 && (64..128).contains(&b); // RFC 6598
    let reserved = a >= 240 || a == 0;
    let benchmarking = a == 198 && (b == 18 || b == 19); // RFC 2544
    let protocol_assignments = a == 192 && b == 0 && c == 0; // RFC 6890
    !(ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || ip.is_unspecified()
        || shared
        || reserved
        || benchmarking
        || protocol_assignments)
}

fn v6_allowed(ip: Ipv6Addr, allow_loopback: bool) -> bool {
    if ip.is_loopback() {
        return allow_loopback;
    }
    let seg = ip.segments();
    let unique_local = (seg[0] & 0xfe00) == 0xfc00;
    let link_local = (seg[0] & 0xffc0) == 0xfe80;
    let site_local = (seg[0] & 0xffc0) == 0xfec0;
    // Addresses that embed an IPv4 one (NAT64, 6to4, IPv4-compatible):
    // judged by the IPv4 address they lead to, so refused unless public.
    let embedded = match seg {
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] | [0, 0, 0, 0, 0, 0, hi, lo] => Some((hi, lo)),
        [0x2002, hi, lo, ..] => Some((hi, lo)),
        _ => None,
    };
    if let Some((hi, lo)) = embedded {
        let v4 = Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
        return v4_allowed(v4, false);
    }
    !(ip.is_unspecified() || ip.is_multicast() || unique_local || link_local || site_local)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_pass() {
        for bad in [
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "198.18.0.1",
            "fe80::1",
            "fd00::1",
            "fec0::1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:a9fe:a9fe::1",
            "::7f00:1",
        ] {
            assert!(!allowed(bad.parse().unwrap(), true), "{bad}");
        }
        assert!(!allowed("127.0.0.1".parse().unwrap(), false));
        assert!(allowed("127.0.0.1".parse().unwrap(), true));
        assert!(!allowed("::1".parse().unwrap(), false));
        for good in ["93.184.216.34", "2606:2800:220:1::1"] {
            assert!(allowed(good.parse().unwrap(), false), "{good}");
        }
    }

    #[test]
    fn max_age_is_read() {
        assert_eq!(max_age("public, max-age=600"), Some(Duration::from_secs(600)));
        assert_eq!(max_age("no-cache"), None);
    }
}
