//! The command line. Data goes to stdout, diagnostics to stderr; `--json`
//! gives machine-readable output. Exit codes: 0 success, 1 error, 2 usage.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "latchkey",
    version,
    about = "OAuth 2.0 / OpenID Connect authorization server with a real-time authorization API"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Settings every command shares (they locate the store).
#[derive(Debug, Args)]
pub struct Global {
    /// TOML configuration file.
    #[arg(long, global = true, env = "LATCHKEY_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Directory for the embedded store and dev files [default: ./latchkey-data].
    #[arg(long, global = true, env = "LATCHKEY_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// sqlite:PATH or postgres://… [default: a SQLite file in the data dir].
    #[arg(long, global = true, env = "LATCHKEY_DATABASE_URL", value_name = "URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Log format: text or json.
    #[arg(long, global = true, env = "LATCHKEY_LOG_FORMAT", value_name = "FORMAT")]
    pub log_format: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Manage OAuth clients.
    #[command(subcommand)]
    Client(ClientCommand),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage signing keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Cedar policies of the decision point: validate, test, publish.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// A user's sessions, grants and consents, through a running server's
    /// admin API (so back-channel logout and every node's caches follow).
    #[command(subcommand)]
    Session(SessionCommand),
    /// The audit log, through a running server's admin API, as JSON lines.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Decode a JWT, or verify one with every check explained.
    #[command(subcommand)]
    Jwt(JwtCommand),
    /// A PKCE code verifier and its S256 challenge (RFC 7636).
    Pkce(PkceArgs),
    /// The error reference: what an OAuth error code means and what to do.
    #[command(subcommand)]
    Errors(ErrorsCommand),
    /// Ask a decision point (AuthZEN). Exit code 0: allow, 2: deny, 1: error.
    #[command(subcommand)]
    Authz(AuthzCommand),
    /// Tokens from any issuer (found through its discovery document):
    /// get, introspect, revoke.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Shell completions, on stdout (e.g. `latchkey completions bash > /etc/bash_completion.d/latchkey`).
    Completions { shell: clap_complete::Shell },
    /// Cross-check an issuer: discovery, metadata, JWKS, clock, endpoints,
    /// and optionally a client's redirect URI. Exit code 0: fine (warnings
    /// allowed), 2: a check failed, 1: the issuer is unreachable.
    Doctor(DoctorArgs),
}

/// A client's credentials at an issuer. The secret comes from
/// LATCHKEY_CLIENT_SECRET (never a flag: other users can read flags).
#[derive(Debug, Args)]
pub struct ClientArgs {
    /// The issuer identifier.
    #[arg(long)]
    pub issuer: String,
    #[arg(long, allow_hyphen_values = true)]
    pub client_id: String,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Runs a grant: client_credentials (default), authorization_code (a
    /// browser sign-in, redirected to a loopback listener) or refresh_token.
    Get(Box<TokenGetArgs>),
    /// RFC 7662 introspection; exit code 0 active, 2 inactive.
    Introspect {
        #[command(flatten)]
        client: ClientArgs,
        /// The token, or - for stdin.
        token: String,
    },
    /// RFC 7009 revocation.
    Revoke {
        #[command(flatten)]
        client: ClientArgs,
        /// The token, or - for stdin.
        token: String,
    },
}

/// `token get`. A secret (LATCHKEY_CLIENT_SECRET) makes a confidential
/// client (client_secret_basic); without one, authorization_code and
/// refresh_token run as a public client.
#[derive(Debug, Args)]
pub struct TokenGetArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// The grant to run.
    #[arg(
        long,
        default_value = "client_credentials",
        value_parser = ["client_credentials", "authorization_code", "refresh_token"]
    )]
    pub grant: String,
    /// Space-separated scopes to ask for [authorization_code: openid].
    #[arg(long)]
    pub scope: Option<String>,
    /// The API the token is for (RFC 8707).
    #[arg(long)]
    pub resource: Option<String>,
    /// For refresh_token: the refresh token, or - for stdin.
    #[arg(long)]
    pub refresh_token: Option<String>,
    /// authorization_code: the loopback redirect URI to listen on,
    /// http://127.0.0.1[:PORT]/PATH; without a port a free one is taken
    /// (RFC 8252 §7.3) [default: http://127.0.0.1:<free port>/callback].
    #[arg(long, value_name = "URI")]
    pub redirect_uri: Option<String>,
    /// authorization_code: only print the authorization URL (on stderr), open no browser.
    #[arg(long)]
    pub no_browser: bool,
    /// authorization_code: how long to wait for the browser to come back.
    #[arg(long, default_value = "5m", value_name = "DURATION")]
    pub timeout: String,
    /// authorization_code: acr_values to ask for (e.g. urn:latchkey:acr:mfa).
    #[arg(long)]
    pub acr_values: Option<String>,
    /// authorization_code: prompt (none, login, consent or select_account).
    #[arg(long)]
    pub prompt: Option<String>,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The issuer identifier, e.g. https://auth.example.com.
    pub issuer: String,
    /// With --redirect-uri: check that this client may use that redirect URI.
    #[arg(long, requires = "redirect_uri", allow_hyphen_values = true)]
    pub client_id: Option<String>,
    #[arg(long, requires = "client_id")]
    pub redirect_uri: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum JwtCommand {
    /// Header and claims as JSON, without verifying anything.
    Decode {
        /// The token, or - to read it from stdin.
        token: String,
    },
    /// Every check with pass, fail or skipped, and a hint for each failure.
    /// Exit code 0: valid, 2: invalid, 1: error (e.g. keys unreachable).
    Verify(JwtVerifyArgs),
    /// Signs claims with a private key (PKCS#8 PEM), for tests and tools.
    Sign(JwtSignArgs),
}

#[derive(Debug, Args)]
pub struct JwtSignArgs {
    /// The private key, PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----").
    #[arg(long, value_name = "FILE")]
    pub key: std::path::PathBuf,
    /// ES256, RS256, PS256 or EdDSA (the key's type must match).
    #[arg(long)]
    pub alg: String,
    /// The claims as a JSON object, or - for stdin; iat and exp are added
    /// when absent. Not needed with --public-jwk.
    #[arg(required_unless_present = "public_jwk")]
    pub claims: Option<String>,
    /// The header's typ.
    #[arg(long, default_value = "at+jwt")]
    pub typ: String,
    /// The lifetime when the claims have no exp.
    #[arg(long, default_value = "5m", value_name = "DURATION")]
    pub expires_in: String,
    /// Print the key's public JWK (kid included) instead of signing.
    #[arg(long)]
    pub public_jwk: bool,
}

#[derive(Debug, Args)]
pub struct JwtVerifyArgs {
    /// The token, or - to read it from stdin.
    pub token: String,
    /// The expected issuer; its JWKS is found through discovery unless --jwks is given.
    #[arg(long)]
    pub issuer: Option<String>,
    /// The expected audience (an API identifier).
    #[arg(long)]
    pub audience: Option<String>,
    /// Keys: a JWKS or JWK file, or a JWKS URL.
    #[arg(long, value_name = "FILE|URL")]
    pub jwks: Option<String>,
    /// A scope the token must carry (repeatable).
    #[arg(long = "scope", value_name = "SCOPE")]
    pub scopes: Vec<String>,
    /// Accept any `typ` (e.g. an ID token); by default `at+jwt` is required.
    #[arg(long)]
    pub any_type: bool,
    /// Clock skew allowed on exp, nbf and iat.
    #[arg(long, default_value = "5s", value_name = "DURATION")]
    pub leeway: String,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PkceArgs {
    /// Check this verifier and print its challenge, instead of making one.
    #[arg(long, allow_hyphen_values = true)]
    pub verifier: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ErrorsCommand {
    /// Every error code, one per line.
    List,
    /// What one error code means and what to do about it.
    Show {
        code: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuthzCommand {
    /// One AuthZEN evaluation. The caller's key comes from LATCHKEY_PEP_KEY.
    Check(AuthzCheckArgs),
}

#[derive(Debug, Args)]
pub struct AuthzCheckArgs {
    /// The subject as TYPE:ID (e.g. User:alice).
    #[arg(long, required_unless_present = "subject_token", allow_hyphen_values = true)]
    pub subject: Option<String>,
    /// An access token as the subject instead.
    #[arg(long, conflicts_with = "subject")]
    pub subject_token: Option<String>,
    /// The action's name.
    #[arg(long)]
    pub action: String,
    /// The resource as TYPE:ID.
    #[arg(long, allow_hyphen_values = true)]
    pub resource: String,
    /// Print the whole answer as JSON.
    #[arg(long)]
    pub json: bool,
    /// The server's base URL [default: the configured issuer, else http://127.0.0.1:8080].
    #[arg(long, env = "LATCHKEY_SERVER", value_name = "URL")]
    pub server: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// The newest events, oldest first; with --follow, then every new one.
    Tail {
        /// How many of the newest events to print first.
        #[arg(short = 'n', long, default_value_t = 20)]
        lines: u32,
        /// Keep printing new events until interrupted.
        #[arg(short, long)]
        follow: bool,
        /// How often --follow asks for new events.
        #[arg(long, default_value = "2s", value_name = "DURATION")]
        interval: String,
        #[command(flatten)]
        filter: AuditFilter,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Every matching event, oldest first, for a SIEM or an archive.
    Export {
        /// From this time: Unix seconds, RFC 3339, or a duration back such as 24h.
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
        /// Before this time (same forms as --since).
        #[arg(long, value_name = "TIME")]
        until: Option<String>,
        /// Write to this file instead of stdout.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        #[command(flatten)]
        filter: AuditFilter,
        #[command(flatten)]
        server: ServerArgs,
    },
}

#[derive(Debug, Args)]
pub struct AuditFilter {
    /// Events about this user (username or id) or entity.
    #[arg(long, value_name = "USER", allow_hyphen_values = true)]
    pub subject: Option<String>,
    /// Events involving this client.
    #[arg(long, value_name = "CLIENT_ID", allow_hyphen_values = true)]
    pub client: Option<String>,
    /// An event type such as login.failed, or a prefix such as token.*
    #[arg(long = "type", value_name = "TYPE")]
    pub kind: Option<String>,
    /// success, failure, denied or flagged.
    #[arg(long)]
    pub outcome: Option<String>,
}

#[derive(Debug, Args)]
pub struct ServerArgs {
    /// The server's base URL [default: the configured issuer, else http://127.0.0.1:8080].
    #[arg(long, env = "LATCHKEY_SERVER", value_name = "URL")]
    pub server: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum SessionCommand {
    /// A user's active sessions and grants (USER: username or id).
    List {
        user: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Ends one session: its grants are revoked, its tokens inactive everywhere.
    End {
        sid: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Ends every session of a user.
    EndAll {
        user: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Revokes one grant (its refresh tokens and the access tokens issued with them).
    RevokeGrant {
        grant_id: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// The clients a user consented to.
    Consents {
        user: String,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Withdraws a user's consent to a client (and revokes their grants to it).
    RevokeConsent {
        user: String,
        client_id: String,
        #[command(flatten)]
        server: ServerArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Compile and validate policies against a schema (no store needed).
    Validate(PolicyFiles),
    /// Run AuthZEN test cases against policies, locally (no store needed).
    Test(PolicyTestArgs),
    /// List the stored policy versions, newest first.
    List(JsonFlag),
    /// Print a stored version (the active one by default).
    Show(PolicyShowArgs),
    /// Validate and publish a new version; running servers switch to it.
    Put(PolicyPutArgs),
    /// Format policy files with Cedar's formatter (as `cedar format` does),
    /// keeping comments and annotations. Exit code with --check: 0 all
    /// formatted, 2 some file would change; 1 an error (e.g. a parse error).
    Fmt(PolicyFmtArgs),
}

#[derive(Debug, Args)]
pub struct PolicyFmtArgs {
    /// Cedar policy files, or - for stdin.
    #[arg(required = true, value_name = "POLICY_FILE")]
    pub files: Vec<PathBuf>,
    /// Write nothing: name each file that is not formatted (on stderr) and exit 2 if any.
    #[arg(long, conflicts_with = "write")]
    pub check: bool,
    /// Rewrite the files in place [default: print the formatted text on stdout].
    #[arg(long)]
    pub write: bool,
    /// The line width the formatter aims for.
    #[arg(long, default_value_t = 80, value_name = "COLUMNS")]
    pub line_width: usize,
    /// Spaces per indentation level.
    #[arg(long, default_value_t = 2, value_name = "SPACES")]
    pub indent_width: usize,
}

#[derive(Debug, Args)]
pub struct PolicyFiles {
    /// Cedar schema file.
    #[arg(long, value_name = "FILE")]
    pub schema: PathBuf,
    /// Cedar policy files.
    #[arg(required = true, value_name = "POLICY_FILE")]
    pub policies: Vec<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PolicyTestArgs {
    #[command(flatten)]
    pub files: PolicyFiles,
    /// JSON test cases: [{"request": <AuthZEN evaluation>, "expected": bool}].
    #[arg(long, value_name = "FILE")]
    pub cases: PathBuf,
    /// JSON entities ([{"type","id","attributes","parents"}]), as in `[authz] entities`.
    #[arg(long, value_name = "FILE")]
    pub entities: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PolicyShowArgs {
    /// Version number [default: the active one].
    pub version: Option<i64>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PolicyPutArgs {
    #[command(flatten)]
    pub files: PolicyFiles,
    /// Why this version exists (kept with it).
    #[arg(long)]
    pub comment: Option<String>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "LATCHKEY_LISTEN", value_name = "ADDR")]
    pub listen: Option<String>,
    /// Issuer URL [default: http:// + the listen address; https required off loopback].
    #[arg(long, env = "LATCHKEY_ISSUER", value_name = "URL")]
    pub issuer: Option<String>,
    /// Separate, unauthenticated address for /metrics (e.g. a private network).
    #[arg(long, env = "LATCHKEY_METRICS_LISTEN", value_name = "ADDR")]
    pub metrics_listen: Option<String>,
    /// Development sandbox: demo users and clients, generated master key, loopback only.
    #[arg(long)]
    pub dev: bool,
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a client; a confidential client's secret is printed once.
    Add(Box<ClientAddArgs>),
    /// List clients.
    List(JsonFlag),
    /// Show one client.
    Show(IdArg),
    /// Remove a client with its grants and refresh tokens.
    Remove(IdArg),
    /// Replace a confidential client's secret; the new one is printed once.
    RotateSecret(IdArg),
}

#[derive(Debug, Args)]
pub struct JsonFlag {
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct IdArg {
    /// Client ids are printable ASCII and may start with '-'.
    #[arg(allow_hyphen_values = true)]
    pub id: String,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ClientAddArgs {
    /// Client id [default: generated].
    #[arg(long)]
    pub id: Option<String>,
    /// Display name.
    #[arg(long)]
    pub name: Option<String>,
    /// public or confidential.
    #[arg(long = "type", value_name = "TYPE")]
    pub kind: String,
    #[arg(long = "redirect-uri", value_name = "URI")]
    pub redirect_uris: Vec<String>,
    #[arg(long = "post-logout-redirect-uri", value_name = "URI")]
    pub post_logout_redirect_uris: Vec<String>,
    /// authorization_code, refresh_token, client_credentials, urn:ietf:params:oauth:grant-type:token-exchange.
    #[arg(long = "grant-type", value_name = "GRANT")]
    pub grant_types: Vec<String>,
    #[arg(long = "scope", value_name = "SCOPE")]
    pub scopes: Vec<String>,
    #[arg(long = "audience", value_name = "URI")]
    pub audiences: Vec<String>,
    /// client_secret_basic, client_secret_post, private_key_jwt, none.
    #[arg(long)]
    pub auth_method: Option<String>,
    /// ES256, RS256, PS256 or EdDSA [default: RS256].
    #[arg(long)]
    pub id_token_alg: Option<String>,
    #[arg(long, value_name = "DURATION")]
    pub access_token_ttl: Option<String>,
    #[arg(long, value_name = "DURATION")]
    pub refresh_token_ttl: Option<String>,
    #[arg(long, value_name = "DURATION")]
    pub id_token_ttl: Option<String>,
    /// May skip the consent screen.
    #[arg(long)]
    pub first_party: bool,
    /// Repeated refresh tokens within this window get a fresh successor instead of revoking the family.
    #[arg(long, value_name = "DURATION")]
    pub refresh_token_reuse_grace: Option<String>,
    /// Where the client's public keys are (private_key_jwt).
    #[arg(long, value_name = "URI")]
    pub jwks_uri: Option<String>,
    /// A file with the client's public keys as a JWKS document (private_key_jwt), instead of --jwks-uri.
    #[arg(long, value_name = "PATH")]
    pub jwks_file: Option<std::path::PathBuf>,
    /// Token exchange: audiences of subject tokens this client may exchange (besides tokens naming the client).
    #[arg(long = "exchange-subject-audience", value_name = "URI")]
    pub exchange_subject_audiences: Vec<String>,
    /// OIDC Back-Channel Logout: where logout tokens are POSTed.
    #[arg(long, value_name = "URI")]
    pub backchannel_logout_uri: Option<String>,
    /// Token exchange: may obtain tokens without an `act` claim naming it (impersonation).
    #[arg(long)]
    pub impersonation: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user. Without --password-stdin a random password is printed once.
    Add(UserAddArgs),
    /// List users.
    List(JsonFlag),
    /// Set a user's password (read from stdin).
    SetPassword(UsernameArg),
    /// Disable sign-in for a user.
    Disable(UsernameArg),
    /// Enable sign-in for a disabled user.
    Enable(UsernameArg),
    /// Remove a user with their sessions and grants.
    Remove(UsernameArg),
}

#[derive(Debug, Args)]
pub struct UserAddArgs {
    pub username: String,
    #[arg(long)]
    pub email: Option<String>,
    #[arg(long)]
    pub email_verified: bool,
    #[arg(long)]
    pub name: Option<String>,
    /// Read the password from the first line of stdin.
    #[arg(long)]
    pub password_stdin: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct UsernameArg {
    #[arg(allow_hyphen_values = true)]
    pub username: String,
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// List signing keys and their timelines.
    List(JsonFlag),
    /// Publish a new key now; it signs after the pre-publication delay.
    Rotate(KeyRotateArgs),
    /// Stop signing with a key; it stays published until its tokens expire.
    Retire(KidArg),
    /// Remove a compromised key from the JWKS at once.
    Revoke(KidArg),
    /// Print a new random master key (for LATCHKEY_MASTER_KEY).
    GenerateMasterKey,
}

#[derive(Debug, Args)]
pub struct KeyRotateArgs {
    /// ES256, RS256, PS256 or EdDSA.
    #[arg(long, default_value = "ES256")]
    pub alg: String,
    /// Override keys.prepublish, e.g. 1h; 0s activates at once.
    #[arg(long, value_name = "DURATION")]
    pub prepublish: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct KidArg {
    /// A kid is a base64url thumbprint and may start with '-'.
    #[arg(allow_hyphen_values = true)]
    pub kid: String,
    #[arg(long)]
    pub json: bool,
}
