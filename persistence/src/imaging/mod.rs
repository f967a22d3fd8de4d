//! The imaging (scan-referral) integration (SPEC §6.2): the site's switch ([`switch`]),
//! each user's own connection to the provider ([`connections`]), their referrals
//! ([`referrals`]) and the reports the provider delivers for them ([`reports`]). The rules are the
//! domain's (`staffroom_domain::imaging`); these modules store what they decide.

pub mod connections;
pub mod referrals;
pub mod reports;
pub mod switch;

pub use switch::{SetSwitch, Switch, SwitchRow, switch_of};
