//! Token minting shared by every grant: RFC 9068 access tokens, OIDC ID
//! tokens and opaque refresh tokens. Grants decide *what* to issue; this
//! module decides *how*.

use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use latchkey_crypto::{digest, jws, random};
use latchkey_domain::access_token::{AccessTokenClaims, Audience};
use latchkey_domain::client::{CLIENT_SUBJECT_PREFIX, client_subject};
use latchkey_domain::id_token::IdTokenClaims;
use latchkey_domain::token_exchange::Actor;
use latchkey_domain::{Client, ScopeSet, SigningAlg, UnixTime};
use latchkey_store::{Grant, NewRefreshToken};
use serde::Serialize;

use crate::access_tokens;
use crate::error::ApiError;
use crate::state::AppState;

/// Access tokens are ES256 (fast to sign and verify, small).
pub const ACCESS_TOKEN_ALG: SigningAlg = SigningAlg::ES256;

/// Who and how: the authentication behind a token.
#[derive(Debug, Clone, Default)]
pub struct AuthContext {
    pub subject: String,
    pub session_id: Option<String>,
    pub auth_time: Option<UnixTime>,
    pub acr: Option<String>,
    pub amr: Vec<String>,
    /// RFC 8693 actor chain, for exchanged tokens.
    pub act: Option<Actor>,
    /// No token minted from this context may outlive this instant (an
    /// exchanged token never outlives its subject token).
    pub valid_until: Option<UnixTime>,
}

impl AuthContext {
    /// A client acting for itself (client credentials).
    pub fn client(client_id: &str) -> Self {
        AuthContext { subject: client_subject(client_id), ..Default::default() }
    }

    fn is_user(&self) -> bool {
        !self.subject.starts_with(CLIENT_SUBJECT_PREFIX)
    }
}

pub struct MintedAccessToken {
    pub token: String,
    pub jti: String,
    pub expires_at: UnixTime,
    pub expires_in: u64,
}

/// The audience of an access token is the requested API resource (RFC
/// 8707), or else the issuer itself: such a token is for Latchkey's own
/// APIs (userinfo). The lifetime is the shortest of the resource's, the
/// client's and the server default that apply, and never past the
/// context's `valid_until`; the algorithm is the resource's, or ES256. User
/// claims reach the token only when the resource lists them.
pub async fn mint_access_token(
    state: &AppState,
    client: &Client,
    ctx: &AuthContext,
    scopes: &ScopeSet,
    resource: Option<&str>,
) -> Result<MintedAccessToken, ApiError> {
    let now = UnixTime::now();
    let api = resource.and_then(|r| state.resources.iter().find(|a| a.identifier == r));
    let ttl = [api.and_then(|a| a.access_token_ttl), client.access_token_ttl]
        .into_iter()
        .flatten()
        .map(Duration::from_secs)
        .min()
        .unwrap_or(state.config.tokens.access_token_ttl);
    let alg = api.and_then(|a| a.signing_alg).unwrap_or(ACCESS_TOKEN_ALG);
    let mut expires_at = now.plus(ttl);
    if let Some(limit) = ctx.valid_until {
        expires_at = expires_at.min(limit);
    }
    let expires_in = u64::try_from(expires_at.0 - now.0).unwrap_or(0);
    let extra = match api {
        Some(api) if !api.forwarded_claims.is_empty() && ctx.is_user() => {
            match state.store.get_user(&ctx.subject).await? {
                Some(user) => latchkey_domain::resource::forwarded_claims(api, &user),
                None => Default::default(),
            }
        }
        _ => Default::default(),
    };
    let mut extra = extra;
    // Configured subject attributes (verification level, KYC status, …):
    // a signal changes the next token issued.
    let cfg = &state.config.authz;
    if !cfg.token_attributes.is_empty() && ctx.is_user() {
        let use_memory = state.caches.is_current(now);
        if let Some(entity) = state.caches.authz.entity(&state.store, &cfg.user_type, &ctx.subject, use_memory).await? {
            for name in &cfg.token_attributes {
                if let Some(v) = entity.attributes.get(name) {
                    extra.insert(name.clone(), v.clone());
                }
            }
        }
    }
    let jti = random::id();
    let claims = AccessTokenClaims {
        iss: state.issuer.as_str().to_string(),
        sub: ctx.subject.clone(),
        aud: Audience::One(resource.unwrap_or(state.issuer.as_str()).to_string()),
        exp: expires_at.0,
        iat: now.0,
        nbf: None,
        jti: jti.clone(),
        client_id: client.id.clone(),
        scope: Some(scopes.to_string()),
        sid: ctx.session_id.clone(),
        auth_time: ctx.auth_time.map(|t| t.0),
        acr: ctx.acr.clone(),
        amr: (!ctx.amr.is_empty()).then(|| ctx.amr.clone()),
        act: ctx.act.clone(),
        may_act: None,
        extra,
    };
    let token = access_tokens::mint(state, alg, &claims).map_err(ApiError::internal)?;
    Ok(MintedAccessToken { token, jti, expires_at, expires_in })
}

/// An ID token (OIDC Core §2) in the client's algorithm, bound to the
/// access token issued with it by `at_hash`.
pub fn mint_id_token(
    state: &AppState,
    client: &Client,
    ctx: &AuthContext,
    nonce: Option<&str>,
    access_token: &str,
) -> Result<String, ApiError> {
    let now = UnixTime::now();
    let ttl = client.id_token_ttl.map(Duration::from_secs).unwrap_or(state.config.tokens.id_token_ttl);
    let alg = client.id_token_alg;
    let claims = IdTokenClaims {
        iss: state.issuer.as_str().to_string(),
        sub: ctx.subject.clone(),
        aud: client.id.clone(),
        exp: now.plus(ttl).0,
        iat: now.0,
        auth_time: ctx.auth_time.unwrap_or(now).0,
        nonce: nonce.map(str::to_string),
        acr: ctx.acr.clone(),
        amr: ctx.amr.clone(),
        sid: ctx.session_id.clone(),
        at_hash: Some(digest::token_half_hash(alg, access_token)),
        azp: client.id.clone(),
    };
    let keys = state.keys.snapshot();
    let key = keys.signer(alg, now).ok_or_else(|| {
        ApiError::internal(format!(
            "no active {alg} signing key for client {}: run `latchkey key rotate --alg {alg} --prepublish 0s`",
            client.id
        ))
    })?;
    jws::sign(&key.signer, "JWT", &claims).map_err(ApiError::internal)
}

/// One of our ID tokens, checked for our signature and issuer only: the
/// caller decides about expiry (logout accepts expired hints, token
/// exchange does not).
pub fn verify_id_token_signature(state: &AppState, token: &str) -> Result<IdTokenClaims, String> {
    let keys = state.keys.snapshot();
    let verified = jws::verify(token, |kid| keys.verifier(kid, UnixTime::now())).map_err(|e| e.to_string())?;
    let claims: IdTokenClaims =
        serde_json::from_slice(&verified.payload).map_err(|e| format!("not an ID token: {e}"))?;
    if claims.iss != state.issuer.as_str() {
        return Err("another issuer".into());
    }
    Ok(claims)
}

/// A new opaque refresh token (256 bits) for `grant`, and the row to store:
/// its digest, its idle expiry (never past the grant's absolute expiry),
/// and the access token issued beside it (revoked with the family).
pub fn new_refresh_token(
    state: &AppState,
    grant: &Grant,
    access: &MintedAccessToken,
    now: UnixTime,
) -> (String, NewRefreshToken) {
    let token = random::token(32);
    let row = NewRefreshToken {
        token_hash: digest::secret_digest(&token),
        grant_id: grant.id.clone(),
        created_at: now,
        expires_at: now.plus(state.config.tokens.refresh_token_idle_ttl).min(grant.expires_at),
        access_jti: Some(access.jti.clone()),
        access_expires_at: Some(access.expires_at),
    };
    (token, row)
}

/// RFC 6749 §5.1 success response.
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// RFC 8693 §2.2.1: required in token-exchange responses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_token_type: Option<&'static str>,
}

impl IntoResponse for TokenResponse {
    fn into_response(self) -> Response {
        let mut response = Json(self).into_response();
        // RFC 6749 §5.1: tokens are never cached.
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response.headers_mut().insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        response
    }
}

pub const TOKEN_TYPE: &str = "Bearer";
