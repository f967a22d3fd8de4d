//! The PATCH engine against RFC 7644 §3.5.2's examples and the shapes Okta and Microsoft
//! Entra ID send (SPEC §8), table by table.

use serde_json::json;

use super::*;

const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const EXT_URN: &str = "urn:ietf:params:scim:schemas:extension:staffroom:2.0:User";
const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

const MULTI_VALUE: &[Attribute] = &[
    Attribute::string("value"),
    Attribute::string("type"),
    Attribute::string("display"),
    Attribute::boolean("primary"),
];
const NAME: &[Attribute] = &[
    Attribute::string("givenName"),
    Attribute::string("familyName"),
    Attribute::string("formatted"),
];
const USER: ResourceSchema = ResourceSchema {
    core_urn: USER_URN,
    attributes: &[
        Attribute::string("id").read_only().case_exact(),
        Attribute::string("userName"),
        Attribute::string("externalId").case_exact(),
        Attribute::complex("name", NAME),
        Attribute::string("title"),
        Attribute::string("nickname"),
        Attribute::string("userType"),
        Attribute::boolean("active"),
        Attribute::complex("emails", MULTI_VALUE).multi(),
        Attribute::string("password"),
    ],
    extensions: &[(
        EXT_URN,
        &[
            Attribute::string("profession"),
            Attribute::string("permissions").multi(),
            Attribute::string("defaultClinic"),
        ],
    )],
};
const MEMBER: &[Attribute] = &[
    Attribute::string("value").case_exact(),
    Attribute::string("display"),
    Attribute::string("$ref"),
];
const GROUP: ResourceSchema = ResourceSchema {
    core_urn: GROUP_URN,
    attributes: &[
        Attribute::string("id").read_only().case_exact(),
        Attribute::string("displayName"),
        Attribute::complex("members", MEMBER).multi(),
    ],
    extensions: &[],
};

fn user() -> Value {
    json!({
        "schemas": [USER_URN],
        "id": "u-1",
        "userName": "ada@example.com",
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "active": true,
        "emails": [{"value": "ada@example.com", "type": "work", "primary": true}],
    })
}

fn group() -> Value {
    json!({
        "schemas": [GROUP_URN],
        "id": "g-1",
        "displayName": "North Clinic",
        "members": [{"value": "u-1"}, {"value": "u-2"}],
    })
}

fn patch(schema: &ResourceSchema, resource: Value, operations: Value) -> Result<Value, PatchError> {
    let body = json!({"schemas": [PATCH_OP_URN], "Operations": operations});
    let ops = parse_request(&body)?;
    let Value::Object(mut resource) = resource else {
        panic!("a resource is an object");
    };
    apply(&mut resource, &ops, schema)?;
    Ok(Value::Object(resource))
}

/// RFC 7644 §3.5.2.1–3 and the group pushes of Okta and Entra ID.
#[test]
fn group_membership_changes() {
    let cases = [
        (
            "RFC: add members",
            json!([{"op": "add", "path": "members", "value": [{"display": "Babs", "value": "u-3"}]}]),
            json!([{"value": "u-1"}, {"value": "u-2"}, {"display": "Babs", "value": "u-3"}]),
        ),
        (
            "add an existing member changes nothing",
            json!([{"op": "add", "path": "members", "value": [{"value": "u-2"}]}]),
            json!([{"value": "u-1"}, {"value": "u-2"}]),
        ),
        (
            "RFC: remove one member by a value filter",
            json!([{"op": "remove", "path": "members[value eq \"u-1\"]"}]),
            json!([{"value": "u-2"}]),
        ),
        (
            "Okta: remove one, add another",
            json!([
                {"op": "remove", "path": "members[value eq \"u-2\"]"},
                {"op": "add", "path": "members", "value": [{"value": "u-9", "display": "Nine"}]},
            ]),
            json!([{"value": "u-1"}, {"value": "u-9", "display": "Nine"}]),
        ),
        (
            "Entra ID: Remove with the values to remove",
            json!([{"op": "Remove", "path": "members", "value": [{"value": "u-1"}]}]),
            json!([{"value": "u-2"}]),
        ),
        (
            "Entra ID: Add in capitals",
            json!([{"op": "Add", "path": "members", "value": [{"value": "u-5"}]}]),
            json!([{"value": "u-1"}, {"value": "u-2"}, {"value": "u-5"}]),
        ),
        (
            "RFC: replace all members",
            json!([{"op": "replace", "path": "members", "value": [{"value": "u-7"}]}]),
            json!([{"value": "u-7"}]),
        ),
    ];
    for (name, operations, members) in cases {
        let patched = patch(&GROUP, group(), operations).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(patched["members"], members, "{name}");
    }
    let removed = patch(
        &GROUP,
        group(),
        json!([{"op": "remove", "path": "members"}]),
    )
    .unwrap();
    assert!(removed.get("members").is_none(), "RFC: remove every member");
}

/// Okta renames a group with a path-less replace of `{id, displayName}`: the id is the
/// one the group has, so it is no change.
#[test]
fn okta_renames_a_group_with_its_own_id() {
    let renamed = patch(
        &GROUP,
        group(),
        json!([{"op": "replace", "value": {"id": "g-1", "displayName": "South Clinic"}}]),
    )
    .unwrap();
    assert_eq!(renamed["displayName"], "South Clinic");
    assert_eq!(renamed["id"], "g-1");
    let refused = patch(
        &GROUP,
        group(),
        json!([{"op": "replace", "value": {"id": "g-2"}}]),
    );
    assert_eq!(refused.unwrap_err().scim_type(), "mutability");
}

#[test]
fn user_changes() {
    let cases = [
        (
            "Okta: deactivate with a path-less replace",
            json!([{"op": "replace", "value": {"active": false}}]),
            "/active",
            json!(false),
        ),
        (
            "Entra ID: booleans as strings",
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
            "/active",
            json!(false),
        ),
        (
            "Entra ID: path-less dotted keys",
            json!([{"op": "Replace", "value": {"name.givenName": "Augusta", "name.familyName": "King"}}]),
            "/name",
            json!({"givenName": "Augusta", "familyName": "King"}),
        ),
        (
            "a sub-attribute by path",
            json!([{"op": "replace", "path": "name.familyName", "value": "King"}]),
            "/name",
            json!({"givenName": "Ada", "familyName": "King"}),
        ),
        (
            "attribute names in any case",
            json!([{"op": "replace", "path": "NAME.GIVENNAME", "value": "Augusta"}]),
            "/name/givenName",
            json!("Augusta"),
        ),
        (
            "RFC: path-less add of several attributes",
            json!([{"op": "add", "value": {"emails": [{"value": "babs@example.com", "type": "home"}], "nickname": "Babs"}}]),
            "/emails",
            json!([
                {"value": "ada@example.com", "type": "work", "primary": true},
                {"value": "babs@example.com", "type": "home"},
            ]),
        ),
        (
            "replace the value of the work email",
            json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "ada@new.example"}]),
            "/emails",
            json!([{"value": "ada@new.example", "type": "work", "primary": true}]),
        ),
        (
            "Entra ID: replace on a filtered path that matches nothing adds",
            json!([{"op": "replace", "path": "emails[type eq \"home\"].value", "value": "ada@home.example"}]),
            "/emails",
            json!([
                {"value": "ada@example.com", "type": "work", "primary": true},
                {"type": "home", "value": "ada@home.example"},
            ]),
        ),
        (
            "remove a sub-attribute of the matching values",
            json!([{"op": "remove", "path": "emails[type eq \"work\"].primary"}]),
            "/emails",
            json!([{"value": "ada@example.com", "type": "work"}]),
        ),
        (
            "an extension attribute by its qualified path",
            json!([{"op": "replace", "path": format!("{EXT_URN}:profession"), "value": "physiotherapist"}]),
            &format!("/{EXT_URN}"),
            json!({"profession": "physiotherapist"}),
        ),
        (
            "an extension attribute in a path-less value, under the extension's URN",
            json!([{"op": "replace", "value": {EXT_URN: {"defaultClinic": "c-1", "permissions": ["admin"]}}}]),
            &format!("/{EXT_URN}"),
            json!({"defaultClinic": "c-1", "permissions": ["admin"]}),
        ),
        (
            "an extension attribute as a qualified key of a path-less value",
            json!([{"op": "add", "value": {format!("{EXT_URN}:profession"): "gp"}}]),
            &format!("/{EXT_URN}/profession"),
            json!("gp"),
        ),
        (
            "the extension as a whole, by its URN as the path",
            json!([{"op": "add", "path": EXT_URN, "value": {"schemas": [EXT_URN], "profession": "gp", "permissions": ["admin"]}}]),
            &format!("/{EXT_URN}"),
            json!({"profession": "gp", "permissions": ["admin"]}),
        ),
        (
            "remove the extension's attributes by its URN as the path",
            json!([
                {"op": "replace", "path": EXT_URN, "value": {"profession": "gp"}},
                {"op": "remove", "path": EXT_URN.to_ascii_lowercase()},
            ]),
            &format!("/{EXT_URN}/profession"),
            Value::Null,
        ),
        (
            "remove an attribute",
            json!([{"op": "remove", "path": "name"}]),
            "/name",
            Value::Null,
        ),
    ];
    for (name, operations, pointer, expected) in cases {
        let patched = patch(&USER, user(), operations).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            patched.pointer(pointer).cloned().unwrap_or(Value::Null),
            expected,
            "{name}: {patched}"
        );
    }
}

#[test]
fn refusals_carry_their_scim_type() {
    let cases = [
        (
            "remove without a path",
            json!([{"op": "remove"}]),
            "noTarget",
        ),
        (
            "remove through a filter that matches nothing",
            json!([{"op": "remove", "path": "emails[type eq \"home\"]"}]),
            "noTarget",
        ),
        (
            "an unknown op",
            json!([{"op": "merge", "path": "title", "value": "x"}]),
            "invalidSyntax",
        ),
        (
            "add without a value",
            json!([{"op": "add", "path": "title"}]),
            "invalidSyntax",
        ),
        (
            "an unknown attribute",
            json!([{"op": "replace", "path": "shoeSize", "value": "9"}]),
            "invalidPath",
        ),
        (
            "a path that does not parse",
            json!([{"op": "replace", "path": "emails[type eq", "value": "x"}]),
            "invalidPath",
        ),
        (
            "an unknown schema",
            json!([{"op": "replace", "path": "urn:x:y:title", "value": "x"}]),
            "invalidPath",
        ),
        (
            "an unknown sub-attribute",
            json!([{"op": "replace", "path": "name.middle", "value": "x"}]),
            "invalidPath",
        ),
        (
            "a sub-attribute of a multi-valued attribute without a filter",
            json!([{"op": "replace", "path": "emails.value", "value": "x"}]),
            "invalidPath",
        ),
        (
            "a filter on a single-valued attribute",
            json!([{"op": "replace", "path": "title[value eq \"x\"]", "value": "x"}]),
            "invalidPath",
        ),
        (
            "a boolean that is not one",
            json!([{"op": "replace", "path": "active", "value": "maybe"}]),
            "invalidValue",
        ),
        (
            "a string that is a number",
            json!([{"op": "replace", "path": "title", "value": 7}]),
            "invalidValue",
        ),
        (
            "a path-less value that is not an object",
            json!([{"op": "replace", "value": "x"}]),
            "invalidValue",
        ),
        (
            "the id",
            json!([{"op": "replace", "path": "id", "value": "u-2"}]),
            "mutability",
        ),
        (
            "removing the id",
            json!([{"op": "remove", "path": "id"}]),
            "mutability",
        ),
    ];
    for (name, operations, scim_type) in cases {
        let refused = patch(&USER, user(), operations).expect_err(name);
        assert_eq!(refused.scim_type(), scim_type, "{name}: {refused}");
    }
}

#[test]
fn a_request_is_a_patch_op_message() {
    for body in [
        json!([]),
        json!({"Operations": []}),
        json!({"schemas": ["urn:x"], "Operations": []}),
        json!({"schemas": [PATCH_OP_URN], "Operations": {}}),
        json!({"schemas": [PATCH_OP_URN], "Operations": [7]}),
        json!({"schemas": [PATCH_OP_URN], "Operations": [{"op": "add", "path": 3, "value": 1}]}),
    ] {
        assert_eq!(
            parse_request(&body).unwrap_err().scim_type(),
            "invalidSyntax",
            "{body}"
        );
    }
    let lower = json!({"schemas": [PATCH_OP_URN], "operations": [{"OP": "ADD", "Path": "title", "Value": "Dr"}]});
    let ops = parse_request(&lower).unwrap();
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0].op, OpKind::Add);
    assert_eq!(ops[0].path, Some(AttrPath::new("title", None)));
}

#[test]
fn value_filters_match_like_the_rfc_says() {
    let email = json!({"value": "Ada@Example.com", "type": "work", "primary": true});
    let emails = Attribute::complex("emails", MULTI_VALUE).multi();
    let test = |filter: &str| {
        let parsed = crate::filter::parse_filter(filter).unwrap();
        matches(&parsed, &email, &emails)
    };
    assert!(
        test(r#"type eq "WORK""#),
        "case-insensitive unless case-exact"
    );
    assert!(test(r#"value ew "example.com""#));
    assert!(test(r#"value sw "ada@""#));
    assert!(test(r#"value co "@exa""#));
    assert!(test("primary eq true"));
    assert!(test(r#"type eq "work" and not (primary eq false)"#));
    assert!(test(r#"type eq "home" or value pr"#));
    assert!(test("display eq null"));
    assert!(test(r#"display ne "x""#));
    assert!(!test("display pr"));
    assert!(!test(r#"type ne "work""#));
    assert!(!test(r#"type gt "x""#));

    let members = Attribute::complex("members", MEMBER).multi();
    let member = json!({"value": "U-1"});
    let parsed = crate::filter::parse_filter(r#"value eq "u-1""#).unwrap();
    assert!(
        !matches(&parsed, &member, &members),
        "member ids are case-exact"
    );
}

/// The shapes of SPEC §8 against Staffroom's own User and Group schemas.
#[test]
fn the_providers_shapes_fit_staffroom_schemas() {
    use crate::schema::{GROUP as STAFF_GROUP, STAFFROOM_USER_URN, USER as STAFF_USER};
    let patched = patch(
        &STAFF_USER,
        user(),
        json!([
            {"op": "Replace", "value": {"active": "False", "name.givenName": "Augusta", "title": "Dr"}},
            {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "augusta@example.com"},
            {"op": "add", "path": format!("{STAFFROOM_USER_URN}:permissions"), "value": ["clinic_admin"]},
            {"op": "replace", "path": "password", "value": "a long passphrase"},
        ]),
    )
    .unwrap();
    assert_eq!(patched["active"], false);
    assert_eq!(patched["name"]["givenName"], "Augusta");
    assert_eq!(patched["emails"][0]["value"], "augusta@example.com");
    assert_eq!(
        patched[STAFFROOM_USER_URN]["permissions"],
        json!(["clinic_admin"])
    );
    assert_eq!(patched["password"], "a long passphrase");
    let refused = patch(
        &STAFF_USER,
        user(),
        json!([{"op": "add", "path": "groups", "value": [{"value": "c-1"}]}]),
    );
    assert_eq!(
        refused.unwrap_err().scim_type(),
        "mutability",
        "groups change through Groups"
    );

    let pushed = patch(
        &STAFF_GROUP,
        group(),
        json!([
            {"op": "remove", "path": "members[value eq \"u-1\"]"},
            {"op": "add", "path": "members", "value": [{"value": "u-3"}]},
            {"op": "replace", "value": {"id": "g-1", "displayName": "East Clinic"}},
        ]),
    )
    .unwrap();
    assert_eq!(
        pushed["members"],
        json!([{"value": "u-2"}, {"value": "u-3"}])
    );
    assert_eq!(pushed["displayName"], "East Clinic");
}

/// A member added by its `$ref` (immutable: set with the value it is added with), a default
/// clinic replaced as a reference, a Group's `externalId`: Staffroom's schemas take them.
#[test]
fn references_and_a_groups_external_id_patch_as_the_schemas_say() {
    use crate::schema::{GROUP as STAFF_GROUP, STAFFROOM_USER_URN, USER as STAFF_USER};
    let pushed = patch(
        &STAFF_GROUP,
        group(),
        json!([
            {"op": "add", "path": "members", "value": [{"$ref": "https://h/scim/v2/Users/u-3", "type": "User"}]},
            {"op": "add", "path": "externalId", "value": "okta-g-1"},
        ]),
    )
    .unwrap();
    assert_eq!(
        pushed["members"][2],
        json!({"$ref": "https://h/scim/v2/Users/u-3", "type": "User"})
    );
    assert_eq!(pushed["externalId"], "okta-g-1");
    let moved = patch(
        &STAFF_USER,
        user(),
        json!([{"op": "replace", "path": format!("{STAFFROOM_USER_URN}:defaultClinic"), "value": {"value": "c-2"}}]),
    )
    .unwrap();
    assert_eq!(
        moved[STAFFROOM_USER_URN]["defaultClinic"],
        json!({"value": "c-2"})
    );
    let refused = patch(
        &STAFF_USER,
        user(),
        json!([{"op": "replace", "path": format!("{STAFFROOM_USER_URN}:defaultClinic"), "value": "c-2"}]),
    );
    assert_eq!(refused.unwrap_err().scim_type(), "invalidValue");
}

/// A user whose `userType`, `active` and extension attributes are required, as in
/// Staffroom's schema.
const REQUIRED_USER: ResourceSchema = ResourceSchema {
    core_urn: USER_URN,
    attributes: &[
        Attribute::string("id").read_only().case_exact(),
        Attribute::complex(
            "name",
            &[
                Attribute::string("givenName").required(),
                Attribute::string("familyName").required(),
            ],
        ),
        Attribute::string("title"),
        Attribute::string("userType").required(),
        Attribute::boolean("active").required(),
        Attribute::complex("emails", MULTI_VALUE).multi(),
    ],
    extensions: &[(
        EXT_URN,
        &[
            Attribute::string("profession").required(),
            Attribute::string("permissions").multi(),
        ],
    )],
};

#[test]
fn removing_a_required_attribute_is_a_mutability_error() {
    let resource = || {
        json!({
            "id": "u-1",
            "name": {"givenName": "Ada", "familyName": "Lovelace"},
            "title": "Dr",
            "userType": "Clinical",
            "active": true,
            EXT_URN: {"profession": "gp", "permissions": ["admin"]},
        })
    };
    for path in [
        "userType".to_owned(),
        "ACTIVE".to_owned(),
        "name.givenName".to_owned(),
        format!("{EXT_URN}:profession"),
        EXT_URN.to_owned(),
    ] {
        let refused = patch(
            &REQUIRED_USER,
            resource(),
            json!([{"op": "remove", "path": path}]),
        )
        .expect_err(&path);
        assert_eq!(refused.scim_type(), "mutability", "{path}: {refused}");
        assert!(refused.detail().contains("required"), "{path}: {refused}");
    }
    let patched = patch(
        &REQUIRED_USER,
        resource(),
        json!([
            {"op": "remove", "path": "title"},
            {"op": "remove", "path": format!("{EXT_URN}:permissions")},
        ]),
    )
    .expect("optional attributes are removed");
    assert!(patched.get("title").is_none(), "{patched}");
    assert!(patched[EXT_URN].get("permissions").is_none(), "{patched}");
    assert_eq!(patched[EXT_URN]["profession"], "gp", "{patched}");
}
