//! An orders-and-accounts API protected by `latchkey-resource`:
//! - `GET /me`: any valid token; who is calling.
//! - `GET /orders`: needs the `orders:read` scope (checked locally).
//! - `GET /accounts/{id}`: asks the decision point (`view_account`).
//! - `POST /accounts/{id}/payout`: asks the decision point
//!   (`change_payout`); a deny that names a step-up becomes an RFC 9470
//!   challenge the client can meet by signing in again.
//!
//! Every route verifies the bearer token locally (signature, issuer,
//! audience, lifetime) and, when a revocation feed is followed, refuses
//! revoked tokens and tokens of ended sessions within seconds.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use latchkey_resource::axum::{Guard, require};
use latchkey_resource::{Decisions, Rejection, Requirement, VerifiedToken, Verifier};
use serde_json::{Value, json};

#[derive(Clone)]
pub struct Api {
    pub verifier: Arc<Verifier>,
    /// The decision point; without it the account routes answer 503.
    pub decisions: Option<Arc<Decisions>>,
}

pub fn router(api: Api) -> Router {
    let any = Guard::new(api.verifier.clone());
    let orders = Guard::new(api.verifier.clone()).require(Requirement::scopes(["orders:read"]));
    Router::new()
        .route("/me", get(me))
        .route("/accounts/{id}", get(view_account))
        .route("/accounts/{id}/payout", post(change_payout))
        .route_layer(axum::middleware::from_fn_with_state(any, require))
        .merge(
            Router::new()
                .route("/orders", get(list_orders))
                .route_layer(axum::middleware::from_fn_with_state(orders, require)),
        )
        .with_state(api)
}

async fn me(token: VerifiedToken) -> Json<Value> {
    let c = token.claims();
    Json(json!({ "sub": c.sub, "client_id": c.client_id, "scope": c.scope, "acr": c.acr, "auth_time": c.auth_time }))
}

async fn list_orders(token: VerifiedToken) -> Json<Value> {
    Json(json!({ "owner": token.claims().sub, "orders": [{ "id": "o-1", "total": "42.00" }] }))
}

/// The decision point's answer for `action` on account `id`.
async fn decide(api: &Api, token: &VerifiedToken, action: &str, id: &str) -> Result<(), Rejection> {
    let Some(decisions) = &api.decisions else {
        return Err(Rejection::Unavailable("no decision point configured (PEP_KEY)".into()));
    };
    decisions.check(token, action, json!({ "type": "Account", "id": id })).await
}

async fn view_account(
    State(api): State<Api>,
    token: VerifiedToken,
    Path(id): Path<String>,
) -> Result<Json<Value>, Rejection> {
    decide(&api, &token, "view_account", &id).await?;
    Ok(Json(json!({ "account": id, "balance": "1234.56" })))
}

async fn change_payout(
    State(api): State<Api>,
    token: VerifiedToken,
    Path(id): Path<String>,
) -> Result<Json<Value>, Rejection> {
    decide(&api, &token, "change_payout", &id).await?;
    Ok(Json(json!({ "account": id, "payout": "changed" })))
}
