//! One decision: resolve the subject (explicit, or an access token of
//! ours), gather attributes from the store, apply the caller's limits,
//! consult the cache, evaluate, cache.
//!
//! Precedence of subject attributes, lowest first: the caller's
//! `properties` (never for protected names such as roles or verification
//! level, never for names the store holds), then the store, then the
//! claims of a validated token. A caller can describe a subject, never
//! promote one.

use std::sync::atomic::Ordering;

use latchkey_authz::{EntityData, EntityInput, EntityRef, PreparedQuery, RESERVED_CONTEXT, Requirement};
use latchkey_domain::UnixTime;
use latchkey_domain::access_token::AccessTokenClaims;
use latchkey_domain::client::CLIENT_SUBJECT_PREFIX;
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::runtime::CachedDecision;
use crate::state::AppState;

/// Requests larger than this (serialized) are decided but not cached.
const MAX_CACHED_REQUEST: usize = 16 * 1024;

/// The subject type under which a caller passes an access token (in `id`)
/// instead of naming the subject.
pub const TOKEN_SUBJECT_TYPE: &str = "access_token";

/// Who is asking (a PEP), and what it may ask about.
#[derive(Debug, Clone)]
pub struct Caller {
    pub name: String,
    pub privileged: bool,
    /// Empty: any resource type.
    pub resource_types: Vec<String>,
    pub tenant: Option<String>,
}

/// A typed entity of a request: `type`, `id` and the caller's
/// `properties`.
#[derive(Debug, Clone, Serialize)]
pub struct Described {
    #[serde(rename = "type")]
    pub ty: String,
    pub id: String,
    pub properties: Map<String, Value>,
}

/// One evaluation, as AuthZEN states it.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub subject: Described,
    pub action: String,
    pub resource: Described,
    pub context: Map<String, Value>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Explanation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_version: Option<i64>,
    pub reasons: Vec<String>,
    pub errors: Vec<String>,
    pub cached: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Decision {
    pub allow: bool,
    pub requirement: Option<Requirement>,
    pub explanation: Explanation,
}

impl Decision {
    fn deny(error: impl Into<String>) -> Decision {
        Decision { explanation: Explanation { errors: vec![error.into()], ..Default::default() }, ..Default::default() }
    }

    /// The AuthZEN response context: the step-up requirement of a deny,
    /// and with `explain`, the reasons (only ever for privileged callers).
    pub fn context(&self, explain: bool) -> Option<Value> {
        let mut ctx = Map::new();
        if let Some(req) = &self.requirement
            && let Ok(Value::Object(fields)) = serde_json::to_value(req)
        {
            ctx.extend(fields);
        }
        if explain && let Ok(Value::Object(fields)) = serde_json::to_value(&self.explanation) {
            ctx.extend(fields);
        }
        (!ctx.is_empty()).then_some(Value::Object(ctx))
    }
}

/// The store could not be read: the caller answers 503 (or, inside a
/// batch, a deny).
#[derive(Debug, thiserror::Error)]
#[error("authorization data unavailable: {0}")]
pub struct Unavailable(pub String);

impl From<latchkey_store::StoreError> for Unavailable {
    fn from(e: latchkey_store::StoreError) -> Self {
        Unavailable(e.to_string())
    }
}

/// What the decision point itself vouches for about a subject (from a
/// token it validated, or from the grant being issued): these attributes
/// override the store and the caller.
#[derive(Debug, Clone, Serialize)]
pub struct Vouched {
    pub subject: EntityRef,
    pub attrs: Map<String, Value>,
    #[serde(skip)]
    pub auth_time: Option<i64>,
    /// No decision built on these facts outlives this instant.
    #[serde(skip)]
    pub expires_at: Option<i64>,
}

/// How a subject authenticated, as a token or a grant states it.
pub struct Authentication<'a> {
    /// `sub`: a user id, or `client:<id>` for a client acting for itself.
    pub sub: &'a str,
    pub client_id: &'a str,
    pub acr: Option<&'a str>,
    pub amr: &'a [String],
    pub sid: Option<&'a str>,
    pub auth_time: Option<i64>,
}

impl Vouched {
    /// The subject and the facts of its authentication (`client_id`,
    /// `acr`, `amr`, `sid`, `auth_time`).
    pub fn authenticated(a: &Authentication<'_>, cfg: &super::config::AuthzConfig) -> Vouched {
        let subject = match a.sub.strip_prefix(CLIENT_SUBJECT_PREFIX) {
            Some(client_id) => EntityRef::new(cfg.client_type.clone(), client_id),
            None => EntityRef::new(cfg.user_type.clone(), a.sub),
        };
        let mut attrs = Map::new();
        attrs.insert("client_id".into(), Value::from(a.client_id));
        for (name, value) in [("acr", a.acr), ("sid", a.sid)] {
            if let Some(v) = value {
                attrs.insert(name.into(), Value::from(v));
            }
        }
        if !a.amr.is_empty() {
            attrs.insert("amr".into(), json!(a.amr));
        }
        if let Some(at) = a.auth_time {
            attrs.insert("auth_time".into(), Value::from(at));
        }
        Vouched { subject, attrs, auth_time: a.auth_time, expires_at: None }
    }

    /// The facts of one of our access tokens: its authentication, plus
    /// `scopes`, `exp` and the `act` chain.
    fn from_claims(c: &AccessTokenClaims, cfg: &super::config::AuthzConfig) -> Vouched {
        let auth = Authentication {
            sub: &c.sub,
            client_id: &c.client_id,
            acr: c.acr.as_deref(),
            amr: c.amr.as_deref().unwrap_or_default(),
            sid: c.sid.as_deref(),
            auth_time: c.auth_time,
        };
        let mut v = Vouched::authenticated(&auth, cfg);
        let scopes: Vec<Value> =
            c.scope.as_deref().unwrap_or("").split(' ').filter(|s| !s.is_empty()).map(Value::from).collect();
        v.attrs.insert("scopes".into(), Value::Array(scopes));
        v.attrs.insert("exp".into(), Value::from(c.exp));
        // RFC 8693 `act`: who acted for the subject, most recent first.
        let mut actors = Vec::new();
        let mut next = c.act.as_ref();
        while let Some(a) = next {
            actors.push(Value::from(a.sub.clone()));
            next = a.act.as_deref();
        }
        if !actors.is_empty() {
            v.attrs.insert("actors".into(), Value::Array(actors));
        }
        v.expires_at = Some(c.exp);
        v
    }
}

pub async fn evaluate(state: &AppState, caller: &Caller, item: &Item) -> Result<Decision, Unavailable> {
    evaluate_with(state, caller, item, None, None).await
}

/// [`evaluate`] against a draft policy set instead of the active one (the
/// policy test API): same attributes, never cached.
pub async fn evaluate_with(
    state: &AppState,
    caller: &Caller,
    item: &Item,
    draft: Option<&latchkey_authz::PolicySet>,
    vouched: Option<Vouched>,
) -> Result<Decision, Unavailable> {
    let now = UnixTime::now();
    let authz = &state.caches.authz;
    let cfg = &state.config.authz;
    if !caller.resource_types.is_empty() && !caller.resource_types.contains(&item.resource.ty) {
        return Ok(Decision::deny(format!("this caller may not ask about resources of type `{}`", item.resource.ty)));
    }
    // The global epoch before the policy set: a swap in between then files
    // this decision under the old epoch, where nobody looks any more.
    let global_epoch = authz.global_epoch();
    let active = authz.policies();
    let (set, version) = match (draft, &active) {
        (Some(d), _) => (d, None),
        (None, Some(a)) => (&a.set, Some(a.version)),
        (None, None) => return Ok(Decision::deny("no policy set is active")),
    };
    let use_memory = state.caches.is_current(now);

    let vouched = if item.subject.ty == TOKEN_SUBJECT_TYPE {
        let claims = match crate::access_tokens::verify_shared(state, &item.subject.id).await {
            Ok(c) => c,
            Err(latchkey_domain::access_token::TokenProblem::CheckUnavailable(e)) => return Err(Unavailable(e)),
            Err(problem) => return Ok(Decision::deny(format!("subject token: {problem}"))),
        };
        if let Some(sid) = &claims.sid
            && !state.caches.session_active(&state.store, sid, now).await?
        {
            return Ok(Decision::deny("subject token: its session has ended"));
        }
        Some(Vouched::from_claims(&claims, cfg))
    } else {
        vouched
    };
    let subject_ref = match &vouched {
        Some(v) => v.subject.clone(),
        None => EntityRef::new(item.subject.ty.clone(), item.subject.id.clone()),
    };

    let cache_key = (cfg.cache && use_memory && draft.is_none()).then(|| {
        // Serialized straight from the parts (a tuple is a JSON array),
        // without first copying the request into a `Value`.
        let key = (
            global_epoch,
            version,
            authz.epoch_of(&subject_ref.ty, &subject_ref.id),
            authz.epoch_of(&item.resource.ty, &item.resource.id),
            &caller.name,
            item,
            &vouched,
        );
        // Keyed by digest: keys stay small whatever the request carries
        // (contexts, tokens), and raw tokens are not kept in memory.
        let bytes = serde_json::to_vec(&key).unwrap_or_default();
        (bytes.len() <= MAX_CACHED_REQUEST).then(|| latchkey_crypto::digest::sha256(&bytes))
    });
    let cache_key = cache_key.flatten();
    if let Some(key) = &cache_key
        && let Some(hit) = authz.cache.get(key, now)
    {
        state.metrics.observe_decision(hit.allow, true);
        return Ok(Decision {
            allow: hit.allow,
            requirement: hit.requirement,
            explanation: Explanation {
                policy_version: version,
                reasons: hit.reasons,
                errors: hit.errors,
                cached: true,
            },
        });
    }

    // The subject: caller properties, then the store, then the token.
    let subject = authz.resolve(&state.store, &subject_ref.ty, &subject_ref.id, use_memory).await?;
    let stored = subject.stored.as_deref();
    // The caller's properties that count: never for a vouched subject,
    // never protected names, never names the store holds.
    let described: Vec<(&String, &Value)> = match &vouched {
        Some(_) => Vec::new(),
        None => item
            .subject
            .properties
            .iter()
            .filter(|(k, _)| !cfg.is_protected(k) && !stored.is_some_and(|s| s.attributes.contains_key(*k)))
            .collect(),
    };
    // Described by the directory alone, the subject's Cedar form is the
    // one converted once per directory entry; otherwise it is assembled
    // (and converted) for this decision.
    let principal_data = (vouched.is_some() || !described.is_empty()).then(|| {
        let mut principal = EntityData::new(subject_ref.ty.clone(), subject_ref.id.clone());
        principal.attrs.extend(described.iter().map(|(k, v)| ((*k).clone(), (*v).clone())));
        if let Some(s) = stored {
            principal.attrs.extend(s.attributes.iter().map(|(k, v)| (k.clone(), v.clone())));
            principal.parents.clone_from(&subject.ancestors);
        }
        if let Some(v) = &vouched {
            principal.attrs.extend(v.attrs.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        principal
    });
    let mut expires_at = now.plus(cfg.cache_ttl).0;
    if let Some(exp) = vouched.as_ref().and_then(|v| v.expires_at) {
        expires_at = expires_at.min(exp);
    }

    if let Some(tenant) = &caller.tenant {
        let attrs = principal_data.as_ref().map(|p| &p.attrs).or(stored.map(|s| &s.attributes));
        let subject_tenant = attrs.and_then(|a| a.get("tenant")).and_then(Value::as_str);
        if subject_tenant != Some(tenant.as_str()) {
            return Ok(Decision::deny("the subject is outside this caller's tenant"));
        }
    }

    // The resource: the caller's properties, overridden by the store.
    // Without properties, it too is described by the directory alone.
    let target = authz.resolve(&state.store, &item.resource.ty, &item.resource.id, use_memory).await?;
    let resource_data = (!item.resource.properties.is_empty()).then(|| {
        let mut resource = EntityData::new(item.resource.ty.clone(), item.resource.id.clone());
        resource.attrs = item.resource.properties.clone();
        if let Some(s) = &target.stored {
            resource.attrs.extend(s.attributes.iter().map(|(k, v)| (k.clone(), v.clone())));
            resource.parents.clone_from(&target.ancestors);
        }
        resource
    });
    if let Some(tenant) = &caller.tenant {
        let attrs = resource_data.as_ref().map(|r| &r.attrs).or(target.stored.as_ref().map(|s| &s.attributes));
        if let Some(rt) = attrs.and_then(|a| a.get("tenant")).and_then(Value::as_str)
            && rt != tenant
        {
            return Ok(Decision::deny("the resource is outside this caller's tenant"));
        }
    }

    // The context: the caller's, without the names the decision point owns.
    let mut context = item.context.clone();
    for k in RESERVED_CONTEXT {
        context.remove(*k);
    }
    context.insert("now".into(), Value::from(now.0));
    let auth_time = vouched.as_ref().and_then(|v| v.auth_time);
    if let Some(at) = auth_time {
        context.insert("auth_age".into(), Value::from(now.0.saturating_sub(at)));
    }

    let caps = authz.capabilities(&state.store, &subject_ref.ty, &subject_ref.id, now, use_memory).await?;
    let capability_until = caps
        .iter()
        .filter(|c| {
            c.expires_at.0 > now.0
                && c.action == item.action
                && c.resource_type == item.resource.ty
                && (c.resource_id == "*" || c.resource_id == item.resource.id)
        })
        .map(|c| c.expires_at.0)
        .max();

    // A directory entry that does not convert has no prepared form: its
    // data then goes in, and the decision says why it denies.
    let (principal_whole, resource_whole);
    let principal = match &principal_data {
        Some(p) => EntityInput::Data(p),
        None => match subject.prepared(set) {
            Some(p) => EntityInput::Prepared(p),
            None => {
                principal_whole = subject.data();
                EntityInput::Data(&principal_whole)
            }
        },
    };
    let resource = match &resource_data {
        Some(r) => EntityInput::Data(r),
        None => match target.prepared(set) {
            Some(r) => EntityInput::Prepared(r),
            None => {
                resource_whole = target.data();
                EntityInput::Data(&resource_whole)
            }
        },
    };
    let outcome = set.decide_prepared(&PreparedQuery {
        principal,
        action: &item.action,
        resource,
        context: &context,
        capability: capability_until.is_some(),
    });

    if let Some(until) = capability_until
        && outcome.reasons.iter().any(|r| r == "capability")
    {
        expires_at = expires_at.min(until);
    }
    // Decisions that read the clock can flip at `auth_time + max_age`;
    // one that reads it in any other way is not cached at all.
    let mut cacheable = cache_key.is_some() && !outcome.uncacheable;
    if outcome.time_sensitive && cacheable {
        match auth_time {
            Some(at) if !outcome.max_ages.is_empty() => {
                if let Some(flip) = outcome
                    .max_ages
                    .iter()
                    .map(|m| at.saturating_add(*m).saturating_add(1))
                    .filter(|t| *t > now.0)
                    .min()
                {
                    expires_at = expires_at.min(flip);
                }
            }
            _ => cacheable = false,
        }
    }
    if cacheable && let Some(key) = cache_key {
        authz.cache.insert(
            key,
            CachedDecision {
                allow: outcome.allow,
                requirement: outcome.requirement.clone(),
                reasons: outcome.reasons.clone(),
                errors: outcome.errors.clone(),
                expires_at,
            },
        );
    }
    state.metrics.observe_decision(outcome.allow, false);
    sample(state, caller, item, &subject_ref, outcome.allow, &outcome.reasons);

    Ok(Decision {
        allow: outcome.allow,
        requirement: outcome.requirement,
        explanation: Explanation {
            policy_version: version,
            reasons: outcome.reasons,
            errors: outcome.errors,
            cached: false,
        },
    })
}

/// Largest request detail a decision event keeps (see `request` there).
const MAX_EVENT_REQUEST: usize = 4096;

/// One decision event in `decision_event_sample_every` (never the token).
fn sample(state: &AppState, caller: &Caller, item: &Item, subject: &EntityRef, allow: bool, reasons: &[String]) {
    let every = state.config.authz.decision_event_sample_every;
    if every == 0 {
        return;
    }
    let n = state.caches.authz.decisions.fetch_add(1, Ordering::Relaxed);
    if n.is_multiple_of(every) {
        state.events.emit(latchkey_domain::SecurityEvent::AuthorizationDecided {
            caller: caller.name.clone(),
            subject: format!("{}::{}", subject.ty, subject.id),
            action: item.action.clone(),
            resource: format!("{}::{}", item.resource.ty, item.resource.id),
            allowed: allow,
            reasons: reasons.to_vec(),
            sample_every: every,
            request: replayable(item),
        });
    }
}

/// The parts of a request a replay needs beyond the ids, as the decision
/// used them: the caller's properties (none for a token subject, whose
/// facts come from the token) and the context without its reserved names
/// (which may carry a token); bounded.
fn replayable(item: &Item) -> Value {
    let subject = if item.subject.ty == TOKEN_SUBJECT_TYPE { Map::new() } else { item.subject.properties.clone() };
    let context: Map<String, Value> = item
        .context
        .iter()
        .filter(|(k, _)| !RESERVED_CONTEXT.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if subject.is_empty() && item.resource.properties.is_empty() && context.is_empty() {
        return Value::Null;
    }
    let request = serde_json::json!({ "subject": subject, "resource": item.resource.properties, "context": context });
    if request.to_string().len() > MAX_EVENT_REQUEST { Value::Null } else { request }
}
