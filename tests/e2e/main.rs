//! End-to-end tests: the real `terraform` CLI installs the provider binary
//! Cargo just built from a local filesystem mirror and drives it through
//! init, validate and plan, and (in the `lifecycle_*` and `arm_*` modules)
//! apply, import and destroy against an in-process ARM simulator (armsim)
//! started per test. Nothing here reaches a network; plans need no Azure
//! credentials.
//!
//! Terraform comes from `$TERRAFORM` or PATH; `scripts/ensure-terraform.sh`
//! finds or installs one (`make test` wires that up).

mod harness;

mod arm_auth;
mod arm_faults;
mod credentials_in_state;
mod data_and_ephemeral;
mod determinism;
mod fault_matrix;
mod ids;
mod install;
mod lifecycle_association;
mod lifecycle_cluster;
mod lifecycle_node_pool;
mod lifecycle_route_table;
mod lifecycle_routes;
mod logging;
mod plan_cluster;
mod plan_projection;
mod plan_routes;
mod plugin_binary;
mod plugin_handshake;
mod release;
mod route_batching;
mod schema;
mod state_compat;
mod testing_modules;
