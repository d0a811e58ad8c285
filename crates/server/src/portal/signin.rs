//! Signing in to the portal. The portal is an ordinary OpenID Connect
//! client of this server (`latchkey-portal`: public, PKCE, first party),
//! registered at every start, so a developer signs in through the same
//! login, two-step verification and session as everyone else. Once back,
//! the portal knows the developer from the browser's session cookie.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use latchkey_crypto::{digest, random};
use latchkey_domain::client::{AuthMethod, ClientKind, GrantType};
use latchkey_domain::params::Params;
use latchkey_domain::user::Origin;
use latchkey_domain::{Client, ScopeSet, SigningAlg, UnixTime, User};
use latchkey_store::{Store, StoreError};

use crate::authorization::see_other;
use crate::error::ApiError;
use crate::forms::cookie;
use crate::issuer::Issuer;
use crate::pages::error_page;
use crate::state::AppState;

pub const PORTAL_CLIENT: &str = "latchkey-portal";
pub const CALLBACK_PATH: &str = "/portal/callback";
const COOKIE: &str = "latchkey_portal_signin";

/// Registers (or updates) the portal's own client for this issuer.
pub async fn register_client(store: &Store, issuer: &Issuer) -> Result<(), StoreError> {
    let now = UnixTime::now();
    let redirect = issuer.endpoint(CALLBACK_PATH);
    let home = issuer.endpoint("/portal");
    if let Some(c) = store.get_client(PORTAL_CLIENT).await? {
        // Every node runs this at start: write only when something changed,
        // so starts do not churn the change feed.
        if c.redirect_uris == [redirect.clone()] && c.post_logout_redirect_uris == [home.clone()] {
            return Ok(());
        }
    }
    let client = Client {
        id: PORTAL_CLIENT.into(),
        name: "Latchkey developer portal".into(),
        kind: ClientKind::Public,
        secret_hash: None,
        redirect_uris: vec![redirect],
        post_logout_redirect_uris: vec![home],
        grant_types: vec![GrantType::AuthorizationCode],
        scopes: ScopeSet::from_tokens(["openid", "profile"]).unwrap_or_default(),
        audiences: vec![],
        auth_method: AuthMethod::None,
        id_token_alg: SigningAlg::RS256,
        access_token_ttl: None,
        refresh_token_ttl: None,
        id_token_ttl: None,
        first_party: true,
        refresh_token_grace: 0,
        jwks_uri: None,
        jwks: None,
        token_exchange: Default::default(),
        backchannel_logout_uri: None,
        origin: Origin::Builtin,
        created_at: now,
        updated_at: now,
    };
    store.upsert_client(&client).await
}

/// The signed-in developer, if this browser has a live session.
pub async fn developer(state: &AppState, headers: &HeaderMap) -> Result<Option<User>, ApiError> {
    Ok(crate::session::current(state, headers).await?.map(|(_, user)| user))
}

#[derive(serde::Deserialize)]
pub struct SigninQuery {
    next: Option<String>,
}

/// Only a portal page may be returned to: a plain path of letters,
/// digits, `-`, `_` and `/` under the portal, with no dot segment, query or
/// escape that could lead elsewhere once a browser resolves it.
fn safe_next(state: &AppState, next: Option<&str>) -> String {
    let portal = state.issuer.endpoint("/portal");
    let portal_path = format!("{}/portal", state.issuer.path());
    let inside = |n: &str| n == portal_path || n.starts_with(&format!("{portal_path}/"));
    let plain = |n: &str| n.bytes().all(|b| b.is_ascii_alphanumeric() || b"/-_".contains(&b)) && !n.contains("//");
    match next {
        Some(n) if inside(n) && plain(n) => {
            format!("{}{n}", state.issuer.as_str().trim_end_matches(state.issuer.path()))
        }
        _ => portal,
    }
}

pub async fn start(State(state): State<AppState>, Query(q): Query<SigninQuery>) -> Result<Response, ApiError> {
    let (client_state, verifier) = (random::token(16), random::token(32));
    let next = safe_next(&state, q.next.as_deref());
    let mut url = url::Url::parse(&state.issuer.endpoint("/authorize")).map_err(ApiError::internal)?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", PORTAL_CLIENT)
        .append_pair("redirect_uri", &state.issuer.endpoint(CALLBACK_PATH))
        .append_pair("scope", "openid profile")
        .append_pair("state", &client_state)
        .append_pair("code_challenge", &digest::pkce_s256(&verifier))
        .append_pair("code_challenge_method", "S256");
    let mut response = see_other(url.as_str());
    let value = format!("{client_state}.{verifier}.{}", hex_of(&next));
    if let Some(v) = crate::session::cookie_header(&state, COOKIE, &value, 600, "Lax") {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}

fn hex_of(s: &str) -> String {
    digest::hex(s.as_bytes())
}

#[derive(serde::Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// Checks `state` against this browser's cookie and redeems the code in
/// process (the same grant handler as the token endpoint), so the sign-in
/// is a complete, audited authorization code flow with PKCE.
pub async fn callback(
    State(state): State<AppState>,
    Query(q): Query<CallbackQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let remembered = cookie(&headers, COOKIE).unwrap_or_default();
    let mut parts = remembered.splitn(3, '.');
    let (expected, verifier, next_hex) =
        (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    // The state first: until it matches, nothing in the query came from
    // this server, so none of it is shown.
    let got = q.state.unwrap_or_default();
    if expected.is_empty() || !digest::secrets_equal(expected, &got) {
        return Ok(error_page(
            StatusCode::BAD_REQUEST,
            "This sign-in was not started in this browser (state mismatch).",
        ));
    }
    if let Some(error) = q.error {
        let message = format!("Sign-in ended with {error}: {}", q.error_description.unwrap_or_default());
        return Ok(error_page(StatusCode::BAD_REQUEST, &message));
    }
    let Some(code) = q.code else {
        return Ok(error_page(StatusCode::BAD_REQUEST, "The sign-in callback has no code."));
    };
    let Some(client) = state.store.get_client(PORTAL_CLIENT).await? else {
        return Err(ApiError::internal("the portal client is not registered"));
    };
    let params = Params::new(vec![
        ("grant_type".into(), "authorization_code".into()),
        ("code".into(), code),
        ("redirect_uri".into(), state.issuer.endpoint(CALLBACK_PATH)),
        ("client_id".into(), PORTAL_CLIENT.into()),
        ("code_verifier".into(), verifier.into()),
    ]);
    crate::grants::authorization_code::handle(&state, &client, &params).await?;
    let next = digest::hex_decode(next_hex)
        .and_then(|b| String::from_utf8(b).ok())
        .filter(|n| n.starts_with(&state.issuer.endpoint("/portal")))
        .unwrap_or_else(|| state.issuer.endpoint("/portal"));
    let mut response = see_other(&next);
    if let Some(v) = crate::session::cookie_header(&state, COOKIE, "", 0, "Lax") {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}

/// Signs out through RP-initiated logout, which ends the session on every
/// client of this browser, and comes back to the portal.
pub async fn signout(State(state): State<AppState>) -> Response {
    let mut url = match url::Url::parse(&state.issuer.endpoint("/logout")) {
        Ok(u) => u,
        Err(_) => return see_other(&state.issuer.endpoint("/portal")),
    };
    url.query_pairs_mut()
        .append_pair("client_id", PORTAL_CLIENT)
        .append_pair("post_logout_redirect_uri", &state.issuer.endpoint("/portal"));
    see_other(url.as_str())
}
