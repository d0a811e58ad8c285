//! The ceiling of the side-by-side benchmarks (`bench/run.sh`): a bare axum
//! server that does only the unavoidable work of each benchmarked endpoint,
//! with the same primitives as Latchkey (`latchkey-crypto`), so that
//! Latchkey's figures can be read as fractions of it:
//!
//! - `POST /token`: reads the body, signs one ES256 JWT access token
//!   (`typ: at+jwt`, RFC 9068 claims, a random `jti`) with a key parsed once
//!   at start, and answers like a token endpoint;
//! - `POST /introspect`: takes `token` from the urlencoded body, verifies one
//!   ES256 JWT with the public key parsed once (signature, `typ`, issuer,
//!   expiry) and answers `{"active":true}` or `{"active":false}`.
//!
//! No client authentication, no store, no logging. The key is generated at
//! start and never leaves the process.
//!
//! Usage: `latchkey-ceiling [--listen 127.0.0.1:13100] [--issuer URL] [--ttl SECONDS]`

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Json, Router};
use latchkey_crypto::signing_key::generate_pkcs8;
use latchkey_crypto::{SigningKey, VerifyingKey, jws, random};
use latchkey_domain::access_token::{AccessTokenClaims, Audience};
use latchkey_domain::{SigningAlg, UnixTime};
use serde::{Deserialize, Serialize};

/// The audience, client and scope of every token: those of the benchmark's
/// client `bench` and API `urn:example:api`.
const AUDIENCE: &str = "urn:example:api";
const CLIENT_ID: &str = "bench";
const SCOPE: &str = "api:read";
const TYP: &str = "at+jwt";
/// Clock skew tolerated, as Latchkey does.
const LEEWAY: Duration = Duration::from_secs(30);

const USAGE: &str = "usage: latchkey-ceiling [--listen ADDR] [--issuer URL] [--ttl SECONDS]
  --listen ADDR    address to serve on [default: 127.0.0.1:13100]
  --issuer URL     the tokens' iss [default: http:// + the listen address]
  --ttl SECONDS    access token lifetime [default: 300]";

struct Ceiling {
    signer: SigningKey,
    verifier: VerifyingKey,
    issuer: String,
    ttl: Duration,
}

struct Args {
    listen: SocketAddr,
    issuer: Option<String>,
    ttl: Duration,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> anyhow::Result<Option<Args>> {
    let mut listen: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 13100));
    let mut issuer = None;
    let mut ttl = Duration::from_secs(300);
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (arg.clone(), None),
        };
        if name == "-h" || name == "--help" {
            return Ok(None);
        }
        let value = match inline.or_else(|| args.next()) {
            Some(v) => v,
            None => bail!("{name} needs a value\n{USAGE}"),
        };
        match name.as_str() {
            "--listen" => listen = value.parse().with_context(|| format!("--listen {value:?}: not an address"))?,
            "--issuer" => issuer = Some(value),
            "--ttl" => {
                let secs: u64 = value.parse().with_context(|| format!("--ttl {value:?}: not a number of seconds"))?;
                ttl = Duration::from_secs(secs);
            }
            other => bail!("unknown argument {other:?}\n{USAGE}"),
        }
    }
    Ok(Some(Args { listen, issuer, ttl }))
}

#[derive(Serialize)]
struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
}

#[derive(Deserialize)]
struct IntrospectForm {
    token: String,
}

#[derive(Serialize)]
struct IntrospectResponse {
    active: bool,
}

/// Token responses must not be cached (RFC 6749 §5.1); Latchkey sets the
/// same header, so the ceiling pays for it too.
fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn token(State(ceiling): State<Arc<Ceiling>>, _body: Bytes) -> Response {
    let now = UnixTime::now();
    let claims = AccessTokenClaims {
        iss: ceiling.issuer.clone(),
        sub: format!("client:{CLIENT_ID}"),
        aud: Audience::One(AUDIENCE.to_string()),
        exp: now.plus(ceiling.ttl).0,
        iat: now.0,
        nbf: None,
        jti: random::id(),
        client_id: CLIENT_ID.to_string(),
        scope: Some(SCOPE.to_string()),
        sid: None,
        auth_time: None,
        acr: None,
        amr: None,
        act: None,
        may_act: None,
        extra: Default::default(),
    };
    match jws::sign(&ceiling.signer, TYP, &claims) {
        Ok(access_token) => no_store(
            Json(TokenResponse { access_token, token_type: "Bearer", expires_in: ceiling.ttl.as_secs() })
                .into_response(),
        ),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(serde_json::json!({ "error": "server_error", "error_description": e.to_string() })),
        )
            .into_response(),
    }
}

fn is_active(ceiling: &Ceiling, token: &str) -> bool {
    let verifier = &ceiling.verifier;
    let Ok(verified) = jws::verify(token, |kid| (kid == verifier.kid).then_some(verifier)) else {
        return false;
    };
    if verified.header.typ.as_deref() != Some(TYP) {
        return false;
    }
    let Ok(claims) = serde_json::from_slice::<AccessTokenClaims>(&verified.payload) else {
        return false;
    };
    claims.check(&ceiling.issuer, UnixTime::now(), LEEWAY).is_ok()
}

async fn introspect(State(ceiling): State<Arc<Ceiling>>, Form(form): Form<IntrospectForm>) -> Response {
    no_store(Json(IntrospectResponse { active: is_active(&ceiling, &form.token) }).into_response())
}

fn app(ceiling: Arc<Ceiling>) -> Router {
    Router::new().route("/token", post(token)).route("/introspect", post(introspect)).with_state(ceiling)
}

fn new_ceiling(issuer: String, ttl: Duration) -> anyhow::Result<Ceiling> {
    let pkcs8 = generate_pkcs8(SigningAlg::ES256).context("generating the ES256 key")?;
    let signer = SigningKey::from_pkcs8(SigningAlg::ES256, &pkcs8).context("parsing the ES256 key")?;
    let verifier = signer.verifying_key().context("parsing the ES256 public key")?;
    Ok(Ceiling { signer, verifier, issuer, ttl })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let Some(args) = parse_args(std::env::args().skip(1))? else {
        println!("{USAGE}");
        return Ok(());
    };
    let issuer = args.issuer.unwrap_or_else(|| format!("http://{}", args.listen));
    let ceiling = Arc::new(new_ceiling(issuer, args.ttl)?);
    let listener =
        tokio::net::TcpListener::bind(args.listen).await.with_context(|| format!("binding {}", args.listen))?;
    eprintln!("latchkey-ceiling listening on http://{} (ES256, key id {})", args.listen, ceiling.signer.kid());
    axum::serve(listener, app(ceiling)).await.context("serving")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_what_it_verifies() {
        let ceiling = new_ceiling("http://127.0.0.1:13100".to_string(), Duration::from_secs(300)).unwrap();
        let now = UnixTime::now();
        let claims = AccessTokenClaims {
            iss: ceiling.issuer.clone(),
            sub: "client:bench".into(),
            aud: Audience::One(AUDIENCE.into()),
            exp: now.plus(ceiling.ttl).0,
            iat: now.0,
            nbf: None,
            jti: random::id(),
            client_id: CLIENT_ID.into(),
            scope: Some(SCOPE.into()),
            sid: None,
            auth_time: None,
            acr: None,
            amr: None,
            act: None,
            may_act: None,
            extra: Default::default(),
        };
        let token = jws::sign(&ceiling.signer, TYP, &claims).unwrap();
        assert!(is_active(&ceiling, &token));
        let mut tampered = token.clone();
        tampered.push('A');
        assert!(!is_active(&ceiling, &tampered));
        let other = new_ceiling(ceiling.issuer.clone(), ceiling.ttl).unwrap();
        assert!(!is_active(&other, &token), "another key's token");
        let expired = AccessTokenClaims { exp: now.0 - 3600, ..claims };
        assert!(!is_active(&ceiling, &jws::sign(&ceiling.signer, TYP, &expired).unwrap()));
    }

    #[test]
    fn parses_arguments() {
        let args = |v: &[&str]| parse_args(v.iter().map(|s| s.to_string()));
        let a = args(&["--listen", "127.0.0.1:9", "--ttl=60"]).unwrap().unwrap();
        assert_eq!(a.listen.port(), 9);
        assert_eq!(a.ttl, Duration::from_secs(60));
        assert!(args(&["--help"]).unwrap().is_none());
        assert!(args(&["--listen"]).is_err());
        assert!(args(&["--bogus", "1"]).is_err());
    }
}
