//! The integration tests: one binary (the server links once), a module per capability. Each test
//! starts the real server on port 0 against a fresh database (`support/lib.rs`).

mod actors;
mod api_contract;
mod authz;
mod cases;
mod cases_files;
mod cases_nodes;
mod cases_office;
mod cases_web;
mod charter;
mod delivery;
mod demo;
mod fixtures;
mod forms;
mod headers;
mod hosts;
mod identity;
mod idp_trust;
mod input;
mod isolation;
mod languages;
mod legal;
mod limits;
mod notify;
mod oidc;
mod onboarding;
mod postgres_rls;
mod routes;
mod saml;
mod services;
mod staff;
mod subscriptions;
mod sync;
