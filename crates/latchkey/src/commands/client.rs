//! `latchkey client …`.

use anyhow::{Context, Result, bail};
use latchkey_crypto::{digest, random};
use latchkey_domain::client::{AuthMethod, Client, ClientKind, GrantType};
use latchkey_domain::user::Origin;
use latchkey_domain::{EventSink, ScopeSet, SecurityEvent, SigningAlg, UnixTime};

use super::{AdminContext, StderrSink, duration_secs, print_json};
use crate::cli::{ClientAddArgs, ClientCommand, Global};

pub fn client_json(c: &Client) -> serde_json::Value {
    serde_json::json!({
        "client_id": c.id,
        "name": c.name,
        "type": c.kind.as_str(),
        "token_endpoint_auth_method": c.auth_method.as_str(),
        "redirect_uris": c.redirect_uris,
        "post_logout_redirect_uris": c.post_logout_redirect_uris,
        "grant_types": c.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        "scope": c.scopes.to_string(),
        "audiences": c.audiences,
        "id_token_signed_response_alg": c.id_token_alg.as_str(),
        "access_token_ttl": c.access_token_ttl,
        "refresh_token_ttl": c.refresh_token_ttl,
        "id_token_ttl": c.id_token_ttl,
        "first_party": c.first_party,
        "refresh_token_reuse_grace": c.refresh_token_grace,
        "jwks_uri": c.jwks_uri,
        "jwks": c.jwks.as_deref().and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok()),
        "token_exchange": c.token_exchange,
        "backchannel_logout_uri": c.backchannel_logout_uri,
        "origin": c.origin.as_str(),
        "created_at": c.created_at.0,
        "updated_at": c.updated_at.0,
    })
}

fn build(args: &ClientAddArgs) -> Result<Client> {
    let kind: ClientKind = args.kind.parse()?;
    let auth_method: AuthMethod = match (&args.auth_method, kind) {
        (Some(m), _) => m.parse()?,
        (None, ClientKind::Public) => AuthMethod::None,
        (None, ClientKind::Confidential) => AuthMethod::ClientSecretBasic,
    };
    let grant_types: Vec<GrantType> = if args.grant_types.is_empty() {
        if args.redirect_uris.is_empty() && kind == ClientKind::Confidential {
            vec![GrantType::ClientCredentials]
        } else {
            vec![GrantType::AuthorizationCode, GrantType::RefreshToken]
        }
    } else {
        args.grant_types.iter().map(|g| g.parse()).collect::<Result<_, _>>()?
    };
    let id_token_alg: SigningAlg = args.id_token_alg.as_deref().unwrap_or("RS256").parse()?;
    let id = args.id.clone().unwrap_or_else(random::id);
    let jwks = match &args.jwks_file {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            latchkey_crypto::jwk::parse_public_jwks(&text)
                .with_context(|| format!("{} is not a usable JWKS", path.display()))?;
            Some(text)
        }
    };
    let now = UnixTime::now();
    let client = Client {
        name: args.name.clone().unwrap_or_else(|| id.clone()),
        id,
        kind,
        secret_hash: None,
        redirect_uris: args.redirect_uris.clone(),
        post_logout_redirect_uris: args.post_logout_redirect_uris.clone(),
        grant_types,
        scopes: ScopeSet::from_tokens(args.scopes.iter().flat_map(|s| s.split(' ')).filter(|s| !s.is_empty()))?,
        audiences: args.audiences.clone(),
        auth_method,
        id_token_alg,
        access_token_ttl: duration_secs("access-token-ttl", args.access_token_ttl.as_ref())?,
        refresh_token_ttl: duration_secs("refresh-token-ttl", args.refresh_token_ttl.as_ref())?,
        id_token_ttl: duration_secs("id-token-ttl", args.id_token_ttl.as_ref())?,
        first_party: args.first_party,
        refresh_token_grace: duration_secs("refresh-token-reuse-grace", args.refresh_token_reuse_grace.as_ref())?
            .unwrap_or(0),
        jwks_uri: args.jwks_uri.clone(),
        jwks,
        token_exchange: latchkey_domain::token_exchange::ExchangeSettings {
            subject_audiences: args.exchange_subject_audiences.clone(),
            impersonation: args.impersonation,
        },
        backchannel_logout_uri: args.backchannel_logout_uri.clone(),
        origin: Origin::Admin,
        created_at: now,
        updated_at: now,
    };
    client.validate()?;
    Ok(client)
}

fn needs_secret(c: &Client) -> bool {
    matches!(c.auth_method, AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost)
}

pub async fn run(global: &Global, cmd: ClientCommand) -> Result<()> {
    let ctx = AdminContext::open(global).await?;
    let events = StderrSink;
    match cmd {
        ClientCommand::Add(args) => {
            let mut client = build(&args)?;
            // Server-generated, 256 bits: only a digest is stored, so the
            // secret is shown now and never again.
            let secret = needs_secret(&client).then(|| random::token(32));
            client.secret_hash = secret.as_deref().map(digest::secret_digest);
            match ctx.store.insert_client(&client).await {
                Err(latchkey_store::StoreError::Conflict(_)) => {
                    bail!("a client with id {:?} already exists", client.id)
                }
                other => other?,
            }
            events.emit(SecurityEvent::ClientCreated { client_id: client.id.clone() });
            if args.json {
                let mut v = client_json(&client);
                if let Some(s) = &secret {
                    v["client_secret"] = serde_json::json!(s);
                }
                print_json(&v)?;
            } else {
                println!("client_id: {}", client.id);
                if let Some(s) = &secret {
                    println!("client_secret: {s}");
                    eprintln!("store the secret now: it is kept only as a digest and cannot be shown again");
                }
            }
        }
        ClientCommand::List(f) => {
            let clients = ctx.store.list_clients().await?;
            if f.json {
                print_json(&serde_json::json!(clients.iter().map(client_json).collect::<Vec<_>>()))?;
            } else {
                println!("{:<34} {:<13} {:<8} NAME", "CLIENT_ID", "TYPE", "ORIGIN");
                for c in clients {
                    println!("{:<34} {:<13} {:<8} {}", c.id, c.kind.as_str(), c.origin.as_str(), c.name);
                }
            }
        }
        ClientCommand::Show(a) => {
            let c = ctx.store.get_client(&a.id).await?.with_context(|| format!("no client {:?}", a.id))?;
            print_json(&client_json(&c))?;
        }
        ClientCommand::Remove(a) => {
            match ctx.store.delete_client(&a.id).await {
                Err(latchkey_store::StoreError::NotFound) => bail!("no client {:?}", a.id),
                other => other?,
            }
            events.emit(SecurityEvent::ClientRemoved { client_id: a.id.clone() });
            eprintln!("removed client {} with its grants and refresh tokens", a.id);
        }
        ClientCommand::RotateSecret(a) => {
            let c = ctx.store.get_client(&a.id).await?.with_context(|| format!("no client {:?}", a.id))?;
            if !needs_secret(&c) {
                bail!("client {:?} authenticates with {} and has no secret", c.id, c.auth_method);
            }
            let secret = random::token(32);
            ctx.store.set_client_secret_hash(&c.id, &digest::secret_digest(&secret), UnixTime::now()).await?;
            events.emit(SecurityEvent::ClientSecretRotated { client_id: c.id.clone() });
            if a.json {
                print_json(&serde_json::json!({ "client_id": c.id, "client_secret": secret }))?;
            } else {
                println!("client_secret: {secret}");
                eprintln!("the old secret stopped working now");
            }
        }
    }
    ctx.store.close().await;
    Ok(())
}
