//! Every integration test of the workspace, in one binary (link time
//! matters on 2 cores). Tests are black-box where they can be: a real server
//! on 127.0.0.1, real stores, the real `latchkey` binary.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod admin;
mod admin_sessions;
mod assertion;
mod audit;
mod authz_scenarios;
mod authzen_interop;
mod authzen_protocol;
mod browser;
mod cli;
mod config;
mod dev_cli;
mod discovery;
mod exchange;
mod http_edge;
mod keys;
mod logout;
mod machine;
mod mfa;
mod nodes;
mod openapi;
mod policy_cli;
mod portal;
mod rate_limits;
mod resource_kit;
mod sandbox;
mod serve;
mod session_cli;
mod sign_in;
mod signup;
mod static_config;
mod store;
mod throttle;

/// Runs an `async fn(Backend)` test once per backend.
#[macro_export]
macro_rules! both_backends {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(latchkey_testkit::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(latchkey_testkit::Backend::Postgres).await
            }
        }
    };
}

/// Starts a setup for `backend` or returns from the test (PostgreSQL not
/// configured: the kit printed why).
#[macro_export]
macro_rules! setup_or_skip {
    ($backend:expr) => {
        match latchkey_testkit::Setup::new($backend).await.expect("test setup") {
            Some(s) => s,
            None => return,
        }
    };
}
