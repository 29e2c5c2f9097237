//! Shared machinery for the end-to-end tests, one job a file: finding
//! `terraform` (`terraform`), publishing the provider in a filesystem mirror
//! (`mirror`), work directories (`workdir`), armsim per test (`azure`),
//! terraform's output and diagnostics (`output`), configurations
//! (`fixtures`) and rule-error assertions (`rules`).

mod azure;
mod fixtures;
mod mirror;
mod output;
mod rules;
mod terraform;
mod workdir;

pub use azure::*;
pub use fixtures::*;
pub use mirror::*;
pub use output::*;
pub use rules::*;
pub use terraform::*;
pub use workdir::*;
