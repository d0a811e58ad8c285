//! Latchkey's policy engine.
//!
//! Policies are Cedar, validated against a Cedar schema when they are
//! compiled (`PolicySet::compile`). A compiled set is immutable: the server
//! swaps a whole new one in when policies change, so a decision in flight
//! always sees one consistent version.
//!
//! The engine knows nothing of HTTP, tokens or storage. Callers hand it
//! plain entity data ([`EntityData`]) and a request ([`Query`]); it builds
//! Cedar entities and the request through Cedar's API (never by formatting
//! policy text), evaluates only the slice of policies that can apply to the
//! request's action and resource type, and returns an [`Outcome`] that says
//! why, and, for a deny, what would turn it into an allow ([`Requirement`]).
//!
//! This crate is a leaf on purpose: `cedar-policy` is the slowest crate of
//! the workspace to compile, and nothing else needs to rebuild with it.

mod entity;
mod format;
mod outline;
mod policy_set;
mod requirement;

pub use entity::{EntityData, EntityRef, PreparedEntity, json_to_cedar, representable};
pub use format::{FormatError, format_policies};
pub use outline::{ActionOutline, SchemaOutline, outline};
pub use policy_set::{CompileError, EntityInput, Outcome, PolicyInfo, PolicySet, PreparedQuery, Query};
pub use requirement::Requirement;

/// Context keys the decision point fills itself; a caller's values for
/// them are dropped, so a caller cannot fake the time or a token claim.
pub const RESERVED_CONTEXT: &[&str] = &["now", "auth_age", "capability", "token"];
