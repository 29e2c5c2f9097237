//! The small provider framework: values and their wire codecs, schemas,
//! diagnostics, the `Resource` trait and the standard planning behaviour.

pub mod diag;
pub mod plan;
pub mod resource;
pub mod schema;
pub mod validate;
pub mod value;
