//! The OpenID AuthZEN Authorization API 1.0: evaluation, evaluations,
//! subject/resource/action search, and the PDP metadata.
//!
//! Protocol rules: a deny is `200 {"decision": false}`; a request missing
//! subject, action or resource, with a wrong type, malformed JSON or
//! another content type is 400; unknown fields are ignored; inside a batch
//! an item that cannot be evaluated is `{"decision": false}`. Plain
//! responses carry nothing but the decision (and, for a deny with a
//! step-up requirement, that requirement in `context`); explanations are
//! opt-in (`options.explain`) and only for privileged callers.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use latchkey_domain::ErrorCode;
use serde_json::{Map, Value, json};

use crate::authz::decide::{Described, Unavailable};
use crate::authz::{Caller, Item, evaluate};
use crate::error::ApiError;
use crate::state::AppState;

/// Items in one batch.
pub const MAX_BATCH: usize = 1000;
/// Results per search page unless the caller asks for fewer.
pub const DEFAULT_PAGE: usize = 100;
pub const MAX_PAGE: usize = 1000;
/// Candidates examined per search request; the rest is on the next page.
const MAX_SCAN: usize = 10_000;

pub fn metadata(state: &AppState) -> Value {
    let base = state.issuer.as_str();
    json!({
        "policy_decision_point": base,
        "access_evaluation_endpoint": format!("{base}/access/v1/evaluation"),
        "access_evaluations_endpoint": format!("{base}/access/v1/evaluations"),
        "search_subject_endpoint": format!("{base}/access/v1/search/subject"),
        "search_resource_endpoint": format!("{base}/access/v1/search/resource"),
        "search_action_endpoint": format!("{base}/access/v1/search/action"),
        "capabilities": [],
    })
}

pub async fn configuration(State(state): State<AppState>) -> Json<Value> {
    Json(metadata(&state))
}

fn bad(description: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest, description)
}

/// The body as a JSON object, after the content type check.
fn json_body(headers: &HeaderMap, body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    crate::forms::require_json(headers)?;
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(bad("the request body must be a JSON object")),
        Err(e) => Err(bad(format!("malformed JSON: {e}"))),
    }
}

fn object<'a>(v: &'a Value, what: &str) -> Result<&'a Map<String, Value>, String> {
    v.as_object().ok_or_else(|| format!("{what} must be an object"))
}

fn string_field(m: &Map<String, Value>, what: &str, field: &str) -> Result<String, String> {
    match m.get(field) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(Value::String(_)) => Err(format!("{what}.{field} is empty")),
        Some(_) => Err(format!("{what}.{field} must be a string")),
        None => Err(format!("{what}.{field} is missing")),
    }
}

fn properties(m: &Map<String, Value>, what: &str) -> Result<Map<String, Value>, String> {
    match m.get("properties") {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(p)) => Ok(p.clone()),
        Some(_) => Err(format!("{what}.properties must be an object")),
    }
}

/// A subject or resource; `id` may be absent only where the search API
/// asks for the entities of a type.
fn described(v: Option<&Value>, what: &str, id_required: bool) -> Result<Described, String> {
    let m = object(v.ok_or_else(|| format!("{what} is missing"))?, what)?;
    let ty = string_field(m, what, "type")?;
    let id = if id_required { string_field(m, what, "id")? } else { String::new() };
    Ok(Described { ty, id, properties: properties(m, what)? })
}

fn action(v: Option<&Value>) -> Result<String, String> {
    let m = object(v.ok_or("action is missing")?, "action")?;
    string_field(m, "action", "name")
}

fn context(v: Option<&Value>) -> Result<Map<String, Value>, String> {
    match v {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(c)) => Ok(c.clone()),
        Some(_) => Err("context must be an object".into()),
    }
}

pub(crate) fn item(m: &Map<String, Value>) -> Result<Item, String> {
    item_of(m.get("subject"), m.get("action"), m.get("resource"), m.get("context"))
}

/// An item from its four parts, wherever each comes from (a batch item
/// or the batch's defaults), read in place rather than first assembled.
fn item_of(
    subject: Option<&Value>,
    act: Option<&Value>,
    resource: Option<&Value>,
    ctx: Option<&Value>,
) -> Result<Item, String> {
    Ok(Item {
        subject: described(subject, "subject", true)?,
        action: action(act)?,
        resource: described(resource, "resource", true)?,
        context: context(ctx)?,
    })
}

/// `options.explain`, refused for callers that may not see policy.
fn explain(body: &Map<String, Value>, caller: &Caller) -> Result<bool, ApiError> {
    let wanted = body.get("options").and_then(|o| o.get("explain")).and_then(Value::as_bool).unwrap_or(false);
    if wanted && !caller.privileged {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::AccessDenied,
            "explanations reveal policy: this caller is not privileged",
        ));
    }
    Ok(wanted)
}

fn unavailable(e: Unavailable) -> ApiError {
    ApiError::unavailable(e)
}

fn decision_json(d: &crate::authz::Decision, explain: bool) -> Value {
    let mut out = Map::new();
    out.insert("decision".into(), Value::Bool(d.allow));
    if let Some(ctx) = d.context(explain) {
        out.insert("context".into(), ctx);
    }
    Value::Object(out)
}

pub async fn evaluation(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let body = json_body(&headers, &body)?;
    let explain = explain(&body, &caller)?;
    let item = item(&body).map_err(bad)?;
    let d = evaluate(&state, &caller, &item).await.map_err(unavailable)?;
    Ok(Json(decision_json(&d, explain)))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Semantic {
    ExecuteAll,
    DenyOnFirstDeny,
    PermitOnFirstPermit,
}

pub async fn evaluations(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let mut body = json_body(&headers, &body)?;
    let explain = explain(&body, &caller)?;
    let semantic = match body.get("options").and_then(|o| o.get("evaluations_semantic")) {
        None | Some(Value::Null) => Semantic::ExecuteAll,
        Some(Value::String(s)) if s == "execute_all" => Semantic::ExecuteAll,
        Some(Value::String(s)) if s == "deny_on_first_deny" => Semantic::DenyOnFirstDeny,
        Some(Value::String(s)) if s == "permit_on_first_permit" => Semantic::PermitOnFirstPermit,
        Some(other) => return Err(bad(format!("options.evaluations_semantic: unknown value {other}"))),
    };
    // Taken out of the body, which is ours: the items are read in place.
    let items = match body.remove("evaluations") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(bad("evaluations must be an array")),
    };
    // Without items, the request is a single evaluation (AuthZEN §7.1).
    if items.is_empty() {
        let item = item(&body).map_err(bad)?;
        let d = evaluate(&state, &caller, &item).await.map_err(unavailable)?;
        return Ok(Json(decision_json(&d, explain)));
    }
    if items.len() > MAX_BATCH {
        return Err(bad(format!("at most {MAX_BATCH} evaluations per request")));
    }
    for key in ["subject", "action", "resource", "context"] {
        if let Some(v) = body.get(key)
            && !v.is_object()
        {
            return Err(bad(format!("{key} must be an object")));
        }
    }
    prefetch(&state, &body, &items).await;
    let mut results = Vec::with_capacity(items.len());
    for raw in &items {
        // Each key of an item replaces the top-level default whole.
        let parsed = match raw.as_object() {
            Some(m) => {
                let part = |key: &str| m.get(key).or_else(|| body.get(key));
                item_of(part("subject"), part("action"), part("resource"), part("context"))
            }
            None => Err("an evaluation must be an object".to_owned()),
        };
        let result = match parsed {
            Ok(it) => match evaluate(&state, &caller, &it).await {
                Ok(d) => decision_json(&d, explain),
                Err(e) => failed_item(&e.to_string(), explain),
            },
            Err(reason) => failed_item(&reason, explain),
        };
        let allowed = result.get("decision").and_then(Value::as_bool).unwrap_or(false);
        results.push(result);
        let stop = match semantic {
            Semantic::ExecuteAll => false,
            Semantic::DenyOnFirstDeny => !allowed,
            Semantic::PermitOnFirstPermit => allowed,
        };
        if stop {
            break;
        }
    }
    Ok(Json(json!({ "evaluations": results })))
}

/// Reads the batch's subjects and resources the directory has not seen in
/// one store query, instead of one read per item. Best effort: on failure
/// each decision reads for itself, as without it.
async fn prefetch(state: &AppState, body: &Map<String, Value>, items: &[Value]) {
    if !state.config.authz.batch_prefetch || !state.caches.is_current(latchkey_domain::UnixTime::now()) {
        return;
    }
    let mut keys: Vec<(String, String)> = Vec::with_capacity(items.len() * 2);
    let mut seen = std::collections::HashSet::with_capacity(items.len() * 2);
    for raw in items {
        for part in ["subject", "resource"] {
            let entity = raw.get(part).or_else(|| body.get(part));
            let ty = entity.and_then(|e| e.get("type")).and_then(Value::as_str);
            let id = entity.and_then(|e| e.get("id")).and_then(Value::as_str);
            // A token subject's id is the token: nothing to read.
            if let (Some(ty), Some(id)) = (ty, id)
                && ty != crate::authz::decide::TOKEN_SUBJECT_TYPE
                && seen.insert((ty, id))
            {
                keys.push((ty.to_owned(), id.to_owned()));
            }
        }
    }
    if let Err(e) = state.caches.authz.prefetch(&state.store, &keys).await {
        tracing::debug!(error = %e, "batch prefetch failed; decisions read one by one");
    }
}

fn failed_item(reason: &str, explain: bool) -> Value {
    if explain { json!({ "decision": false, "context": { "errors": [reason] } }) } else { json!({ "decision": false }) }
}

/// Search paging: the caller's `page.limit` and the opaque `page.token`
/// (the last candidate examined).
struct Page {
    limit: usize,
    after: String,
    asked: bool,
}

fn page(body: &Map<String, Value>) -> Result<Page, ApiError> {
    let Some(p) = body.get("page") else { return Ok(Page { limit: DEFAULT_PAGE, after: String::new(), asked: false }) };
    let p = p.as_object().ok_or_else(|| bad("page must be an object"))?;
    let limit = match p.get("limit") {
        None | Some(Value::Null) => DEFAULT_PAGE,
        Some(v) => v.as_u64().ok_or_else(|| bad("page.limit must be a non-negative integer"))? as usize,
    };
    let after = match p.get("token").and_then(Value::as_str).filter(|t| !t.is_empty()) {
        None => String::new(),
        Some(t) => URL_SAFE_NO_PAD
            .decode(t)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| bad("page.token is not one this server issued"))?,
    };
    Ok(Page { limit: limit.clamp(1, MAX_PAGE), after, asked: true })
}

fn search_response(results: Vec<Value>, next: Option<String>, asked: bool) -> Value {
    let mut out = Map::new();
    if next.is_some() || asked {
        let token = next.map(|n| URL_SAFE_NO_PAD.encode(n)).unwrap_or_default();
        out.insert("page".into(), json!({ "next_token": token }));
    }
    out.insert("results".into(), Value::Array(results));
    Value::Object(out)
}

fn require_privileged(caller: &Caller) -> Result<(), ApiError> {
    if caller.privileged {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        ErrorCode::AccessDenied,
        "search lists subjects and resources: this caller is not privileged",
    ))
}

#[derive(Clone, Copy)]
enum Searched {
    Subject,
    Resource,
}

async fn search_entities(
    state: &AppState,
    caller: &Caller,
    body: &Map<String, Value>,
    searched: Searched,
) -> Result<Value, ApiError> {
    let page = page(body)?;
    let (subject, resource) = match searched {
        Searched::Subject => {
            (described(body.get("subject"), "subject", false), described(body.get("resource"), "resource", true))
        }
        Searched::Resource => {
            (described(body.get("subject"), "subject", true), described(body.get("resource"), "resource", false))
        }
    };
    let (subject, resource) = (subject.map_err(bad)?, resource.map_err(bad)?);
    let action = action(body.get("action")).map_err(bad)?;
    let context = context(body.get("context")).map_err(bad)?;
    let ty = match searched {
        Searched::Subject => subject.ty.clone(),
        Searched::Resource => resource.ty.clone(),
    };

    let mut results = Vec::new();
    let mut after = page.after.clone();
    let mut scanned = 0;
    let mut next = None;
    'pages: loop {
        let batch = state.store.entities_of_type(&ty, &after, 200).await?;
        if batch.is_empty() {
            break;
        }
        for candidate in &batch {
            after.clone_from(&candidate.entity_id);
            scanned += 1;
            let mut it = Item {
                subject: subject.clone(),
                action: action.clone(),
                resource: resource.clone(),
                context: context.clone(),
            };
            match searched {
                Searched::Subject => it.subject.id.clone_from(&candidate.entity_id),
                Searched::Resource => it.resource.id.clone_from(&candidate.entity_id),
            }
            if evaluate(state, caller, &it).await.map_err(unavailable)?.allow {
                results.push(json!({ "type": ty, "id": candidate.entity_id }));
            }
            if results.len() >= page.limit || scanned >= MAX_SCAN {
                next = Some(after.clone());
                break 'pages;
            }
        }
    }
    // A page cut exactly at the end says so on the next request (empty).
    Ok(search_response(results, next, page.asked))
}

pub async fn search_subject(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    require_privileged(&caller)?;
    let body = json_body(&headers, &body)?;
    Ok(Json(search_entities(&state, &caller, &body, Searched::Subject).await?).into_response())
}

pub async fn search_resource(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    require_privileged(&caller)?;
    let body = json_body(&headers, &body)?;
    Ok(Json(search_entities(&state, &caller, &body, Searched::Resource).await?).into_response())
}

pub async fn search_action(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    require_privileged(&caller)?;
    let body = json_body(&headers, &body)?;
    let page = page(&body)?;
    let subject = described(body.get("subject"), "subject", true).map_err(bad)?;
    let resource = described(body.get("resource"), "resource", true).map_err(bad)?;
    let context = context(body.get("context")).map_err(bad)?;
    let actions: Vec<String> = match state.caches.authz.policies() {
        Some(p) => p.set.actions().map(str::to_owned).collect(),
        None => Vec::new(),
    };
    // The token is the last action examined, in schema order.
    let start = if page.after.is_empty() {
        0
    } else {
        actions.iter().position(|a| *a == page.after).map(|i| i + 1).ok_or_else(|| bad("page.token is stale"))?
    };
    let mut results = Vec::new();
    let mut next = None;
    for name in actions.iter().skip(start) {
        let it = Item {
            subject: subject.clone(),
            action: name.clone(),
            resource: resource.clone(),
            context: context.clone(),
        };
        if evaluate(&state, &caller, &it).await.map_err(unavailable)?.allow {
            results.push(json!({ "name": name }));
        }
        if results.len() >= page.limit {
            next = Some(name.clone());
            break;
        }
    }
    Ok(Json(search_response(results, next, page.asked)))
}
