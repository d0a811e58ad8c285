//! Security events: everything a security team wants to see later (key and
//! client changes, admin access). Producers emit through [`EventSink`]; until
//! the audit store exists the server's sink writes them to the log. Emitting
//! never blocks and never fails the operation that caused it.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SecurityEvent {
    KeyGenerated {
        kid: String,
        alg: String,
        activate_at: i64,
    },
    KeyRotated {
        kid: String,
        alg: String,
        activate_at: i64,
        retiring: Vec<String>,
    },
    KeyRetired {
        kid: String,
        unpublish_at: i64,
    },
    KeyRevoked {
        kid: String,
        replacement: Option<String>,
    },
    ClientCreated {
        client_id: String,
    },
    ClientUpdated {
        client_id: String,
    },
    ClientRemoved {
        client_id: String,
    },
    ClientSecretRotated {
        client_id: String,
    },
    UserCreated {
        user_id: String,
    },
    UserPasswordChanged {
        user_id: String,
    },
    UserDisabled {
        user_id: String,
    },
    UserRemoved {
        user_id: String,
    },
    AdminAccessDenied {
        reason: String,
        route: String,
    },
    /// A used authorization code was presented again: its grant is revoked.
    AuthorizationCodeReplayed {
        client_id: String,
        grant_id: String,
    },
    /// A spent refresh token was presented again outside any grace window:
    /// its whole family (grant) is revoked.
    RefreshTokenReused {
        client_id: String,
        grant_id: String,
    },
    /// A client revoked one of its tokens (RFC 7009).
    TokenRevoked {
        client_id: String,
        token_kind: String,
    },
    /// A browser session ended (logout), with what it took along.
    SessionEnded {
        session_id: String,
        user_id: String,
        reason: String,
        grants_revoked: usize,
    },
    /// An administrator removed a user's second factor.
    SecondFactorReset {
        user_id: String,
    },
    /// A grant was revoked by an administrator.
    GrantRevoked {
        grant_id: String,
        client_id: String,
        by: String,
    },
    /// A user's consent to a client was withdrawn (and its grants revoked).
    ConsentRevoked {
        user_id: String,
        client_id: String,
    },
    /// A logout token could not be delivered to a client (Back-Channel
    /// Logout 1.0) after every retry.
    BackchannelLogoutFailed {
        client_id: String,
        session_id: String,
        error: String,
    },
    /// A client exchanged a subject token for a new one (RFC 8693).
    TokenExchanged {
        client_id: String,
        subject: String,
        actor: Option<String>,
        audience: String,
        jti: String,
    },
    /// Client-credentials issuance, sampled: one event stands for `count`
    /// tokens (the exact total is the `tokens_issued` counter).
    TokensIssued {
        client_id: String,
        grant_type: String,
        count: u64,
    },
    /// An authorization decision, sampled: one in `sample_every`.
    AuthorizationDecided {
        caller: String,
        subject: String,
        action: String,
        resource: String,
        allowed: bool,
        reasons: Vec<String>,
        sample_every: u64,
    },
    /// A new policy version became active.
    PolicyChanged {
        version: i64,
        source: String,
        by: String,
    },
    /// An identity-verification or fraud system changed a subject.
    SignalReceived {
        source: String,
        subject: String,
        applied: Vec<String>,
        stale: Vec<String>,
    },
    /// An administrator changed a subject's or resource's attributes.
    EntityChanged {
        entity: String,
        by: String,
    },
    CapabilityGranted {
        id: String,
        subject: String,
        action: String,
        resource: String,
        expires_at: i64,
        by: String,
    },
    CapabilityRevoked {
        id: String,
        by: String,
    },
}

impl SecurityEvent {
    /// Stable dotted name, for filtering logs and, later, the audit store.
    pub fn name(&self) -> &'static str {
        match self {
            SecurityEvent::KeyGenerated { .. } => "key.generated",
            SecurityEvent::KeyRotated { .. } => "key.rotated",
            SecurityEvent::KeyRetired { .. } => "key.retired",
            SecurityEvent::KeyRevoked { .. } => "key.revoked",
            SecurityEvent::ClientCreated { .. } => "client.created",
            SecurityEvent::ClientUpdated { .. } => "client.updated",
            SecurityEvent::ClientRemoved { .. } => "client.removed",
            SecurityEvent::ClientSecretRotated { .. } => "client.secret_rotated",
            SecurityEvent::UserCreated { .. } => "user.created",
            SecurityEvent::UserPasswordChanged { .. } => "user.password_changed",
            SecurityEvent::UserDisabled { .. } => "user.disabled",
            SecurityEvent::UserRemoved { .. } => "user.removed",
            SecurityEvent::AdminAccessDenied { .. } => "admin.access_denied",
            SecurityEvent::AuthorizationCodeReplayed { .. } => "token.code_replayed",
            SecurityEvent::RefreshTokenReused { .. } => "token.refresh_reused",
            SecurityEvent::TokenRevoked { .. } => "token.revoked",
            SecurityEvent::TokenExchanged { .. } => "token.exchanged",
            SecurityEvent::SessionEnded { .. } => "session.ended",
            SecurityEvent::GrantRevoked { .. } => "grant.revoked",
            SecurityEvent::SecondFactorReset { .. } => "user.second_factor_reset",
            SecurityEvent::ConsentRevoked { .. } => "consent.revoked",
            SecurityEvent::BackchannelLogoutFailed { .. } => "session.backchannel_logout_failed",
            SecurityEvent::TokensIssued { .. } => "token.issued_sampled",
            SecurityEvent::AuthorizationDecided { .. } => "authz.decision_sampled",
            SecurityEvent::PolicyChanged { .. } => "authz.policy_changed",
            SecurityEvent::SignalReceived { .. } => "authz.signal_received",
            SecurityEvent::EntityChanged { .. } => "authz.entity_changed",
            SecurityEvent::CapabilityGranted { .. } => "authz.capability_granted",
            SecurityEvent::CapabilityRevoked { .. } => "authz.capability_revoked",
        }
    }
}

/// Where security events go. Implementations must return at once.
pub trait EventSink: Send + Sync {
    fn emit(&self, event: SecurityEvent);
}

/// Collects events in memory: for tests, and for the CLI which prints them.
#[derive(Default)]
pub struct MemorySink(std::sync::Mutex<Vec<SecurityEvent>>);

impl MemorySink {
    pub fn take(&self) -> Vec<SecurityEvent> {
        match self.0.lock() {
            Ok(mut v) => std::mem::take(&mut *v),
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
        }
    }
}

impl EventSink for MemorySink {
    fn emit(&self, event: SecurityEvent) {
        match self.0.lock() {
            Ok(mut v) => v.push(event),
            Err(poisoned) => poisoned.into_inner().push(event),
        }
    }
}
