//! People who sign in.

use crate::time::UnixTime;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Opaque, server-generated, never reused: this is the `sub` claim.
    pub id: String,
    /// What the person types at login; unique, case-sensitive.
    pub username: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    /// Argon2id PHC string. `None` means password login is impossible.
    pub password_hash: Option<String>,
    pub disabled: bool,
    pub origin: Origin,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}

/// Who owns a record: the declarative config (rewritten at each start), the
/// dev sandbox, or an administrator (CLI/API).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Config,
    Dev,
    Admin,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Config => "config",
            Origin::Dev => "dev",
            Origin::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "config" => Some(Origin::Config),
            "dev" => Some(Origin::Dev),
            "admin" => Some(Origin::Admin),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UsernameError {
    #[error("username must be 1 to 128 characters")]
    Length,
    #[error("username must not contain whitespace or control characters")]
    Characters,
}

pub fn validate_username(username: &str) -> Result<(), UsernameError> {
    if username.is_empty() || username.chars().count() > 128 {
        return Err(UsernameError::Length);
    }
    if username.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(UsernameError::Characters);
    }
    Ok(())
}
