//! Admin API for authorization (behind [`Admin`] authentication): policy
//! versions (list, read, validate, test, publish), the entity directory
//! (attributes and parents of subjects and resources) and capabilities.
//! Every write reaches every node's decisions through the change feed.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use latchkey_domain::{ErrorCode, SecurityEvent, UnixTime};
use latchkey_store::{Capability, ParentRef};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::admin_auth::Admin;
use crate::authz::decide::Caller;
use crate::authz::policies::{self, PolicyError};
use crate::error::ApiError;
use crate::state::AppState;

/// Capabilities are explicit and temporary: at most a year.
pub const MAX_CAPABILITY_SECS: i64 = 366 * 86400;

/// A JSON body, or a 400 in the RFC error shape naming what is wrong.
fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("request body: {e}")))
}

/// Attribute values must be ones Cedar can hold (else a decision would
/// deny on them); `null` is allowed where it means "remove".
fn check_attributes(attributes: &Map<String, Value>) -> Result<(), ApiError> {
    for (name, value) in attributes {
        latchkey_authz::representable(value).map_err(|e| ApiError::bad_request(format!("attributes.{name}: {e}")))?;
    }
    Ok(())
}

fn invalid_policy(e: PolicyError) -> ApiError {
    match e {
        PolicyError::Invalid(e) => ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest, e.to_string()),
        PolicyError::Store(e) => e.into(),
        PolicyError::Task(e) => ApiError::internal(e),
    }
}

pub async fn list_policies(_admin: Admin, State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let active = state.caches.authz.policies().map(|p| p.version);
    let versions: Vec<Value> = state
        .store
        .policy_versions(100)
        .await?
        .into_iter()
        .map(|v| {
            json!({
                "version": v.version,
                "digest": v.digest,
                "source": v.source,
                "comment": v.comment,
                "created_at": v.created_at.0,
                "active": Some(v.version) == active,
            })
        })
        .collect();
    Ok(Json(json!({ "versions": versions })))
}

fn active_json(p: &crate::authz::runtime::ActivePolicies) -> Value {
    json!({
        "version": p.version,
        "digest": p.digest,
        "schema": p.schema,
        "policies": p.policies,
        "policy_ids": p.set.policies().collect::<Vec<_>>(),
        "actions": p.set.actions().collect::<Vec<_>>(),
    })
}

pub async fn active_policies(_admin: Admin, State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let p = state.caches.authz.policies().ok_or_else(ApiError::not_found)?;
    Ok(Json(active_json(&p)))
}

pub async fn policy_version(
    _admin: Admin,
    State(state): State<AppState>,
    Path(version): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let v = state.store.policy_version(version).await?.ok_or_else(ApiError::not_found)?;
    Ok(Json(json!({
        "version": v.version,
        "digest": v.digest,
        "source": v.source,
        "comment": v.comment,
        "created_at": v.created_at.0,
        "schema": v.schema,
        "policies": v.policies,
    })))
}

#[derive(Debug, Deserialize)]
pub struct PolicyBody {
    /// Cedar schema text; the active one if omitted.
    schema: Option<String>,
    policies: String,
    comment: Option<String>,
}

fn schema_or_active(state: &AppState, schema: Option<String>) -> Result<String, ApiError> {
    match schema {
        Some(s) => Ok(s),
        None => state
            .caches
            .authz
            .policies()
            .map(|p| p.schema.clone())
            .ok_or_else(|| ApiError::bad_request("schema is required: no policy set is active yet")),
    }
}

/// Compiles and validates without storing.
pub async fn validate_policies(
    _admin: Admin,
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body: PolicyBody = parse(&body)?;
    let schema = schema_or_active(&state, body.schema)?;
    match policies::compile(&schema, &body.policies).await {
        Ok(set) => Ok(Json(json!({
            "valid": true,
            "policies": set.policies().collect::<Vec<_>>(),
            "actions": set.actions().collect::<Vec<_>>(),
        }))),
        Err(PolicyError::Invalid(e)) => Ok(Json(json!({ "valid": false, "error": e.to_string() }))),
        Err(e) => Err(invalid_policy(e)),
    }
}

/// Publishes a new version (validated first); it is active at once on this
/// node and within a poll interval on the others.
pub async fn put_policies(admin: Admin, State(state): State<AppState>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let body: PolicyBody = parse(&body)?;
    let schema = schema_or_active(&state, body.schema)?;
    let put = policies::put(
        &state.store,
        &state.caches.authz,
        state.events.as_ref(),
        &schema,
        &body.policies,
        "admin",
        &admin.principal,
        body.comment.as_deref(),
    )
    .await
    .map_err(invalid_policy)?;
    state.caches.sync(&state.store).await?;
    Ok(Json(json!({ "version": put.version, "unchanged": put.unchanged })))
}

#[derive(Debug, Deserialize)]
pub struct TestBody {
    /// A draft to test; the active set if both are omitted.
    schema: Option<String>,
    policies: Option<String>,
    cases: Vec<TestCase>,
}

#[derive(Debug, Deserialize)]
pub struct TestCase {
    /// An AuthZEN evaluation request.
    request: Map<String, Value>,
    expected: Option<bool>,
}

/// Runs AuthZEN requests against a draft (or the active set) with the live
/// attributes, and says which decisions match the expectation.
pub async fn test_policies(admin: Admin, State(state): State<AppState>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let body: TestBody = parse(&body)?;
    if body.cases.len() > crate::routes::authzen::MAX_BATCH {
        return Err(ApiError::bad_request("too many cases"));
    }
    let draft = match body.policies {
        Some(p) => {
            let schema = schema_or_active(&state, body.schema)?;
            Some(policies::compile(&schema, &p).await.map_err(invalid_policy)?)
        }
        None => None,
    };
    let caller =
        Caller { name: format!("admin:{}", admin.principal), privileged: true, resource_types: vec![], tenant: None };
    let mut results = Vec::with_capacity(body.cases.len());
    let mut failed = 0;
    for case in &body.cases {
        let item = crate::routes::authzen::item(&case.request).map_err(ApiError::bad_request)?;
        let d = crate::authz::evaluate_with(&state, &caller, &item, draft.as_ref(), None)
            .await
            .map_err(ApiError::unavailable)?;
        let pass = case.expected.is_none_or(|e| e == d.allow);
        if !pass {
            failed += 1;
        }
        results.push(json!({
            "decision": d.allow,
            "expected": case.expected,
            "pass": pass,
            "context": d.context(true),
        }));
    }
    Ok(Json(json!({ "failed": failed, "results": results })))
}

// ---- the entity directory ---------------------------------------------------------------

fn entity_json(e: &latchkey_store::StoredEntity) -> Value {
    json!({
        "type": e.entity_type,
        "id": e.entity_id,
        "attributes": e.attributes,
        "parents": e.parents,
        "updated_at": e.updated_at.0,
    })
}

pub async fn get_entity(
    _admin: Admin,
    State(state): State<AppState>,
    Path((ty, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let e = state.store.entity(&ty, &id).await?.ok_or_else(ApiError::not_found)?;
    Ok(Json(entity_json(&e)))
}

#[derive(Debug, Deserialize)]
pub struct EntityBody {
    #[serde(default)]
    attributes: Map<String, Value>,
    #[serde(default)]
    parents: Vec<ParentRef>,
}

/// Replaces the entity's attributes and parents.
pub async fn put_entity(
    admin: Admin,
    State(state): State<AppState>,
    Path((ty, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body: EntityBody = parse(&body)?;
    check_attributes(&body.attributes)?;
    state.store.put_entity(&ty, &id, &body.attributes, &body.parents, UnixTime::now()).await?;
    state.caches.sync(&state.store).await?;
    state.events.emit(SecurityEvent::EntityChanged { entity: format!("{ty}::{id}"), by: admin.principal });
    let e = state.store.entity(&ty, &id).await?.ok_or_else(ApiError::not_found)?;
    Ok(Json(entity_json(&e)))
}

#[derive(Debug, Deserialize)]
pub struct PatchBody {
    attributes: Map<String, Value>,
}

/// Sets some attributes (`null` removes one), keeping the rest.
pub async fn patch_entity(
    admin: Admin,
    State(state): State<AppState>,
    Path((ty, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body: PatchBody = parse(&body)?;
    check_attributes(&body.attributes)?;
    state.store.patch_entity(&ty, &id, &body.attributes, UnixTime::now()).await?;
    state.caches.sync(&state.store).await?;
    state.events.emit(SecurityEvent::EntityChanged { entity: format!("{ty}::{id}"), by: admin.principal });
    let e = state.store.entity(&ty, &id).await?.ok_or_else(ApiError::not_found)?;
    Ok(Json(entity_json(&e)))
}

pub async fn delete_entity(
    admin: Admin,
    State(state): State<AppState>,
    Path((ty, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    if !state.store.delete_entity(&ty, &id, UnixTime::now()).await? {
        return Err(ApiError::not_found());
    }
    state.caches.sync(&state.store).await?;
    state.events.emit(SecurityEvent::EntityChanged { entity: format!("{ty}::{id}"), by: admin.principal });
    Ok(StatusCode::NO_CONTENT)
}

// ---- capabilities -----------------------------------------------------------------------

#[derive(Debug, Deserialize)]
pub struct TypedId {
    #[serde(rename = "type")]
    ty: String,
    id: String,
}

#[derive(Debug, Deserialize)]
pub struct CapabilityBody {
    subject: TypedId,
    action: String,
    resource: TypedId,
    /// Seconds from now.
    expires_in: i64,
    note: Option<String>,
}

fn capability_json(c: &Capability) -> Value {
    json!({
        "id": c.id,
        "subject": { "type": c.subject_type, "id": c.subject_id },
        "action": c.action,
        "resource": { "type": c.resource_type, "id": c.resource_id },
        "expires_at": c.expires_at.0,
        "created_at": c.created_at.0,
        "note": c.note,
    })
}

/// Grants one subject one action on one resource (`id` `*`: every resource
/// of the type) until it expires.
pub async fn grant_capability(
    admin: Admin,
    State(state): State<AppState>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body: CapabilityBody = parse(&body)?;
    if !(1..=MAX_CAPABILITY_SECS).contains(&body.expires_in) {
        return Err(ApiError::bad_request(format!("expires_in must be 1 to {MAX_CAPABILITY_SECS} seconds")));
    }
    for (what, v) in [("subject.type", &body.subject.ty), ("subject.id", &body.subject.id), ("action", &body.action)]
        .into_iter()
        .chain([("resource.type", &body.resource.ty), ("resource.id", &body.resource.id)])
    {
        if v.is_empty() {
            return Err(ApiError::bad_request(format!("{what} is empty")));
        }
    }
    let now = UnixTime::now();
    let cap = Capability {
        id: latchkey_crypto::random::id(),
        subject_type: body.subject.ty,
        subject_id: body.subject.id,
        action: body.action,
        resource_type: body.resource.ty,
        resource_id: body.resource.id,
        expires_at: UnixTime(now.0 + body.expires_in),
        created_at: now,
        note: body.note,
    };
    state.store.grant_capability(&cap).await?;
    state.caches.sync(&state.store).await?;
    state.events.emit(SecurityEvent::CapabilityGranted {
        id: cap.id.clone(),
        subject: format!("{}::{}", cap.subject_type, cap.subject_id),
        action: cap.action.clone(),
        resource: format!("{}::{}", cap.resource_type, cap.resource_id),
        expires_at: cap.expires_at.0,
        by: admin.principal,
    });
    Ok((StatusCode::CREATED, Json(capability_json(&cap))))
}

pub async fn list_capabilities(
    _admin: Admin,
    State(state): State<AppState>,
    Path((ty, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let caps = state.store.capabilities_of(&ty, &id, UnixTime::now()).await?;
    Ok(Json(json!({ "capabilities": caps.iter().map(capability_json).collect::<Vec<_>>() })))
}

pub async fn revoke_capability(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.store.revoke_capability(&id, UnixTime::now()).await?.ok_or_else(ApiError::not_found)?;
    state.caches.sync(&state.store).await?;
    state.events.emit(SecurityEvent::CapabilityRevoked { id, by: admin.principal });
    Ok(StatusCode::NO_CONTENT)
}
