//! Latchkey's domain: the vocabulary of OAuth 2.0 and OpenID Connect as rules
//! and types. This crate knows nothing of HTTP or SQL (an architecture
//! invariant): the server maps HTTP onto it, the store maps it onto SQL.

pub mod access_token;
pub mod algorithm;
pub mod anomaly;
pub mod authorize;
pub mod client;
pub mod consent;
pub mod error;
pub mod event;
pub mod id_token;
pub mod key_lifecycle;
pub mod logout;
pub mod params;
pub mod pkce;
pub mod redirect_uri;
pub mod resource;
pub mod sandbox;
pub mod scope;
pub mod secret;
pub mod throttle;
pub mod time;
pub mod token_exchange;
pub mod user;

pub use algorithm::SigningAlg;
pub use client::{AuthMethod, Client, ClientKind, GrantType};
pub use error::{ErrorCode, OAuthError};
pub use event::{AuditRecord, EventOrigin, EventSink, Outcome, SecurityEvent};
pub use resource::ApiResource;
pub use scope::ScopeSet;
pub use secret::Secret;
pub use time::UnixTime;
pub use user::User;
