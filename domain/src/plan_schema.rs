//! The OpenAPI schema of [`LicencePlan`]: one named schema per plan (`FlexPlan`,
//! `SoloPlan`, `GroupPlan`) and a discriminator on `plan`, so that generated clients get
//! one readable type per plan instead of numbered parts of an anonymous union.

use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::schema::{
    Discriminator, KnownFormat, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, Type,
};
use utoipa::openapi::{Ref, RefOr};

use crate::{LicencePlan, PlanKind};

/// The component schema of one plan.
const fn schema_name(kind: PlanKind) -> &'static str {
    match kind {
        PlanKind::Flex => "FlexPlan",
        PlanKind::Solo => "SoloPlan",
        PlanKind::Group => "GroupPlan",
    }
}

/// What one plan means for the site's users.
const fn description(kind: PlanKind) -> &'static str {
    match kind {
        PlanKind::Flex => {
            "The flex plan: every active user, clinical or not, needs one of `licences`."
        }
        PlanKind::Solo => {
            "The solo plan: at most one active clinical and one active non-clinical user; the \
             clinical user holds its one licence."
        }
        PlanKind::Group => {
            "The group plan: active clinical users need one of `licences`; non-clinical users \
             are unlimited."
        }
    }
}

/// The schema of one plan: `plan` fixed to its name, and `licences` unless it is solo.
fn plan_schema(kind: PlanKind) -> Schema {
    // utoipa 5 has no builder for `const`; its extension map is written out flat, so the
    // keyword goes through it. `const` gives generated clients a literal type.
    let tag = ObjectBuilder::new()
        .schema_type(Type::String)
        .extensions(Some(Extensions::from_iter([("const", kind.as_str())])));
    let object = ObjectBuilder::new()
        .schema_type(Type::Object)
        .title(Some(schema_name(kind)))
        .description(Some(description(kind)))
        .property("plan", tag)
        .required("plan");
    let object = match kind {
        PlanKind::Solo => object,
        PlanKind::Flex | PlanKind::Group => object
            .property(
                "licences",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
                    .minimum(Some(1))
                    .maximum(Some(LicencePlan::MAX_LICENCES))
                    .description(Some("Number of licences bought.")),
            )
            .required("licences"),
    };
    object.into()
}

impl utoipa::PartialSchema for LicencePlan {
    fn schema() -> RefOr<Schema> {
        let mapping = PlanKind::ALL.iter().map(|kind| {
            (
                kind.as_str(),
                format!("#/components/schemas/{}", schema_name(*kind)),
            )
        });
        PlanKind::ALL
            .iter()
            .fold(OneOfBuilder::new(), |one_of, kind| {
                one_of.item(Ref::from_schema_name(schema_name(*kind)))
            })
            .description(Some(
                "A site's licence plan, told apart by `plan`: `flex` and `group` carry a number \
                 of `licences`, `solo` has none.",
            ))
            .discriminator(Some(Discriminator::with_mapping("plan", mapping)))
            .into()
    }
}

impl utoipa::ToSchema for LicencePlan {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("LicencePlan")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.extend(
            PlanKind::ALL
                .iter()
                .map(|kind| (schema_name(*kind).to_owned(), plan_schema(*kind).into())),
        );
    }
}
