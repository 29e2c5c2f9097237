//! The ARM client's settings: subscription, credentials and endpoints,
//! after the provider has applied its environment fallbacks (see
//! `crate::provider::resolve`).

use crate::log::Sensitive;

/// Everything the ARM client needs, before any credential is resolved
/// (that happens lazily, on the first ARM call).
#[derive(Clone, Debug, Default)]
pub struct Settings {
    pub subscription_id: Option<String>,
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<Sensitive<String>>,
    pub use_oidc: bool,
    pub oidc_token: Option<Sensitive<String>>,
    pub oidc_token_file_path: Option<String>,
    pub use_msi: bool,
    pub use_cli: bool,
    /// `public`, `usgovernment` or `china`.
    pub environment: String,
    pub resource_manager_endpoint: String,
    pub authority_host: String,
}
