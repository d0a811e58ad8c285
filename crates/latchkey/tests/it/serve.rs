//! `latchkey serve` as a process: the README's dev command, refusals with
//! one clear line, and graceful shutdown on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::cli::latchkey;

/// Reads the child's stdout until the issuer line, bounded in time.
fn read_issuer(child: &mut std::process::Child) -> (String, Vec<String>) {
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut lines = Vec::new();
    while Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            lines.push(line.clone());
            if line.starts_with("Start here:") {
                let issuer = lines.iter().find_map(|l| l.trim().strip_prefix("issuer:")).unwrap().trim().to_string();
                return (issuer, lines);
            }
        }
    }
    panic!("no banner: {lines:?}");
}

/// The README's command, on either store: the sandbox comes up, serves
/// discovery, and stops cleanly on SIGTERM.
async fn dev_server_runs_and_stops_gracefully(backend: latchkey_testkit::Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(db) = latchkey_testkit::TestDatabase::create(backend, dir.path()).await.unwrap() else { return };
    let mut child = latchkey()
        .args(["serve", "--dev", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .arg("--database-url")
        .arg(&db.url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (issuer, banner) = read_issuer(&mut child);
    let text = banner.join("\n");
    for expected in
        ["alice / alice-sandbox-password", "sandbox-spa", "sandbox-service", "secret:", "https://api.example.com"]
    {
        assert!(text.contains(expected), "banner lacks {expected}: {text}");
    }
    let http = reqwest::Client::new();
    let doc: serde_json::Value =
        http.get(format!("{issuer}/.well-known/openid-configuration")).send().await.unwrap().json().await.unwrap();
    assert_eq!(doc["issuer"], issuer.as_str());
    let jwks: serde_json::Value = http.get(format!("{issuer}/jwks")).send().await.unwrap().json().await.unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
    let ready: serde_json::Value = http.get(format!("{issuer}/readyz")).send().await.unwrap().json().await.unwrap();
    assert_eq!(ready["store"], if backend == latchkey_testkit::Backend::Sqlite { "sqlite" } else { "postgres" });
    assert!(dir.path().join("master.key").exists());

    let status = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(code) = child.try_wait().unwrap() {
            assert!(code.success(), "graceful shutdown exits 0: {code:?}");
            break;
        }
        assert!(Instant::now() < deadline, "did not stop on SIGTERM");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
crate::both_backends!(dev_server_runs_and_stops_gracefully);

fn refusal(args: &[&str], env: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = latchkey();
    cmd.args(args).arg("--data-dir").arg(dir.path());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{args:?} must fail");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.trim().lines().count(), 1, "one clear line: {stderr}");
    assert!(!dir.path().join("latchkey.db").exists() || args.contains(&"--keep"), "no data touched");
    stderr
}

#[test]
fn refusals_are_one_clear_line() {
    let e = refusal(&["serve", "--dev", "--listen", "0.0.0.0:0"], &[]);
    assert!(e.contains("--dev refuses the non-loopback address"), "{e}");
    let e = refusal(&["serve", "--listen", "127.0.0.1:0"], &[]);
    assert!(e.contains("LATCHKEY_MASTER_KEY is required outside --dev"), "{e}");
    let e = refusal(&["serve", "--listen", "127.0.0.1:0"], &[("LATCHKEY_MASTER_KEY", "nope")]);
    assert!(e.contains("malformed"), "{e}");
    let e = refusal(&["serve", "--issuer", "http://auth.example.com"], &[]);
    assert!(e.contains("must use https"), "{e}");
    let e = refusal(
        &["serve", "--dev", "--listen", "127.0.0.1:0", "--database-url", "postgres://postgres@127.0.0.1:1/none"],
        &[],
    );
    assert!(e.contains("cannot reach the database at postgres://postgres@127.0.0.1:1/none"), "{e}");
    let e = refusal(&["serve", "--config", "/nonexistent.toml"], &[]);
    assert!(e.contains("cannot read config file"), "{e}");
}
