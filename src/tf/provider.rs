//! What a provider is to the framework: its configuration schema, its
//! resource types, and how a configuration becomes the data every resource
//! gets. The gRPC server in `rpc` serves any [`Provider`].

use super::data_source::{DataSource, EphemeralResource};
use super::diag::Diagnostics;
use super::resource::Resource;
use super::schema::Schema;
use super::stop::StopSignal;
use super::value::Value;

/// What ConfigureProvider hands the provider besides its configuration.
#[derive(Clone, Debug)]
pub struct Configure {
    /// Cancels in-flight work (StopProvider, SIGTERM).
    pub stop: StopSignal,
    /// Served without TLS (`--debug`): any local process may have sent
    /// this configuration.
    pub plaintext: bool,
}

/// One Terraform provider.
pub trait Provider: Send + Sync + 'static {
    /// The configured provider's data, handed to every resource.
    type Data: Send + Sync + 'static;

    /// The provider block's schema.
    fn schema(&self) -> Schema;

    /// Every resource type.
    fn resources(&self) -> Vec<Box<dyn Resource<Self::Data>>>;

    /// Every data source type.
    fn data_sources(&self) -> Vec<Box<dyn DataSource<Self::Data>>> {
        Vec::new()
    }

    /// Every ephemeral resource type (served to Terraform 1.10+; older
    /// versions do not see them).
    fn ephemeral_resources(&self) -> Vec<Box<dyn EphemeralResource<Self::Data>>> {
        Vec::new()
    }

    /// Configures the provider from a provider block whose values are all
    /// known (the framework waits while any is unknown).
    fn configure(&self, config: &Value, how: &Configure) -> Result<Self::Data, Diagnostics>;

    /// Where the configured provider counts the RPCs in flight, if it does
    /// (see [`super::activity`]).
    fn activity<'a>(&self, _data: &'a Self::Data) -> Option<&'a super::activity::Activity> {
        None
    }
}
