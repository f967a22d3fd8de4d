//! `POST /v1/users/bulk-update` (SPEC §5): add or remove permissions and clinics for up to
//! 10,000 users in one transaction, with a report of what was applied, refused and why.

use actix_web::http::StatusCode;
use actix_web::post;
use serde::Deserialize;
use staffroom_domain::{
    AccessChange, BulkReport, ClinicId, FieldError, Permission, Profession, UserId, UserStatus,
    UserType,
};
use staffroom_persistence::StoreError;
use staffroom_persistence::bulk::{self, BulkUpdate, BulkUpdateUsers, MAX_SELECTION, Selection};
use staffroom_persistence::users::UserQuery;
use utoipa::ToSchema;

use crate::answer::Answer;
use crate::auth::Principal;
use crate::db;
use crate::error::ApiError;
use crate::extract::ValidJson;
use crate::responses::Create;
use crate::usecase::Act;

/// The filter of a `select_all` selection: the filters of `GET /v1/users`, all of which
/// must match; an empty filter selects every user the caller administers.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkFilter {
    /// Only users of this type.
    pub user_type: Option<UserType>,
    /// Only users with this status.
    pub status: Option<UserStatus>,
    /// Only users of this profession.
    pub profession: Option<Profession>,
    /// Only users with access to this clinic.
    pub clinic_id: Option<ClinicId>,
    /// Case-insensitive search in name and email.
    #[schema(max_length = 200)]
    pub q: Option<String>,
}

/// Body of `POST /v1/users/bulk-update`: a selection (`user_ids`, or `filter` with
/// `select_all: true`) and the changes to make to every selected user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkUpdateRequest {
    /// Explicit users (at most 10,000); ids the caller does not administer are refused per
    /// user (`not_administered`), ids of no user of the site as `user_not_found`.
    #[schema(max_items = 10000)]
    pub user_ids: Option<Vec<UserId>>,
    /// Select every user matching this filter whom the caller administers.
    pub filter: Option<BulkFilter>,
    /// Must be `true` with `filter`, to confirm selecting every match.
    #[serde(default)]
    #[schema(default = false)]
    pub select_all: bool,
    /// Permissions to give every selected user; none when omitted.
    #[serde(default)]
    pub add_permissions: Vec<Permission>,
    /// Permissions to take from every selected user; none when omitted.
    #[serde(default)]
    pub remove_permissions: Vec<Permission>,
    /// Clinics to give every selected user access to; none when omitted.
    #[serde(default)]
    pub add_clinic_ids: Vec<ClinicId>,
    /// Clinics to take every selected user's access to; none when omitted.
    #[serde(default)]
    pub remove_clinic_ids: Vec<ClinicId>,
    /// Check every change and answer the report without writing anything: a preview.
    #[serde(default)]
    #[schema(default = false)]
    pub dry_run: bool,
}

impl BulkUpdateRequest {
    /// The selection and changes, or every reason the request is malformed.
    fn into_update(self) -> Result<BulkUpdate, ApiError> {
        let mut errors = Vec::new();
        let selection = match (self.user_ids, self.filter, self.select_all) {
            (Some(_), Some(_), _) => {
                errors.push(FieldError::new(
                    "filter",
                    "conflicting_selection",
                    "send user_ids or filter, not both",
                ));
                None
            }
            (Some(ids), None, _) if ids.len() > MAX_SELECTION => {
                return Err(StoreError::SelectionTooLarge {
                    selected: ids.len(),
                    limit: MAX_SELECTION,
                }
                .into());
            }
            (Some(ids), None, _) => Some(Selection::Ids(ids)),
            (None, Some(f), true) => Some(Selection::Filter(UserQuery {
                user_type: f.user_type,
                status: f.status,
                profession: f.profession,
                clinic_id: f.clinic_id,
                q: f.q,
                ..UserQuery::default()
            })),
            (None, Some(_), false) => {
                errors.push(FieldError::new(
                    "select_all",
                    "required",
                    "must be true to select every user matching filter",
                ));
                None
            }
            (None, None, _) => {
                errors.push(FieldError::new(
                    "user_ids",
                    "required",
                    "send user_ids, or filter with select_all",
                ));
                None
            }
        };
        for p in &self.add_permissions {
            if self.remove_permissions.contains(p) {
                errors.push(FieldError::new(
                    "remove_permissions",
                    "conflicting_change",
                    format!("{p} is both added and removed"),
                ));
            }
        }
        for c in &self.add_clinic_ids {
            if self.remove_clinic_ids.contains(c) {
                errors.push(FieldError::new(
                    "remove_clinic_ids",
                    "conflicting_change",
                    format!("clinic {c} is both added and removed"),
                ));
            }
        }
        let Some(selection) = selection.filter(|_| errors.is_empty()) else {
            return Err(ApiError::validation(errors));
        };
        let changes = self
            .add_permissions
            .into_iter()
            .map(AccessChange::AddPermission)
            .chain(
                self.remove_permissions
                    .into_iter()
                    .map(AccessChange::RemovePermission),
            )
            .chain(self.add_clinic_ids.into_iter().map(AccessChange::AddClinic))
            .chain(
                self.remove_clinic_ids
                    .into_iter()
                    .map(AccessChange::RemoveClinic),
            )
            .collect();
        Ok(BulkUpdate {
            selection,
            changes,
            dry_run: self.dry_run,
        })
    }
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(bulk_update_users);
}

/// Change the permissions and clinics of many users at once.
///
/// For site and clinic administrators. Select users by `user_ids`, or every user matching
/// `filter` with `select_all: true`. Each (user, change) pair is checked by the rules of the
/// single-user changes, except that `site_admin` and `clinic_admin` are never removed in
/// bulk. Accepted changes are applied in one transaction; refused ones are skipped and
/// reported, grouped by reason; adding what a user has or removing what they lack counts as
/// a no-op. The report's `outcome` is `success`, `partial` or `failed`; with `dry_run`
/// nothing is written.
#[utoipa::path(
    tag = "users",
    request_body = BulkUpdateRequest,
    responses(
        (status = 200, body = BulkReport, description = "The report (also when changes were refused)."),
        Create,
    ),
    security(("bearer" = []))
)]
#[post("/v1/users/bulk-update")]
pub async fn bulk_update_users(
    act: Act,
    principal: Principal,
    body: ValidJson<BulkUpdateRequest>,
) -> Result<Answer, ApiError> {
    let use_case = BulkUpdateUsers {
        update: body.0.into_update()?,
        actor: principal.actor_scope(),
    };
    if use_case.update.dry_run {
        let ctx = principal.audit();
        let report = db::run(act.state(), move |c| Ok(bulk::dry_run(c, &ctx, &use_case)));
        return Ok(Answer::json(StatusCode::OK, &report.await??));
    }
    act.run(principal.audit(), use_case, |report| {
        Answer::json(StatusCode::OK, &report)
    })
    .await
}
