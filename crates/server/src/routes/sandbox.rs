//! The `--dev` sandbox's own relying party, at `{issuer}/sandbox`: a person
//! runs the whole flow in a browser in under a minute (sign in with code +
//! PKCE, see the tokens, set up two-step verification, step up, sign out)
//! without writing a client first. It is an ordinary client of the server
//! (the sandbox SPA client), talking to the token endpoint over HTTP like
//! any other; it exists only with `--dev` (404 otherwise).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use latchkey_crypto::{digest, jws, random};

use crate::authorization::see_other;
use crate::bootstrap::{DEV_RESOURCE, DEV_SPA_CLIENT};
use crate::error::ApiError;
use crate::forms::cookie;
use crate::middleware::PAGE_CSP;
use crate::pages::{error_page, escape, page};
use crate::state::AppState;

pub const HOME_PATH: &str = "/sandbox";
pub const CALLBACK_PATH: &str = "/sandbox/callback";
const COOKIE: &str = "latchkey_sandbox";
const MFA: &str = "urn:latchkey:acr:mfa";

fn not_found() -> Response {
    error_page(StatusCode::NOT_FOUND, "The sandbox exists only with `latchkey serve --dev`.")
}

fn links(state: &AppState) -> String {
    format!(
        "<ul><li><a href=\"{start}\">Sign in</a> (authorization code + PKCE; try <code>alice</code> / <code>alice-sandbox-password</code>)</li>\
         <li><a href=\"{account}\">Set up two-step verification</a> (after signing in; any TOTP app)</li>\
         <li><a href=\"{start}?mfa=1\">Sign in with two-step verification</a> (<code>acr_values={MFA}</code>: step-up)</li>\
         <li><a href=\"{verify}\">Pass or fail a document check</a> (a simulated identity-verification provider; after signing in)</li></ul>",
        start = escape(&state.issuer.endpoint("/sandbox/start")),
        account = escape(&state.issuer.endpoint("/account/totp")),
        verify = escape(&state.issuer.endpoint(crate::routes::sandbox_idv::PATH)),
    )
}

pub async fn home(State(state): State<AppState>) -> Response {
    if !state.config.dev {
        return not_found();
    }
    let body =
        format!("<h1>Latchkey sandbox</h1><p>A relying party built into the development server.</p>{}", links(&state));
    page(StatusCode::OK, "Latchkey sandbox", &body, PAGE_CSP)
}

#[derive(serde::Deserialize)]
pub struct StartQuery {
    mfa: Option<String>,
}

/// Starts an authorization request with fresh `state`, `nonce` and PKCE
/// verifier, remembered in a cookie for the callback.
pub async fn start(State(state): State<AppState>, Query(q): Query<StartQuery>) -> Result<Response, ApiError> {
    if !state.config.dev {
        return Ok(not_found());
    }
    let (client_state, verifier) = (random::token(16), random::token(32));
    let mut url = url::Url::parse(&state.issuer.endpoint("/authorize")).map_err(ApiError::internal)?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", DEV_SPA_CLIENT)
        .append_pair("redirect_uri", &state.issuer.endpoint(CALLBACK_PATH))
        .append_pair("scope", "openid profile email offline_access orders:read")
        .append_pair("resource", DEV_RESOURCE)
        .append_pair("state", &client_state)
        .append_pair("nonce", &random::token(16))
        .append_pair("code_challenge", &digest::pkce_s256(&verifier))
        .append_pair("code_challenge_method", "S256");
    if q.mfa.is_some() {
        url.query_pairs_mut().append_pair("acr_values", MFA);
    }
    let mut response = see_other(url.as_str());
    if let Some(v) = crate::session::cookie_header(&state, COOKIE, &format!("{client_state}.{verifier}"), 600, "Lax") {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}

#[derive(serde::Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

fn claims_of(token: &str) -> String {
    jws::decode_unverified(token)
        .ok()
        .and_then(|(_, payload, _)| serde_json::from_slice::<serde_json::Value>(&payload).ok())
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_default()
}

/// Redeems the code at the token endpoint (over HTTP, as a client does)
/// and shows what came back.
pub async fn callback(
    State(state): State<AppState>,
    Query(q): Query<CallbackQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if !state.config.dev {
        return Ok(not_found());
    }
    if let Some(error) = q.error {
        let body = format!(
            "<h1>The authorization ended with an error</h1><p><code>{}</code>: {}</p>{}",
            escape(&error),
            escape(q.error_description.as_deref().unwrap_or("")),
            links(&state)
        );
        return Ok(page(StatusCode::OK, "Sandbox", &body, PAGE_CSP));
    }
    let remembered = cookie(&headers, COOKIE).unwrap_or_default();
    let (expected_state, verifier) = remembered.split_once('.').unwrap_or(("", ""));
    let (Some(code), Some(got_state)) = (q.code, q.state) else {
        return Ok(error_page(StatusCode::BAD_REQUEST, "The callback has no code."));
    };
    if expected_state.is_empty() || !digest::secrets_equal(expected_state, &got_state) {
        return Ok(error_page(
            StatusCode::BAD_REQUEST,
            "The state does not match this browser's sign-in (CSRF check).",
        ));
    }
    let response = reqwest::Client::new()
        .post(state.issuer.endpoint("/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", state.issuer.endpoint(CALLBACK_PATH).as_str()),
            ("client_id", DEV_SPA_CLIENT),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .map_err(|e| ApiError::internal(e.without_url()))?;
    let tokens: serde_json::Value = response.json().await.map_err(|e| ApiError::internal(e.without_url()))?;
    let field = |name: &str| tokens.get(name).and_then(|v| v.as_str()).unwrap_or("").to_string();
    let id_token = field("id_token");
    let mut logout = url::Url::parse(&state.issuer.endpoint("/logout")).map_err(ApiError::internal)?;
    logout
        .query_pairs_mut()
        .append_pair("id_token_hint", &id_token)
        .append_pair("post_logout_redirect_uri", &state.issuer.endpoint(HOME_PATH));
    let body = format!(
        "<h1>Signed in</h1><p>The sandbox redeemed the code at the token endpoint. \
         <a href=\"{}\">Sign out</a> (RP-initiated logout).</p>\
         <h2>ID token claims</h2><pre>{}</pre><h2>Access token claims</h2><pre>{}</pre>\
         <p>Refresh token: {}</p><h2>Token response</h2><pre>{}</pre>{}",
        escape(logout.as_str()),
        escape(&claims_of(&id_token)),
        escape(&claims_of(&field("access_token"))),
        if field("refresh_token").is_empty() { "none" } else { "issued (offline_access)" },
        escape(&serde_json::to_string_pretty(&tokens).unwrap_or_default()),
        links(&state)
    );
    Ok(page(StatusCode::OK, "Sandbox: signed in", &body, PAGE_CSP))
}
