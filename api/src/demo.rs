//! `serve --demo`: a sample site to explore the API with — a group plan, three clinics
//! and a dozen users across professions and both user types. Created once; later starts
//! find it by name and only print how to log in.

use staffroom_domain::{
    Email, EntityName, LicencePlan, Permission, PersonName, Profession, SiteId, SiteSettings,
    UserType,
};
use staffroom_persistence::bootstrap::{self, NewSite};
use staffroom_persistence::tx::AuditContext;
use staffroom_persistence::users::{self, NewUser};
use staffroom_persistence::{Pool, clinics, sites};

use crate::auth::password;
use crate::startup_error::StartupError;

pub const SITE_NAME: &str = "Demo Physio Group";
pub const ADMIN_EMAIL: &str = "admin@demo.staffroom.test";
/// Every demo user's password (demo data only).
pub const PASSWORD: &str = "staffroom-demo";

pub struct DemoSite {
    pub site_id: SiteId,
    pub site_name: String,
    pub admin_email: String,
    pub admin_password: String,
}

type Person = (
    &'static str,
    &'static str,
    UserType,
    Profession,
    &'static [Permission],
    usize,
);

const STAFF: &[Person] = &[
    (
        "Priya",
        "Shah",
        UserType::Clinical,
        Profession::Pt,
        &[
            Permission::ClinicAdmin,
            Permission::StartSoapNotes,
            Permission::FinishSoapNotes,
        ],
        0,
    ),
    (
        "Tom",
        "Okafor",
        UserType::Clinical,
        Profession::Pt,
        &[Permission::StartSoapNotes, Permission::FinishSoapNotes],
        0,
    ),
    (
        "Mei",
        "Chen",
        UserType::Clinical,
        Profession::Ot,
        &[Permission::StartSoapNotes, Permission::FinishSoapNotes],
        1,
    ),
    (
        "Daniel",
        "Byrne",
        UserType::Clinical,
        Profession::Slp,
        &[Permission::StartSoapNotes, Permission::FinishSoapNotes],
        1,
    ),
    (
        "Sofia",
        "Rossi",
        UserType::Clinical,
        Profession::Atc,
        &[Permission::StartSoapNotes],
        2,
    ),
    (
        "Jamal",
        "Wright",
        UserType::Clinical,
        Profession::Pta,
        &[Permission::StartSoapNotes, Permission::ForwardSoapNotes],
        0,
    ),
    (
        "Hannah",
        "Novak",
        UserType::Clinical,
        Profession::Spt,
        &[Permission::StartSoapNotes],
        2,
    ),
    (
        "Grace",
        "Adeyemi",
        UserType::NonClinical,
        Profession::Clerical,
        &[Permission::ManageSchedule],
        0,
    ),
    (
        "Oliver",
        "Hughes",
        UserType::NonClinical,
        Profession::Billing,
        &[Permission::ManageBilling, Permission::ViewReports],
        1,
    ),
    (
        "Lucia",
        "Fernandez",
        UserType::NonClinical,
        Profession::Clerical,
        &[Permission::ManageSchedule],
        2,
    ),
    (
        "Sam",
        "Taylor",
        UserType::NonClinical,
        Profession::Other,
        &[Permission::ViewReports],
        1,
    ),
];

fn parse<T, E: std::fmt::Display>(r: Result<T, E>) -> Result<T, StartupError> {
    r.map_err(|e| StartupError(format!("demo data: {e}")))
}

/// Creates the demo site unless a site of that name exists.
pub fn ensure(pool: &Pool) -> Result<DemoSite, StartupError> {
    let mut conn = pool.get()?;
    let found = |site_id| DemoSite {
        site_id,
        site_name: SITE_NAME.to_owned(),
        admin_email: ADMIN_EMAIL.to_owned(),
        admin_password: PASSWORD.to_owned(),
    };
    if let Some(site) = sites::find_by_name(&mut conn, SITE_NAME)? {
        return Ok(found(site.id));
    }
    let hash = password::hash(PASSWORD)?;
    let created = bootstrap::create_site(
        &mut conn,
        NewSite {
            name: parse(EntityName::parse(SITE_NAME))?,
            plan: LicencePlan::Group { licences: 10 },
            settings: SiteSettings::default(),
            clinic_name: parse(EntityName::parse("Riverside"))?,
            admin: NewUser {
                title: None,
                first_name: parse(PersonName::parse("Alex"))?,
                last_name: parse(PersonName::parse("Morgan"))?,
                email: parse(Email::parse(ADMIN_EMAIL))?,
                user_type: UserType::NonClinical,
                profession: Profession::Other,
                permissions: vec![Permission::ViewReports],
                clinic_ids: Vec::new(),
                default_clinic_id: None,
                password_hash: Some(hash.clone()),
                external_id: None,
                user_name: None,
                email_primary: None,
            },
        },
    )?;
    let ctx = AuditContext::system(created.site_id);
    let mut clinic_ids = vec![created.clinic_id];
    for name in ["Hillcrest", "Harbour"] {
        let clinic = clinics::create(&mut conn, &ctx, &parse(EntityName::parse(name))?, false)?;
        clinic_ids.push(clinic.id);
    }
    for (first, last, user_type, profession, permissions, clinic) in STAFF {
        let email = format!(
            "{}.{}@demo.staffroom.test",
            first.to_lowercase(),
            last.to_lowercase()
        );
        let home = clinic_ids[*clinic % clinic_ids.len()];
        users::create(
            &mut conn,
            &ctx,
            NewUser {
                title: None,
                first_name: parse(PersonName::parse(first))?,
                last_name: parse(PersonName::parse(last))?,
                email: parse(Email::parse(&email))?,
                user_type: *user_type,
                profession: *profession,
                permissions: permissions.to_vec(),
                clinic_ids: vec![home],
                default_clinic_id: Some(home),
                password_hash: Some(hash.clone()),
                external_id: None,
                user_name: None,
                email_primary: None,
            },
        )?;
    }
    Ok(found(created.site_id))
}
