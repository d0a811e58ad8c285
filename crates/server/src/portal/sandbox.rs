//! Sandbox credentials: a signed-in developer registers and deletes their
//! own sandbox clients and test users. Plain HTML forms (they work without
//! JavaScript), each with the double-submit CSRF value of the login form.
//! The fence (scopes, audiences, redirect URIs, no exchange, never first
//! party) is the domain's `SandboxFence`; the quota is checked by the store.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use latchkey_crypto::{digest, password, random};
use latchkey_domain::client::ClientKind;
use latchkey_domain::event::SecurityEvent;
use latchkey_domain::sandbox::{IDENTITY_SCOPES, SandboxClientRequest, SandboxError, SandboxFence};
use latchkey_domain::user::Origin;
use latchkey_domain::{Client, UnixTime, User};
use latchkey_store::StoreError;

use super::PathOf;
use super::layout::{Page, render_with_status};
use super::signin::developer;
use crate::authorization::see_other;
use crate::error::ApiError;
use crate::forms::parse_urlencoded;
use crate::pages::escape;
use crate::session;
use crate::state::AppState;

/// The fence from the configuration: the sandbox APIs and their scopes.
pub fn fence(state: &AppState) -> SandboxFence {
    fence_of(&state.config.portal, &state.resources)
}

pub fn fence_of(config: &super::config::PortalConfig, resources: &[latchkey_domain::ApiResource]) -> SandboxFence {
    // With the sandbox off, sandbox clients reach no API at all.
    let audiences = if config.sandbox { config.sandbox_audiences.clone() } else { vec![] };
    let api_scopes = resources
        .iter()
        .filter(|r| audiences.contains(&r.identifier))
        .flat_map(|r| r.scopes.iter().map(|s| s.name.clone()))
        .collect();
    SandboxFence { audiences, api_scopes, quota: config.sandbox_quota }
}

/// Narrows every stored sandbox client to today's fence, at start: the
/// fence is checked at registration, so a sandbox API removed from the
/// configuration since (or a client edited by hand) must not keep its
/// reach. Returns how many clients were narrowed.
pub async fn refence(store: &latchkey_store::Store, fence: &SandboxFence) -> Result<usize, StoreError> {
    let mut narrowed = 0;
    for mut c in store.list_clients().await? {
        if c.origin != Origin::Sandbox {
            continue;
        }
        let before = c.clone();
        fence.narrow(&mut c);
        if c != before {
            c.updated_at = UnixTime::now();
            store.upsert_client(&c).await?;
            narrowed += 1;
        }
    }
    Ok(narrowed)
}

/// The sandbox clients of a developer (none when the sandbox is off).
pub async fn clients_of(state: &AppState, owner: &str) -> Result<Vec<Client>, ApiError> {
    if !state.config.portal.sandbox {
        return Ok(vec![]);
    }
    Ok(state.store.sandbox_clients_of(owner).await?)
}

/// What to show above the lists after a change.
enum Outcome {
    None,
    Created { client_id: String, secret: Option<String> },
    UserCreated { username: String, password: String },
    Deleted(String),
    Refused(String),
}

pub async fn show(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let user = developer(&state, &headers).await?;
    render_page(&state, user.as_ref(), StatusCode::OK, Outcome::None).await
}

fn scope_boxes(fence: &SandboxFence) -> String {
    IDENTITY_SCOPES
        .iter()
        .map(|s| s.to_string())
        .chain(fence.api_scopes.iter().cloned())
        .map(|s| {
            let checked = if s == "openid" { " checked" } else { "" };
            format!(
                "<label><input type=\"checkbox\" name=\"scope\" value=\"{0}\"{checked}> <code>{0}</code></label>",
                escape(&s)
            )
        })
        .collect()
}

fn client_rows(clients: &[Client], base: &str, csrf: &str) -> String {
    if clients.is_empty() {
        return "<p>You have no sandbox clients yet.</p>".into();
    }
    let mut rows = String::new();
    for c in clients {
        let redirects: Vec<String> = c.redirect_uris.iter().map(|u| format!("<code>{}</code>", escape(u))).collect();
        rows.push_str(&format!(
            "<tr><td><code>{id}</code><br>{name}</td><td><span class=\"badge\">{kind}</span></td><td><code>{scopes}</code></td><td>{redirects}</td>\
             <td><a href=\"{base}/flows?client_id={id_q}\">Run a flow</a>\
             <form method=\"post\" action=\"{base}/sandbox/clients/{id_q}/delete\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <button type=\"submit\" class=\"danger\" aria-label=\"Delete {id}\">Delete</button></form></td></tr>",
            id = escape(&c.id),
            id_q = escape(&url::form_urlencoded::byte_serialize(c.id.as_bytes()).collect::<String>()),
            name = escape(&c.name),
            kind = c.kind.as_str(),
            scopes = escape(&c.scopes.to_string()),
            redirects = redirects.join("<br>"),
        ));
    }
    format!(
        "<div class=\"table-wrap\" tabindex=\"0\"><table><caption class=\"visually-hidden\">Your sandbox clients</caption>\
         <thead><tr><th scope=\"col\">Client</th><th scope=\"col\">Type</th><th scope=\"col\">Scopes</th><th scope=\"col\">Redirect URIs</th><th scope=\"col\">Actions</th></tr></thead>\
         <tbody>{rows}</tbody></table></div>"
    )
}

async fn users_section(state: &AppState, owner: &User, base: &str, csrf: &str) -> Result<String, ApiError> {
    let mut items = String::new();
    if state.config.dev {
        items.push_str(
            "<li><code>alice</code> / <code>alice-sandbox-password</code> (development server)</li>\
             <li><code>bob</code> / <code>bob-sandbox-password</code> (development server)</li>",
        );
    }
    for u in state.store.sandbox_users_of(&owner.id).await? {
        items.push_str(&format!(
            "<li><code>{name}</code> <form method=\"post\" class=\"inline\" action=\"{base}/sandbox/users/{id}/delete\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><button type=\"submit\" class=\"link\" aria-label=\"Delete test user {name}\">delete</button></form></li>",
            name = escape(&u.username),
            id = escape(&u.id),
        ));
    }
    let list = if items.is_empty() { "<p>No test users yet.</p>".to_string() } else { format!("<ul>{items}</ul>") };
    Ok(format!(
        "<h2 id=\"test-users\">Test users</h2><p>Sign in as these in your flows. A test user is an ordinary account that only you know the password of.</p>{list}\
         <form method=\"post\" action=\"{base}/sandbox/users\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <button type=\"submit\" class=\"secondary\">Create a test user</button></form>"
    ))
}

async fn render_page(
    state: &AppState,
    user: Option<&User>,
    status: StatusCode,
    outcome: Outcome,
) -> Result<Response, ApiError> {
    let base = escape(&state.issuer.endpoint("/portal"));
    let Some(user) = user else {
        let body = format!(
            "<h1>Sandbox credentials</h1><p>Sign in to create your own test clients and users.</p>\
             <p><a class=\"button\" href=\"{base}/signin?next={}\">Sign in</a></p>",
            escape(&format!("{}/portal/sandbox", state.issuer.path()))
        );
        return Ok(render_with_status(state, None, status, Page::new("/sandbox", "Sandbox credentials", body)));
    };
    if !state.config.portal.sandbox {
        let body = "<h1>Sandbox credentials</h1><p class=\"notice\">Self-service sandbox clients are turned off on this server \
                    (<code>[portal] sandbox = true</code> turns them on; <code>--dev</code> does by default).</p>"
            .to_string();
        return Ok(render_with_status(state, Some(user), status, Page::new("/sandbox", "Sandbox credentials", body)));
    }
    let csrf = random::token(24);
    let fence = fence(state);
    let notice = match outcome {
        Outcome::None => String::new(),
        Outcome::Created { client_id, secret } => {
            let secret_part = match secret {
                Some(s) => format!(
                    "<p><label for=\"new-secret\">Client secret: shown only now, copy it</label>\
                     <input type=\"text\" id=\"new-secret\" readonly value=\"{}\"> <button type=\"button\" data-copy=\"#new-secret\">Copy</button></p>",
                    escape(&s)
                ),
                None => "<p>It is a public client: no secret; use PKCE.</p>".into(),
            };
            format!(
                "<div class=\"notice\" role=\"status\"><p>Created <code id=\"new-client-id\">{}</code>.</p>{secret_part}</div>",
                escape(&client_id)
            )
        }
        Outcome::UserCreated { username, password } => format!(
            "<div class=\"notice\" role=\"status\"><p>Created test user <code>{}</code>.</p>\
             <p><label for=\"new-password\">Password: shown only now</label><input type=\"text\" id=\"new-password\" readonly value=\"{}\"></p></div>",
            escape(&username),
            escape(&password)
        ),
        Outcome::Deleted(what) => {
            format!("<div class=\"notice\" role=\"status\"><p>Deleted {}.</p></div>", escape(&what))
        }
        Outcome::Refused(why) => format!("<div class=\"error-box\" role=\"alert\"><p>{}</p></div>", escape(&why)),
    };
    let clients = state.store.sandbox_clients_of(&user.id).await?;
    let audiences: Vec<String> = fence.audiences.iter().map(|a| format!("<code>{}</code>", escape(a))).collect();
    let body = format!(
        "<h1>Sandbox credentials</h1>{notice}\
         <p>Sandbox clients reach only the sandbox APIs ({audiences}) with the scopes below; users always see a consent screen marked <span class=\"badge sandbox\">sandbox</span>; \
         token exchange is off. You may have up to {quota} clients. The flow runner's address is added to each client's redirect URIs.</p>\
         <h2>Your clients</h2>{table}\
         <h2>Register a client</h2>\
         <form method=\"post\" action=\"{base}/sandbox/clients\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label for=\"client-name\">Name</label><input type=\"text\" id=\"client-name\" name=\"name\" required maxlength=\"80\">\
         <fieldset><legend>Type</legend>\
         <label><input type=\"radio\" name=\"kind\" value=\"public\" checked> Public (SPA, mobile: PKCE, no secret)</label>\
         <label><input type=\"radio\" name=\"kind\" value=\"confidential\"> Confidential (server: a secret; client credentials too)</label></fieldset>\
         <label for=\"client-redirects\">Redirect URIs <span class=\"hint\">one per line: https, http on localhost, or a private-use scheme; no wildcards or fragments</span></label>\
         <textarea id=\"client-redirects\" name=\"redirect_uris\" rows=\"3\"></textarea>\
         <fieldset><legend>Scopes</legend>{scopes}</fieldset>\
         <button type=\"submit\">Register</button></form>{users}",
        audiences = audiences.join(", "),
        quota = fence.quota,
        table = client_rows(&clients, &base, &csrf),
        scopes = scope_boxes(&fence),
        users = users_section(state, user, &base, &csrf).await?,
    );
    let mut page = Page::new("/sandbox", "Sandbox credentials", body);
    page.scripts = &[];
    let mut response = render_with_status(state, Some(user), status, page);
    if let Some(c) = session::csrf_cookie(state, &csrf) {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(response)
}

/// The developer behind a form post, once the CSRF value matches.
async fn form_user(
    state: &AppState,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Result<(User, latchkey_domain::params::Params), Response>, ApiError> {
    let params = parse_urlencoded(body);
    let csrf = params.single("csrf").ok().flatten().unwrap_or("").to_string();
    let Some(user) = developer(state, headers).await? else {
        return Ok(Err(see_other(&state.issuer.endpoint("/portal/signin"))));
    };
    if user.origin == Origin::Sandbox {
        let outcome = Outcome::Refused("Test users cannot register clients or users.".into());
        return Ok(Err(render_page(state, Some(&user), StatusCode::FORBIDDEN, outcome).await?));
    }
    if !state.config.portal.sandbox {
        return Ok(Err(render_page(state, Some(&user), StatusCode::NOT_FOUND, Outcome::None).await?));
    }
    if crate::forms::require_form(headers).is_err() || !session::csrf_matches(state, headers, &csrf) {
        let outcome = Outcome::Refused("The form expired; nothing was changed. Try again.".into());
        return Ok(Err(render_page(state, Some(&user), StatusCode::FORBIDDEN, outcome).await?));
    }
    Ok(Ok((user, params)))
}

pub async fn create_client(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (user, params) = match form_user(&state, &headers, &body).await? {
        Ok(v) => v,
        Err(response) => return Ok(response),
    };
    let get = |name: &str| params.single(name).ok().flatten().unwrap_or("").to_string();
    let kind = if get("kind") == "confidential" { ClientKind::Confidential } else { ClientKind::Public };
    let request = SandboxClientRequest {
        name: get("name"),
        kind,
        redirect_uris: get("redirect_uris")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect(),
        scopes: params.all("scope").map(String::from).collect(),
    };
    let fence = fence(&state);
    let id = format!("sbx-{}", &random::id()[..16]);
    let flows = state.issuer.endpoint(super::flows::PATH);
    let mut client = match fence.client(id, &request, &flows, UnixTime::now()) {
        Ok(c) => c,
        Err(e) => {
            return render_page(&state, Some(&user), StatusCode::BAD_REQUEST, Outcome::Refused(e.to_string())).await;
        }
    };
    let secret = (kind == ClientKind::Confidential).then(|| random::token(32));
    client.secret_hash = secret.as_deref().map(digest::secret_digest);
    if !state.store.insert_sandbox_client(&client, &user.id, fence.quota).await? {
        let refusal = Outcome::Refused(SandboxError::Quota(fence.quota).to_string());
        return render_page(&state, Some(&user), StatusCode::CONFLICT, refusal).await;
    }
    state.events.emit(SecurityEvent::ClientCreated { client_id: client.id.clone() });
    render_page(&state, Some(&user), StatusCode::CREATED, Outcome::Created { client_id: client.id, secret }).await
}

pub async fn delete_client(
    State(state): State<AppState>,
    path: PathOf<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (user, _) = match form_user(&state, &headers, &body).await? {
        Ok(v) => v,
        Err(response) => return Ok(response),
    };
    // An id that is not UTF-8 is no one's client: the same 404 as others'.
    let client_id = path.map(|Path(id)| id).unwrap_or_default();
    match state.store.delete_sandbox_client(&user.id, &client_id).await {
        Ok(()) => {
            state.events.emit(SecurityEvent::ClientRemoved { client_id: client_id.clone() });
            render_page(&state, Some(&user), StatusCode::OK, Outcome::Deleted(format!("client {client_id}"))).await
        }
        Err(StoreError::NotFound) => {
            let refusal = Outcome::Refused("You have no sandbox client with that id.".into());
            render_page(&state, Some(&user), StatusCode::NOT_FOUND, refusal).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn create_user(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    let (owner, _) = match form_user(&state, &headers, &body).await? {
        Ok(v) => v,
        Err(response) => return Ok(response),
    };
    let suffix = &random::id()[..8];
    let username = format!("test-{suffix}");
    let pass = random::token(12);
    let now = UnixTime::now();
    let user = User {
        id: random::id(),
        username: username.clone(),
        email: Some(format!("{username}@sandbox.invalid")),
        email_verified: false,
        name: Some(format!("Test user of {}", owner.username)),
        password_hash: Some(password::hash(&pass).map_err(ApiError::internal)?),
        disabled: false,
        origin: Origin::Sandbox,
        created_at: now,
        updated_at: now,
    };
    let quota = state.config.portal.sandbox_quota;
    if !state.store.insert_sandbox_user(&user, &owner.id, quota).await? {
        let refusal = Outcome::Refused(format!("You have reached the limit of {quota} test users; delete one first."));
        return render_page(&state, Some(&owner), StatusCode::CONFLICT, refusal).await;
    }
    state.events.emit(SecurityEvent::UserCreated { user_id: user.id.clone() });
    render_page(&state, Some(&owner), StatusCode::CREATED, Outcome::UserCreated { username, password: pass }).await
}

pub async fn delete_user(
    State(state): State<AppState>,
    path: PathOf<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (owner, _) = match form_user(&state, &headers, &body).await? {
        Ok(v) => v,
        Err(response) => return Ok(response),
    };
    let user_id = path.map(|Path(id)| id).unwrap_or_default();
    match state.store.delete_sandbox_user(&owner.id, &user_id).await {
        Ok(()) => {
            state.events.emit(SecurityEvent::UserRemoved { user_id });
            render_page(&state, Some(&owner), StatusCode::OK, Outcome::Deleted("the test user".into())).await
        }
        Err(StoreError::NotFound) => {
            let refusal = Outcome::Refused("You have no test user with that id.".into());
            render_page(&state, Some(&owner), StatusCode::NOT_FOUND, refusal).await
        }
        Err(e) => Err(e.into()),
    }
}
