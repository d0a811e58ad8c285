//! `GET /admin/v1/audit/events`: the audit log, filtered and paged.
//!
//! Filters: `subject`, `client_id`, `type` (a type such as `login.failed`,
//! or a prefix such as `token.*`), `outcome`, `since` and `until` (Unix
//! seconds, RFC 3339, or a duration back from now such as `15m`).
//! Paging: `limit` (1 to 1000, default 100), `order` (`asc`, the default,
//! oldest first, for exports and following; `desc`, newest first), and
//! `cursor`, the `next_cursor` of the previous page. Pages follow row ids,
//! which on PostgreSQL commit in order (see the store), so following
//! `next_cursor` in `asc` order never skips an event.

use std::collections::HashMap;
use std::time::UNIX_EPOCH;

use axum::Json;
use axum::extract::{Query, State};
use latchkey_store::AuditQuery;
use serde_json::{Value, json};

use crate::admin_auth::Admin;
use crate::error::ApiError;
use crate::state::AppState;

pub const DEFAULT_LIMIT: i64 = 100;
pub const MAX_LIMIT: i64 = 1000;

pub async fn list_events(
    _admin: Admin,
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let query = parse_query(&params, latchkey_domain::time::now_millis())?;
    let records = state.store.list_audit(&query).await?;
    let next_cursor = match records.last() {
        Some(last) if records.len() as i64 == query.limit => Some(last.id.to_string()),
        _ => None,
    };
    let events: Vec<Value> = records.iter().map(crate::audit::event_json).collect();
    Ok(Json(json!({ "events": events, "next_cursor": next_cursor })))
}

fn parse_query(params: &HashMap<String, String>, now_ms: i64) -> Result<AuditQuery, ApiError> {
    let text = |name: &str| -> Result<Option<String>, ApiError> {
        match params.get(name) {
            None => Ok(None),
            Some(v) if v.is_empty() || v.len() > 256 => {
                Err(ApiError::bad_request(format!("{name} must be 1 to 256 characters")))
            }
            Some(v) => Ok(Some(v.clone())),
        }
    };
    let limit = match params.get("limit") {
        None => DEFAULT_LIMIT,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => return Err(ApiError::bad_request(format!("limit must be a whole number from 1 to {MAX_LIMIT}"))),
        },
    };
    let newest_first = match params.get("order").map(String::as_str) {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(_) => return Err(ApiError::bad_request("order must be asc or desc")),
    };
    let cursor = match params.get("cursor") {
        None => None,
        Some(v) => Some(v.parse::<i64>().map_err(|_| ApiError::bad_request("cursor is not one this API gave"))?),
    };
    let outcome = text("outcome")?;
    if let Some(o) = &outcome
        && !["success", "failure", "denied", "flagged"].contains(&o.as_str())
    {
        return Err(ApiError::bad_request("outcome must be success, failure, denied or flagged"));
    }
    // Types are lower case; folding makes both databases' LIKE agree.
    let kind = text("type")?.map(|k| k.to_lowercase());
    if let Some(k) = &kind
        && (k.matches('*').count() > 1 || k.strip_suffix('*').unwrap_or(k).contains('*'))
    {
        return Err(ApiError::bad_request("type takes one trailing * at most, e.g. token.*"));
    }
    Ok(AuditQuery {
        subject: text("subject")?,
        client_id: text("client_id")?,
        trace_id: text("trace_id")?,
        kind,
        outcome,
        since_ms: time_param(params, "since", now_ms)?,
        until_ms: time_param(params, "until", now_ms)?,
        cursor,
        newest_first,
        limit,
    })
}

/// Unix seconds, RFC 3339, or a duration back from now (`15m`, `2h`, `7d`).
fn time_param(params: &HashMap<String, String>, name: &str, now_ms: i64) -> Result<Option<i64>, ApiError> {
    let Some(v) = params.get(name) else { return Ok(None) };
    if let Ok(secs) = v.parse::<i64>() {
        return Ok(Some(secs.saturating_mul(1000)));
    }
    if let Ok(t) = humantime::parse_rfc3339_weak(v) {
        let ms = t.duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        return Ok(Some(ms));
    }
    if let Ok(d) = humantime::parse_duration(v) {
        return Ok(Some(latchkey_domain::time::millis_before(now_ms, d)));
    }
    Err(ApiError::bad_request(format!(
        "{name} must be Unix seconds, an RFC 3339 time, or a duration back from now such as 15m"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn times_are_seconds_rfc3339_or_durations_back() {
        let now = 1_800_000_000_000;
        let q = parse_query(&params(&[("since", "15m"), ("until", "1800000000")]), now).expect("valid");
        assert_eq!(q.since_ms, Some(now - 15 * 60 * 1000));
        assert_eq!(q.until_ms, Some(1_800_000_000_000));
        let q = parse_query(&params(&[("since", "2027-01-15T10:00:00Z")]), now).expect("valid");
        assert_eq!(q.since_ms, Some(1_800_007_200_000));
        assert!(parse_query(&params(&[("since", "yesterday")]), now).is_err());
    }

    #[test]
    fn bad_paging_and_filters_are_refused() {
        for bad in [
            ("limit", "0"),
            ("limit", "1001"),
            ("order", "up"),
            ("cursor", "abc"),
            ("outcome", "ok"),
            ("type", "*.failed"),
            ("type", "token.**"),
        ] {
            assert!(parse_query(&params(&[bad]), 0).is_err(), "{bad:?}");
        }
        let q = parse_query(&params(&[("type", "token.*"), ("order", "desc"), ("limit", "5")]), 0).expect("valid");
        assert_eq!((q.kind.as_deref(), q.newest_first, q.limit), (Some("token.*"), true, 5));
    }
}
