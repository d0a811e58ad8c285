//! Identity signals: verification, KYC and fraud systems tell Latchkey
//! what changed about a subject.
//!
//! `POST {issuer}/signals/v1` with `Authorization: Bearer <source key>` and
//!
//! ```json
//! {"event_id": "evt-1", "occurred_at": 1790000000,
//!  "subject": {"type": "User", "id": "…"},
//!  "attributes": {"verification_level": "document", "risk_score": 12}}
//! ```
//!
//! Rules, in order: the source authenticates; if it has an HMAC secret the
//! body must be signed (`Latchkey-Signature: t=<unix seconds>,v1=<hex
//! HMAC-SHA256 of "<t>.<body>">`) within the replay window; it may set only
//! its configured attributes; an `event_id` is applied once; and each
//! attribute keeps the value of the newest signal (`occurred_at`), so a
//! late "verified" never overwrites an earlier-delivered, newer fraud flag.
//! The change reaches every node's decisions through the change feed.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use latchkey_domain::{ErrorCode, SecurityEvent, UnixTime};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::config::SignalSource;
use crate::error::ApiError;
use crate::state::AppState;

pub const SIGNATURE_HEADER: &str = "latchkey-signature";

/// How far in the future an `occurred_at` may lie (clock skew).
const FUTURE_SKEW_SECS: i64 = 300;
/// Event ids are remembered at least this long.
const RECEIPT_RETENTION_SECS: i64 = 7 * 86400;

#[derive(Debug, Deserialize)]
struct SignalBody {
    event_id: String,
    occurred_at: i64,
    subject: SubjectRef,
    attributes: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
struct SubjectRef {
    #[serde(rename = "type")]
    ty: Option<String>,
    id: String,
}

fn unauthorized(description: &str) -> ApiError {
    let mut e = ApiError::new(StatusCode::UNAUTHORIZED, ErrorCode::InvalidToken, description);
    e.www_authenticate = Some("Bearer".into());
    e
}

fn source<'a>(state: &'a AppState, headers: &HeaderMap) -> Result<&'a SignalSource, ApiError> {
    let Some(key) = crate::forms::bearer_token(headers) else {
        return Err(unauthorized("signal source credentials required"));
    };
    latchkey_crypto::digest::find_by_secret(key, &state.config.authz.signal_sources, |s| &s.key_digest)
        .ok_or_else(|| unauthorized("unknown signal source"))
}

/// The signature header's parts: `t=<seconds>,v1=<hex>`.
fn parse_signature(header: &str) -> Option<(i64, Vec<u8>)> {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => v1 = latchkey_crypto::digest::hex_decode(v),
            _ => {}
        }
    }
    Some((t?, v1?))
}

/// The signature a source computes for `body` at `t`.
pub fn sign(secret: &str, t: i64, body: &[u8]) -> String {
    let mut data = format!("{t}.").into_bytes();
    data.extend_from_slice(body);
    let tag = latchkey_crypto::digest::hmac_sha256(secret.as_bytes(), &data);
    format!("t={t},v1={}", latchkey_crypto::digest::hex(&tag))
}

fn check_signature(src: &SignalSource, headers: &HeaderMap, body: &[u8], now: UnixTime) -> Result<(), ApiError> {
    let Some(secret) = &src.hmac_secret else { return Ok(()) };
    let header = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    let Some((t, tag)) = header.and_then(parse_signature) else {
        return Err(unauthorized("this source must sign its signals (Latchkey-Signature: t=…,v1=…)"));
    };
    if now.0.abs_diff(t) > src.replay_window.as_secs() {
        return Err(unauthorized("signature timestamp outside the replay window"));
    }
    let mut data = format!("{t}.").into_bytes();
    data.extend_from_slice(body);
    if !latchkey_crypto::digest::hmac_sha256_verify(secret.expose().as_bytes(), &data, &tag) {
        return Err(unauthorized("signature does not match"));
    }
    Ok(())
}

pub async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Json<Value>, ApiError> {
    let now = UnixTime::now();
    let src = source(&state, &headers)?;
    check_signature(src, &headers, &body, now)?;
    let signal: SignalBody =
        serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(format!("signal body: {e}")))?;
    if signal.event_id.is_empty() || signal.event_id.len() > 200 {
        return Err(ApiError::bad_request("event_id must be 1 to 200 characters"));
    }
    if signal.occurred_at > now.0 + FUTURE_SKEW_SECS {
        return Err(ApiError::bad_request("occurred_at lies in the future"));
    }
    if signal.attributes.is_empty() {
        return Err(ApiError::bad_request("attributes is empty"));
    }
    for (name, value) in &signal.attributes {
        latchkey_authz::representable(value).map_err(|e| ApiError::bad_request(format!("attributes.{name}: {e}")))?;
    }
    if let Some(name) = signal.attributes.keys().find(|k| !src.attributes.contains(k)) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::AccessDenied,
            format!("source `{}` may not set `{name}`", src.name),
        ));
    }
    let cfg = &state.config.authz;
    let ty = signal.subject.ty.clone().unwrap_or_else(|| cfg.user_type.clone());
    let retention = i64::try_from(src.replay_window.as_secs()).unwrap_or(0).max(RECEIPT_RETENTION_SECS);
    if !state
        .store
        .record_signal_receipt(&src.name, &signal.event_id, UnixTime(now.0.saturating_add(retention)))
        .await?
    {
        return Ok(Json(json!({ "status": "duplicate", "event_id": signal.event_id })));
    }
    let merge =
        match state.store.merge_signal(&ty, &signal.subject.id, &signal.attributes, signal.occurred_at, now).await {
            Ok(m) => m,
            Err(e) => {
                // Not applied: forget the receipt, so the provider's retry is
                // applied rather than refused as a duplicate.
                let _ = state.store.forget_signal_receipt(&src.name, &signal.event_id).await;
                return Err(e.into());
            }
        };
    state.caches.sync(&state.store).await?;
    state.events.emit(SecurityEvent::SignalReceived {
        source: src.name.clone(),
        subject: format!("{ty}::{}", signal.subject.id),
        applied: merge.applied.clone(),
        stale: merge.stale.clone(),
    });

    // The remedy for claims already inside issued JWTs: end the sessions.
    let mut sessions_ended = 0;
    if let Some(threshold) = cfg.risk_revoke_threshold
        && ty == cfg.user_type
        && merge.applied.iter().any(|a| a == "risk_score")
        && signal.attributes.get("risk_score").and_then(Value::as_i64).is_some_and(|r| r >= threshold)
    {
        for s in state.store.active_sessions_of_user(&signal.subject.id, now).await? {
            crate::logout::end_session(&state, &s, "risk").await?;
            sessions_ended += 1;
        }
    }
    Ok(Json(json!({
        "status": if merge.applied.is_empty() { "stale" } else { "applied" },
        "event_id": signal.event_id,
        "applied": merge.applied,
        "stale": merge.stale,
        "sessions_ended": sessions_ended,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_round_trips_and_parses() {
        let header = sign("s3cret", 1_790_000_000, b"{}");
        let (t, tag) = parse_signature(&header).expect("parses");
        assert_eq!(t, 1_790_000_000);
        assert!(latchkey_crypto::digest::hmac_sha256_verify(b"s3cret", b"1790000000.{}", &tag));
        assert!(parse_signature("t=1").is_none());
        assert!(parse_signature("t=x,v1=00").is_none());
    }
}
