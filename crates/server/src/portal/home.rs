//! The portal's start page: what the portal offers, and four quickstarts
//! filled with the visitor's own values (their sandbox clients when signed
//! in, the `--dev` sandbox's otherwise, placeholders in production).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use latchkey_domain::Client;
use latchkey_domain::client::ClientKind;

use super::layout::{Page, render};
use super::signin::developer;
use crate::bootstrap::{DEV_RESOURCE, DEV_SERVICE_CLIENT, DEV_SPA_CLIENT};
use crate::error::ApiError;
use crate::pages::escape;
use crate::state::AppState;

const QUICKSTARTS: &[(&str, &str, &str)] = &[
    ("spa", "Single-page app (code + PKCE)", include_str!("content/quickstart-spa.html")),
    ("web", "Backend web app (OpenID Connect)", include_str!("content/quickstart-web.html")),
    ("service", "Service (client credentials)", include_str!("content/quickstart-service.html")),
    ("resource", "Resource server (JWT validation)", include_str!("content/quickstart-resource.html")),
];

/// The values the quickstarts are filled with.
struct Values {
    spa_client: String,
    spa_redirect: String,
    web_client: String,
    web_redirect: String,
    service_client: String,
    audience: String,
    scope: String,
}

fn values(state: &AppState, own: &[Client]) -> Values {
    let public = own.iter().find(|c| c.kind == ClientKind::Public);
    let confidential_code = own.iter().find(|c| c.kind == ClientKind::Confidential && !c.redirect_uris.is_empty());
    let service = own.iter().find(|c| {
        c.kind == ClientKind::Confidential
            && c.grant_types.contains(&latchkey_domain::client::GrantType::ClientCredentials)
    });
    let flows = state.issuer.endpoint(super::flows::PATH);
    let (dev_spa, dev_service) =
        if state.config.dev { (Some(DEV_SPA_CLIENT), Some(DEV_SERVICE_CLIENT)) } else { (None, None) };
    let redirect_of = |c: &Client| c.redirect_uris.first().cloned().unwrap_or_else(|| flows.clone());
    Values {
        spa_client: public
            .map(|c| c.id.clone())
            .or(dev_spa.map(String::from))
            .unwrap_or_else(|| "YOUR_SPA_CLIENT_ID".into()),
        spa_redirect: public.map(redirect_of).unwrap_or_else(|| flows.clone()),
        web_client: confidential_code.map(|c| c.id.clone()).unwrap_or_else(|| "YOUR_WEB_CLIENT_ID".into()),
        web_redirect: confidential_code.map(redirect_of).unwrap_or_else(|| "https://app.example.com/callback".into()),
        service_client: service
            .map(|c| c.id.clone())
            .or(dev_service.map(String::from))
            .unwrap_or_else(|| "YOUR_SERVICE_CLIENT_ID".into()),
        audience: own
            .iter()
            .flat_map(|c| c.audiences.first())
            .next()
            .cloned()
            .or_else(|| state.config.dev.then(|| DEV_RESOURCE.to_string()))
            .or_else(|| state.resources.first().map(|r| r.identifier.clone()))
            .unwrap_or_else(|| "https://api.example.com".into()),
        scope: state
            .resources
            .iter()
            .find(|r| r.identifier == DEV_RESOURCE)
            .or(state.resources.first())
            .and_then(|r| r.scopes.first())
            .map(|s| s.name.clone())
            .unwrap_or_else(|| "orders:read".into()),
    }
}

fn fill(template: &str, state: &AppState, v: &Values) -> String {
    let q = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    // Longest names first: %SPA_REDIRECT_Q% before %SPA_REDIRECT%.
    let pairs = [
        ("%SPA_REDIRECT_Q%", q(&v.spa_redirect)),
        ("%SCOPE_Q%", q(&v.scope)),
        ("%ISSUER%", state.issuer.as_str().to_string()),
        ("%PORTAL%", state.issuer.endpoint("/portal")),
        ("%SPA_CLIENT%", v.spa_client.clone()),
        ("%SPA_REDIRECT%", v.spa_redirect.clone()),
        ("%WEB_CLIENT%", v.web_client.clone()),
        ("%WEB_REDIRECT%", v.web_redirect.clone()),
        ("%SERVICE_CLIENT%", v.service_client.clone()),
        ("%AUDIENCE%", v.audience.clone()),
        ("%SCOPE%", v.scope.clone()),
    ];
    let mut out = template.to_string();
    for (name, value) in pairs {
        out = out.replace(name, &escape(&value));
    }
    out
}

pub async fn show(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let user = developer(&state, &headers).await?;
    let own = match &user {
        Some(u) => super::sandbox::clients_of(&state, &u.id).await?,
        None => vec![],
    };
    let v = values(&state, &own);
    let base = escape(&state.issuer.endpoint("/portal"));
    let whose = if !own.is_empty() {
        "Filled in with your sandbox clients."
    } else if state.config.dev {
        "Filled in with the development sandbox's clients (<code>sandbox-spa</code>, <code>sandbox-service</code>); the service's secret was printed when the server started."
    } else {
        "Sign in and create sandbox clients to see your own values here."
    };
    let mut tabs = String::new();
    let mut panels = String::new();
    for (i, (id, label, template)) in QUICKSTARTS.iter().enumerate() {
        let selected = i == 0;
        tabs.push_str(&format!(
            "<button type=\"button\" role=\"tab\" id=\"tab-{id}\" aria-controls=\"panel-{id}\" aria-selected=\"{selected}\" tabindex=\"{}\">{label}</button>",
            if selected { 0 } else { -1 }
        ));
        panels.push_str(&format!(
            "<section role=\"tabpanel\" id=\"panel-{id}\" aria-labelledby=\"tab-{id}\" tabindex=\"0\"{}><h3>{label}</h3>{}</section>",
            if selected { "" } else { " hidden" },
            fill(template, &state, &v)
        ));
    }
    let body = format!(
        "<h1>Build with Latchkey</h1>\
         <p>Everything here runs against this server, live. Nothing you paste into the JWT decoder or the utilities leaves your browser.</p>\
         <ul class=\"cards\">\
         <li><h2><a href=\"{base}/sandbox\">Sandbox credentials</a></h2><p>Create your own test clients and users, see the secret once.</p></li>\
         <li><h2><a href=\"{base}/flows\">Flow runner</a></h2><p>Run code + PKCE, client credentials, refresh, exchange, introspection, revocation; every raw request shown.</p></li>\
         <li><h2><a href=\"{base}/jwt\">JWT decoder</a></h2><p>Each validation step with pass or fail and how to fix it.</p></li>\
         <li><h2><a href=\"{base}/tools\">Utilities</a></h2><p>PKCE, hashes and <code>at_hash</code>, JSON, <code>state</code> and <code>nonce</code>.</p></li>\
         <li><h2><a href=\"{base}/errors\">Errors and traces</a></h2><p>What each error means; look up a trace id of your own client.</p></li>\
         <li><h2><a href=\"{base}/playground\">Policy playground</a></h2><p>Ask the live decision engine and see why.</p></li>\
         </ul>\
         <h2 id=\"quickstarts\">Quickstarts</h2><p>{whose}</p>\
         <div class=\"tabs\"><div role=\"tablist\" aria-label=\"Quickstarts\">{tabs}</div>{panels}</div>\
         <h2>Read more</h2><ul><li><a href=\"{base}/docs/consent\">Consent: what users see and how to revoke it</a></li>\
         <li><a href=\"{base}/docs/policies\">Policies: how decisions are made</a></li>\
         <li><a href=\"{base}/reference\">The API reference (OpenAPI 3.1)</a></li></ul>"
    );
    Ok(render(&state, user.as_ref(), Page::new("", "Start", body)))
}
