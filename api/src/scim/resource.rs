//! SCIM resources ↔ Staffroom records: a user as a SCIM `User` (with the Staffroom
//! extension), a clinic as a `Group` whose members are the users with access to it, what a
//! request body asks for, and the `attributes` / `excludedAttributes` projection.
//!
//! A user's `userName` is their login name at the identity provider when one was given that
//! is not their email (`User::user_name`), else their email; `emails` holds the one email,
//! the Staffroom login, whose `type` is `work` and whose `primary` is kept as sent. What the
//! server composes (`name.formatted`, `displayName`, a
//! reference's `display`) is read-only and ignored on input; the composed sub-attributes are
//! returned only when `attributes` names them (`returned: request`).
//!
//! Attribute names are matched case-insensitively (RFC 7643 §2.1). On a replace, an
//! attribute the body leaves out is cleared when it is a profile field (`title`), and kept
//! when clearing it would take access away (the extension's `profession`, `permissions`,
//! `defaultClinic`: an identity provider that does not know the extension sends none of
//! them) or is the provider's own (`externalId`).

use serde_json::{Map, Value, json};
use staffroom_domain::{
    ClinicId, Email, EntityName, Password, Permission, PersonName, Profession, UserId, UserName,
    UserType,
};
use staffroom_persistence::scim_reads::ClinicWithMembers;
use staffroom_persistence::users::User;
use staffroom_scim::ScimType;
use staffroom_scim::schema::{self, GROUP_URN, ResourceSchema, STAFFROOM_USER_URN, USER_URN};

use crate::etag;
use crate::scim::error::ScimError;
use crate::views::utc;

/// A member of a JSON object by case-insensitive name.
pub fn get_ci<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
        .filter(|v| !v.is_null())
}

fn time(t: chrono::NaiveDateTime) -> String {
    utc(t).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn meta(
    kind: &str,
    location: String,
    created: chrono::NaiveDateTime,
    modified: chrono::NaiveDateTime,
    version: i64,
) -> Value {
    json!({
        "resourceType": kind,
        "created": time(created),
        "lastModified": time(modified),
        "location": location,
        "version": etag::format(version),
    })
}

/// `Clinical` / `Non-Clinical`.
pub const fn user_type_name(user_type: UserType) -> &'static str {
    match user_type {
        UserType::Clinical => "Clinical",
        UserType::NonClinical => "Non-Clinical",
    }
}

/// The name of the clinic `id` among the site's `clinics`.
fn clinic_name(clinics: &[(ClinicId, String)], id: ClinicId) -> Option<&str> {
    clinics
        .iter()
        .find(|(c, _)| *c == id)
        .map(|(_, n)| n.as_str())
}

/// A user as a SCIM User; `clinics` names the site's clinics for `groups`.
pub fn user_resource(user: &User, clinics: &[(ClinicId, String)], base: &str) -> Value {
    let groups: Vec<Value> = user
        .clinic_ids
        .iter()
        .map(|id| {
            let name = clinic_name(clinics, *id);
            json!({"value": id, "$ref": format!("{base}/Groups/{id}"), "display": name})
        })
        .collect();
    let mut resource = json!({
        "schemas": [USER_URN, STAFFROOM_USER_URN],
        "id": user.id,
        "userName": user.user_name.as_deref().unwrap_or(&user.email),
        "name": {
            "givenName": user.first_name,
            "familyName": user.last_name,
            "formatted": format!("{} {}", user.first_name, user.last_name),
        },
        "displayName": format!("{} {}", user.first_name, user.last_name),
        "userType": user_type_name(user.user_type),
        "active": user.is_active(),
        "emails": [{"value": user.email, "type": "work", "primary": user.email_primary.unwrap_or(true)}],
        "groups": groups,
        STAFFROOM_USER_URN: {
            "profession": user.profession,
            "permissions": user.permissions,
            "defaultClinic": {
                "value": user.default_clinic_id,
                "$ref": format!("{base}/Groups/{}", user.default_clinic_id),
                "display": clinic_name(clinics, user.default_clinic_id),
            },
        },
        "meta": meta("User", format!("{base}/Users/{}", user.id), user.created_at, user.updated_at, user.version),
    });
    if let Some(title) = &user.title {
        resource["title"] = json!(title);
    }
    if let Some(external_id) = &user.external_id {
        resource["externalId"] = json!(external_id);
    }
    resource
}

/// A clinic as a SCIM Group.
pub fn group_resource(group: &ClinicWithMembers, base: &str) -> Value {
    let clinic = &group.clinic;
    let members: Vec<Value> = group
        .members
        .iter()
        .map(|m| {
            json!({
                "value": m.id,
                "$ref": format!("{base}/Users/{}", m.id),
                "display": format!("{} {}", m.first_name, m.last_name),
                "type": "User",
            })
        })
        .collect();
    let mut resource = json!({
        "schemas": [GROUP_URN],
        "id": clinic.id,
        "displayName": clinic.name,
        "members": members,
        "meta": meta("Group", format!("{base}/Groups/{}", clinic.id), clinic.created_at, clinic.updated_at, clinic.version),
    });
    if let Some(external_id) = &clinic.external_id {
        resource["externalId"] = json!(external_id);
    }
    resource
}

/// What a create or replace body asks a user to be.
#[derive(Debug, Clone)]
pub struct UserInput {
    /// The login email.
    pub email: Email,
    /// The userName when it is not the email (`None`: the userName is the email).
    pub user_name: Option<UserName>,
    pub first_name: PersonName,
    pub last_name: PersonName,
    pub title: Option<PersonName>,
    pub user_type: UserType,
    pub active: bool,
    /// `None`: not sent (kept on a replace); `Some(None)`: cleared (a PATCH removed it).
    pub external_id: Option<Option<String>>,
    pub password: Option<Password>,
    pub profession: Option<Profession>,
    pub permissions: Option<Vec<Permission>>,
    pub default_clinic: Option<ClinicId>,
    /// `groups` sent on a create (Okta): the clinics the user gets access to.
    pub groups: Vec<ClinicId>,
    /// The kept address's `primary` as sent; `None`: not sent.
    pub email_primary: Option<bool>,
}

fn string<'a>(object: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, ScimError> {
    match get_ci(object, name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(ScimError::invalid_value(format!("{name} must be a string"))),
    }
}

fn required<'a>(object: &'a Map<String, Value>, name: &str) -> Result<&'a str, ScimError> {
    string(object, name)?.ok_or_else(|| ScimError::invalid_value(format!("{name} is required")))
}

fn parsed<T>(
    name: &str,
    value: &str,
    parse: impl Fn(&str) -> Result<T, staffroom_domain::ParseError>,
) -> Result<T, ScimError> {
    parse(value).map_err(|e| ScimError::invalid_value(format!("{name}: {}", e.message)))
}

/// A boolean, also as the strings `"True"` / `"False"` (Entra ID).
pub fn boolean(value: &Value, name: &str) -> Result<bool, ScimError> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(ScimError::invalid_value(format!(
            "{name} must be a boolean"
        ))),
    }
}

/// `Clinical` / `Non-Clinical`, in any case.
fn user_type(value: &str) -> Result<UserType, ScimError> {
    let folded = value.to_ascii_lowercase().replace(['-', '_', ' '], "");
    match folded.as_str() {
        "clinical" => Ok(UserType::Clinical),
        "nonclinical" => Ok(UserType::NonClinical),
        _ => Err(ScimError::invalid_value(
            "userType must be Clinical or Non-Clinical",
        )),
    }
}

fn clinic_id(value: &Value, name: &str) -> Result<ClinicId, ScimError> {
    value
        .as_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| ScimError::invalid_value(format!("{name} must be a Group id")))
}

/// The id a reference `{value, $ref}` names (RFC 7643 §2.3.7): `value`, or the last segment
/// of `$ref`, which must then be this server's URL of that resource (`{base}/{endpoint}/{id}`);
/// when both are sent they must name the same resource.
fn referenced<'a>(
    object: &'a Map<String, Value>,
    name: &str,
    base: &str,
    endpoint: &str,
) -> Result<&'a str, ScimError> {
    let value = string(object, "value")
        .map_err(|_| ScimError::invalid_value(format!("{name}.value must be a string")))?;
    let reference = string(object, "$ref")
        .map_err(|_| ScimError::invalid_value(format!("{name}.$ref must be a string")))?;
    let Some(reference) = reference else {
        return value
            .ok_or_else(|| ScimError::invalid_value(format!("{name} needs a value or a $ref")));
    };
    let id = reference
        .strip_prefix(base)
        .and_then(|rest| rest.strip_prefix(endpoint))
        .and_then(|rest| rest.strip_prefix('/'))
        .filter(|id| !id.is_empty() && !id.contains('/'))
        .ok_or_else(|| {
            ScimError::invalid_value(format!(
                "{name}.$ref must be this server's URL of one of its {endpoint} ({base}{endpoint}/{{id}})"
            ))
        })?;
    match value {
        Some(value) if value != id => Err(ScimError::invalid_value(format!(
            "{name}: value {value} and $ref {reference} name different resources"
        ))),
        _ => Ok(id),
    }
}

/// The Staffroom extension of a user body: profession, permissions, default clinic.
fn extension(
    object: &Map<String, Value>,
    input: &mut UserInput,
    base: &str,
) -> Result<(), ScimError> {
    let Some(ext) = get_ci(object, STAFFROOM_USER_URN) else {
        return Ok(());
    };
    let ext = ext
        .as_object()
        .ok_or_else(|| ScimError::invalid_value("the Staffroom extension must be an object"))?;
    if let Some(profession) = string(ext, "profession")? {
        input.profession = Some(parsed("profession", profession, Profession::parse)?);
    }
    if let Some(permissions) = get_ci(ext, "permissions") {
        let list = permissions
            .as_array()
            .ok_or_else(|| ScimError::invalid_value("permissions must be an array"))?;
        let parsed_list = list
            .iter()
            .map(|p| {
                let text = p
                    .as_str()
                    .or_else(|| p.get("value").and_then(Value::as_str));
                text.and_then(|t| Permission::parse(t).ok()).ok_or_else(|| {
                    ScimError::invalid_value(format!("permissions: {p} is not a permission"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        input.permissions = Some(parsed_list);
    }
    if let Some(default) = get_ci(ext, "defaultClinic") {
        let default = default.as_object().ok_or_else(|| {
            ScimError::invalid_value("defaultClinic must be an object {value, $ref}")
        })?;
        if default.is_empty() {
            // Sent empty (a client filling only required sub-attributes): not sent.
            return Ok(());
        }
        let id = referenced(default, "defaultClinic", base, "/Groups")?;
        input.default_clinic = Some(clinic_id(&json!(id), "defaultClinic.value")?);
    }
    Ok(())
}

/// The address `emails` gives: the primary one, else the work one, else the first.
fn chosen_email(object: &Map<String, Value>) -> Result<Option<KeptEmail<'_>>, ScimError> {
    let Some(emails) = get_ci(object, "emails") else {
        return Ok(None);
    };
    let emails = emails
        .as_array()
        .ok_or_else(|| ScimError::invalid_value("emails must be an array"))?;
    let is = |e: &&Value, name: &str, wanted: &Value| {
        e.as_object()
            .and_then(|o| get_ci(o, name))
            .is_some_and(|v| v == wanted)
    };
    let chosen = emails
        .iter()
        .find(|e| is(e, "primary", &Value::Bool(true)))
        .or_else(|| emails.iter().find(|e| is(e, "type", &json!("work"))))
        .or_else(|| emails.first());
    chosen.and_then(Value::as_object).map_or_else(
        || match chosen {
            Some(_) => Err(ScimError::invalid_value("emails.value must be a string")),
            None => Ok(None),
        },
        |chosen| kept_email(chosen).map(Some),
    )
}

/// The address `emails` keeps: its value, whose `type` (when sent) must be `work`, and its
/// `primary` as sent.
fn kept_email(email: &Map<String, Value>) -> Result<KeptEmail<'_>, ScimError> {
    let value = get_ci(email, "value")
        .and_then(Value::as_str)
        .ok_or_else(|| ScimError::invalid_value("emails.value must be a string"))?;
    match get_ci(email, "type") {
        None | Some(Value::Null) => {}
        Some(Value::String(t)) if t.eq_ignore_ascii_case("work") => {}
        Some(other) => {
            return Err(ScimError::invalid_value(format!(
                "emails.type must be \"work\" (the address is the work login), not {other}"
            )));
        }
    }
    let primary = match get_ci(email, "primary") {
        None | Some(Value::Null) => None,
        Some(primary) => Some(boolean(primary, "emails.primary")?),
    };
    Ok(KeptEmail { value, primary })
}

/// The address a body's `emails` keeps.
struct KeptEmail<'a> {
    value: &'a str,
    primary: Option<bool>,
}

/// The login email and the login name of a body: a `userName` that is an email address is
/// the email, unless `emails` gives another address; then (or when the userName is no
/// email address) the email is the one `emails` gives and the userName is kept as the
/// login name.
fn email_and_user_name(
    object: &Map<String, Value>,
) -> Result<(Email, Option<UserName>, Option<bool>), ScimError> {
    let user_name = required(object, "userName")?;
    let kept = chosen_email(object)?;
    let primary = kept.as_ref().and_then(|k| k.primary);
    let address = kept.map(|k| k.value);
    if let Ok(email) = Email::parse(user_name)
        && address.is_none_or(|a| a.trim().eq_ignore_ascii_case(email.as_str()))
    {
        return Ok((email, None, primary));
    }
    let address = address.ok_or_else(|| {
        ScimError::invalid_value(
            "userName is not an email address: emails must give the user's email",
        )
    })?;
    Ok((
        parsed("emails.value", address, Email::parse)?,
        Some(parsed("userName", user_name, UserName::parse)?),
        primary,
    ))
}

/// Reads a User body (create or replace); `base` is this server's SCIM URL, which a
/// `defaultClinic.$ref` must start with.
pub fn user_input(body: &Value, base: &str) -> Result<UserInput, ScimError> {
    let object = body
        .as_object()
        .ok_or_else(|| ScimError::bad(ScimType::InvalidSyntax, "the body must be a User object"))?;
    let name = get_ci(object, "name")
        .and_then(Value::as_object)
        .ok_or_else(|| {
            ScimError::invalid_value("name with givenName and familyName is required")
        })?;
    let (email, user_name, email_primary) = email_and_user_name(object)?;
    let mut input = UserInput {
        email,
        user_name,
        first_name: parsed(
            "name.givenName",
            required(name, "givenName")?,
            PersonName::parse,
        )?,
        last_name: parsed(
            "name.familyName",
            required(name, "familyName")?,
            PersonName::parse,
        )?,
        title: string(object, "title")?
            .map(|t| parsed("title", t, PersonName::parse))
            .transpose()?,
        user_type: string(object, "userType")?.map_or(Ok(UserType::NonClinical), user_type)?,
        active: get_ci(object, "active").map_or(Ok(true), |v| boolean(v, "active"))?,
        external_id: string(object, "externalId")?.map(|id| Some(id.to_owned())),
        password: string(object, "password")?
            .map(|p| parsed("password", p, Password::parse))
            .transpose()?,
        profession: None,
        permissions: None,
        default_clinic: None,
        groups: Vec::new(),
        email_primary,
    };
    if let Some(groups) = get_ci(object, "groups").and_then(Value::as_array) {
        input.groups = groups
            .iter()
            .map(|g| clinic_id(g.get("value").unwrap_or(g), "groups.value"))
            .collect::<Result<_, _>>()?;
    }
    extension(object, &mut input, base)?;
    Ok(input)
}

/// What a Group body asks a clinic to be.
#[derive(Debug, Clone)]
pub struct GroupInput {
    pub name: EntityName,
    /// The identity provider's id of the clinic: `None` not sent (kept on a replace),
    /// `Some(None)` cleared (a PATCH removed it).
    pub external_id: Option<Option<String>>,
    /// `None`: `members` not sent.
    pub members: Option<Vec<UserId>>,
}

/// Reads a Group body (create, replace, or a patched group); `base` is this server's SCIM
/// URL, which a member's `$ref` must start with.
pub fn group_input(body: &Value, base: &str) -> Result<GroupInput, ScimError> {
    let object = body.as_object().ok_or_else(|| {
        ScimError::bad(ScimType::InvalidSyntax, "the body must be a Group object")
    })?;
    let name = parsed(
        "displayName",
        required(object, "displayName")?,
        EntityName::parse,
    )?;
    let members = get_ci(object, "members")
        .map(|members| {
            members
                .as_array()
                .ok_or_else(|| ScimError::invalid_value("members must be an array"))?
                .iter()
                .map(|m| {
                    let member = m
                        .as_object()
                        .ok_or_else(|| ScimError::invalid_value("members must be objects"))?;
                    referenced(member, "members", base, "/Users")?
                        .parse()
                        .map_err(|_| ScimError::invalid_value("members.value must be a User id"))
                })
                .collect::<Result<Vec<UserId>, _>>()
        })
        .transpose()?;
    let external_id = string(object, "externalId")?.map(|id| Some(id.to_owned()));
    Ok(GroupInput {
        name,
        external_id,
        members,
    })
}

/// `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5): which attributes to return.
#[derive(Debug, Clone, Default)]
pub struct Projection {
    attributes: Vec<(String, Option<String>)>,
    excluded: Vec<(String, Option<String>)>,
}

/// `attr`, `attr.sub`, `urn:…:attr[.sub]` or an extension `urn:…:User:attr` as (top, sub),
/// lower-cased; the core schemas' URNs are dropped.
fn attribute_name(name: &str) -> (String, Option<String>) {
    let name = name.trim().to_ascii_lowercase();
    let ext = STAFFROOM_USER_URN.to_ascii_lowercase();
    if let Some(rest) = name.strip_prefix(&format!("{ext}:")) {
        return (ext, Some(rest.to_owned()));
    }
    if name == ext {
        return (ext, None);
    }
    let mut local = name.as_str();
    for core in [USER_URN, GROUP_URN] {
        if let Some(rest) = local.strip_prefix(&format!("{}:", core.to_ascii_lowercase())) {
            local = rest;
        }
    }
    match local.split_once('.') {
        Some((top, sub)) => (top.to_owned(), Some(sub.to_owned())),
        None => (local.to_owned(), None),
    }
}

fn names(list: Option<&str>) -> Vec<(String, Option<String>)> {
    list.into_iter()
        .flat_map(|l| l.split(','))
        .filter(|n| !n.trim().is_empty())
        .map(attribute_name)
        .collect()
}

impl Projection {
    pub fn new(attributes: Option<&str>, excluded: Option<&str>) -> Self {
        Self {
            attributes: names(attributes),
            excluded: names(excluded),
        }
    }

    /// Whether the projection leaves out `attribute` entirely.
    pub fn excludes(&self, attribute: &str) -> bool {
        let attribute = attribute.to_ascii_lowercase();
        self.excluded
            .iter()
            .any(|(top, sub)| *top == attribute && sub.is_none())
            || (!self.attributes.is_empty()
                && !self.attributes.iter().any(|(top, _)| *top == attribute))
    }

    /// The resource with only what was asked for; `id` and `schemas` always stay.
    pub fn apply(&self, mut resource: Value) -> Value {
        let Some(object) = resource.as_object_mut() else {
            return resource;
        };
        let always = |k: &str| k.eq_ignore_ascii_case("id") || k.eq_ignore_ascii_case("schemas");
        if !self.attributes.is_empty() {
            object.retain(|key, value| {
                let key = key.to_ascii_lowercase();
                let wanted: Vec<&Option<String>> = self
                    .attributes
                    .iter()
                    .filter(|(top, _)| *top == key)
                    .map(|(_, sub)| sub)
                    .collect();
                if always(&key) {
                    return true;
                }
                if wanted.is_empty() {
                    return false;
                }
                if !wanted.iter().any(|s| s.is_none()) {
                    keep_subs(value, &wanted);
                }
                true
            });
        }
        self.drop_unrequested(object);
        for (top, sub) in &self.excluded {
            if always(top) {
                continue;
            }
            let key = object.keys().find(|k| k.eq_ignore_ascii_case(top)).cloned();
            if let Some(key) = key {
                match sub {
                    None => {
                        object.remove(&key);
                    }
                    Some(sub) => drop_sub(object.get_mut(&key), sub),
                }
            }
        }
        resource
    }
}

impl Projection {
    /// Drops the sub-attributes returned only on request (RFC 7643 §7 `returned: request`:
    /// `name.formatted`, a reference's `display`) unless `attributes` names them.
    fn drop_unrequested(&self, object: &mut Map<String, Value>) {
        let declares = |urn: &str| {
            get_ci(object, "schemas")
                .and_then(Value::as_array)
                .is_some_and(|s| s.iter().any(|s| s.as_str() == Some(urn)))
        };
        let schemas: Vec<&ResourceSchema> = [&schema::USER, &schema::GROUP]
            .into_iter()
            .filter(|s| declares(s.core_urn))
            .collect();
        for (extension, attribute, sub) in schemas.iter().flat_map(|s| s.on_request()) {
            let (top, named) = match extension {
                Some(urn) => (urn, format!("{attribute}.{sub}")),
                None => (attribute, sub.to_owned()),
            };
            let asked = self.attributes.iter().any(|(t, s)| {
                t.eq_ignore_ascii_case(top)
                    && s.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(&named))
            });
            if asked {
                continue;
            }
            let holder = match extension {
                Some(urn) => object
                    .iter_mut()
                    .find(|(k, _)| k.eq_ignore_ascii_case(urn))
                    .and_then(|(_, v)| v.as_object_mut()),
                None => Some(&mut *object),
            };
            let value = holder.and_then(|h| {
                h.iter_mut()
                    .find(|(k, _)| k.eq_ignore_ascii_case(attribute))
                    .map(|(_, v)| v)
            });
            drop_sub(value, sub);
        }
    }
}

/// Keeps the sub-attributes `wanted` names (an extension's `attr.sub` keeps `attr`).
fn keep_subs(value: &mut Value, wanted: &[&Option<String>]) {
    let keep = |k: &str| {
        wanted.iter().any(|s| {
            s.as_deref().is_some_and(|s| {
                let head = s.split_once('.').map_or(s, |(head, _)| head);
                head.eq_ignore_ascii_case(k)
            })
        })
    };
    match value {
        Value::Object(map) => map.retain(|k, _| keep(k)),
        Value::Array(items) => {
            for item in items {
                if let Value::Object(map) = item {
                    map.retain(|k, _| keep(k));
                }
            }
        }
        _ => {}
    }
}

fn drop_sub(value: Option<&mut Value>, sub: &str) {
    match value {
        Some(Value::Object(map)) => map.retain(|k, _| !k.eq_ignore_ascii_case(sub)),
        Some(Value::Array(items)) => {
            for item in items {
                if let Value::Object(map) = item {
                    map.retain(|k, _| !k.eq_ignore_ascii_case(sub));
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests;
