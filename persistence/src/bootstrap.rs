//! Creating a site with its first clinic and site administrator, in one transaction.

use staffroom_domain::{
    Actor, AuditAction, AuditTarget, ClinicId, Creator, EntityName, LicencePlan, Permission,
    SiteId, SiteSettings, UserId, decide_user_creation,
};

use crate::audit::{self, Change};
use crate::tx::{AuditContext, write_transaction};
use crate::user_rows::{self, NewUser};
use crate::{DbConnection, StoreError, StoreResult, clinics, sites};

#[derive(Debug, Clone)]
pub struct NewSite {
    pub name: EntityName,
    pub plan: LicencePlan,
    pub settings: SiteSettings,
    pub clinic_name: EntityName,
    /// The first administrator; `site_admin` is added to their permissions and the new
    /// clinic becomes their default.
    pub admin: NewUser,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct CreatedSite {
    pub site_id: SiteId,
    pub admin_user_id: UserId,
    pub clinic_id: ClinicId,
}

pub fn create_site(conn: &mut DbConnection, new: NewSite) -> StoreResult<CreatedSite> {
    write_transaction(conn, |conn| {
        let site = sites::insert(conn, &new.name, &new.plan, &new.settings)?;
        let ctx = AuditContext::system(site.id);
        audit::record(
            conn,
            &ctx,
            Change::created(AuditAction::SiteCreated, AuditTarget::Site(site.id), &site),
        )?;
        let clinic = clinics::insert(conn, site.id, &new.clinic_name, false)?;
        let mut admin = new.admin;
        admin.permissions.push(Permission::SiteAdmin);
        admin.clinic_ids = vec![clinic.id];
        admin.default_clinic_id = Some(clinic.id);
        let snapshot = user_rows::creation_snapshot(conn, site.id, &admin.email, None)?;
        let creator = Creator {
            actor: Actor {
                site_admin: true,
                clinic_ids: &[],
            },
            default_clinic_id: None,
        };
        let decided = decide_user_creation(&creator, &admin.request(), &snapshot)
            .map_err(|refusal| StoreError::corrupt(format!("first administrator: {refusal:?}")))?;
        let admin = user_rows::insert(conn, site.id, admin, decided)?;
        audit::record(conn, &ctx, user_rows::created(&admin))?;
        Ok(CreatedSite {
            site_id: site.id,
            admin_user_id: admin.id,
            clinic_id: clinic.id,
        })
    })
}
