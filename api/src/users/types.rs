//! Request and response shapes of `/v1/users`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use staffroom_domain::{
    ClinicId, Email, Password, Permission, PersonName, Profession, UserId, UserStatus, UserType,
};
use staffroom_persistence::users::{NewUser, User, UserQuery, UserSort};
use utoipa::{IntoParams, ToSchema};

use crate::views::{double_option, page_of, utc};

/// A staff member of the site.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: UserId,
    pub title: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub user_type: UserType,
    pub profession: Profession,
    pub status: UserStatus,
    pub permissions: Vec<Permission>,
    pub clinic_ids: Vec<ClinicId>,
    pub default_clinic_id: ClinicId,
    /// Whether the user has a diary; after a type change it follows at the next login.
    pub diary_enabled: bool,
    /// False until the user has set a password (invitation or `initial_password`).
    pub has_password: bool,
    pub last_login_at: Option<DateTime<Utc>>,
    /// The resource version, also sent as the `ETag`.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            title: u.title,
            first_name: u.first_name,
            last_name: u.last_name,
            email: u.email,
            user_type: u.user_type,
            profession: u.profession,
            status: u.status,
            permissions: u.permissions,
            clinic_ids: u.clinic_ids,
            default_clinic_id: u.default_clinic_id,
            diary_enabled: u.diary_enabled,
            has_password: u.has_password,
            last_login_at: u.last_login_at.map(utc),
            version: u.version,
            created_at: utc(u.created_at),
            updated_at: utc(u.updated_at),
        }
    }
}

page_of!(UserPage, UserView);

/// Body of `POST /v1/users`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    /// E.g. `Dr`; none when omitted.
    pub title: Option<PersonName>,
    pub first_name: PersonName,
    pub last_name: PersonName,
    /// Unique within the site, compared case-insensitively.
    pub email: Email,
    pub user_type: UserType,
    /// `OTHER` when omitted.
    pub profession: Option<Profession>,
    /// What the user may do; none when omitted.
    #[serde(default)]
    pub permissions: Vec<Permission>,
    /// Clinics the user may access; with none, the site's first clinic.
    #[serde(default)]
    pub clinic_ids: Vec<ClinicId>,
    /// One of `clinic_ids`; defaults to the first of them.
    pub default_clinic_id: Option<ClinicId>,
    /// Lets the user log in at once; without it they set a password through an invitation.
    pub initial_password: Option<Password>,
}

/// Body of `PATCH /v1/users/{id}`: profile fields; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    /// `null` clears the title.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(nullable, value_type = Option<PersonName>)]
    pub title: Option<Option<PersonName>>,
    pub first_name: Option<PersonName>,
    pub last_name: Option<PersonName>,
    pub email: Option<Email>,
    pub profession: Option<Profession>,
}

/// Body of `PUT /v1/users/{id}/type`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeTypeRequest {
    pub user_type: UserType,
}

/// Body of `PUT /v1/users/{id}/permissions`: the user's whole permission set.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPermissionsRequest {
    pub permissions: Vec<Permission>,
}

/// Body of `PUT /v1/users/{id}/clinics`: the user's clinics and their default among them.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetClinicsRequest {
    #[schema(min_items = 1)]
    pub clinic_ids: Vec<ClinicId>,
    pub default_clinic_id: ClinicId,
}

/// Sort order of the user list; `-` prefix for descending.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
pub enum UserSortParam {
    #[default]
    #[serde(rename = "last_name")]
    LastName,
    #[serde(rename = "-last_name")]
    LastNameDesc,
    #[serde(rename = "first_name")]
    FirstName,
    #[serde(rename = "-first_name")]
    FirstNameDesc,
    #[serde(rename = "email")]
    Email,
    #[serde(rename = "-email")]
    EmailDesc,
    #[serde(rename = "created_at")]
    CreatedAt,
    #[serde(rename = "-created_at")]
    CreatedAtDesc,
}

impl UserSortParam {
    pub fn order(self) -> (UserSort, bool) {
        match self {
            Self::LastName => (UserSort::LastName, false),
            Self::LastNameDesc => (UserSort::LastName, true),
            Self::FirstName => (UserSort::FirstName, false),
            Self::FirstNameDesc => (UserSort::FirstName, true),
            Self::Email => (UserSort::Email, false),
            Self::EmailDesc => (UserSort::Email, true),
            Self::CreatedAt => (UserSort::CreatedAt, false),
            Self::CreatedAtDesc => (UserSort::CreatedAt, true),
        }
    }
}

/// Filters, order and page of `GET /v1/users`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListUsersQuery {
    /// Only users of this type.
    pub user_type: Option<UserType>,
    /// Only users with this status.
    pub status: Option<UserStatus>,
    /// Only users of this profession.
    pub profession: Option<Profession>,
    /// Only users with access to this clinic.
    #[param(value_type = Option<String>, format = Uuid)]
    pub clinic_id: Option<ClinicId>,
    /// Case-insensitive search in name and email.
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Order of the list: a field, descending with a `-` prefix; `last_name` when omitted.
    #[param(inline)]
    pub sort: Option<UserSortParam>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

impl ListUsersQuery {
    /// The list to read, a page of `limit` users (checked by the handler).
    pub fn into_user_query(self, limit: i64) -> UserQuery {
        let (sort, descending) = self.sort.unwrap_or_default().order();
        UserQuery {
            user_type: self.user_type,
            status: self.status,
            profession: self.profession,
            clinic_id: self.clinic_id,
            q: self.q,
            sort,
            descending,
            limit,
            cursor: self.cursor,
        }
    }
}

impl CreateUserRequest {
    /// The user to create, with the password already hashed; no profession means `OTHER`.
    pub fn into_new_user(self, password_hash: Option<String>) -> NewUser {
        NewUser {
            title: self.title,
            first_name: self.first_name,
            last_name: self.last_name,
            email: self.email,
            user_type: self.user_type,
            profession: self.profession.unwrap_or(Profession::Other),
            permissions: self.permissions,
            clinic_ids: self.clinic_ids,
            default_clinic_id: self.default_clinic_id,
            password_hash,
            external_id: None,
            user_name: None,
            email_primary: None,
        }
    }
}
