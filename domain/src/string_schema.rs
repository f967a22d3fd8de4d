//! The `string_schema!` macro: OpenAPI schemas for string value types, with their bounds.
//!
//! utoipa's derive cannot put `minLength`/`maxLength` on a newtype, and generated clients
//! need them, so the value types describe themselves here.

/// Implements `utoipa::ToSchema` (feature `openapi`) for a value type carried as a string.
///
/// `format` names a `utoipa::openapi::KnownFormat` variant; `write_only` marks secrets.
macro_rules! string_schema {
    (
        $name:ty,
        length = $min:literal ..= $max:literal,
        $(format = $format:ident,)?
        $(write_only = $write_only:literal,)?
        description = $description:literal $(,)?
    ) => {
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                use utoipa::openapi::schema as oas;
                oas::ObjectBuilder::new()
                    .schema_type(oas::Type::String)
                    $(.format(Some(oas::SchemaFormat::KnownFormat(oas::KnownFormat::$format))))?
                    .min_length(Some($min))
                    .max_length(Some($max))
                    $(.write_only(Some($write_only)))?
                    .description(Some($description))
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }
    };
}

pub(crate) use string_schema;
