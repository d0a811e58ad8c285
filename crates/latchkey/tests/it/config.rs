//! Configuration parsing and its errors: each names the setting and the fix.

use std::collections::HashMap;

use latchkey_server::config::{Config, Overrides};

const SECRET: &str = "Zq3v9XkP2mWc7TbN4hRyL8sDfGj6aE1uKo5iCxBwVnM";

fn parse(toml: &str) -> Result<Config, String> {
    parse_with(toml, &Overrides::default(), &HashMap::new())
}

fn parse_with(toml: &str, o: &Overrides, env: &HashMap<String, String>) -> Result<Config, String> {
    Config::from_toml(toml, o, env).map_err(|e| e.to_string())
}

#[test]
fn defaults() {
    let c = parse("").unwrap();
    assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.issuer, None, "derived from the bound address");
    assert!(c.database_url.expose().starts_with("sqlite://"));
    assert!(c.database_url.expose().ends_with("latchkey-data/latchkey.db"));
    assert_eq!(c.tokens.access_token_ttl.as_secs(), 300);
    assert_eq!(c.tokens.authorization_code_ttl.as_secs(), 60);
    assert_eq!(c.keys.algorithms.iter().map(|a| a.as_str()).collect::<Vec<_>>(), ["ES256", "RS256"]);
    assert!(c.keys.jwks_max_age() < c.keys.prepublish);
}

#[test]
fn flags_override_the_file() {
    let o = Overrides { listen: Some("127.0.0.1:9999".into()), ..Overrides::default() };
    let c = parse_with("listen = \"127.0.0.1:7777\"\nlog_format = \"json\"", &o, &HashMap::new()).unwrap();
    assert_eq!(c.listen.port(), 9999);
    assert_eq!(c.log_format, latchkey_server::config::LogFormat::Json);
}

#[test]
fn issuer_rules() {
    assert!(
        parse("issuer = \"https://auth.example.com/\"").unwrap().issuer.as_deref() == Some("https://auth.example.com")
    );
    assert!(parse("issuer = \"http://127.0.0.1:8080\"").is_ok());
    let e = parse("issuer = \"http://auth.example.com\"").unwrap_err();
    assert!(e.contains("must use https"), "{e}");
    let e = parse("issuer = \"https://auth.example.com/?tenant=a\"").unwrap_err();
    assert!(e.contains("query"), "{e}");
    let e = parse("listen = \"0.0.0.0:8080\"").unwrap_err();
    assert!(e.contains("--issuer"), "{e}");
    // --dev allows plain http but only on loopback.
    let dev = Overrides { dev: true, listen: Some("0.0.0.0:8080".into()), ..Overrides::default() };
    let e = parse_with("", &dev, &HashMap::new()).unwrap_err();
    assert!(e.contains("--dev refuses"), "{e}");
}

#[test]
fn malformed_files_and_values() {
    let e = parse("listen = ").unwrap_err();
    assert!(e.contains("not valid"), "{e}");
    let e = parse("lisen = \"127.0.0.1:1\"").unwrap_err();
    assert!(e.contains("unknown field"), "a typo is an error: {e}");
    let e = parse("[tokens]\naccess_token_ttl = \"five minutes\"").unwrap_err();
    assert!(e.contains("tokens.access_token_ttl") && e.contains("5m"), "{e}");
    let e = parse("[tokens]\nauthorization_code_ttl = \"1h\"").unwrap_err();
    assert!(e.contains("at most 10 minutes"), "{e}");
    let e = parse("[keys]\nretention = \"1m\"").unwrap_err();
    assert!(e.contains("longest token lifetime"), "{e}");
    let e = parse("[keys]\nalgorithms = [\"HS256\"]").unwrap_err();
    assert!(e.contains("unsupported signing algorithm"), "{e}");
    let e = parse("database_url = \"mysql://x\"").unwrap_err();
    assert!(e.contains("sqlite:PATH or postgres://"), "{e}");
    let e = parse("[audit.anomalies]\nwebhook_url = \"https://siem.example/hook\"").unwrap_err();
    assert!(e.contains("audit.anomalies.webhook_secret") && e.contains("secret"), "{e}");
    let e = parse("[audit.anomalies]\nwebhook_url = \"https://siem.example/hook\"\nwebhook_secret = \"short\"")
        .unwrap_err();
    assert!(e.contains("too weak"), "{e}");
    let e = parse("[audit.anomalies]\nwebhook_url = \"ftp://siem.example/hook\"\nwebhook_secret = \"x\"").unwrap_err();
    assert!(e.contains("https"), "{e}");
    let e = parse("[audit]\nretention = \"forever\"").unwrap_err();
    assert!(e.contains("audit.retention"), "{e}");
    let e = Config::load(
        &Overrides { config_file: Some("/nonexistent/latchkey.toml".into()), ..Overrides::default() },
        &|_| None,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("cannot read config file /nonexistent/latchkey.toml"), "{e}");
}

#[test]
fn static_clients_and_secret_rules() {
    let toml = format!(
        r#"
[[clients]]
id = "web"
type = "confidential"
secret = {{ env = "WEB_SECRET" }}
redirect_uris = ["https://app.example.com/cb"]
scopes = ["openid", "profile"]

[[clients]]
id = "spa"
type = "public"
redirect_uris = ["http://127.0.0.1:5173/cb"]

[[clients]]
id = "worker"
type = "confidential"
secret = "{SECRET}"
"#
    );
    let env = HashMap::from([("WEB_SECRET".to_string(), SECRET.to_string())]);
    let c = parse_with(&toml, &Overrides::default(), &env).unwrap();
    assert_eq!(c.clients.len(), 3);
    assert_eq!(c.clients[0].secret.as_ref().unwrap().expose(), SECRET);
    assert_eq!(c.clients[1].auth_method.as_str(), "none");
    assert_eq!(c.clients[2].grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>(), ["client_credentials"]);
    assert!(!format!("{:?}", c.clients[0]).contains(SECRET), "secrets never reach Debug output");

    let e = parse_with(&toml, &Overrides::default(), &HashMap::new()).unwrap_err();
    assert!(e.contains("WEB_SECRET is not set"), "{e}");

    let short = "[[clients]]\nid = \"w\"\ntype = \"confidential\"\nsecret = \"tooshort-but-not-really-random\"";
    let e = parse(short).unwrap_err();
    assert!(e.contains("256 bits"), "{e}");
    let low = format!("[[clients]]\nid = \"w\"\ntype = \"confidential\"\nsecret = \"{}\"", "ab".repeat(30));
    assert!(parse(&low).unwrap_err().contains("256 bits"), "repetitive secrets are refused");

    let e = parse("[[clients]]\nid = \"p\"\ntype = \"public\"\nsecret = \"x\"").unwrap_err();
    assert!(e.contains("public client has no secret"), "{e}");
    let e =
        parse("[[clients]]\nid = \"p\"\ntype = \"public\"\nredirect_uris = [\"https://a.example/cb#x\"]").unwrap_err();
    assert!(e.contains("fragment"), "{e}");
    let e =
        parse("[[clients]]\nid = \"p\"\ntype = \"public\"\nredirect_uris = [\"https://*.example/cb\"]").unwrap_err();
    assert!(e.contains("wildcard"), "{e}");
    let e = parse("[[clients]]\nid = \"p\"\ntype = \"public\"\ngrant_types = [\"client_credentials\"]").unwrap_err();
    assert!(e.contains("public client cannot use the client_credentials"), "{e}");
    let e = parse("[[clients]]\nid = \"p\"\ntype = \"public\"\nredirect_uris = [\"https://a.example/cb\"]\nauth_method = \"client_secret_jwt\"").unwrap_err();
    assert!(e.contains("client_secret_jwt"), "{e}");
    let dup = "[[clients]]\nid = \"p\"\ntype = \"public\"\nredirect_uris = [\"https://a.example/cb\"]\n".repeat(2);
    assert!(parse(&dup).unwrap_err().contains("declared twice"));
}

#[test]
fn static_users_and_resources() {
    let hash = latchkey_crypto::password::hash("pw-123456").unwrap();
    let toml = format!(
        r#"
[[users]]
username = "alice"
password = {{ env = "ALICE_PW" }}
email = "alice@example.com"
email_verified = true

[[users]]
username = "bob"
password_hash = "{hash}"

[[resources]]
identifier = "https://api.example.com"
scopes = [{{ name = "orders:read", description = "Read orders" }}]
access_token_ttl = "2m"
signing_alg = "EdDSA"
"#
    );
    let env = HashMap::from([("ALICE_PW".to_string(), "alice-password".to_string())]);
    let c = parse_with(&toml, &Overrides::default(), &env).unwrap();
    assert_eq!(c.users.len(), 2);
    assert_eq!(c.resources[0].access_token_ttl, Some(120));
    let e = parse("[[users]]\nusername = \"x\"\npassword_hash = \"$2b$10$bcrypt\"").unwrap_err();
    assert!(e.contains("Argon2id"), "{e}");
    let e = parse("[[users]]\nusername = \"a b\"").unwrap_err();
    assert!(e.contains("whitespace"), "{e}");
    let e = parse("[[resources]]\nidentifier = \"not a uri\"").unwrap_err();
    assert!(e.contains("absolute URI"), "{e}");
}

#[test]
fn values_from_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret");
    std::fs::write(&path, format!("{SECRET}\n")).unwrap();
    let toml =
        format!("[[clients]]\nid = \"w\"\ntype = \"confidential\"\nsecret = {{ file = \"{}\" }}", path.display());
    let c = parse(&toml).unwrap();
    assert_eq!(c.clients[0].secret.as_ref().unwrap().expose(), SECRET);
}

/// The complete example in docs/configuration.md parses.
#[test]
fn documented_example_is_valid() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/configuration.md")).unwrap();
    let start = doc.find("```toml\n").unwrap() + "```toml\n".len();
    let end = start + doc[start..].find("```").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("billing-worker");
    std::fs::write(&secret_file, SECRET).unwrap();
    let scenarios = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/scenarios");
    let toml = doc[start..end]
        .replace("/run/secrets/billing-worker", &secret_file.display().to_string())
        .replace("/etc/latchkey/policies", scenarios);
    let env = HashMap::from([
        ("LATCHKEY_DATABASE_URL".to_string(), "postgres://latchkey@db.internal/latchkey".to_string()),
        ("LATCHKEY_MASTER_KEY".to_string(), latchkey_crypto::MasterKey::generate_text()),
        ("LATCHKEY_ADMIN_KEY".to_string(), SECRET.to_string()),
        ("WEB_CLIENT_SECRET".to_string(), SECRET.to_string()),
        ("ALICE_PASSWORD".to_string(), "alice-password".to_string()),
        ("AUTHZEN_PDP_API_KEY".to_string(), SECRET.to_string()),
        ("IDV_SIGNAL_KEY".to_string(), SECRET.to_string()),
        ("IDV_HMAC_SECRET".to_string(), SECRET.to_string()),
        ("LATCHKEY_ANOMALY_WEBHOOK_SECRET".to_string(), SECRET.to_string()),
    ]);
    let c = parse_with(&toml, &Overrides::default(), &env).unwrap();
    assert_eq!(c.issuer.as_deref(), Some("https://auth.example.com"));
    assert_eq!((c.clients.len(), c.users.len(), c.resources.len()), (4, 2, 1));
    assert_eq!(c.keys.prepublish.as_secs(), 900);
    assert!(c.authz.policy_files.is_some());
    assert_eq!((c.authz.peps.len(), c.authz.signal_sources.len()), (1, 1));
    assert_eq!((c.audit.retention.as_secs(), c.audit.anomalies.session_addresses), (90 * 86400, 5));
    assert!(c.audit.webhook.is_some());
}
