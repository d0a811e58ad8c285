//! The admin API for keys, sessions, grants and consents (routes/admin.rs),
//! the audit log (routes/admin_audit.rs), and the operations endpoints
//! (routes/health.rs, routes/metrics.rs).

use serde_json::{Value, json};

use super::Context;
use super::spec::*;
use crate::routes::admin_audit;

pub fn operations(_ctx: &Context) -> Vec<Operation> {
    let user = || path("user_id", "The user's id.");
    vec![
        get("/admin/v1/keys", "listKeys", Tag::Admin, "Signing keys")
            .describe("Every signing key and its timeline (never private material).")
            .security(Security::Admin)
            .reply_json(200, "The keys.", "KeyList")
            .errors(&[401, 403]),
        get("/admin/v1/users/{user_id}/sessions", "userSessions", Tag::Admin, "A user's sessions and grants")
            .describe("Active sessions (with user agent and address while retained) and active grants.")
            .security(Security::Admin)
            .param(user())
            .reply_json(200, "Sessions and grants.", "SessionsAndGrants")
            .errors(&[401, 403, 404]),
        delete("/admin/v1/users/{user_id}/sessions", "endUserSessions", Tag::Admin, "End all of a user's sessions")
            .describe(
                "Each session's grants are revoked, its tokens turn inactive on every node, back channels are told.",
            )
            .security(Security::Admin)
            .param(user())
            .reply_json(200, "How many sessions ended.", "Ended")
            .errors(&[401, 403, 404]),
        delete("/admin/v1/sessions/{sid}", "endSessionAdmin", Tag::Admin, "End one session")
            .describe("Its grants are revoked, its tokens turn inactive on every node, back channels are told.")
            .security(Security::Admin)
            .param(path("sid", "The session id (`sid` claim)."))
            .reply(204, "Ended.")
            .errors(&[401, 403, 404]),
        delete("/admin/v1/grants/{grant_id}", "revokeGrant", Tag::Admin, "Revoke a grant")
            .describe("Its refresh tokens and the access tokens issued with them.")
            .security(Security::Admin)
            .param(path("grant_id", "The grant's id."))
            .reply(204, "Revoked.")
            .errors(&[401, 403, 404]),
        delete("/admin/v1/users/{user_id}/totp", "resetTotp", Tag::Admin, "Reset a user's second factor")
            .describe(
                "For a lost authenticator: the user's sessions end; they sign in with the password and may \
                 enrol again.",
            )
            .security(Security::Admin)
            .param(user())
            .reply(204, "Reset.")
            .errors(&[401, 403, 404]),
        get("/admin/v1/users/{user_id}/consents", "userConsents", Tag::Admin, "A user's consents")
            .security(Security::Admin)
            .param(user())
            .reply_json(200, "The clients the user consented to, with scopes.", "Consents")
            .errors(&[401, 403, 404]),
        delete("/admin/v1/users/{user_id}/consents/{client_id}", "revokeConsent", Tag::Admin, "Withdraw a consent")
            .describe("The client must ask again, and the user's grants to it are revoked.")
            .security(Security::Admin)
            .params([user(), path("client_id", "The client.")])
            .reply(204, "Withdrawn.")
            .errors(&[401, 403, 404]),
        get("/admin/v1/audit/events", "auditEvents", Tag::Audit, "Audit events")
            .describe(
                "Filtered and paged by row id. Follow next_cursor in asc order to export without gaps. Times \
                 (`since`, `until`) are Unix seconds, RFC 3339, or a duration back from now such as 15m.",
            )
            .security(Security::Admin)
            .params([
                query("subject", "The user or client the event is about."),
                query("client_id", "The client involved."),
                query("trace_id", "The request's trace id (X-Request-Id)."),
                query("type", "An event type such as login.failed, or a prefix with one trailing * such as token.*."),
                query("outcome", "").schema(json!({ "enum": ["success", "failure", "denied", "flagged"] })),
                query("since", "Oldest time included."),
                query("until", "Newest time included."),
                query("limit", "").schema(json!({
                    "type": "integer",
                    "minimum": 1,
                    "maximum": admin_audit::MAX_LIMIT,
                    "default": admin_audit::DEFAULT_LIMIT,
                })),
                query("order", "asc: oldest first (exports, following); desc: newest first.")
                    .schema(json!({ "enum": ["asc", "desc"], "default": "asc" })),
                query("cursor", "The previous page's next_cursor."),
            ])
            .reply_json(200, "One page of events.", "AuditEvents")
            .errors(&[400, 401, 403]),
        get("/healthz", "healthz", Tag::Operations, "Liveness")
            .at_root()
            .describe("The process answers. Never touches the store, so a database outage restarts no healthy node.")
            .reply_json(200, "Alive.", "Health"),
        get("/readyz", "readyz", Tag::Operations, "Readiness")
            .at_root()
            .describe("The store answers.")
            .reply_json(200, "Ready.", "Ready")
            .errors(&[503]),
        get("/metrics", "metrics", Tag::Operations, "Metrics")
            .at_root()
            .describe(
                "Prometheus / OpenMetrics text. Open on a loopback listener (and on --metrics-listen), admin \
                 credentials otherwise.",
            )
            .security(Security::Metrics)
            .reply_with(
                200,
                "The metrics.",
                "application/openmetrics-text",
                json!({ "type": "string", "description": "OpenMetrics 1.0.0 text." }),
            )
            .errors(&[401, 403]),
    ]
}

pub fn schemas(_ctx: &Context) -> Vec<(&'static str, Value)> {
    let nullable = |ty: &str, description: &str| described(json!({ "type": [ty, "null"] }), description);
    let strings = || json!({ "type": "array", "items": { "type": "string" } });
    vec![
        (
            "KeyList",
            object(
                "",
                &["keys"],
                &[(
                    "keys",
                    json!({
                        "type": "array",
                        "items": object("A signing key's timeline.", &["kid", "alg", "state", "created_at", "publish_at", "activate_at"], &[
                            ("kid", string()),
                            ("alg", json!({ "enum": ["ES256", "RS256", "PS256", "EdDSA"] })),
                            ("state", json!({ "enum": ["scheduled", "published", "active", "retired", "expired", "revoked"] })),
                            ("created_at", time("Created")),
                            ("publish_at", time("In the JWKS from")),
                            ("activate_at", time("Signs from")),
                            ("retire_at", nullable("integer", "Stops signing at (Unix seconds).")),
                            ("unpublish_at", nullable("integer", "Leaves the JWKS at (Unix seconds).")),
                            ("revoked_at", nullable("integer", "Revoked at (Unix seconds).")),
                        ]),
                    }),
                )],
            ),
        ),
        (
            "SessionsAndGrants",
            object(
                "",
                &["sessions", "grants"],
                &[
                    (
                        "sessions",
                        json!({
                            "type": "array",
                            "items": object("", &["sid", "created_at", "expires_at"], &[
                                ("sid", string()),
                                ("created_at", time("Started")),
                                ("last_seen_at", time("Last used")),
                                ("auth_time", time("Authenticated")),
                                ("acr", nullable("string", "")),
                                ("amr", strings()),
                                ("user_agent", nullable("string", "While retained.")),
                                ("source_ip", nullable("string", "While retained (truncated as configured).")),
                                ("expires_at", time("Expiry")),
                            ]),
                        }),
                    ),
                    (
                        "grants",
                        json!({
                            "type": "array",
                            "items": object("", &["grant_id", "client_id", "created_at", "expires_at"], &[
                                ("grant_id", string()),
                                ("client_id", string()),
                                ("scope", string()),
                                ("resource", nullable("string", "")),
                                ("sid", nullable("string", "The session it came from.")),
                                ("acr", nullable("string", "")),
                                ("created_at", time("Granted")),
                                ("expires_at", time("Expiry")),
                            ]),
                        }),
                    ),
                ],
            ),
        ),
        ("Ended", object("", &["ended"], &[("ended", integer("Sessions ended."))])),
        (
            "Consents",
            object(
                "",
                &["consents"],
                &[(
                    "consents",
                    json!({
                        "type": "array",
                        "items": object("", &["client_id", "scope"], &[
                            ("client_id", string()),
                            ("scope", text("Space-separated scopes consented to.")),
                            ("created_at", time("First consent")),
                            ("updated_at", time("Last change")),
                        ]),
                    }),
                )],
            ),
        ),
        (
            "AuditEvents",
            object(
                "",
                &["events", "next_cursor"],
                &[
                    ("events", json!({ "type": "array", "items": schema_ref("AuditEvent") })),
                    ("next_cursor", nullable("string", "Pass as cursor for the next page; null on the last.")),
                ],
            ),
        ),
        (
            "AuditEvent",
            object(
                "One stored security event.",
                &["id", "at_ms", "time", "type", "outcome", "details"],
                &[
                    ("id", integer("Row id (the paging order).")),
                    ("at_ms", integer("Milliseconds since the Unix epoch.")),
                    ("time", json!({ "type": "string", "format": "date-time" })),
                    ("type", text("e.g. login.succeeded, token.revoked, authz.decided.")),
                    ("outcome", json!({ "enum": ["success", "failure", "denied", "flagged"] })),
                    ("actor", nullable("string", "Who did it.")),
                    ("subject", nullable("string", "Whom it is about.")),
                    ("client_id", nullable("string", "")),
                    ("source_ip", nullable("string", "While retained.")),
                    ("user_agent", nullable("string", "While retained.")),
                    ("trace_id", nullable("string", "The request's X-Request-Id.")),
                    ("node", nullable("string", "The node that recorded it.")),
                    ("details", json!({ "type": "object", "description": "The event's own fields (never a secret)." })),
                ],
            ),
        ),
        ("Health", object("", &["status"], &[("status", json!({ "const": "ok" }))])),
        (
            "Ready",
            object(
                "",
                &["status", "store"],
                &[("status", json!({ "const": "ready" })), ("store", json!({ "enum": ["sqlite", "postgres"] }))],
            ),
        ),
    ]
}
