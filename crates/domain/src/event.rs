//! Security events: everything a security team wants to see later (sign-ins,
//! tokens, key and client changes, decisions, admin access). Producers emit
//! through [`EventSink`]; the server's sink adds the request's context (time,
//! trace id, source address) and queues an [`AuditRecord`] for the audit
//! store. Emitting never blocks and never fails the operation that caused it.

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
        /// The request's caller-supplied `properties` and `context` as one
        /// object (`{"subject":…,"resource":…,"context":…}`), so the
        /// playground can replay the decision; `null` when none or over
        /// 4 KiB (each string is capped like every event field).
        request: serde_json::Value,
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
    /// A user proved who they are and a browser session started.
    LoginSucceeded {
        user_id: String,
        session_id: String,
        acr: String,
        amr: Vec<String>,
    },
    /// A sign-in was refused. The typed name is kept only when it is an
    /// account's (`username`, `user_id`): people type passwords into the
    /// name field, so an unknown name is kept only as `username_hash` (a
    /// SHA-256 prefix of the case-folded name), enough to see one name
    /// tried again and again.
    LoginFailed {
        username: Option<String>,
        username_hash: String,
        user_id: Option<String>,
        reason: String,
    },
    SecondFactorVerified {
        user_id: String,
    },
    SecondFactorFailed {
        user_id: String,
    },
    SecondFactorEnrolled {
        user_id: String,
    },
    /// A user approved a client's scopes on the consent page.
    ConsentGranted {
        user_id: String,
        client_id: String,
        scope: String,
    },
    /// Tokens issued for a user (authorization code grant).
    TokenIssued {
        client_id: String,
        grant_type: String,
        subject: String,
        grant_id: String,
        scope: String,
    },
    /// A refresh token was rotated for new tokens.
    TokenRefreshed {
        client_id: String,
        subject: String,
        grant_id: String,
    },
    /// A client failed to authenticate (`invalid_client`).
    ClientAuthFailed {
        client_id: String,
        reason: String,
    },
    /// A request of a known client was refused with a protocol error: the
    /// specific reason behind the generic code, which the client's owner
    /// can look up by trace id on the portal.
    RequestRefused {
        client_id: String,
        error: String,
        reason: String,
        status: u16,
    },
    /// Something unusual: reuse of a refresh token or code, a burst of
    /// failures, one user's sessions spreading over many addresses.
    AnomalyDetected {
        kind: AnomalyKind,
        subject: Option<String>,
        client_id: Option<String>,
        /// How many occurrences within `window_secs` raised it.
        count: u64,
        window_secs: u64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyKind {
    RefreshTokenReuse,
    AuthorizationCodeReplay,
    LoginFailureBurst,
    InvalidClientBurst,
    SessionSpread,
}

impl AnomalyKind {
    /// The anomaly an event is, if it is one by itself.
    pub fn of(event: &SecurityEvent) -> Option<AnomalyKind> {
        match event {
            SecurityEvent::RefreshTokenReused { .. } => Some(AnomalyKind::RefreshTokenReuse),
            SecurityEvent::AuthorizationCodeReplayed { .. } => Some(AnomalyKind::AuthorizationCodeReplay),
            SecurityEvent::AnomalyDetected { kind, .. } => Some(*kind),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AnomalyKind::RefreshTokenReuse => "refresh_token_reuse",
            AnomalyKind::AuthorizationCodeReplay => "authorization_code_replay",
            AnomalyKind::LoginFailureBurst => "login_failure_burst",
            AnomalyKind::InvalidClientBurst => "invalid_client_burst",
            AnomalyKind::SessionSpread => "session_spread",
        }
    }
}

/// What an event says about the operation behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Failure,
    /// An authorization decision that said no.
    Denied,
    /// An anomaly (or reuse/replay) a security team should look at.
    Flagged,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Denied => "denied",
            Outcome::Flagged => "flagged",
        }
    }
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
            SecurityEvent::LoginSucceeded { .. } => "login.succeeded",
            SecurityEvent::LoginFailed { .. } => "login.failed",
            SecurityEvent::SecondFactorVerified { .. } => "mfa.verified",
            SecurityEvent::SecondFactorFailed { .. } => "mfa.failed",
            SecurityEvent::SecondFactorEnrolled { .. } => "mfa.enrolled",
            SecurityEvent::ConsentGranted { .. } => "consent.granted",
            SecurityEvent::TokenIssued { .. } => "token.issued",
            SecurityEvent::TokenRefreshed { .. } => "token.refreshed",
            SecurityEvent::ClientAuthFailed { .. } => "client.auth_failed",
            SecurityEvent::RequestRefused { .. } => "request.refused",
            SecurityEvent::AnomalyDetected { .. } => "anomaly.detected",
        }
    }

    pub fn outcome(&self) -> Outcome {
        use SecurityEvent as E;
        match self {
            E::AdminAccessDenied { .. }
            | E::BackchannelLogoutFailed { .. }
            | E::LoginFailed { .. }
            | E::SecondFactorFailed { .. }
            | E::ClientAuthFailed { .. }
            | E::RequestRefused { .. } => Outcome::Failure,
            E::AuthorizationCodeReplayed { .. } | E::RefreshTokenReused { .. } | E::AnomalyDetected { .. } => {
                Outcome::Flagged
            }
            E::AuthorizationDecided { allowed: false, .. } => Outcome::Denied,
            _ => Outcome::Success,
        }
    }

    /// The user (or entity) the event is about, for filtering.
    pub fn subject(&self) -> Option<&str> {
        use SecurityEvent as E;
        match self {
            E::UserCreated { user_id }
            | E::UserPasswordChanged { user_id }
            | E::UserDisabled { user_id }
            | E::UserRemoved { user_id }
            | E::SessionEnded { user_id, .. }
            | E::SecondFactorReset { user_id }
            | E::ConsentRevoked { user_id, .. }
            | E::LoginSucceeded { user_id, .. }
            | E::SecondFactorVerified { user_id }
            | E::SecondFactorFailed { user_id }
            | E::SecondFactorEnrolled { user_id }
            | E::ConsentGranted { user_id, .. } => Some(user_id),
            E::LoginFailed { user_id, .. } => user_id.as_deref(),
            E::TokenExchanged { subject, .. }
            | E::AuthorizationDecided { subject, .. }
            | E::SignalReceived { subject, .. }
            | E::CapabilityGranted { subject, .. }
            | E::TokenIssued { subject, .. }
            | E::TokenRefreshed { subject, .. } => Some(subject),
            E::EntityChanged { entity, .. } => Some(entity),
            E::AnomalyDetected { subject, .. } => subject.as_deref(),
            _ => None,
        }
    }

    /// The OAuth client involved, for filtering.
    pub fn client_id(&self) -> Option<&str> {
        use SecurityEvent as E;
        match self {
            E::ClientCreated { client_id }
            | E::ClientUpdated { client_id }
            | E::ClientRemoved { client_id }
            | E::ClientSecretRotated { client_id }
            | E::AuthorizationCodeReplayed { client_id, .. }
            | E::RefreshTokenReused { client_id, .. }
            | E::TokenRevoked { client_id, .. }
            | E::GrantRevoked { client_id, .. }
            | E::ConsentRevoked { client_id, .. }
            | E::BackchannelLogoutFailed { client_id, .. }
            | E::TokenExchanged { client_id, .. }
            | E::TokensIssued { client_id, .. }
            | E::ConsentGranted { client_id, .. }
            | E::TokenIssued { client_id, .. }
            | E::TokenRefreshed { client_id, .. }
            | E::ClientAuthFailed { client_id, .. }
            | E::RequestRefused { client_id, .. } => Some(client_id),
            E::AnomalyDetected { client_id, .. } => client_id.as_deref(),
            _ => None,
        }
    }

    /// Who did it, when the event itself says: an administrator, a calling
    /// service, a signal source, the user signing in. Otherwise the
    /// request's authenticated caller is the actor, or else the client.
    pub fn actor(&self) -> Option<&str> {
        use SecurityEvent as E;
        match self {
            E::GrantRevoked { by, .. }
            | E::PolicyChanged { by, .. }
            | E::EntityChanged { by, .. }
            | E::CapabilityGranted { by, .. }
            | E::CapabilityRevoked { by, .. } => Some(by),
            E::AuthorizationDecided { caller, .. } => Some(caller),
            E::SignalReceived { source, .. } => Some(source),
            E::LoginSucceeded { user_id, .. }
            | E::SecondFactorVerified { user_id }
            | E::SecondFactorFailed { user_id }
            | E::SecondFactorEnrolled { user_id }
            | E::ConsentGranted { user_id, .. } => Some(user_id),
            _ => None,
        }
    }
}

/// One stored audit event: the event, and where and when it happened.
/// Addresses and user agents are kept only as long as configured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRecord {
    /// Assigned by the store; 0 before it is written.
    pub id: i64,
    /// Milliseconds since the Unix epoch.
    pub at_ms: i64,
    #[serde(rename = "type")]
    pub kind: String,
    pub outcome: String,
    pub actor: Option<String>,
    pub subject: Option<String>,
    pub client_id: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub trace_id: Option<String>,
    /// The node that recorded it.
    pub node: Option<String>,
    /// The event's own fields (never a secret or a whole token).
    pub details: serde_json::Value,
}

/// Where a request came from, as the audit log records it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventOrigin {
    pub trace_id: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    /// An authenticated administrator or caller, when the route knows one.
    pub actor: Option<String>,
}

/// Longest text kept in any field of a stored event.
const MAX_FIELD_CHARS: usize = 512;

/// Bounded, and without NUL (which PostgreSQL text refuses): an event
/// built from what a caller sent can neither grow without bound nor make
/// its batch fail to store.
fn clean(s: &str) -> String {
    s.chars().filter(|c| *c != '\0').take(MAX_FIELD_CHARS).collect()
}

fn clean_value(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) => *s = clean(s),
        serde_json::Value::Array(items) => items.iter_mut().for_each(clean_value),
        serde_json::Value::Object(map) => map.values_mut().for_each(clean_value),
        _ => {}
    }
}

impl AuditRecord {
    pub fn new(event: &SecurityEvent, origin: EventOrigin, at_ms: i64, node: Option<String>) -> AuditRecord {
        let mut details = serde_json::to_value(event).unwrap_or(serde_json::Value::Null);
        // The type is a column; the payload keeps only the event's fields.
        if let Some(map) = details.as_object_mut() {
            map.remove("type");
        }
        clean_value(&mut details);
        let text = |s: Option<&str>| s.map(clean);
        AuditRecord {
            id: 0,
            at_ms,
            kind: event.name().to_owned(),
            outcome: event.outcome().as_str().to_owned(),
            actor: text(event.actor().or(origin.actor.as_deref()).or(event.client_id())),
            subject: text(event.subject()),
            client_id: text(event.client_id()),
            source_ip: text(origin.source_ip.as_deref()),
            user_agent: text(origin.user_agent.as_deref()),
            trace_id: text(origin.trace_id.as_deref()),
            node,
            details,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_bounded_and_free_of_nul() {
        let event = SecurityEvent::ClientAuthFailed { client_id: "c\0x".into(), reason: "r".repeat(100_000) };
        let origin = EventOrigin { user_agent: Some("ua\0".into()), ..Default::default() };
        let r = AuditRecord::new(&event, origin, 0, None);
        assert_eq!(r.client_id.as_deref(), Some("cx"));
        assert_eq!(r.user_agent.as_deref(), Some("ua"));
        assert_eq!(r.details["reason"].as_str().map(|s| s.chars().count()), Some(MAX_FIELD_CHARS));
        assert_eq!(r.details["client_id"], "cx");
        assert_eq!(
            (r.kind.as_str(), r.outcome.as_str(), r.actor.as_deref()),
            ("client.auth_failed", "failure", Some("cx"))
        );
    }
}
