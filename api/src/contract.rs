//! Request bodies checked against the published contract: before serde sees a body, it is
//! validated against the OpenAPI schema of its type (the same document `/openapi.json`
//! serves), and **every** violation — missing field, wrong type, unknown enum value, length,
//! format — is reported at once with its field path. Text containing NUL characters is
//! refused everywhere (PostgreSQL cannot store it).

use std::sync::OnceLock;

use serde_json::{Map, Value};
use staffroom_domain::{
    Email, EntityName, FieldError, ParseError, Password, PersonName, SiteSettings,
};

/// The component schemas of the contract, computed once.
fn schemas() -> &'static Map<String, Value> {
    static SCHEMAS: OnceLock<Map<String, Value>> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        let document = crate::openapi::document();
        match serde_json::to_value(document.components).ok() {
            Some(Value::Object(mut components)) => match components.remove("schemas") {
                Some(Value::Object(schemas)) => schemas,
                _ => Map::new(),
            },
            _ => Map::new(),
        }
    })
}

/// Every violation of the named component schema by `value` (empty when valid or when the
/// contract has no schema of that name).
pub fn violations(schema_name: &str, value: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Some(schema) = schemas().get(schema_name) {
        check(schema, value, "", &mut errors, 0);
    }
    errors
}

/// Paths of every string in `value` that contains a NUL character.
pub fn nul_characters(value: &Value, path: &str, found: &mut Vec<FieldError>) {
    match value {
        Value::String(s) if s.contains('\0') => found.push(nul_error(path)),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                nul_characters(item, &format!("{path}[{i}]"), found);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                nul_characters(item, &join(path, key), found);
            }
        }
        _ => {}
    }
}

pub fn nul_error(field: &str) -> FieldError {
    FieldError::new(
        if field.is_empty() { "body" } else { field },
        "invalid_characters",
        "must not contain NUL characters",
    )
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn field(path: &str) -> &str {
    if path.is_empty() { "body" } else { path }
}

fn resolve(schema: &Value) -> &Value {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
        .and_then(|name| schemas().get(name))
        .unwrap_or(schema)
}

/// Value types of the domain are checked by their own parsers, so the contract and the
/// domain can never disagree on what a valid name, email or password is.
fn domain_check(
    schema: &Value,
    value: &Value,
    path: &str,
    depth: usize,
) -> Option<Vec<FieldError>> {
    let name = schema
        .get("$ref")
        .and_then(Value::as_str)?
        .strip_prefix("#/components/schemas/")?;
    let parse: fn(&str) -> Result<(), ParseError> = match name {
        "PersonName" => |s| PersonName::parse(s).map(drop),
        "EntityName" => |s| EntityName::parse(s).map(drop),
        "Email" => |s| Email::parse(s).map(drop),
        "Password" => |s| Password::parse(s).map(drop),
        "SiteSettings" => return Some(settings_check(schema, value, path, depth)),
        _ => return None,
    };
    let Value::String(text) = value else {
        return None;
    };
    Some(
        parse(text)
            .err()
            .map(|e| e.for_field(field(path)))
            .into_iter()
            .collect(),
    )
}

fn settings_check(schema: &Value, value: &Value, path: &str, depth: usize) -> Vec<FieldError> {
    let mut errors = Vec::new();
    check(resolve(schema), value, path, &mut errors, depth + 1);
    if errors.is_empty()
        && let Ok(settings) = serde_json::from_value::<SiteSettings>(value.clone())
        && let Err(e) = settings.validate()
    {
        errors.push(e.for_field(&join(path, "timezone")));
    }
    errors
}

fn type_matches(expected: &str, value: &Value) -> bool {
    match expected {
        "null" => value.is_null(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => true,
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

const MAX_DEPTH: usize = 32;

fn check(schema: &Value, value: &Value, path: &str, errors: &mut Vec<FieldError>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    if let Some(found) = domain_check(schema, value, path, depth) {
        errors.extend(found);
        return;
    }
    let schema = resolve(schema);
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            let mut best: Option<Vec<FieldError>> = None;
            for option in options {
                let mut found = Vec::new();
                check(option, value, path, &mut found, depth + 1);
                if found.is_empty() {
                    return;
                }
                // Report the branch that is not just a type mismatch against `null`.
                if !value.is_null() && resolve(option).get("type") == Some(&Value::from("null")) {
                    continue;
                }
                if best.as_ref().is_none_or(|b| found.len() < b.len()) {
                    best = Some(found);
                }
            }
            errors.extend(best.unwrap_or_else(|| {
                vec![FieldError::new(
                    field(path),
                    "invalid_value",
                    "is not an accepted value",
                )]
            }));
            return;
        }
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for part in all {
            check(part, value, path, errors, depth + 1);
        }
    }
    if let Some(expected) = schema.get("type") {
        let allowed: Vec<&str> = match expected {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !allowed.is_empty() && !allowed.iter().any(|t| type_matches(t, value)) {
            let wanted: Vec<&str> = allowed.into_iter().filter(|t| *t != "null").collect();
            errors.push(FieldError::new(
                field(path),
                "invalid_type",
                format!("must be {}, not {}", wanted.join(" or "), type_name(value)),
            ));
            return;
        }
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        let listed: Vec<String> = options
            .iter()
            .filter(|o| !o.is_null())
            .map(|o| o.to_string())
            .collect();
        errors.push(FieldError::new(
            field(path),
            "invalid_value",
            format!("must be one of {}", listed.join(", ")),
        ));
        return;
    }
    match value {
        Value::String(s) => check_string(schema, s, path, errors),
        Value::Number(n) => check_number(schema, n, path, errors),
        Value::Array(items) => {
            // `maxItems` is left to the handlers, which answer with their own codes (a bulk
            // selection over 10,000 users is `422 selection_too_large`).
            if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
                && (items.len() as u64) < min
            {
                errors.push(FieldError::new(
                    field(path),
                    "too_few_items",
                    format!(
                        "must have at least {min} item{}",
                        if min == 1 { "" } else { "s" }
                    ),
                ));
            }
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    check(
                        item_schema,
                        item,
                        &format!("{path}[{i}]"),
                        errors,
                        depth + 1,
                    );
                }
            }
        }
        Value::Object(map) => {
            if let Some(required) = schema.get("required").and_then(Value::as_array) {
                for name in required.iter().filter_map(Value::as_str) {
                    if !map.contains_key(name) {
                        errors.push(FieldError::new(join(path, name), "required", "is required"));
                    }
                }
            }
            let closed = schema.get("additionalProperties") == Some(&Value::Bool(false));
            let properties = schema.get("properties").and_then(Value::as_object);
            for (name, item) in map {
                match properties.and_then(|p| p.get(name)) {
                    Some(property) => check(property, item, &join(path, name), errors, depth + 1),
                    None if closed => errors.push(FieldError::new(
                        join(path, name),
                        "unknown_field",
                        "is not a field of this request",
                    )),
                    None => {}
                }
            }
        }
        _ => {}
    }
}

fn check_string(schema: &Value, s: &str, path: &str, errors: &mut Vec<FieldError>) {
    let chars = s.chars().count() as u64;
    if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
        && chars < min
    {
        let (code, message) = if min == 1 {
            ("required", "must not be empty".to_owned())
        } else {
            ("too_short", format!("must be at least {min} characters"))
        };
        errors.push(FieldError::new(field(path), code, message));
        return;
    }
    if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
        && chars > max
    {
        errors.push(FieldError::new(
            field(path),
            "too_long",
            format!("must be at most {max} characters"),
        ));
        return;
    }
    match schema.get("format").and_then(Value::as_str) {
        Some("email") => {
            if let Err(e) = Email::parse(s) {
                errors.push(e.for_field(field(path)));
            }
        }
        Some("uuid") if uuid::Uuid::parse_str(s).is_err() => {
            errors.push(FieldError::new(
                field(path),
                "invalid_uuid",
                "must be a UUID",
            ));
        }
        Some("date-time") if chrono::DateTime::parse_from_rfc3339(s).is_err() => {
            errors.push(FieldError::new(
                field(path),
                "invalid_date_time",
                "must be an RFC 3339 date-time",
            ));
        }
        _ => {}
    }
}

fn check_number(schema: &Value, n: &serde_json::Number, path: &str, errors: &mut Vec<FieldError>) {
    let Some(v) = n.as_f64() else {
        return;
    };
    let below = schema
        .get("minimum")
        .and_then(Value::as_f64)
        .is_some_and(|m| v < m);
    let above = schema
        .get("maximum")
        .and_then(Value::as_f64)
        .is_some_and(|m| v > m);
    if below || above {
        errors.push(FieldError::new(
            field(path),
            "out_of_range",
            "is out of range",
        ));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields(errors: &[FieldError]) -> Vec<(&str, &str)> {
        errors
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect()
    }

    #[test]
    fn an_array_shorter_than_min_items_names_its_field() {
        let errors = violations(
            "SetClinicsRequest",
            &json!({"clinic_ids": [], "default_clinic_id": "0190c5d2-0000-7000-8000-000000000000"}),
        );
        assert_eq!(fields(&errors), vec![("clinic_ids", "too_few_items")]);
    }

    #[test]
    fn reports_every_violation_of_a_body() {
        let errors = violations(
            "CreateUserRequest",
            &json!({"first_name": "", "email": "nope", "user_type": "doctor",
                    "permissions": ["site_admin", "fly"], "clinic_ids": ["x"], "title": 5}),
        );
        let mut found = fields(&errors);
        found.sort_unstable();
        assert_eq!(
            found,
            vec![
                ("clinic_ids[0]", "invalid_uuid"),
                ("email", "invalid_email"),
                ("first_name", "required"),
                ("last_name", "required"),
                ("permissions[1]", "invalid_value"),
                ("title", "invalid_type"),
                ("user_type", "invalid_value"),
            ]
        );
    }

    #[test]
    fn unknown_fields_are_named() {
        let errors = violations(
            "UpdateUserRequest",
            &json!({"status": "inactive", "first_name": "A"}),
        );
        assert_eq!(fields(&errors), vec![("status", "unknown_field")]);
    }

    #[test]
    fn a_valid_body_has_no_violation() {
        let body = json!({"first_name": "Zoë", "last_name": "O'Brien", "email": "z@example.test",
                          "user_type": "clinical", "profession": null, "default_clinic_id": null});
        assert!(violations("CreateUserRequest", &body).is_empty());
    }

    #[test]
    fn nested_objects_and_nullable_refs() {
        let errors = violations("UpdateSiteRequest", &json!({"settings": {"timezone": ""}}));
        assert_eq!(fields(&errors), vec![("settings.timezone", "required")]);
        assert!(violations("UpdateSiteRequest", &json!({"settings": null})).is_empty());
        let errors = violations("UpdateSiteRequest", &json!({"settings": 3}));
        assert_eq!(fields(&errors), vec![("settings", "invalid_type")]);
    }

    #[test]
    fn finds_nul_characters_anywhere() {
        let mut found = Vec::new();
        nul_characters(
            &json!({"a": "x\u{0}", "b": ["ok", "\u{0}"]}),
            "",
            &mut found,
        );
        assert_eq!(
            fields(&found),
            vec![("a", "invalid_characters"), ("b[1]", "invalid_characters")]
        );
    }
}
