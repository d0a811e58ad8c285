//! Real-time authorization: the OpenID AuthZEN decision point on the
//! Cedar engine (`latchkey-authz`), with subject attributes from the store
//! and from validated tokens, capabilities, identity signals and a
//! decision cache that is never stale.

pub mod config;
pub mod decide;
pub mod issuance;
pub mod pep;
pub mod policies;
pub mod runtime;
pub mod signals;

pub use decide::{Caller, Decision, Described, Item, evaluate, evaluate_with};
pub use runtime::Runtime;
