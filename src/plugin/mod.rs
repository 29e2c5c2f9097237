//! The go-plugin boundary: turns a `tfplugin6.Provider` implementation into
//! a process Terraform can start, handshake with and shut down.
//!
//! Terraform starts the binary with a magic cookie and handshake settings
//! in the environment, reads one line from its stdout naming the address,
//! protocol and server certificate, then speaks gRPC over mutual TLS
//! ("AutoMTLS"). When done it calls `plugin.GRPCController/Shutdown`.
//! With `--debug` the binary instead serves plaintext until Ctrl-C and
//! prints a `TF_REATTACH_PROVIDERS` value for the user to hand Terraform.
//!
//! Stdout belongs to the handshake: nothing else may ever be printed there
//! in plugin mode. Logs go to stderr through [`crate::log`].

pub mod handshake;
pub mod server;
pub mod tls;

use std::io::{self, Write as _};
use std::process::ExitCode;
use std::time::Duration;

pub use crate::tf::stop::{StopSignal, Stopped};
pub use handshake::{HandshakeConfig, PortRange, BINARY_NAME, PROVIDER_ADDRESS};
pub use server::{serve, PluginListener, ServeOptions};

use crate::log;
use crate::pb::tfplugin6::provider_server::Provider;

/// Errors of the plugin layer.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// The magic cookie is missing: a person ran the binary, not Terraform.
    #[error("not started by Terraform (the {} environment variable is missing or wrong)", handshake::MAGIC_COOKIE_KEY)]
    NotStartedByTerraform,
    /// Terraform's `PLUGIN_PROTOCOL_VERSIONS` does not include 6.
    #[error(
        "this Terraform offers plugin protocol versions {offered:?}, but {} needs protocol version 6 (Terraform 1.0 or later)",
        BINARY_NAME
    )]
    UnsupportedProtocol {
        /// The value of `PLUGIN_PROTOCOL_VERSIONS`.
        offered: String,
    },
    /// A handshake environment variable has an unusable value.
    #[error("invalid {name} ({value}): {reason}")]
    InvalidEnv {
        /// Variable name.
        name: &'static str,
        /// Its value, or a stand-in for long ones.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No port in the allowed range could be bound.
    #[error("cannot listen on 127.0.0.1 at a port in {min}..={max}: {source}")]
    Bind {
        /// Lowest port tried.
        min: u16,
        /// Highest port tried.
        max: u16,
        /// The last bind error.
        source: io::Error,
    },
    /// The server certificate could not be generated.
    #[error("cannot generate the TLS server certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    /// rustls rejected the TLS configuration.
    #[error("cannot configure TLS: {0}")]
    Tls(#[from] rustls::Error),
    /// The async runtime could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(io::Error),
    /// The handshake line could not be written.
    #[error("cannot write the handshake to stdout: {0}")]
    Stdout(io::Error),
    /// The gRPC server failed.
    #[error("gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// An unknown command-line argument.
    #[error("unknown argument {0:?}")]
    Usage(String),
}

/// What the command line asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Plugin,
    Debug,
    Help,
}

/// Terraform starts providers without arguments; `-debug` is accepted too
/// because Go's flag package, which most providers use, accepts both.
fn parse_args<I: IntoIterator<Item = std::ffi::OsString>>(args: I) -> Result<Mode, PluginError> {
    let mut mode = Mode::Plugin;
    for arg in args {
        match arg.to_str() {
            Some("--debug" | "-debug") => mode = Mode::Debug,
            Some("--help" | "-help" | "-h") => return Ok(Mode::Help),
            _ => return Err(PluginError::Usage(arg.to_string_lossy().into_owned())),
        }
    }
    Ok(mode)
}

/// Runs the provider as a Terraform plugin (or, with `--debug`, as a
/// standalone debug server); returns the process exit code.
pub fn run<P: Provider>(provider: P) -> ExitCode {
    run_with(|_| (provider, Box::new(|| {})))
}

/// How the provider is being served, for it to adapt to.
#[derive(Clone, Copy, Debug)]
pub struct Serving {
    /// Without TLS (`--debug`, or Terraform's `TF_DISABLE_PLUGIN_TLS`):
    /// any local process may call the provider.
    pub plaintext: bool,
}

/// Called on SIGTERM (and, in debug mode, SIGINT) before the server stops:
/// the provider cancels its in-flight work there, so that operations return
/// the partial state that keeps objects tracked.
pub type OnTerminate = Box<dyn Fn() + Send + Sync>;

/// [`run`], with the provider made once it is known how it is served, and
/// a hook for termination.
pub fn run_with<P: Provider>(make: impl FnOnce(Serving) -> (P, OnTerminate)) -> ExitCode {
    let mode = match parse_args(std::env::args_os().skip(1)) {
        Ok(mode) => mode,
        Err(e) => {
            eprintln!("{BINARY_NAME}: {e}\n");
            eprint!("{}", explanation());
            return ExitCode::FAILURE;
        }
    };
    match mode {
        Mode::Help => {
            eprint!("{}", explanation());
            ExitCode::SUCCESS
        }
        Mode::Plugin => {
            let config = match HandshakeConfig::from_env(|k| std::env::var(k).ok()) {
                Ok(config) => config,
                Err(PluginError::NotStartedByTerraform) => {
                    eprint!("{}", explanation());
                    return ExitCode::FAILURE;
                }
                Err(e) => {
                    // Terraform shows the plugin's stderr when it exits
                    // before the handshake, so plain text reaches the user.
                    eprintln!("{BINARY_NAME}: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let (provider, on_terminate) = make(Serving { plaintext: config.client_certs.is_none() });
            in_runtime(plugin_main(provider, config, on_terminate))
        }
        Mode::Debug => {
            let (provider, on_terminate) = make(Serving { plaintext: true });
            in_runtime(debug_main(provider, on_terminate))
        }
    }
}

fn in_runtime<F>(main: F) -> ExitCode
where
    F: std::future::Future<Output = Result<(), PluginError>>,
{
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{BINARY_NAME}: {}", PluginError::Runtime(e));
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(main);
    // Tasks still running (a request that ignored the shutdown) must not
    // keep the process past go-plugin's 2 s kill deadline.
    runtime.shutdown_timeout(Duration::from_millis(200));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log::error!("provider exiting on error", error = e.to_string());
            ExitCode::FAILURE
        }
    }
}

async fn plugin_main<P: Provider>(
    provider: P,
    config: HandshakeConfig,
    on_terminate: OnTerminate,
) -> Result<(), PluginError> {
    let shutdown = StopSignal::new();
    // Install signal handling before the handshake so an early Ctrl-C does
    // not kill the process with the default disposition.
    watch_signals(shutdown.clone(), on_terminate, false);
    let listener = PluginListener::bind(config.ports, config.client_certs).await?;
    let line = listener.handshake_line();
    {
        let mut out = io::stdout().lock();
        writeln!(out, "{line}").map_err(PluginError::Stdout)?;
        out.flush().map_err(PluginError::Stdout)?;
    }
    log::debug!(
        "plugin started",
        address = listener.local_addr().to_string(),
        tls = listener.server_certificate().is_some()
    );
    let options = ServeOptions { shutdown, shutdown_rpc_exits: true, ..ServeOptions::default() };
    serve(provider, listener, options).await
}

async fn debug_main<P: Provider>(provider: P, on_terminate: OnTerminate) -> Result<(), PluginError> {
    let shutdown = StopSignal::new();
    watch_signals(shutdown.clone(), on_terminate, true);
    let listener = PluginListener::bind(PortRange::ANY, None).await?;
    let reattach = handshake::reattach_json(listener.local_addr(), std::process::id());
    {
        let mut out = io::stdout().lock();
        write!(
            out,
            "{BINARY_NAME} is running in debug mode on {addr} (pid {pid}).\n\
             \n\
             To make Terraform use this process instead of starting the provider\n\
             itself, run these two lines in the shell where you run terraform:\n\
             \n\
             TF_REATTACH_PROVIDERS='{reattach}'\n\
             export TF_REATTACH_PROVIDERS\n\
             \n\
             Press Ctrl-C to stop the provider.\n",
            addr = listener.local_addr(),
            pid = std::process::id(),
        )
        .map_err(PluginError::Stdout)?;
        out.flush().map_err(PluginError::Stdout)?;
    }
    let options = ServeOptions { shutdown, shutdown_rpc_exits: false, ..ServeOptions::default() };
    serve(provider, listener, options).await
}

/// Under Terraform, SIGINT is ignored: Terraform forwards the user's Ctrl-C
/// to the whole process group and then stops the provider itself
/// (StopProvider, then Shutdown), which go-plugin providers rely on by
/// ignoring the signal too. SIGTERM (a cancelled CI job, which signals no
/// Terraform that could stop us) first stops the provider's in-flight work,
/// so that operations return the partial state that keeps objects
/// tracked, then stops the server gracefully, which lets those answers out.
/// In debug mode both signals do that.
fn watch_signals(shutdown: StopSignal, on_terminate: OnTerminate, interrupt_stops: bool) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let (mut interrupt, mut terminate) = match (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) {
            (Ok(i), Ok(t)) => (i, t),
            (Err(e), _) | (_, Err(e)) => {
                log::warn!("cannot install signal handlers", error = e.to_string());
                return;
            }
        };
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = interrupt.recv() => {
                        if interrupt_stops {
                            log::info!("interrupted; stopping");
                            on_terminate();
                            shutdown.stop();
                            return;
                        }
                        log::debug!("ignoring interrupt; Terraform stops the provider itself");
                    }
                    _ = terminate.recv() => {
                        log::info!("terminated; cancelling in-flight operations and stopping");
                        on_terminate();
                        shutdown.stop();
                        return;
                    }
                }
            }
        });
    }
    #[cfg(not(unix))]
    {
        tokio::spawn(async move {
            loop {
                if tokio::signal::ctrl_c().await.is_err() {
                    return;
                }
                if interrupt_stops {
                    on_terminate();
                    shutdown.stop();
                    return;
                }
                log::debug!("ignoring interrupt; Terraform stops the provider itself");
            }
        });
    }
}

/// Go's names for the running platform, as used in Terraform's plugin
/// directory layout (`linux_amd64`, ...).
fn go_platform() -> String {
    let os = std::env::consts::OS;
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "x86" => "386",
        "aarch64" => "arm64",
        other => other,
    };
    format!("{os}_{arch}")
}

/// What a person who ran the binary by hand needs to know.
fn explanation() -> String {
    format!(
        "This is {BINARY_NAME}, a Terraform provider plugin. It is started by\n\
         Terraform, not by hand.\n\
         \n\
         To use it, put the binary where Terraform looks for providers, e.g.\n\
         \n\
         \x20   ~/.terraform.d/plugins/{PROVIDER_ADDRESS}/{version}/{platform}/{BINARY_NAME}\n\
         \n\
         (or point a dev_overrides entry for \"aksudr/aksudr\" in your Terraform CLI\n\
         configuration at its directory), declare it in your configuration with\n\
         \n\
         \x20   terraform {{\n\
         \x20     required_providers {{\n\
         \x20       aksudr = {{ source = \"aksudr/aksudr\" }}\n\
         \x20     }}\n\
         \x20   }}\n\
         \n\
         and run terraform init, plan and apply as usual.\n\
         \n\
         To debug the provider, run it as `{BINARY_NAME} --debug`: it then\n\
         serves until Ctrl-C and prints a TF_REATTACH_PROVIDERS value that makes\n\
         Terraform use that process.\n",
        version = env!("CARGO_PKG_VERSION"),
        platform = go_platform(),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn args(a: &[&str]) -> Vec<OsString> {
        a.iter().map(OsString::from).collect()
    }

    #[test]
    fn command_line_modes() {
        assert_eq!(parse_args(args(&[])).unwrap(), Mode::Plugin);
        assert_eq!(parse_args(args(&["--debug"])).unwrap(), Mode::Debug);
        assert_eq!(parse_args(args(&["-debug"])).unwrap(), Mode::Debug);
        assert_eq!(parse_args(args(&["-h"])).unwrap(), Mode::Help);
        assert!(matches!(
            parse_args(args(&["--bogus"])),
            Err(PluginError::Usage(a)) if a == "--bogus"
        ));
    }

    #[test]
    fn explanation_names_the_plugin_and_debug_flag() {
        let text = explanation();
        assert!(text.contains("terraform-provider-aksudr, a Terraform provider plugin"));
        assert!(text.contains("started by\nTerraform, not by hand"));
        assert!(text.contains("--debug"));
        assert!(text.contains(&go_platform()));
    }
}
