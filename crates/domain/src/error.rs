//! The protocol errors of RFC 6749 §4.1.2.1/§5.2, RFC 6750 §3.1, RFC 8707,
//! OIDC Core §3.1.2.6 and RFC 9470, one to one. The HTTP status and headers
//! are decided at the web edge, never here.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    InvalidScope,
    InvalidTarget,
    AccessDenied,
    ServerError,
    TemporarilyUnavailable,
    LoginRequired,
    ConsentRequired,
    InteractionRequired,
    UnmetAuthenticationRequirements,
    InvalidToken,
    InsufficientScope,
    InsufficientUserAuthentication,
    RequestNotSupported,
    RequestUriNotSupported,
    RegistrationNotSupported,
    NotFound,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 22] = [
        ErrorCode::InvalidRequest,
        ErrorCode::InvalidClient,
        ErrorCode::InvalidGrant,
        ErrorCode::UnauthorizedClient,
        ErrorCode::UnsupportedGrantType,
        ErrorCode::UnsupportedResponseType,
        ErrorCode::InvalidScope,
        ErrorCode::InvalidTarget,
        ErrorCode::AccessDenied,
        ErrorCode::ServerError,
        ErrorCode::TemporarilyUnavailable,
        ErrorCode::LoginRequired,
        ErrorCode::ConsentRequired,
        ErrorCode::InteractionRequired,
        ErrorCode::UnmetAuthenticationRequirements,
        ErrorCode::InvalidToken,
        ErrorCode::InsufficientScope,
        ErrorCode::InsufficientUserAuthentication,
        ErrorCode::RequestNotSupported,
        ErrorCode::RequestUriNotSupported,
        ErrorCode::RegistrationNotSupported,
        ErrorCode::NotFound,
    ];

    /// The exact wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::UnsupportedResponseType => "unsupported_response_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::InvalidTarget => "invalid_target",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::ServerError => "server_error",
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
            ErrorCode::LoginRequired => "login_required",
            ErrorCode::ConsentRequired => "consent_required",
            ErrorCode::InteractionRequired => "interaction_required",
            ErrorCode::UnmetAuthenticationRequirements => "unmet_authentication_requirements",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::InsufficientScope => "insufficient_scope",
            ErrorCode::InsufficientUserAuthentication => "insufficient_user_authentication",
            ErrorCode::RequestNotSupported => "request_not_supported",
            ErrorCode::RequestUriNotSupported => "request_uri_not_supported",
            ErrorCode::RegistrationNotSupported => "registration_not_supported",
            ErrorCode::NotFound => "not_found",
        }
    }

    /// What the error means and what usually fixes it: the text of the
    /// error reference that every `error_uri` points at.
    pub fn explanation(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => {
                "The request is missing a required parameter, repeats one, has an unsupported value or is otherwise malformed (RFC 6749 §5.2). The error_description names the parameter."
            }
            ErrorCode::InvalidClient => {
                "Client authentication failed: unknown client, wrong secret, or an authentication method the client is not registered for (RFC 6749 §5.2)."
            }
            ErrorCode::InvalidGrant => {
                "The authorization code, refresh token or other grant is invalid, expired, revoked, already used, or was issued to another client or redirect URI (RFC 6749 §5.2). Look up the trace id for the specific cause."
            }
            ErrorCode::UnauthorizedClient => {
                "The client is not allowed to use this grant type or response type (RFC 6749 §5.2)."
            }
            ErrorCode::UnsupportedGrantType => "The grant type is not supported by this server (RFC 6749 §5.2).",
            ErrorCode::UnsupportedResponseType => {
                "Only response_type=code is supported (RFC 6749 §4.1.2.1; no implicit or hybrid flows)."
            }
            ErrorCode::InvalidScope => {
                "A requested scope is unknown, malformed, or not allowed for this client (RFC 6749 §5.2)."
            }
            ErrorCode::InvalidTarget => {
                "The requested resource or audience is unknown or not allowed for this client (RFC 8707 §2)."
            }
            ErrorCode::AccessDenied => "The resource owner or the server denied the request (RFC 6749 §4.1.2.1).",
            ErrorCode::ServerError => {
                "The server met an unexpected condition. The trace id locates the cause in the server log."
            }
            ErrorCode::TemporarilyUnavailable => {
                "The server is temporarily unable to handle the request (overload or maintenance); retry later."
            }
            ErrorCode::LoginRequired => "prompt=none was sent but the user is not signed in (OIDC Core §3.1.2.6).",
            ErrorCode::ConsentRequired => "prompt=none was sent but the user has not consented (OIDC Core §3.1.2.6).",
            ErrorCode::InteractionRequired => {
                "prompt=none was sent but user interaction is needed (OIDC Core §3.1.2.6)."
            }
            ErrorCode::UnmetAuthenticationRequirements => {
                "The requested acr_values could not be satisfied (OpenID Connect Core Unmet Authentication Requirements 1.0)."
            }
            ErrorCode::InvalidToken => {
                "The access token is expired, revoked, malformed or invalid for another reason (RFC 6750 §3.1)."
            }
            ErrorCode::InsufficientScope => "The access token lacks a scope the request needs (RFC 6750 §3.1).",
            ErrorCode::InsufficientUserAuthentication => {
                "The user's authentication is too weak or too old; re-authenticate with the acr_values/max_age given (RFC 9470 §3)."
            }
            ErrorCode::RequestNotSupported => {
                "Request objects (the request parameter) are not supported (OIDC Core §6)."
            }
            ErrorCode::RequestUriNotSupported => "The request_uri parameter is not supported (OIDC Core §6).",
            ErrorCode::RegistrationNotSupported => "The registration parameter is not supported (OIDC Core §7.2.1).",
            ErrorCode::NotFound => "No resource exists at this path.",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A protocol error: the code and the description a client may see. The
/// description must never say whether a user exists, echo a secret, or
/// repeat a registered redirect URI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {description}")]
pub struct OAuthError {
    pub code: ErrorCode,
    pub description: String,
}

impl OAuthError {
    /// The description is reduced to the characters RFC 6749 §4.1.2.1 and
    /// §5.2 allow (%x20-21 / %x23-5B / %x5D-7E), so that echoed input can
    /// never break the format.
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        OAuthError { code, description: sanitize_description(&description.into()) }
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }
}

pub fn sanitize_description(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '"' => '\'',
            '\\' => '/',
            ' '..='~' => c,
            '§' => 'S',
            _ => '?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_stay_in_the_rfc_character_set() {
        let e = OAuthError::invalid_request("bad \"x\\y\" é\n§4");
        assert_eq!(e.description, "bad 'x/y' ??S4");
        assert!(
            e.description
                .bytes()
                .all(|b| b == 0x20 || b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
        );
    }
}

/// One specific reason behind an error code, with what to do about it:
/// the error reference has a page for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cause {
    /// URL-safe id, e.g. `pkce_mismatch`.
    pub id: &'static str,
    pub title: &'static str,
    pub fix: &'static str,
}

const fn cause(id: &'static str, title: &'static str, fix: &'static str) -> Cause {
    Cause { id, title, fix }
}

const INVALID_REQUEST: &[Cause] = &[
    cause(
        "missing_parameter",
        "A required parameter is missing",
        "Send every parameter the endpoint requires; the error_description names it.",
    ),
    cause(
        "repeated_parameter",
        "A parameter appears twice",
        "RFC 6749 §3.1: each parameter at most once. Check that your library does not append a default.",
    ),
    cause(
        "pkce_missing",
        "No PKCE code_challenge",
        "Every authorization request needs code_challenge and code_challenge_method=S256 (RFC 9700 §2.1.1).",
    ),
    cause(
        "pkce_plain",
        "code_challenge_method=plain",
        "Only S256 is accepted: send BASE64URL(SHA-256(verifier)) with method S256.",
    ),
    cause(
        "wrong_content_type",
        "The body is not a form",
        "The token, revocation and introspection endpoints read application/x-www-form-urlencoded bodies.",
    ),
    cause(
        "credentials_in_query",
        "Parameters in the query string",
        "Send token-endpoint parameters in the body: query strings end up in logs.",
    ),
];
const INVALID_CLIENT: &[Cause] = &[
    cause(
        "unknown_client",
        "The client id is not registered",
        "Check the client_id for typos and that it was registered on this server (not another environment).",
    ),
    cause(
        "wrong_secret",
        "The secret does not match",
        "Use the current secret (secrets are shown once at creation; rotate it if lost). In HTTP Basic, form-encode id and secret first (RFC 6749 §2.3.1).",
    ),
    cause(
        "wrong_method",
        "Wrong authentication method",
        "Authenticate the way the client is registered: client_secret_basic, client_secret_post, private_key_jwt, or none for public clients.",
    ),
    cause(
        "bad_assertion",
        "The client assertion is not valid",
        "For private_key_jwt: sign with a key in the registered JWKS, aud = the issuer, a fresh jti, exp within 5 minutes.",
    ),
];
const INVALID_GRANT: &[Cause] = &[
    cause(
        "expired_code",
        "The authorization code expired",
        "Redeem codes at once: they live for seconds, not minutes.",
    ),
    cause(
        "code_reused",
        "The code was already used",
        "A code is single-use; a second attempt also revokes the tokens the first one issued (RFC 6749 §4.1.2). Do not retry code redemption.",
    ),
    cause(
        "unknown_code",
        "The code is unknown or belongs to another client",
        "Redeem the code with the same client_id that asked for it.",
    ),
    cause(
        "redirect_uri_mismatch",
        "redirect_uri differs from the authorization request's",
        "Send exactly the redirect_uri of the authorization request, byte for byte.",
    ),
    cause(
        "pkce_mismatch",
        "code_verifier does not match the code_challenge",
        "Send the verifier whose S256 hash was the challenge of this very request; keep it per request, not per user.",
    ),
    cause(
        "session_ended",
        "The sign-in session has ended",
        "The user signed out or an administrator ended the session: start a new sign-in.",
    ),
    cause(
        "refresh_expired",
        "The refresh token expired",
        "It was idle longer than its idle lifetime or reached its maximum lifetime: sign the user in again.",
    ),
    cause(
        "refresh_reused",
        "A rotated refresh token was used again",
        "Each refresh returns a new refresh token; store it and discard the old one. Reuse revokes the whole family (RFC 9700 §4.14).",
    ),
    cause(
        "grant_revoked",
        "The authorization was revoked",
        "The user or an administrator revoked access, or consent was withdrawn: sign in again.",
    ),
    cause("user_disabled", "The user is no longer active", "The account was disabled or removed."),
    cause(
        "subject_token_invalid",
        "The subject token cannot be exchanged",
        "Exchange a valid, unexpired token that names your client as a permitted exchanger (token exchange, RFC 8693).",
    ),
];
const INVALID_SCOPE: &[Cause] = &[
    cause(
        "not_allowed",
        "A scope is not allowed for this client",
        "Ask only for scopes registered on the client and defined by the API (resource) you target.",
    ),
    cause(
        "policy_denied",
        "A policy refused the scope",
        "The authorization policies grant this scope only under conditions (e.g. an approved contract or a step-up); see the policy playground.",
    ),
];
const INVALID_TARGET: &[Cause] = &[
    cause(
        "policy_denied",
        "A policy refused the audience",
        "The authorization policies grant this API only under conditions (e.g. an approved contract); see the policy playground.",
    ),
    cause(
        "unknown_resource",
        "The resource is not a known API",
        "Send resource= with the exact identifier of an API registered on this server (RFC 8707).",
    ),
    cause(
        "audience_not_allowed",
        "The client may not get tokens for this API",
        "Register the API among the client's audiences.",
    ),
];
const UNAUTHORIZED_CLIENT: &[Cause] = &[cause(
    "grant_not_allowed",
    "The grant type is not registered for this client",
    "Register the grant type on the client, or use the grant it has.",
)];
const ACCESS_DENIED: &[Cause] = &[
    cause("user_denied", "The user declined", "Show the user what was refused and let them try again."),
    cause(
        "policy_denied",
        "A policy denied the request",
        "Check the decision in the policy playground; a deny may name what would allow it (step-up, verification).",
    ),
];
const INVALID_TOKEN: &[Cause] = &[
    cause(
        "expired",
        "The access token expired",
        "Refresh it or get a new one before exp (mind the clock skew leeway).",
    ),
    cause("revoked", "The token or its session was revoked", "Get a new token; the user may have signed out."),
    cause(
        "bad_signature",
        "The signature does not verify",
        "Verify against this issuer's current JWKS; the token may be altered or from another issuer.",
    ),
];

impl ErrorCode {
    /// The specific causes known for this code (may be empty).
    pub fn causes(self) -> &'static [Cause] {
        match self {
            ErrorCode::InvalidRequest => INVALID_REQUEST,
            ErrorCode::InvalidClient => INVALID_CLIENT,
            ErrorCode::InvalidGrant => INVALID_GRANT,
            ErrorCode::InvalidScope => INVALID_SCOPE,
            ErrorCode::InvalidTarget => INVALID_TARGET,
            ErrorCode::UnauthorizedClient => UNAUTHORIZED_CLIENT,
            ErrorCode::AccessDenied => ACCESS_DENIED,
            ErrorCode::InvalidToken => INVALID_TOKEN,
            _ => &[],
        }
    }

    pub fn parse(code: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.as_str() == code)
    }
}
