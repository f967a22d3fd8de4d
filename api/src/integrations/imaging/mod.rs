//! `/v1/integrations/imaging`: the site's switch for the imaging (scan-referral)
//! integration (SPEC §6.2). Once on, every user of the site may connect themself
//! (`/v1/me/integrations/imaging`, [`connection`]) and refer ([`referrals`]); the provider
//! delivers the reports through its signed webhook ([`webhook`]).

pub mod connection;
pub mod referrals;
pub mod types;
mod use_cases;
pub mod webhook;

use actix_web::{HttpResponse, get, put, web};
use serde::{Deserialize, Serialize};
use staffroom_persistence::imaging::{self, SetSwitch, Switch};
use utoipa::ToSchema;

use crate::answer::Answer;
use crate::auth::Principal;
use crate::db;
use crate::error::ApiError;
use crate::extract::{IfMatch, ValidJson};
use crate::responses::{Read, UpdateSite};
use crate::state::AppState;
use crate::usecase::Act;
use crate::views::with_etag;

/// The site's switch.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImagingIntegrationView {
    /// Whether the site's users may connect to the imaging provider and make referrals.
    pub enabled: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetImagingIntegrationRequest {
    pub enabled: bool,
}

fn view(switch: Switch) -> ImagingIntegrationView {
    ImagingIntegrationView {
        enabled: switch.enabled,
    }
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(get_imaging_integration)
        .service(set_imaging_integration)
        .service(connection::get_my_imaging_connection)
        .service(connection::connect_my_imaging)
        .service(connection::update_my_imaging)
        .service(connection::reconnect_my_imaging)
        .service(connection::disconnect_my_imaging)
        .service(connection::forget_my_imaging)
        .service(webhook::receive_imaging_report);
    referrals::configure(cfg);
}

/// Whether the imaging integration is on for the site.
///
/// Its `ETag` is `"0"` while the switch was never set (off).
#[utoipa::path(
    tag = "integrations",
    responses(
        (status = 200, body = ImagingIntegrationView, description = "The switch.", headers(("ETag" = String))),
        Read,
    ),
    security(("bearer" = []))
)]
#[get("/v1/integrations/imaging")]
pub async fn get_imaging_integration(
    state: web::Data<AppState>,
    principal: Principal,
) -> Result<HttpResponse, ApiError> {
    let site = principal.site_id;
    let switch = db::run(&state, move |c| imaging::switch_of(c, site)).await?;
    Ok(with_etag(switch.version, &view(switch)))
}

/// Switch the imaging integration on or off for the site (site administrators).
///
/// Switching it off keeps every user's connection and referrals; users may still
/// disconnect and forget, and nobody may connect or refer until it is on again. Setting
/// what it is changes nothing and records nothing.
#[utoipa::path(
    tag = "integrations",
    params(
        ("If-Match" = Option<String>, Header, description = "ETag of the switch being changed (`\"0\"`: never set)"),
    ),
    request_body = SetImagingIntegrationRequest,
    responses(
        (status = 200, body = ImagingIntegrationView, description = "The switch as it now is.", headers(("ETag" = String))),
        UpdateSite,
    ),
    security(("bearer" = []))
)]
#[put("/v1/integrations/imaging")]
pub async fn set_imaging_integration(
    act: Act,
    principal: Principal,
    if_match: IfMatch,
    body: ValidJson<SetImagingIntegrationRequest>,
) -> Result<Answer, ApiError> {
    let set = SetSwitch {
        enabled: body.0.enabled,
        expected_version: if_match.0,
    };
    act.run(principal.audit(), set, |switch| {
        Answer::with_etag(switch.version, &view(switch))
    })
    .await
}
