//! Service accounts: credentials for integrators and scripts. The secret is stored as a
//! SHA-256 digest (it is 256 random bits, so a slow hash adds nothing).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use staffroom_domain::{
    AuditAction, AuditTarget, EntityName, Permission, RevocationRefusal, ServiceAccountId,
    ServiceAccountRefusal, SiteId, decide_revocation, decide_service_account,
};

use crate::audit::{self, Change};
use crate::page::{Page, decode_cursor, page_from_rows};
use crate::schema::service_accounts;
use crate::tx::{AuditContext, check_version, now};
use crate::usecase::{self, Failure, UseCase};
use crate::{DbConnection, StoreError, StoreResult};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = service_accounts)]
struct ServiceAccountRow {
    id: ServiceAccountId,
    site_id: SiteId,
    name: String,
    client_id: String,
    secret_hash: String,
    permissions: String,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    revoked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ServiceAccount {
    pub id: ServiceAccountId,
    pub site_id: SiteId,
    pub name: String,
    pub client_id: String,
    pub permissions: Vec<Permission>,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    /// Moves with every change (its `ETag`); not part of the audited record.
    #[serde(skip)]
    pub version: i64,
}

impl ServiceAccount {
    pub fn is_active(&self) -> bool {
        self.revoked_at.is_none()
    }
}

fn into_account(row: ServiceAccountRow) -> StoreResult<(ServiceAccount, String)> {
    let permissions: Vec<Permission> =
        serde_json::from_str(&row.permissions).map_err(StoreError::corrupt)?;
    Ok((
        ServiceAccount {
            id: row.id,
            site_id: row.site_id,
            name: row.name,
            client_id: row.client_id,
            permissions,
            created_at: row.created_at,
            revoked_at: row.revoked_at,
            version: row.version,
        },
        row.secret_hash,
    ))
}

#[derive(Debug, Clone)]
pub struct NewServiceAccount {
    pub name: EntityName,
    pub permissions: Vec<Permission>,
    pub client_id: String,
    pub secret_hash: String,
}

/// Creates a service account: [`CreateServiceAccount`] run by `usecase::run`.
pub fn create(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    new: NewServiceAccount,
) -> Result<ServiceAccount, Failure<ServiceAccountRefusal>> {
    usecase::run(
        conn,
        ctx,
        CreateServiceAccount { new },
        |account| account,
        None,
    )
}

/// The use-case of `POST /v1/service-accounts`: the domain decides the permissions held.
pub struct CreateServiceAccount {
    pub new: NewServiceAccount,
}

impl UseCase for CreateServiceAccount {
    type Snapshot = ();
    type Decision = Vec<Permission>;
    type Refusal = ServiceAccountRefusal;
    type Output = ServiceAccount;

    fn load(&self, _: &mut DbConnection, _: &AuditContext) -> Result<(), StoreError> {
        Ok(())
    }

    fn decide(&self, (): ()) -> Result<Vec<Permission>, ServiceAccountRefusal> {
        decide_service_account(&self.new.permissions)
    }

    fn write(
        self,
        conn: &mut DbConnection,
        ctx: &AuditContext,
        permissions: Vec<Permission>,
    ) -> Result<ServiceAccount, StoreError> {
        insert(conn, ctx, self.new, permissions)
    }
}

/// Writes the account holding `permissions` and its audit event.
fn insert(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    new: NewServiceAccount,
    permissions: Vec<Permission>,
) -> StoreResult<ServiceAccount> {
    let at = now();
    let row = ServiceAccountRow {
        id: ServiceAccountId::new(),
        site_id: ctx.site_id,
        name: new.name.as_str().to_owned(),
        client_id: new.client_id,
        secret_hash: new.secret_hash,
        permissions: serde_json::to_string(&permissions).map_err(StoreError::corrupt)?,
        version: 1,
        created_at: at,
        updated_at: at,
        revoked_at: None,
    };
    diesel::insert_into(service_accounts::table)
        .values(&row)
        .execute(conn)?;
    let (account, _) = into_account(row)?;
    audit::record(
        conn,
        ctx,
        Change::created(
            AuditAction::ServiceAccountCreated,
            AuditTarget::ServiceAccount(account.id),
            &account,
        ),
    )?;
    Ok(account)
}

pub fn get(
    conn: &mut DbConnection,
    site: SiteId,
    id: ServiceAccountId,
) -> StoreResult<ServiceAccount> {
    let row = service_accounts::table
        .filter(service_accounts::site_id.eq(site))
        .filter(service_accounts::id.eq(id))
        .select(ServiceAccountRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)?;
    into_account(row).map(|(account, _)| account)
}

/// An account of `site` that is not revoked; `NotFound` for a revoked or unknown one, or
/// another site's.
pub fn get_active(
    conn: &mut DbConnection,
    site: SiteId,
    id: ServiceAccountId,
) -> StoreResult<ServiceAccount> {
    Some(get(conn, site, id)?)
        .filter(ServiceAccount::is_active)
        .ok_or(StoreError::NotFound)
}

/// The account behind a client id, with its secret digest, if it exists and is not revoked.
pub fn find_by_client_id(
    conn: &mut DbConnection,
    client_id: &str,
) -> StoreResult<Option<(ServiceAccount, String)>> {
    service_accounts::table
        .filter(service_accounts::client_id.eq(client_id))
        .filter(service_accounts::revoked_at.is_null())
        .select(ServiceAccountRow::as_select())
        .first(conn)
        .optional()?
        .map(into_account)
        .transpose()
}

/// The site's accounts that are not revoked, in creation order.
pub fn list(
    conn: &mut DbConnection,
    site: SiteId,
    limit: i64,
    cursor: Option<&str>,
) -> StoreResult<Page<ServiceAccount>> {
    let mut query = service_accounts::table
        .filter(service_accounts::site_id.eq(site))
        .filter(service_accounts::revoked_at.is_null())
        .select(ServiceAccountRow::as_select())
        .order(service_accounts::id.asc())
        .limit(limit + 1)
        .into_boxed();
    if let Some(cursor) = cursor {
        let after: ServiceAccountId = decode_cursor(cursor)?;
        query = query.filter(service_accounts::id.gt(after));
    }
    let rows = query
        .load(conn)?
        .into_iter()
        .map(|r| into_account(r).map(|(a, _)| a))
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(page_from_rows(rows, limit, |a| a.id))
}

/// The use-case of `DELETE /v1/service-accounts/{id}`: revokes an account, so its secret
/// and tokens stop working at once, with its audit event. `If-Match` is honoured.
#[derive(Debug, Clone, Copy)]
pub struct RevokeServiceAccount {
    pub id: ServiceAccountId,
    pub expected_version: Option<i64>,
}

impl UseCase for RevokeServiceAccount {
    type Snapshot = ServiceAccount;
    type Decision = ServiceAccount;
    type Refusal = RevocationRefusal;
    type Output = ();

    fn load(&self, conn: &mut DbConnection, ctx: &AuditContext) -> StoreResult<ServiceAccount> {
        let account = get(conn, ctx.site_id, self.id)?;
        check_version(self.expected_version, account.version)?;
        Ok(account)
    }

    fn decide(&self, account: ServiceAccount) -> Result<ServiceAccount, RevocationRefusal> {
        decide_revocation(!account.is_active()).map(|()| account)
    }

    fn write(
        self,
        conn: &mut DbConnection,
        ctx: &AuditContext,
        before: ServiceAccount,
    ) -> StoreResult<()> {
        let at = now();
        diesel::update(service_accounts::table.find(self.id))
            .set((
                service_accounts::revoked_at.eq(Some(at)),
                service_accounts::version.eq(service_accounts::version + 1),
                service_accounts::updated_at.eq(at),
            ))
            .execute(conn)?;
        let revoked = Change {
            action: AuditAction::ServiceAccountRevoked,
            target: AuditTarget::ServiceAccount(self.id),
            before: serde_json::to_value(&before).ok(),
            after: None,
        };
        audit::record(conn, ctx, revoked)
    }
}

/// Runs [`RevokeServiceAccount`] without `If-Match` (for the operator's tools and tests).
pub fn revoke(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    id: ServiceAccountId,
) -> Result<(), Failure<RevocationRefusal>> {
    let revoke = RevokeServiceAccount {
        id,
        expected_version: None,
    };
    usecase::run(conn, ctx, revoke, |()| (), None)
}
