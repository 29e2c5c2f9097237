//! The small provider framework: values and their wire codecs, schemas,
//! diagnostics, the `Resource`, `DataSource` and `EphemeralResource` traits
//! and the standard planning behaviour.

pub mod activity;
pub mod codec_error;
pub mod data_source;
pub mod diag;
pub mod flows;
pub mod json;
pub mod model;
pub mod msgpack;
pub mod plan;
#[cfg(test)]
pub(crate) mod properties;
pub mod provider;
pub mod resource;
pub mod schema;
pub mod stop;
#[cfg(test)]
mod test_values;
pub mod timeouts;
pub mod typejson;
pub mod validate;
pub mod value;

pub use codec_error::CodecError;
