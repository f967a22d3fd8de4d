//! Reading SCIM User bodies (`user_input`: userName and emails, references, booleans as
//! strings, refused values, an Okta create) and projecting resources (`attributes`,
//! `excludedAttributes`, composed sub-attributes).

use super::*;

const BASE: &str = "https://h/scim/v2";

fn named(user_name: &str, emails: Value) -> Value {
    json!({"userName": user_name, "name": {"givenName": "A", "familyName": "B"}, "emails": emails})
}

#[test]
fn a_user_name_that_is_the_email_is_the_login_and_another_is_kept_beside_it() {
    let input = user_input(&named("ada@example.com", Value::Null), BASE).unwrap();
    assert_eq!(
        (input.email.as_str(), input.user_name),
        ("ada@example.com", None)
    );
    let same = named("Ada@example.com", json!([{"value": "ADA@example.com"}]));
    let input = user_input(&same, BASE).unwrap();
    assert_eq!(
        (input.email.as_str(), input.user_name),
        ("Ada@example.com", None)
    );
    let other =
        json!([{"value": "w@x.org", "type": "work"}, {"value": "p@x.org", "primary": true}]);
    let input = user_input(&named("ada@example.com", other), BASE).unwrap();
    assert_eq!(input.email.as_str(), "p@x.org");
    assert_eq!(input.user_name.unwrap().as_str(), "ada@example.com");
    let work = json!([{"value": "h@x.org", "type": "home"}, {"value": "w@x.org", "type": "work"}]);
    let input = user_input(&named("u-1", work), BASE).unwrap();
    assert_eq!(input.email.as_str(), "w@x.org");
    assert_eq!(input.user_name.unwrap().as_str(), "u-1");
    let input = user_input(
        &named("u-1", json!([{"value": "a@x.org"}, {"value": "b@x.org"}])),
        BASE,
    )
    .unwrap();
    assert_eq!(input.email.as_str(), "a@x.org");
    let e = user_input(&named("u-1", json!([{"value": "not an address"}])), BASE).unwrap_err();
    assert!(e.detail.contains("emails.value"), "{}", e.detail);
}

#[test]
fn a_reference_names_its_resource_by_value_or_by_this_servers_url() {
    let group =
        |members: Value| group_input(&json!({"displayName": "North", "members": members}), BASE);
    let id = UserId::new();
    let by_ref = group(json!([{"$ref": format!("{BASE}/Users/{id}")}])).unwrap();
    assert_eq!(by_ref.members, Some(vec![id]));
    let both = group(
        json!([{"value": id.to_string(), "$ref": format!("{BASE}/Users/{id}"), "type": "User"}]),
    );
    assert_eq!(both.unwrap().members, Some(vec![id]));
    let other = UserId::new();
    for wrong in [
        json!([{"value": other.to_string(), "$ref": format!("{BASE}/Users/{id}")}]),
        json!([{"$ref": format!("https://elsewhere/scim/v2/Users/{id}")}]),
        json!([{"$ref": format!("{BASE}/Groups/{id}")}]),
        json!([{"display": "nobody"}]),
    ] {
        let e = group(wrong.clone()).unwrap_err();
        assert_eq!(
            e.scim_type.map(ScimType::as_str),
            Some("invalidValue"),
            "{wrong}"
        );
        assert!(e.detail.contains("members"), "{wrong}: {}", e.detail);
    }
    let clinic = ClinicId::new();
    let mut body = named("a@x.org", Value::Null);
    body[STAFFROOM_USER_URN] =
        json!({"defaultClinic": {"$ref": format!("{BASE}/Groups/{clinic}")}});
    assert_eq!(
        user_input(&body, BASE).unwrap().default_clinic,
        Some(clinic)
    );
    body[STAFFROOM_USER_URN] = json!({"defaultClinic": clinic.to_string()});
    let e = user_input(&body, BASE).unwrap_err();
    assert!(e.detail.contains("defaultClinic"), "{}", e.detail);
}

#[test]
fn reads_an_okta_create_body() {
    let body = json!({
        "schemas": [USER_URN],
        "userName": "Ada@Example.com",
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "emails": [{"primary": true, "value": "ada@example.com", "type": "work"}],
        "displayName": "Ada Lovelace",
        "locale": "en-US",
        "externalId": "00u1",
        "groups": [],
        "password": "correct horse battery",
        "active": true
    });
    let input = user_input(&body, BASE).unwrap();
    assert_eq!(input.email.as_str(), "Ada@Example.com");
    assert_eq!(input.external_id, Some(Some("00u1".to_owned())));
    assert!(input.active && input.password.is_some());
    assert_eq!(input.user_type, UserType::NonClinical);
}

#[test]
fn refuses_bad_values_naming_them() {
    let body = json!({"userName": "x@example.com", "name": {"givenName": "A", "familyName": "B"}, "userType": "Robot"});
    let e = user_input(&body, BASE).unwrap_err();
    assert_eq!(e.scim_type.map(ScimType::as_str), Some("invalidValue"));
    assert!(e.detail.contains("userType"));
    let e = user_input(
        &json!({"userName": "nope", "name": {"givenName": "A", "familyName": "B"}}),
        BASE,
    )
    .unwrap_err();
    assert!(
        e.detail.contains("userName") && e.detail.contains("emails"),
        "{}",
        e.detail
    );
    let e = user_input(&json!({"userName": "x@example.com"}), BASE).unwrap_err();
    assert!(e.detail.contains("name"), "{}", e.detail);
}

#[test]
fn the_kept_email_is_a_work_address_whose_primary_is_kept_as_sent() {
    let email = |entry: Value| user_input(&named("ada@example.com", json!([entry])), BASE);
    let input =
        email(json!({"value": "ada@example.com", "type": "work", "primary": false})).unwrap();
    assert_eq!(input.email_primary, Some(false));
    let input = email(json!({"value": "ada@example.com", "type": "Work"})).unwrap();
    assert_eq!(input.email_primary, None);
    assert_eq!(
        email(json!({"value": "ada@example.com", "primary": "True"}))
            .unwrap()
            .email_primary,
        Some(true)
    );
    for refused in [
        json!({"value": "ada@example.com", "type": "home"}),
        json!({"value": "ada@example.com", "type": 7}),
    ] {
        let e = email(refused.clone()).unwrap_err();
        assert_eq!(
            e.scim_type.map(ScimType::as_str),
            Some("invalidValue"),
            "{refused}"
        );
        assert!(e.detail.contains("emails.type"), "{refused}: {}", e.detail);
    }
    let e = email(json!({"value": "ada@example.com", "primary": "sometimes"})).unwrap_err();
    assert!(e.detail.contains("emails.primary"), "{}", e.detail);
}

#[test]
fn reads_booleans_sent_as_strings() {
    assert!(!boolean(&json!("False"), "active").unwrap());
    assert!(boolean(&json!("true"), "active").unwrap());
    assert!(boolean(&json!(1), "active").is_err());
}

#[test]
fn projects_attributes_and_excluded_attributes() {
    let resource = json!({
        "schemas": [USER_URN], "id": "1", "userName": "a@b.c",
        "name": {"givenName": "A", "familyName": "B"}, "active": true,
        "members": [{"value": "x", "display": "X"}],
    });
    let only = Projection::new(Some("userName,name.familyName"), None).apply(resource.clone());
    assert_eq!(
        only,
        json!({"schemas": [USER_URN], "id": "1", "userName": "a@b.c", "name": {"familyName": "B"}})
    );
    let without = Projection::new(None, Some("members,name.givenName")).apply(resource);
    assert!(without.get("members").is_none());
    assert_eq!(without["name"], json!({"familyName": "B"}));
    assert!(Projection::new(None, Some("members")).excludes("members"));
    assert!(Projection::new(Some("displayName"), None).excludes("members"));
    assert!(
        !Projection::new(
            Some("urn:ietf:params:scim:schemas:core:2.0:Group:members"),
            None
        )
        .excludes("members")
    );
}

#[test]
fn composed_sub_attributes_are_returned_only_when_asked_for() {
    let user = json!({
        "schemas": [USER_URN, STAFFROOM_USER_URN], "id": "1", "displayName": "A B",
        "name": {"givenName": "A", "familyName": "B", "formatted": "A B"},
        STAFFROOM_USER_URN: {"profession": "gp", "defaultClinic": {"value": "c", "display": "North"}},
    });
    let plain = Projection::default().apply(user.clone());
    assert_eq!(plain["name"], json!({"givenName": "A", "familyName": "B"}));
    assert_eq!(
        plain[STAFFROOM_USER_URN]["defaultClinic"],
        json!({"value": "c"})
    );
    assert_eq!(
        plain["displayName"], "A B",
        "displayName is returned by default"
    );
    let asked = Projection::new(
        Some(&format!(
            "name.formatted,{STAFFROOM_USER_URN}:defaultClinic.display"
        )),
        None,
    )
    .apply(user);
    assert_eq!(asked["name"], json!({"formatted": "A B"}));
    assert_eq!(
        asked[STAFFROOM_USER_URN]["defaultClinic"]["display"],
        "North"
    );
    let group =
        json!({"schemas": [GROUP_URN], "id": "g", "members": [{"value": "x", "display": "X"}]});
    assert_eq!(
        Projection::default().apply(group.clone())["members"],
        json!([{"value": "x"}])
    );
    assert_eq!(
        Projection::new(Some("members.display"), None).apply(group)["members"],
        json!([{"display": "X"}])
    );
}
