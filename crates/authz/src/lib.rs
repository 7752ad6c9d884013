//! Who may do what, in which commune.
//!
//! - [`model`]: roles, objects and actions — the words of every permission;
//! - [`template`]: the versioned default policy a commune gets at onboarding (and can re-apply);
//! - [`Policies`]: one casbin enforcer per node, shared by every commune (RBAC with domains: the
//!   domain is the commune). Staff get roles by grouping rules `g(staff, role, commune)`; the
//!   rules of a role are shared by every commune on the same template version, and a commune
//!   whose administrators changed them gets a rule set of its own.
//!
//! Nothing here reads a database or an HTTP request: the store loads rows, the server's guard
//! asks [`Policies::allows`].

pub mod model;
mod policies;
pub mod template;

pub use model::{Action, Object, Role, Rule};
pub use policies::{CommunePolicy, Policies, PolicyError, Subject};

#[cfg(test)]
#[path = "tests/policies.rs"]
mod tests;
