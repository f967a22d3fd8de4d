//! Resource schemas (RFC 7643 §2, §7): one table of attributes per resource type, from which
//! the PATCH engine checks and coerces values and the discovery endpoints (`/Schemas`,
//! `/ResourceTypes`, `/ServiceProviderConfig`) are rendered, so they cannot disagree.

use serde_json::{Value, json};

/// What kind of value an attribute holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    String,
    Boolean,
    DateTime,
    Reference,
    /// An object of the listed sub-attributes.
    Complex,
}

impl Kind {
    const fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Boolean => "boolean",
            Self::DateTime => "dateTime",
            Self::Reference => "reference",
            Self::Complex => "complex",
        }
    }
}

/// Who may write an attribute (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadWrite,
    /// Set when the value is added, never changed in place (a member's or the default
    /// clinic's `$ref`: the reference names the resource its `value` names).
    Immutable,
    /// The server decides it (`id`, `meta`), or composes it from what it stores
    /// (`displayName`, `name.formatted`, `emails.type`): ignored on input (RFC 7643 §2.2); a
    /// PATCH of it may only repeat its value.
    ReadOnly,
    /// Written, never returned (`password`).
    WriteOnly,
}

impl Mutability {
    const fn as_str(self) -> &'static str {
        match self {
            Self::ReadWrite => "readWrite",
            Self::Immutable => "immutable",
            Self::ReadOnly => "readOnly",
            Self::WriteOnly => "writeOnly",
        }
    }
}

/// One attribute of a resource.
#[derive(Debug, Clone, Copy)]
pub struct Attribute {
    pub name: &'static str,
    pub kind: Kind,
    pub multi_valued: bool,
    pub mutability: Mutability,
    pub required: bool,
    /// Unique across the site (`uniqueness: server`).
    pub unique: bool,
    /// String comparisons are case-sensitive.
    pub case_exact: bool,
    /// The values the server knows, when the set is closed.
    pub canonical_values: &'static [&'static str],
    /// What a reference names (RFC 7643 §7 `referenceTypes`): resource types (`User`,
    /// `Group`) or `uri`.
    pub reference_types: &'static [&'static str],
    /// Returned only when a request names it in `attributes` (RFC 7643 §7 `returned:
    /// request`): the sub-attributes the server composes from values it already returns.
    pub on_request: bool,
    pub description: &'static str,
    pub sub_attributes: &'static [Attribute],
}

impl Attribute {
    /// A single-valued, optional, writable, case-insensitive string.
    pub const fn string(name: &'static str) -> Self {
        Self {
            name,
            kind: Kind::String,
            multi_valued: false,
            mutability: Mutability::ReadWrite,
            required: false,
            unique: false,
            case_exact: false,
            canonical_values: &[],
            reference_types: &[],
            on_request: false,
            description: "",
            sub_attributes: &[],
        }
    }

    pub const fn boolean(name: &'static str) -> Self {
        Self {
            kind: Kind::Boolean,
            ..Self::string(name)
        }
    }

    pub const fn date_time(name: &'static str) -> Self {
        Self {
            kind: Kind::DateTime,
            ..Self::string(name)
        }
    }

    /// A reference to a resource of one of `types` (or a `uri`).
    pub const fn reference(name: &'static str, types: &'static [&'static str]) -> Self {
        Self {
            kind: Kind::Reference,
            case_exact: true,
            reference_types: types,
            ..Self::string(name)
        }
    }

    pub const fn complex(name: &'static str, sub_attributes: &'static [Attribute]) -> Self {
        Self {
            kind: Kind::Complex,
            sub_attributes,
            ..Self::string(name)
        }
    }

    pub const fn multi(self) -> Self {
        Self {
            multi_valued: true,
            ..self
        }
    }

    pub const fn read_only(self) -> Self {
        Self {
            mutability: Mutability::ReadOnly,
            ..self
        }
    }

    pub const fn immutable(self) -> Self {
        Self {
            mutability: Mutability::Immutable,
            ..self
        }
    }

    pub const fn write_only(self) -> Self {
        Self {
            mutability: Mutability::WriteOnly,
            ..self
        }
    }

    pub const fn required(self) -> Self {
        Self {
            required: true,
            ..self
        }
    }

    /// Returned only when asked for by name (`returned: request`).
    pub const fn on_request(self) -> Self {
        Self {
            on_request: true,
            ..self
        }
    }

    pub const fn unique(self) -> Self {
        Self {
            unique: true,
            ..self
        }
    }

    pub const fn case_exact(self) -> Self {
        Self {
            case_exact: true,
            ..self
        }
    }

    pub const fn canonical(self, values: &'static [&'static str]) -> Self {
        Self {
            canonical_values: values,
            ..self
        }
    }

    pub const fn described(self, description: &'static str) -> Self {
        Self {
            description,
            ..self
        }
    }

    /// The sub-attribute called `name` (case-insensitively).
    pub fn sub(&self, name: &str) -> Option<&'static Attribute> {
        self.sub_attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// The attribute's RFC 7643 §7 description.
    pub fn document(&self) -> Value {
        let mut doc = json!({
            "name": self.name,
            "type": self.kind.as_str(),
            "multiValued": self.multi_valued,
            "description": self.description,
            "required": self.required,
            "mutability": self.mutability.as_str(),
            "returned": match self.mutability {
                Mutability::WriteOnly => "never",
                _ if self.name == "id" => "always",
                _ if self.on_request => "request",
                _ => "default",
            },
        });
        if matches!(self.kind, Kind::String | Kind::Reference) {
            doc["caseExact"] = json!(self.case_exact);
            doc["uniqueness"] = json!(if self.unique { "server" } else { "none" });
        }
        if !self.canonical_values.is_empty() {
            doc["canonicalValues"] = json!(self.canonical_values);
        }
        if self.kind == Kind::Reference {
            doc["referenceTypes"] = json!(self.reference_types);
        }
        if !self.sub_attributes.is_empty() {
            doc["subAttributes"] = Value::Array(
                self.sub_attributes
                    .iter()
                    .map(Attribute::document)
                    .collect(),
            );
        }
        doc
    }
}

/// A schema: its URN, name and attributes.
#[derive(Debug, Clone, Copy)]
pub struct Schema {
    pub urn: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub attributes: &'static [Attribute],
}

impl Schema {
    /// The schema's resource at `{base}/Schemas/{urn}` (RFC 7643 §7).
    pub fn document(&self, base: &str) -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "id": self.urn,
            "name": self.name,
            "description": self.description,
            "attributes": self.attributes.iter().map(Attribute::document).collect::<Vec<_>>(),
            "meta": {
                "resourceType": "Schema",
                "location": format!("{base}/Schemas/{}", self.urn),
            },
        })
    }
}

/// A resource type's attributes: its core schema's and each extension's (whose attributes
/// sit in an object under the extension's URN).
#[derive(Debug, Clone, Copy)]
pub struct ResourceSchema {
    pub core_urn: &'static str,
    pub attributes: &'static [Attribute],
    pub extensions: &'static [(&'static str, &'static [Attribute])],
}

impl ResourceSchema {
    /// The sub-attributes returned only on request (`returned: request`), as
    /// `(extension URN or None, attribute, sub-attribute)`.
    pub fn on_request(&self) -> Vec<(Option<&'static str>, &'static str, &'static str)> {
        let core = self.attributes.iter().map(|a| (None, a));
        let extended = self
            .extensions
            .iter()
            .flat_map(|(urn, attributes)| attributes.iter().map(move |a| (Some(*urn), a)));
        core.chain(extended)
            .flat_map(|(urn, a)| {
                a.sub_attributes
                    .iter()
                    .filter(|s| s.on_request)
                    .map(move |s| (urn, a.name, s.name))
            })
            .collect()
    }
}

/// The core User schema's URN.
pub const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// Staffroom's extension of User: profession, permissions, default clinic.
pub const STAFFROOM_USER_URN: &str = "urn:ietf:params:scim:schemas:extension:staffroom:2.0:User";
/// The core Group schema's URN (a group is a clinic).
pub const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

const META: Attribute = Attribute::complex(
    "meta",
    &[
        Attribute::string("resourceType").read_only().case_exact(),
        Attribute::date_time("created").read_only(),
        Attribute::date_time("lastModified").read_only(),
        Attribute::reference("location", &["uri"]).read_only(),
        Attribute::string("version").read_only().case_exact(),
    ],
)
.read_only()
.described("Resource metadata; `version` is the ETag.");

const ID: Attribute = Attribute::string("id")
    .read_only()
    .required()
    .unique()
    .case_exact()
    .described("Staffroom's id of the resource.");

const EXTERNAL_ID: Attribute = Attribute::string("externalId")
    .case_exact()
    .described("The identity provider's id of the resource.");

const USER_ATTRIBUTES: &[Attribute] = &[
    ID,
    EXTERNAL_ID,
    Attribute::string("userName").required().unique().described(
        "The user's login name at the identity provider: their email address, or another \
             name (then `emails` gives the email, which stays the Staffroom login). Unique in the \
             site across login names and emails, compared case-insensitively.",
    ),
    Attribute::complex(
        "name",
        &[
            Attribute::string("givenName")
                .required()
                .described("First name."),
            Attribute::string("familyName")
                .required()
                .described("Last name."),
            Attribute::string("formatted")
                .read_only()
                .on_request()
                .described(
                    "Given and family name, composed by the server; ignored on input; \
                     returned when asked for (`attributes=name.formatted`).",
                ),
        ],
    )
    .required()
    .described("The user's name."),
    Attribute::string("displayName")
        .read_only()
        .described("Given and family name, composed by the server; ignored on input."),
    Attribute::string("title").described("Title, such as Dr."),
    Attribute::string("userType")
        .canonical(&["Clinical", "Non-Clinical"])
        .required()
        .described(
            "Clinical users hold a clinical licence; others a non-clinical one. Every user has \
             one: a create or replace that leaves it out gets `Non-Clinical`; a PATCH cannot \
             remove it.",
        ),
    Attribute::boolean("active").required().described(
        "false: deactivated; the user stays readable. Every user has one: a create or replace \
         that leaves it out gets `true`; a PATCH cannot remove it.",
    ),
    Attribute::complex(
        "emails",
        &[
            Attribute::string("value")
                .required()
                .described("The address: the user's login email."),
            Attribute::string("type")
                .canonical(&["work"])
                .described("`work`, the only type taken: the address is the work login."),
            Attribute::boolean("primary").described(
                "Kept as sent and returned; `true` when never sent (a user has one address).",
            ),
        ],
    )
    .multi()
    .required()
    .described(
        "The user's one email address, their Staffroom login: every user has one. When \
         several are sent, the primary one is kept, else the work one, else the first. A body \
         whose userName is the email address may leave it out.",
    ),
    Attribute::complex(
        "groups",
        &[
            Attribute::string("value").read_only().case_exact(),
            Attribute::reference("$ref", &["Group"]).read_only(),
            Attribute::string("display").read_only(),
        ],
    )
    .multi()
    .read_only()
    .described("The clinics the user has access to (change them through Groups)."),
    Attribute::string("password")
        .write_only()
        .described("Becomes the user's login password; never returned."),
    META,
];

const STAFFROOM_USER_ATTRIBUTES: &[Attribute] = &[
    Attribute::string("profession").required().described(
        "The user's profession (GET /v1/professions). Every user has one: a create that leaves \
         it out gets the site's default; a PATCH cannot remove it.",
    ),
    Attribute::string("permissions")
        .multi()
        .described("The user's permissions."),
    Attribute::complex(
        "defaultClinic",
        &[
            Attribute::string("value")
                .case_exact()
                .described("The id of the default clinic (a Group id)."),
            Attribute::reference("$ref", &["Group"])
                .immutable()
                .described(
                    "The Group's URL; when sent without `value`, its id is the last segment.",
                ),
            Attribute::string("display")
                .read_only()
                .on_request()
                .described("The clinic's name; returned when asked for."),
        ],
    )
    .required()
    .described(
        "The user's default clinic, a reference to a Group (shaped like the enterprise \
         `manager`). It is one of the user's clinics: setting one the user has no access to \
         gives them access to it. Every user has one: a create that leaves it out (or sends \
         it empty) gets the site's default; a PATCH cannot remove it.",
    ),
];

/// A Group is a clinic: it keeps the identity provider's `externalId`; its members are the
/// users with access to it (clinics do not nest: members are Users).
const GROUP_ATTRIBUTES: &[Attribute] = &[
    ID,
    EXTERNAL_ID,
    Attribute::string("displayName")
        .required()
        .described("The clinic's name."),
    Attribute::complex(
        "members",
        &[
            Attribute::string("value")
                .case_exact()
                .described("A User id."),
            Attribute::reference("$ref", &["User"])
                .immutable()
                .described(
                    "The User's URL; when sent without `value`, its id is the last segment.",
                ),
            Attribute::string("display")
                .read_only()
                .on_request()
                .described("The user's given and family name; returned when asked for."),
            Attribute::string("type")
                .canonical(&["User"])
                .described("Always `User`: clinics do not nest."),
        ],
    )
    .multi()
    .described("The users with access to the clinic."),
    META,
];

/// The User resource as the PATCH engine sees it.
pub const USER: ResourceSchema = ResourceSchema {
    core_urn: USER_URN,
    attributes: USER_ATTRIBUTES,
    extensions: &[(STAFFROOM_USER_URN, STAFFROOM_USER_ATTRIBUTES)],
};

/// The Group resource (a clinic) as the PATCH engine sees it.
pub const GROUP: ResourceSchema = ResourceSchema {
    core_urn: GROUP_URN,
    attributes: GROUP_ATTRIBUTES,
    extensions: &[],
};

/// Every schema `/Schemas` lists, in order.
pub const SCHEMAS: [Schema; 3] = [
    Schema {
        urn: USER_URN,
        name: "User",
        description: "A Staffroom user of the site.",
        attributes: USER_ATTRIBUTES,
    },
    Schema {
        urn: STAFFROOM_USER_URN,
        name: "StaffroomUser",
        description: "What Staffroom adds to a user: profession, permissions, default clinic.",
        attributes: STAFFROOM_USER_ATTRIBUTES,
    },
    Schema {
        urn: GROUP_URN,
        name: "Group",
        description: "A clinic of the site; its members are the users with access to it.",
        attributes: GROUP_ATTRIBUTES,
    },
];

/// The resource types `/ResourceTypes` lists: `(id, document)`.
pub fn resource_types(base: &str) -> Vec<(&'static str, Value)> {
    let resource_type = |id: &str, endpoint: &str, schema: &str, extensions: Value| {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": id,
            "name": id,
            "endpoint": endpoint,
            "schema": schema,
            "schemaExtensions": extensions,
            "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/{id}")},
        })
    };
    vec![
        (
            "User",
            resource_type(
                "User",
                "/Users",
                USER_URN,
                json!([{"schema": STAFFROOM_USER_URN, "required": true}]),
            ),
        ),
        (
            "Group",
            resource_type("Group", "/Groups", GROUP_URN, json!([])),
        ),
    ]
}

/// `/ServiceProviderConfig` (RFC 7643 §5): what this server supports; `max_results` is the
/// largest `count` a list answers.
pub fn service_provider_config(base: &str, max_results: u32) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": format!("{base}/ServiceProviderConfig"),
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": max_results},
        "changePassword": {"supported": true},
        "sort": {"supported": true},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "A SCIM token of the site (POST /v1/scim-tokens) as a bearer token.",
            "primary": true,
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": format!("{base}/ServiceProviderConfig")},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(attributes: &[Attribute]) -> Vec<&str> {
        attributes.iter().map(|a| a.name).collect()
    }

    #[test]
    fn every_schema_documents_each_attribute_once_with_its_sub_attributes() {
        for schema in SCHEMAS {
            let doc = schema.document("http://x/scim/v2");
            assert_eq!(doc["id"], schema.urn);
            let listed: Vec<&str> = doc["attributes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["name"].as_str().unwrap())
                .collect();
            assert_eq!(listed, names(schema.attributes));
            let mut unique = listed.clone();
            unique.sort_unstable();
            unique.dedup();
            assert_eq!(unique.len(), listed.len(), "{}", schema.urn);
        }
    }

    #[test]
    fn user_name_is_unique_and_case_insensitive_and_password_is_never_returned() {
        let doc = SCHEMAS[0].document("http://x");
        let attribute = |name: &str| {
            doc["attributes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["name"] == name)
                .cloned()
                .unwrap()
        };
        assert_eq!(attribute("userName")["uniqueness"], "server");
        assert_eq!(attribute("userName")["caseExact"], false);
        assert_eq!(attribute("userName")["required"], true);
        assert_eq!(attribute("password")["returned"], "never");
        assert_eq!(attribute("password")["mutability"], "writeOnly");
        assert_eq!(attribute("id")["returned"], "always");
        assert_eq!(attribute("groups")["mutability"], "readOnly");
        assert_eq!(
            attribute("userType")["canonicalValues"],
            json!(["Clinical", "Non-Clinical"])
        );
        assert_eq!(attribute("name")["subAttributes"][0]["name"], "givenName");
    }

    /// The attribute at `path` (`name` or `name.sub`) of a schema's document.
    fn described(schema: &Schema, path: &str) -> Value {
        let doc = schema.document("http://x");
        let (top, sub) = path
            .split_once('.')
            .map_or((path, None), |(t, s)| (t, Some(s)));
        let find = |list: &Value, name: &str| {
            list.as_array()
                .unwrap()
                .iter()
                .find(|a| a["name"] == name)
                .cloned()
                .unwrap_or_else(|| panic!("{} has no {name}", schema.urn))
        };
        let attribute = find(&doc["attributes"], top);
        sub.map_or(attribute.clone(), |sub| {
            find(&attribute["subAttributes"], sub)
        })
    }

    #[test]
    fn what_the_server_composes_is_read_only() {
        for path in ["name.formatted", "displayName"] {
            assert_eq!(
                described(&SCHEMAS[0], path)["mutability"],
                "readOnly",
                "{path}"
            );
        }
        for path in ["emails.value", "emails.type", "emails.primary"] {
            assert_eq!(
                described(&SCHEMAS[0], path)["mutability"],
                "readWrite",
                "{path}"
            );
        }
        assert_eq!(
            described(&SCHEMAS[0], "emails.type")["canonicalValues"],
            json!(["work"])
        );
        assert_eq!(described(&SCHEMAS[0], "emails")["required"], true);
        assert_eq!(
            described(&SCHEMAS[1], "defaultClinic.display")["mutability"],
            "readOnly"
        );
        assert_eq!(
            described(&SCHEMAS[2], "members.display")["mutability"],
            "readOnly"
        );
    }

    #[test]
    fn what_every_user_has_is_required_and_composed_values_come_on_request() {
        for (schema, path) in [
            (&SCHEMAS[0], "userType"),
            (&SCHEMAS[0], "active"),
            (&SCHEMAS[1], "profession"),
            (&SCHEMAS[1], "defaultClinic"),
        ] {
            assert_eq!(described(schema, path)["required"], true, "{path}");
        }
        assert_eq!(described(&SCHEMAS[1], "permissions")["required"], false);
        let user = resource_types("https://x/scim/v2").remove(0).1;
        assert_eq!(user["schemaExtensions"][0]["required"], true);
        for (schema, path) in [
            (&SCHEMAS[0], "name.formatted"),
            (&SCHEMAS[1], "defaultClinic.display"),
            (&SCHEMAS[2], "members.display"),
        ] {
            assert_eq!(described(schema, path)["returned"], "request", "{path}");
        }
        assert_eq!(described(&SCHEMAS[0], "displayName")["returned"], "default");
        assert_eq!(
            USER.on_request(),
            vec![
                (None, "name", "formatted"),
                (Some(STAFFROOM_USER_URN), "defaultClinic", "display")
            ]
        );
        assert_eq!(GROUP.on_request(), vec![(None, "members", "display")]);
    }

    #[test]
    fn each_reference_names_what_it_references() {
        let members_ref = described(&SCHEMAS[2], "members.$ref");
        assert_eq!(members_ref["referenceTypes"], json!(["User"]));
        assert_eq!(members_ref["mutability"], "immutable");
        assert_eq!(
            described(&SCHEMAS[2], "members.type")["canonicalValues"],
            json!(["User"])
        );
        let default_ref = described(&SCHEMAS[1], "defaultClinic.$ref");
        assert_eq!(default_ref["referenceTypes"], json!(["Group"]));
        assert_eq!(default_ref["mutability"], "immutable");
        let default_value = described(&SCHEMAS[1], "defaultClinic.value");
        assert_eq!(default_value["mutability"], "readWrite");
        assert_eq!(described(&SCHEMAS[1], "defaultClinic")["type"], "complex");
        assert_eq!(
            described(&SCHEMAS[0], "groups.$ref")["referenceTypes"],
            json!(["Group"])
        );
        assert_eq!(
            described(&SCHEMAS[0], "meta.location")["referenceTypes"],
            json!(["uri"])
        );
    }

    #[test]
    fn a_group_keeps_its_external_id() {
        let external_id = described(&SCHEMAS[2], "externalId");
        assert_eq!(external_id["mutability"], "readWrite");
        assert_eq!(external_id["caseExact"], true);
    }

    #[test]
    fn resource_types_name_their_schemas_and_the_extension() {
        let types = resource_types("http://x/scim/v2");
        assert_eq!(
            types.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
            ["User", "Group"]
        );
        let user = &types[0].1;
        assert_eq!(user["schema"], USER_URN);
        assert_eq!(user["schemaExtensions"][0]["schema"], STAFFROOM_USER_URN);
        assert_eq!(
            user["meta"]["location"],
            "http://x/scim/v2/ResourceTypes/User"
        );
        let schemas: Vec<&str> = SCHEMAS.iter().map(|s| s.urn).collect();
        for (_, doc) in &types {
            assert!(schemas.contains(&doc["schema"].as_str().unwrap()));
        }
    }

    #[test]
    fn the_service_provider_config_says_what_is_supported() {
        let config = service_provider_config("http://x/scim/v2", 200);
        assert_eq!(config["patch"]["supported"], true);
        assert_eq!(config["bulk"]["supported"], false);
        assert_eq!(config["filter"]["maxResults"], 200);
        assert_eq!(config["etag"]["supported"], true);
        assert_eq!(
            config["authenticationSchemes"][0]["type"],
            "oauthbearertoken"
        );
    }
}
