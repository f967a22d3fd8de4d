//! `/v1/integrations/exercise`: the exercise-prescription integration (SPEC §6.1). Site
//! administrators connect the site's clinic (`clm_id`, confirmed with the provider) and
//! add, deactivate and reactivate users at the provider; users get a launch link.
//!
//! Adding, deactivating and reactivating write the user's `pending` state and an outbox job
//! in one transaction, then run the job at once: the answer is `200` with the new state when
//! the provider answered within the budget, `202` with `pending` when it did not (a worker
//! retries until it does), and a problem document when the provider refused (the state
//! moved back).

mod handlers;
mod types;
mod use_cases;

pub use handlers::*;
pub use types::*;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::get_exercise_integration)
        .service(handlers::connect_exercise_integration)
        .service(handlers::disconnect_exercise_integration)
        .service(handlers::list_exercise_users)
        .service(handlers::get_exercise_user)
        .service(handlers::rename_exercise_user)
        .service(handlers::add_exercise_user)
        .service(handlers::deactivate_exercise_user)
        .service(handlers::reactivate_exercise_user)
        .service(handlers::launch_exercise);
}
