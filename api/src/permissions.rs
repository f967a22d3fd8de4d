//! `GET /v1/permissions`: the permission catalogue and the professions.

use actix_web::{get, web};
use serde::Serialize;
use staffroom_domain::{Permission, PermissionInfo, Profession};
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::responses::Read;

/// A profession and whether it is an assistant or student profession.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProfessionInfo {
    pub key: Profession,
    /// Assistant and student professions can never hold `finish_soap_notes`.
    pub assistant_or_student: bool,
    /// Clerical and billing professions can hold no SOAP-note permission.
    pub clerical_or_billing: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Catalogue {
    pub permissions: Vec<PermissionInfo>,
    pub professions: Vec<ProfessionInfo>,
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_permissions);
}

/// The permission catalogue and the professions.
///
/// Labels, descriptions and the profession rules, so screens need not hard-code them.
#[utoipa::path(
    tag = "permissions",
    responses(
        (status = 200, body = Catalogue, description = "The catalogue."),
        Read,
    ),
    security(("bearer" = []))
)]
#[get("/v1/permissions")]
pub async fn list_permissions(_principal: Principal) -> web::Json<Catalogue> {
    debug_assert!(!Permission::ALL.is_empty());
    web::Json(Catalogue {
        permissions: Permission::catalogue(),
        professions: Profession::ALL
            .iter()
            .map(|p| ProfessionInfo {
                key: *p,
                assistant_or_student: p.is_assistant_or_student(),
                clerical_or_billing: p.is_clerical_or_billing(),
            })
            .collect(),
    })
}
