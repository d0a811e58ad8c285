//! `latchkey user …`.

use std::io::BufRead;

use anyhow::{Context, Result, bail};
use latchkey_crypto::{password, random};
use latchkey_domain::user::{Origin, validate_username};
use latchkey_domain::{EventSink, SecurityEvent, UnixTime, User};

use super::{AdminContext, StderrSink, print_json};
use crate::cli::{Global, UserCommand};

fn user_json(u: &User) -> serde_json::Value {
    serde_json::json!({
        "id": u.id,
        "username": u.username,
        "email": u.email,
        "email_verified": u.email_verified,
        "name": u.name,
        "disabled": u.disabled,
        "has_password": u.password_hash.is_some(),
        "origin": u.origin.as_str(),
        "created_at": u.created_at.0,
        "updated_at": u.updated_at.0,
    })
}

fn read_password_line() -> Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("reading the password from stdin")?;
    let p = line.trim_end_matches(['\n', '\r']).to_string();
    if p.chars().count() < 8 {
        bail!("the password must have at least 8 characters");
    }
    Ok(p)
}

async fn find(ctx: &AdminContext, username: &str) -> Result<User> {
    ctx.store.get_user_by_username(username).await?.with_context(|| format!("no user {username:?}"))
}

pub async fn run(global: &Global, cmd: UserCommand) -> Result<()> {
    let ctx = AdminContext::open(global).await?;
    let events = StderrSink;
    let now = UnixTime::now();
    match cmd {
        UserCommand::Add(a) => {
            validate_username(&a.username)?;
            let (pass, generated) =
                if a.password_stdin { (read_password_line()?, false) } else { (random::token(18), true) };
            let user = User {
                id: random::id(),
                username: a.username.clone(),
                email: a.email,
                email_verified: a.email_verified,
                name: a.name,
                password_hash: Some(password::hash(&pass)?),
                disabled: false,
                origin: Origin::Admin,
                created_at: now,
                updated_at: now,
            };
            match ctx.store.insert_user(&user).await {
                Err(latchkey_store::StoreError::Conflict(_)) => {
                    bail!("the username {:?} is taken", a.username)
                }
                other => other?,
            }
            events.emit(SecurityEvent::UserCreated { user_id: user.id.clone() });
            if a.json {
                let mut v = user_json(&user);
                if generated {
                    v["password"] = serde_json::json!(pass);
                }
                print_json(&v)?;
            } else {
                println!("id: {}", user.id);
                if generated {
                    println!("password: {pass}");
                    eprintln!("the generated password is shown once");
                }
            }
        }
        UserCommand::List(f) => {
            let users = ctx.store.list_users().await?;
            if f.json {
                print_json(&serde_json::json!(users.iter().map(user_json).collect::<Vec<_>>()))?;
            } else {
                println!("{:<32} {:<24} {:<9} EMAIL", "ID", "USERNAME", "STATUS");
                for u in users {
                    let status = if u.disabled { "disabled" } else { "active" };
                    println!("{:<32} {:<24} {:<9} {}", u.id, u.username, status, u.email.unwrap_or_default());
                }
            }
        }
        UserCommand::SetPassword(a) => {
            let user = find(&ctx, &a.username).await?;
            let hash = password::hash(&read_password_line()?)?;
            ctx.store.set_user_password_hash(&user.id, &hash, now).await?;
            events.emit(SecurityEvent::UserPasswordChanged { user_id: user.id });
            eprintln!("password changed for {}", a.username);
        }
        UserCommand::Disable(a) => {
            let user = find(&ctx, &a.username).await?;
            ctx.store.set_user_disabled(&user.id, true, now).await?;
            events.emit(SecurityEvent::UserDisabled { user_id: user.id });
            eprintln!("{} can no longer sign in", a.username);
        }
        UserCommand::Enable(a) => {
            let user = find(&ctx, &a.username).await?;
            ctx.store.set_user_disabled(&user.id, false, now).await?;
            eprintln!("{} can sign in again", a.username);
        }
        UserCommand::Remove(a) => {
            let user = find(&ctx, &a.username).await?;
            ctx.store.delete_user(&user.id).await?;
            events.emit(SecurityEvent::UserRemoved { user_id: user.id });
            eprintln!("removed {} with their sessions and grants", a.username);
        }
    }
    ctx.store.close().await;
    Ok(())
}
