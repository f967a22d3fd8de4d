//! What the contract checks beyond standard JSON Schema, as `jsonschema` options: the
//! domain's own parsers for names, emails, passwords and site settings, strict JSON types
//! (`1.0` is not an integer, as serde agrees) and the formats the API gives meaning to.

use jsonschema::paths::Location;
use jsonschema::{Keyword, ValidationError, ValidationOptions};
use serde_json::{Map, Value};
use staffroom_domain::{Email, EntityName, ParseError, Password, PersonName, SiteSettings};

/// Marks a value type the domain parses itself; its value is the type's schema name, which
/// is also the message of the error it raises.
const PARSED_BY_DOMAIN: &str = "x-staffroom-parsed-by-domain";
/// Marks the site settings, whose time zone the domain checks once the schema holds.
pub const SITE_SETTINGS: &str = "x-staffroom-site-settings";
/// The message of a `"type": "null"` mismatch: the `null` branch of an optional field, which
/// is never the branch a non-null value meant.
pub const ONLY_NULL: &str = "must be null";

/// A domain parser of a value type carried as a string.
pub type Parser = fn(&str) -> Result<(), ParseError>;

/// The domain parser of a value type carried as a string, by its schema name.
pub fn domain_parser(name: &str) -> Option<Parser> {
    Some(match name {
        "PersonName" => |s| PersonName::parse(s).map(drop),
        "EntityName" => |s| EntityName::parse(s).map(drop),
        "Email" => |s| Email::parse(s).map(drop),
        "Password" => |s| Password::parse(s).map(drop),
        _ => return None,
    })
}

/// What the domain says against site settings that have the documented shape.
pub fn settings_error(value: &Value) -> Option<ParseError> {
    let settings: SiteSettings = serde_json::from_value(value.clone()).ok()?;
    settings.validate().err()
}

/// The component schemas with the domain's value types handed to their parsers: a string
/// whose schema is `PersonName`, `EntityName`, `Email` or `Password` is checked by that
/// parser alone (the schema's bounds document the same rules), and `SiteSettings` also by
/// its own rule, so the contract and the domain never disagree.
pub fn with_domain_checks(mut schemas: Map<String, Value>) -> Map<String, Value> {
    for (name, schema) in &mut schemas {
        if domain_parser(name).is_some() {
            let mut parsed = Map::new();
            parsed.insert("type".to_owned(), Value::from("string"));
            parsed.insert(PARSED_BY_DOMAIN.to_owned(), Value::from(name.as_str()));
            *schema = Value::Object(parsed);
        } else if name == "SiteSettings"
            && let Value::Object(schema) = schema
        {
            schema.insert(SITE_SETTINGS.to_owned(), Value::Bool(true));
        }
    }
    schemas
}

/// Draft 2020-12 with formats asserted, the domain keywords and strict types.
pub fn options<'a>() -> ValidationOptions<'a> {
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .with_format("email", |s| Email::parse(s).is_ok())
        .with_format("uuid", |s| uuid::Uuid::parse_str(s).is_ok())
        .with_format("date-time", |s| {
            chrono::DateTime::parse_from_rfc3339(s).is_ok()
        })
        .with_keyword("type", strict_type)
        .with_keyword(PARSED_BY_DOMAIN, parsed_by_domain)
        .with_keyword(SITE_SETTINGS, |_, _, _| Ok(Box::new(SettingsRule)))
}

/// `type` as serde reads JSON: an integer is a number without a fraction part.
struct StrictType(Vec<String>);

fn strict_type<'a>(
    _: &'a Map<String, Value>,
    value: &'a Value,
    _: Location,
) -> Result<Box<dyn for<'i> Keyword<'i>>, ValidationError<'a>> {
    let allowed = match value {
        Value::String(t) => vec![t.clone()],
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => {
            return Err(ValidationError::custom(
                "`type` is a name or a list of names",
            ));
        }
    };
    Ok(Box::new(StrictType(allowed)))
}

impl<'i> Keyword<'i> for StrictType {
    fn validate(&self, instance: &'i Value) -> Result<(), ValidationError<'i>> {
        if self.is_valid(instance) {
            return Ok(());
        }
        if self.0.iter().all(|t| t == "null") {
            return Err(ValidationError::custom(ONLY_NULL));
        }
        let wanted: Vec<&str> = self
            .0
            .iter()
            .map(String::as_str)
            .filter(|t| *t != "null")
            .collect();
        Err(ValidationError::custom(format!(
            "must be {}, not {}",
            wanted.join(" or "),
            type_name(instance)
        )))
    }

    fn is_valid(&self, instance: &'i Value) -> bool {
        self.0.is_empty() || self.0.iter().any(|t| type_matches(t, instance))
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

/// A string the named domain parser must accept.
struct ParsedByDomain {
    name: String,
    parse: Parser,
}

fn parsed_by_domain<'a>(
    _: &'a Map<String, Value>,
    value: &'a Value,
    _: Location,
) -> Result<Box<dyn for<'i> Keyword<'i>>, ValidationError<'a>> {
    let name = value.as_str().unwrap_or_default();
    match domain_parser(name) {
        Some(parse) => Ok(Box::new(ParsedByDomain {
            name: name.to_owned(),
            parse,
        })),
        None => Err(ValidationError::custom(format!(
            "no domain parser for {name}"
        ))),
    }
}

impl<'i> Keyword<'i> for ParsedByDomain {
    fn validate(&self, instance: &'i Value) -> Result<(), ValidationError<'i>> {
        if self.is_valid(instance) {
            Ok(())
        } else {
            Err(ValidationError::custom(self.name.clone()))
        }
    }

    fn is_valid(&self, instance: &'i Value) -> bool {
        instance.as_str().is_none_or(|s| (self.parse)(s).is_ok())
    }
}

/// Site settings the domain accepts.
struct SettingsRule;

impl<'i> Keyword<'i> for SettingsRule {
    fn validate(&self, instance: &'i Value) -> Result<(), ValidationError<'i>> {
        match settings_error(instance) {
            None => Ok(()),
            Some(e) => Err(ValidationError::custom(e.message)),
        }
    }

    fn is_valid(&self, instance: &'i Value) -> bool {
        settings_error(instance).is_none()
    }
}
