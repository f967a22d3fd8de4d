//! Fixtures of the exercise integration's tests: a site connected to a provider clinic, and
//! staff to add there.

use reqwest::Method;
use serde_json::json;

use crate::{Options, PASSWORD, TestApp, id_of};

/// A server whose site is connected to the provider clinic `clm_id`, with the site
/// administrator's token.
pub async fn connected_site(options: Options, clm_id: &str) -> (TestApp, String) {
    let app = TestApp::spawn_with(options).await;
    let admin = app.admin_token().await;
    app.call(
        Method::PUT,
        "/v1/integrations/exercise",
        Some(&admin),
        Some(json!({ "clm_id": clm_id })),
    )
    .await
    .expect(200);
    (app, admin)
}

/// Creates a non-clinical user who can log in with [`PASSWORD`]; returns the id.
pub async fn new_staff(app: &TestApp, admin: &str, first: &str, last: &str, email: &str) -> String {
    let body = json!({
        "first_name": first,
        "last_name": last,
        "email": email,
        "user_type": "non_clinical",
    });
    id_of(&app.create_user(admin, body).await)
}

/// [`new_staff`], logged in: the user's id and token.
pub async fn signed_in_staff(
    app: &TestApp,
    admin: &str,
    first: &str,
    last: &str,
    email: &str,
) -> (String, String) {
    let id = new_staff(app, admin, first, last, email).await;
    (id, app.login(email, PASSWORD).await)
}
