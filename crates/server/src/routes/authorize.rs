//! The authorization endpoint (RFC 6749 §3.1, OIDC Core §3.1.2), GET and
//! POST. Validation lives in the domain; this maps HTTP onto it, decides
//! whether the user must sign in, and parks the request server-side while
//! they do (the login page continues from an id, never from a URL the
//! client supplied).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use latchkey_domain::authorize::{self, AuthorizationRequest, Prompt};
use latchkey_domain::id_token::{ACR_MFA, AcrRequirement, acr_requirement};
use latchkey_domain::{ErrorCode, OAuthError, UnixTime};

use crate::authorization::{authorize_error, error_response, park, proceed, see_other};
use crate::error::ApiError;
use crate::forms::parse_urlencoded;
use crate::pages::error_page;
use crate::session;
use crate::state::AppState;

pub async fn handle(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match run(&state, method, uri, headers, body).await {
        Ok(r) => r,
        // A store failure before the redirect URI is trusted: an error page.
        Err(e) => {
            tracing::error!(trace_id = crate::error::current_request_id(), reason = ?e.reason, "authorization endpoint failed");
            error_page(e.status, "The server could not process this request. Try again later.")
        }
    }
}

async fn run(
    state: &AppState,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    // OIDC Core §3.1.2.1: GET with a query, or POST with a form body.
    let params = if method == Method::POST {
        if crate::forms::require_form(&headers).is_err() {
            return Ok(error_page(
                StatusCode::BAD_REQUEST,
                "The request body must be a form (application/x-www-form-urlencoded).",
            ));
        }
        parse_urlencoded(&body)
    } else {
        parse_urlencoded(uri.query().unwrap_or("").as_bytes())
    };
    let client_id = match authorize::client_id(&params) {
        Ok(id) => id.to_string(),
        Err(e) => return Ok(authorize_error(state, e)),
    };
    // Unknown client: an error page, never a redirect (RFC 6749 §4.1.2.1).
    let Some(client) = state.store.get_client(&client_id).await? else {
        return Ok(error_page(StatusCode::BAD_REQUEST, "The client_id is not registered here."));
    };
    crate::error::set_request_client(&client.id);
    let req = match authorize::validate(&params, &client, &state.resources) {
        Ok(r) => r,
        Err(e) => return Ok(authorize_error(state, e)),
    };

    let now = UnixTime::now();
    let current = session::current(state, &headers).await?;
    let fresh_enough = |auth_time: UnixTime| match req.max_age {
        // OIDC Core §3.1.2.1: max_age bounds the age of the authentication;
        // max_age=0 always asks for a new one (as prompt=login does).
        Some(0) => false,
        Some(max) => now.0.saturating_sub(auth_time.0) <= i64::try_from(max).unwrap_or(i64::MAX),
        None => true,
    };
    let requirement = acr_requirement(&req.acr_values);
    if requirement == AcrRequirement::Unsatisfiable {
        return Ok(crate::routes::login::unmet(state, &req));
    }
    match current {
        // Step-up (RFC 9470): a password session, a request for MFA.
        Some((s, user))
            if !req.has_prompt(Prompt::Login)
                && fresh_enough(s.auth_time)
                && requirement == AcrRequirement::Mfa
                && s.acr.as_deref() != Some(ACR_MFA) =>
        {
            if req.has_prompt(Prompt::None) {
                return Ok(error_response(
                    state,
                    &req.redirect_uri,
                    req.response_mode,
                    req.state.as_deref(),
                    &OAuthError::new(
                        ErrorCode::InteractionRequired,
                        "a second factor is needed, and prompt=none forbids asking",
                    ),
                ));
            }
            if !crate::routes::mfa::has_totp(state, &user.id).await? {
                return Ok(crate::routes::login::unmet(state, &req));
            }
            let tx = park(state, &req).await?;
            Ok(crate::routes::mfa::begin_second_factor(state, &user.id, &tx, Some(s.id.clone())))
        }
        Some((s, user)) if !req.has_prompt(Prompt::Login) && fresh_enough(s.auth_time) => {
            state.store.touch_session(&s.id, now).await?;
            proceed(state, &req, &s, &user, None).await
        }
        // OIDC Core §3.1.2.6: prompt=none never shows a page.
        _ if req.has_prompt(Prompt::None) => Ok(error_response(
            state,
            &req.redirect_uri,
            req.response_mode,
            req.state.as_deref(),
            &OAuthError::new(ErrorCode::LoginRequired, "the user must sign in, and prompt=none forbids showing a page"),
        )),
        _ => park_and_login(state, &req).await,
    }
}

async fn park_and_login(state: &AppState, req: &AuthorizationRequest) -> Result<Response, ApiError> {
    let tx = park(state, req).await?;
    Ok(see_other(&state.issuer.endpoint(&format!("/login?tx={tx}"))))
}
