//! The `string_enum!` macro: closed sets of values carried as fixed strings in the API.
//!
//! One declaration keeps the serde names, `as_str`, `parse`, `ALL`, the OpenAPI enum and the
//! SQL text in step.

/// Declares a fieldless enum whose variants each map to one wire string.
///
/// Generates serde (de)serialisation by those strings, `as_str`, `parse` (error code
/// `invalid_value`), `ALL`, `Display`, `FromStr`, with feature `openapi` `ToSchema`, and with
/// feature `diesel` SQL `TEXT` holding the wire string, on any backend.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            // `tt`, not `literal`: utoipa cannot read a `literal` fragment in `#[serde(rename)]`.
            $( $(#[$vmeta:meta])* $variant:ident => $wire:tt ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize,
        )]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[cfg_attr(feature = "diesel", derive(diesel::expression::AsExpression, diesel::deserialize::FromSqlRow))]
        #[cfg_attr(feature = "diesel", diesel(sql_type = diesel::sql_types::Text))]
        $vis enum $name {
            $( $(#[$vmeta])* #[serde(rename = $wire)] $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The wire string of this value.
            pub const fn as_str(&self) -> &'static str {
                match self {
                    $( Self::$variant => $wire, )+
                }
            }

            /// Parses the exact wire string; anything else is `invalid_value`.
            pub fn parse(input: &str) -> Result<Self, $crate::validation::ParseError> {
                match input {
                    $( $wire => Ok(Self::$variant), )+
                    _ => Err($crate::validation::ParseError::new(
                        "invalid_value",
                        format!(
                            "must be one of: {}",
                            [$($wire),+].join(", ")
                        ),
                    )),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::validation::ParseError;

            fn from_str(input: &str) -> Result<Self, Self::Err> {
                Self::parse(input)
            }
        }

        #[cfg(feature = "diesel")]
        $crate::sql_text::enum_as_text!($name);
    };
}

pub(crate) use string_enum;
