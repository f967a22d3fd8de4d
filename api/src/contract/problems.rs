//! `jsonschema` errors as the field errors of a validation problem, with the field paths
//! (`filter.q`, `permissions[2]`), codes and messages the API answers with: one error per
//! field where several keywords object to the same value, the closest branch of a `oneOf`,
//! in the order of the body.

use jsonschema::ValidationError;
use jsonschema::error::ValidationErrorKind as Kind;
use jsonschema::paths::{Location, LocationSegment};
use serde_json::Value;
use staffroom_domain::{Email, FieldError};

use super::keywords::{ONLY_NULL, SITE_SETTINGS, domain_parser, settings_error};
use super::{field_name, join};

/// The field errors of `errors`, the violations of `body`.
pub fn field_errors<'i>(
    errors: impl Iterator<Item = ValidationError<'i>>,
    body: &Value,
) -> Vec<FieldError> {
    let mut found = Vec::new();
    for error in errors {
        objections(&error, body, &mut found);
    }
    let mut found = settle(found);
    found.sort_by(|a, b| a.order.cmp(&b.order));
    found.into_iter().map(|o| o.error).collect()
}

/// One objection to the body, at the node its keyword applies to.
struct Objection {
    /// The node's place in the body: each step's position in its object or array, so that
    /// sorting lists a node's own errors first, then its members' in body order.
    order: Vec<usize>,
    /// The node's field path (`users[3].first_name`; empty for the body itself).
    path: String,
    what: What,
    error: FieldError,
}

#[derive(Clone, Copy, PartialEq)]
enum What {
    Type,
    Value,
    Length,
    Format,
    Settings,
    Other,
}

/// Adds what `error` objects to, if the contract enforces its keyword.
fn objections(error: &ValidationError<'_>, body: &Value, out: &mut Vec<Objection>) {
    let (order, path, node) = locate(body, error.instance_path());
    let field = field_name(&path);
    let text = error.instance().as_str();
    let (what, found) = match error.kind() {
        Kind::Custom { keyword, message } if keyword == "type" => (
            What::Type,
            FieldError::new(field, "invalid_type", message.clone()),
        ),
        Kind::Custom { keyword, .. } if keyword == SITE_SETTINGS => {
            let Some(e) = settings_error(error.instance()) else {
                return;
            };
            (What::Settings, e.for_field(&join(&path, "timezone")))
        }
        Kind::Custom { message, .. } => {
            let refused = domain_parser(message)
                .zip(text)
                .and_then(|(parse, s)| parse(s).err());
            let Some(e) = refused else { return };
            (What::Other, e.for_field(field))
        }
        Kind::Enum { options } => {
            let listed: Vec<String> = options
                .as_array()
                .into_iter()
                .flatten()
                .filter(|o| !o.is_null())
                .map(Value::to_string)
                .collect();
            let message = format!("must be one of {}", listed.join(", "));
            (
                What::Value,
                FieldError::new(field, "invalid_value", message),
            )
        }
        Kind::MinLength { limit: 1 } => (
            What::Length,
            FieldError::new(field, "required", "must not be empty"),
        ),
        Kind::MinLength { limit } => (
            What::Length,
            FieldError::new(
                field,
                "too_short",
                format!("must be at least {limit} characters"),
            ),
        ),
        Kind::MaxLength { limit } => (
            What::Length,
            FieldError::new(
                field,
                "too_long",
                format!("must be at most {limit} characters"),
            ),
        ),
        Kind::Format { format } => {
            let found = match format.as_str() {
                "email" => text
                    .and_then(|s| Email::parse(s).err())
                    .map(|e| e.for_field(field)),
                "uuid" => Some(FieldError::new(field, "invalid_uuid", "must be a UUID")),
                "date-time" => Some(FieldError::new(
                    field,
                    "invalid_date_time",
                    "must be an RFC 3339 date-time",
                )),
                _ => None,
            };
            let Some(found) = found else { return };
            (What::Format, found)
        }
        Kind::Minimum { .. } | Kind::Maximum { .. } => (
            What::Other,
            FieldError::new(field, "out_of_range", "is out of range"),
        ),
        Kind::MinItems { limit } => {
            let plural = if *limit == 1 { "" } else { "s" };
            let message = format!("must have at least {limit} item{plural}");
            (
                What::Other,
                FieldError::new(field, "too_few_items", message),
            )
        }
        Kind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            let error = FieldError::new(join(&path, name), "required", "is required");
            (What::Other, error)
        }
        Kind::AdditionalProperties { unexpected } => {
            for name in unexpected {
                let mut order = order.clone();
                order.push(position(node.and_then(Value::as_object), name));
                let path = join(&path, name);
                let error =
                    FieldError::new(&path, "unknown_field", "is not a field of this request");
                out.push(Objection {
                    order,
                    path,
                    what: What::Other,
                    error,
                });
            }
            return;
        }
        Kind::OneOfNotValid { context } | Kind::AnyOf { context } => {
            out.extend(closest_branch(context, error.instance(), body, order, path));
            return;
        }
        // Not enforced here: `maxItems` (handlers answer with their own codes, such as
        // `selection_too_large`), `pattern` (the domain checks what it describes), a value
        // valid under several `oneOf` branches, and keywords the contract does not use.
        _ => return,
    };
    out.push(Objection {
        order,
        path,
        what,
        error: found,
    });
}

/// The objections of the `oneOf`/`anyOf` branch with the fewest, leaving out the `null`
/// branch of an optional field when the value is not null.
fn closest_branch(
    branches: &[Vec<ValidationError<'static>>],
    instance: &Value,
    body: &Value,
    order: Vec<usize>,
    path: String,
) -> Vec<Objection> {
    let mut best: Option<Vec<Objection>> = None;
    for branch in branches {
        let only_null = matches!(branch.as_slice(),
            [e] if matches!(e.kind(), Kind::Custom { message, .. } if message == ONLY_NULL));
        if only_null && !instance.is_null() {
            continue;
        }
        let mut found = Vec::new();
        for error in branch {
            objections(error, body, &mut found);
        }
        let found = settle(found);
        if best.as_ref().is_none_or(|b| found.len() < b.len()) {
            best = Some(found);
        }
    }
    best.unwrap_or_else(|| {
        let error = FieldError::new(
            field_name(&path),
            "invalid_value",
            "is not an accepted value",
        );
        vec![Objection {
            order,
            path,
            what: What::Value,
            error,
        }]
    })
}

/// One error per node where keywords repeat each other: a type mismatch says it all, a
/// wrong enum value or length says more than a format, and the site settings' own rule
/// speaks only when nothing else in them is wrong.
fn settle(found: Vec<Objection>) -> Vec<Objection> {
    let at = |path: &str, what: What| found.iter().any(|o| o.path == path && o.what == what);
    let keep: Vec<bool> = found
        .iter()
        .map(|o| match o.what {
            What::Type => true,
            _ if at(&o.path, What::Type) => false,
            What::Length => !at(&o.path, What::Value),
            What::Format => !at(&o.path, What::Value) && !at(&o.path, What::Length),
            What::Settings => !found
                .iter()
                .any(|other| other.what != What::Settings && within(&o.path, &other.path)),
            What::Value | What::Other => true,
        })
        .collect();
    found
        .into_iter()
        .zip(keep)
        .filter_map(|(o, keep)| keep.then_some(o))
        .collect()
}

/// Whether the field `path` is `node` or inside it.
fn within(node: &str, path: &str) -> bool {
    node.is_empty()
        || path
            .strip_prefix(node)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
}

/// The order, field path and value of the body node at `location`.
fn locate<'b>(body: &'b Value, location: &Location) -> (Vec<usize>, String, Option<&'b Value>) {
    let mut node = Some(body);
    let mut order = Vec::new();
    let mut path = String::new();
    for segment in location.iter() {
        let key = match segment {
            LocationSegment::Property(name) => name.into_owned(),
            LocationSegment::Index(i) => i.to_string(),
        };
        match node {
            Some(Value::Array(items)) => {
                let i: usize = key.parse().unwrap_or_default();
                order.push(i + 1);
                path.push_str(&format!("[{i}]"));
                node = items.get(i);
            }
            other => {
                let object = other.and_then(Value::as_object);
                order.push(position(object, &key));
                path = join(&path, &key);
                node = object.and_then(|o| o.get(&key));
            }
        }
    }
    (order, path, node)
}

/// The place of `key` among the members of `object`, from 1 (0 when it is not there).
fn position(object: Option<&serde_json::Map<String, Value>>, key: &str) -> usize {
    object
        .and_then(|o| o.keys().position(|k| k == key))
        .map_or(0, |p| p + 1)
}
