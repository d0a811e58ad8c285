//! Client authentication at the token, revocation and introspection
//! endpoints (RFC 6749 §2.3, OIDC Core §9): `client_secret_basic`,
//! `client_secret_post`, `private_key_jwt` (RFC 7523) and `none` for public
//! clients. Exactly one method per request; the method must be the one the
//! client is registered for.

use axum::http::{HeaderMap, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use latchkey_domain::client::{AuthMethod, ClientKind};
use latchkey_domain::params::Params;
use latchkey_domain::{Client, ErrorCode};

use crate::error::ApiError;
use crate::state::AppState;

/// RFC 6749 §5.2: a failed client authentication is 401 with a challenge.
pub(crate) fn invalid_client(state: &AppState, description: &str, reason: impl Into<String>) -> ApiError {
    let mut e = ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::InvalidClient, description).with_reason(reason);
    e.www_authenticate = Some(format!("Basic realm=\"{}\"", state.issuer.as_str()));
    e
}

enum Presented {
    Basic { id: String, secret: String },
    Post { id: String, secret: String },
    Assertion { id: Option<String>, assertion: String },
    None { id: String },
}

/// RFC 7523 §2.2.
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// RFC 6749 §2.3.1: id and secret are form-urlencoded before joining.
fn parse_basic(value: &str) -> Option<(String, String)> {
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((form_unescape(id), form_unescape(secret)))
}

/// `application/x-www-form-urlencoded` decoding of one value: `+` is a
/// space, `%XX` a byte; a malformed escape stays as written (as the form
/// parser does). Most values need nothing done.
fn form_unescape(s: &str) -> String {
    if !s.bytes().any(|b| b == b'%' || b == b'+') {
        return s.to_string();
    }
    let hex = |b: u8| char::from(b).to_digit(16).and_then(|d| u8::try_from(d).ok());
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => match (bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn presented(headers: &HeaderMap, params: &Params) -> Result<Presented, ApiError> {
    let repeated = |e: latchkey_domain::params::RepeatedParam| ApiError::bad_request(e.to_string());
    let body_id = params.single("client_id").map_err(repeated)?;
    let body_secret = params.single("client_secret").map_err(repeated)?;
    let assertion = params.single("client_assertion").map_err(repeated)?;
    let assertion_type = params.single("client_assertion_type").map_err(repeated)?;
    match (assertion, assertion_type) {
        (None, None) => {}
        (Some(_), None) | (None, Some(_)) => {
            return Err(ApiError::bad_request("client_assertion and client_assertion_type go together"));
        }
        (Some(_), Some(t)) if t != JWT_BEARER => {
            return Err(ApiError::bad_request(format!("client_assertion_type must be {JWT_BEARER}")));
        }
        (Some(a), Some(_)) => {
            if headers.contains_key(header::AUTHORIZATION) || body_secret.is_some() {
                return Err(ApiError::bad_request(
                    "use one client authentication method: a client assertion or a secret, not both",
                ));
            }
            return Ok(Presented::Assertion { id: body_id.map(str::to_string), assertion: a.to_string() });
        }
    }
    match headers.get(header::AUTHORIZATION) {
        Some(value) => {
            let (id, secret) =
                value.to_str().ok().and_then(parse_basic).ok_or_else(|| {
                    ApiError::bad_request("the Authorization header is not valid HTTP Basic credentials")
                })?;
            if body_secret.is_some() {
                return Err(ApiError::bad_request(
                    "use one client authentication method: Basic header or client_secret, not both",
                ));
            }
            if body_id.is_some_and(|b| b != id) {
                return Err(ApiError::bad_request("client_id in the body differs from the Basic credentials"));
            }
            Ok(Presented::Basic { id, secret })
        }
        None => match (body_id, body_secret) {
            (Some(id), Some(secret)) => Ok(Presented::Post { id: id.into(), secret: secret.into() }),
            (Some(id), None) => Ok(Presented::None { id: id.into() }),
            (None, _) => {
                Err(ApiError::bad_request("client authentication is missing: send client_id (and credentials)"))
            }
        },
    }
}

/// The authenticated client, or the RFC's error (audited).
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    params: &Params,
) -> Result<std::sync::Arc<Client>, ApiError> {
    let result = check(state, headers, params).await;
    if let Ok(client) = &result {
        crate::error::set_request_client(&client.id);
    }
    if let Err(e) = &result
        && e.error.code == ErrorCode::InvalidClient
    {
        let client_id = params.single("client_id").ok().flatten().map(str::to_owned).or_else(|| {
            headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(parse_basic).map(|(id, _)| id)
        });
        // Both can carry what the caller sent: bounded, so an event stays small.
        state.events.emit(latchkey_domain::SecurityEvent::ClientAuthFailed {
            client_id: client_id.unwrap_or_default().chars().take(128).collect(),
            reason: e.reason.as_deref().unwrap_or_default().chars().take(256).collect(),
        });
    }
    result
}

async fn check(state: &AppState, headers: &HeaderMap, params: &Params) -> Result<std::sync::Arc<Client>, ApiError> {
    let presented = presented(headers, params)?;
    let (id, secret, method) = match &presented {
        Presented::Basic { id, secret } => (id, Some(secret), AuthMethod::ClientSecretBasic),
        Presented::Post { id, secret } => (id, Some(secret), AuthMethod::ClientSecretPost),
        Presented::None { id } => (id, None, AuthMethod::None),
        Presented::Assertion { id, assertion } => {
            return crate::client_assertion::authenticate(state, id.as_deref(), assertion)
                .await
                .map_err(|f| f.into_api_error(state));
        }
    };
    let Some(client) = state.caches.clients.get(&state.store, id).await? else {
        // Same work as a known client, so timing does not reveal ids.
        if let Some(s) = secret {
            let _ = latchkey_crypto::digest::verify_secret(s, &[0u8; 32]);
        }
        return Err(invalid_client(state, "client authentication failed", format!("unknown client {id:?}")));
    };
    if client.auth_method != method {
        let (description, reason) = match (client.kind, method) {
            (ClientKind::Confidential, AuthMethod::None) => {
                ("this client must authenticate", format!("client {id} sent no credentials"))
            }
            _ => (
                "client authentication failed: wrong authentication method for this client",
                format!("client {id} is registered for {} but used {}", client.auth_method, method),
            ),
        };
        return Err(invalid_client(state, description, reason));
    }
    if let Some(secret) = secret {
        let ok = client.secret_hash.as_deref().is_some_and(|h| latchkey_crypto::digest::verify_secret(secret, h));
        if !ok {
            return Err(invalid_client(state, "client authentication failed", format!("wrong secret for client {id}")));
        }
    }
    Ok(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        let v = format!("Basic {}", STANDARD.encode("my%3Aclient:p%40ss+word%25"));
        assert_eq!(parse_basic(&v), Some(("my:client".into(), "p@ss word%".into())));
        assert_eq!(parse_basic("Bearer x"), None);
        assert_eq!(parse_basic(&format!("Basic {}", STANDARD.encode("nocolon"))), None);
        let v = format!("Basic {}", STANDARD.encode("a=b&c:100%%zz%4"));
        assert_eq!(parse_basic(&v), Some(("a=b&c".into(), "100%%zz%4".into())), "raw = and &, bad escapes kept");
    }
}
