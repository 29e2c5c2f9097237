//! Entry point: serve the provider to Terraform over go-plugin.

use std::process::ExitCode;

use aksudr::plugin::{self, StopSignal};
use aksudr::rpc::ProviderService;

fn main() -> ExitCode {
    plugin::run(ProviderService::new(StopSignal::new()))
}
