//! SCIM 2.0 (RFC 7643/7644) as pure parsing: filters and attribute paths. Used by its path
//! (`scim::filter::parse_filter`).

pub mod filter;
