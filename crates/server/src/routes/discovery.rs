//! Authorization server metadata: OIDC Discovery 1.0 and RFC 8414. The
//! document advertises exactly what this build implements, computed from the
//! live configuration; a later feature adds its fields when it lands.

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
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub userinfo_endpoint: String,
    pub revocation_endpoint: String,
    pub introspection_endpoint: String,
    /// RP-Initiated Logout 1.0.
    pub end_session_endpoint: String,
    pub jwks_uri: String,
    pub response_types_supported: Vec<&'static str>,
    pub response_modes_supported: Vec<&'static str>,
    pub grant_types_supported: Vec<&'static str>,
    pub subject_types_supported: Vec<&'static str>,
    pub id_token_signing_alg_values_supported: Vec<String>,
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    pub revocation_endpoint_auth_methods_supported: Vec<&'static str>,
    pub introspection_endpoint_auth_methods_supported: Vec<&'static str>,
    /// RFC 8414 §2: required when `private_key_jwt` is offered.
    pub token_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    pub revocation_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    pub introspection_endpoint_auth_signing_alg_values_supported: Vec<&'static str>,
    pub code_challenge_methods_supported: Vec<&'static str>,
    pub scopes_supported: Vec<String>,
    pub claims_supported: Vec<&'static str>,
    pub prompt_values_supported: Vec<&'static str>,
    pub acr_values_supported: Vec<&'static str>,
    /// RFC 9207: every authorization response carries `iss`.
    pub authorization_response_iss_parameter_supported: bool,
    pub request_parameter_supported: bool,
    pub request_uri_parameter_supported: bool,
    pub claims_parameter_supported: bool,
    /// Back-Channel Logout 1.0 §2.1, with `sid` in every logout token.
    pub backchannel_logout_supported: bool,
    pub backchannel_logout_session_supported: bool,
    pub service_documentation: String,
}

/// Client assertion algorithms (RFC 7523): every asymmetric one we verify.
const ASSERTION_ALGS: [&str; 4] = ["ES256", "EdDSA", "PS256", "RS256"];

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
        authorization_endpoint: state.issuer.endpoint("/authorize"),
        token_endpoint: state.issuer.endpoint("/token"),
        userinfo_endpoint: state.issuer.endpoint("/userinfo"),
        revocation_endpoint: state.issuer.endpoint("/revoke"),
        introspection_endpoint: state.issuer.endpoint("/introspect"),
        end_session_endpoint: state.issuer.endpoint("/logout"),
        jwks_uri: state.issuer.endpoint("/jwks"),
        response_types_supported: vec!["code"],
        response_modes_supported: vec!["query", "form_post"],
        grant_types_supported: vec![
            "authorization_code",
            "refresh_token",
            "client_credentials",
            "urn:ietf:params:oauth:grant-type:token-exchange",
        ],
        subject_types_supported: vec!["public"],
        id_token_signing_alg_values_supported: algs.iter().map(|a| a.to_string()).collect(),
        token_endpoint_auth_methods_supported: vec![
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
            "none",
        ],
        revocation_endpoint_auth_methods_supported: vec![
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
            "none",
        ],
        introspection_endpoint_auth_methods_supported: vec![
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
        ],
        token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS.to_vec(),
        revocation_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS.to_vec(),
        introspection_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS.to_vec(),
        code_challenge_methods_supported: vec!["S256"],
        scopes_supported: scopes,
        claims_supported: vec![
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "acr",
            "amr",
            "sid",
            "at_hash",
            "azp",
            "name",
            "preferred_username",
            "updated_at",
            "email",
            "email_verified",
        ],
        prompt_values_supported: vec!["none", "login", "consent", "select_account"],
        acr_values_supported: vec![latchkey_domain::id_token::ACR_PASSWORD, latchkey_domain::id_token::ACR_MFA],
        authorization_response_iss_parameter_supported: true,
        request_parameter_supported: false,
        request_uri_parameter_supported: false,
        claims_parameter_supported: false,
        backchannel_logout_supported: true,
        backchannel_logout_session_supported: true,
        service_documentation: state.issuer.endpoint("/portal"),
    }
}

pub async fn get(State(state): State<AppState>) -> Response {
    let mut response = Json(metadata(&state)).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    // Public data that browser-based clients fetch cross-origin.
    response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}
