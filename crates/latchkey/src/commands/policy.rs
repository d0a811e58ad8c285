//! `latchkey policy`: validate, test and format Cedar policies locally
//! (like the `cedar` CLI, no store needed), list and show stored versions,
//! publish a new one. Publishing writes the version and a change event: every
//! running node switches to it within a poll interval.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use latchkey_authz::{EntityData, EntityRef, PolicySet, Query};
use latchkey_server::authz::config::{BUILT_IN_PROTECTED, SeedEntity};
use serde_json::{Map, Value, json};

use super::{AdminContext, Negative, StderrSink, print_json};
use crate::cli::{Global, PolicyCommand, PolicyFiles, PolicyFmtArgs, PolicyTestArgs};

pub async fn run(global: &Global, cmd: PolicyCommand) -> Result<()> {
    match cmd {
        PolicyCommand::Validate(files) => {
            let (_, _, set) = compile(&files)?;
            if files.json {
                print_json(&json!({ "valid": true, "policies": set.policies().collect::<Vec<_>>() }))?;
            } else {
                for p in set.policies() {
                    println!("{}\t{}", p.id, p.effect);
                }
                eprintln!("{} policies valid against the schema", set.len());
            }
            Ok(())
        }
        PolicyCommand::Test(args) => test(&args),
        PolicyCommand::Fmt(args) => fmt(&args),
        PolicyCommand::List(flag) => {
            let ctx = AdminContext::open(global).await?;
            let versions = ctx.store.policy_versions(100).await?;
            if flag.json {
                return print_json(&json!({ "versions": versions }));
            }
            for v in versions {
                println!("{}\t{}\t{}\t{}", v.version, v.created_at, v.source, v.comment.unwrap_or_default());
            }
            Ok(())
        }
        PolicyCommand::Show(args) => {
            let ctx = AdminContext::open(global).await?;
            let v = match args.version {
                Some(n) => ctx.store.policy_version(n).await?,
                None => ctx.store.active_policy_version().await?,
            };
            let Some(v) = v else { bail!("no such policy version") };
            if args.json {
                return print_json(&serde_json::to_value(&v)?);
            }
            println!("{}", v.policies);
            Ok(())
        }
        PolicyCommand::Put(args) => {
            let (schema, policies, _) = compile(&args.files)?;
            let ctx = AdminContext::open(global).await?;
            let runtime = latchkey_server::authz::Runtime::default();
            let put = latchkey_server::authz::policies::put(
                &ctx.store,
                &runtime,
                &StderrSink,
                &schema,
                &policies,
                "cli",
                "cli",
                args.comment.as_deref(),
            )
            .await?;
            if args.files.json {
                return print_json(&json!({ "version": put.version, "unchanged": put.unchanged }));
            }
            if put.unchanged {
                eprintln!("unchanged: version {} is already active", put.version);
            } else {
                eprintln!("published version {}", put.version);
            }
            println!("{}", put.version);
            Ok(())
        }
    }
}

/// `policy fmt`: every file is read and formatted before anything is
/// written, so a parse error in one file leaves all of them untouched.
fn fmt(args: &PolicyFmtArgs) -> Result<()> {
    let stdin = std::path::Path::new("-");
    if args.write && args.files.iter().any(|f| f == stdin) {
        bail!("--write cannot rewrite stdin (-): leave out --write to print the formatted text");
    }
    let mut results = Vec::new();
    for path in &args.files {
        let (name, text) = if path == stdin {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).context("reading stdin")?;
            ("<stdin>".to_owned(), text)
        } else {
            (path.display().to_string(), read(path)?)
        };
        let formatted = latchkey_authz::format_policies(&text, args.line_width, args.indent_width)
            .with_context(|| format!("{name}: not valid Cedar"))?;
        results.push((path, name, text != formatted, formatted));
    }
    let changed: Vec<&str> = results.iter().filter(|r| r.2).map(|r| r.1.as_str()).collect();
    if args.check {
        for name in &changed {
            eprintln!("not formatted: {name}");
        }
        if !changed.is_empty() {
            eprintln!("{} of {} file(s) would be reformatted (run with --write)", changed.len(), results.len());
            return Err(Negative.into());
        }
        eprintln!("{} file(s) already formatted", results.len());
        return Ok(());
    }
    if args.write {
        for (path, name, differs, formatted) in &results {
            if *differs {
                std::fs::write(path, formatted).with_context(|| format!("writing {name}"))?;
                eprintln!("formatted {name}");
            }
        }
        eprintln!("{} of {} file(s) reformatted", changed.len(), results.len());
        return Ok(());
    }
    // On stdout, one file after the other (a blank line between two, so
    // the whole is still one policy set).
    let mut out = String::new();
    for (_, _, _, formatted) in &results {
        if !out.is_empty() && !formatted.is_empty() {
            out.push('\n');
        }
        out.push_str(formatted);
    }
    std::io::Write::write_all(&mut std::io::stdout(), out.as_bytes()).context("writing stdout")?;
    Ok(())
}

fn read(path: &PathBuf) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

fn compile(files: &PolicyFiles) -> Result<(String, String, PolicySet)> {
    let schema = read(&files.schema)?;
    let mut policies = String::new();
    for p in &files.policies {
        policies.push_str(&read(p)?);
        policies.push('\n');
    }
    let set = PolicySet::compile(&schema, &policies)?;
    Ok((schema, policies, set))
}

/// Entities by (type, id), with their parents expanded transitively.
struct Directory(HashMap<(String, String), SeedEntity>);

impl Directory {
    fn ancestors(&self, parents: &[latchkey_store::ParentRef]) -> Vec<EntityRef> {
        let mut out: Vec<EntityRef> = Vec::new();
        let mut queue = parents.to_vec();
        while let Some(p) = queue.pop() {
            let r = EntityRef::new(p.ty.clone(), p.id.clone());
            if out.contains(&r) || out.len() >= 64 {
                continue;
            }
            out.push(r);
            if let Some(e) = self.0.get(&(p.ty, p.id)) {
                queue.extend(e.parents.iter().cloned());
            }
        }
        out
    }

    /// The entity as the decision point builds it: request properties,
    /// overridden by stored attributes (and, for subjects, never the
    /// protected names).
    fn build(&self, v: &Value, subject: bool) -> Result<EntityData> {
        let ty = v["type"].as_str().context("type missing")?;
        let id = v["id"].as_str().context("id missing")?;
        let mut e = EntityData::new(ty, id);
        let stored = self.0.get(&(ty.to_owned(), id.to_owned()));
        if let Some(props) = v["properties"].as_object() {
            for (k, val) in props {
                let held = stored.is_some_and(|s| s.attributes.contains_key(k));
                if !(subject && (BUILT_IN_PROTECTED.contains(&k.as_str()) || held)) {
                    e.attrs.insert(k.clone(), val.clone());
                }
            }
        }
        if let Some(s) = stored {
            e.attrs.extend(s.attributes.clone());
            e.parents = self.ancestors(&s.parents);
        }
        Ok(e)
    }
}

fn test(args: &PolicyTestArgs) -> Result<()> {
    let (_, _, set) = compile(&args.files)?;
    let mut dir = HashMap::new();
    for path in &args.entities {
        let list: Vec<SeedEntity> =
            serde_json::from_str(&read(path)?).with_context(|| format!("entities in {}", path.display()))?;
        for e in list {
            dir.insert((e.ty.clone(), e.id.clone()), e);
        }
    }
    let dir = Directory(dir);
    let cases: Vec<Value> = serde_json::from_str(&read(&args.cases)?).context("test cases")?;
    let mut failed = 0;
    let mut report = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let r = &case["request"];
        let principal = dir.build(&r["subject"], true).with_context(|| format!("case {i}: subject"))?;
        let resource = dir.build(&r["resource"], false).with_context(|| format!("case {i}: resource"))?;
        let action = r["action"]["name"].as_str().with_context(|| format!("case {i}: action.name missing"))?;
        let mut context: Map<String, Value> = r["context"].as_object().cloned().unwrap_or_default();
        context.insert("now".into(), Value::from(latchkey_domain::UnixTime::now().0));
        let out = set.decide(&Query {
            principal: &principal,
            action,
            resource: &resource,
            context: &context,
            capability: false,
        });
        let expected = case["expected"].as_bool();
        let pass = expected.is_none_or(|e| e == out.allow);
        if !pass {
            failed += 1;
            eprintln!(
                "FAIL case {i}: {} {action} {}::{}: expected {}, got {} (reasons {:?}, errors {:?})",
                principal.id,
                resource.ty,
                resource.id,
                expected.unwrap_or_default(),
                out.allow,
                out.reasons,
                out.errors
            );
        }
        report.push(
            json!({ "case": i, "decision": out.allow, "expected": expected, "pass": pass, "reasons": out.reasons }),
        );
    }
    if args.files.json {
        print_json(&json!({ "failed": failed, "results": report }))?;
    }
    eprintln!("{} of {} cases pass", cases.len() - failed, cases.len());
    if failed > 0 {
        bail!("{failed} test case(s) failed");
    }
    Ok(())
}
