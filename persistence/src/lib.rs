//! Staffroom's persistence: the Diesel schema, one connection type over SQLite and
//! PostgreSQL, and the use-cases that read and change stored state. Every change runs in
//! a transaction that takes the site lock (see [`tx`]) and writes its audit event. Ids and
//! string enums are bound and loaded as themselves (SQL text, see `staffroom_domain`'s
//! `diesel` feature); no query formats or parses them by hand.
//!
//! # Layers
//!
//! A module imports from earlier layers, never from a later one, and the modules of one
//! layer import each other only in the order listed (use-case modules not at all), so the
//! imports form a DAG:
//!
//! 1. Foundation: [`schema`], `error`, `connection`, `timestamps` (read without chrono's
//!    format parser), `search` (search and sort text),
//!    [`page`] (cursors), [`tx`] (write transactions, the site lock, who acts), `backend`
//!    (the few statements `MultiConnection` cannot express), `migrate`, [`testing`].
//! 2. Logs and queues that use-cases write to: [`audit`], [`outbox`], [`mail`] (messages
//!    as outbox jobs, and the embedded sink), [`idempotency`]; then [`usecase`], the one
//!    shape of a use-case and its runner.
//! 3. Aggregates that stand alone: [`sites`], [`clinics`], [`service_accounts`],
//!    [`scim_tokens`].
//! 4. What user use-cases share: `user_rows` (the stored user, its hydration, the list
//!    filters, a new user's snapshot and rows), `invitation_rows` (an invitation with its
//!    email) and `grants` (permission and clinic grants written set-based).
//! 5. Use-cases over users and integrations: [`users`], [`logins`], [`access`], [`bulk`],
//!    [`appointments`], [`invitations`], [`assistants`], [`exercise`], [`imaging`],
//!    [`bootstrap`], [`scim_reads`] (what `/scim/v2` reads; it writes through the use-cases
//!    above).
//!
//! A use-case has one shape (see [`usecase`] and `docs/architecture.md`): in the site-locked
//! transaction, load a snapshot, ask `staffroom_domain` for a decision, write it with its
//! audit event (and outbox job), and store the idempotent answer. A module
//! may call another's record functions (`sites::usage`, `clinics::ids`,
//! `user_rows::insert`, `outbox::enqueue`, `mail::queue`, …), never another module's
//! use-case.

pub mod access;
pub mod appointments;
pub mod assistants;
pub mod audit;
mod backend;
pub mod bootstrap;
pub mod bulk;
pub mod clinics;
mod connection;
mod error;
pub mod exercise;
mod grants;
pub mod idempotency;
pub mod imaging;
mod invitation_rows;
pub mod invitations;
pub mod logins;
pub mod mail;
mod memory;
mod migrate;
pub mod outbox;
pub mod page;
pub mod schema;
pub mod scim_filter;
pub mod scim_reads;
pub mod scim_tokens;
pub mod search;
pub mod service_accounts;
pub mod sites;
pub mod testing;
mod timestamps;
pub mod tx;
pub mod usecase;
mod user_rows;
pub mod users;

pub use connection::{DatabaseUrl, DbConnection, Pool, PooledConnection, connect, ping};
pub use error::{Conflict, LicenceRefusal, StoreError, StoreResult, Unbookable};
pub use memory::{SqliteMemory, sqlite_memory};
pub use migrate::run_migrations;
