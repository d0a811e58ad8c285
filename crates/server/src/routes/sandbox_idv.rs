//! The `--dev` sandbox's simulated identity-verification provider, at
//! `{issuer}/sandbox/verify`: a signed-in test user passes or fails a
//! document check, and the "provider" reports it to the signals endpoint
//! over HTTP, signed, exactly as a real provider's webhook would (source
//! `sandbox-idv`, whose credentials exist only in memory). It exists only
//! with `--dev` (404 otherwise).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use latchkey_crypto::random;
use latchkey_domain::UnixTime;
use serde_json::{Value, json};

use crate::authz::signals::{SIGNATURE_HEADER, sign};
use crate::error::ApiError;
use crate::forms::parse_urlencoded;
use crate::middleware::PAGE_CSP;
use crate::pages::{error_page, escape, page};
use crate::session;
use crate::state::AppState;

pub const PATH: &str = "/sandbox/verify";

fn not_found() -> Response {
    error_page(StatusCode::NOT_FOUND, "The simulated verification provider exists only with `latchkey serve --dev`.")
}

fn form(state: &AppState, csrf: &str, user: &str, current: &str, note: &str) -> Response {
    let body = format!(
        "<h1>Document check (simulated)</h1>\
         <p>A stand-in for an identity-verification provider. Signed in as <strong>{user}</strong>; \
         verification level now: <code>{current}</code>.</p>{note}\
         <form method=\"post\" action=\"verify\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <button type=\"submit\" name=\"outcome\" value=\"pass\">Pass the document check</button> \
         <button type=\"submit\" name=\"outcome\" value=\"fail\">Fail the document check</button></form>\
         <p>The result reaches Latchkey as a signed webhook to <code>{endpoint}</code>, \
         like any provider's.</p>",
        user = escape(user),
        current = escape(current),
        csrf = escape(csrf),
        endpoint = escape(&state.issuer.endpoint("/signals/v1")),
    );
    let mut response = page(StatusCode::OK, "Document check", &body, PAGE_CSP);
    if let Some(c) = session::csrf_cookie(state, csrf) {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    response
}

async fn current_level(state: &AppState, user_id: &str) -> Result<String, ApiError> {
    let e = state.store.entity(&state.config.authz.user_type, user_id).await?;
    Ok(e.and_then(|e| e.attributes.get("verification_level").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| "none".into()))
}

pub async fn show(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if !state.config.dev || state.config.authz.sandbox_idv.is_none() {
        return Ok(not_found());
    }
    let Some((_, user)) = session::current(&state, &headers).await? else {
        return Ok(error_page(StatusCode::UNAUTHORIZED, "Sign in first (open /sandbox), then come back to this page."));
    };
    let level = current_level(&state, &user.id).await?;
    Ok(form(&state, &random::token(24), &user.username, &level, ""))
}

pub async fn submit(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    let Some(idv) = state.config.authz.sandbox_idv.clone().filter(|_| state.config.dev) else {
        return Ok(not_found());
    };
    let params = parse_urlencoded(&body);
    let get = |name: &str| params.single(name).ok().flatten().unwrap_or("").to_string();
    if !session::csrf_matches(&state, &headers, &get("csrf")) {
        return Ok(error_page(StatusCode::FORBIDDEN, "The form expired. Go back and try again."));
    }
    let Some((_, user)) = session::current(&state, &headers).await? else {
        return Ok(error_page(StatusCode::UNAUTHORIZED, "Sign in first (open /sandbox), then come back to this page."));
    };
    let passed = get("outcome") == "pass";
    let now = UnixTime::now();
    let signal = json!({
        "event_id": format!("sandbox-{}", random::id()),
        "occurred_at": now.0,
        "subject": { "type": state.config.authz.user_type, "id": user.id },
        "attributes": {
            "verification_level": if passed { "document" } else { "failed" },
            "kyc_status": if passed { "passed" } else { "failed" },
        },
    });
    let raw = serde_json::to_vec(&signal).map_err(ApiError::internal)?;
    // Over HTTP to our own endpoint, as the real provider would call it.
    let resp = reqwest::Client::new()
        .post(state.issuer.endpoint("/signals/v1"))
        .bearer_auth(idv.key.expose())
        .header(SIGNATURE_HEADER, sign(idv.hmac_secret.expose(), now.0, &raw))
        .header(header::CONTENT_TYPE, "application/json")
        .body(raw)
        .timeout(std::time::Duration::from_secs(5))
        .send()
        .await
        .map_err(|e| ApiError::internal(format!("sandbox provider could not reach the signals endpoint: {e}")))?;
    let status = resp.status();
    let answer: Value = resp.json().await.unwrap_or(Value::Null);
    let note = format!(
        "<p role=\"status\">The provider reported <strong>{outcome}</strong>; the signals endpoint answered {status}: \
         <code>{answer}</code>. Your next authorization decision and your next token reflect it.</p>",
        outcome = if passed { "a passed check" } else { "a failed check" },
        status = status.as_u16(),
        answer = escape(&answer.to_string()),
    );
    let level = current_level(&state, &user.id).await?;
    Ok(form(&state, &random::token(24), &user.username, &level, &note))
}
