//! Token introspection (RFC 7662). Callers authenticate as clients. Who may
//! learn what:
//! - a client, about the tokens issued to it;
//! - an API's resource-server client (listed in the resource's
//!   `introspection_clients`), about access tokens whose audience is that API;
//! - refresh tokens only by the client they were issued to.
//!
//! Everything else, and every token not valid *now* (bad or forged
//! signature, `alg: none`, HMAC, expired, revoked, another issuer, an ended
//! session), is `{"active": false}`: never an error, never a hint why.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use latchkey_crypto::digest;
use latchkey_domain::{Client, UnixTime};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::forms::back_channel_form;
use crate::state::AppState;

pub async fn handle(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let params = back_channel_form(&uri, &headers, &body)?;
    let client = crate::client_auth::authenticate(&state, &headers, &params).await?;
    // RFC 7662 §2.1: the caller must be authenticated; a public client is not.
    if client.kind == latchkey_domain::client::ClientKind::Public {
        let mut e = ApiError::new(
            axum::http::StatusCode::UNAUTHORIZED,
            latchkey_domain::ErrorCode::InvalidClient,
            "introspection needs an authenticated (confidential) client",
        );
        e.www_authenticate = Some(format!("Basic realm=\"{}\"", state.issuer.as_str()));
        return Err(e);
    }
    let token = params.single("token").ok().flatten().ok_or_else(|| ApiError::bad_request("token is missing"))?;
    // Access tokens are JWTs (three dot-separated parts), refresh tokens
    // opaque base64url without dots: the shape picks the look-up, so the
    // hot path (access tokens) never touches the database.
    let mut response = if looks_like_jwt(token) {
        access_token(&state, &client, token).await?
    } else {
        Json(refresh_token(&state, &client, token).await?.unwrap_or_else(inactive)).into_response()
    };
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

pub fn looks_like_jwt(token: &str) -> bool {
    token.bytes().filter(|b| *b == b'.').count() == 2
}

fn inactive() -> Value {
    json!({ "active": false })
}

/// `Some` when the token is one of our refresh tokens (active or not).
async fn refresh_token(state: &AppState, client: &Client, token: &str) -> Result<Option<Value>, ApiError> {
    let now = UnixTime::now();
    let Some(row) = state.store.refresh_token_info(&digest::secret_digest(token)).await? else { return Ok(None) };
    let grant = state.store.get_grant(&row.grant_id).await?;
    let Some(grant) = grant.filter(|g| g.is_active(now) && g.client_id == client.id) else {
        return Ok(Some(inactive()));
    };
    if row.used || row.expires_at <= now {
        return Ok(Some(inactive()));
    }
    let mut v = json!({
        "active": true,
        "token_type": "refresh_token",
        "client_id": grant.client_id,
        "scope": grant.scopes,
        "iss": state.issuer.as_str(),
        "exp": row.expires_at.0,
        "iat": row.created_at.0,
    });
    if let Some(sub) = grant.user_id {
        v["sub"] = json!(sub);
    }
    Ok(Some(v))
}

async fn access_token(state: &AppState, client: &Client, token: &str) -> Result<Response, ApiError> {
    // Signature, typ, issuer, expiry and revocation: all of them, always.
    let claims = match crate::access_tokens::verify_shared(state, token).await {
        Ok(c) => c,
        Err(latchkey_domain::access_token::TokenProblem::CheckUnavailable(r)) => return Err(ApiError::unavailable(r)),
        Err(_) => return Ok(Json(inactive()).into_response()),
    };
    let now = UnixTime::now();
    if let Some(sid) = &claims.sid
        && !state.caches.session_active(&state.store, sid, now).await?
    {
        return Ok(Json(inactive()).into_response());
    }
    let own = claims.client_id == client.id;
    let serves_audience = state
        .resources
        .iter()
        .any(|r| claims.aud.contains(&r.identifier) && r.introspection_clients.contains(&client.id));
    if !own && !serves_audience {
        return Ok(Json(inactive()).into_response());
    }
    let c = &*claims;
    let active = ActiveAccessToken {
        active: true,
        token_type: "Bearer",
        client_id: &c.client_id,
        sub: &c.sub,
        aud: &c.aud,
        iss: &c.iss,
        exp: c.exp,
        iat: c.iat,
        jti: &c.jti,
        scope: c.scope.as_deref(),
        sid: c.sid.as_deref(),
        auth_time: c.auth_time,
        acr: c.acr.as_deref(),
        amr: c.amr.as_deref(),
        act: c.act.as_ref(),
    };
    Ok(Json(active).into_response())
}

/// RFC 7662 §2.2 for an active access token. Serialised straight from the
/// (possibly cached) claims: introspection is a hot path.
#[derive(serde::Serialize)]
struct ActiveAccessToken<'a> {
    active: bool,
    token_type: &'static str,
    client_id: &'a str,
    sub: &'a str,
    aud: &'a latchkey_domain::access_token::Audience,
    iss: &'a str,
    exp: i64,
    iat: i64,
    jti: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    auth_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    acr: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    amr: Option<&'a [String]>,
    /// RFC 8693 §4.1: who acts for the subject, for exchanged tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    act: Option<&'a latchkey_domain::token_exchange::Actor>,
}
