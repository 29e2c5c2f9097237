//! The `DataSource` and `EphemeralResource` traits: read-only types. A data
//! source's result lands in state; an ephemeral resource's (Terraform 1.10+)
//! exists only while Terraform runs and is never stored in state or plan.

use async_trait::async_trait;

use super::diag::Diagnostics;
use super::schema::Schema;
use super::value::Value;

/// One data source type. `D` is the configured provider's data.
#[async_trait]
pub trait DataSource<D: Send + Sync>: Send + Sync {
    /// `aksudr_<name>`.
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> &Schema;

    /// Cross-attribute checks on a configuration that may hold unknowns.
    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// The data source's whole value (configuration and results), from a
    /// configuration whose values are known. `data` is `None` while the
    /// provider's configuration is unknown: a data source that needs Azure
    /// then says so, one that does not answers all the same.
    async fn read(&self, data: Option<&D>, config: &Value) -> Result<Value, Diagnostics>;
}

/// What opening an ephemeral resource gives Terraform.
#[derive(Debug)]
pub struct Opened {
    /// The whole value (configuration and results).
    pub result: Value,
    /// The provider's handle for a later close; `None` when there is
    /// nothing to release.
    pub private: Option<Vec<u8>>,
}

/// One ephemeral resource type.
#[async_trait]
pub trait EphemeralResource<D: Send + Sync>: Send + Sync {
    /// `aksudr_<name>`.
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> &Schema;

    /// Cross-attribute checks on a configuration that may hold unknowns.
    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// Obtains the value, from a configuration whose values are known.
    async fn open(&self, data: &D, config: &Value) -> Result<Opened, Diagnostics>;

    /// Releases what `open` obtained (its `private` handle).
    async fn close(&self, _data: &D, _private: &[u8]) -> Diagnostics {
        Diagnostics::new()
    }
}
