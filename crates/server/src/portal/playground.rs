//! The policy playground's backend: the live engine, with explanations,
//! for portal administrators (and everyone signed in on `--dev`), since
//! explanations reveal policy. A draft policy set is compiled against the
//! active schema and evaluated without being stored; a replay runs the
//! recently sampled decisions of the audit log against the active set and
//! a draft, to show which answers a publish would change.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use latchkey_domain::{ErrorCode, User};
use latchkey_store::AuditQuery;
use serde_json::{Map, Value, json};

use super::access::is_admin;
use super::api::{caller, json_body};
use crate::authz::policies::{self, PolicyError};
use crate::authz::{Caller, Item};
use crate::error::ApiError;
use crate::state::AppState;

/// Most sampled decisions a replay re-evaluates.
const MAX_REPLAY: i64 = 200;

pub fn may_use(state: &AppState, user: &User) -> bool {
    state.config.dev || is_admin(state, user)
}

async fn player(state: &AppState, headers: &HeaderMap) -> Result<(User, Caller), ApiError> {
    let user = caller(state, headers).await?;
    if !may_use(state, &user) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::AccessDenied,
            "the playground explains policy: it is for portal administrators ([portal] admins)",
        ));
    }
    let pep =
        Caller { name: format!("portal:{}", user.username), privileged: true, resource_types: vec![], tenant: None };
    Ok((user, pep))
}

fn active(state: &AppState) -> Result<std::sync::Arc<crate::authz::runtime::ActivePolicies>, ApiError> {
    state.caches.authz.policies().ok_or_else(|| {
        ApiError::new(StatusCode::CONFLICT, ErrorCode::InvalidRequest, "no policy set is active yet: publish one first")
    })
}

/// The active schema, policies and the schema's outline (for the form).
pub async fn overview(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    player(&state, &headers).await?;
    let a = active(&state)?;
    let outline = latchkey_authz::outline(&a.schema).map_err(ApiError::internal)?;
    Ok(Json(json!({
        "version": a.version,
        "schema": a.schema,
        "policies": a.policies,
        "outline": outline,
        "policy_info": a.set.policies().collect::<Vec<_>>(),
    })))
}

/// A draft compiled against the active schema; `Err` carries the
/// validator's words for the page.
async fn draft(state: &AppState, source: Option<&str>) -> Result<Option<latchkey_authz::PolicySet>, Value> {
    let Some(src) = source.filter(|s| !s.trim().is_empty()) else { return Ok(None) };
    let schema = match state.caches.authz.policies() {
        Some(a) => a.schema.clone(),
        None => return Err(json!({ "compile_error": "no active schema to validate the draft against" })),
    };
    match policies::compile(&schema, src).await {
        Ok(set) => Ok(Some(set)),
        Err(PolicyError::Invalid(e)) => Err(json!({ "compile_error": e.to_string() })),
        Err(e) => Err(json!({ "compile_error": e.to_string() })),
    }
}

#[derive(serde::Deserialize)]
pub struct EvaluateBody {
    request: Map<String, Value>,
    #[serde(default)]
    policies: Option<String>,
}

pub async fn evaluate(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Json<Value>, ApiError> {
    let (_, pep) = player(&state, &headers).await?;
    let body: EvaluateBody = json_body(&headers, &body)?;
    let item = crate::routes::authzen::item(&body.request).map_err(ApiError::bad_request)?;
    let draft = match draft(&state, body.policies.as_deref()).await {
        Ok(d) => d,
        Err(e) => return Ok(Json(e)),
    };
    let d =
        crate::authz::evaluate_with(&state, &pep, &item, draft.as_ref(), None).await.map_err(ApiError::unavailable)?;
    Ok(Json(json!({
        "decision": d.allow,
        "context": d.context(true),
        "against": if draft.is_some() { "draft" } else { "active" },
    })))
}

/// `Type::id` as the decision events record it; the type may itself be
/// namespaced (`Ns::User::alice`), so the id is what follows the last `::`.
fn split_entity(s: &str) -> Option<(String, String)> {
    s.rsplit_once("::").map(|(t, id)| (t.to_string(), id.trim_matches('"').to_string()))
}

#[derive(serde::Deserialize)]
pub struct ReplayBody {
    policies: String,
}

pub async fn replay(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Json<Value>, ApiError> {
    let (_, pep) = player(&state, &headers).await?;
    let body: ReplayBody = json_body(&headers, &body)?;
    let draft = match draft(&state, Some(&body.policies)).await {
        Ok(Some(d)) => d,
        Ok(None) => return Err(ApiError::bad_request("a replay needs draft policies")),
        Err(e) => return Ok(Json(e)),
    };
    let query = AuditQuery {
        kind: Some("authz.decision_sampled".into()),
        newest_first: true,
        limit: MAX_REPLAY,
        ..Default::default()
    };
    let mut changed = Vec::new();
    let mut compared = 0;
    for r in state.store.list_audit(&query).await? {
        let text = |k: &str| r.details.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let (Some((sty, sid)), Some((rty, rid))) = (split_entity(&text("subject")), split_entity(&text("resource")))
        else {
            continue;
        };
        let action = text("action");
        // What the caller said beside the ids, when the event kept it.
        let said = r.details.get("request").cloned().unwrap_or(Value::Null);
        let part = |k: &str| said.get(k).and_then(Value::as_object).cloned().unwrap_or_default();
        let item = Item {
            subject: crate::authz::Described { ty: sty, id: sid, properties: part("subject") },
            action: action.clone(),
            resource: crate::authz::Described { ty: rty, id: rid, properties: part("resource") },
            context: part("context"),
        };
        let now = crate::authz::evaluate_with(&state, &pep, &item, None, None).await.map_err(ApiError::unavailable)?;
        let then = crate::authz::evaluate_with(&state, &pep, &item, Some(&draft), None)
            .await
            .map_err(ApiError::unavailable)?;
        compared += 1;
        if now.allow != then.allow {
            changed.push(json!({
                "subject": text("subject"),
                "action": action,
                "resource": text("resource"),
                "recorded": r.details.get("allowed"),
                "active": now.allow,
                "draft": then.allow,
                "draft_context": then.context(true),
            }));
        }
    }
    Ok(Json(json!({ "compared": compared, "changed": changed })))
}
