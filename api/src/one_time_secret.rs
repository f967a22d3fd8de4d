//! Answers that carry a one-time secret (today a new service account's `client_secret`)
//! say so with a [`OneTimeSecret`] marker, and whatever stores an answer to replay it later
//! stores it through [`storable`], which blanks the marked field. No usable secret ever
//! rests in the idempotency store: a replay carries the field as `null` and the header
//! `Secret-Withheld: <field>`, and a lost secret is replaced by creating a new account.

use actix_web::HttpResponse;
use actix_web::http::header::HeaderName;
use serde_json::Value;
use staffroom_persistence::idempotency::StoredResponse;

/// The header a stored (replayed) answer carries, naming the field that was blanked.
pub const SECRET_WITHHELD: HeaderName = HeaderName::from_static("secret-withheld");

/// Response extension: the top-level JSON field of this answer that is a one-time secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OneTimeSecret(pub &'static str);

impl OneTimeSecret {
    /// Marks `response` as carrying this secret field.
    pub fn mark(self, mut response: HttpResponse) -> HttpResponse {
        response.extensions_mut().insert(self);
        response
    }

    /// The marker of `response`, if it carries a one-time secret.
    pub fn of<B>(response: &HttpResponse<B>) -> Option<Self> {
        response.extensions().get::<Self>().copied()
    }
}

/// The answer as it may be stored for replay: with a marker, its secret field is `null`
/// and `Secret-Withheld` names it. `None` when a marked body is not a JSON object, so an
/// answer whose secret cannot be removed is never stored.
pub fn storable(
    status: u16,
    mut headers: Vec<(String, String)>,
    body: &[u8],
    secret: Option<OneTimeSecret>,
) -> Option<StoredResponse> {
    let body = match secret {
        None => String::from_utf8_lossy(body).into_owned(),
        Some(OneTimeSecret(field)) => {
            let mut json: Value = serde_json::from_slice(body).ok()?;
            *json.as_object_mut()?.get_mut(field)? = Value::Null;
            headers.push((SECRET_WITHHELD.as_str().to_owned(), field.to_owned()));
            json.to_string()
        }
    };
    Some(StoredResponse {
        status,
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "s3cr3t-value-that-must-not-rest";

    #[test]
    fn an_unmarked_answer_is_stored_as_it_is() {
        let stored = storable(201, vec![], br#"{"id":"a"}"#, None).unwrap();
        assert_eq!(stored.body, r#"{"id":"a"}"#);
        assert!(stored.headers.is_empty());
    }

    #[test]
    fn a_marked_answer_is_stored_without_its_secret_and_says_which_field() {
        let body = format!(r#"{{"id":"a","client_secret":"{SECRET}","name":"n"}}"#);
        let stored = storable(
            201,
            vec![("location".into(), "/x".into())],
            body.as_bytes(),
            Some(OneTimeSecret("client_secret")),
        )
        .unwrap();
        assert!(!stored.body.contains(SECRET), "{}", stored.body);
        let json: Value = serde_json::from_str(&stored.body).unwrap();
        assert_eq!(json["client_secret"], Value::Null);
        assert_eq!(json["id"], "a");
        assert_eq!(
            stored.headers,
            [
                ("location".to_owned(), "/x".to_owned()),
                ("secret-withheld".to_owned(), "client_secret".to_owned())
            ]
        );
    }

    #[test]
    fn a_marked_answer_whose_secret_cannot_be_found_is_not_stored() {
        let marker = Some(OneTimeSecret("client_secret"));
        assert!(storable(201, vec![], SECRET.as_bytes(), marker).is_none());
        assert!(storable(201, vec![], br#"["x"]"#, marker).is_none());
        assert!(storable(201, vec![], br#"{"secret":"x"}"#, marker).is_none());
    }

    #[test]
    fn a_marker_travels_on_the_response() {
        let response = OneTimeSecret("client_secret").mark(HttpResponse::Created().finish());
        assert_eq!(
            OneTimeSecret::of(&response),
            Some(OneTimeSecret("client_secret"))
        );
        assert_eq!(OneTimeSecret::of(&HttpResponse::Ok().finish()), None);
    }
}
