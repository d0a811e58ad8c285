//! `latchkey serve`.

use anyhow::Result;
use latchkey_server::Server;

use crate::cli::{Global, ServeArgs};

pub async fn run(global: &Global, args: ServeArgs) -> Result<()> {
    let mut o = super::overrides(global)?;
    o.listen = args.listen;
    o.issuer = args.issuer;
    o.metrics_listen = args.metrics_listen;
    o.dev = args.dev;
    let config = super::load_config(&o)?;
    super::init_logging(config.log_format, "info");
    let server = Server::build(config).await?;
    let issuer = server.state().issuer.as_str().to_string();
    tracing::info!(issuer, backend = server.state().store.backend().as_str(), "latchkey ready");
    print_banner(&server, &issuer);
    server.run(shutdown_signal()).await?;
    Ok(())
}

fn print_banner(server: &Server, issuer: &str) {
    println!("Latchkey is running.");
    println!("  issuer:     {issuer}");
    println!("  discovery:  {}", server.state().issuer.endpoint("/.well-known/openid-configuration"));
    println!("  jwks:       {}", server.state().issuer.endpoint("/jwks"));
    if let Some(metrics) = server.metrics_addr() {
        println!("  metrics:    http://{metrics}/metrics");
    }
    if let Some(dev) = server.dev_sandbox() {
        println!();
        println!("Development sandbox (never use these outside development):");
        for (user, password) in &dev.users {
            println!("  user:       {user} / {password}");
        }
        println!("  SPA client (public, PKCE S256): {}", dev.spa_client_id);
        println!("    redirect URIs: {}", dev.spa_redirect_uris.join(", "));
        println!("  service client (client_secret_basic): {}", dev.service_client_id);
        println!("    secret:   {}", dev.service_client_secret);
        println!("  API resource: {} (scopes: {})", dev.resource, dev.resource_scopes.join(" "));
        println!();
        println!("Try it in a browser: {}", server.state().issuer.endpoint("/sandbox"));
        println!("Start here: curl {}", server.state().issuer.endpoint("/.well-known/openid-configuration"));
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
