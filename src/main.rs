//! Entry point: serve the provider to Terraform over go-plugin.

use std::process::ExitCode;

fn main() -> ExitCode {
    // Placeholder until the real provider service exists.
    aksudr::plugin::run(aksudr::plugin::UnimplementedProvider)
}
