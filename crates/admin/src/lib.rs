//! Running a commune and the federation, behind the consoles. Each function takes the admitted
//! [`Actor`](sportello_kernel::Actor) (the web guard already checked the route's permission),
//! checks the finer limits itself, writes in one transaction with an audit entry, and applies
//! policy or registry changes to this node before returning. No HTTP here.
//!
//! - [`people`]: staff accounts, invitations, roles;
//! - [`policy`]: the commune's rules (template or its own);
//! - [`commune`]: branding, languages, mail sender, identity providers, support grants;
//! - [`federation`]: onboarding from the ISTAT list, suspension, activity, support access.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod commune;
pub mod federation;
pub mod people;
pub mod policy;
