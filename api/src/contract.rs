//! Request bodies checked against the published contract: before serde sees a body, it is
//! validated against the OpenAPI schema of its type (the same document `/openapi.json`
//! serves), and **every** violation — missing field, wrong type, unknown enum value, length,
//! format — is reported at once with its field path. Text containing NUL characters is
//! refused everywhere (PostgreSQL cannot store it).

use serde_json::{Map, Value};
use staffroom_domain::{
    Email, EntityName, FieldError, ParseError, Password, PersonName, SiteSettings,
};
use utoipa::openapi::OpenApi;

/// The component schemas of the OpenAPI document, which request bodies are checked
/// against; built once at start-up and shared as application data.
pub struct BodyContract {
    schemas: Map<String, Value>,
}

impl BodyContract {
    /// The contract of `document`'s component schemas.
    pub fn new(document: &OpenApi) -> Self {
        let schemas = match serde_json::to_value(&document.components).ok() {
            Some(Value::Object(mut components)) => match components.remove("schemas") {
                Some(Value::Object(schemas)) => schemas,
                _ => Map::new(),
            },
            _ => Map::new(),
        };
        Self { schemas }
    }

    /// Every violation of the named component schema by `value`, NUL characters first
    /// (empty when valid or when the contract has no schema of that name).
    pub fn violations(&self, schema_name: &str, value: &Value) -> Vec<FieldError> {
        let mut errors = Vec::new();
        nul_characters(value, "", &mut errors);
        if !errors.is_empty() {
            return errors;
        }
        if let Some(schema) = self.schemas.get(schema_name) {
            self.check(schema, value, "", &mut errors, 0);
        }
        errors
    }
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

/// Deeper nesting is not checked: no request body of the contract nests this far.
const MAX_DEPTH: usize = 32;

impl BodyContract {
    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
            .and_then(|name| self.schemas.get(name))
            .unwrap_or(schema)
    }

    /// Value types of the domain are checked by their own parsers, so the contract and the
    /// domain can never disagree on what a valid name, email or password is.
    fn domain_check(
        &self,
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
            "SiteSettings" => return Some(self.settings_check(schema, value, path, depth)),
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

    fn settings_check(
        &self,
        schema: &Value,
        value: &Value,
        path: &str,
        depth: usize,
    ) -> Vec<FieldError> {
        let mut errors = Vec::new();
        self.check(self.resolve(schema), value, path, &mut errors, depth + 1);
        if errors.is_empty()
            && let Ok(settings) = serde_json::from_value::<SiteSettings>(value.clone())
            && let Err(e) = settings.validate()
        {
            errors.push(e.for_field(&join(path, "timezone")));
        }
        errors
    }

    fn check(
        &self,
        schema: &Value,
        value: &Value,
        path: &str,
        errors: &mut Vec<FieldError>,
        depth: usize,
    ) {
        if depth > MAX_DEPTH {
            return;
        }
        if let Some(found) = self.domain_check(schema, value, path, depth) {
            errors.extend(found);
            return;
        }
        let schema = self.resolve(schema);
        for key in ["oneOf", "anyOf"] {
            if let Some(options) = schema.get(key).and_then(Value::as_array) {
                let mut best: Option<Vec<FieldError>> = None;
                for option in options {
                    let mut found = Vec::new();
                    self.check(option, value, path, &mut found, depth + 1);
                    if found.is_empty() {
                        return;
                    }
                    // Report the branch that is not just a type mismatch against `null`.
                    if !value.is_null()
                        && self.resolve(option).get("type") == Some(&Value::from("null"))
                    {
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
                self.check(part, value, path, errors, depth + 1);
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
                        self.check(
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
                            errors.push(FieldError::new(
                                join(path, name),
                                "required",
                                "is required",
                            ));
                        }
                    }
                }
                let closed = schema.get("additionalProperties") == Some(&Value::Bool(false));
                let properties = schema.get("properties").and_then(Value::as_object);
                for (name, item) in map {
                    match properties.and_then(|p| p.get(name)) {
                        Some(property) => {
                            self.check(property, item, &join(path, name), errors, depth + 1)
                        }
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
