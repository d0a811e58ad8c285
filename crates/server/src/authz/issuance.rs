//! Policy at the token endpoint: with `[authz] govern_issuance = true`,
//! every scope and every audience a grant would issue is also a decision.
//!
//! - `request_scope` on `Scope::"<scope>"`: a denied scope is left out of
//!   the token (RFC 6749 §3.3 lets the server issue fewer scopes than
//!   asked, and the response's `scope` says which); none left is
//!   `invalid_scope`.
//! - `request_audience` on `Audience::"<resource URI>"`: a denied audience
//!   is `invalid_target` (RFC 8707).
//!
//! The principal is the client (client credentials) or the user, with the
//! facts of the authentication (`acr`, `amr`, `auth_time`, so `auth_age`)
//! vouched for by the server, and the store's attributes: an admin setting
//! `contract_status` or a verification signal changes what the very next
//! token may carry, with the same client.

use axum::http::StatusCode;
use latchkey_domain::{Client, ErrorCode, ScopeSet};
use serde_json::{Map, Value, json};

use super::decide::{Authentication, Caller, Described, Item, Vouched, evaluate_with};
use crate::error::ApiError;
use crate::state::AppState;
use crate::tokens::AuthContext;

pub const SCOPE_ACTION: &str = "request_scope";
pub const AUDIENCE_ACTION: &str = "request_audience";
pub const SCOPE_TYPE: &str = "Scope";
pub const AUDIENCE_TYPE: &str = "Audience";

fn vouched(state: &AppState, client: &Client, ctx: &AuthContext) -> Vouched {
    let auth = Authentication {
        sub: &ctx.subject,
        client_id: &client.id,
        acr: ctx.acr.as_deref(),
        amr: &ctx.amr,
        sid: ctx.session_id.as_deref(),
        auth_time: ctx.auth_time.map(|t| t.0),
    };
    Vouched::authenticated(&auth, &state.config.authz)
}

/// The scopes the policies let this grant issue, or the error to answer.
pub async fn govern(
    state: &AppState,
    client: &Client,
    ctx: &AuthContext,
    scopes: &ScopeSet,
    audience: Option<&str>,
    grant_type: &str,
) -> Result<ScopeSet, ApiError> {
    if !state.config.authz.govern_issuance {
        return Ok(scopes.clone());
    }
    let caller = Caller { name: "token-endpoint".into(), privileged: true, resource_types: vec![], tenant: None };
    let v = vouched(state, client, ctx);
    let mut context = Map::new();
    context.insert("client_id".into(), Value::from(client.id.clone()));
    context.insert("grant_type".into(), Value::from(grant_type));
    if let Some(aud) = audience {
        context.insert("audience".into(), Value::from(aud));
    }
    context.insert("requested_scopes".into(), json!(scopes.iter().collect::<Vec<_>>()));
    let item = |action: &str, ty: &str, id: &str| Item {
        subject: Described { ty: v.subject.ty.clone(), id: v.subject.id.clone(), properties: Map::new() },
        action: action.to_owned(),
        resource: Described { ty: ty.to_owned(), id: id.to_owned(), properties: Map::new() },
        context: context.clone(),
    };
    let unavailable = |e: super::decide::Unavailable| ApiError::unavailable(e);

    if let Some(aud) = audience {
        let d = evaluate_with(state, &caller, &item(AUDIENCE_ACTION, AUDIENCE_TYPE, aud), None, Some(v.clone()))
            .await
            .map_err(unavailable)?;
        if !d.allow {
            return Err(denied(
                ErrorCode::InvalidTarget,
                format!("policy does not permit the audience {aud} for this client now"),
                &d,
            ));
        }
    }
    let mut kept = Vec::new();
    let mut last_denial = None;
    for scope in scopes.iter() {
        let d = evaluate_with(state, &caller, &item(SCOPE_ACTION, SCOPE_TYPE, scope), None, Some(v.clone()))
            .await
            .map_err(unavailable)?;
        if d.allow {
            kept.push(scope.to_owned());
        } else {
            tracing::debug!(scope, client_id = %client.id, reasons = ?d.explanation.reasons, "scope withheld by policy");
            last_denial = Some(d);
        }
    }
    if kept.is_empty() && !scopes.is_empty() {
        let d = last_denial.unwrap_or_default();
        return Err(denied(ErrorCode::InvalidScope, "policy permits none of the requested scopes now".into(), &d));
    }
    ScopeSet::from_tokens(kept.iter().map(String::as_str))
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidScope, e.to_string()))
}

/// The error, with the step-up a policy asked for in the description, so
/// that a client knows to send the user through it.
fn denied(code: ErrorCode, description: String, d: &super::decide::Decision) -> ApiError {
    let mut description = description;
    if let Some(req) = &d.requirement {
        if let Some(acr) = &req.acr_values {
            description.push_str(&format!("; authenticate with acr_values={acr}"));
        }
        if let Some(age) = req.max_age {
            description.push_str(&format!(" within max_age={age}"));
        }
        if let Some(level) = &req.required_verification {
            description.push_str(&format!("; verification level {level} required"));
        }
    }
    let reason = format!("reasons={:?} errors={:?}", d.explanation.reasons, d.explanation.errors);
    ApiError::new(StatusCode::BAD_REQUEST, code, description)
        .with_reason(reason)
        .with_cause("policy_denied")
        .with_private_reason()
}
