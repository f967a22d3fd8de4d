//! Fixture builders for the arrange step of the access tests: a site with a second clinic,
//! and staff members with a profession, permissions and clinics.

use serde_json::{Value, json};

use crate::{TestApp, add_clinic, id_of};

/// A fresh server whose site has two clinics: the server, the site administrator's token,
/// and the ids of Main (the site's first clinic) and North.
pub async fn two_clinics() -> (TestApp, String, String, String) {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let main = app.site.clinic_id.clone();
    let north = add_clinic(&app, &admin, "North").await;
    (app, admin, main, north)
}

/// A staff member to create through the API with `token`: a physiotherapist (`PT`) without
/// permissions in the creator's default clinic, unless told otherwise. The first clinic
/// given is the default; clerical, billing and other professions are non-clinical.
pub struct NewStaff<'a> {
    app: &'a TestApp,
    token: &'a str,
    email: &'a str,
    profession: &'a str,
    permissions: Vec<&'a str>,
    clinics: Vec<&'a str>,
}

/// Starts a [`NewStaff`] at `email`, created by `token`.
pub fn staff<'a>(app: &'a TestApp, token: &'a str, email: &'a str) -> NewStaff<'a> {
    NewStaff {
        app,
        token,
        email,
        profession: "PT",
        permissions: Vec::new(),
        clinics: Vec::new(),
    }
}

impl<'a> NewStaff<'a> {
    #[must_use]
    pub fn profession(mut self, profession: &'a str) -> Self {
        self.profession = profession;
        self
    }

    #[must_use]
    pub fn permissions(mut self, permissions: &[&'a str]) -> Self {
        self.permissions = permissions.to_vec();
        self
    }

    #[must_use]
    pub fn clinics(mut self, clinics: &[&'a str]) -> Self {
        self.clinics = clinics.to_vec();
        self
    }

    /// The request body `POST /v1/users` is sent.
    pub fn body(&self) -> Value {
        let user_type = if matches!(self.profession, "CLERICAL" | "BILLING" | "OTHER") {
            "non_clinical"
        } else {
            "clinical"
        };
        let mut body = json!({
            "first_name": "Some",
            "last_name": "Staff",
            "email": self.email,
            "user_type": user_type,
            "profession": self.profession,
            "permissions": self.permissions,
        });
        if let Some(default) = self.clinics.first() {
            body["clinic_ids"] = json!(self.clinics);
            body["default_clinic_id"] = json!(default);
        }
        body
    }

    /// Creates the user (expecting `201`) and returns their id.
    pub async fn create(self) -> String {
        id_of(&self.app.create_user(self.token, self.body()).await)
    }
}
