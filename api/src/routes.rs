//! The one route registration: the server mounts these routes and the OpenAPI document is
//! generated from the same calls, so the two cannot drift.

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers every route of the API.
pub fn routes(cfg: &mut ServiceConfig) {
    crate::health::configure(cfg);
    crate::auth::handlers::configure(cfg);
    crate::site::configure(cfg);
    crate::licences::configure(cfg);
    crate::clinics::configure(cfg);
    crate::permissions::configure(cfg);
    crate::bulk::configure(cfg);
    crate::users::configure(cfg);
    crate::appointments::configure(cfg);
    crate::service_accounts::configure(cfg);
    crate::scim_tokens::configure(cfg);
    crate::scim::configure(cfg);
    crate::audit::configure(cfg);
    crate::integrations::configure(cfg);
    crate::invitations::configure(cfg);
    crate::assistants::configure(cfg);
}
