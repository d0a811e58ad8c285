//! The developer portal's pages (portal/) and the `--dev` sandbox relying
//! party and identity-verification provider (routes/sandbox.rs,
//! routes/sandbox_idv.rs). These answer HTML for people, so they are
//! described briefly: what the page is and what its forms take.

use serde_json::{Value, json};

use super::Context;
use super::spec::*;
use crate::routes::{sandbox, sandbox_idv};

pub fn operations(_ctx: &Context) -> Vec<Operation> {
    let page = |path: &str, id: &'static str, summary: &'static str| {
        get(format!("/portal{path}"), id, Tag::Portal, summary)
            .security(Security::OptionalSession)
            .reply_html(200, "The page.")
    };
    let sandbox_form = |path: &str, id: &'static str, summary: &'static str| {
        post(format!("/portal/sandbox{path}"), id, Tag::Portal, summary)
            .security(Security::Session)
            .redirect("Not signed in: to the portal's sign-in.")
            .reply_html(403, "The form's CSRF value does not match; nothing changed.")
            .reply_html(404, "The sandbox is off ([portal] sandbox = false), or no such item of yours.")
    };
    let cb = [
        query("code", "The authorization code."),
        query("state", "Must match the value remembered in this browser's cookie."),
        query("error", "The authorization error, if any."),
        query("error_description", ""),
    ];
    vec![
        page("", "portalHome", "Start page").describe(
            "Quickstarts for a web app, a single-page app, a service and an API, filled in with your clients.",
        ),
        get("/portal/assets/{name}", "portalAsset", Tag::Portal, "A portal asset")
            .describe("The portal's stylesheet and scripts, compiled into the binary (no network needed).")
            .param(path("name", "The file name, e.g. portal.css or reference.js."))
            .reply_as(200, "The file.", &["text/css", "text/javascript"], string())
            .reply_with(404, "No such asset.", "text/plain", string()),
        get("/portal/openapi.json", "openapi", Tag::Portal, "This API description")
            .describe(
                "The OpenAPI 3.1 description of every endpoint of this server, generated from the same table \
                 the tests hold against the router. Rendered at /portal/reference.",
            )
            .reply_with(200, "The OpenAPI document.", JSON, json!({ "type": "object" })),
        get("/portal/signin", "portalSignin", Tag::Portal, "Sign in to the portal")
            .describe(
                "The portal is an ordinary OpenID Connect client of this server (latchkey-portal: public, PKCE): \
                 this starts its authorization request.",
            )
            .param(query("next", "A path inside the portal to return to."))
            .redirect("To /authorize."),
        get("/portal/callback", "portalCallback", Tag::Portal, "The portal's redirect URI")
            .describe("Checks state against this browser's cookie and redeems the code (PKCE).")
            .params(cb.clone())
            .redirect("Back into the portal, signed in.")
            .reply_html(400, "An error page: an authorization error, no code, or a state mismatch."),
        post("/portal/signout", "portalSignout", Tag::Portal, "Sign out")
            .describe("Through RP-initiated logout, which ends the session for every client of this browser.")
            .redirect("To /logout, and from there back to the portal."),
        get("/portal/signout", "portalSignoutGet", Tag::Portal, "Sign out (link)")
            .redirect("To /logout, and from there back to the portal."),
        page("/sandbox", "portalSandbox", "Sandbox credentials")
            .describe("A signed-in developer's own sandbox clients and test users (fenced scopes, audiences, quota)."),
        sandbox_form("/clients", "createSandboxClient", "Create a sandbox client")
            .form("SandboxClientForm")
            .reply_html(201, "Created; the page shows the client id (and the secret, once).")
            .reply_html(400, "Refused by the sandbox fence.")
            .reply_html(409, "The quota is reached."),
        sandbox_form("/clients/{client_id}/delete", "deleteSandboxClient", "Delete a sandbox client")
            .param(path("client_id", "One of your sandbox clients."))
            .form("CsrfForm")
            .reply_html(200, "Deleted."),
        sandbox_form("/users", "createSandboxUser", "Create a test user")
            .form("CsrfForm")
            .reply_html(201, "Created; the page shows the username and password (once).")
            .reply_html(409, "The quota is reached."),
        sandbox_form("/users/{user_id}/delete", "deleteSandboxUser", "Delete a test user")
            .param(path("user_id", "One of your test users."))
            .form("CsrfForm")
            .reply_html(200, "Deleted."),
        get("/favicon.ico", "favicon", Tag::Portal, "No icon")
            .at_root()
            .describe("Browsers ask for it whatever a page says: an empty answer rather than a 404.")
            .reply(204, "Nothing (cacheable for a day)."),
        page("/flows", "portalFlows", "Flow runner")
            .describe("Runs OAuth flows from the browser against this server and shows each request and response."),
        page("/jwt", "portalJwt", "JWT decoder and verifier")
            .describe("Decodes and verifies a token in the browser; the token is never sent anywhere."),
        page("/tools", "portalTools", "Utilities").describe("Small helpers for developers, run in the browser."),
        page("/playground", "portalPlayground", "Policy playground")
            .describe("Tries Cedar policies against AuthZEN requests."),
        page("/reference", "portalReference", "API reference").describe("This description, rendered."),
        page("/catalogue", "portalCatalogue", "Scopes and claims")
            .describe("The scopes this server knows and the claims each releases, from the live configuration."),
        page("/keys", "portalKeys", "Signing keys").describe("The signing keys' timeline: published, active, retired."),
        page("/docs/consent", "portalConsentDoc", "Consent")
            .describe("How consent works here, with the actual settings."),
        page("/docs/policies", "portalPoliciesDoc", "Policies").describe("How authorization policies work here."),
        page("/errors", "errorReference", "Error reference").describe("Every error code, each linking to its page."),
        get("/portal/errors/{code}", "errorCode", Tag::Portal, "One error code")
            .describe("What the code means and what to do; every error's error_uri points here.")
            .security(Security::OptionalSession)
            .param(path("code", "An error code, e.g. invalid_grant."))
            .reply_html(200, "The page.")
            .reply_html(404, "No such code."),
        get("/portal/errors/{code}/{cause}", "errorCause", Tag::Portal, "One cause of an error code")
            .describe("A specific reason behind a code, and the fix; the trace lookup links here.")
            .security(Security::OptionalSession)
            .params([path("code", "An error code."), path("cause", "One of its causes.")])
            .reply_html(200, "The page.")
            .reply_html(404, "No such cause."),
        page("/trace", "portalTrace", "Trace lookup")
            .describe(
                "The server's recorded reason for a refused request, by its trace_id: for the owner of the \
                 request's client, or a portal administrator. Others see nothing, whether the trace exists or not.",
            )
            .param(query("id", "A trace_id (X-Request-Id) from an error response.")),
        // ---- the portal scripts' JSON backend ---------------------------------------------------
        post("/portal/api/token-state", "portalTokenState", Tag::PortalApi, "An access token's server-side state")
            .describe(
                "For the JWT decoder: whether the token is revoked and its session still live, which the token \
                 itself cannot tell. Only for tokens of the developer's own clients, or their own tokens.",
            )
            .security(Security::Session)
            .param(portal_header())
            .json("TokenStateRequest")
            .reply_json(200, "The state.", "TokenState")
            .errors(&[400, 401, 403]),
        get("/portal/api/playground", "playgroundOverview", Tag::PortalApi, "The playground's starting point")
            .describe("The active schema and policies, and the schema's outline for the request form.")
            .security(Security::Session)
            .param(portal_header())
            .reply_json(200, "The active policy set.", "PlaygroundOverview")
            .errors(&[400, 401, 403, 409]),
        post("/portal/api/playground/evaluate", "playgroundEvaluate", Tag::PortalApi, "Evaluate with explanations")
            .describe(
                "One AuthZEN request against the active set, or against draft policies compiled with the active \
                 schema (not stored). A draft that does not compile answers 200 with compile_error. For portal \
                 administrators, and everyone signed in on a --dev server.",
            )
            .security(Security::Session)
            .param(portal_header())
            .json("PlaygroundEvaluation")
            .reply_json(200, "The decision, explained (or the draft's compile error).", "PlaygroundDecision")
            .errors(&[400, 401, 403, 503]),
        post("/portal/api/playground/replay", "playgroundReplay", Tag::PortalApi, "Replay recent decisions")
            .describe(
                "Re-evaluates the audit log's recently sampled decisions (at most 200) against the active set \
                 and a draft, and lists those the draft would change.",
            )
            .security(Security::Session)
            .param(portal_header())
            .json("PlaygroundReplay")
            .reply_json(200, "The decisions the draft changes (or its compile error).", "PlaygroundReplayResult")
            .errors(&[400, 401, 403, 503]),
        // ---- the --dev sandbox --------------------------------------------------------------
        get(sandbox::HOME_PATH, "sandboxHome", Tag::Sandbox, "Sandbox relying party")
            .reply_html(200, "Links to sign in (with or without two-step verification).")
            .reply_html(404, "Not a --dev server."),
        get("/sandbox/start", "sandboxStart", Tag::Sandbox, "Start a sign-in")
            .describe("An authorization request of the sandbox-spa client with fresh state, nonce and PKCE verifier.")
            .param(query("mfa", "Present: ask for two-step verification (acr_values)."))
            .redirect("To /authorize.")
            .reply_html(404, "Not a --dev server."),
        get(sandbox::CALLBACK_PATH, "sandboxCallback", Tag::Sandbox, "Sandbox redirect URI")
            .describe(
                "Redeems the code at the token endpoint, over HTTP as a client would, and shows the tokens' claims.",
            )
            .params(cb)
            .reply_html(200, "The ID and access token claims, or the authorization error.")
            .reply_html(400, "No code, or a state mismatch.")
            .reply_html(404, "Not a --dev server."),
        get(sandbox_idv::PATH, "sandboxVerifyPage", Tag::Sandbox, "Simulated document check")
            .describe("A stand-in identity-verification provider (with [authz] sandbox_idv).")
            .security(Security::Session)
            .reply_html(200, "Pass or fail the check.")
            .reply_html(401, "Not signed in.")
            .reply_html(404, "Not a --dev server, or no sandbox_idv configured."),
        post(sandbox_idv::PATH, "sandboxVerify", Tag::Sandbox, "Report a document check")
            .describe("Posts the outcome to /signals/v1 over HTTP, signed, as source sandbox-idv.")
            .security(Security::Session)
            .form("VerifyForm")
            .reply_html(200, "The new verification level.")
            .reply_html(401, "Not signed in.")
            .reply_html(403, "The form's CSRF value does not match.")
            .reply_html(404, "Not a --dev server, or no sandbox_idv configured."),
    ]
}

/// Every backend call carries it: a cross-site page cannot send a custom
/// header without a CORS preflight, which these paths never grant.
fn portal_header() -> Param {
    header("X-Latchkey-Portal", "Any value; required (CSRF defence beside the session cookie).").required()
}

pub fn schemas(_ctx: &Context) -> Vec<(&'static str, Value)> {
    let csrf = || ("csrf", text("The page's CSRF value (matches the latchkey_csrf cookie)."));
    vec![
        ("CsrfForm", object("", &["csrf"], &[csrf()])),
        (
            "SandboxClientForm",
            object(
                "",
                &["csrf", "name"],
                &[
                    csrf(),
                    ("name", string()),
                    ("kind", json!({ "enum": ["public", "confidential"], "default": "public" })),
                    ("redirect_uris", text("One per line.")),
                    ("scope", text("Repeated, one scope each.")),
                ],
            ),
        ),
        ("TokenStateRequest", object("", &["token"], &[("token", text("An access token of this server."))])),
        (
            "TokenState",
            object(
                "",
                &["active", "revoked"],
                &[
                    ("active", boolean("Neither revoked nor of an ended session.")),
                    ("revoked", boolean("")),
                    (
                        "session",
                        json!({ "enum": ["active", "ended", "none"], "description": "The token's session, if it has one." }),
                    ),
                    ("client_id", string()),
                    ("problem", text("Why the token does not verify (expired, bad signature, …).")),
                ],
            ),
        ),
        (
            "PlaygroundOverview",
            object(
                "",
                &["version", "schema", "policies", "outline", "policy_info"],
                &[
                    ("version", integer("The active version.")),
                    ("schema", string()),
                    ("policies", string()),
                    (
                        "outline",
                        object(
                            "",
                            &["entity_types", "actions"],
                            &[
                                ("entity_types", json!({ "type": "array", "items": { "type": "string" } })),
                                (
                                    "actions",
                                    json!({
                                        "type": "array",
                                        "items": object("", &["name", "principals", "resources"], &[
                                            ("name", string()),
                                            ("principals", json!({ "type": "array", "items": { "type": "string" } })),
                                            ("resources", json!({ "type": "array", "items": { "type": "string" } })),
                                        ]),
                                    }),
                                ),
                            ],
                        ),
                    ),
                    ("policy_info", json!({ "type": "array", "items": schema_ref("PolicyInfo") })),
                ],
            ),
        ),
        (
            "PlaygroundEvaluation",
            object(
                "",
                &["request"],
                &[
                    ("request", schema_ref("EvaluationRequest")),
                    ("policies", text("Draft policies; the active set if omitted or empty.")),
                ],
            ),
        ),
        (
            "PlaygroundDecision",
            object(
                "The decision, or compile_error alone.",
                &[],
                &[
                    ("decision", boolean("")),
                    (
                        "context",
                        described(json!({ "type": ["object", "null"] }), "The explanation and any requirement."),
                    ),
                    ("against", json!({ "enum": ["active", "draft"] })),
                    ("compile_error", text("The draft's compiler message.")),
                ],
            ),
        ),
        ("PlaygroundReplay", object("", &["policies"], &[("policies", text("Draft policies."))])),
        (
            "PlaygroundReplayResult",
            object(
                "The comparison, or compile_error alone.",
                &[],
                &[
                    ("compared", integer("Sampled decisions re-evaluated.")),
                    (
                        "changed",
                        json!({
                            "type": "array",
                            "items": object("", &["subject", "action", "resource", "active", "draft"], &[
                                ("subject", string()),
                                ("action", string()),
                                ("resource", string()),
                                ("recorded", described(json!({ "type": ["boolean", "null"] }), "The decision when sampled.")),
                                ("active", boolean("The active set's decision now.")),
                                ("draft", boolean("The draft's decision.")),
                                ("draft_context", json!({ "type": ["object", "null"] })),
                            ]),
                        }),
                    ),
                    ("compile_error", text("The draft's compiler message.")),
                ],
            ),
        ),
        ("VerifyForm", object("", &["csrf", "outcome"], &[csrf(), ("outcome", json!({ "enum": ["pass", "fail"] }))])),
    ]
}
