//! Authorization server metadata: OIDC Discovery 1.0 and RFC 8414. The
//! document advertises exactly what this build implements, computed from the
//! live configuration; a later feature adds its fields when it lands.
//! Until the authorization and token endpoints exist, `response_types_supported`
//! and `grant_types_supported` are empty arrays rather than a promise.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use latchkey_domain::UnixTime;
use serde::Serialize;

use crate::state::AppState;

#[derive(Debug, Serialize)]
pub struct ProviderMetadata {
    pub issuer: String,
    pub jwks_uri: String,
    pub response_types_supported: Vec<String>,
    pub grant_types_supported: Vec<String>,
    pub subject_types_supported: Vec<String>,
    pub id_token_signing_alg_values_supported: Vec<String>,
    pub scopes_supported: Vec<String>,
    pub service_documentation: String,
}

pub fn metadata(state: &AppState) -> ProviderMetadata {
    let mut scopes: Vec<String> = ["openid", "profile", "email", "offline_access"].map(String::from).to_vec();
    for resource in state.resources.iter() {
        for s in &resource.scopes {
            if !scopes.contains(&s.name) {
                scopes.push(s.name.clone());
            }
        }
    }
    let algs = state.keys.snapshot().signing_algs(UnixTime::now());
    ProviderMetadata {
        issuer: state.issuer.as_str().to_string(),
        jwks_uri: state.issuer.endpoint("/jwks"),
        response_types_supported: vec![],
        grant_types_supported: vec![],
        subject_types_supported: vec!["public".into()],
        id_token_signing_alg_values_supported: algs.iter().map(|a| a.to_string()).collect(),
        scopes_supported: scopes,
        service_documentation: state.issuer.endpoint("/portal/errors"),
    }
}

pub async fn get(State(state): State<AppState>) -> Response {
    let mut response = Json(metadata(&state)).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    // Public data that browser-based clients fetch cross-origin.
    response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}
