//! The documented error answers. Each error status has one component response whose
//! description lists the codes answered with it, read from `ProblemCode`; operations name a
//! response set (`responses((status = 200, …), ReadOne)`) instead of listing statuses.
//!
//! Every `/v1` operation can answer `429 rate_limited` and `503` (database or provider
//! unreachable); every authenticated `POST` can answer `409 idempotency_key_in_use`,
//! `413` and `422 idempotency_key_reused`, since its `Idempotency-Key` is checked before
//! the handler runs; every operation with a body can answer `400`, `413`, `415` and `422`.

use std::collections::BTreeMap;

use staffroom_domain::ProblemCode;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{IntoResponses, ToResponse};

use crate::error::PROBLEM_JSON;

/// A problem response for `status`: its summary, then every code answered with it.
fn problem_response(status: u16, summary: &str, headers: &[(&str, &str)]) -> Response {
    let codes: String = ProblemCode::with_status(status)
        .map(|c| format!("\n- `{c}`: {}", c.description()))
        .collect();
    let mut response = ResponseBuilder::new()
        .description(format!("{summary} `code` is one of:\n{codes}"))
        .content(
            PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        );
    for (name, description) in headers {
        let header = HeaderBuilder::new()
            .schema(ObjectBuilder::new().schema_type(Type::String))
            .description(Some(*description))
            .build();
        response = response.header(*name, header);
    }
    response.build()
}

/// Declares the component response of one error status.
macro_rules! error_response {
    ($name:ident, $status:literal, $summary:literal $(, $header:literal => $meaning:literal)*) => {
        #[doc = $summary]
        pub struct $name;

        impl $name {
            /// The status this response documents.
            pub const STATUS: u16 = $status;
        }

        impl<'r> ToResponse<'r> for $name {
            fn response() -> (&'r str, RefOr<Response>) {
                let headers: &[(&str, &str)] = &[$(($header, $meaning)),*];
                (stringify!($name), problem_response($status, $summary, headers).into())
            }
        }
    };
}

error_response!(MalformedBody, 400, "The body cannot be parsed.");
error_response!(Unauthorized, 401, "No valid credentials.",
    "WWW-Authenticate" => "`Bearer`.");
error_response!(Forbidden, 403, "Not allowed for this principal.");
error_response!(NotFound, 404, "No such resource in the caller's site.");
error_response!(
    Conflict,
    409,
    "The request conflicts with the stored state; licence refusals carry the usage they were judged against."
);
error_response!(Gone, 410, "The resource existed but is no longer usable.");
error_response!(
    PreconditionFailed,
    412,
    "`If-Match` does not match the current `ETag`."
);
error_response!(PayloadTooLarge, 413, "The body is too large.");
error_response!(
    UnsupportedMediaType,
    415,
    "The body's media type is not accepted."
);
error_response!(
    Unprocessable,
    422,
    "The request is understood but refused; `errors` lists every bad field."
);
error_response!(
    PreconditionRequired,
    428,
    "This deployment requires `If-Match`."
);
error_response!(TooManyRequests, 429, "Rate limited.",
    "Retry-After" => "Seconds to wait before retrying.");
error_response!(Unavailable, 503, "A dependency is not answering; retry shortly.",
    "Retry-After" => "Seconds to wait before retrying.");

/// Declares the response sets, one row each: a doc line, the name, optionally a smaller
/// set it extends, and the component responses it adds.
macro_rules! response_sets {
    ($($doc:literal $name:ident = $($base:ident +)? [$($answer:ident),+];)+) => {$(
        #[doc = $doc]
        pub struct $name;

        impl IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                let set: BTreeMap<String, RefOr<Response>> =
                    BTreeMap::from([$(reference::<$answer>($answer::STATUS)),+]);
                $(let mut set = set; set.extend($base::responses());)?
                set
            }
        }
    )+};
}

/// A reference to the component response `T` under its status.
fn reference<T: for<'r> ToResponse<'r>>(status: u16) -> (String, RefOr<Response>) {
    let (name, _) = T::response();
    (
        status.to_string(),
        RefOr::Ref(Ref::from_response_name(name)),
    )
}

response_sets! {
    "What every `/v1` operation can answer: rate limited, or a dependency down."
    Limited = [TooManyRequests, Unavailable];
    "Reading something of the caller's own (`GET /v1/me`, `/v1/site`, …)."
    Read = Limited + [Unauthorized];
    "Reading something that needs a permission."
    AdminRead = Read + [Forbidden];
    "Reading one resource by id."
    ReadOne = Read + [NotFound];
    "Reading one resource by id, with a permission."
    AdminReadOne = AdminRead + [NotFound];
    "A list with query parameters."
    List = Read + [Unprocessable];
    "A list with query parameters that needs a permission."
    AdminList = AdminRead + [Unprocessable];
    "An authenticated `POST` with a JSON body that creates or changes things."
    Create = AdminRead + [
        MalformedBody, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable
    ];
    "An action `POST` on one resource by id, without a body."
    Action = AdminReadOne + [Conflict, PayloadTooLarge, Unprocessable];
    "An action `POST` on one resource by id, without a body, honouring `If-Match`."
    ActionIfMatch = Action + [PreconditionFailed, PreconditionRequired];
    "An action `POST` on one resource by id with a JSON body."
    ActionWithBody = Action + [MalformedBody, UnsupportedMediaType];
    "A change of one resource by id with a JSON body, honouring `If-Match`."
    Update = ActionWithBody + [PreconditionFailed, PreconditionRequired];
    "A change of the caller's site (or its settings) with a JSON body, honouring `If-Match`."
    UpdateSite = Create + [PreconditionFailed, PreconditionRequired];
    "A `DELETE` honouring `If-Match`."
    Delete = AdminReadOne + [Conflict, PreconditionFailed, PreconditionRequired];
    "A `DELETE` that nothing stored can refuse (a revocation), honouring `If-Match`."
    Revoke = AdminReadOne + [PreconditionFailed, PreconditionRequired];
    "An unauthenticated `POST` that exchanges credentials for a token."
    SignIn = Limited + [
        MalformedBody, Unauthorized, PayloadTooLarge, UnsupportedMediaType, Unprocessable
    ];
    "A signed webhook delivery (`401 invalid_signature` before anything else is read)."
    Webhook = Limited + [
        MalformedBody, Unauthorized, NotFound, PayloadTooLarge, UnsupportedMediaType, Unprocessable
    ];
    "An unauthenticated `POST` that redeems a token from a link."
    Redeem = Limited + [
        MalformedBody, NotFound, Conflict, Gone, PayloadTooLarge, UnsupportedMediaType, Unprocessable
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_responses_list_the_codes_of_their_status() {
        let (name, response) = Conflict::response();
        assert_eq!(name, "Conflict");
        let RefOr::T(response) = response else {
            panic!("an inline response");
        };
        for code in ProblemCode::with_status(409) {
            assert!(
                response.description.contains(&format!("`{code}`")),
                "{code}"
            );
        }
        assert!(!response.description.contains("`validation_failed`"));
    }

    #[test]
    fn sets_reference_one_response_per_status() {
        let set = Update::responses();
        assert_eq!(
            set.keys().map(String::as_str).collect::<Vec<_>>(),
            [
                "400", "401", "403", "404", "409", "412", "413", "415", "422", "428", "429", "503"
            ]
        );
        assert!(
            matches!(&set["415"], RefOr::Ref(r) if r.ref_location.ends_with("/UnsupportedMediaType"))
        );
    }
}
