//! `/v1/users`: the staff list, creation, profile updates, deactivation and reactivation.

mod handlers;
mod types;

pub use handlers::*;
pub use types::*;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list_users)
        .service(handlers::create_user)
        .service(handlers::get_user)
        .service(handlers::update_user)
        .service(handlers::deactivate_user)
        .service(handlers::reactivate_user)
        .service(handlers::change_user_type)
        .service(handlers::set_user_permissions)
        .service(handlers::set_user_clinics);
}
