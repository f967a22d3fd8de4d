//! `Answer`: a success response rendered once, as bytes, so the same status, headers and
//! body are sent now and replayed to an idempotent retry.

use actix_web::body::BoxBody;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, Responder};
use serde::Serialize;
use staffroom_persistence::idempotency::StoredResponse;

use crate::etag;

/// A rendered success answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    /// `Content-Type`, `ETag`, `Location`: the headers a replay repeats.
    pub headers: Vec<(HeaderName, String)>,
    pub body: String,
}

impl Answer {
    /// `status` with `body` as JSON.
    pub fn json<T: Serialize>(status: StatusCode, body: &T) -> Self {
        match serde_json::to_string(body) {
            Ok(body) => Self {
                status,
                headers: vec![(header::CONTENT_TYPE, "application/json".to_owned())],
                body,
            },
            Err(error) => {
                tracing::error!(%error, "cannot serialize an answer");
                Self {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    headers: Vec::new(),
                    body: String::new(),
                }
            }
        }
    }

    pub fn header(mut self, name: HeaderName, value: String) -> Self {
        self.headers.push((name, value));
        self
    }

    /// `200` with the body and its `ETag`.
    pub fn with_etag<T: Serialize>(version: i64, body: &T) -> Self {
        Self::json(StatusCode::OK, body).header(header::ETAG, etag::format(version))
    }

    /// `201` with `Location`, `ETag` and the body.
    pub fn created<T: Serialize>(location: String, version: i64, body: &T) -> Self {
        Self::json(StatusCode::CREATED, body)
            .header(header::LOCATION, location)
            .header(header::ETAG, etag::format(version))
    }

    /// The answer as an idempotent retry replays it.
    pub fn stored(&self) -> StoredResponse {
        StoredResponse {
            status: self.status.as_u16(),
            headers: self
                .headers
                .iter()
                .map(|(name, value)| (name.as_str().to_owned(), value.clone()))
                .collect(),
            body: self.body.clone(),
        }
    }

    pub fn into_response(self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        for (name, value) in self.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                response.insert_header((name, value));
            }
        }
        response.body(self.body)
    }
}

impl Responder for Answer {
    type Body = BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        self.into_response()
    }
}
