//! Entry point: serve the provider to Terraform over go-plugin.

use std::process::ExitCode;

use aksudr::plugin::{self, StopSignal};
use aksudr::provider::AksudrProvider;
use aksudr::rpc::ProviderService;

fn main() -> ExitCode {
    // Dependencies' events (azure_identity, reqwest, tonic, ...) into the log.
    aksudr::log::bridge::install();
    plugin::run_with(|serving| {
        // Without TLS, configurations may not redirect credentials.
        let service = ProviderService::new(AksudrProvider, StopSignal::new()).plaintext(serving.plaintext);
        // SIGTERM cancels in-flight work as StopProvider does.
        let stop = service.stop_handle();
        (service, Box::new(stop))
    })
}
