//! Discovery, the OAuth 2.0 / OpenID Connect endpoints and the sign-in
//! pages (routes/discovery.rs, jwks.rs, authorize.rs, token.rs with
//! grants/, revoke.rs, introspect.rs, userinfo.rs, end_session.rs,
//! revocations.rs, login.rs, consent.rs, mfa.rs, signup.rs).

use serde_json::{Value, json};

use super::Context;
use super::spec::*;

const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

/// The authorization request's parameters (OIDC Core §3.1.2.1, RFC 7636,
/// RFC 8707): a GET's query, or a POST's form. (name, description, required)
const AUTHORIZE_PARAMS: &[(&str, &str, bool)] = &[
    ("response_type", "Only `code` (no implicit or hybrid flows).", true),
    ("client_id", "The registered client.", true),
    ("redirect_uri", "Exactly as registered; may be omitted if the client has exactly one.", false),
    ("scope", "Space-separated scopes the client may ask for; `openid` for an ID token.", false),
    ("state", "Returned unchanged with the response (at most 2048 characters).", false),
    ("nonce", "Copied into the ID token.", false),
    ("code_challenge", "PKCE S256 challenge: 43 base64url characters. Required for public clients.", false),
    ("code_challenge_method", "`S256` (plain is refused).", false),
    ("response_mode", "`query` (default) or `form_post`.", false),
    ("prompt", "`none`, `login`, `consent` or `select_account` (space-separated; `none` alone).", false),
    ("max_age", "Maximum age of the authentication in seconds; 0 always asks to sign in again.", false),
    ("login_hint", "Pre-fills the username on the login page.", false),
    ("acr_values", "`urn:latchkey:acr:mfa` asks for two-step verification (step-up, RFC 9470).", false),
    ("resource", "The API (RFC 8707 resource indicator) the access token is for; one per request.", false),
];

/// RP-initiated logout's parameters. (name, description)
const LOGOUT_PARAMS: &[(&str, &str)] = &[
    ("id_token_hint", "An ID token this server issued: names the session and the client."),
    ("client_id", "The client asking; must match the hint's audience if both are sent."),
    ("post_logout_redirect_uri", "Where to go afterwards; followed only if registered for the client."),
    ("state", "Appended to the post-logout redirect."),
];

pub fn operations(ctx: &Context) -> Vec<Operation> {
    let p = &ctx.issuer_path;
    let authorize_query = AUTHORIZE_PARAMS.iter().map(|(name, description, required)| {
        let p = query(name, *description);
        if *required { p.required() } else { p }
    });
    let logout_query = LOGOUT_PARAMS.iter().map(|(name, description)| query(name, *description));
    let tx = || query("tx", "The parked authorization request (from the redirect to this page).").required();
    let mut ops = vec![
        // ---- discovery -------------------------------------------------------------------
        get("/.well-known/openid-configuration", "openidConfiguration", Tag::Discovery, "OpenID Provider metadata")
            .describe(
                "OpenID Connect Discovery 1.0 §4: the issuer followed by /.well-known/openid-configuration. \
                 Advertises exactly what this server implements. Readable cross-origin; cacheable for 5 minutes.",
            )
            .reply_json(200, "The metadata.", "ProviderMetadata"),
        get(
            format!("/.well-known/oauth-authorization-server{p}"),
            "authorizationServerMetadata",
            Tag::Discovery,
            "Authorization server metadata (RFC 8414)",
        )
        .at_root()
        .describe(
            "RFC 8414 §3.1: /.well-known/oauth-authorization-server with the issuer's path inserted after it. \
             The same document as the OpenID Provider metadata.",
        )
        .reply_json(200, "The metadata.", "ProviderMetadata"),
        get("/jwks", "jwks", Tag::Discovery, "Public signing keys (JWKS)")
            .describe(
                "RFC 7517 §5: every published public key, each with kid, alg and use. Keys are published \
                 before they sign, and the cache lifetime is shorter than that, so a verifier that honours \
                 Cache-Control always holds a key before the first token signed with it.",
            )
            .reply_json(200, "The key set.", "Jwks"),
        // ---- the authorization endpoint and RP-initiated logout ---------------------------
        get("/authorize", "authorize", Tag::OAuth, "Start an authorization request")
            .describe(
                "RFC 6749 §3.1, OIDC Core §3.1.2. A valid request sends the browser to the login page (or, \
                 with a live session, straight back with a code). Errors are redirected to the client with \
                 error, error_description, state and iss (RFC 9207), except when the client or redirect_uri \
                 cannot be trusted: then an error page.",
            )
            .params(authorize_query)
            .redirect(
                "To the login page, or to the redirect_uri with `code`, `state` and `iss` (or `error`); \
                 response_mode=form_post answers 200 with an auto-submitting form instead.",
            )
            .reply_html(200, "A form_post response (an HTML form posting the result to the client).")
            .reply_html(400, "An error page: unknown client_id, or a redirect_uri that is not registered.")
            .errors(&[429]),
        post("/authorize", "authorizePost", Tag::OAuth, "Start an authorization request (form)")
            .describe("The same request as GET /authorize, with the parameters in a form body (OIDC Core §3.1.2.1).")
            .form("AuthorizationRequest")
            .redirect("To the login page, or to the redirect_uri with the result.")
            .reply_html(200, "A form_post response.")
            .reply_html(400, "An error page: not a form, unknown client, or unregistered redirect_uri.")
            .errors(&[429]),
        get("/logout", "endSession", Tag::OAuth, "RP-initiated logout")
            .describe(
                "OpenID Connect RP-Initiated Logout 1.0. Without an id_token_hint naming the current session \
                 the user confirms first. Ending the session revokes its grants and sends back-channel logout \
                 tokens to the clients that registered for them.",
            )
            .security(Security::OptionalSession)
            .params(logout_query)
            .redirect("To post_logout_redirect_uri (with state), when it is registered for the client.")
            .reply_html(200, "A confirmation page, or the signed-out page.")
            .reply_html(400, "An error page: a hint this server did not issue, or a repeated parameter."),
        post("/logout", "endSessionPost", Tag::OAuth, "RP-initiated logout (form)")
            .describe(
                "The logout request as a form; also the confirmation page's submission (confirm=yes with the \
                 page's CSRF value).",
            )
            .security(Security::OptionalSession)
            .form("LogoutForm")
            .redirect("To post_logout_redirect_uri (with state), when it is registered for the client.")
            .reply_html(200, "A confirmation page, or the signed-out page.")
            .reply_html(400, "An error page."),
        // ---- back channel ---------------------------------------------------------------
        post("/token", "token", Tag::OAuth, "Token endpoint")
            .describe(format!(
                "RFC 6749 §3.2. Grants: `authorization_code` (with PKCE `code_verifier`), `refresh_token` \
                 (rotated on every use; reuse of a spent one revokes the grant), `client_credentials`, and \
                 `{TOKEN_EXCHANGE}` (RFC 8693, with `act` chains). Parameters only in the form body, never in \
                 the query string, none repeated. Any origin may call it (CORS). Rate-limited per client and \
                 per address (429 with Retry-After)."
            ))
            .security(Security::Client)
            .form("TokenRequest")
            .reply_json(200, "Tokens (Cache-Control: no-store).", "TokenResponse")
            .errors(&[400, 401, 429, 503]),
        options("/token", "tokenPreflight", Tag::OAuth, "CORS preflight for the token endpoint")
            .describe("Any origin may POST with Authorization and Content-Type headers.")
            .reply(204, "Access-Control-Allow-Methods, -Headers and -Max-Age."),
        post("/revoke", "revoke", Tag::OAuth, "Token revocation")
            .describe(
                "RFC 7009. A refresh token revokes its whole grant; an access token is denied by jti until it \
                 expires. Only the client a token was issued to can revoke it; any other token, unknown or \
                 already invalid, also gets 200 and changes nothing.",
            )
            .security(Security::Client)
            .form("RevocationRequest")
            .reply(200, "Revoked, or nothing to revoke (the endpoint reveals nothing).")
            .errors(&[400, 401]),
        options("/revoke", "revokePreflight", Tag::OAuth, "CORS preflight for the revocation endpoint")
            .reply(204, "Access-Control-Allow-Methods, -Headers and -Max-Age."),
        post("/introspect", "introspect", Tag::OAuth, "Token introspection")
            .describe(
                "RFC 7662, for confidential clients (public ones get 401). A client learns about the tokens \
                 issued to it; an API's resource-server client (introspection_clients) about access tokens \
                 for that API. Everything else, and every token not valid now, is {\"active\": false}.",
            )
            .security(Security::Client)
            .form("IntrospectionRequest")
            .reply_json(200, "The token's state (Cache-Control: no-store).", "IntrospectionResponse")
            .errors(&[400, 401, 503]),
        get("/userinfo", "userinfo", Tag::OAuth, "UserInfo")
            .describe(
                "OIDC Core §5.3: the user's claims by scope (profile: preferred_username, name, updated_at; \
                 email: email, email_verified). The token goes in the Authorization header, never the query \
                 string; its session must still be alive. Any origin may call it (CORS).",
            )
            .security(Security::UserToken)
            .reply_json(200, "The claims.", "UserInfo")
            .errors(&[400, 401, 403, 503]),
        post("/userinfo", "userinfoPost", Tag::OAuth, "UserInfo (POST)")
            .describe("As GET /userinfo (OIDC Core §5.3.1 allows both).")
            .security(Security::UserToken)
            .reply_json(200, "The claims.", "UserInfo")
            .errors(&[400, 401, 403, 503]),
        options("/userinfo", "userinfoPreflight", Tag::OAuth, "CORS preflight for UserInfo")
            .reply(204, "Access-Control-Allow-Methods, -Headers and -Max-Age."),
        get("/revocations", "revocationFeed", Tag::OAuth, "Revocation feed for resource servers")
            .describe(
                "What was revoked, for resource servers that verify JWTs locally. Without `after`: a snapshot \
                 of every revoked token id and ended session that has not expired yet, and a cursor. With \
                 `after`: what changed since, at most `limit` items, `more` when a next page waits. A cursor \
                 older than the kept history or ahead of it answers `reset: true` and a snapshot. Only an \
                 API's resource-server client (introspection_clients) may read it, with HTTP Basic.",
            )
            .security(Security::ClientSecretBasic)
            .param(query("after", "The cursor of the previous answer."))
            .param(
                query("limit", "Items per answer (default 500, at most 1000).")
                    .schema(json!({ "type": "integer", "minimum": 1, "maximum": 1000, "default": 500 })),
            )
            .param(
                query(
                    "reread",
                    "Also return again the changes in this many ids below `after` (at most 256): \
                     transactions commit in any order.",
                )
                .schema(json!({ "type": "integer", "minimum": 0, "maximum": 256, "default": 0 })),
            )
            .reply_json(200, "The revocations.", "RevocationFeed")
            .errors(&[400, 401, 403]),
        // ---- sign-in pages --------------------------------------------------------------
        get("/login", "loginPage", Tag::SignIn, "Login page")
            .param(tx())
            .reply_html(200, "The username and password form.")
            .reply_html(400, "The request expired or was already used."),
        post("/login", "login", Tag::SignIn, "Submit username and password")
            .describe(
                "Failed sign-ins are throttled per account and per address with growing back-off (429 with \
                 Retry-After). A user with a second factor continues to the one-time-code page.",
            )
            .form("LoginForm")
            .redirect("Onwards: consent, the code page, or back to the client with a code.")
            .reply_html(200, "The form again, with an error (wrong username or password).")
            .reply_html(400, "The request expired or was already used.")
            .reply_html(403, "The form's CSRF value does not match.")
            .reply_html(429, "Too many failed sign-ins: the form with the time to wait (Retry-After)."),
        get("/consent", "consentPage", Tag::SignIn, "Consent page")
            .security(Security::Session)
            .param(tx())
            .reply_html(200, "What the client asks for, with Allow and Deny.")
            .reply_html(400, "The request expired, or no session."),
        post("/consent", "consent", Tag::SignIn, "Allow or deny")
            .describe("Consent is remembered per user and client; a deny returns access_denied to the client.")
            .security(Security::Session)
            .form("ConsentForm")
            .redirect("Back to the client with a code, or with error=access_denied.")
            .reply_html(200, "A form_post response.")
            .reply_html(400, "The request expired, or no session.")
            .reply_html(403, "The form's CSRF value does not match."),
        get("/login/otp", "otpPage", Tag::SignIn, "Two-step verification page")
            .describe("Between the password and the code the browser holds a short-lived sealed cookie, not a session.")
            .param(tx())
            .reply_html(200, "The one-time-code form.")
            .reply_html(400, "The request expired."),
        post("/login/otp", "otp", Tag::SignIn, "Submit a one-time code")
            .describe(
                "TOTP (RFC 6238); each code is accepted once and attempts are throttled. Success starts a new \
                 session with acr urn:latchkey:acr:mfa and amr [pwd, otp, mfa].",
            )
            .form("OtpForm")
            .redirect("Onwards: consent, or back to the client with a code.")
            .reply_html(200, "The form again, with an error.")
            .reply_html(400, "The request expired.")
            .reply_html(403, "The form's CSRF value does not match."),
        get("/signup", "signupPage", Tag::SignIn, "Sign-up page")
            .describe("Only with [signup] enabled = true (off by default); reached from the login page.")
            .param(tx())
            .reply_html(200, "The sign-up form.")
            .reply_html(400, "The request expired.")
            .reply_html(404, "Sign-up is off."),
        post("/signup", "signup", Tag::SignIn, "Create an account")
            .describe(
                "The new account is signed in and the authorization request continues. Throttled per address \
                 (every attempt counts).",
            )
            .form("SignupForm")
            .redirect("Onwards: consent, or back to the client with a code.")
            .reply_html(200, "The form again, with an error.")
            .reply_html(400, "The request expired.")
            .reply_html(403, "The form's CSRF value does not match.")
            .reply_html(404, "Sign-up is off.")
            .reply_html(429, "Too many attempts from this address."),
        get("/account/totp", "totpEnrolPage", Tag::SignIn, "Two-step verification set-up")
            .security(Security::Session)
            .reply_html(200, "Confirm the password to set up, or: two-step verification is on.")
            .reply_html(401, "Not signed in."),
        post("/account/totp", "totpEnrol", Tag::SignIn, "Set up two-step verification")
            .describe(
                "Two steps: `step=password` (the password again) shows the secret and its otpauth URI; \
                 `step=confirm` with a code from the app turns the factor on.",
            )
            .security(Security::Session)
            .form("TotpEnrolForm")
            .reply_html(200, "The next step, or the result.")
            .reply_html(400, "The form could not be read.")
            .reply_html(401, "Not signed in.")
            .reply_html(403, "The form's CSRF value does not match.")
            .reply_html(429, "Too many wrong passwords."),
    ];
    if !p.is_empty() {
        ops.push(
            get(
                format!("/.well-known/openid-configuration{p}"),
                "openidConfigurationInserted",
                Tag::Discovery,
                "OpenID Provider metadata by path insertion",
            )
            .at_root()
            .describe("RFC 8414 §5 lets clients find the OpenID metadata by path insertion too.")
            .reply_json(200, "The metadata.", "ProviderMetadata"),
        );
    }
    ops
}

fn client_credentials() -> Vec<(&'static str, Value)> {
    vec![
        ("client_id", text("The client (client_secret_post, private_key_jwt, or a public client).")),
        ("client_secret", text("client_secret_post: the client's secret.")),
        ("client_assertion", text("private_key_jwt (RFC 7523): a JWT signed with the client's key.")),
        (
            "client_assertion_type",
            json!({ "const": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "description": "With client_assertion." }),
        ),
    ]
}

fn with_credentials(mut props: Vec<(&'static str, Value)>) -> Vec<(&'static str, Value)> {
    props.extend(client_credentials());
    props
}

pub fn schemas(_ctx: &Context) -> Vec<(&'static str, Value)> {
    let authorize_props: Vec<(&str, Value)> =
        AUTHORIZE_PARAMS.iter().map(|(name, description, _)| (*name, text(description))).collect();
    let authorize_required: Vec<&str> =
        AUTHORIZE_PARAMS.iter().filter(|(_, _, required)| *required).map(|(name, _, _)| *name).collect();
    let mut logout_props: Vec<(&str, Value)> =
        LOGOUT_PARAMS.iter().map(|(name, description)| (*name, text(description))).collect();
    logout_props.push(("confirm", json!({ "const": "yes", "description": "Sent by the confirmation page." })));
    logout_props.push(("csrf", text("The confirmation page's CSRF value.")));
    let csrf = || ("csrf", text("The form's CSRF value (matches the latchkey_csrf cookie)."));
    let tx = || ("tx", text("The parked authorization request."));
    let strings = || json!({ "type": "array", "items": { "type": "string" } });
    vec![
        ("AuthorizationRequest", object("The authorization request.", &authorize_required, &authorize_props)),
        ("LogoutForm", object("RP-initiated logout.", &[], &logout_props)),
        (
            "TokenRequest",
            object(
                "A token request. Which parameters apply depends on grant_type; client credentials go in the \
                 Authorization header (client_secret_basic) or here.",
                &["grant_type"],
                &with_credentials(vec![
                    (
                        "grant_type",
                        json!({
                            "enum": ["authorization_code", "refresh_token", "client_credentials", TOKEN_EXCHANGE],
                            "description": "The grant; the other parameters depend on it.",
                        }),
                    ),
                    ("code", text("authorization_code: the code from the redirect.")),
                    ("redirect_uri", text("authorization_code: as sent in the authorization request.")),
                    ("code_verifier", text("authorization_code: the PKCE verifier.")),
                    ("refresh_token", text("refresh_token: the current refresh token.")),
                    ("scope", text("Space-separated; for refresh and exchange, at most what was granted.")),
                    ("resource", text("RFC 8707: the API the token is for (one).")),
                    ("audience", text("Token exchange: the API's identifier, like resource.")),
                    ("subject_token", text("Token exchange: the token of the subject.")),
                    (
                        "subject_token_type",
                        json!({
                            "description": "Token exchange: what subject_token is.",
                            "enum": [
                                "urn:ietf:params:oauth:token-type:access_token",
                                "urn:ietf:params:oauth:token-type:jwt",
                                "urn:ietf:params:oauth:token-type:id_token",
                            ],
                        }),
                    ),
                    ("actor_token", text("Token exchange: who acts for the subject.")),
                    ("actor_token_type", text("Token exchange: required with actor_token.")),
                    (
                        "requested_token_type",
                        json!({
                            "description": "Token exchange: an access token (the default) either way.",
                            "enum": ["urn:ietf:params:oauth:token-type:access_token", "urn:ietf:params:oauth:token-type:jwt"],
                        }),
                    ),
                ]),
            ),
        ),
        (
            "TokenResponse",
            object(
                "RFC 6749 §5.1.",
                &["access_token", "token_type", "expires_in"],
                &[
                    ("access_token", text("An RFC 9068 JWT access token.")),
                    ("token_type", json!({ "const": "Bearer" })),
                    ("expires_in", integer("Seconds until the access token expires.")),
                    ("scope", text("The scopes granted (may be fewer than asked).")),
                    ("refresh_token", text("With offline_access, for clients allowed the refresh grant.")),
                    ("id_token", text("With the openid scope.")),
                    ("issued_token_type", text("Token exchange (RFC 8693 §2.2.1).")),
                ],
            ),
        ),
        (
            "RevocationRequest",
            object(
                "RFC 7009 §2.1.",
                &["token"],
                &with_credentials(vec![
                    ("token", text("An access or refresh token.")),
                    (
                        "token_type_hint",
                        json!({ "enum": ["access_token", "refresh_token"], "description": "Only orders the look-ups." }),
                    ),
                ]),
            ),
        ),
        (
            "IntrospectionRequest",
            object(
                "RFC 7662 §2.1.",
                &["token"],
                &with_credentials(vec![
                    ("token", text("An access or refresh token.")),
                    ("token_type_hint", json!({ "enum": ["access_token", "refresh_token"] })),
                ]),
            ),
        ),
        (
            "IntrospectionResponse",
            object(
                "RFC 7662 §2.2: just {\"active\": false} unless active.",
                &["active"],
                &[
                    ("active", boolean("")),
                    ("token_type", json!({ "enum": ["Bearer", "refresh_token"] })),
                    ("client_id", string()),
                    ("sub", string()),
                    ("aud", json!({ "type": ["string", "array"], "items": { "type": "string" } })),
                    ("iss", string()),
                    ("exp", time("Expiry")),
                    ("iat", time("Issued at")),
                    ("jti", string()),
                    ("scope", string()),
                    ("sid", text("The session the token belongs to.")),
                    ("auth_time", time("When the user authenticated")),
                    ("acr", string()),
                    ("amr", strings()),
                    ("act", json!({ "type": "object", "description": "RFC 8693 §4.1: who acts for the subject." })),
                ],
            ),
        ),
        (
            "UserInfo",
            object(
                "OIDC Core §5.3.2.",
                &["sub"],
                &[
                    ("sub", string()),
                    ("preferred_username", text("With the profile scope.")),
                    ("name", text("With the profile scope, when known.")),
                    ("updated_at", time("With the profile scope")),
                    ("email", text("With the email scope, when known.")),
                    ("email_verified", boolean("")),
                ],
            ),
        ),
        (
            "RevocationFeed",
            object(
                "Revoked token ids and ended sessions; a resource server denies tokens that carry them until \
                 expires_at.",
                &["revoked", "cursor", "more", "reset"],
                &[
                    (
                        "revoked",
                        json!({
                            "type": "array",
                            "items": object("", &["type", "expires_at"], &[
                                ("type", json!({ "enum": ["token", "session"] })),
                                ("jti", text("For type token.")),
                                ("sid", text("For type session.")),
                                ("expires_at", time("Until when it matters")),
                            ]),
                        }),
                    ),
                    ("cursor", text("Pass as `after` next time.")),
                    ("more", boolean("Another page is waiting.")),
                    ("reset", boolean("The cursor was unusable: this is a snapshot.")),
                ],
            ),
        ),
        (
            "Jwks",
            object(
                "RFC 7517 §5.",
                &["keys"],
                &[(
                    "keys",
                    json!({
                        "type": "array",
                        "items": object("A public key (RFC 7517 §4).", &["kty", "kid", "alg", "use"], &[
                            ("kty", json!({ "enum": ["EC", "RSA", "OKP"] })),
                            ("kid", text("RFC 7638 thumbprint.")),
                            ("alg", json!({ "enum": ["ES256", "RS256", "PS256", "EdDSA"] })),
                            ("use", json!({ "const": "sig" })),
                            ("crv", string()),
                            ("x", string()),
                            ("y", string()),
                            ("n", string()),
                            ("e", string()),
                        ]),
                    }),
                )],
            ),
        ),
        ("ProviderMetadata", provider_metadata()),
        (
            "LoginForm",
            object(
                "",
                &["tx", "csrf", "username", "password"],
                &[
                    tx(),
                    csrf(),
                    ("username", string()),
                    ("password", json!({ "type": "string", "format": "password" })),
                ],
            ),
        ),
        (
            "ConsentForm",
            object(
                "",
                &["tx", "csrf", "decision"],
                &[tx(), csrf(), ("decision", json!({ "enum": ["approve", "deny"] }))],
            ),
        ),
        ("OtpForm", object("", &["tx", "csrf", "code"], &[tx(), csrf(), ("code", text("Six digits from the app."))])),
        (
            "SignupForm",
            object(
                "",
                &["tx", "csrf", "username", "password"],
                &[
                    tx(),
                    csrf(),
                    ("username", string()),
                    ("email", json!({ "type": "string", "format": "email" })),
                    ("password", json!({ "type": "string", "format": "password" })),
                ],
            ),
        ),
        (
            "TotpEnrolForm",
            object(
                "",
                &["csrf", "step"],
                &[
                    csrf(),
                    ("step", json!({ "enum": ["password", "confirm"] })),
                    ("password", json!({ "type": "string", "format": "password", "description": "step=password." })),
                    ("code", text("step=confirm: a code from the app.")),
                ],
            ),
        ),
    ]
}

/// Every field `routes::discovery::metadata` writes (the integration test
/// holds a live answer to this list).
fn provider_metadata() -> Value {
    let strings = || json!({ "type": "array", "items": { "type": "string" } });
    let url = |d: &str| described(json!({ "type": "string", "format": "uri" }), d);
    let flag = || boolean("");
    let mut required = vec![];
    let mut props: Vec<(&str, Value)> = vec![
        ("issuer", url("The issuer identifier.")),
        ("authorization_endpoint", url("")),
        ("token_endpoint", url("")),
        ("userinfo_endpoint", url("")),
        ("revocation_endpoint", url("")),
        ("introspection_endpoint", url("")),
        ("end_session_endpoint", url("")),
        ("jwks_uri", url("")),
        ("service_documentation", url("")),
    ];
    required.extend(props.iter().map(|(k, _)| *k));
    for name in [
        "response_types_supported",
        "response_modes_supported",
        "grant_types_supported",
        "subject_types_supported",
        "id_token_signing_alg_values_supported",
        "token_endpoint_auth_methods_supported",
        "revocation_endpoint_auth_methods_supported",
        "introspection_endpoint_auth_methods_supported",
        "token_endpoint_auth_signing_alg_values_supported",
        "revocation_endpoint_auth_signing_alg_values_supported",
        "introspection_endpoint_auth_signing_alg_values_supported",
        "code_challenge_methods_supported",
        "scopes_supported",
        "claims_supported",
        "prompt_values_supported",
        "acr_values_supported",
    ] {
        props.push((name, strings()));
        required.push(name);
    }
    for name in [
        "authorization_response_iss_parameter_supported",
        "request_parameter_supported",
        "request_uri_parameter_supported",
        "claims_parameter_supported",
        "backchannel_logout_supported",
        "backchannel_logout_session_supported",
    ] {
        props.push((name, flag()));
        required.push(name);
    }
    object("OpenID Connect Discovery 1.0 §3 and RFC 8414 §2.", &required, &props)
}
