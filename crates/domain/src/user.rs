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
/// dev sandbox, an administrator (CLI/API), the person themself
/// (self-service sign-up), the server itself (the portal's own client), or
/// a developer's self-service sandbox (fenced: see `client::SandboxFence`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Config,
    Dev,
    Admin,
    SignUp,
    Builtin,
    Sandbox,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Config => "config",
            Origin::Dev => "dev",
            Origin::Admin => "admin",
            Origin::SignUp => "signup",
            Origin::Builtin => "builtin",
            Origin::Sandbox => "sandbox",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "config" => Some(Origin::Config),
            "dev" => Some(Origin::Dev),
            "admin" => Some(Origin::Admin),
            "signup" => Some(Origin::SignUp),
            "builtin" => Some(Origin::Builtin),
            "sandbox" => Some(Origin::Sandbox),
            _ => None,
        }
    }
}

/// NIST SP 800-63B §5.1.1.2: at least 8 characters, long passphrases
/// welcome, no composition rules; not the username itself.
pub fn validate_new_password(password: &str, username: &str) -> Result<(), &'static str> {
    let n = password.chars().count();
    if n < 8 {
        return Err("Choose a password of at least 8 characters.");
    }
    if n > 256 {
        return Err("Choose a password of at most 256 characters.");
    }
    if password.eq_ignore_ascii_case(username) {
        return Err("Your password must not be your username.");
    }
    Ok(())
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
