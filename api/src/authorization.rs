//! The permission check of every authenticated operation, before its handler (and so
//! before its body is read): the operation is found in the OpenAPI document the routes
//! generate ([`DocumentedPaths::access`]), and [`staffroom_domain::allows`] judges the
//! principal against [`staffroom_domain::Operation::needs`] — the declaration the document
//! states on each operation. The loaded principal is kept for the handler's extractor.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, ResponseError, web};
use staffroom_domain::{Needs, Permission, PrincipalKind, allows};

use crate::auth::Principal;
use crate::error::ApiError;
use crate::fallback::{Access, DocumentedPaths};

/// The `403 forbidden` of a principal that `needs` does not allow.
fn refusal(kind: PrincipalKind, needs: Needs) -> ApiError {
    let list = |ps: &[Permission]| {
        ps.iter()
            .map(Permission::as_str)
            .collect::<Vec<_>>()
            .join(" or ")
    };
    match needs {
        Needs::PersonOnly => ApiError::forbidden(
            "Only users can call this operation, not assistants or service accounts.",
        ),
        Needs::AssistantOnly => ApiError::forbidden("Only assistants can call this operation."),
        Needs::ForPatients => {
            ApiError::forbidden("Only a clinician and their assistants can call this operation.")
        }
        Needs::AnyOf(any) => ApiError::forbidden(format!(
            "This operation needs the {} permission.",
            list(any)
        )),
        Needs::People { service_needs } if kind == PrincipalKind::Service => {
            ApiError::forbidden(format!(
                "A service account needs the {} permission for this operation.",
                service_needs.as_str()
            ))
        }
        Needs::ScimClient => ApiError::invalid_token(
            "/scim/v2 takes a SCIM token of the site (POST /v1/scim-tokens).",
        ),
        _ if kind == PrincipalKind::Scim => {
            ApiError::forbidden("A SCIM token opens /scim/v2 only.")
        }
        Needs::Nothing | Needs::People { .. } => {
            ApiError::forbidden("This principal cannot call this operation.")
        }
    }
}

/// The refusal as the path's protocol writes it: a SCIM error under `/scim/`, a problem
/// document elsewhere.
fn refuse(req: ServiceRequest, error: ApiError) -> ServiceResponse<BoxBody> {
    if crate::scim::is_scim_path(req.path()) {
        let response = crate::scim::error::ScimError::from(error).error_response();
        req.into_response(response)
    } else {
        req.error_response(error)
    }
}

pub async fn authorize(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let access = req
        .app_data::<web::Data<DocumentedPaths>>()
        .and_then(|paths| paths.access(req.method().as_str(), req.path()));
    let needs = match access {
        None | Some(Access::Public) => {
            return next
                .call(req)
                .await
                .map(ServiceResponse::map_into_boxed_body);
        }
        Some(Access::Guarded(operation)) => Some(operation.needs()),
        Some(Access::Undeclared) => None,
    };
    let principal = match Principal::from_request(req.request(), &mut Payload::None).await {
        Ok(principal) => principal,
        Err(error) => return Ok(refuse(req, error)),
    };
    let Some(needs) = needs else {
        tracing::error!("an authenticated operation has no declared permission; refused");
        return Ok(refuse(
            req,
            ApiError::forbidden("This operation declares no permission."),
        ));
    };
    if !allows(principal.kind, &principal.permissions, needs) {
        let error = refusal(principal.kind, needs);
        return Ok(refuse(req, error));
    }
    req.extensions_mut().insert(principal);
    next.call(req)
        .await
        .map(ServiceResponse::map_into_boxed_body)
}
