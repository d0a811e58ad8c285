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
