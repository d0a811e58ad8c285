//! The developer portal in headless Chromium: runs tests/browser (Playwright
//! with Debian's chromium, axe-core on every page) against a real `--dev`
//! server. Needs node, `npm ci` in tests/browser and /usr/bin/chromium;
//! without them the test says so and skips, unless
//! LATCHKEY_BROWSER_TESTS=required (as in CI), where it fails instead.
//!
//! `LATCHKEY_SCREENSHOTS=<dir>` also saves a screenshot of every checked
//! page there (how the docs' screenshots are made).

use std::path::{Path, PathBuf};

use latchkey_testkit::Backend;

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/browser")
}

/// What is missing to run the browser tests, if anything.
fn missing() -> Option<String> {
    let dir = browser_dir();
    if std::process::Command::new("node").arg("--version").output().is_err() {
        return Some("node is not installed".into());
    }
    if !dir.join("node_modules/playwright-core").exists() || !dir.join("node_modules/axe-core").exists() {
        return Some(format!("run `npm ci` in {}", dir.display()));
    }
    let chromium = std::env::var_os("CHROMIUM").map(PathBuf::from).unwrap_or_else(|| "/usr/bin/chromium".into());
    if !chromium.exists() {
        return Some("Chromium is not installed (apt-get install -y chromium)".into());
    }
    None
}

#[tokio::test]
async fn the_portal_works_in_a_real_browser() {
    if let Some(what) = missing() {
        if std::env::var("LATCHKEY_BROWSER_TESTS").as_deref() == Ok("required") {
            panic!("browser tests are required but cannot run: {what}");
        }
        eprintln!("skipping the browser tests: {what} (LATCHKEY_BROWSER_TESTS=required makes this a failure)");
        return;
    }
    let mut setup = crate::setup_or_skip!(Backend::Sqlite);
    setup.dev = true;
    let server = setup.start().await.unwrap();
    let secret = server.state().dev_service_secret.clone().expect("the dev sandbox's service secret");
    let mut cmd = std::process::Command::new("node");
    cmd.current_dir(browser_dir()).arg("run.mjs").arg(server.issuer()).env("LATCHKEY_DEV_SERVICE_SECRET", secret);
    if let Some(dir) = std::env::var_os("LATCHKEY_SCREENSHOTS") {
        cmd.arg("--screenshots").arg(dir);
    }
    // On a blocking thread, so the server keeps answering on the runtime.
    let out = tokio::task::spawn_blocking(move || cmd.output()).await.unwrap().expect("running node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "browser specs failed:\n{stdout}");
    server.stop().await;
}
