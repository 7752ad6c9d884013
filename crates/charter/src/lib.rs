//! The digital service charter, as a capability: what the console changes and what the portal
//! reads. No HTTP here.
//!
//! - [`edit`]: offices (hours, closures) and services (channels, levels, cost, legal duration,
//!   the competent office that routes requests), each save a new version in the history;
//! - [`cache`]: each commune's charter read once per version and kept in memory;
//! - [`search`]: its services, offices and people by relevance, over that memory.
//!
//! The charter's tables, the sync from `tenants/*.toml` and the ISTAT starter charter are in
//! `sportello_store` (`charter`, `sync`, `tenant_file`): the CLI's `tenants sync` runs before
//! any service exists.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod cache;
pub mod edit;
pub mod search;

pub use cache::{Charter, CharterCache};
