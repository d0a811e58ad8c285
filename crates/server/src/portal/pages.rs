//! The portal pages whose work happens in the browser (decoder, utilities,
//! flow runner, playground, API reference): a shell, a body of markup and
//! a script, plus the data the script needs.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

use super::assets::fragment;
use super::layout::{Page, render};
use super::signin::developer;
use crate::error::ApiError;
use crate::state::AppState;

async fn scripted(
    state: &AppState,
    user: Option<&latchkey_domain::User>,
    section: &str,
    title: &str,
    body: &str,
    scripts: &[&str],
    data: serde_json::Value,
) -> Result<Response, ApiError> {
    let mut page = Page::new(section, title, fragment(body));
    page.scripts = scripts;
    page.data = data;
    Ok(render(state, user, page))
}

pub async fn jwt(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let user = developer(&state, &headers).await?;
    let algs: Vec<&str> = state.config.keys.algorithms.iter().map(|a| a.as_str()).collect();
    let audiences: Vec<&str> = state.resources.iter().map(|r| r.identifier.as_str()).collect();
    let data = serde_json::json!({ "algorithms": algs, "audiences": audiences });
    scripted(&state, user.as_ref(), "/jwt", "JWT decoder and verifier", "jwt.html", &["jwt.js"], data).await
}

pub async fn tools(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let user = developer(&state, &headers).await?;
    scripted(&state, user.as_ref(), "/tools", "Utilities", "tools.html", &["tools.js"], serde_json::Value::Null).await
}

pub async fn flows(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let user = developer(&state, &headers).await?;
    let own: Vec<serde_json::Value> = match &user {
        Some(u) => super::sandbox::clients_of(&state, &u.id)
            .await?
            .iter()
            .map(|c| {
                serde_json::json!({
                    "id": c.id,
                    "name": c.name,
                    "kind": c.kind.as_str(),
                    "scopes": c.scopes.to_string(),
                    "redirect_uris": c.redirect_uris,
                })
            })
            .collect(),
        None => vec![],
    };
    let resources: Vec<serde_json::Value> = state
        .resources
        .iter()
        .map(|r| {
            serde_json::json!({
                "identifier": r.identifier,
                "scopes": r.scopes.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
            })
        })
        .collect();
    let data = serde_json::json!({
        "redirect_uri": state.issuer.endpoint(super::flows::PATH),
        "resources": resources,
        "own_clients": own,
        "dev_clients": if state.config.dev {
            serde_json::json!([
                { "id": crate::bootstrap::DEV_SPA_CLIENT, "kind": "public" },
                { "id": crate::bootstrap::DEV_SERVICE_CLIENT, "kind": "confidential", "secret": state.dev_service_secret },
            ])
        } else {
            serde_json::json!([])
        },
    });
    scripted(&state, user.as_ref(), "/flows", "Flow runner", "flows.html", &["flows.js"], data).await
}

pub async fn playground(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let user = developer(&state, &headers).await?;
    let allowed = user.as_ref().map(|u| super::playground::may_use(&state, u));
    let data = serde_json::json!({ "playground_allowed": allowed });
    scripted(&state, user.as_ref(), "/playground", "Policy playground", "playground.html", &["playground.js"], data)
        .await
}

pub async fn reference(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let user = developer(&state, &headers).await?;
    let data = serde_json::json!({ "openapi": state.issuer.endpoint("/portal/openapi.json") });
    scripted(&state, user.as_ref(), "/reference", "API reference", "reference.html", &["reference.js"], data).await
}
