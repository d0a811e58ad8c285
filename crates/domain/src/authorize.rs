//! The authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1, RFC 7636,
//! RFC 9700): validation rules, in the order that decides where an error may
//! be sent. Until client and redirect URI are known good, errors are shown
//! to the user and never redirected (an open redirector otherwise:
//! RFC 6749 §4.1.2.1, RFC 9700 §4.11).

use serde::{Deserialize, Serialize};

use crate::client::{Client, ClientKind, GrantType};
use crate::error::{ErrorCode, OAuthError};
use crate::params::Params;
use crate::pkce;
use crate::redirect_uri;
use crate::resource::{ApiResource, check_target};
use crate::scope::ScopeSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResponseMode {
    Query,
    FormPost,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Prompt {
    None,
    Login,
    Consent,
    SelectAccount,
}

/// A request that passed every check; stored server-side while the user
/// signs in, and bound into the authorization code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    pub client_id: String,
    pub redirect_uri: String,
    /// Whether `redirect_uri` was sent: then the token request must repeat
    /// it (RFC 6749 §4.1.3).
    pub redirect_uri_sent: bool,
    pub response_mode: ResponseMode,
    pub state: Option<String>,
    pub scopes: ScopeSet,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub prompt: Vec<Prompt>,
    pub max_age: Option<u64>,
    pub acr_values: Vec<String>,
    pub login_hint: Option<String>,
    /// RFC 8707 resource indicator: the audience of the access tokens.
    #[serde(default)]
    pub resource: Option<String>,
}

impl AuthorizationRequest {
    pub fn is_openid(&self) -> bool {
        self.scopes.contains("openid")
    }

    pub fn has_prompt(&self, p: Prompt) -> bool {
        self.prompt.contains(&p)
    }
}

/// Where an error goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeError {
    /// Shown on an error page; never redirected.
    Fatal(String),
    /// Sent back to the client's redirect URI.
    Redirect { redirect_uri: String, response_mode: ResponseMode, state: Option<String>, error: OAuthError },
}

/// Only `client_id`, for looking the client up before anything else.
pub fn client_id(params: &Params) -> Result<&str, AuthorizeError> {
    match params.single("client_id") {
        Ok(Some(id)) => Ok(id),
        Ok(None) => Err(AuthorizeError::Fatal("The request has no client_id.".into())),
        Err(_) => Err(AuthorizeError::Fatal("The request repeats client_id.".into())),
    }
}

pub const MAX_STATE_LEN: usize = 2048;

pub fn validate(
    params: &Params,
    client: &Client,
    resources: &[ApiResource],
) -> Result<AuthorizationRequest, AuthorizeError> {
    // 1. The redirect URI: errors here are fatal.
    let presented =
        params.single("redirect_uri").map_err(|_| AuthorizeError::Fatal("The request repeats redirect_uri.".into()))?;
    let (redirect_uri, redirect_uri_sent) = match presented {
        Some(uri) => {
            if !client.redirect_uris.iter().any(|r| redirect_uri::matches(r, uri)) {
                return Err(AuthorizeError::Fatal(
                    "The redirect_uri is not registered for this client. Register it exactly, or fix the request."
                        .into(),
                ));
            }
            (uri.to_string(), true)
        }
        // RFC 6749 §3.1.2.3: may be omitted only if exactly one is registered.
        None => match client.redirect_uris.as_slice() {
            [only] => (only.clone(), false),
            _ => return Err(AuthorizeError::Fatal("The request has no redirect_uri.".into())),
        },
    };

    // 2. How to answer. An unusable response_mode is reported by query.
    let state = params.single("state").ok().flatten().map(str::to_string);
    let mut response_mode = ResponseMode::Query;
    let fail =
        |mode: ResponseMode, state: &Option<String>, code: ErrorCode, description: String| AuthorizeError::Redirect {
            redirect_uri: redirect_uri.clone(),
            response_mode: mode,
            state: state.clone(),
            error: OAuthError::new(code, description),
        };
    match params.single("response_mode") {
        Ok(None) | Ok(Some("query")) => {}
        Ok(Some("form_post")) => response_mode = ResponseMode::FormPost,
        Ok(Some(other)) => {
            return Err(fail(
                ResponseMode::Query,
                &state,
                ErrorCode::InvalidRequest,
                format!("response_mode {other:?} is not supported; use query or form_post"),
            ));
        }
        Err(_) => {
            return Err(fail(
                ResponseMode::Query,
                &state,
                ErrorCode::InvalidRequest,
                "response_mode is repeated".into(),
            ));
        }
    }
    let err = |code: ErrorCode, description: &str| fail(response_mode, &state, code, description.to_string());

    if let Some(name) = params.first_repeated() {
        if name == "resource" {
            return Err(err(ErrorCode::InvalidTarget, "one resource per request is supported"));
        }
        // The state itself may be the repeated one: then it cannot be echoed.
        let state_for_error = if name == "state" { None } else { state.clone() };
        return Err(fail(
            response_mode,
            &state_for_error,
            ErrorCode::InvalidRequest,
            format!("parameter {name} is repeated"),
        ));
    }
    if state.as_ref().is_some_and(|s| s.len() > MAX_STATE_LEN) {
        return Err(err(ErrorCode::InvalidRequest, "state is longer than 2048 characters"));
    }
    let get = |name: &str| params.single(name).ok().flatten();

    // 3. What is asked for.
    match get("response_type") {
        None => return Err(err(ErrorCode::InvalidRequest, "response_type is missing")),
        Some("code") => {}
        Some(_) => {
            return Err(err(
                ErrorCode::UnsupportedResponseType,
                "only response_type=code is supported (no implicit or hybrid flows)",
            ));
        }
    }
    if get("request").is_some() {
        return Err(err(ErrorCode::RequestNotSupported, "request objects are not supported"));
    }
    if get("request_uri").is_some() {
        return Err(err(ErrorCode::RequestUriNotSupported, "request_uri is not supported"));
    }
    if get("registration").is_some() {
        return Err(err(ErrorCode::RegistrationNotSupported, "the registration parameter is not supported"));
    }
    if !client.grant_types.contains(&GrantType::AuthorizationCode) {
        return Err(err(ErrorCode::UnauthorizedClient, "this client may not use the authorization code grant"));
    }
    let scopes = match get("scope") {
        None => ScopeSet::default(),
        Some(s) => ScopeSet::parse(s).map_err(|e| err(ErrorCode::InvalidScope, &e.to_string()))?,
    };
    if let Some(extra) = scopes.iter().find(|s| !client.scopes.contains(s)) {
        return Err(err(ErrorCode::InvalidScope, &format!("scope {extra} is not allowed for this client")));
    }

    // 4. PKCE (RFC 7636, RFC 9700 §2.1.1): S256 only; required for public clients.
    let code_challenge = match (get("code_challenge"), get("code_challenge_method")) {
        (None, None) if client.kind == ClientKind::Public => {
            return Err(err(ErrorCode::InvalidRequest, "code_challenge is required for public clients (PKCE, S256)"));
        }
        (None, None) => None,
        (None, Some(_)) => {
            return Err(err(ErrorCode::InvalidRequest, "code_challenge_method was sent without code_challenge"));
        }
        // A missing method means "plain" (RFC 7636 §4.3), which we refuse.
        (Some(_), None) => {
            return Err(err(
                ErrorCode::InvalidRequest,
                "code_challenge_method is missing (that means plain); use S256",
            ));
        }
        (Some(_), Some(m)) if m != "S256" => {
            return Err(err(ErrorCode::InvalidRequest, "code_challenge_method must be S256; plain is not supported"));
        }
        (Some(c), Some(_)) => {
            if !pkce::is_valid_s256_challenge(c) {
                return Err(err(
                    ErrorCode::InvalidRequest,
                    "code_challenge must be 43 base64url characters (an S256 digest)",
                ));
            }
            Some(c.to_string())
        }
    };

    // 5. OIDC request parameters.
    let mut prompt = Vec::new();
    if let Some(p) = get("prompt") {
        for word in p.split(' ').filter(|w| !w.is_empty()) {
            prompt.push(match word {
                "none" => Prompt::None,
                "login" => Prompt::Login,
                "consent" => Prompt::Consent,
                "select_account" => Prompt::SelectAccount,
                _ => return Err(err(ErrorCode::InvalidRequest, &format!("prompt value {word:?} is not supported"))),
            });
        }
        if prompt.contains(&Prompt::None) && prompt.len() > 1 {
            return Err(err(
                ErrorCode::InvalidRequest,
                "prompt=none cannot be combined with other values (OIDC Core §3.1.2.1)",
            ));
        }
    }
    let max_age = match get("max_age") {
        None => None,
        Some(v) => Some(
            v.parse::<u64>().map_err(|_| err(ErrorCode::InvalidRequest, "max_age must be a non-negative integer"))?,
        ),
    };
    let resource = get("resource").map(str::to_string);
    if let Some(r) = &resource {
        check_target(r, client, resources).map_err(|d| err(ErrorCode::InvalidTarget, &d))?;
    }
    let acr_values = get("acr_values")
        .map(|v| v.split(' ').filter(|s| !s.is_empty()).map(str::to_string).collect())
        .unwrap_or_default();

    Ok(AuthorizationRequest {
        client_id: client.id.clone(),
        redirect_uri,
        redirect_uri_sent,
        response_mode,
        state,
        scopes,
        nonce: get("nonce").map(str::to_string),
        code_challenge,
        prompt,
        max_age,
        acr_values,
        login_hint: get("login_hint").map(str::to_string),
        resource,
    })
}
