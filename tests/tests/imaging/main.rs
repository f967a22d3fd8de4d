//! SPEC §6.2: the imaging (scan-referral) integration. The site's switch: off until a site
//! administrator turns it on, readable by every user of the site, `If-Match` honoured,
//! each change audited, one site's switch invisible to another; connections, referrals and
//! the reports the provider delivers through the signed webhook.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failure should panic"
)]

use reqwest::Method;
use serde_json::{Value, json};
use staffroom_tests::exercise::signed_in_staff;
use staffroom_tests::{PASSWORD, TestApp, send};

const SWITCH: &str = "/v1/integrations/imaging";

mod connection;
mod referrals;
mod switch;
mod webhook;

async fn set_switch(
    app: &TestApp,
    token: &str,
    if_match: Option<&str>,
    enabled: Value,
) -> staffroom_tests::Answer {
    send(
        app,
        Method::PUT,
        SWITCH,
        token,
        if_match,
        Some(json!({ "enabled": enabled })),
    )
    .await
}
