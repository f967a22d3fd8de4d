//! SCIM tokens: the long-lived bearer tokens of a site's identity providers (SPEC §3, §8).
//! Only the token's SHA-256 digest is stored (it is a signed token with a random id, so a
//! slow hash adds nothing); it is shown once, when issued.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use staffroom_domain::{
    AuditAction, AuditTarget, EntityName, RevocationRefusal, ScimTokenId, SiteId, decide_revocation,
};
use std::convert::Infallible;

use crate::audit::{self, Change};
use crate::page::{Page, decode_cursor, page_from_rows};
use crate::schema::scim_tokens;
use crate::tx::{AuditContext, check_version, now};
use crate::usecase::UseCase;
use crate::{DbConnection, StoreError, StoreResult};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = scim_tokens)]
struct ScimTokenRow {
    id: ScimTokenId,
    site_id: SiteId,
    name: String,
    token_hash: String,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    revoked_at: Option<NaiveDateTime>,
}

/// A SCIM token as the API shows it (never its secret).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ScimToken {
    pub id: ScimTokenId,
    pub site_id: SiteId,
    pub name: String,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
    /// Moves with every change (its `ETag`); not part of the audited record.
    #[serde(skip)]
    pub version: i64,
    /// The digest of the token; not part of the audited record.
    #[serde(skip)]
    pub token_hash: String,
}

impl ScimToken {
    pub fn is_active(&self) -> bool {
        self.revoked_at.is_none()
    }
}

impl From<ScimTokenRow> for ScimToken {
    fn from(row: ScimTokenRow) -> Self {
        Self {
            id: row.id,
            site_id: row.site_id,
            name: row.name,
            created_at: row.created_at,
            revoked_at: row.revoked_at,
            version: row.version,
            token_hash: row.token_hash,
        }
    }
}

/// The use-case of `POST /v1/scim-tokens`: the caller made the token (its id is in it)
/// and hands over the id and the token's digest.
#[derive(Debug, Clone)]
pub struct IssueScimToken {
    pub id: ScimTokenId,
    pub name: EntityName,
    pub token_hash: String,
}

impl UseCase for IssueScimToken {
    type Snapshot = ();
    type Decision = ();
    type Refusal = Infallible;
    type Output = ScimToken;

    fn load(&self, _: &mut DbConnection, _: &AuditContext) -> StoreResult<()> {
        Ok(())
    }

    fn decide(&self, (): ()) -> Result<(), Infallible> {
        Ok(())
    }

    fn write(self, conn: &mut DbConnection, ctx: &AuditContext, (): ()) -> StoreResult<ScimToken> {
        let at = now();
        let row = ScimTokenRow {
            id: self.id,
            site_id: ctx.site_id,
            name: self.name.as_str().to_owned(),
            token_hash: self.token_hash,
            version: 1,
            created_at: at,
            updated_at: at,
            revoked_at: None,
        };
        diesel::insert_into(scim_tokens::table)
            .values(&row)
            .execute(conn)?;
        let token = ScimToken::from(row);
        audit::record(
            conn,
            ctx,
            Change::created(
                AuditAction::ScimTokenCreated,
                AuditTarget::ScimToken(token.id),
                &token,
            ),
        )?;
        Ok(token)
    }
}

/// A token of `site`, revoked or not; `NotFound` for an unknown one or another site's.
pub fn get(conn: &mut DbConnection, site: SiteId, id: ScimTokenId) -> StoreResult<ScimToken> {
    scim_tokens::table
        .filter(scim_tokens::site_id.eq(site))
        .filter(scim_tokens::id.eq(id))
        .select(ScimTokenRow::as_select())
        .first(conn)
        .optional()?
        .map(ScimToken::from)
        .ok_or(StoreError::NotFound)
}

/// A token of `site` that is not revoked; `NotFound` otherwise.
pub fn get_active(
    conn: &mut DbConnection,
    site: SiteId,
    id: ScimTokenId,
) -> StoreResult<ScimToken> {
    Some(get(conn, site, id)?)
        .filter(ScimToken::is_active)
        .ok_or(StoreError::NotFound)
}

/// The site's tokens that are not revoked, in creation order.
pub fn list(
    conn: &mut DbConnection,
    site: SiteId,
    limit: i64,
    cursor: Option<&str>,
) -> StoreResult<Page<ScimToken>> {
    let mut query = scim_tokens::table
        .filter(scim_tokens::site_id.eq(site))
        .filter(scim_tokens::revoked_at.is_null())
        .select(ScimTokenRow::as_select())
        .order(scim_tokens::id.asc())
        .limit(limit + 1)
        .into_boxed();
    if let Some(cursor) = cursor {
        let after: ScimTokenId = decode_cursor(cursor)?;
        query = query.filter(scim_tokens::id.gt(after));
    }
    let rows = query.load(conn)?.into_iter().map(ScimToken::from).collect();
    Ok(page_from_rows(rows, limit, |t| t.id))
}

/// The use-case of `DELETE /v1/scim-tokens/{id}`: revokes a token, so that its next
/// request is refused, with its audit event. `If-Match` is honoured.
#[derive(Debug, Clone, Copy)]
pub struct RevokeScimToken {
    pub id: ScimTokenId,
    pub expected_version: Option<i64>,
}

impl UseCase for RevokeScimToken {
    type Snapshot = ScimToken;
    type Decision = ScimToken;
    type Refusal = RevocationRefusal;
    type Output = ();

    fn load(&self, conn: &mut DbConnection, ctx: &AuditContext) -> StoreResult<ScimToken> {
        let token = get(conn, ctx.site_id, self.id)?;
        check_version(self.expected_version, token.version)?;
        Ok(token)
    }

    fn decide(&self, token: ScimToken) -> Result<ScimToken, RevocationRefusal> {
        decide_revocation(!token.is_active()).map(|()| token)
    }

    fn write(
        self,
        conn: &mut DbConnection,
        ctx: &AuditContext,
        before: ScimToken,
    ) -> StoreResult<()> {
        let at = now();
        diesel::update(scim_tokens::table.find(self.id))
            .set((
                scim_tokens::revoked_at.eq(Some(at)),
                scim_tokens::version.eq(scim_tokens::version + 1),
                scim_tokens::updated_at.eq(at),
            ))
            .execute(conn)?;
        let revoked = Change {
            action: AuditAction::ScimTokenRevoked,
            target: AuditTarget::ScimToken(self.id),
            before: serde_json::to_value(&before).ok(),
            after: None,
        };
        audit::record(conn, ctx, revoked)
    }
}
