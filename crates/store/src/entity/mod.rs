//! sea-orm entities, one per table. Commune tables have `tenant_id` first in their key.

pub mod building;
pub mod charter_history;
pub mod commune;
pub mod commune_host;
pub mod office;
pub mod service;
pub mod staff;
