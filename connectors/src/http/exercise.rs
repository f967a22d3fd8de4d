//! [`ExerciseProvider`] over HTTP: WIRE.md's exercise-prescription format.

use async_trait::async_trait;
use reqwest::Method;

use super::{HttpConfig, Transport};
use crate::{
    ExerciseClinic, ExerciseProvider, ExerciseUser, LaunchLink, NewExerciseUser, ProviderCode,
    ProviderError, ProviderResult,
};

/// The exercise-prescription provider's HTTP client (`/v1/clinics/{clm_id}/...`).
#[derive(Debug, Clone)]
pub struct HttpExercise {
    transport: Transport,
}

impl HttpExercise {
    pub fn new(config: HttpConfig) -> ProviderResult<Self> {
        Ok(Self {
            transport: Transport::new(config)?,
        })
    }
}

#[async_trait]
impl ExerciseProvider for HttpExercise {
    /// `GET /v1/clinics/{clm_id}`.
    async fn find_clinic(&self, clm_id: &str) -> ProviderResult<ExerciseClinic> {
        self.transport.get(&["v1", "clinics", clm_id], None).await
    }

    /// `POST /v1/clinics/{clm_id}/users`.
    async fn create_user(
        &self,
        clm_id: &str,
        user: &NewExerciseUser,
        idempotency_key: &str,
    ) -> ProviderResult<ExerciseUser> {
        self.transport
            .mutate(
                Method::POST,
                &["v1", "clinics", clm_id, "users"],
                Some(user),
                idempotency_key,
            )
            .await
    }

    /// `DELETE /v1/clinics/{clm_id}/users/{id}`; `404 unknown_user` counts as deleted.
    async fn delete_user(
        &self,
        clm_id: &str,
        provider_user_id: &str,
        idempotency_key: &str,
    ) -> ProviderResult<()> {
        let deleted = self
            .transport
            .delete(
                &["v1", "clinics", clm_id, "users", provider_user_id],
                idempotency_key,
            )
            .await;
        match deleted {
            Err(ProviderError::Permanent {
                status: 404,
                code: Some(ProviderCode::UnknownUser),
                ..
            }) => Ok(()),
            other => other,
        }
    }

    /// `POST /v1/clinics/{clm_id}/users/{id}/launch` (no body).
    async fn launch(
        &self,
        clm_id: &str,
        provider_user_id: &str,
        idempotency_key: &str,
    ) -> ProviderResult<LaunchLink> {
        self.transport
            .mutate(
                Method::POST,
                &["v1", "clinics", clm_id, "users", provider_user_id, "launch"],
                None::<&()>,
                idempotency_key,
            )
            .await
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use serde_json::json;
    use wiremock::matchers::{body_json, method, path};
    use wiremock::{Mock, MockServer, Request, ResponseTemplate};

    use super::super::testing::*;
    use super::*;

    async fn client() -> (MockServer, HttpExercise) {
        let server = MockServer::start().await;
        let client = HttpExercise::new(config(&server)).unwrap();
        (server, client)
    }

    fn new_user() -> NewExerciseUser {
        NewExerciseUser {
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
            external_id: "0190d3c2-0000-7000-8000-000000000001".into(),
        }
    }

    fn user_answer() -> serde_json::Value {
        json!({
            "id": "EX-7",
            "clm_id": "CLM-100",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "external_id": "0190d3c2-0000-7000-8000-000000000001",
            "created_at": "2026-03-01T09:00:00Z"
        })
    }

    #[tokio::test]
    async fn find_clinic_gets_the_clinic_without_an_idempotency_key() {
        let (server, client) = client().await;
        Mock::given(method("GET"))
            .and(path("/v1/clinics/CLM-100"))
            .and(authorized())
            .and(without_idempotency_key())
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"clm_id": "CLM-100", "name": "Harbour Physio"})),
            )
            .expect(1)
            .mount(&server)
            .await;
        let clinic = client.find_clinic("CLM-100").await.unwrap();
        assert_eq!(
            clinic,
            ExerciseClinic {
                clm_id: "CLM-100".into(),
                name: "Harbour Physio".into()
            }
        );
    }

    #[tokio::test]
    async fn find_clinic_of_an_unknown_clinic_is_permanent() {
        let (server, client) = client().await;
        Mock::given(method("GET"))
            .and(path("/v1/clinics/CLM-404"))
            .respond_with(problem(404, "unknown_clinic", "no clinic CLM-404"))
            .mount(&server)
            .await;
        let err = client.find_clinic("CLM-404").await.unwrap_err();
        assert_permanent(&err, 404, "unknown_clinic", "no clinic CLM-404");
    }

    #[tokio::test]
    async fn create_user_posts_the_user_with_the_idempotency_key() {
        let (server, client) = client().await;
        Mock::given(method("POST"))
            .and(path("/v1/clinics/CLM-100/users"))
            .and(authorized())
            .and(idempotency_key("job-42"))
            .and(json_content())
            .and(body_json(json!({
                "first_name": "Ada",
                "last_name": "Lovelace",
                "external_id": "0190d3c2-0000-7000-8000-000000000001"
            })))
            .respond_with(ResponseTemplate::new(201).set_body_json(user_answer()))
            .expect(1)
            .mount(&server)
            .await;
        let user = client
            .create_user("CLM-100", &new_user(), "job-42")
            .await
            .unwrap();
        assert_eq!(
            user,
            ExerciseUser {
                id: "EX-7".into(),
                clm_id: "CLM-100".into(),
                first_name: "Ada".into(),
                last_name: "Lovelace".into(),
                external_id: "0190d3c2-0000-7000-8000-000000000001".into(),
            }
        );
    }

    #[tokio::test]
    async fn create_user_refusals_are_permanent_with_the_providers_reason() {
        let (server, client) = client().await;
        Mock::given(method("POST"))
            .and(path("/v1/clinics/CLM-404/users"))
            .respond_with(problem(404, "unknown_clinic", "no clinic CLM-404"))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/v1/clinics/CLM-100/users"))
            .respond_with(problem(422, "invalid_name", "first_name is empty"))
            .mount(&server)
            .await;
        let err = client
            .create_user("CLM-404", &new_user(), "k1")
            .await
            .unwrap_err();
        assert_permanent(&err, 404, "unknown_clinic", "no clinic CLM-404");
        let err = client
            .create_user("CLM-100", &new_user(), "k2")
            .await
            .unwrap_err();
        assert_permanent(&err, 422, "invalid_name", "first_name is empty");
    }

    #[tokio::test]
    async fn delete_user_sends_delete_with_the_idempotency_key() {
        let (server, client) = client().await;
        Mock::given(method("DELETE"))
            .and(path("/v1/clinics/CLM-100/users/EX-7"))
            .and(authorized())
            .and(idempotency_key("job-43"))
            .and(|request: &Request| request.body.is_empty())
            .respond_with(ResponseTemplate::new(204))
            .expect(1)
            .mount(&server)
            .await;
        client
            .delete_user("CLM-100", "EX-7", "job-43")
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn delete_user_of_an_unknown_user_counts_as_deleted() {
        let (server, client) = client().await;
        Mock::given(method("DELETE"))
            .and(path("/v1/clinics/CLM-100/users/EX-gone"))
            .respond_with(problem(404, "unknown_user", "no user EX-gone"))
            .expect(1)
            .mount(&server)
            .await;
        client
            .delete_user("CLM-100", "EX-gone", "job-44")
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn delete_user_other_failures_are_not_swallowed() {
        let (server, client) = client().await;
        Mock::given(method("DELETE"))
            .and(path("/v1/clinics/CLM-404/users/EX-7"))
            .respond_with(problem(404, "unknown_clinic", "no clinic CLM-404"))
            .mount(&server)
            .await;
        Mock::given(method("DELETE"))
            .and(path("/v1/clinics/CLM-100/users/EX-7"))
            .respond_with(problem(503, "simulated_failure", "try again"))
            .mount(&server)
            .await;
        let err = client
            .delete_user("CLM-404", "EX-7", "k1")
            .await
            .unwrap_err();
        assert_permanent(&err, 404, "unknown_clinic", "no clinic CLM-404");
        let err = client
            .delete_user("CLM-100", "EX-7", "k2")
            .await
            .unwrap_err();
        assert_transient(&err, "HTTP 503: try again");
    }

    #[tokio::test]
    async fn launch_posts_without_a_body_and_returns_the_link() {
        let (server, client) = client().await;
        Mock::given(method("POST"))
            .and(path("/v1/clinics/CLM-100/users/EX-7/launch"))
            .and(authorized())
            .and(idempotency_key("job-45"))
            .and(|request: &Request| request.body.is_empty())
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "url": "https://exercise.test/sso/abc",
                "expires_at": "2026-03-01T09:05:00Z"
            })))
            .expect(1)
            .mount(&server)
            .await;
        let link = client.launch("CLM-100", "EX-7", "job-45").await.unwrap();
        assert_eq!(
            link,
            LaunchLink {
                url: "https://exercise.test/sso/abc".into(),
                expires_at: Utc.with_ymd_and_hms(2026, 3, 1, 9, 5, 0).unwrap(),
            }
        );
    }

    #[tokio::test]
    async fn launch_of_an_unknown_user_is_permanent() {
        let (server, client) = client().await;
        Mock::given(method("POST"))
            .and(path("/v1/clinics/CLM-100/users/EX-gone/launch"))
            .respond_with(problem(404, "unknown_user", "no user EX-gone"))
            .mount(&server)
            .await;
        let err = client.launch("CLM-100", "EX-gone", "k").await.unwrap_err();
        assert_permanent(&err, 404, "unknown_user", "no user EX-gone");
    }

    #[tokio::test]
    async fn identifiers_are_percent_encoded_as_one_path_segment() {
        let (server, client) = client().await;
        Mock::given(method("DELETE"))
            .and(path("/v1/clinics/CLM%201%2F2/users/a%3Fb%23c%25d"))
            .respond_with(ResponseTemplate::new(204))
            .expect(1)
            .mount(&server)
            .await;
        client.delete_user("CLM 1/2", "a?b#c%d", "k").await.unwrap();
    }

    #[tokio::test]
    async fn identifiers_that_are_no_path_segment_are_refused_without_a_call() {
        let (server, client) = client().await;
        for id in ["", ".", ".."] {
            let err = client.find_clinic(id).await.unwrap_err();
            assert!(
                matches!(
                    &err,
                    ProviderError::Permanent {
                        status: 0,
                        code: Some(ProviderCode::InvalidIdentifier),
                        ..
                    }
                ),
                "{id:?}: {err:?}"
            );
            let err = client.delete_user("CLM-1", id, "k").await.unwrap_err();
            assert!(!err.is_transient(), "{id:?}: {err:?}");
        }
        assert!(server.received_requests().await.unwrap().is_empty());
    }
}
