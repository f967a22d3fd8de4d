//! Staffroom's business rules as plain types and functions: no I/O, no framework.
//!
//! Value types that parse (`Email`, `PersonName`, `Password`, …), typed ids, the closed
//! vocabularies of the API (`UserType`, `Profession`, `Permission`, …) and the licence rules
//! of SPEC §1 (`LicencePlan::check`), and every problem code the API answers with
//! (`ProblemCode`). Everything is re-exported at the crate root. With the
//! `openapi` feature, every type that appears in the HTTP API implements `utoipa::ToSchema`;
//! with the `diesel` feature, ids and string enums are SQL `TEXT` values.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

#[cfg(feature = "diesel")]
mod sql_text;
mod string_enum;
mod string_schema;

pub mod access;
pub mod access_replacement;
pub mod assistant;
pub mod audit;
pub mod authorization;
pub mod booking;
pub mod bulk;
pub mod clinic_deletion;
pub mod clinic_update;
pub mod email;
pub mod exercise;
pub mod ids;
pub mod imaging;
pub mod invitation;
pub mod last_admin;
pub mod licence;
pub mod licence_report;
pub mod login;
pub mod names;
pub mod outbox;
pub mod password;
pub mod permission;
pub mod plan;
#[cfg(feature = "openapi")]
mod plan_schema;
pub mod principal;
pub mod problem;
pub mod profession;
pub mod profession_rules;
pub mod service_account;
pub mod site;
pub mod site_change;
pub mod user;
pub mod user_creation;
pub mod user_status;
pub mod user_update;
pub mod validation;

// `assistant` and `imaging` are used by their paths (`imaging::begin`, `assistant::Actor`):
// their short names would collide with the exercise and access rules'.
pub use access::*;
pub use access_replacement::*;
pub use audit::*;
pub use authorization::*;
pub use booking::*;
pub use bulk::*;
pub use clinic_deletion::*;
pub use clinic_update::*;
pub use email::*;
pub use exercise::*;
pub use ids::*;
pub use invitation::*;
pub use last_admin::*;
pub use licence::*;
pub use licence_report::*;
pub use login::*;
pub use names::*;
pub use outbox::*;
pub use password::*;
pub use permission::*;
pub use plan::*;
pub use principal::*;
pub use problem::*;
pub use profession::*;
pub use profession_rules::*;
pub use service_account::*;
pub use site::*;
pub use site_change::*;
pub use user::*;
pub use user_creation::*;
pub use user_status::*;
pub use user_update::*;
pub use validation::*;

#[cfg(all(test, feature = "openapi"))]
mod openapi_tests;
