//! SCIM 2.0 (RFC 7643/7644) as pure functions, no I/O and no HTTP: the `filter` and PATCH
//! `path` grammar ([`filter`]), the PATCH engine ([`patch`]) over a resource held as JSON, and
//! the resource schemas with the discovery documents rendered from them ([`schema`]).
//! `persistence` translates parsed filters into SQL; `api` maps resources to the use-cases.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod error_type;
pub mod filter;
pub mod patch;
pub mod schema;

pub use error_type::ScimType;
