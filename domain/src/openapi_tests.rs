//! Checks the OpenAPI schemas the `openapi` feature generates (`cargo test --features openapi`).

use serde_json::{Value, json};
use utoipa::PartialSchema;

use crate::*;

fn schema_of<T: PartialSchema>() -> Value {
    serde_json::to_value(T::schema()).unwrap()
}

#[test]
fn ids_are_uuid_strings() {
    let schema = schema_of::<UserId>();
    assert_eq!(schema["type"], "string");
    assert_eq!(schema["format"], "uuid");
}

#[test]
fn value_types_carry_their_bounds() {
    let email = schema_of::<Email>();
    assert_eq!(
        (email["type"].clone(), email["format"].clone()),
        (json!("string"), json!("email"))
    );
    assert_eq!(
        (email["minLength"].clone(), email["maxLength"].clone()),
        (json!(3), json!(254))
    );
    let name = schema_of::<PersonName>();
    assert_eq!(
        (name["minLength"].clone(), name["maxLength"].clone()),
        (json!(1), json!(100))
    );
    assert_eq!(schema_of::<EntityName>()["maxLength"], 100);
    let password = schema_of::<Password>();
    assert_eq!(password["format"], "password");
    assert_eq!(password["writeOnly"], true);
    assert_eq!(password["minLength"], 8);
}

#[test]
fn enums_list_their_wire_strings() {
    assert_eq!(
        schema_of::<UserType>()["enum"],
        json!(["clinical", "non_clinical"])
    );
    assert_eq!(schema_of::<Profession>()["enum"][13], "OTHER");
    assert_eq!(schema_of::<Permission>()["enum"][0], "site_admin");
    assert_eq!(schema_of::<PrincipalKind>()["enum"][3], "scim");
}

#[test]
fn plan_is_a_discriminated_union_of_named_plans() {
    let schema = schema_of::<LicencePlan>();
    assert_eq!(schema["discriminator"]["propertyName"], "plan");
    assert_eq!(
        schema["discriminator"]["mapping"]["solo"],
        "#/components/schemas/SoloPlan"
    );
    assert_eq!(
        schema["oneOf"],
        json!([
            {"$ref": "#/components/schemas/FlexPlan"},
            {"$ref": "#/components/schemas/SoloPlan"},
            {"$ref": "#/components/schemas/GroupPlan"},
        ])
    );
    let mut parts = Vec::new();
    <LicencePlan as utoipa::ToSchema>::schemas(&mut parts);
    let parts: std::collections::BTreeMap<String, Value> = parts
        .into_iter()
        .map(|(name, schema)| (name, serde_json::to_value(schema).unwrap()))
        .collect();
    assert_eq!(parts["FlexPlan"]["properties"]["plan"]["const"], "flex");
    assert_eq!(
        parts["GroupPlan"]["properties"]["licences"]["maximum"],
        100_000
    );
    assert_eq!(parts["SoloPlan"]["required"], json!(["plan"]));
    assert_eq!(parts["SoloPlan"]["title"], "SoloPlan");
}

#[test]
fn licence_error_schema_names_its_codes() {
    let text = schema_of::<LicenceError>().to_string();
    for code in [
        "licence_limit_reached",
        "solo_slot_taken",
        "plan_does_not_fit",
    ] {
        assert!(text.contains(code), "{code} missing from {text}");
    }
}
