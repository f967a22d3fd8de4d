//! The SCIM PATCH engine (RFC 7644 §3.5.2): applies `add`, `replace` and `remove`
//! operations to a resource held as a JSON object, guided by a small description of the
//! resource's attributes ([`ResourceSchema`]) so that names match case-insensitively, values
//! are checked and coerced, and read-only attributes stay as they are.
//!
//! It accepts the shapes the big identity providers really send (SPEC §8):
//! * `op` in any case (`Replace`, `ADD`);
//! * booleans as strings (`"False"`), for boolean attributes;
//! * path-less operations whose value has dotted or schema-qualified keys
//!   (`{"name.givenName": "Ada"}`, `{"urn:…:User:profession": "gp"}`);
//! * `replace` on a filtered path that matches nothing adds a value made from the filter's
//!   `eq` terms and the value (`emails[type eq "work"].value`);
//! * `remove` on a multi-valued path with a `value` list removes those values.
//!
//! The result is a resource the caller still maps and checks against its own rules (a PATCH
//! is then one change, never a partial one).

use serde_json::{Map, Value};

use crate::ScimType;
use crate::filter::{AttrPath, CompValue, CompareOp, Filter, FilterError, parse_path};
use crate::schema::{Attribute, Kind, Mutability, ResourceSchema};

/// The PATCH request's schema URN.
pub const PATCH_OP_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Why a PATCH is refused: SCIM's `400` with this `scimType` (RFC 7644 §3.12).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatchError {
    /// The body is not a PatchOp message, or an operation is malformed.
    InvalidSyntax(String),
    /// A path does not parse or names no attribute of the resource.
    InvalidPath(String),
    /// `remove` without a path, or a value path that selects nothing to remove.
    NoTarget(String),
    /// A value of the wrong type.
    InvalidValue(String),
    /// A change to a read-only attribute.
    Mutability(String),
}

impl PatchError {
    /// The `scimType` of the error response.
    pub const fn scim_type(&self) -> ScimType {
        match self {
            Self::InvalidSyntax(_) => ScimType::InvalidSyntax,
            Self::InvalidPath(_) => ScimType::InvalidPath,
            Self::NoTarget(_) => ScimType::NoTarget,
            Self::InvalidValue(_) => ScimType::InvalidValue,
            Self::Mutability(_) => ScimType::Mutability,
        }
    }

    /// The error response's `detail`.
    pub fn detail(&self) -> &str {
        match self {
            Self::InvalidSyntax(m)
            | Self::InvalidPath(m)
            | Self::NoTarget(m)
            | Self::InvalidValue(m)
            | Self::Mutability(m) => m,
        }
    }
}

impl std::fmt::Display for PatchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.scim_type(), self.detail())
    }
}

impl std::error::Error for PatchError {}

/// `add`, `remove` or `replace`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Add,
    Remove,
    Replace,
}

/// One operation of a PATCH request.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOp {
    pub op: OpKind,
    pub path: Option<AttrPath>,
    pub value: Option<Value>,
}

/// A member of a JSON object by case-insensitive name.
fn get_ci<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// Parses a PATCH request body: `{"schemas": [PatchOp URN], "Operations": [...]}` (member
/// names and `op` in any case).
pub fn parse_request(body: &Value) -> Result<Vec<PatchOp>, PatchError> {
    let syntax = |m: &str| PatchError::InvalidSyntax(m.to_owned());
    let object = body
        .as_object()
        .ok_or_else(|| syntax("the body is not an object"))?;
    let names_patch = get_ci(object, "schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().any(|u| u.as_str() == Some(PATCH_OP_URN)));
    if !names_patch {
        return Err(syntax(
            "schemas must list urn:ietf:params:scim:api:messages:2.0:PatchOp",
        ));
    }
    let operations = get_ci(object, "Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| syntax("Operations must be an array"))?;
    operations.iter().map(parse_op).collect()
}

fn parse_op(operation: &Value) -> Result<PatchOp, PatchError> {
    let syntax = |m: String| PatchError::InvalidSyntax(m);
    let object = operation
        .as_object()
        .ok_or_else(|| syntax("each operation is an object".into()))?;
    let op = match get_ci(object, "op").and_then(Value::as_str) {
        Some(op) if op.eq_ignore_ascii_case("add") => OpKind::Add,
        Some(op) if op.eq_ignore_ascii_case("remove") => OpKind::Remove,
        Some(op) if op.eq_ignore_ascii_case("replace") => OpKind::Replace,
        other => {
            return Err(syntax(format!(
                "op must be add, remove or replace, not {other:?}"
            )));
        }
    };
    let path = match get_ci(object, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(path)) if path.trim().is_empty() => None,
        Some(Value::String(path)) => Some(parse_path(path).map_err(|e| invalid_path(path, &e))?),
        Some(_) => return Err(syntax("path must be a string".into())),
    };
    let value = get_ci(object, "value").cloned();
    if op != OpKind::Remove && value.is_none() {
        return Err(syntax("add and replace need a value".into()));
    }
    Ok(PatchOp { op, path, value })
}

fn invalid_path(path: &str, e: &FilterError) -> PatchError {
    PatchError::InvalidPath(format!("{path:?}: {e}"))
}

/// Applies `ops` in order to `resource`; on an error the caller discards the result.
pub fn apply(
    resource: &mut Map<String, Value>,
    ops: &[PatchOp],
    schema: &ResourceSchema,
) -> Result<(), PatchError> {
    for op in ops {
        match &op.path {
            Some(path) => match extension_named(schema, path) {
                Some(urn) => apply_extension(resource, schema, op, urn)?,
                None => apply_at(resource, schema, op.op, path, op.value.as_ref())?,
            },
            None => apply_pathless(resource, schema, op)?,
        }
    }
    Ok(())
}

/// The extension a path names as a whole (`urn:…:extension:staffroom:2.0:User`), which
/// the path grammar reads as the attribute `User` of the schema `urn:…:2.0`.
fn extension_named(schema: &ResourceSchema, path: &AttrPath) -> Option<&'static str> {
    let uri = path.uri.as_deref()?;
    if path.sub_attr.is_some() || path.value_filter.is_some() {
        return None;
    }
    let whole = format!("{uri}:{}", path.attr);
    schema
        .extensions
        .iter()
        .map(|(urn, _)| *urn)
        .find(|urn| urn.eq_ignore_ascii_case(&whole))
}

/// An operation whose path is an extension's URN: `add` and `replace` apply each member of
/// the value (an object) within the extension, as a path-less operation would; `remove`
/// removes each of the extension's attributes.
fn apply_extension(
    resource: &mut Map<String, Value>,
    schema: &ResourceSchema,
    op: &PatchOp,
    urn: &'static str,
) -> Result<(), PatchError> {
    if op.op == OpKind::Remove {
        let attributes = schema
            .extensions
            .iter()
            .find(|(u, _)| *u == urn)
            .map_or(&[][..], |(_, attributes)| *attributes);
        if let Some(required) = attributes.iter().find(|a| a.required) {
            return Err(PatchError::Mutability(format!(
                "{urn} is required (it holds the required {}): it cannot be removed",
                required.name
            )));
        }
        for attribute in attributes {
            let path = parse_path(&format!("{urn}:{}", attribute.name))
                .map_err(|e| invalid_path(attribute.name, &e))?;
            apply_at(resource, schema, OpKind::Remove, &path, None)?;
        }
        return Ok(());
    }
    let mut members = Map::new();
    members.insert(urn.to_owned(), op.value.clone().unwrap_or(Value::Null));
    let whole = PatchOp {
        op: op.op,
        path: None,
        value: Some(Value::Object(members)),
    };
    apply_pathless(resource, schema, &whole)
}

/// A path-less `add` or `replace`: each member of the value is an operation on that
/// member's name, which may be dotted or schema-qualified; an extension's URN holding an
/// object applies each of its members within the extension (a `schemas` member in it, which
/// some clients repeat there, is skipped like the top-level one).
fn apply_pathless(
    resource: &mut Map<String, Value>,
    schema: &ResourceSchema,
    op: &PatchOp,
) -> Result<(), PatchError> {
    if op.op == OpKind::Remove {
        return Err(PatchError::NoTarget("remove needs a path".into()));
    }
    let Some(Value::Object(members)) = &op.value else {
        return Err(PatchError::InvalidValue(
            "without a path, the value must be an object of attributes".into(),
        ));
    };
    for (key, value) in members {
        if key.eq_ignore_ascii_case("schemas") {
            continue;
        }
        if let Some((urn, _)) = schema
            .extensions
            .iter()
            .find(|(urn, _)| urn.eq_ignore_ascii_case(key))
        {
            let Value::Object(inner) = value else {
                return Err(PatchError::InvalidValue(format!("{urn} must be an object")));
            };
            for (name, value) in inner {
                if name.eq_ignore_ascii_case("schemas") {
                    continue;
                }
                let path =
                    parse_path(&format!("{urn}:{name}")).map_err(|e| invalid_path(name, &e))?;
                apply_at(resource, schema, op.op, &path, Some(value))?;
            }
            continue;
        }
        let path = parse_path(key).map_err(|e| invalid_path(key, &e))?;
        apply_at(resource, schema, op.op, &path, Some(value))?;
    }
    Ok(())
}

/// Where a path's attribute lives: the resource itself or an extension's object.
fn container<'a>(
    resource: &'a mut Map<String, Value>,
    schema: &ResourceSchema,
    path: &AttrPath,
) -> Result<(&'a mut Map<String, Value>, &'static Attribute), PatchError> {
    let unknown = || PatchError::InvalidPath(format!("no attribute {:?}", path.attr));
    let (attributes, extension): (&'static [Attribute], Option<&'static str>) = match &path.uri {
        None => (schema.attributes, None),
        Some(uri) if uri.eq_ignore_ascii_case(schema.core_urn) => (schema.attributes, None),
        Some(uri) => match schema
            .extensions
            .iter()
            .find(|(urn, _)| urn.eq_ignore_ascii_case(uri))
        {
            Some((urn, attributes)) => (attributes, Some(urn)),
            None => return Err(PatchError::InvalidPath(format!("no schema {uri:?}"))),
        },
    };
    let attribute = attributes
        .iter()
        .find(|a| a.name.eq_ignore_ascii_case(&path.attr))
        .ok_or_else(unknown)?;
    let target = match extension {
        None => resource,
        Some(urn) => {
            let key = canonical_key(resource, urn);
            let slot = resource
                .entry(key)
                .or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            slot.as_object_mut().ok_or_else(unknown)?
        }
    };
    Ok((target, attribute))
}

/// The key under which `name` is stored (its existing spelling, else `name`), after
/// removing other spellings of it.
fn canonical_key(object: &mut Map<String, Value>, name: &str) -> String {
    let spellings: Vec<String> = object
        .keys()
        .filter(|k| k.eq_ignore_ascii_case(name) && k.as_str() != name)
        .cloned()
        .collect();
    for spelling in spellings {
        if let Some(value) = object.remove(&spelling) {
            object.entry(name.to_owned()).or_insert(value);
        }
    }
    name.to_owned()
}

fn apply_at(
    resource: &mut Map<String, Value>,
    schema: &ResourceSchema,
    op: OpKind,
    path: &AttrPath,
    value: Option<&Value>,
) -> Result<(), PatchError> {
    let (target, attribute) = container(resource, schema, path)?;
    let key = canonical_key(target, attribute.name);
    let sub = match &path.sub_attr {
        Some(name) => Some(attribute.sub(name).ok_or_else(|| {
            PatchError::InvalidPath(format!("{} has no sub-attribute {name:?}", attribute.name))
        })?),
        None => None,
    };
    let fixed = |a: &Attribute| a.mutability == Mutability::ReadOnly;
    if fixed(attribute) || sub.is_some_and(fixed) {
        return read_only(target.get(&key), attribute, sub, op, value);
    }
    // RFC 7644 §3.5.2.2: removing a required attribute is a `mutability` error.
    let whole = path.value_filter.is_none() && value.is_none();
    if op == OpKind::Remove && whole && sub.map_or(attribute.required, |s| s.required) {
        return Err(PatchError::Mutability(format!(
            "{} is required: it cannot be removed",
            sub.map_or(attribute.name.to_owned(), |s| format!(
                "{}.{}",
                attribute.name, s.name
            ))
        )));
    }
    match (&path.value_filter, sub) {
        (Some(filter), sub) => {
            if !attribute.multi_valued {
                return Err(PatchError::InvalidPath(format!(
                    "{} is not multi-valued: it takes no value filter",
                    attribute.name
                )));
            }
            at_filter(target, &key, attribute, filter, sub, op, value)
        }
        (None, Some(sub)) if attribute.multi_valued => Err(PatchError::InvalidPath(format!(
            "{}.{}: choose the values with a filter, e.g. {}[type eq \"work\"].{}",
            attribute.name, sub.name, attribute.name, sub.name
        ))),
        (None, Some(sub)) => {
            let object = target
                .entry(key)
                .or_insert_with(|| Value::Object(Map::new()));
            if !object.is_object() {
                *object = Value::Object(Map::new());
            }
            let Value::Object(object) = object else {
                return Ok(());
            };
            let sub_key = canonical_key(object, sub.name);
            match op {
                OpKind::Remove => {
                    object.remove(&sub_key);
                }
                OpKind::Add | OpKind::Replace => {
                    object.insert(sub_key, coerce(sub, required(value)?)?);
                }
            }
            Ok(())
        }
        (None, None) => at_attribute(target, key, attribute, op, value),
    }
}

fn required(value: Option<&Value>) -> Result<&Value, PatchError> {
    value.ok_or_else(|| PatchError::InvalidSyntax("add and replace need a value".into()))
}

/// A read-only attribute may be "set" to the value it has (Okta sends the group's `id`
/// along with its new name); anything else is a `mutability` error.
fn read_only(
    current: Option<&Value>,
    attribute: &Attribute,
    sub: Option<&Attribute>,
    op: OpKind,
    value: Option<&Value>,
) -> Result<(), PatchError> {
    let current = match sub {
        Some(sub) => current
            .and_then(|c| c.as_object())
            .and_then(|c| get_ci(c, sub.name)),
        None => current,
    };
    if op != OpKind::Remove && value.is_some() && value == current {
        return Ok(());
    }
    Err(PatchError::Mutability(format!(
        "{} is read-only",
        attribute.name
    )))
}

/// `add`, `replace` or `remove` of a whole attribute.
fn at_attribute(
    target: &mut Map<String, Value>,
    key: String,
    attribute: &Attribute,
    op: OpKind,
    value: Option<&Value>,
) -> Result<(), PatchError> {
    match op {
        OpKind::Remove if attribute.multi_valued && value.is_some() => {
            // Entra ID: `remove` of `members` with the values to remove.
            let to_remove = as_items(attribute, required(value)?)?;
            if let Some(Value::Array(items)) = target.get_mut(&key) {
                items.retain(|item| !to_remove.iter().any(|r| same_item(attribute, item, r)));
            }
        }
        OpKind::Remove => {
            target.remove(&key);
        }
        OpKind::Add if attribute.multi_valued => {
            let new = as_items(attribute, required(value)?)?;
            let slot = target
                .entry(key)
                .or_insert_with(|| Value::Array(Vec::new()));
            if !slot.is_array() {
                *slot = Value::Array(Vec::new());
            }
            if let Value::Array(items) = slot {
                for item in new {
                    if !items.iter().any(|i| same_item(attribute, i, &item)) {
                        items.push(item);
                    }
                }
            }
        }
        OpKind::Add if attribute.kind == Kind::Complex => {
            // Adding to a complex attribute merges its sub-attributes.
            let new = coerce(attribute, required(value)?)?;
            let slot = target
                .entry(key)
                .or_insert_with(|| Value::Object(Map::new()));
            match (slot, new) {
                (Value::Object(existing), Value::Object(new)) => existing.extend(new),
                (slot, new) => *slot = new,
            }
        }
        OpKind::Replace if attribute.multi_valued => {
            let items = as_items(attribute, required(value)?)?;
            target.insert(key, Value::Array(items));
        }
        OpKind::Add | OpKind::Replace => {
            let new = coerce(attribute, required(value)?)?;
            target.insert(key, new);
        }
    }
    Ok(())
}

/// Operations on the values of a multi-valued attribute that match `filter`, or on their
/// `sub` attribute.
fn at_filter(
    target: &mut Map<String, Value>,
    key: &str,
    attribute: &Attribute,
    filter: &Filter,
    sub: Option<&Attribute>,
    op: OpKind,
    value: Option<&Value>,
) -> Result<(), PatchError> {
    let mut items = match target.remove(key) {
        Some(Value::Array(items)) => items,
        Some(other) => vec![other],
        None => Vec::new(),
    };
    let matching: Vec<usize> = (0..items.len())
        .filter(|&i| matches(filter, &items[i], attribute))
        .collect();
    let outcome = match op {
        OpKind::Remove => {
            if matching.is_empty() {
                Err(PatchError::NoTarget(format!(
                    "no value of {} matches the filter",
                    attribute.name
                )))
            } else {
                remove_matching(&mut items, &matching, sub);
                Ok(())
            }
        }
        OpKind::Add | OpKind::Replace if matching.is_empty() => {
            // Nothing matches: add a value made from the filter's `eq` terms (Entra ID).
            let mut item = Map::new();
            equalities(filter, attribute, &mut item);
            let value = required(value)?;
            match sub {
                Some(sub) => {
                    item.insert(sub.name.to_owned(), coerce(sub, value)?);
                }
                None => match coerce_item(attribute, value)? {
                    Value::Object(fields) => item.extend(fields),
                    _ => must_be_object(attribute)?,
                },
            }
            items.push(Value::Object(item));
            Ok(())
        }
        OpKind::Add | OpKind::Replace => {
            let value = required(value)?;
            let new = match sub {
                Some(sub) => coerce(sub, value)?,
                None => coerce_item(attribute, value)?,
            };
            for &i in &matching {
                match (sub, &mut items[i], &new) {
                    (Some(sub), Value::Object(item), new) => {
                        let sub_key = canonical_key(item, sub.name);
                        item.insert(sub_key, new.clone());
                    }
                    (None, Value::Object(item), Value::Object(fields)) => {
                        item.extend(fields.clone());
                    }
                    (_, slot, new) => *slot = new.clone(),
                }
            }
            Ok(())
        }
    };
    if !items.is_empty() {
        target.insert(key.to_owned(), Value::Array(items));
    }
    outcome
}

fn must_be_object(attribute: &Attribute) -> Result<(), PatchError> {
    Err(PatchError::InvalidValue(format!(
        "a value of {} must be an object",
        attribute.name
    )))
}

fn remove_matching(items: &mut Vec<Value>, matching: &[usize], sub: Option<&Attribute>) {
    match sub {
        Some(sub) => {
            for &i in matching {
                if let Value::Object(item) = &mut items[i] {
                    item.retain(|k, _| !k.eq_ignore_ascii_case(sub.name));
                }
            }
        }
        None => {
            let mut i = 0;
            items.retain(|_| {
                let keep = !matching.contains(&i);
                i += 1;
                keep
            });
        }
    }
}

/// The `attr eq "x"` terms of a filter joined by `and`, as the fields of a new value.
fn equalities(filter: &Filter, attribute: &Attribute, into: &mut Map<String, Value>) {
    match filter {
        Filter::Compare(path, CompareOp::Eq, value) if path.sub_attr.is_none() => {
            if let Some(sub) = attribute.sub(&path.attr) {
                let value = match value {
                    CompValue::Str(s) => Value::String(s.clone()),
                    CompValue::Bool(b) => Value::Bool(*b),
                    CompValue::Number(n) => serde_json::from_str(n).unwrap_or(Value::Null),
                    CompValue::Null => return,
                };
                into.insert(sub.name.to_owned(), value);
            }
        }
        Filter::And(a, b) => {
            equalities(a, attribute, into);
            equalities(b, attribute, into);
        }
        _ => {}
    }
}

/// The values of a multi-valued attribute from an operation's value: an array, or one
/// value standing for itself.
fn as_items(attribute: &Attribute, value: &Value) -> Result<Vec<Value>, PatchError> {
    match value {
        Value::Array(items) => items.iter().map(|v| coerce_item(attribute, v)).collect(),
        one => Ok(vec![coerce_item(attribute, one)?]),
    }
}

/// Two values of a multi-valued attribute are the same value when their `value`
/// sub-attributes are (compared case-insensitively unless case-exact), else when equal.
fn same_item(attribute: &Attribute, a: &Value, b: &Value) -> bool {
    let value_of = |v: &Value| v.as_object().and_then(|o| get_ci(o, "value")).cloned();
    match (value_of(a), value_of(b)) {
        (Some(Value::String(x)), Some(Value::String(y))) => {
            let case_exact = attribute.sub("value").is_some_and(|s| s.case_exact);
            if case_exact {
                x == y
            } else {
                x.eq_ignore_ascii_case(&y)
            }
        }
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// One value of the attribute (an element, for a multi-valued one).
fn coerce_item(attribute: &Attribute, value: &Value) -> Result<Value, PatchError> {
    coerce(
        &Attribute {
            multi_valued: false,
            ..*attribute
        },
        value,
    )
}

/// Checks a value against its attribute, coercing what providers send loosely: `"True"`
/// and `"False"` for booleans, sub-attribute names in any case.
fn coerce(attribute: &Attribute, value: &Value) -> Result<Value, PatchError> {
    let wrong = |what: &str| {
        PatchError::InvalidValue(format!("{} must be {what}, not {value}", attribute.name))
    };
    if attribute.multi_valued {
        return Ok(Value::Array(as_items(attribute, value)?));
    }
    match (attribute.kind, value) {
        (_, Value::Null) => Ok(Value::Null),
        (Kind::String | Kind::DateTime | Kind::Reference, Value::String(_))
        | (Kind::Boolean, Value::Bool(_)) => Ok(value.clone()),
        (Kind::String | Kind::DateTime | Kind::Reference, _) => Err(wrong("a string")),
        (Kind::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("true") => {
            Ok(Value::Bool(true))
        }
        (Kind::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("false") => {
            Ok(Value::Bool(false))
        }
        (Kind::Boolean, _) => Err(wrong("true or false")),
        (Kind::Complex, Value::Object(fields)) => {
            let mut out = Map::new();
            for (name, field) in fields {
                let sub = attribute.sub(name).ok_or_else(|| {
                    PatchError::InvalidPath(format!(
                        "{} has no sub-attribute {name:?}",
                        attribute.name
                    ))
                })?;
                out.insert(sub.name.to_owned(), coerce(sub, field)?);
            }
            Ok(Value::Object(out))
        }
        (Kind::Complex, _) => Err(wrong("an object")),
    }
}

/// Whether one value of a multi-valued attribute matches a value filter.
pub fn matches(filter: &Filter, item: &Value, attribute: &Attribute) -> bool {
    match filter {
        Filter::And(a, b) => matches(a, item, attribute) && matches(b, item, attribute),
        Filter::Or(a, b) => matches(a, item, attribute) || matches(b, item, attribute),
        Filter::Not(inner) => !matches(inner, item, attribute),
        Filter::Present(path) => {
            field(item, path).is_some_and(|v| !v.is_null() && v != &Value::String(String::new()))
        }
        Filter::Compare(path, op, expected) => {
            let case_exact = attribute.sub(&path.attr).is_some_and(|s| s.case_exact);
            compare(field(item, path), *op, expected, case_exact)
        }
        Filter::Any(..) => false,
    }
}

/// The sub-attribute a value filter names, within one value (a primitive value stands for
/// its own `value`).
fn field<'a>(item: &'a Value, path: &AttrPath) -> Option<&'a Value> {
    match item {
        Value::Object(object) => get_ci(object, &path.attr),
        primitive if path.attr.eq_ignore_ascii_case("value") => Some(primitive),
        _ => None,
    }
}

fn compare(actual: Option<&Value>, op: CompareOp, expected: &CompValue, case_exact: bool) -> bool {
    let fold = |s: &str| {
        if case_exact {
            s.to_owned()
        } else {
            s.to_lowercase()
        }
    };
    match (actual, expected) {
        (None | Some(Value::Null), CompValue::Null) => op == CompareOp::Eq,
        (_, CompValue::Null) => op == CompareOp::Ne,
        (Some(Value::String(a)), CompValue::Str(b)) => {
            let (a, b) = (fold(a), fold(b));
            match op {
                CompareOp::Eq => a == b,
                CompareOp::Ne => a != b,
                CompareOp::Co => a.contains(&b),
                CompareOp::Sw => a.starts_with(&b),
                CompareOp::Ew => a.ends_with(&b),
                CompareOp::Gt => a > b,
                CompareOp::Ge => a >= b,
                CompareOp::Lt => a < b,
                CompareOp::Le => a <= b,
            }
        }
        (Some(Value::Bool(a)), CompValue::Bool(b)) => match op {
            CompareOp::Eq => a == b,
            CompareOp::Ne => a != b,
            _ => false,
        },
        (Some(Value::Number(a)), CompValue::Number(b)) => {
            let (Some(a), Ok(b)) = (a.as_f64(), b.parse::<f64>()) else {
                return false;
            };
            match op {
                CompareOp::Eq => a == b,
                CompareOp::Ne => a != b,
                CompareOp::Gt => a > b,
                CompareOp::Ge => a >= b,
                CompareOp::Lt => a < b,
                CompareOp::Le => a <= b,
                CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
            }
        }
        (None, _) => op == CompareOp::Ne,
        _ => false,
    }
}

#[cfg(test)]
mod tests;
