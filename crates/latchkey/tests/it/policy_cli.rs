//! `latchkey policy`: validate and test locally, publish to the store, and
//! a running server switches to the published version.

use std::path::{Path, PathBuf};
use std::process::Output;

use latchkey_testkit::{Backend, Setup, eventually};
use serde_json::json;

use crate::cli::latchkey;

fn example(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/authzen-interop").join(file)
}

fn policy(args: &[&str], setup: Option<&Setup>) -> Output {
    let mut cmd = latchkey();
    cmd.arg("policy").args(args);
    if let Some(s) = setup {
        cmd.env("LATCHKEY_DATABASE_URL", &s.database.url).env("LATCHKEY_DATA_DIR", s.data_dir());
    }
    cmd.output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn example_files() -> Vec<String> {
    ["todo.cedar", "gateway.cedar", "search.cedar"].iter().map(|f| example(f).display().to_string()).collect()
}

#[test]
fn validate_names_each_policy_and_refuses_invalid_ones() {
    let schema = example("schema.cedarschema").display().to_string();
    let mut args = vec!["validate", "--schema", &schema];
    let files = example_files();
    args.extend(files.iter().map(String::as_str));
    let out = policy(&args, None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("todo-create\tpermit"));

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.cedar");
    std::fs::write(&bad, "permit(principal, action == Action::\"fly\", resource);").unwrap();
    let out = policy(&["validate", "--schema", &schema, bad.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("fly"), "{}", text(&out.stderr));
}

#[test]
fn test_runs_cases_against_local_entities() {
    let dir = tempfile::tempdir().unwrap();
    let cases = dir.path().join("cases.json");
    let rick = "CiRmZDA2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs";
    let beth = "CiRmZDM2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs";
    let case = |who: &str, expected: bool| {
        json!({ "request": { "subject": { "type": "user", "id": who }, "action": { "name": "can_create_todo" },
                             "resource": { "type": "todo", "id": "t1" } }, "expected": expected })
    };
    std::fs::write(&cases, json!([case(rick, true), case(beth, false)]).to_string()).unwrap();
    let schema = example("schema.cedarschema").display().to_string();
    let entities = example("entities.json").display().to_string();
    let files = example_files();
    let mut args = vec!["test", "--schema", &schema, "--entities", &entities, "--cases", cases.to_str().unwrap()];
    args.extend(files.iter().map(String::as_str));
    let out = policy(&args, None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("2 of 2 cases pass"));

    // Beth is a viewer: expecting her to create a todo fails the run.
    std::fs::write(&cases, json!([case(beth, true)]).to_string()).unwrap();
    let out = policy(&args, None);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("FAIL case 0"), "{}", text(&out.stderr));
}

async fn put_reaches_a_running_server(backend: Backend) {
    let Some((setup, server)) = crate::authzen_interop::interop_server(backend).await else { return };
    let ask = || async {
        let body = json!({ "subject": { "type": "identity", "id": "CiRmZDA2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs" },
                           "action": { "name": "GET" }, "resource": { "type": "route", "id": "/todos" } });
        let resp = server
            .http
            .post(server.url("/access/v1/evaluation"))
            .header("authorization", crate::authzen_interop::PEP_KEY)
            .json(&body)
            .send()
            .await
            .unwrap();
        resp.json::<serde_json::Value>().await.unwrap()["decision"] == true
    };
    assert!(ask().await);

    // A version without the gateway's GET rule, published from the CLI.
    let dir = tempfile::tempdir().unwrap();
    let gateway = std::fs::read_to_string(example("gateway.cedar")).unwrap();
    let stricter = dir.path().join("gateway.cedar");
    std::fs::write(&stricter, gateway.replace("@id(\"gateway-get\")\npermit", "@id(\"gateway-get\")\nforbid")).unwrap();
    let schema = example("schema.cedarschema").display().to_string();
    let (todo, search) = (example("todo.cedar"), example("search.cedar"));
    let args = [
        "put",
        "--schema",
        &schema,
        "--comment",
        "no reads",
        todo.to_str().unwrap(),
        stricter.to_str().unwrap(),
        search.to_str().unwrap(),
    ];
    let out = policy(&args, Some(&setup));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let version: i64 = text(&out.stdout).trim().parse().unwrap();
    eventually("the server switches to the new version", || async { !ask().await }).await.unwrap();

    let out = policy(&["list", "--json"], Some(&setup));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list["versions"][0]["version"], version);
    assert_eq!(list["versions"][0]["comment"], "no reads");
    assert_eq!(list["versions"][0]["source"], "cli");
    server.stop().await;
}
crate::both_backends!(put_reaches_a_running_server);

fn scenario(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/scenarios").join(file)
}

/// `policy validate --json`'s list: what the policies are, by id.
fn meaning(file: &Path) -> serde_json::Value {
    let schema = scenario("schema.cedarschema").display().to_string();
    let out = policy(&["validate", "--json", "--schema", &schema, file.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["policies"].clone()
}

#[test]
fn fmt_formats_checks_and_rewrites_without_changing_meaning() {
    let original = std::fs::read_to_string(scenario("policies.cedar")).unwrap();
    // The scenarios' policies made messy: spacing, indentation, a
    // comment at the end of a line and one inside a condition.
    let messy = original
        .replace("resource == Api::\"profile\");", "resource == Api::\"profile\");   // public\n")
        .replace("principal.risk_score >= 80", "// the fraud threshold\n principal.risk_score>=80")
        .replace(" == ", "==")
        .replace(", ", " ,")
        .replace("when { ", "when{\n        ")
        .replace("\npermit", "\n   permit");
    assert!(messy.contains("// public") && messy.contains("// the fraud threshold"));
    assert_ne!(messy, original);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policies.cedar");
    std::fs::write(&file, &messy).unwrap();
    let path = file.to_str().unwrap();

    // Printed on stdout; the file is left alone.
    let out = policy(&["fmt", path], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let formatted = text(&out.stdout);
    assert_ne!(formatted, messy);
    assert!(formatted.contains("principal.risk_score >= 80"), "{formatted}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), messy);
    // Every comment and annotation is still there.
    for line in messy.lines().chain(["// public"]) {
        let line = line.trim();
        if line.starts_with("//") || line.starts_with('@') {
            assert!(formatted.contains(line), "{line:?} lost:\n{formatted}");
        }
    }

    // --check: exit 2 naming the file, nothing written.
    let out = policy(&["fmt", "--check", path], None);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains(path), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), messy);

    // --write: the file becomes what was printed; then --check passes.
    let out = policy(&["fmt", "--write", path], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), formatted);
    let out = policy(&["fmt", "--check", path], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    // The same policies: ids, effects, requirements, against the schema.
    let before = dir.path().join("before.cedar");
    std::fs::write(&before, &messy).unwrap();
    assert_eq!(meaning(&file), meaning(&before));
    assert_eq!(meaning(&file), meaning(&scenario("policies.cedar")));

    // From stdin, the same text.
    let mut cmd = latchkey();
    cmd.args(["policy", "fmt", "-"]).stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), messy.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), formatted);

    // A parse error: exit 1 with where it is, no file touched.
    let broken = dir.path().join("broken.cedar");
    std::fs::write(&broken, "permit(principal, action, resource)\nwhen { principal. };\n").unwrap();
    std::fs::write(&before, &messy).unwrap();
    let out = policy(&["fmt", "--write", before.to_str().unwrap(), broken.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("broken.cedar") && text(&out.stderr).contains("line 2"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&before).unwrap(), messy, "nothing written when one file fails");
}
