//! `latchkey key …`: signing-key lifecycle on the store. Running nodes pick
//! changes up within `keys.reload_interval`.

use anyhow::Result;
use latchkey_domain::key_lifecycle::KeyTimeline;
use latchkey_domain::{SigningAlg, UnixTime};
use latchkey_server::keyring::KeyManager;

use super::{AdminContext, StderrSink, print_json};
use crate::cli::{Global, KeyCommand};

fn timeline_json(t: &KeyTimeline, now: UnixTime) -> serde_json::Value {
    serde_json::json!({
        "kid": t.kid,
        "alg": t.alg.as_str(),
        "state": t.state(now).as_str(),
        "created_at": t.created_at.0,
        "publish_at": t.publish_at.0,
        "activate_at": t.activate_at.0,
        "retire_at": t.retire_at.map(|x| x.0),
        "unpublish_at": t.unpublish_at.map(|x| x.0),
        "revoked_at": t.revoked_at.map(|x| x.0),
    })
}

fn opt(t: Option<UnixTime>) -> String {
    t.map(|t| t.to_string()).unwrap_or_else(|| "-".into())
}

pub async fn run(global: &Global, cmd: KeyCommand) -> Result<()> {
    if let KeyCommand::GenerateMasterKey = cmd {
        println!("{}", latchkey_crypto::MasterKey::generate_text());
        return Ok(());
    }
    let ctx = AdminContext::open(global).await?;
    let now = UnixTime::now();
    match cmd {
        KeyCommand::List(f) => {
            let keys: Vec<KeyTimeline> = ctx.store.list_keys().await?.into_iter().map(|k| k.timeline).collect();
            if f.json {
                return print_json(&serde_json::json!(keys.iter().map(|t| timeline_json(t, now)).collect::<Vec<_>>()));
            }
            println!(
                "{:<44} {:<6} {:<9} {:<20} {:<20} {:<20}",
                "KID", "ALG", "STATE", "ACTIVATES", "RETIRES", "UNPUBLISHED"
            );
            for t in keys {
                println!(
                    "{:<44} {:<6} {:<9} {:<20} {:<20} {:<20}",
                    t.kid,
                    t.alg.as_str(),
                    t.state(now).as_str(),
                    t.activate_at.to_string(),
                    opt(t.retire_at),
                    opt(t.unpublish_at.or(t.revoked_at)),
                );
            }
        }
        KeyCommand::Rotate(args) => {
            let alg: SigningAlg = args.alg.parse()?;
            let prepublish = match &args.prepublish {
                Some(p) => humantime::parse_duration(p).map_err(|e| anyhow::anyhow!("--prepublish {p:?}: {e}"))?,
                None => ctx.config.keys.prepublish,
            };
            let master = ctx.master_key().await?;
            let manager = KeyManager { store: &ctx.store, master: &master, events: &StderrSink };
            let t = manager.rotate(alg, prepublish, ctx.config.keys.retention).await?;
            if args.json {
                return print_json(&timeline_json(&t, UnixTime::now()));
            }
            println!("{}", t.kid);
            eprintln!("published now; signs from {} ({}s from now)", t.activate_at, prepublish.as_secs());
        }
        KeyCommand::Retire(k) => {
            let master = ctx.master_key().await?;
            let manager = KeyManager { store: &ctx.store, master: &master, events: &StderrSink };
            let t = manager.retire(&k.kid, ctx.config.keys.retention).await?;
            if k.json {
                return print_json(&timeline_json(&t, UnixTime::now()));
            }
            eprintln!("{} no longer signs; stays published until {}", t.kid, opt(t.unpublish_at));
        }
        KeyCommand::Revoke(k) => {
            let master = ctx.master_key().await?;
            let manager = KeyManager { store: &ctx.store, master: &master, events: &StderrSink };
            let replacement = manager.revoke(&k.kid).await?;
            if k.json {
                return print_json(&serde_json::json!({ "revoked": k.kid, "replacement": replacement.map(|r| r.kid) }));
            }
            eprintln!("{} revoked: removed from the JWKS; tokens it signed no longer verify", k.kid);
            if let Some(r) = replacement {
                println!("{}", r.kid);
                eprintln!("replacement {} ({}) signs from now", r.kid, r.alg);
            }
        }
        KeyCommand::GenerateMasterKey => {}
    }
    ctx.store.close().await;
    Ok(())
}
