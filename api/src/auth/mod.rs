//! Authentication: password hashing, JWT issue and verification, the `Principal`
//! extractor, and the login / token / me endpoints.

pub mod callers;
pub mod handlers;
pub mod password;
pub mod principal;
pub mod tokens;

pub use principal::{Principal, Requester, Trip};
