//! Start-up data: the declarative clients, users and resources of the config
//! file (rewritten to match the file at every start, like Dex's static
//! clients), and the `--dev` sandbox.

use std::path::Path;

use latchkey_crypto::{digest, password, random};
use latchkey_domain::client::{AuthMethod, Client, ClientKind, GrantType};
use latchkey_domain::resource::ResourceScope;
use latchkey_domain::user::Origin;
use latchkey_domain::{ApiResource, EventSink, ScopeSet, SecurityEvent, SigningAlg, UnixTime, User};
use latchkey_store::{Store, StoreError};

use crate::config::{Config, StaticPassword, StaticUser};

#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("hashing a password failed")]
    Password,
    #[error("cannot write {path}: {reason}")]
    File { path: String, reason: String },
    #[error(
        "the configuration declares user {0:?}, but someone created that account through sign-up; \
         rename the declared user or remove the signed-up account (`latchkey user remove {0}`) first"
    )]
    SignedUpUser(String),
}

/// Makes the store's config-owned records match the config file.
pub async fn apply_static_config(store: &Store, config: &Config, events: &dyn EventSink) -> Result<(), BootstrapError> {
    let now = UnixTime::now();
    for r in &config.resources {
        store.upsert_resource(r, Origin::Config, now).await?;
    }
    let declared: Vec<String> = config.resources.iter().map(|r| r.identifier.clone()).collect();
    store.delete_resources_of_origin_except(Origin::Config, &declared).await?;

    for sc in &config.clients {
        let secret_hash = sc.secret.as_ref().map(|s| digest::secret_digest(s.expose()));
        let existing = store.get_client(&sc.id).await?;
        let mut client = sc.to_client(secret_hash, now);
        if let Some(old) = &existing {
            client.created_at = old.created_at;
            client.updated_at = old.updated_at;
            if *old == client {
                continue;
            }
            client.updated_at = now;
        }
        store.upsert_client(&client).await?;
        let client_id = sc.id.clone();
        events.emit(if existing.is_some() {
            SecurityEvent::ClientUpdated { client_id }
        } else {
            SecurityEvent::ClientCreated { client_id }
        });
    }
    let declared: Vec<String> = config.clients.iter().map(|c| c.id.clone()).collect();
    for client_id in store.delete_clients_of_origin_except(Origin::Config, &declared).await? {
        events.emit(SecurityEvent::ClientRemoved { client_id });
    }

    for su in &config.users {
        apply_user(store, su, now, events).await?;
    }
    let declared: Vec<String> = config.users.iter().map(|u| u.username.clone()).collect();
    for username in store.delete_users_of_origin_except(Origin::Config, &declared).await? {
        events.emit(SecurityEvent::UserRemoved { user_id: username });
    }
    Ok(())
}

async fn apply_user(
    store: &Store,
    su: &StaticUser,
    now: UnixTime,
    events: &dyn EventSink,
) -> Result<(), BootstrapError> {
    let existing = store.get_user_by_username(&su.username).await?;
    // Adopting a self-registered account would hand its creator's sessions,
    // second factor and grants to the declared user (pre-hijacking).
    if existing.as_ref().is_some_and(|u| u.origin == Origin::SignUp) {
        return Err(BootstrapError::SignedUpUser(su.username.clone()));
    }
    let old_hash = existing.as_ref().and_then(|u| u.password_hash.clone());
    // Argon2 is slow on purpose; re-hash only when the password changed, so
    // a restart stays fast.
    let password_hash = match &su.password {
        StaticPassword::Hash(h) => Some(h.clone()),
        StaticPassword::None => None,
        StaticPassword::Plain(p) => match old_hash {
            Some(h) if password::verify(p.expose(), &h) => Some(h),
            _ => Some(password::hash(p.expose()).map_err(|_| BootstrapError::Password)?),
        },
    };
    let mut user = User {
        id: existing.as_ref().map(|u| u.id.clone()).unwrap_or_else(random::id),
        username: su.username.clone(),
        email: su.email.clone(),
        email_verified: su.email_verified,
        name: su.name.clone(),
        password_hash,
        disabled: su.disabled,
        origin: Origin::Config,
        created_at: existing.as_ref().map_or(now, |u| u.created_at),
        updated_at: existing.as_ref().map_or(now, |u| u.updated_at),
    };
    match existing {
        None => {
            store.insert_user(&user).await?;
            events.emit(SecurityEvent::UserCreated { user_id: user.id });
        }
        Some(old) if old != user => {
            user.updated_at = now;
            store.update_user(&user).await?;
            if old.password_hash != user.password_hash {
                events.emit(SecurityEvent::UserPasswordChanged { user_id: user.id });
            }
        }
        Some(_) => {}
    }
    Ok(())
}

/// What `--dev` prints at start.
#[derive(Debug, Clone)]
pub struct DevSandbox {
    pub users: Vec<(String, String)>,
    pub spa_client_id: String,
    pub spa_redirect_uris: Vec<String>,
    pub service_client_id: String,
    pub service_client_secret: String,
    pub resource: String,
    pub resource_scopes: Vec<String>,
}

pub const DEV_RESOURCE: &str = "https://api.example.com";
pub const DEV_SPA_CLIENT: &str = "sandbox-spa";
pub const DEV_SERVICE_CLIENT: &str = "sandbox-service";
const DEV_USERS: [(&str, &str, &str); 2] =
    [("alice", "alice-sandbox-password", "Alice Example"), ("bob", "bob-sandbox-password", "Bob Example")];

/// Seeds the sandbox (once; later starts reuse it). The service client's
/// secret is kept in `dev-credentials.json` in the data dir (mode 0600) so
/// it survives restarts; a sandbox secret is not a production secret.
pub async fn seed_dev(store: &Store, data_dir: &Path, events: &dyn EventSink) -> Result<DevSandbox, BootstrapError> {
    let now = UnixTime::now();
    let scope_names = ["orders:read", "orders:write"];
    let resource = ApiResource {
        identifier: DEV_RESOURCE.into(),
        name: "Sandbox orders API".into(),
        scopes: vec![
            ResourceScope { name: scope_names[0].into(), description: "Read orders".into() },
            ResourceScope { name: scope_names[1].into(), description: "Create and change orders".into() },
        ],
        access_token_ttl: None,
        signing_alg: None,
        forwarded_claims: vec![],
        // The sandbox service stands for the API's own resource server: it
        // may introspect and follow the revocation feed
        // (examples/protected-api).
        introspection_clients: vec![DEV_SERVICE_CLIENT.into()],
    };
    store.upsert_resource(&resource, Origin::Dev, now).await?;

    for (username, pass, name) in DEV_USERS {
        if store.get_user_by_username(username).await?.is_none() {
            let user = User {
                id: random::id(),
                username: username.into(),
                email: Some(format!("{username}@example.com")),
                email_verified: true,
                name: Some(name.into()),
                password_hash: Some(password::hash(pass).map_err(|_| BootstrapError::Password)?),
                disabled: false,
                origin: Origin::Dev,
                created_at: now,
                updated_at: now,
            };
            store.insert_user(&user).await?;
            events.emit(SecurityEvent::UserCreated { user_id: user.id });
        }
    }

    let spa_redirect_uris =
        vec!["http://127.0.0.1:5173/callback".to_string(), "http://localhost:5173/callback".to_string()];
    let mut spa_scopes = vec!["openid", "profile", "email", "offline_access"];
    spa_scopes.extend(scope_names);
    let base = |id: &str, kind, auth_method, grants: Vec<GrantType>, scopes: &[&str], redirects: Vec<String>| Client {
        id: id.into(),
        name: id.into(),
        kind,
        secret_hash: None,
        redirect_uris: redirects,
        post_logout_redirect_uris: vec![],
        grant_types: grants,
        scopes: ScopeSet::from_tokens(scopes).unwrap_or_default(),
        audiences: vec![DEV_RESOURCE.into()],
        auth_method,
        id_token_alg: SigningAlg::RS256,
        access_token_ttl: None,
        refresh_token_ttl: None,
        id_token_ttl: None,
        first_party: false,
        refresh_token_grace: 0,
        jwks_uri: None,
        jwks: None,
        token_exchange: Default::default(),
        backchannel_logout_uri: None,
        origin: Origin::Dev,
        created_at: now,
        updated_at: now,
    };
    if store.get_client(DEV_SPA_CLIENT).await?.is_none() {
        let spa = base(
            DEV_SPA_CLIENT,
            ClientKind::Public,
            AuthMethod::None,
            vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            &spa_scopes,
            spa_redirect_uris.clone(),
        );
        store.insert_client(&spa).await?;
        events.emit(SecurityEvent::ClientCreated { client_id: spa.id });
    }

    let creds_path = data_dir.join("dev-credentials.json");
    let saved_secret = std::fs::read_to_string(&creds_path)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v.get("service_client_secret").and_then(|s| s.as_str()).map(str::to_string));
    let existing = store.get_client(DEV_SERVICE_CLIENT).await?;
    let still_valid = match (&saved_secret, &existing) {
        (Some(s), Some(c)) => c.secret_hash.as_deref().is_some_and(|h| digest::verify_secret(s, h)),
        _ => false,
    };
    let service_client_secret = match (still_valid, saved_secret) {
        (true, Some(s)) => s,
        _ => {
            let secret = random::token(32);
            let hash = digest::secret_digest(&secret);
            if existing.is_some() {
                store.set_client_secret_hash(DEV_SERVICE_CLIENT, &hash, now).await?;
            } else {
                let mut service = base(
                    DEV_SERVICE_CLIENT,
                    ClientKind::Confidential,
                    AuthMethod::ClientSecretBasic,
                    vec![GrantType::ClientCredentials, GrantType::TokenExchange],
                    &scope_names,
                    vec![],
                );
                service.secret_hash = Some(hash);
                // It stands for the sandbox API's own backend: it may trade
                // its callers' tokens for downstream ones (the portal's flow
                // runner shows a token exchange with it).
                service.token_exchange.subject_audiences = vec![DEV_RESOURCE.into()];
                store.insert_client(&service).await?;
                events.emit(SecurityEvent::ClientCreated { client_id: service.id });
            }
            write_private_file(&creds_path, &serde_json::json!({ "service_client_secret": secret }).to_string())?;
            secret
        }
    };

    Ok(DevSandbox {
        users: DEV_USERS.iter().map(|(u, p, _)| (u.to_string(), p.to_string())).collect(),
        spa_client_id: DEV_SPA_CLIENT.into(),
        spa_redirect_uris,
        service_client_id: DEV_SERVICE_CLIENT.into(),
        service_client_secret,
        resource: DEV_RESOURCE.into(),
        resource_scopes: scope_names.map(String::from).to_vec(),
    })
}

/// Writes a file only its owner can read.
pub fn write_private_file(path: &Path, contents: &str) -> Result<(), BootstrapError> {
    use std::io::Write;
    let err = |e: std::io::Error| BootstrapError::File { path: path.display().to_string(), reason: e.to_string() };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path).map_err(err)?;
    f.write_all(contents.as_bytes()).map_err(err)
}

/// The sandbox's own relying party (`{issuer}/sandbox`, see
/// `routes::sandbox`) signs in through the SPA client: its callback and
/// return address are registered once the issuer (and so the port) is known.
pub async fn register_sandbox_rp(store: &Store, issuer: &crate::issuer::Issuer) -> Result<(), StoreError> {
    let Some(mut spa) = store.get_client(DEV_SPA_CLIENT).await? else { return Ok(()) };
    let callback = issuer.endpoint(crate::routes::sandbox::CALLBACK_PATH);
    let home = issuer.endpoint(crate::routes::sandbox::HOME_PATH);
    // Earlier starts may have had another port: keep only the fixed URIs.
    spa.redirect_uris
        .retain(|u| !u.ends_with(crate::routes::sandbox::CALLBACK_PATH) && !u.ends_with(crate::portal::flows::PATH));
    spa.redirect_uris.push(callback);
    // The portal's flow runner is a redirect URI of the sandbox's clients.
    spa.redirect_uris.push(issuer.endpoint(crate::portal::flows::PATH));
    spa.post_logout_redirect_uris = vec![home];
    spa.updated_at = UnixTime::now();
    store.upsert_client(&spa).await
}
