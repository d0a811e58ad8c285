//! `latchkey audit tail|export`: the audit log as JSON lines (one event per
//! line, oldest first), through a running server's admin API
//! (`LATCHKEY_ADMIN_KEY`), so it works the same against any node.

use std::io::Write;

use anyhow::{Context, Result};
use reqwest::Method;
use serde_json::Value;

use super::AdminContext;
use super::session::{Api, seg};
use crate::cli::{AuditCommand, AuditFilter, Global};

/// Events per request when exporting or following.
const PAGE: u32 = 1000;

pub async fn run(global: &Global, cmd: AuditCommand) -> Result<()> {
    let ctx = AdminContext::open(global).await?;
    match cmd {
        AuditCommand::Tail { lines, follow, interval, filter, server } => {
            let api = Api::new(&ctx, &server)?;
            let base = filters(&ctx, &filter).await?;
            let interval = humantime::parse_duration(&interval)
                .with_context(|| format!("--interval: {interval:?} is not a duration like 2s"))?;
            let mut out = std::io::stdout().lock();
            let mut cursor = None;
            if lines > 0 {
                let page = api
                    .call(Method::GET, &format!("/admin/v1/audit/events?{base}order=desc&limit={}", lines.min(PAGE)))
                    .await?;
                let mut events = events(&page);
                events.reverse();
                cursor = events.last().and_then(|e| e["id"].as_i64());
                print(&mut out, &events)?;
            }
            if !follow {
                return Ok(());
            }
            if cursor.is_none() {
                // Start after the newest event, whatever it is.
                let page = api.call(Method::GET, &format!("/admin/v1/audit/events?{base}order=desc&limit=1")).await?;
                cursor = events(&page).first().and_then(|e| e["id"].as_i64());
            }
            loop {
                let after = cursor.map(|c| format!("cursor={c}&")).unwrap_or_default();
                let page = api.call(Method::GET, &format!("/admin/v1/audit/events?{base}{after}limit={PAGE}")).await?;
                let events = events(&page);
                if let Some(last) = events.last().and_then(|e| e["id"].as_i64()) {
                    cursor = Some(last);
                }
                print(&mut out, &events)?;
                if events.len() < PAGE as usize {
                    tokio::time::sleep(interval).await;
                }
            }
        }
        AuditCommand::Export { since, until, output, filter, server } => {
            let api = Api::new(&ctx, &server)?;
            let mut base = filters(&ctx, &filter).await?;
            for (name, value) in [("since", since), ("until", until)] {
                if let Some(v) = value {
                    base.push_str(&format!("{name}={}&", seg(&v)));
                }
            }
            let mut out: Box<dyn Write> = match &output {
                Some(path) => Box::new(std::io::BufWriter::new(
                    std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
                )),
                None => Box::new(std::io::stdout().lock()),
            };
            let mut cursor: Option<i64> = None;
            let mut total = 0usize;
            loop {
                let after = cursor.map(|c| format!("cursor={c}&")).unwrap_or_default();
                let page = api.call(Method::GET, &format!("/admin/v1/audit/events?{base}{after}limit={PAGE}")).await?;
                let events = events(&page);
                print(&mut out, &events)?;
                total += events.len();
                match page["next_cursor"].as_str().and_then(|c| c.parse().ok()) {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
            out.flush()?;
            eprintln!("{total} event(s) exported");
            Ok(())
        }
    }
}

/// The filters as `name=value&` pairs; a username becomes its user id.
async fn filters(ctx: &AdminContext, f: &AuditFilter) -> Result<String> {
    let mut q = String::new();
    if let Some(s) = &f.subject {
        // A username or user id; anything else is taken as it is (an entity).
        let subject = super::session::user_id(ctx, s).await.unwrap_or_else(|_| s.clone());
        q.push_str(&format!("subject={}&", seg(&subject)));
    }
    for (name, value) in [("client_id", &f.client), ("type", &f.kind), ("outcome", &f.outcome)] {
        if let Some(v) = value {
            q.push_str(&format!("{name}={}&", seg(v)));
        }
    }
    Ok(q)
}

fn events(page: &Value) -> Vec<Value> {
    page["events"].as_array().cloned().unwrap_or_default()
}

fn print(out: &mut dyn Write, events: &[Value]) -> Result<()> {
    for e in events {
        writeln!(out, "{}", serde_json::to_string(e)?)?;
    }
    out.flush()?;
    Ok(())
}
