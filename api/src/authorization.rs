//! The permission check of every authenticated operation, before its handler (and so
//! before its body is read): the operation is found in the OpenAPI document the routes
//! generate ([`DocumentedPaths::access`]), and [`staffroom_domain::allows`] judges the
//! principal against [`staffroom_domain::Operation::needs`] — the declaration the document
//! states on each operation. The admitted principal is kept for the handler's extractor;
//! one let in on its cached entry is checked against the database by the request's first
//! trip there ([`crate::auth::principal::admit`]).

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, ResponseError, web};

use crate::auth::principal::{admit, load};
use crate::error::ApiError;
use crate::fallback::{Access, DocumentedPaths};

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
    let principal = match admit(req.request(), needs).await {
        Ok(principal) => principal,
        Err(error) => return Ok(refuse(req, error)),
    };
    if needs.is_none() {
        tracing::error!("an authenticated operation has no declared permission; refused");
        return Ok(refuse(
            req,
            ApiError::forbidden("This operation declares no permission."),
        ));
    }
    req.extensions_mut().insert(principal);
    // A SCIM handler answers SCIM errors, not the problem document of an extractor: a
    // principal let in on its cached entry is checked here, before the handler.
    if crate::scim::is_scim_path(req.path())
        && let Err(error) = load(req.request().clone()).await
    {
        return Ok(refuse(req, error));
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_boxed_body)
}
