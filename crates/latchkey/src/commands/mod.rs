//! One module per command group; shared start-up steps live here.

mod audit;
mod authz;
mod client;
mod code_flow;
mod doctor;
mod errors;
mod jwt;
mod key;
mod pkce;
mod policy;
mod serve;
mod session;
mod token;
mod user;

use anyhow::{Context, Result};
use latchkey_server::config::{Config, LogFormat, Overrides};
use latchkey_store::{Store, StoreOptions};

use crate::cli::{Cli, Command, Global};

pub async fn run(cli: Cli) -> Result<()> {
    let result = match cli.command {
        Command::Serve(args) => serve::run(&cli.global, args).await,
        Command::Client(cmd) => client::run(&cli.global, cmd).await,
        Command::User(cmd) => user::run(&cli.global, cmd).await,
        Command::Key(cmd) => key::run(&cli.global, cmd).await,
        Command::Policy(cmd) => policy::run(&cli.global, cmd).await,
        Command::Session(cmd) => session::run(&cli.global, cmd).await,
        Command::Audit(cmd) => audit::run(&cli.global, cmd).await,
        Command::Jwt(cmd) => jwt::run(cmd).await,
        Command::Pkce(args) => pkce::run(args),
        Command::Errors(cmd) => errors::run(cmd),
        Command::Authz(cmd) => authz::run(&cli.global, cmd).await,
        Command::Doctor(args) => doctor::run(args).await,
        Command::Token(cmd) => token::run(cmd).await,
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "latchkey", &mut std::io::stdout());
            Ok(())
        }
    };
    // What the command changed goes to the audit log too, whether or not
    // it then failed.
    let recorded = std::mem::take(&mut *RECORDED.lock().unwrap_or_else(|p| p.into_inner()));
    if !recorded.is_empty()
        && let Err(e) = write_audit(&cli.global, &recorded).await
    {
        eprintln!("warning: {} audit event(s) could not be written: {e:#}", recorded.len());
    }
    result
}

/// A command's negative answer (exit code 2): a deny, an invalid token.
/// What to say was already printed.
#[derive(Debug)]
pub struct Negative;

impl std::fmt::Display for Negative {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("negative answer")
    }
}

impl std::error::Error for Negative {}

/// Reads a value given on the command line, or stdin for `-`.
pub fn arg_or_stdin(value: &str) -> Result<String> {
    if value != "-" {
        return Ok(value.to_owned());
    }
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).context("reading stdin")?;
    Ok(text.trim().to_owned())
}

/// Audit events of this command, written once it is done.
static RECORDED: std::sync::Mutex<Vec<latchkey_domain::AuditRecord>> = std::sync::Mutex::new(Vec::new());

async fn write_audit(global: &Global, records: &[latchkey_domain::AuditRecord]) -> Result<()> {
    let ctx = AdminContext::open(global).await?;
    ctx.store.append_audit(records).await?;
    Ok(())
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Global flags and secret environment variables as config overrides.
/// Secrets come from the environment only, never from flags (which other
/// users can read in the process list).
pub fn overrides(global: &Global) -> Result<Overrides> {
    let log_format =
        global.log_format.as_deref().map(|f| f.parse::<LogFormat>().map_err(anyhow::Error::msg)).transpose()?;
    Ok(Overrides {
        config_file: global.config.clone(),
        data_dir: global.data_dir.clone(),
        database_url: global.database_url.clone(),
        log_format,
        master_key: env("LATCHKEY_MASTER_KEY"),
        admin_key: env("LATCHKEY_ADMIN_KEY"),
        ..Overrides::default()
    })
}

pub fn load_config(overrides: &Overrides) -> Result<Config> {
    Ok(Config::load(overrides, &|name| std::env::var(name).ok())?)
}

pub fn init_logging(format: LogFormat, default_level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// For administration commands: the config, the store, and (lazily) the
/// master key.
pub struct AdminContext {
    pub config: Config,
    pub store: Store,
}

impl AdminContext {
    pub async fn open(global: &Global) -> Result<AdminContext> {
        let o = overrides(global)?;
        let config = load_config(&o)?;
        init_logging(config.log_format, "warn");
        let store = Store::connect(
            config.database_url.expose(),
            &StoreOptions { max_connections: 2, connect_timeout: config.database_connect_timeout },
        )
        .await
        .context("opening the store (check --database-url / --data-dir)")?;
        Ok(AdminContext { config, store })
    }

    /// The master key from the environment or config (for a sandbox store,
    /// the dev key file beside it), checked against the store before
    /// anything is sealed with it.
    pub async fn master_key(&self) -> Result<latchkey_crypto::MasterKey> {
        let mut config = self.config.clone();
        let dev_file = config.data_dir.join(latchkey_server::master_key::DEV_MASTER_KEY_FILE);
        if config.master_key.is_none() && dev_file.exists() {
            config.dev = true;
        }
        let master = latchkey_server::master_key::resolve(&config)?;
        let manager = latchkey_server::keyring::KeyManager { store: &self.store, master: &master, events: &StderrSink };
        manager.verify_master_key().await?;
        Ok(master)
    }
}

/// Prints JSON on stdout.
pub fn print_json(value: &serde_json::Value) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

pub fn duration_secs(flag: &str, value: Option<&String>) -> Result<Option<u64>> {
    value
        .map(|v| {
            humantime::parse_duration(v)
                .map(|d| d.as_secs())
                .with_context(|| format!("--{flag}: {v:?} is not a duration like 5m or 1h"))
        })
        .transpose()
}

/// Prints security events produced by a command to stderr (diagnostics)
/// and keeps them for the audit log, with the operator's account as actor.
pub struct StderrSink;

impl latchkey_domain::EventSink for StderrSink {
    fn emit(&self, event: latchkey_domain::SecurityEvent) {
        tracing::info!(target: "latchkey::security", event = event.name(), details = %serde_json::to_string(&event).unwrap_or_default(), "security event");
        let user = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "unknown".into());
        let origin = latchkey_domain::EventOrigin { actor: Some(format!("cli:{user}")), ..Default::default() };
        let record =
            latchkey_domain::AuditRecord::new(&event, origin, latchkey_domain::time::now_millis(), Some("cli".into()));
        RECORDED.lock().unwrap_or_else(|p| p.into_inner()).push(record);
    }
}
