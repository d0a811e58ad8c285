//! Matching a presented redirect URI against the registered ones (RFC 6749
//! §3.1.2.3, RFC 9700 §4.1.3: exact string comparison). The one exception
//! is RFC 8252 §7.3: for native apps on a loopback IP literal the port may
//! vary, since the app picks a free port at run time. `localhost` gets no
//! such treatment (RFC 8252 §8.3).

fn loopback_without_port(uri: &str) -> Option<String> {
    let parsed = url::Url::parse(uri).ok()?;
    if parsed.scheme() != "http" {
        return None;
    }
    let loopback_literal = match parsed.host()? {
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
        url::Host::Domain(_) => false,
    };
    if !loopback_literal {
        return None;
    }
    let mut normalised = parsed;
    normalised.set_port(None).ok()?;
    Some(normalised.to_string())
}

pub fn matches(registered: &str, presented: &str) -> bool {
    if registered == presented {
        return true;
    }
    match (loopback_without_port(registered), loopback_without_port(presented)) {
        (Some(r), Some(p)) => r == p,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_except_loopback_port() {
        assert!(matches("https://app.example.com/cb", "https://app.example.com/cb"));
        assert!(!matches("https://app.example.com/cb", "https://app.example.com/cb/"));
        assert!(!matches("https://app.example.com/cb", "https://app.example.com/cb?x=1"));
        assert!(!matches("https://app.example.com/cb", "https://APP.example.com/cb"));
        assert!(matches("http://127.0.0.1/cb", "http://127.0.0.1:51234/cb"));
        assert!(matches("http://[::1]:80/cb", "http://[::1]:4000/cb"));
        assert!(!matches("http://127.0.0.1/cb", "http://127.0.0.1:5000/other"));
        assert!(!matches("http://localhost/cb", "http://localhost:5000/cb"));
        assert!(!matches("https://127.0.0.1/cb", "https://127.0.0.1:5000/cb"));
    }
}
