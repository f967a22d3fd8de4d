//! A site with many users, inserted straight into the database with multi-row `INSERT`s
//! (100,000 API calls would take minutes and measure something else).

use std::fmt::Write as _;

use diesel::prelude::*;
use staffroom_api::auth::password;
use staffroom_domain::{
    ClinicId, Email, EntityName, LicencePlan, PersonName, Profession, SiteId, SiteSettings, UserId,
    UserType,
};
use staffroom_persistence::bootstrap::{self, CreatedSite, NewSite};
use staffroom_persistence::tx::write_transaction;
use staffroom_persistence::users::NewUser;
use staffroom_persistence::{DatabaseUrl, Pool};

use crate::BoxError;

/// Rows per seeding `INSERT`.
const BATCH: usize = 500;
pub const ADMIN_EMAIL: &str = "bench-admin@example.test";
pub const PASSWORD: &str = "bench passphrase, long enough";

/// Last names of the seeded users, in turn: `okafor` is one in 19 of them (521 of 10,000
/// users, as in the figures the performance issue quotes).
const LAST_NAMES: [&str; 19] = [
    "Okafor", "Murphy", "Kelly", "Walsh", "Byrne", "Ryan", "Doyle", "Nowak", "Dubois", "Rossi",
    "Garcia", "Silva", "Chen", "Kowalski", "Novak", "Haddad", "Mensah", "Larsen", "Kaur",
];
const FIRST_NAMES: [&str; 7] = [
    "Aoife", "Sean", "Maria", "Tomas", "Grace", "Ibrahim", "Lena",
];

/// The seeded site.
pub struct Seeded {
    pub site: SiteId,
    pub admin: UserId,
    pub main_clinic: ClinicId,
    /// Every user but the administrator, in insertion order (user `n` has the email
    /// `u{n}@bench.test`).
    pub users: Vec<UserId>,
}

/// The URL a separate `staffroom` process is given for `url`.
pub fn url_text(url: &DatabaseUrl) -> String {
    match url {
        DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
        DatabaseUrl::Postgres(url) => url.clone(),
    }
}

/// Bootstraps one site on `plan` with its first clinic `Main` and its administrator
/// (`ADMIN_EMAIL`, `PASSWORD`) straight in the database, as the test harness does.
pub fn site(pool: &Pool, plan: LicencePlan) -> Result<CreatedSite, BoxError> {
    let new = NewSite {
        name: EntityName::parse("Bench Practice")?,
        plan,
        settings: SiteSettings::default(),
        clinic_name: EntityName::parse("Main")?,
        admin: NewUser {
            title: None,
            first_name: PersonName::parse("Bench")?,
            last_name: PersonName::parse("Admin")?,
            email: Email::parse(ADMIN_EMAIL)?,
            user_type: UserType::NonClinical,
            profession: Profession::Other,
            permissions: Vec::new(),
            clinic_ids: Vec::new(),
            default_clinic_id: None,
            password_hash: Some(password::hash(PASSWORD).map_err(|e| e.to_string())?),
            external_id: None,
            user_name: None,
            email_primary: None,
        },
    };
    Ok(bootstrap::create_site(&mut *pool.get()?, new)?)
}

/// Bootstraps one site (group plan: non-clinical users need no licence) with its
/// administrator, then inserts `count` active non-clinical users at its main clinic.
pub fn site_with_users(pool: &Pool, count: usize) -> Result<Seeded, BoxError> {
    let created = site(pool, LicencePlan::Group { licences: 10 })?;
    let mut conn = pool.get()?;
    let users: Vec<UserId> = (0..count).map(|_| UserId::new()).collect();
    let (site, main) = (created.site_id, created.clinic_id);
    write_transaction(&mut conn, |conn| {
        for (batch, ids) in users.chunks(BATCH).enumerate() {
            let mut rows = String::new();
            let mut memberships = String::new();
            for (i, id) in ids.iter().enumerate() {
                let n = batch * BATCH + i;
                let first = FIRST_NAMES[n % FIRST_NAMES.len()];
                let last = LAST_NAMES[n % LAST_NAMES.len()];
                let email = format!("u{n}@bench.test");
                let search = format!("{} {} {email}", first, last).to_lowercase();
                let sep = if i == 0 { "" } else { "," };
                let _ = write!(
                    rows,
                    "{sep}('{id}', '{site}', NULL, '{first}', '{last}', '{email}', '{email}', \
                     '{search}', '{}', '{}', 'non_clinical', 'OTHER', 'active', '{main}', \
                     FALSE, NULL, NULL, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
                    first.to_lowercase(),
                    last.to_lowercase(),
                );
                let _ = write!(memberships, "{sep}('{id}', '{main}', '{site}')");
            }
            diesel::sql_query(format!(
                "INSERT INTO users (id, site_id, title, first_name, last_name, email, \
                 email_normalized, search_text, sort_first_name, sort_last_name, user_type, \
                 profession, status, default_clinic_id, diary_enabled, password_hash, \
                 last_login_at, version, created_at, updated_at) VALUES {rows}"
            ))
            .execute(conn)?;
            diesel::sql_query(format!(
                "INSERT INTO user_clinics (user_id, clinic_id, site_id) VALUES {memberships}"
            ))
            .execute(conn)?;
        }
        diesel::result::QueryResult::Ok(())
    })?;
    Ok(Seeded {
        site,
        admin: created.admin_user_id,
        main_clinic: main,
        users,
    })
}
