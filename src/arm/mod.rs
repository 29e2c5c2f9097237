//! Azure Resource Manager: the client (credentials, retries, long-running
//! operations), its errors, and typed resource IDs.

pub mod client;
pub mod credentials;
pub mod endpoint;
pub mod error;
pub mod ids;
pub mod lro;
pub mod route_tables;
pub mod settings;

pub use client::ArmClient;
pub use error::ArmError;
pub use settings::Settings;

/// api-version of Microsoft.Network calls (route tables, routes, subnets).
pub const NETWORK_API_VERSION: &str = "2024-07-01";
/// api-version of Microsoft.ContainerService managed clusters.
pub const AKS_API_VERSION: &str = "2026-07-01";
