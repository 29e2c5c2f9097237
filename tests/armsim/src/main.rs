//! The `armsim` command: serves the simulator until killed.
//!
//! `armsim --listen 127.0.0.1:PORT [--seed FILE] [--ca-out FILE] [--lro-delay-ms N]
//!  [--record-dir DIR] [--client-id ID] [--client-secret S] [--client-assertion JWT]
//!  [--aks-flat-errors]`

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use armsim::{Config, Seed, Sim};

const USAGE: &str = "usage: armsim --listen 127.0.0.1:PORT [--seed FILE] [--ca-out FILE] \
[--lro-delay-ms N] [--record-dir DIR] [--client-id ID] [--client-secret SECRET] [--client-assertion JWT] \
[--aks-flat-errors]";

struct Args {
    config: Config,
    ca_out: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut config = Config::default();
    let mut ca_out = None;
    let mut listen_given = false;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "-h" || flag == "--help" {
            return Err(USAGE.to_string());
        }
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value\n{USAGE}"));
        match flag.as_str() {
            "--listen" => {
                config.listen = value()?.parse().map_err(|e| format!("--listen: {e}"))?;
                listen_given = true;
            }
            "--seed" => {
                let path = value()?;
                let text = std::fs::read_to_string(&path).map_err(|e| format!("--seed {path}: {e}"))?;
                config.seed = Seed::from_json(&text).map_err(|e| format!("--seed {path}: {e}"))?;
            }
            "--ca-out" => ca_out = Some(PathBuf::from(value()?)),
            "--lro-delay-ms" => {
                let ms: u64 = value()?.parse().map_err(|e| format!("--lro-delay-ms: {e}"))?;
                config.lro_delay = Duration::from_millis(ms);
            }
            "--record-dir" => config.record_dir = Some(PathBuf::from(value()?)),
            "--client-id" => config.auth.client_id = value()?,
            "--client-secret" => config.auth.client_secret = value()?,
            "--client-assertion" => config.auth.client_assertion = Some(value()?),
            "--aks-flat-errors" => config.aks_error_shape = armsim::AksErrorShape::Flat,
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    if !listen_given {
        return Err(format!("--listen is required\n{USAGE}"));
    }
    Ok(Args { config, ca_out })
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let sim = match Sim::start(args.config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("armsim: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(path) = &args.ca_out {
        if let Err(e) = std::fs::write(path, sim.ca_pem()) {
            eprintln!("armsim: writing {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
    }
    println!("armsim listening on {}", sim.base_url());
    // Whoever started us waits for this line; make sure it leaves the pipe buffer.
    let _ = std::io::stdout().flush();
    let _ = tokio::signal::ctrl_c().await;
    drop(sim);
    ExitCode::SUCCESS
}
