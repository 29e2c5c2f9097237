//! Entry point: serve the provider to Terraform over go-plugin.

use std::process::ExitCode;

use aksudr::plugin::{self, StopSignal};
use aksudr::rpc::ProviderService;

fn main() -> ExitCode {
    // One stop signal for StopProvider and SIGTERM alike.
    let stop = StopSignal::new();
    // Without TLS (`--debug`), configurations may not redirect credentials.
    let debug = std::env::args_os().skip(1).any(|a| a == "--debug");
    plugin::run_with_stop(ProviderService::new(stop.clone()).plaintext(debug), stop)
}
