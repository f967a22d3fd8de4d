//! A clinician's assistants (SPEC §7): `/v1/me/assistants` for the clinician, and for the
//! assistant `GET /v1/me/clinicians` and acting on a clinician's behalf
//! (`POST /v1/clinicians/{id}/patient-messages`).

mod acting;
mod handlers;
mod types;

pub use acting::*;
pub use handlers::*;
pub use types::*;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list_my_assistants)
        .service(handlers::invite_assistant)
        .service(handlers::get_my_assistant)
        .service(handlers::resend_assistant_invitation)
        .service(handlers::revoke_assistant)
        .service(handlers::delete_assistant)
        .service(acting::list_my_clinicians)
        .service(acting::send_patient_message);
}
