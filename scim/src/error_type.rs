//! The `scimType` of a SCIM error (RFC 7644 §3.12, Table 9): which kind of bad request or
//! conflict it is, as this server answers them.

/// A `scimType` this server answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimType {
    /// The `filter` does not parse or asks what the server cannot answer.
    InvalidFilter,
    /// The value would duplicate a unique one (`userName`).
    Uniqueness,
    /// A change to what may not be changed.
    Mutability,
    /// The body is not the JSON or the message the request needs.
    InvalidSyntax,
    /// A PATCH `path` does not parse or names no attribute.
    InvalidPath,
    /// A PATCH operation has nothing to act on.
    NoTarget,
    /// A value of the wrong type or out of range.
    InvalidValue,
}

impl ScimType {
    /// The wire word, as the error body's `scimType` carries it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidFilter => "invalidFilter",
            Self::Uniqueness => "uniqueness",
            Self::Mutability => "mutability",
            Self::InvalidSyntax => "invalidSyntax",
            Self::InvalidPath => "invalidPath",
            Self::NoTarget => "noTarget",
            Self::InvalidValue => "invalidValue",
        }
    }
}

impl std::fmt::Display for ScimType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Compares with the wire word (`scim_type == "mutability"`).
impl PartialEq<&str> for ScimType {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}
