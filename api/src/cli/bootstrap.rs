//! `staffroom bootstrap`: a site with its first clinic and site administrator.

use staffroom_domain::{
    Email, EntityName, LicencePlan, Password, PersonName, PlanKind, Profession, SiteSettings,
    UserType,
};
use staffroom_persistence::bootstrap::{self, NewSite};
use staffroom_persistence::users::NewUser;

use super::args::{BootstrapArgs, Cli, PlanArg, UserTypeArg};
use super::database::{database_url, open_database};
use crate::auth::password;
use crate::startup_error::StartupError;

/// Creates the site and prints its ids as JSON; a bad value names its flag.
pub fn run_bootstrap(cli: &Cli, args: &BootstrapArgs) -> Result<(), StartupError> {
    let field =
        |name: &str, e: staffroom_domain::ParseError| StartupError(format!("--{name}: {e}"));
    let kind = match args.plan {
        PlanArg::Flex => PlanKind::Flex,
        PlanArg::Solo => PlanKind::Solo,
        PlanArg::Group => PlanKind::Group,
    };
    let plan = LicencePlan::from_parts(kind, args.licences).map_err(|e| field("licences", e))?;
    let email = Email::parse(&args.admin_email).map_err(|e| field("admin-email", e))?;
    let password = Password::parse(&args.admin_password).map_err(|e| field("admin-password", e))?;
    let new = NewSite {
        name: EntityName::parse(&args.site_name).map_err(|e| field("site-name", e))?,
        plan,
        settings: SiteSettings::default(),
        clinic_name: EntityName::parse(&args.clinic_name).map_err(|e| field("clinic-name", e))?,
        admin: NewUser {
            title: None,
            first_name: PersonName::parse(&args.admin_first_name)
                .map_err(|e| field("admin-first-name", e))?,
            last_name: PersonName::parse(&args.admin_last_name)
                .map_err(|e| field("admin-last-name", e))?,
            email,
            user_type: match args.admin_user_type {
                UserTypeArg::Clinical => UserType::Clinical,
                UserTypeArg::NonClinical => UserType::NonClinical,
            },
            profession: Profession::Other,
            permissions: Vec::new(),
            clinic_ids: Vec::new(),
            default_clinic_id: None,
            password_hash: Some(password::hash(password.expose())?),
            external_id: None,
            user_name: None,
            email_primary: None,
        },
    };
    let pool = open_database(&database_url(cli)?, 2)?;
    let mut conn = pool.get()?;
    let created = bootstrap::create_site(&mut conn, new).map_err(|e| match e {
        staffroom_persistence::StoreError::Licence(e) => {
            StartupError(format!("--plan: {}", e.error))
        }
        other => StartupError(other.to_string()),
    })?;
    println!("{}", serde_json::to_string(&created)?);
    Ok(())
}
