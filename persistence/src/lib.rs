//! Staffroom's persistence: the Diesel schema, one connection type over SQLite and
//! PostgreSQL, and the use-cases that read and change stored state. Every change runs in
//! a transaction that takes the site lock (see [`tx`]) and writes its audit event.

pub mod access;
pub mod appointments;
pub mod audit;
mod backend;
pub mod bootstrap;
pub mod bulk;
pub mod clinics;
mod connection;
mod error;
pub mod exercise;
pub mod idempotency;
pub mod invitations;
pub mod mail;
mod migrate;
pub mod outbox;
pub mod page;
pub mod schema;
pub mod service_accounts;
pub mod sites;
pub mod testing;
pub mod tx;
pub mod users;

pub use connection::{DatabaseUrl, DbConnection, Pool, PooledConnection, connect, ping};
pub use error::{Conflict, LicenceRefusal, StoreError, StoreResult, Unbookable};
pub use migrate::run_migrations;
