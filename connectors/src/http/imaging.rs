//! [`ImagingProvider`] over HTTP: WIRE.md's imaging (scan-referral) format.

use async_trait::async_trait;
use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::{HttpConfig, Transport};
use crate::{
    ImagingProvider, ImagingUser, ImagingUserUpdate, NewImagingUser, NewReferral, ProviderResult,
    Referral,
};

/// The imaging provider's HTTP client (`/v1/users/...`).
#[derive(Debug, Clone)]
pub struct HttpImaging {
    transport: Transport,
}

impl HttpImaging {
    pub fn new(config: HttpConfig) -> ProviderResult<Self> {
        Ok(Self {
            transport: Transport::new(config)?,
        })
    }
}

/// `POST /v1/users` body. WIRE.md marks `title` optional (`"title"?`): it is left out
/// rather than sent as `null`.
#[derive(Serialize)]
struct NewUserBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    first_name: &'a str,
    last_name: &'a str,
    email: &'a str,
    marketing_opt_in: bool,
}

impl<'a> From<&'a NewImagingUser> for NewUserBody<'a> {
    fn from(user: &'a NewImagingUser) -> Self {
        Self {
            title: user.title.as_deref(),
            first_name: &user.first_name,
            last_name: &user.last_name,
            email: &user.email,
            marketing_opt_in: user.marketing_opt_in,
        }
    }
}

/// `POST /v1/users/{id}/referrals` body; `notes` is optional (`"notes"?`), left out when
/// there are none.
#[derive(Serialize)]
struct NewReferralBody<'a> {
    patient_name: &'a str,
    body_part: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    notes: Option<&'a str>,
    callback_url: &'a str,
}

impl<'a> From<&'a NewReferral> for NewReferralBody<'a> {
    fn from(referral: &'a NewReferral) -> Self {
        Self {
            patient_name: &referral.patient_name,
            body_part: &referral.body_part,
            notes: referral.notes.as_deref(),
            callback_url: &referral.callback_url,
        }
    }
}

/// `GET /v1/users?email=` answer.
#[derive(Deserialize)]
struct UserPage {
    items: Vec<ImagingUser>,
}

#[async_trait]
impl ImagingProvider for HttpImaging {
    /// `POST /v1/users`.
    async fn create_user(
        &self,
        user: &NewImagingUser,
        idempotency_key: &str,
    ) -> ProviderResult<ImagingUser> {
        self.transport
            .mutate(
                Method::POST,
                &["v1", "users"],
                Some(&NewUserBody::from(user)),
                idempotency_key,
            )
            .await
    }

    /// `GET /v1/users?email=EMAIL`.
    ///
    /// WIRE.md promises zero or one item; the one taken is the first whose email matches
    /// (case-insensitively), so a provider that ignored the filter cannot hand back a
    /// stranger's account.
    async fn find_user_by_email(&self, email: &str) -> ProviderResult<Option<ImagingUser>> {
        let page: UserPage = self
            .transport
            .get(&["v1", "users"], Some(("email", email)))
            .await?;
        let wanted = email.to_lowercase();
        Ok(page
            .items
            .into_iter()
            .find(|user| user.email.to_lowercase() == wanted))
    }

    /// `GET /v1/users/{id}`.
    async fn get_user(&self, provider_user_id: &str) -> ProviderResult<ImagingUser> {
        self.transport
            .get(&["v1", "users", provider_user_id], None)
            .await
    }

    /// `PATCH /v1/users/{id}` with only the fields to change.
    async fn update_user(
        &self,
        provider_user_id: &str,
        update: &ImagingUserUpdate,
        idempotency_key: &str,
    ) -> ProviderResult<ImagingUser> {
        self.transport
            .mutate(
                Method::PATCH,
                &["v1", "users", provider_user_id],
                Some(update),
                idempotency_key,
            )
            .await
    }

    /// `POST /v1/users/{id}/referrals`.
    async fn create_referral(
        &self,
        provider_user_id: &str,
        referral: &NewReferral,
        idempotency_key: &str,
    ) -> ProviderResult<Referral> {
        self.transport
            .mutate(
                Method::POST,
                &["v1", "users", provider_user_id, "referrals"],
                Some(&NewReferralBody::from(referral)),
                idempotency_key,
            )
            .await
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use serde_json::json;
    use wiremock::matchers::{body_json, method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::super::testing::*;
    use super::*;

    async fn client() -> (MockServer, HttpImaging) {
        let server = MockServer::start().await;
        let client = HttpImaging::new(config(&server)).unwrap();
        (server, client)
    }

    fn user_json(email: &str) -> serde_json::Value {
        json!({
            "id": "IM-3",
            "title": "Dr",
            "first_name": "Grace",
            "last_name": "Hopper",
            "email": email,
            "marketing_opt_in": false,
            "created_at": "2026-03-01T09:00:00Z"
        })
    }

    fn user(email: &str) -> ImagingUser {
        ImagingUser {
            id: "IM-3".into(),
            title: Some("Dr".into()),
            first_name: "Grace".into(),
            last_name: "Hopper".into(),
            email: email.into(),
            marketing_opt_in: false,
        }
    }

    fn new_user(title: Option<&str>) -> NewImagingUser {
        NewImagingUser {
            title: title.map(str::to_owned),
            first_name: "Grace".into(),
            last_name: "Hopper".into(),
            email: "grace@example.com".into(),
            marketing_opt_in: false,
        }
    }

    #[tokio::test]
    async fn create_user_posts_the_user_with_the_idempotency_key() {
        let (server, client) = client().await;
        Mock::given(method("POST"))
            .and(path("/v1/users"))
            .and(authorized())
            .and(idempotency_key("job-1"))
            .and(json_content())
            .and(body_json(json!({
                "title": "Dr",
                "first_name": "Grace",
                "last_name": "Hopper",
                "email": "grace@example.com",
                "marketing_opt_in": false
            })))
            .respond_with(ResponseTemplate::new(201).set_body_json(user_json("grace@example.com")))
            .expect(1)
            .mount(&server)
            .await;
        let created = client
            .create_user(&new_user(Some("Dr")), "job-1")
            .await
            .unwrap();
        assert_eq!(created, user("grace@example.com"));
    }

    #[tokio::test]
    async fn create_user_leaves_out_a_missing_title() {
        let (server, client) = client().await;
        let mut answer = user_json("grace@example.com");
        answer["title"] = serde_json::Value::Null;
        Mock::given(method("POST"))
            .and(path("/v1/users"))
            .and(idempotency_key("job-2"))
            .and(body_json(json!({
                "first_name": "Grace",
                "last_name": "Hopper",
                "email": "grace@example.com",
                "marketing_opt_in": false
            })))
            .respond_with(ResponseTemplate::new(201).set_body_json(answer))
            .expect(1)
            .mount(&server)
            .await;
        let created = client.create_user(&new_user(None), "job-2").await.unwrap();
        assert_eq!(created.title, None);
    }

    #[tokio::test]
    async fn create_user_with_an_email_in_use_is_permanent() {
        let (server, client) = client().await;
        Mock::given(method("POST"))
            .and(path("/v1/users"))
            .respond_with(problem(409, "email_in_use", "grace@example.com is taken"))
            .mount(&server)
            .await;
        let err = client
            .create_user(&new_user(None), "job-3")
            .await
            .unwrap_err();
        assert_permanent(&err, 409, "email_in_use", "grace@example.com is taken");
    }

    #[tokio::test]
    async fn find_user_by_email_queries_by_email_without_an_idempotency_key() {
        let (server, client) = client().await;
        Mock::given(method("GET"))
            .and(path("/v1/users"))
            .and(query_param("email", "Grace+scans@Example.com"))
            .and(authorized())
            .and(without_idempotency_key())
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"items": [user_json("grace+scans@example.com")]})),
            )
            .expect(1)
            .mount(&server)
            .await;
        let found = client
            .find_user_by_email("Grace+scans@Example.com")
            .await
            .unwrap();
        assert_eq!(found, Some(user("grace+scans@example.com")));
    }

    #[tokio::test]
    async fn find_user_by_email_is_none_without_a_matching_item() {
        let (server, client) = client().await;
        Mock::given(method("GET"))
            .and(path("/v1/users"))
            .and(query_param("email", "nobody@example.com"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"items": []})))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/v1/users"))
            .and(query_param("email", "other@example.com"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"items": [user_json("grace@example.com")]})),
            )
            .mount(&server)
            .await;
        assert_eq!(
            client
                .find_user_by_email("nobody@example.com")
                .await
                .unwrap(),
            None
        );
        // A provider ignoring the filter does not hand back someone else.
        assert_eq!(
            client
                .find_user_by_email("other@example.com")
                .await
                .unwrap(),
            None
        );
    }

    #[tokio::test]
    async fn get_user_gets_the_user_by_id() {
        let (server, client) = client().await;
        Mock::given(method("GET"))
            .and(path("/v1/users/IM-3"))
            .and(authorized())
            .and(without_idempotency_key())
            .respond_with(ResponseTemplate::new(200).set_body_json(user_json("grace@example.com")))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/v1/users/IM-404"))
            .respond_with(problem(404, "unknown_user", "no user IM-404"))
            .mount(&server)
            .await;
        assert_eq!(
            client.get_user("IM-3").await.unwrap(),
            user("grace@example.com")
        );
        let err = client.get_user("IM-404").await.unwrap_err();
        assert_permanent(&err, 404, "unknown_user", "no user IM-404");
    }

    #[tokio::test]
    async fn update_user_patches_only_the_given_fields() {
        let (server, client) = client().await;
        Mock::given(method("PATCH"))
            .and(path("/v1/users/IM-3"))
            .and(authorized())
            .and(idempotency_key("job-4"))
            .and(json_content())
            .and(body_json(json!({"email": "grace.h@example.com"})))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(user_json("grace.h@example.com")),
            )
            .expect(1)
            .mount(&server)
            .await;
        let update = ImagingUserUpdate {
            email: Some("grace.h@example.com".into()),
            marketing_opt_in: None,
        };
        let updated = client.update_user("IM-3", &update, "job-4").await.unwrap();
        assert_eq!(updated, user("grace.h@example.com"));
    }

    #[tokio::test]
    async fn update_user_refusals_are_permanent() {
        let (server, client) = client().await;
        Mock::given(method("PATCH"))
            .and(path("/v1/users/IM-3"))
            .respond_with(problem(409, "email_in_use", "taken"))
            .mount(&server)
            .await;
        Mock::given(method("PATCH"))
            .and(path("/v1/users/IM-4"))
            .respond_with(problem(422, "immutable_field", "first_name cannot change"))
            .mount(&server)
            .await;
        let update = ImagingUserUpdate {
            email: None,
            marketing_opt_in: Some(true),
        };
        let err = client.update_user("IM-3", &update, "k1").await.unwrap_err();
        assert_permanent(&err, 409, "email_in_use", "taken");
        let err = client.update_user("IM-4", &update, "k2").await.unwrap_err();
        assert_permanent(&err, 422, "immutable_field", "first_name cannot change");
    }

    #[tokio::test]
    async fn create_referral_posts_the_referral_with_the_idempotency_key() {
        let (server, client) = client().await;
        Mock::given(method("POST"))
            .and(path("/v1/users/IM-3/referrals"))
            .and(authorized())
            .and(idempotency_key("job-5"))
            .and(json_content())
            .and(body_json(json!({
                "patient_name": "Pat Doe",
                "body_part": "left knee",
                "callback_url": "https://staffroom.test/webhooks/imaging"
            })))
            .respond_with(ResponseTemplate::new(201).set_body_json(json!({
                "id": "REF-9",
                "user_id": "IM-3",
                "patient_name": "Pat Doe",
                "body_part": "left knee",
                "notes": null,
                "status": "requested",
                "created_at": "2026-03-01T10:00:00Z"
            })))
            .expect(1)
            .mount(&server)
            .await;
        let referral = NewReferral {
            patient_name: "Pat Doe".into(),
            body_part: "left knee".into(),
            notes: None,
            callback_url: "https://staffroom.test/webhooks/imaging".into(),
        };
        let created = client
            .create_referral("IM-3", &referral, "job-5")
            .await
            .unwrap();
        assert_eq!(
            created,
            Referral {
                id: "REF-9".into(),
                user_id: "IM-3".into(),
                patient_name: "Pat Doe".into(),
                body_part: "left knee".into(),
                notes: None,
                status: "requested".into(),
                created_at: Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap(),
            }
        );
    }

    #[tokio::test]
    async fn create_referral_sends_notes_when_given() {
        let (server, client) = client().await;
        Mock::given(method("POST"))
            .and(path("/v1/users/IM-3/referrals"))
            .and(body_json(json!({
                "patient_name": "Pat Doe",
                "body_part": "spine",
                "notes": "urgent",
                "callback_url": "https://staffroom.test/cb"
            })))
            .respond_with(ResponseTemplate::new(201).set_body_json(json!({
                "id": "REF-10",
                "user_id": "IM-3",
                "patient_name": "Pat Doe",
                "body_part": "spine",
                "notes": "urgent",
                "status": "requested",
                "created_at": "2026-03-01T10:00:00Z"
            })))
            .expect(1)
            .mount(&server)
            .await;
        let referral = NewReferral {
            patient_name: "Pat Doe".into(),
            body_part: "spine".into(),
            notes: Some("urgent".into()),
            callback_url: "https://staffroom.test/cb".into(),
        };
        let created = client
            .create_referral("IM-3", &referral, "job-6")
            .await
            .unwrap();
        assert_eq!(created.notes.as_deref(), Some("urgent"));
    }
}
