//! `latchkey session`: a user's sessions and grants through a running
//! server's admin API (the real binary against a real server).

use latchkey_testkit::browser::Browser;
use latchkey_testkit::{Backend, TEST_ADMIN_KEY};

use crate::cli::latchkey;
use crate::sign_in::{WEB_REDIRECT, auth_url};

async fn list_ends_and_reports(backend: Backend) {
    let setup = crate::setup_or_skip!(backend).with_toml(&crate::sign_in::config());
    let server = setup.start().await.unwrap();
    let url = auth_url(
        &server,
        &[
            ("response_type", "code"),
            ("client_id", "web"),
            ("redirect_uri", WEB_REDIRECT),
            ("scope", "openid"),
            ("state", "s"),
        ],
    );
    Browser::new().authorize_to_redirect(&url, "alice", "alice-password").await.unwrap();

    let session = |args: &[&str]| {
        let mut cmd = latchkey();
        cmd.arg("session")
            .args(args)
            .arg("--server")
            .arg(&server.base_url)
            .env("LATCHKEY_DATABASE_URL", &setup.database.url)
            .env("LATCHKEY_DATA_DIR", setup.data_dir())
            .env("LATCHKEY_ADMIN_KEY", TEST_ADMIN_KEY);
        cmd.output().unwrap()
    };
    let out = session(&["list", "alice", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let sids: Vec<&str> = v["sessions"].as_array().unwrap().iter().filter_map(|s| s["sid"].as_str()).collect();
    assert_eq!(sids.len(), 1, "{v}");

    let out = session(&["end", sids[0]]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = session(&["list", "alice", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["sessions"].as_array().unwrap().len(), 0, "{v}");
    // Ending it again, or an unknown user: exit code 1 and a reason.
    let out = session(&["end", sids[0]]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not found"));
    let out = session(&["end-all", "nobody"]);
    assert_eq!(out.status.code(), Some(1));
    server.stop().await;
}
crate::both_backends!(list_ends_and_reports);
