//! HTTP handlers, one file per concern. Handlers are thin: extract, call
//! the domain or store, map the result.

pub mod admin;
pub mod admin_audit;
pub mod admin_authz;
pub mod authorize;
pub mod authzen;
pub mod consent;
pub mod discovery;
pub mod end_session;
pub mod health;
pub mod introspect;
pub mod jwks;
pub mod login;
pub mod metrics;
pub mod mfa;
pub mod revocations;
pub mod revoke;
pub mod sandbox;
pub mod sandbox_idv;
pub mod signup;
pub mod token;
pub mod userinfo;
