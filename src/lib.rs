//! terraform-provider-aksudr: a Terraform provider for AKS clusters whose
//! egress leaves through a user-defined route table to a firewall or NVA.
//!
//! Layers, each depending only on those below it: `plugin` (go-plugin
//! handshake, TLS) → `rpc` (one function per tfplugin6 call) → `provider`
//! and `resources` → `rules` (the UDR rules, pure) and `arm` (Azure Resource
//! Manager) → `tf` (values, schemas, diagnostics). `log` writes hclog lines.
pub mod arm;
pub mod log;
pub mod pb;
pub mod plugin;
pub mod provider;
pub mod resources;
pub mod rpc;
pub mod rules;
pub mod tf;
