//! Fixtures shared by the persistence integration tests: a fresh migrated database on the
//! backend the environment selects, a site created the way the operator creates one, and a
//! `NewUser` with sensible defaults.
// Each test binary uses a different subset of these fixtures.
#![allow(dead_code)]

use staffroom_domain::{
    ActorKind, ClinicId, Email, EntityName, LicencePlan, Permission, PersonName, Profession,
    SiteId, SiteSettings, UserType,
};
use staffroom_persistence::bootstrap::{self, CreatedSite, NewSite};
use staffroom_persistence::testing::TestDatabase;
use staffroom_persistence::tx::AuditContext;
use staffroom_persistence::users::{self, NewUser, User};
use staffroom_persistence::{DbConnection, Pool, PooledConnection};

/// A fresh database and a migrated pool on it; the database is dropped with the fixture.
pub struct Db {
    pub pool: Pool,
    // Declared after the pool so that connections close before the database is dropped.
    pub database: TestDatabase,
}

impl Db {
    pub fn new() -> Self {
        Self::with_pool_size(4)
    }

    pub fn with_pool_size(size: u32) -> Self {
        let database = TestDatabase::create().expect("create a test database");
        let pool = database.pool(size).expect("connect and migrate");
        Self { pool, database }
    }

    pub fn conn(&self) -> PooledConnection {
        self.pool.get().expect("a pooled connection")
    }
}

pub fn email(text: &str) -> Email {
    Email::parse(text).expect("valid email")
}

pub fn person(text: &str) -> PersonName {
    PersonName::parse(text).expect("valid name")
}

pub fn entity(text: &str) -> EntityName {
    EntityName::parse(text).expect("valid entity name")
}

/// A clinical PT with no permissions, no password and the site's first clinic.
pub fn new_user(first: &str, last: &str, address: &str) -> NewUser {
    NewUser {
        title: None,
        first_name: person(first),
        last_name: person(last),
        email: email(address),
        user_type: UserType::Clinical,
        profession: Profession::Pt,
        permissions: Vec::new(),
        clinic_ids: Vec::new(),
        default_clinic_id: None,
        password_hash: None,
        external_id: None,
        user_name: None,
        email_primary: None,
    }
}

/// Small builder methods over `NewUser`, so tests read as what they vary.
pub trait NewUserExt {
    fn non_clinical(self) -> Self;
    fn user_type(self, user_type: UserType) -> Self;
    fn profession(self, profession: Profession) -> Self;
    fn permissions(self, permissions: &[Permission]) -> Self;
    fn clinics(self, clinic_ids: &[ClinicId], default: Option<ClinicId>) -> Self;
    fn password_hash(self, hash: &str) -> Self;
    fn title(self, title: &str) -> Self;
}

impl NewUserExt for NewUser {
    fn non_clinical(self) -> Self {
        self.user_type(UserType::NonClinical)
            .profession(Profession::Clerical)
    }

    fn user_type(mut self, user_type: UserType) -> Self {
        self.user_type = user_type;
        self
    }

    fn profession(mut self, profession: Profession) -> Self {
        self.profession = profession;
        self
    }

    fn permissions(mut self, permissions: &[Permission]) -> Self {
        self.permissions = permissions.to_vec();
        self
    }

    fn clinics(mut self, clinic_ids: &[ClinicId], default: Option<ClinicId>) -> Self {
        self.clinic_ids = clinic_ids.to_vec();
        self.default_clinic_id = default;
        self
    }

    fn password_hash(mut self, hash: &str) -> Self {
        self.password_hash = Some(hash.to_owned());
        self
    }

    fn title(mut self, title: &str) -> Self {
        self.title = Some(person(title));
        self
    }
}

/// Creates a site through the operator's bootstrap, with a clinical site admin whose email
/// is unique across sites (`admin-<site name>@example.com`).
pub fn create_site(conn: &mut DbConnection, name: &str, plan: LicencePlan) -> CreatedSite {
    create_site_with_admin(
        conn,
        name,
        plan,
        new_user("Ada", "Admin", &format!("admin-{name}@example.com")),
    )
}

pub fn create_site_with_admin(
    conn: &mut DbConnection,
    name: &str,
    plan: LicencePlan,
    admin: NewUser,
) -> CreatedSite {
    bootstrap::create_site(
        conn,
        NewSite {
            name: entity(name),
            plan,
            settings: SiteSettings::default(),
            clinic_name: entity(&format!("{name} main clinic")),
            admin,
        },
    )
    .expect("bootstrap a site")
}

/// A change made by a user of `site` (the actor id is arbitrary but stable).
pub fn user_ctx(site: SiteId) -> AuditContext {
    AuditContext {
        site_id: site,
        actor_kind: ActorKind::User,
        actor_id: Some("actor-1".to_owned()),
        on_behalf_of: None,
        request_id: None,
    }
}

pub fn create_user(conn: &mut DbConnection, site: SiteId, new: NewUser) -> User {
    users::create(conn, &user_ctx(site), new).expect("create a user")
}

pub fn flex(licences: u32) -> LicencePlan {
    LicencePlan::Flex { licences }
}

#[derive(diesel::QueryableByName)]
struct SqlitePlanLine {
    #[diesel(sql_type = diesel::sql_types::Text)]
    detail: String,
}

#[derive(diesel::QueryableByName)]
struct PgPlanLine {
    #[diesel(sql_type = diesel::sql_types::Text)]
    #[diesel(column_name = "QUERY PLAN")]
    line: String,
}

/// The plan of `select` with its text parameters `binds`, one line per step. On PostgreSQL,
/// `tables` are analysed first and sequential scans are turned off: a test site is a
/// handful of rows, which a sequential scan reads fastest, and the question is whether an
/// index can serve the statement.
pub fn plan(conn: &mut DbConnection, select: &str, binds: &[&str], tables: &[&str]) -> String {
    use diesel::RunQueryDsl;
    use diesel::sql_types::Text;
    let lines: Vec<String> = match conn {
        DbConnection::Sqlite(c) => {
            let mut query = diesel::sql_query(format!("EXPLAIN QUERY PLAN {select}")).into_boxed();
            for b in binds {
                query = query.bind::<Text, _>(b.to_string());
            }
            query
                .load::<SqlitePlanLine>(c)
                .expect("explain")
                .into_iter()
                .map(|p| p.detail)
                .collect()
        }
        DbConnection::Pg(c) => {
            for table in tables {
                diesel::sql_query(format!("ANALYZE {table}"))
                    .execute(c)
                    .expect("analyze");
            }
            diesel::sql_query("SET enable_seqscan = off")
                .execute(c)
                .expect("set");
            let mut query = diesel::sql_query(format!("EXPLAIN {select}")).into_boxed();
            for b in binds {
                query = query.bind::<Text, _>(b.to_string());
            }
            let lines = query
                .load::<PgPlanLine>(c)
                .expect("explain")
                .into_iter()
                .map(|p| p.line)
                .collect();
            diesel::sql_query("RESET enable_seqscan")
                .execute(c)
                .expect("reset");
            lines
        }
    };
    lines.join("\n")
}
