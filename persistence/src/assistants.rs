//! A clinician's assistants (SPEC §7): the assistant *account* (one person of the site who
//! signs in, never a site user, so no licence) and one *assistant* record per clinician
//! they assist, with its status (`staffroom_domain::assistant`). Invitations go through the
//! same rows and link as users' (`invitation_rows`); acting on a clinician's behalf sends a
//! patient message through the outbox's email jobs.
//!
//! Revoking or deleting a record moves the account's `token_generation`: every token issued
//! before answers `401` on its next request. A token also dies when the account has no
//! accepted record left with an active clinician (`staffroom_domain::assistant::token_is_live`).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use serde_json::json;
use staffroom_domain::assistant::{
    self, ActingFor, Actor, AssistantAcceptanceSnapshot, AssistantChange, AssistantRefusal,
    AssistantStatus, NotTheirClinician,
};
use staffroom_domain::{
    AcceptanceRefusal, AssistantAccountId, AssistantId, AuditAction, AuditTarget, Email, JobId,
    MessageBody, MessageSubject, PersonName, SignInRefusal, SiteId, UserId, UserStatus, UserType,
};

use crate::audit;
use crate::invitation_rows::{self, InvitationRow, Invitee, NewInvitation};
use crate::page::{Page, decode_cursor, page_from_rows};
use crate::schema::{assistant_accounts, assistants, users};
use crate::tx::{AuditContext, check_version, now};
use crate::usecase::UseCase;
use crate::{DbConnection, StoreError, StoreResult, mail};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = assistant_accounts)]
struct AccountRow {
    id: AssistantAccountId,
    site_id: SiteId,
    email: String,
    email_normalized: String,
    full_name: String,
    password_hash: Option<String>,
    last_login_at: Option<NaiveDateTime>,
    token_generation: i64,
    created_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = assistants)]
struct AssistantRow {
    id: AssistantId,
    site_id: SiteId,
    clinician_id: UserId,
    account_id: AssistantAccountId,
    full_name: String,
    status: AssistantStatus,
    invited_at: NaiveDateTime,
    accepted_at: Option<NaiveDateTime>,
    revoked_at: Option<NaiveDateTime>,
    version: i64,
    updated_at: NaiveDateTime,
}

/// An assistant's sign-in account.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssistantAccount {
    pub id: AssistantAccountId,
    pub site_id: SiteId,
    pub email: String,
    pub full_name: String,
    pub last_login_at: Option<NaiveDateTime>,
    /// Tokens issued under an earlier generation are refused.
    #[serde(skip)]
    pub token_generation: i64,
}

impl From<AccountRow> for AssistantAccount {
    fn from(row: AccountRow) -> Self {
        Self {
            id: row.id,
            site_id: row.site_id,
            email: row.email,
            full_name: row.full_name,
            last_login_at: row.last_login_at,
            token_generation: row.token_generation,
        }
    }
}

/// One clinician's assistant, as the clinician lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assistant {
    pub id: AssistantId,
    pub clinician_id: UserId,
    pub account_id: AssistantAccountId,
    pub full_name: String,
    pub email: String,
    pub status: AssistantStatus,
    pub invited_at: NaiveDateTime,
    pub accepted_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub last_login_at: Option<NaiveDateTime>,
    /// Moves with every change (its `ETag`); not part of the audited record.
    #[serde(skip)]
    pub version: i64,
}

fn into_assistant((row, account): (AssistantRow, AccountRow)) -> Assistant {
    Assistant {
        id: row.id,
        clinician_id: row.clinician_id,
        account_id: row.account_id,
        full_name: row.full_name,
        email: account.email,
        status: row.status,
        invited_at: row.invited_at,
        accepted_at: row.accepted_at,
        revoked_at: row.revoked_at,
        last_login_at: account.last_login_at,
        version: row.version,
    }
}

/// The type and status of a user of the site, for the clinician rules; `NotFound` for
/// another site's or an unknown user.
fn clinician(
    conn: &mut DbConnection,
    site: SiteId,
    id: UserId,
) -> StoreResult<(UserType, UserStatus)> {
    users::table
        .filter(users::site_id.eq(site))
        .filter(users::id.eq(id))
        .select((users::user_type, users::status))
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)
}

/// One assistant of `clinician`; `NotFound` for another clinician's (or site's) record.
pub fn get(
    conn: &mut DbConnection,
    site: SiteId,
    clinician: UserId,
    id: AssistantId,
) -> StoreResult<Assistant> {
    assistants::table
        .inner_join(assistant_accounts::table)
        .filter(assistants::site_id.eq(site))
        .filter(assistants::clinician_id.eq(clinician))
        .filter(assistants::id.eq(id))
        .select((AssistantRow::as_select(), AccountRow::as_select()))
        .first(conn)
        .optional()?
        .map(into_assistant)
        .ok_or(StoreError::NotFound)
}

/// The assistants of `clinician`, in invitation order.
pub fn list(
    conn: &mut DbConnection,
    site: SiteId,
    clinician: UserId,
    limit: i64,
    cursor: Option<&str>,
) -> StoreResult<Page<Assistant>> {
    let mut query = assistants::table
        .inner_join(assistant_accounts::table)
        .filter(assistants::site_id.eq(site))
        .filter(assistants::clinician_id.eq(clinician))
        .select((AssistantRow::as_select(), AccountRow::as_select()))
        .order(assistants::id.asc())
        .limit(limit + 1)
        .into_boxed();
    if let Some(cursor) = cursor {
        let after: AssistantId = decode_cursor(cursor)?;
        query = query.filter(assistants::id.gt(after));
    }
    let rows = query.load(conn)?.into_iter().map(into_assistant).collect();
    Ok(page_from_rows(rows, limit, |a: &Assistant| a.id))
}

/// One record of an account with its clinician, as the token rules read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    pub assistant_id: AssistantId,
    pub clinician_id: UserId,
    pub status: AssistantStatus,
    pub clinician_type: UserType,
    pub clinician_status: UserStatus,
}

impl Link {
    /// Whether the assistant may act for this clinician now.
    pub fn is_live(&self) -> bool {
        assistant::token_is_live([(self.status, self.clinician_type, self.clinician_status)])
    }
}

/// An account of the site with every record it holds; `NotFound` for another site's or an
/// unknown account.
pub fn account_with_links(
    conn: &mut DbConnection,
    site: SiteId,
    id: AssistantAccountId,
) -> StoreResult<(AssistantAccount, Vec<Link>)> {
    let account: AccountRow = assistant_accounts::table
        .filter(assistant_accounts::site_id.eq(site))
        .filter(assistant_accounts::id.eq(id))
        .select(AccountRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(StoreError::NotFound)?;
    let links = assistants::table
        .inner_join(users::table)
        .filter(assistants::account_id.eq(id))
        .select((
            assistants::id,
            assistants::clinician_id,
            assistants::status,
            users::user_type,
            users::status,
        ))
        .order(assistants::id.asc())
        .load::<(AssistantId, UserId, AssistantStatus, UserType, UserStatus)>(conn)?
        .into_iter()
        .map(
            |(assistant_id, clinician_id, status, clinician_type, clinician_status)| Link {
                assistant_id,
                clinician_id,
                status,
                clinician_type,
                clinician_status,
            },
        )
        .collect();
    Ok((account.into(), links))
}

/// A clinician an account assists, as the assistant lists them.
#[derive(Debug, Clone, PartialEq)]
pub struct AssistedClinician {
    pub assistant_id: AssistantId,
    pub clinician_id: UserId,
    pub title: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub accepted_at: Option<NaiveDateTime>,
}

/// The active clinicians whose accepted assistant the account is, in the order they
/// invited it.
pub fn clinicians(
    conn: &mut DbConnection,
    site: SiteId,
    account: AssistantAccountId,
    limit: i64,
    cursor: Option<&str>,
) -> StoreResult<Page<AssistedClinician>> {
    let mut query = assistants::table
        .inner_join(users::table)
        .filter(assistants::site_id.eq(site))
        .filter(assistants::account_id.eq(account))
        .filter(assistants::status.eq(AssistantStatus::Accepted))
        .filter(users::user_type.eq(UserType::Clinical))
        .filter(users::status.eq(UserStatus::Active))
        .select((
            assistants::id,
            users::id,
            users::title,
            users::first_name,
            users::last_name,
            users::email,
            assistants::accepted_at,
        ))
        .order(assistants::id.asc())
        .limit(limit + 1)
        .into_boxed();
    if let Some(cursor) = cursor {
        let after: AssistantId = decode_cursor(cursor)?;
        query = query.filter(assistants::id.gt(after));
    }
    type Found = (
        AssistantId,
        UserId,
        Option<String>,
        String,
        String,
        String,
        Option<NaiveDateTime>,
    );
    let rows = query
        .load::<Found>(conn)?
        .into_iter()
        .map(
            |(assistant_id, clinician_id, title, first_name, last_name, email, accepted_at)| {
                AssistedClinician {
                    assistant_id,
                    clinician_id,
                    title,
                    first_name,
                    last_name,
                    email,
                    accepted_at,
                }
            },
        )
        .collect();
    Ok(page_from_rows(rows, limit, |c: &AssistedClinician| {
        c.assistant_id
    }))
}

/// An account whose email matches, with its password digest, for a login.
#[derive(Debug, Clone)]
pub struct AccountCandidate {
    pub account_id: AssistantAccountId,
    pub site_id: SiteId,
    pub password_hash: String,
}

/// The accounts of `email` (of `site`, or of any site) that have set a password.
pub fn login_candidates(
    conn: &mut DbConnection,
    email: &Email,
    site: Option<SiteId>,
) -> StoreResult<Vec<AccountCandidate>> {
    let mut query = assistant_accounts::table
        .filter(assistant_accounts::email_normalized.eq(email.normalized()))
        .filter(assistant_accounts::password_hash.is_not_null())
        .select((
            assistant_accounts::id,
            assistant_accounts::site_id,
            assistant_accounts::password_hash,
        ))
        .into_boxed();
    if let Some(site) = site {
        query = query.filter(assistant_accounts::site_id.eq(site));
    }
    Ok(query
        .load::<(AssistantAccountId, SiteId, Option<String>)>(conn)?
        .into_iter()
        .map(|(account_id, site_id, hash)| AccountCandidate {
            account_id,
            site_id,
            password_hash: hash.unwrap_or_default(),
        })
        .collect())
}

/// Moves the account's token generation: every token issued before is refused.
fn retire_tokens(conn: &mut DbConnection, account: AssistantAccountId) -> StoreResult<()> {
    diesel::update(assistant_accounts::table.find(account))
        .set(assistant_accounts::token_generation.eq(assistant_accounts::token_generation + 1))
        .execute(conn)?;
    Ok(())
}

fn record(
    conn: &mut DbConnection,
    ctx: &AuditContext,
    action: AuditAction,
    before: Option<&Assistant>,
    after: Option<&Assistant>,
) -> StoreResult<()> {
    let id = after.or(before).map(|a| a.id).ok_or(StoreError::NotFound)?;
    let change = audit::Change {
        action,
        target: AuditTarget::Assistant(id),
        before: before.and_then(|b| serde_json::to_value(b).ok()),
        after: after.and_then(|a| serde_json::to_value(a).ok()),
    };
    audit::record(conn, ctx, change)
}

/// What inviting reads: the clinician, and the account of the email with the statuses of
/// its records with this clinician.
#[derive(Debug, Clone)]
pub struct InviteSnapshot {
    clinician: (UserType, UserStatus),
    account: Option<AccountRow>,
    existing: Vec<AssistantStatus>,
}

/// `POST /v1/me/assistants`: a clinician invites an assistant by name and email; the
/// account is made on first invitation in the site (later invitations reuse it, whoever
/// invites), the record starts `pending` and the invitation email is queued.
#[derive(Debug, Clone)]
pub struct InviteAssistant {
    pub clinician: UserId,
    pub full_name: PersonName,
    pub email: Email,
    pub invitation: NewInvitation,
}

impl UseCase for InviteAssistant {
    type Snapshot = InviteSnapshot;
    type Decision = InviteSnapshot;
    type Refusal = AssistantRefusal;
    type Output = Assistant;

    fn load(&self, conn: &mut DbConnection, ctx: &AuditContext) -> StoreResult<InviteSnapshot> {
        let clinician = clinician(conn, ctx.site_id, self.clinician)?;
        let account: Option<AccountRow> = assistant_accounts::table
            .filter(assistant_accounts::site_id.eq(ctx.site_id))
            .filter(assistant_accounts::email_normalized.eq(self.email.normalized()))
            .select(AccountRow::as_select())
            .first(conn)
            .optional()?;
        let existing = match &account {
            Some(account) => assistants::table
                .filter(assistants::account_id.eq(account.id))
                .filter(assistants::clinician_id.eq(self.clinician))
                .select(assistants::status)
                .load(conn)?,
            None => Vec::new(),
        };
        Ok(InviteSnapshot {
            clinician,
            account,
            existing,
        })
    }

    fn decide(&self, snapshot: InviteSnapshot) -> Result<InviteSnapshot, AssistantRefusal> {
        assistant::may_have_assistants(snapshot.clinician.0, snapshot.clinician.1)?;
        assistant::decide_invite(snapshot.existing.iter().copied())?;
        Ok(snapshot)
    }

    fn write(
        self,
        conn: &mut DbConnection,
        ctx: &AuditContext,
        snapshot: InviteSnapshot,
    ) -> StoreResult<Assistant> {
        let at = now();
        let account = match snapshot.account {
            Some(account) => account,
            None => {
                let account = AccountRow {
                    id: AssistantAccountId::new(),
                    site_id: ctx.site_id,
                    email: self.email.as_str().to_owned(),
                    email_normalized: self.email.normalized(),
                    full_name: self.full_name.as_str().to_owned(),
                    password_hash: None,
                    last_login_at: None,
                    token_generation: 0,
                    created_at: at,
                };
                diesel::insert_into(assistant_accounts::table)
                    .values(&account)
                    .execute(conn)?;
                account
            }
        };
        let row = AssistantRow {
            id: AssistantId::new(),
            site_id: ctx.site_id,
            clinician_id: self.clinician,
            account_id: account.id,
            full_name: self.full_name.as_str().to_owned(),
            status: AssistantStatus::Pending,
            invited_at: at,
            accepted_at: None,
            revoked_at: None,
            version: 1,
            updated_at: at,
        };
        diesel::insert_into(assistants::table)
            .values(&row)
            .execute(conn)?;
        let invitee = Invitee::Assistant(row.id);
        invitation_rows::issue(conn, ctx, invitee, &account.email, self.invitation)?;
        let created = into_assistant((row, account));
        record(
            conn,
            ctx,
            AuditAction::AssistantInvited,
            None,
            Some(&created),
        )?;
        Ok(created)
    }
}

/// A change of one of the calling clinician's records: which, and the `If-Match` version.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub clinician: UserId,
    pub id: AssistantId,
    pub expected_version: Option<i64>,
}

impl Target {
    /// The record, checked against `If-Match`, and its clinician's type and status.
    fn load(
        &self,
        conn: &mut DbConnection,
        ctx: &AuditContext,
    ) -> StoreResult<(Assistant, (UserType, UserStatus))> {
        let clinician = clinician(conn, ctx.site_id, self.clinician)?;
        let assistant = get(conn, ctx.site_id, self.clinician, self.id)?;
        check_version(self.expected_version, assistant.version)?;
        Ok((assistant, clinician))
    }
}

/// Sets the record's status (and when), moving its version; returns it as it now is.
fn set_status(
    conn: &mut DbConnection,
    site: SiteId,
    before: &Assistant,
    status: AssistantStatus,
) -> StoreResult<Assistant> {
    let at = now();
    let when = |then: AssistantStatus, was| if status == then { Some(at) } else { was };
    diesel::update(assistants::table.find(before.id))
        .set((
            assistants::status.eq(status),
            assistants::accepted_at.eq(when(AssistantStatus::Accepted, before.accepted_at)),
            assistants::revoked_at.eq(when(AssistantStatus::Revoked, before.revoked_at)),
            assistants::version.eq(assistants::version + 1),
            assistants::updated_at.eq(at),
        ))
        .execute(conn)?;
    get(conn, site, before.clinician_id, before.id)
}

/// What a clinician does to one of their records.
#[derive(Debug, Clone)]
pub enum Change {
    /// `POST /v1/me/assistants/{id}/resend`: a fresh invitation for a pending assistant;
    /// the earlier link stops working.
    Resend(NewInvitation),
    /// `POST /v1/me/assistants/{id}/revoke` (the screen's *Disable*): the record becomes
    /// `revoked`, its pending link is withdrawn, and the account's tokens are retired.
    Revoke,
    /// `DELETE /v1/me/assistants/{id}`: removes the record for good (a later invitation
    /// makes a new one); its pending link is withdrawn and the account's tokens are
    /// retired. The account stays, with its password, for the clinicians it may still
    /// assist.
    Delete,
}

impl Change {
    fn kind(&self) -> AssistantChange {
        match self {
            Self::Resend(_) => AssistantChange::Resend,
            Self::Revoke => AssistantChange::Revoke,
            Self::Delete => AssistantChange::Delete,
        }
    }
}

/// A clinician's change of one of their records (`staffroom_domain::assistant::
/// decide_change`); the output is the record as it now is, `None` once deleted.
#[derive(Debug, Clone)]
pub struct ChangeAssistant {
    pub target: Target,
    pub change: Change,
}

impl UseCase for ChangeAssistant {
    type Snapshot = (Assistant, (UserType, UserStatus));
    type Decision = Assistant;
    type Refusal = AssistantRefusal;
    type Output = Option<Assistant>;

    fn load(&self, conn: &mut DbConnection, ctx: &AuditContext) -> StoreResult<Self::Snapshot> {
        self.target.load(conn, ctx)
    }

    fn decide(
        &self,
        (assistant, clinician): Self::Snapshot,
    ) -> Result<Assistant, AssistantRefusal> {
        assistant::decide_change(self.change.kind(), assistant.status, clinician)?;
        Ok(assistant)
    }

    fn write(
        self,
        conn: &mut DbConnection,
        ctx: &AuditContext,
        before: Assistant,
    ) -> StoreResult<Option<Assistant>> {
        let (action, after) = match self.change {
            Change::Resend(invitation) => {
                let invitee = Invitee::Assistant(before.id);
                invitation_rows::issue(conn, ctx, invitee, &before.email, invitation)?;
                let after = set_status(conn, ctx.site_id, &before, AssistantStatus::Pending)?;
                (AuditAction::AssistantResent, Some(after))
            }
            Change::Revoke => {
                let after = set_status(conn, ctx.site_id, &before, AssistantStatus::Revoked)?;
                retire_tokens(conn, before.account_id)?;
                (AuditAction::AssistantRevoked, Some(after))
            }
            Change::Delete => {
                diesel::delete(assistants::table.find(before.id)).execute(conn)?;
                retire_tokens(conn, before.account_id)?;
                (AuditAction::AssistantDeleted, None)
            }
        };
        record(conn, ctx, action, Some(&before), after.as_ref())?;
        Ok(after)
    }
}

/// The context an assistant's acceptance runs in: the assistant's account acting on its
/// own record.
pub fn acceptance_context(
    conn: &mut DbConnection,
    site: SiteId,
    id: AssistantId,
    request_id: Option<String>,
) -> StoreResult<AuditContext> {
    let account: Option<AssistantAccountId> = assistants::table
        .filter(assistants::site_id.eq(site))
        .filter(assistants::id.eq(id))
        .select(assistants::account_id)
        .first(conn)
        .optional()?;
    Ok(AuditContext {
        site_id: site,
        actor_kind: staffroom_domain::ActorKind::Assistant,
        actor_id: account.map(|a| a.to_string()),
        on_behalf_of: None,
        request_id,
    })
}

/// `POST /v1/invitations/{token}/accept` of an assistant's invitation: the record becomes
/// `accepted` and the account's password is set (`decide_assistant_acceptance`).
#[derive(Debug, Clone)]
pub struct AcceptAssistantInvitation {
    pub token_hash: String,
    pub password_hash: String,
}

/// What accepting reads: the link, the record (gone when deleted) and the decision's input.
#[derive(Debug, Clone)]
pub struct AcceptanceRead {
    invitation: InvitationRow,
    assistant: Option<Assistant>,
    snapshot: AssistantAcceptanceSnapshot,
}

impl UseCase for AcceptAssistantInvitation {
    type Snapshot = AcceptanceRead;
    type Decision = (InvitationRow, Assistant);
    type Refusal = AcceptanceRefusal;
    type Output = InvitationRow;

    fn load(&self, conn: &mut DbConnection, ctx: &AuditContext) -> StoreResult<AcceptanceRead> {
        let invitation = invitation_rows::by_token(conn, ctx.site_id, &self.token_hash)?;
        let Invitee::Assistant(id) = invitation.invitee()? else {
            return Err(StoreError::NotFound);
        };
        let row: Option<(AssistantRow, AccountRow)> = assistants::table
            .inner_join(assistant_accounts::table)
            .filter(assistants::id.eq(id))
            .select((AssistantRow::as_select(), AccountRow::as_select()))
            .first(conn)
            .optional()?;
        let assistant = row.map(into_assistant);
        let clinician = match &assistant {
            Some(a) => clinician(conn, ctx.site_id, a.clinician_id)?,
            None => (UserType::Clinical, UserStatus::Inactive),
        };
        let snapshot = AssistantAcceptanceSnapshot {
            accepted: invitation.accepted_at.is_some(),
            superseded: invitation.superseded_at.is_some(),
            expires_at: invitation.expires_at,
            now: now(),
            status: assistant.as_ref().map(|a| a.status),
            clinician,
        };
        Ok(AcceptanceRead {
            invitation,
            assistant,
            snapshot,
        })
    }

    fn decide(
        &self,
        read: AcceptanceRead,
    ) -> Result<(InvitationRow, Assistant), AcceptanceRefusal> {
        assistant::decide_assistant_acceptance(&read.snapshot)?;
        let assistant = read.assistant.ok_or(AcceptanceRefusal::Withdrawn)?;
        Ok((read.invitation, assistant))
    }

    fn write(
        self,
        conn: &mut DbConnection,
        ctx: &AuditContext,
        (mut invitation, before): (InvitationRow, Assistant),
    ) -> StoreResult<InvitationRow> {
        invitation_rows::mark_accepted(conn, &mut invitation)?;
        diesel::update(assistant_accounts::table.find(before.account_id))
            .set(assistant_accounts::password_hash.eq(Some(&self.password_hash)))
            .execute(conn)?;
        let after = set_status(conn, ctx.site_id, &before, AssistantStatus::Accepted)?;
        record(
            conn,
            ctx,
            AuditAction::AssistantAccepted,
            Some(&before),
            Some(&after),
        )?;
        Ok(invitation)
    }
}

/// The use-case of `POST /v1/auth/login` for an assistant once the password matched:
/// refused unless the account still assists an active clinician; records `last_login_at`.
#[derive(Debug, Clone, Copy)]
pub struct RecordAssistantLogin {
    pub id: AssistantAccountId,
}

impl UseCase for RecordAssistantLogin {
    type Snapshot = (AssistantAccount, Vec<Link>);
    type Decision = AssistantAccount;
    type Refusal = SignInRefusal;
    type Output = AssistantAccount;

    fn load(&self, conn: &mut DbConnection, ctx: &AuditContext) -> StoreResult<Self::Snapshot> {
        account_with_links(conn, ctx.site_id, self.id)
    }

    fn decide(&self, (account, links): Self::Snapshot) -> Result<AssistantAccount, SignInRefusal> {
        if links.iter().any(Link::is_live) {
            Ok(account)
        } else {
            Err(SignInRefusal::NoLongerActive)
        }
    }

    fn write(
        self,
        conn: &mut DbConnection,
        _: &AuditContext,
        mut account: AssistantAccount,
    ) -> StoreResult<AssistantAccount> {
        let at = now();
        diesel::update(assistant_accounts::table.find(self.id))
            .set(assistant_accounts::last_login_at.eq(Some(at)))
            .execute(conn)?;
        account.last_login_at = Some(at);
        Ok(account)
    }
}

/// Who asks to send a patient message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    User(UserId),
    Assistant(AssistantAccountId),
}

/// A message to a patient, by a clinician or on their behalf.
#[derive(Debug, Clone)]
pub struct PatientMessage {
    pub to: Email,
    pub subject: MessageSubject,
    pub body: MessageBody,
}

/// A queued patient message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueuedMessage {
    /// The outbox job that sends it.
    pub id: JobId,
    pub clinician_id: UserId,
    pub to: String,
    pub subject: String,
    pub queued_at: NaiveDateTime,
}

/// `POST /v1/clinicians/{id}/patient-messages`: the clinician, or an accepted assistant of
/// theirs, sends a patient a message through the email connector (an outbox email job).
/// An assistant's event names the clinician as `on_behalf_of`.
#[derive(Debug, Clone)]
pub struct SendPatientMessage {
    pub clinician: UserId,
    pub sender: Sender,
    pub message: PatientMessage,
}

impl UseCase for SendPatientMessage {
    type Snapshot = (Actor, (UserType, UserStatus));
    type Decision = ActingFor;
    type Refusal = NotTheirClinician;
    type Output = QueuedMessage;

    fn load(&self, conn: &mut DbConnection, ctx: &AuditContext) -> StoreResult<Self::Snapshot> {
        let clinician = clinician(conn, ctx.site_id, self.clinician)?;
        let actor = match self.sender {
            Sender::User(id) if id == self.clinician => Actor::TheClinician,
            Sender::User(_) => Actor::Other,
            Sender::Assistant(account) => Actor::Assistant(
                assistants::table
                    .filter(assistants::account_id.eq(account))
                    .filter(assistants::clinician_id.eq(self.clinician))
                    .select(assistants::status)
                    .load::<AssistantStatus>(conn)?
                    .into_iter()
                    .max_by_key(|s| *s == AssistantStatus::Accepted),
            ),
        };
        Ok((actor, clinician))
    }

    fn decide(
        &self,
        (actor, (user_type, status)): Self::Snapshot,
    ) -> Result<ActingFor, NotTheirClinician> {
        assistant::may_act_for(actor, user_type, status)
    }

    fn write(
        self,
        conn: &mut DbConnection,
        ctx: &AuditContext,
        acting: ActingFor,
    ) -> StoreResult<QueuedMessage> {
        let ctx = AuditContext {
            on_behalf_of: (acting == ActingFor::OnBehalfOf).then(|| self.clinician.to_string()),
            ..ctx.clone()
        };
        let message = &self.message;
        let job = mail::queue(
            conn,
            &ctx,
            Some(self.clinician),
            message.to.as_str(),
            message.subject.as_str(),
            message.body.as_str(),
        )?;
        let queued = QueuedMessage {
            id: job.id,
            clinician_id: self.clinician,
            to: message.to.as_str().to_owned(),
            subject: message.subject.as_str().to_owned(),
            queued_at: job.created_at,
        };
        audit::record(
            conn,
            &ctx,
            audit::Change {
                action: AuditAction::PatientMessageSent,
                target: AuditTarget::User(self.clinician),
                before: None,
                after: Some(json!(queued)),
            },
        )?;
        Ok(queued)
    }
}
