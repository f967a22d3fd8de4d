//! Request bodies checked against the published contract: before serde sees a body, it is
//! validated with the `jsonschema` crate against the OpenAPI component schema of its type
//! (the same document `/openapi.json` serves), and **every** violation — missing field,
//! wrong type, unknown enum value, length, format — is reported at once with its field
//! path. Text containing NUL characters is refused everywhere (PostgreSQL cannot store it).

mod keywords;
mod problems;

use std::collections::HashMap;

use jsonschema::{Draft, Registry, Validator};
use serde_json::{Map, Value, json};
use staffroom_domain::FieldError;
use utoipa::openapi::OpenApi;

/// Where the component schemas are registered: `{CONTRACT}#/components/schemas/Name`.
const CONTRACT: &str = "urn:staffroom:openapi";

/// The component schemas of the OpenAPI document, compiled once at start-up, which request
/// bodies are checked against; shared as application data.
pub struct BodyContract {
    validators: HashMap<String, Validator>,
}

impl BodyContract {
    /// Compiles every component schema of `document`; `Err` names a schema that does not
    /// compile.
    pub fn new(document: &OpenApi) -> Result<Self, String> {
        let schemas = component_schemas(document);
        let names: Vec<String> = schemas.keys().cloned().collect();
        let root = json!({"components": {"schemas": keywords::with_domain_checks(schemas)}});
        let registry = Registry::new()
            .draft(Draft::Draft202012)
            .add(CONTRACT, root)
            .and_then(|builder| builder.prepare())
            .map_err(|e| format!("the OpenAPI component schemas: {e}"))?;
        let options = keywords::options().with_registry(&registry);
        let validators = names
            .into_iter()
            .map(|name| {
                let reference = json!({"$ref": format!("{CONTRACT}#/components/schemas/{name}")});
                match options.build(&reference) {
                    Ok(validator) => Ok((name, validator)),
                    Err(e) => Err(format!("the schema {name}: {e}")),
                }
            })
            .collect::<Result<_, String>>()?;
        Ok(Self { validators })
    }

    /// Every violation of the named component schema by `value`, NUL characters first
    /// (empty when valid or when the contract has no schema of that name).
    pub fn violations(&self, schema_name: &str, value: &Value) -> Vec<FieldError> {
        let mut errors = Vec::new();
        nul_characters(value, "", &mut errors);
        if !errors.is_empty() {
            return errors;
        }
        match self.validators.get(schema_name) {
            Some(validator) if !validator.is_valid(value) => {
                problems::field_errors(validator.iter_errors(value), value)
            }
            _ => errors,
        }
    }
}

fn component_schemas(document: &OpenApi) -> Map<String, Value> {
    match serde_json::to_value(&document.components).ok() {
        Some(Value::Object(mut components)) => match components.remove("schemas") {
            Some(Value::Object(schemas)) => schemas,
            _ => Map::new(),
        },
        _ => Map::new(),
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
        field_name(field),
        "invalid_characters",
        "must not contain NUL characters",
    )
}

/// `path.key`, or `key` at the top.
fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// The field a problem names: the path, or `body` for the body itself.
fn field_name(path: &str) -> &str {
    if path.is_empty() { "body" } else { path }
}
