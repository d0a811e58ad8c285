//! The decision point: AuthZEN (routes/authzen.rs), identity signals
//! (authz/signals.rs) and its admin API (routes/admin_authz.rs).

use serde_json::{Value, json};

use super::Context;
use super::spec::*;

pub fn operations(ctx: &Context) -> Vec<Operation> {
    let p = &ctx.issuer_path;
    let entity = || [path("entity_type", "The Cedar entity type, e.g. `User`."), path("entity_id", "The entity id.")];
    vec![
        // ---- AuthZEN ----------------------------------------------------------------------
        get(
            format!("/.well-known/authzen-configuration{p}"),
            "authzenConfiguration",
            Tag::AuthZen,
            "Policy decision point metadata",
        )
        .at_root()
        .describe("AuthZEN §9: the endpoints of this policy decision point, by path insertion of the issuer's path.")
        .reply_json(200, "The metadata.", "AuthzenConfiguration"),
        post("/access/v1/evaluation", "evaluation", Tag::AuthZen, "One access evaluation")
            .describe(
                "Is this subject allowed this action on this resource? The subject may be an access token of \
                 this server ({\"type\": \"access_token\", \"id\": \"<JWT>\"}); a token whose session has ended \
                 is a deny. A deny for want of a stronger or fresher authentication carries the requirement in \
                 `context`. `options.explain` (privileged callers only) adds the determining policies.",
            )
            .security(Security::Pep)
            .param(header("X-Request-Id", "Echoed in the response (and the error's trace_id)."))
            .json("EvaluationRequest")
            .reply_json(200, "The decision.", "Decision")
            .errors(&[400, 401, 403, 503]),
        post("/access/v1/evaluations", "evaluations", Tag::AuthZen, "A batch of evaluations")
            .describe(
                "Top-level subject, action, resource and context are defaults; each item's key replaces the \
                 default whole. Results come in request order; an item that cannot be evaluated is a deny. \
                 At most 1000 items. Without `evaluations`, a single evaluation (answered as such).",
            )
            .security(Security::Pep)
            .json("EvaluationsRequest")
            .reply_with(
                200,
                "The decisions, or one decision for a request without items.",
                JSON,
                json!({ "oneOf": [schema_ref("EvaluationsResponse"), schema_ref("Decision")] }),
            )
            .errors(&[400, 401, 403, 503]),
        post("/access/v1/search/subject", "searchSubject", Tag::AuthZen, "Which subjects may do this?")
            .describe(
                "Candidates are the directory's entities of subject.type, in id order; at most 10,000 are \
                 examined per request. Privileged callers only.",
            )
            .security(Security::PrivilegedPep)
            .json("SubjectSearch")
            .reply_json(200, "The subjects allowed, one page.", "EntitySearchResponse")
            .errors(&[400, 401, 403, 503]),
        post("/access/v1/search/resource", "searchResource", Tag::AuthZen, "Which resources may this subject act on?")
            .describe("Candidates are the directory's entities of resource.type, in id order. Privileged callers only.")
            .security(Security::PrivilegedPep)
            .json("ResourceSearch")
            .reply_json(200, "The resources allowed, one page.", "EntitySearchResponse")
            .errors(&[400, 401, 403, 503]),
        post("/access/v1/search/action", "searchAction", Tag::AuthZen, "Which actions may this subject take?")
            .describe("Candidates are the active schema's actions, in declaration order. Privileged callers only.")
            .security(Security::PrivilegedPep)
            .json("ActionSearch")
            .reply_json(200, "The actions allowed, one page.", "ActionSearchResponse")
            .errors(&[400, 401, 403, 503]),
        // ---- signals ----------------------------------------------------------------------
        post("/signals/v1", "signal", Tag::Signals, "Report a change about a subject")
            .describe(
                "The source may set only its configured attributes (else 403). An event_id is applied once \
                 per source (a redelivery answers duplicate); each attribute keeps the value of the newest \
                 occurred_at (an older signal answers stale). The change reaches the very next decision on \
                 every node. A risk_score at or above risk_revoke_threshold ends the user's sessions.",
            )
            .security(Security::SignalSource)
            .param(header(
                "Latchkey-Signature",
                "Required for sources with an hmac_secret: `t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<body>\">`, \
                 t within the source's replay window.",
            ))
            .json("Signal")
            .reply_json(200, "Applied, stale or duplicate.", "SignalResult")
            .errors(&[400, 401, 403, 503]),
        // ---- admin: policies --------------------------------------------------------------
        get("/admin/v1/policies", "listPolicyVersions", Tag::AdminAuthz, "Policy versions")
            .describe("The newest 100 versions, newest first, the active one marked.")
            .security(Security::Admin)
            .reply_json(200, "The versions.", "PolicyVersions")
            .errors(&[401, 403]),
        put("/admin/v1/policies", "publishPolicies", Tag::AdminAuthz, "Publish a policy version")
            .describe(
                "Compiled and validated first (400 with Cedar's message if invalid); active at once on this \
                 node and within a poll interval on the others. Publishing the active text again is `unchanged`.",
            )
            .security(Security::Admin)
            .json("PolicyDraft")
            .reply_json(200, "The version now active.", "PublishResult")
            .errors(&[400, 401, 403]),
        get("/admin/v1/policies/active", "activePolicies", Tag::AdminAuthz, "The active policy set")
            .security(Security::Admin)
            .reply_json(200, "Schema, policies, policy ids and actions.", "ActivePolicies")
            .errors(&[401, 403, 404]),
        post("/admin/v1/policies/validate", "validatePolicies", Tag::AdminAuthz, "Validate a draft")
            .describe("Compiles and validates against the schema (the active one if omitted) without storing.")
            .security(Security::Admin)
            .json("PolicyDraft")
            .reply_json(200, "Valid (with its policy ids and actions), or the first error.", "ValidationResult")
            .errors(&[400, 401, 403]),
        post("/admin/v1/policies/test", "testPolicies", Tag::AdminAuthz, "Test a draft or the active set")
            .describe(
                "Runs AuthZEN evaluation requests against a draft (or the active set when no policies are \
                 given) with the live attributes, and says which decisions match the expectation.",
            )
            .security(Security::Admin)
            .json("PolicyTest")
            .reply_json(200, "Each case's decision, and how many failed.", "PolicyTestResult")
            .errors(&[400, 401, 403]),
        get("/admin/v1/policies/{version}", "policyVersion", Tag::AdminAuthz, "One policy version")
            .security(Security::Admin)
            .param(path("version", "The version number.").schema(json!({ "type": "integer" })))
            .reply_json(200, "The version's schema and policies.", "PolicyVersion")
            .errors(&[400, 401, 403, 404]),
        // ---- admin: entities and capabilities ---------------------------------------------------
        get("/admin/v1/entities/{entity_type}/{entity_id}", "getEntity", Tag::AdminAuthz, "An entity")
            .security(Security::Admin)
            .params(entity())
            .reply_json(200, "Its attributes and parents.", "Entity")
            .errors(&[401, 403, 404]),
        put("/admin/v1/entities/{entity_type}/{entity_id}", "putEntity", Tag::AdminAuthz, "Replace an entity")
            .describe("Replaces the attributes and parents (creating the entity if needed).")
            .security(Security::Admin)
            .params(entity())
            .json("EntityBody")
            .reply_json(200, "The entity as stored.", "Entity")
            .errors(&[400, 401, 403]),
        patch("/admin/v1/entities/{entity_type}/{entity_id}", "patchEntity", Tag::AdminAuthz, "Set some attributes")
            .describe("Sets the given attributes, keeping the rest; `null` removes one.")
            .security(Security::Admin)
            .params(entity())
            .json("EntityPatch")
            .reply_json(200, "The entity as stored.", "Entity")
            .errors(&[400, 401, 403, 404]),
        delete("/admin/v1/entities/{entity_type}/{entity_id}", "deleteEntity", Tag::AdminAuthz, "Delete an entity")
            .security(Security::Admin)
            .params(entity())
            .reply(204, "Deleted.")
            .errors(&[401, 403, 404]),
        get(
            "/admin/v1/entities/{entity_type}/{entity_id}/capabilities",
            "listCapabilities",
            Tag::AdminAuthz,
            "An entity's capabilities",
        )
        .describe("The unexpired capabilities whose subject is this entity.")
        .security(Security::Admin)
        .params(entity())
        .reply_json(200, "The capabilities.", "CapabilityList")
        .errors(&[401, 403]),
        post("/admin/v1/capabilities", "grantCapability", Tag::AdminAuthz, "Grant a capability")
            .describe(
                "One subject, one action, one resource (`id` `*`: every resource of the type), until it \
                 expires (at most a year). It counts as a permit; a forbid still overrides it.",
            )
            .security(Security::Admin)
            .json("CapabilityRequest")
            .reply_json(201, "Granted.", "Capability")
            .errors(&[400, 401, 403]),
        delete("/admin/v1/capabilities/{capability_id}", "revokeCapability", Tag::AdminAuthz, "Revoke a capability")
            .security(Security::Admin)
            .param(path("capability_id", "The capability's id."))
            .reply(204, "Revoked.")
            .errors(&[401, 403, 404]),
    ]
}

fn typed(description: &str, id_required: bool) -> Value {
    let required: &[&str] = if id_required { &["type", "id"] } else { &["type"] };
    object(
        description,
        required,
        &[
            ("type", text("The entity type (Cedar), or `access_token` for a subject given as a token.")),
            ("id", text("The entity id (or the token).")),
            (
                "properties",
                json!({
                    "type": "object",
                    "description": "Attributes the caller vouches for; stored attributes and token claims win.",
                }),
            ),
        ],
    )
}

pub fn schemas(_ctx: &Context) -> Vec<(&'static str, Value)> {
    let action = || object("", &["name"], &[("name", text("The action, Cedar `Action::\"name\"`."))]);
    let context =
        || json!({ "type": "object", "description": "Becomes Cedar's context (now, auth_age are set by the server)." });
    let page_request = || {
        object(
            "",
            &[],
            &[
                ("limit", json!({ "type": "integer", "minimum": 1, "maximum": 1000, "default": 100 })),
                ("token", text("The previous answer's page.next_token.")),
            ],
        )
    };
    let explain = || object("", &[], &[("explain", boolean("Add the determining policies (privileged callers)."))]);
    let strings = || json!({ "type": "array", "items": { "type": "string" } });
    let typed_id = || object("", &["type", "id"], &[("type", string()), ("id", string())]);
    let schema_and_policies = || {
        vec![
            ("version", integer("")),
            ("digest", text("SHA-256 of the schema and policies.")),
            ("schema", text("Cedar schema (JSON or human-readable text).")),
            ("policies", text("Cedar policies.")),
        ]
    };
    vec![
        (
            "AuthzenConfiguration",
            object(
                "AuthZEN §9.",
                &["policy_decision_point", "access_evaluation_endpoint"],
                &[
                    ("policy_decision_point", text("The issuer.")),
                    ("access_evaluation_endpoint", string()),
                    ("access_evaluations_endpoint", string()),
                    ("search_subject_endpoint", string()),
                    ("search_resource_endpoint", string()),
                    ("search_action_endpoint", string()),
                    ("capabilities", strings()),
                ],
            ),
        ),
        ("Subject", typed("Who asks.", true)),
        ("Resource", typed("What is acted on.", true)),
        (
            "EvaluationRequest",
            object(
                "AuthZEN §6.1.",
                &["subject", "action", "resource"],
                &[
                    ("subject", schema_ref("Subject")),
                    ("action", action()),
                    ("resource", schema_ref("Resource")),
                    ("context", context()),
                    ("options", explain()),
                ],
            ),
        ),
        (
            "EvaluationsRequest",
            object(
                "AuthZEN §7.1.",
                &[],
                &[
                    ("subject", schema_ref("Subject")),
                    ("action", action()),
                    ("resource", schema_ref("Resource")),
                    ("context", context()),
                    (
                        "evaluations",
                        json!({
                            "type": "array",
                            "maxItems": 1000,
                            "items": object("Each key replaces the top-level default.", &[], &[
                                ("subject", schema_ref("Subject")),
                                ("action", action()),
                                ("resource", schema_ref("Resource")),
                                ("context", context()),
                            ]),
                        }),
                    ),
                    (
                        "options",
                        object(
                            "",
                            &[],
                            &[
                                (
                                    "evaluations_semantic",
                                    json!({ "enum": ["execute_all", "deny_on_first_deny", "permit_on_first_permit"], "default": "execute_all" }),
                                ),
                                ("explain", boolean("Add the determining policies (privileged callers).")),
                            ],
                        ),
                    ),
                ],
            ),
        ),
        (
            "Decision",
            object(
                "A decision; `context` only for a deny with a step-up requirement, or when explained.",
                &["decision"],
                &[
                    ("decision", boolean("")),
                    (
                        "context",
                        object(
                            "A step-up requirement (on a deny), and the explanation (when asked for).",
                            &[],
                            &[
                                (
                                    "acr_values",
                                    text("Step-up: the authentication context the subject needs (RFC 9470)."),
                                ),
                                ("max_age", integer("Step-up: at most this many seconds since authentication.")),
                                ("required_verification", text("The verification level the subject must reach.")),
                                (
                                    "reasons",
                                    json!({ "type": "array", "items": { "type": "string" }, "description": "Explained: the determining policy ids." }),
                                ),
                                ("errors", strings()),
                                ("policy_version", integer("")),
                                ("cached", boolean("")),
                            ],
                        ),
                    ),
                ],
            ),
        ),
        (
            "EvaluationsResponse",
            object(
                "In request order; cut short by the semantic's first deny or permit.",
                &["evaluations"],
                &[("evaluations", json!({ "type": "array", "items": schema_ref("Decision") }))],
            ),
        ),
        (
            "SubjectSearch",
            object(
                "AuthZEN §8.4: subject.id is absent.",
                &["subject", "action", "resource"],
                &[
                    ("subject", typed("The type searched.", false)),
                    ("action", action()),
                    ("resource", schema_ref("Resource")),
                    ("context", context()),
                    ("page", page_request()),
                ],
            ),
        ),
        (
            "ResourceSearch",
            object(
                "AuthZEN §8.5: resource.id is absent.",
                &["subject", "action", "resource"],
                &[
                    ("subject", schema_ref("Subject")),
                    ("action", action()),
                    ("resource", typed("The type searched.", false)),
                    ("context", context()),
                    ("page", page_request()),
                ],
            ),
        ),
        (
            "ActionSearch",
            object(
                "AuthZEN §8.6.",
                &["subject", "resource"],
                &[
                    ("subject", schema_ref("Subject")),
                    ("resource", schema_ref("Resource")),
                    ("context", context()),
                    ("page", page_request()),
                ],
            ),
        ),
        (
            "EntitySearchResponse",
            object(
                "",
                &["results"],
                &[("results", json!({ "type": "array", "items": typed_id() })), ("page", schema_ref("PageResponse"))],
            ),
        ),
        (
            "ActionSearchResponse",
            object(
                "",
                &["results"],
                &[
                    ("results", json!({ "type": "array", "items": object("", &["name"], &[("name", string())]) })),
                    ("page", schema_ref("PageResponse")),
                ],
            ),
        ),
        (
            "PageResponse",
            object(
                "Present when the request had a page, or the answer was cut short.",
                &["next_token"],
                &[("next_token", text("Pass as page.token for the next page; empty on the last page."))],
            ),
        ),
        (
            "Signal",
            object(
                "An identity signal.",
                &["event_id", "occurred_at", "subject", "attributes"],
                &[
                    (
                        "event_id",
                        json!({ "type": "string", "minLength": 1, "maxLength": 200, "description": "Applied once per source." }),
                    ),
                    ("occurred_at", time("When it happened at the source, at most 5 minutes ahead")),
                    (
                        "subject",
                        object("", &["id"], &[("type", text("Default: the user type (User).")), ("id", string())]),
                    ),
                    (
                        "attributes",
                        json!({ "type": "object", "minProperties": 1, "description": "Only the source's configured attributes." }),
                    ),
                ],
            ),
        ),
        (
            "SignalResult",
            object(
                "",
                &["status", "event_id"],
                &[
                    ("status", json!({ "enum": ["applied", "stale", "duplicate"] })),
                    ("event_id", string()),
                    (
                        "applied",
                        json!({ "type": "array", "items": { "type": "string" }, "description": "Attributes set." }),
                    ),
                    (
                        "stale",
                        json!({ "type": "array", "items": { "type": "string" }, "description": "Attributes a newer signal already set." }),
                    ),
                    ("sessions_ended", integer("Sessions ended by the risk rule.")),
                ],
            ),
        ),
        (
            "PolicyVersions",
            object(
                "",
                &["versions"],
                &[(
                    "versions",
                    json!({
                        "type": "array",
                        "items": object("", &["version", "digest", "created_at", "active"], &[
                            ("version", integer("")),
                            ("digest", string()),
                            ("source", text("Who published it: admin, config, cli.")),
                            ("comment", json!({ "type": ["string", "null"] })),
                            ("created_at", time("Published")),
                            ("active", boolean("")),
                        ]),
                    }),
                )],
            ),
        ),
        (
            "PolicyDraft",
            object(
                "",
                &["policies"],
                &[
                    ("schema", text("Cedar schema; the active one if omitted.")),
                    ("policies", text("Cedar policies.")),
                    ("comment", text("Kept with the version (publish only).")),
                ],
            ),
        ),
        (
            "PublishResult",
            object(
                "",
                &["version", "unchanged"],
                &[("version", integer("")), ("unchanged", boolean("The same text was already active."))],
            ),
        ),
        (
            "PolicyInfo",
            object(
                "What callers may know about one policy.",
                &["id", "effect", "time_sensitive"],
                &[
                    ("id", text("The @id annotation, or Cedar's policy id.")),
                    ("effect", json!({ "enum": ["permit", "forbid"] })),
                    ("requirement", schema_ref("Requirement")),
                    ("time_sensitive", boolean("Reads the clock (context.now or context.auth_age).")),
                ],
            ),
        ),
        (
            "Requirement",
            object(
                "What would make a deny an allow (step-up annotations).",
                &[],
                &[
                    ("acr_values", text("The authentication context needed (RFC 9470).")),
                    ("max_age", integer("At most this many seconds since authentication.")),
                    ("required_verification", text("The verification level needed.")),
                ],
            ),
        ),
        ("ActivePolicies", {
            let mut props = schema_and_policies();
            props.push(("policy_ids", json!({ "type": "array", "items": schema_ref("PolicyInfo") })));
            props.push(("actions", strings()));
            object("", &["version", "schema", "policies"], &props)
        }),
        ("PolicyVersion", {
            let mut props = schema_and_policies();
            props.push(("source", string()));
            props.push(("comment", json!({ "type": ["string", "null"] })));
            props.push(("created_at", time("Published")));
            object("", &["version", "schema", "policies"], &props)
        }),
        (
            "ValidationResult",
            object(
                "",
                &["valid"],
                &[
                    ("valid", boolean("")),
                    (
                        "policies",
                        json!({ "type": "array", "items": schema_ref("PolicyInfo"), "description": "When valid." }),
                    ),
                    ("actions", strings()),
                    ("error", text("Cedar's message, when invalid.")),
                ],
            ),
        ),
        (
            "PolicyTest",
            object(
                "",
                &["cases"],
                &[
                    ("schema", text("With policies: the draft's schema (the active one if omitted).")),
                    ("policies", text("A draft; the active set if omitted.")),
                    (
                        "cases",
                        json!({
                            "type": "array",
                            "maxItems": 1000,
                            "items": object("", &["request"], &[
                                ("request", schema_ref("EvaluationRequest")),
                                ("expected", boolean("The decision expected; omitted: any.")),
                            ]),
                        }),
                    ),
                ],
            ),
        ),
        (
            "PolicyTestResult",
            object(
                "",
                &["failed", "results"],
                &[
                    ("failed", integer("Cases whose decision differs from the expectation.")),
                    (
                        "results",
                        json!({
                            "type": "array",
                            "items": object("", &["decision", "pass"], &[
                                ("decision", boolean("")),
                                ("expected", json!({ "type": ["boolean", "null"] })),
                                ("pass", boolean("")),
                                ("context", json!({ "type": ["object", "null"], "description": "The explanation." })),
                            ]),
                        }),
                    ),
                ],
            ),
        ),
        (
            "Entity",
            object(
                "",
                &["type", "id", "attributes", "parents", "updated_at"],
                &[
                    ("type", string()),
                    ("id", string()),
                    ("attributes", json!({ "type": "object" })),
                    ("parents", json!({ "type": "array", "items": typed_id() })),
                    ("updated_at", time("Last change")),
                ],
            ),
        ),
        (
            "EntityBody",
            object(
                "",
                &[],
                &[
                    ("attributes", json!({ "type": "object", "description": "Values Cedar can hold." })),
                    (
                        "parents",
                        json!({ "type": "array", "items": typed_id(), "description": "Roles, groups, folders." }),
                    ),
                ],
            ),
        ),
        (
            "EntityPatch",
            object(
                "",
                &["attributes"],
                &[("attributes", json!({ "type": "object", "description": "Attributes to set; null removes one." }))],
            ),
        ),
        (
            "CapabilityRequest",
            object(
                "",
                &["subject", "action", "resource", "expires_in"],
                &[
                    ("subject", typed_id()),
                    ("action", string()),
                    (
                        "resource",
                        object(
                            "`id` `*`: every resource of the type.",
                            &["type", "id"],
                            &[("type", string()), ("id", string())],
                        ),
                    ),
                    (
                        "expires_in",
                        json!({ "type": "integer", "minimum": 1, "maximum": 31_622_400, "description": "Seconds from now (at most 366 days)." }),
                    ),
                    ("note", string()),
                ],
            ),
        ),
        (
            "Capability",
            object(
                "",
                &["id", "subject", "action", "resource", "expires_at", "created_at"],
                &[
                    ("id", string()),
                    ("subject", typed_id()),
                    ("action", string()),
                    ("resource", typed_id()),
                    ("expires_at", time("Expiry")),
                    ("created_at", time("Granted")),
                    ("note", json!({ "type": ["string", "null"] })),
                ],
            ),
        ),
        (
            "CapabilityList",
            object(
                "",
                &["capabilities"],
                &[("capabilities", json!({ "type": "array", "items": schema_ref("Capability") }))],
            ),
        ),
    ]
}
