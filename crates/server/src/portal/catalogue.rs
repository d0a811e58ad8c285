//! Pages generated from the live configuration: the scopes and claims
//! catalogue, the signing-key timeline, and the consent and policy
//! documentation (which quote the server's actual settings).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use latchkey_domain::UnixTime;
use latchkey_domain::key_lifecycle::KeyState;

use super::layout::{Page, render};
use super::signin::developer;
use crate::error::ApiError;
use crate::pages::escape;
use crate::state::AppState;

/// The OpenID scopes and the user claims each releases (OIDC Core §5.4).
const IDENTITY_SCOPES: &[(&str, &str, &str)] = &[
    (
        "openid",
        "Signs the user in: an ID token with the user's stable identifier.",
        "sub, iss, aud, exp, iat, auth_time, nonce, acr, amr, sid, at_hash",
    ),
    ("profile", "The user's name.", "name, preferred_username"),
    ("email", "The user's email address and whether it was verified.", "email, email_verified"),
    (
        "offline_access",
        "A refresh token, so the app keeps access while the user is away (OIDC Core §11).",
        "(none: a refresh token)",
    ),
];

/// The claims of access tokens (RFC 9068 §2.2, RFC 8693 §4).
const ACCESS_TOKEN_CLAIMS: &[(&str, &str)] = &[
    ("iss", "This server's issuer identifier; compare it exactly."),
    ("sub", "The user's id, or client:<client_id> for a client acting for itself."),
    ("aud", "The API the token is for (the resource indicator, RFC 8707); an API accepts only its own."),
    ("exp / iat / nbf", "Expiry, issue time and not-before, in seconds; verify with a small leeway."),
    ("jti", "The token's unique id: what revocation lists name."),
    ("client_id", "The client the token was issued to."),
    ("scope", "Space-separated scopes granted."),
    ("sid", "The sign-in session; when it ends, tokens carrying it stop being accepted."),
    ("auth_time / acr / amr", "When and how the user authenticated (for step-up: RFC 9470)."),
    ("act", "Who acts for the subject after a token exchange (RFC 8693 §4.1), nested for chains."),
    ("may_act", "Who may exchange this token to act for the subject (RFC 8693 §4.4)."),
];

pub async fn catalogue(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let user = developer(&state, &headers).await?;
    let mut identity = String::new();
    for (scope, what, claims) in IDENTITY_SCOPES {
        identity.push_str(&format!(
            "<tr><th scope=\"row\"><code>{scope}</code></th><td>{what}</td><td><code>{claims}</code></td></tr>"
        ));
    }
    let mut apis = String::new();
    for r in state.store.list_resources().await? {
        let mut scopes = String::new();
        for s in &r.scopes {
            scopes.push_str(&format!(
                "<tr><th scope=\"row\"><code>{}</code></th><td>{}</td></tr>",
                escape(&s.name),
                escape(&s.description)
            ));
        }
        let forwarded = if r.forwarded_claims.is_empty() {
            "none".to_string()
        } else {
            r.forwarded_claims.iter().map(|c| format!("<code>{}</code>", escape(c))).collect::<Vec<_>>().join(", ")
        };
        let sandbox = if state.config.portal.sandbox_audiences.contains(&r.identifier) {
            " <span class=\"badge sandbox\">sandbox</span>"
        } else {
            ""
        };
        apis.push_str(&format!(
            "<section><h3>{name}{sandbox}</h3><p>Audience <code>{id}</code>. Access tokens live {ttl}; signed with {alg}. \
             User claims forwarded into its tokens: {forwarded}.</p>\
             <div class=\"table-wrap\" tabindex=\"0\"><table><caption class=\"visually-hidden\">Scopes of {name}</caption>\
             <thead><tr><th scope=\"col\">Scope</th><th scope=\"col\">Grants</th></tr></thead><tbody>{scopes}</tbody></table></div></section>",
            name = escape(&r.name),
            id = escape(&r.identifier),
            ttl = humantime::format_duration(std::time::Duration::from_secs(
                r.access_token_ttl.unwrap_or(state.config.tokens.access_token_ttl.as_secs())
            )),
            alg = r.signing_alg.map(|a| a.as_str()).unwrap_or("the default algorithm"),
        ));
    }
    if apis.is_empty() {
        apis = "<p>No APIs are registered yet.</p>".into();
    }
    let mut claims = String::new();
    for (name, what) in ACCESS_TOKEN_CLAIMS {
        claims.push_str(&format!("<tr><th scope=\"row\"><code>{name}</code></th><td>{what}</td></tr>"));
    }
    let acr: Vec<String> = [latchkey_domain::id_token::ACR_PASSWORD, latchkey_domain::id_token::ACR_MFA]
        .iter()
        .map(|a| format!("<code>{a}</code>"))
        .collect();
    let body = format!(
        "<h1>Scopes and claims</h1><p>Generated from this server's live configuration.</p>\
         <h2>OpenID Connect scopes</h2><div class=\"table-wrap\" tabindex=\"0\"><table><caption class=\"visually-hidden\">OpenID Connect scopes</caption>\
         <thead><tr><th scope=\"col\">Scope</th><th scope=\"col\">Grants</th><th scope=\"col\">Claims</th></tr></thead><tbody>{identity}</tbody></table></div>\
         <h2>APIs and their scopes</h2>{apis}\
         <h2>Access-token claims</h2><p>Access tokens are JWTs (<code>typ: at+jwt</code>, RFC 9068).</p>\
         <div class=\"table-wrap\" tabindex=\"0\"><table><caption class=\"visually-hidden\">Access-token claims</caption>\
         <thead><tr><th scope=\"col\">Claim</th><th scope=\"col\">Meaning</th></tr></thead><tbody>{claims}</tbody></table></div>\
         <h2>Authentication levels</h2><p><code>acr</code> values: {acr}. Ask for a level with <code>acr_values</code>; \
         an API demands one with an RFC 9470 challenge.</p>",
        acr = acr.join(", "),
    );
    Ok(render(&state, user.as_ref(), Page::new("/catalogue", "Scopes and claims", body)))
}

fn when(t: Option<UnixTime>) -> String {
    match t {
        Some(t) => {
            let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(t.0).unwrap_or(0));
            format!("<time datetime=\"{0}\">{0}</time>", humantime::format_rfc3339_seconds(at))
        }
        None => "·".into(),
    }
}

pub async fn keys(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let user = developer(&state, &headers).await?;
    let now = UnixTime::now();
    let mut rows = String::new();
    let mut keys = state.store.list_keys().await?;
    keys.sort_by_key(|k| std::cmp::Reverse(k.timeline.publish_at));
    for k in keys {
        let t = k.timeline;
        let st = t.state(now);
        let badge = match st {
            KeyState::Active => "pass",
            KeyState::Revoked => "fail",
            _ => "",
        };
        rows.push_str(&format!(
            "<tr><td><code>{kid}</code></td><td>{alg}</td><td><span class=\"{badge}\">{state}</span></td>\
             <td>{publish}</td><td>{activate}</td><td>{retire}</td><td>{unpublish}</td><td>{revoked}</td></tr>",
            kid = escape(&t.kid),
            alg = t.alg.as_str(),
            state = st.as_str(),
            publish = when(Some(t.publish_at)),
            activate = when(Some(t.activate_at)),
            retire = when(t.retire_at),
            unpublish = when(t.unpublish_at),
            revoked = when(t.revoked_at),
        ));
    }
    let k = &state.config.keys;
    let body = format!(
        "<h1>Signing keys</h1>\
         <p>Each key is <strong>published</strong> in the <a href=\"{jwks}\">JWKS</a> {prepublish} before it starts \
         <strong>signing</strong>, so every verifier's cached key set has it in time; after rotation the old key is \
         <strong>retired</strong> (no longer signs) and stays published {retention} so tokens it signed still verify, \
         then is removed. A <strong>revoked</strong> key leaves the JWKS at once. Verifiers should cache the JWKS for its \
         <code>Cache-Control: max-age</code> ({max_age}) and refetch on an unknown <code>kid</code>, at most once per interval.</p>\
         <h2>Timeline</h2><div class=\"table-wrap\" tabindex=\"0\"><table><caption class=\"visually-hidden\">Key timeline, newest first</caption>\
         <thead><tr><th scope=\"col\">kid</th><th scope=\"col\">alg</th><th scope=\"col\">State</th><th scope=\"col\">Published</th>\
         <th scope=\"col\">Signs from</th><th scope=\"col\">Retired</th><th scope=\"col\">Removed</th><th scope=\"col\">Revoked</th></tr></thead>\
         <tbody>{rows}</tbody></table></div>\
         <p>Rotate with <code>latchkey key rotate</code>; see <code>docs/operations.md</code>.</p>",
        jwks = escape(&state.issuer.endpoint("/jwks")),
        prepublish = humantime::format_duration(k.prepublish),
        retention = humantime::format_duration(k.retention),
        max_age = humantime::format_duration(k.jwks_max_age()),
    );
    Ok(render(&state, user.as_ref(), Page::new("/keys", "Signing keys", body)))
}

pub async fn consent_doc(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let user = developer(&state, &headers).await?;
    let base = escape(&state.issuer.endpoint("/portal"));
    let body = format!(
        "<h1>Consent</h1>\
         <p>When an app asks for access, the user sees a consent page naming the app and, for each scope, what it grants \
         (the descriptions in the <a href=\"{base}/catalogue\">catalogue</a>). The answer is remembered per user and app: the \
         page appears again only when the app asks for a scope the user has not granted yet, or sends <code>prompt=consent</code>.</p>\
         <ul><li><strong>First-party apps</strong> (registered with <code>first_party = true</code>) skip the page: they are the \
         operator's own.</li>\
         <li><strong>Sandbox apps</strong> (registered by developers on this portal) always show the page, marked \
         <span class=\"badge sandbox\">sandbox</span>, and are never first party.</li>\
         <li><code>prompt=none</code> with consent missing ends with <code>consent_required</code>, never a page.</li></ul>\
         <h2>Withdrawing consent</h2><p>An administrator lists a user's consents with <code>latchkey session consents USER</code> \
         (or <code>GET /admin/v1/users/USER/consents</code>) and withdraws one with <code>latchkey session revoke-consent USER CLIENT</code>: \
         the app's refresh tokens stop working at once and its next request shows the page again.</p>"
    );
    Ok(render(&state, user.as_ref(), Page::new("", "Consent", body)))
}

pub async fn policies_doc(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let user = developer(&state, &headers).await?;
    let base = escape(&state.issuer.endpoint("/portal"));
    let version = match state.store.active_policy_version().await? {
        Some(v) => format!("The active policy set is version {}.", v.version),
        None => "No policy set is active: decisions use the built-in defaults.".into(),
    };
    let body = format!(
        "<h1>Policies</h1><p>{version}</p>\
         <p>Decisions (\"may this subject do this action on this resource, now?\") are made by <a href=\"https://www.cedarpolicy.com/\">Cedar</a> \
         policies over entities: the subject (a user or a client, with roles as parents and attributes from the store and from \
         identity signals), the action, the resource, and a context built from the caller's token (scopes, <code>acr</code>, \
         <code>auth_time</code>). Nothing the caller sends about the subject overrides what the server knows.</p>\
         <ul><li><code>forbid</code> always wins over <code>permit</code>; with no matching <code>permit</code> the answer is deny.</li>\
         <li>A <code>forbid</code> annotated <code>@acr_values(\"…\")</code>, <code>@max_age(\"…\")</code> or <code>@required_verification(\"…\")</code> \
         turns a deny into a step-up requirement the API can pass on (RFC 9470).</li>\
         <li>Capabilities grant one action on one resource to one subject until they expire.</li>\
         <li>The same policies decide which scopes and audiences the token endpoint grants.</li></ul>\
         <p>Try requests against the live policies in the <a href=\"{base}/playground\">policy playground</a>; APIs ask through the \
         OpenID AuthZEN 1.0 endpoints (see the <a href=\"{base}/reference\">API reference</a>). Full guide: <code>docs/authorization.md</code>.</p>"
    );
    Ok(render(&state, user.as_ref(), Page::new("", "Policies", body)))
}
