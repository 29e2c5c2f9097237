//! terraform-provider-aksudr: a Terraform provider for AKS clusters whose
//! egress leaves through a user-defined route table to a firewall or NVA.
pub mod log;
pub mod pb;
pub mod plugin;
pub mod tf;
