//! Staffroom's HTTP API: the actix-web application, authentication, handlers per feature,
//! the OpenAPI contract, and the command line of the `staffroom` binary.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod app;
pub mod appointments;
pub mod audit;
pub mod auth;
pub mod bulk;
pub mod cli;
pub mod clinics;
pub mod contract;
pub mod db;
pub mod demo;
pub mod error;
pub mod etag;
pub mod extract;
pub mod fallback;
pub mod health;
pub mod idempotency;
pub mod integrations;
pub mod invitations;
pub mod licences;
pub mod metrics;
pub mod openapi;
pub mod outbox;
pub mod permissions;
pub mod pool;
pub mod providers;
pub mod rate_limit;
pub mod routes;
pub mod service_accounts;
pub mod site;
pub mod state;
pub mod users;
pub mod views;
