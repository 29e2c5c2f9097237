//! armsim: an in-process simulator of the Azure Resource Manager endpoints the provider
//! talks to — Microsoft.Network route tables, routes, virtual networks and subnets
//! (written from the 2024-07-01 spec), AKS managed clusters and their agent pools (2026-07-01),
//! resource groups, and the Microsoft identity platform token endpoint — served over HTTPS
//! with a throwaway CA. Every published api-version of these types is accepted
//! (`api_versions`).
//!
//! It is an independent oracle: it shares no code with the provider and implements Azure's
//! documented behaviour (shapes from the published OpenAPI specs, Azure's error codes,
//! long-running operations, etags, conflicts), plus fault injection, a request log, direct
//! resource edits and traffic recording for tests.
//!
//! ```no_run
//! # async fn demo() -> Result<(), armsim::Error> {
//! let sim = armsim::Sim::start(armsim::Config::default()).await?;
//! let token = sim.issue_token();
//! println!("{} trusts {}", sim.base_url(), sim.ca_pem().len());
//! # drop(token);
//! # Ok(())
//! # }
//! ```

mod admin;
mod agent_pools;
mod aks;
mod api_versions;
mod auth;
mod cidr;
mod error;
mod faults;
mod guid;
mod http;
mod lro;
mod network;
mod paths;
mod record;
mod resources;
mod seed;
mod server;
mod store;
mod tls;
mod world;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

pub use admin::{RequestLogEntry, RuntimeConfig};
pub use auth::{AuthConfig, JWT_BEARER};
pub use faults::{Fault, FaultStatus, Latency, LroFailure};
pub use seed::{
    Seed, SeedResourceGroup, SeedRoute, SeedRouteTable, SeedSubnet, SeedSubscription, SeedVirtualNetwork,
    DEFAULT_SUBSCRIPTION,
};

/// Why the simulator could not start or a helper call was refused.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("TLS setup failed: {0}")]
    Tls(String),
    #[error("invalid seed: {0}")]
    Seed(String),
    #[error("invalid configuration: {0}")]
    Config(String),
}

/// How to start a simulator.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Resources that exist from the start.
    pub seed: Seed,
    /// How long long-running operations stay InProgress (0: done by the next request).
    pub lro_delay: Duration,
    /// Write every ARM exchange to this directory in oav traffic format.
    pub record_dir: Option<PathBuf>,
    /// Credentials the token endpoint accepts.
    pub auth: AuthConfig,
    /// How AKS validation errors are rendered (see [`AksErrorShape`]).
    pub aks_error_shape: AksErrorShape,
}

/// The body of AKS's synchronous validation errors.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AksErrorShape {
    /// `{"error":{"code","message","details"}}`: the `ErrorResponse` the published
    /// 2026-07-01 spec declares (and what `oav validate-traffic` accepts).
    #[default]
    Envelope,
    /// `{"code","message","subcode","details"}`: the flat body AKS has been seen to return;
    /// lets tests check that a client parses both.
    Flat,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: Seed::default(),
            lro_delay: Duration::ZERO,
            record_dir: None,
            auth: AuthConfig::default(),
            aks_error_shape: AksErrorShape::default(),
        }
    }
}

/// Entry point: `Sim::start(config)`.
#[derive(Debug)]
pub struct Sim;

impl Sim {
    /// Binds the listener, then serves on the current tokio runtime. Returns once the socket
    /// is bound, so requests can be sent immediately.
    pub async fn start(config: Config) -> Result<RunningSim, Error> {
        let listener = TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let base_url = format!("https://{addr}");
        let tls = tls::make()?;
        let ids = Arc::new(guid::IdGen::new());
        let mut w = world::World::new(ids.clone(), config.lro_delay);
        w.base_url = base_url.clone();
        seed::apply(&config.seed, &mut w)?;
        let recorder = match &config.record_dir {
            Some(d) => Some(record::Recorder::new(d)?),
            None => None,
        };
        let mut shared = server::Shared::new(w, auth::Auth::new(config.auth.clone()), recorder, ids, base_url.clone());
        shared.aks_flat_errors = config.aks_error_shape == AksErrorShape::Flat;
        let shared = Arc::new(shared);
        let acceptor = TlsAcceptor::from(tls.server_config.clone());
        let task = tokio::spawn(server::serve(listener, acceptor, shared.clone()));
        Ok(RunningSim { addr, base_url, ca_pem: tls.ca_pem, shared, task, runtime: None })
    }

    /// Starts the simulator on a runtime of its own (two worker threads), for callers that
    /// are not async. The runtime lives as long as the returned handle.
    pub fn start_in_background(config: Config) -> Result<RunningSim, Error> {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
        let mut sim = rt.block_on(Sim::start(config))?;
        sim.runtime = Some(rt);
        Ok(sim)
    }
}

/// A running simulator. Dropping it stops the server.
#[derive(Debug)]
pub struct RunningSim {
    addr: SocketAddr,
    base_url: String,
    ca_pem: String,
    shared: Arc<server::Shared>,
    task: JoinHandle<()>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl RunningSim {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://127.0.0.1:PORT` — the ARM endpoint and the authority host.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// PEM of the CA that signed the server certificate (point `SSL_CERT_FILE` at it).
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The v2.0 token endpoint URL for `tenant`.
    pub fn token_url(&self, tenant: &str) -> String {
        format!("{}/{tenant}/oauth2/v2.0/token", self.base_url)
    }

    /// The credentials the token endpoint accepts.
    pub fn auth_config(&self) -> &AuthConfig {
        &self.shared.auth.config
    }

    /// Mints a bearer token ARM requests will accept, without the token endpoint.
    pub fn issue_token(&self) -> String {
        self.shared.issue_token()
    }

    /// Fails the next matching requests (`POST /_armsim/faults`).
    pub fn add_fault(&self, fault: Fault) -> Result<(), Error> {
        self.shared.add_fault(fault)
    }

    /// Removes every fault and latency rule.
    pub fn clear_faults(&self) {
        self.shared.clear_faults()
    }

    /// Delays matching requests (`POST /_armsim/latency`).
    pub fn add_latency(&self, latency: Latency) -> Result<(), Error> {
        self.shared.add_latency(latency)
    }

    /// Makes the next matching write's operation end Failed (`POST /_armsim/lro-fail`).
    pub fn fail_next_lro(&self, failure: LroFailure) -> Result<(), Error> {
        self.shared.add_lro_failure(failure)
    }

    /// The request log, in arrival order (`GET /_armsim/requests`).
    pub fn requests(&self) -> Vec<RequestLogEntry> {
        self.shared.requests()
    }

    /// Empties the request log (`DELETE /_armsim/requests`).
    pub fn clear_requests(&self) {
        self.shared.clear_requests()
    }

    /// A stored resource as GET would show it, bypassing auth (`GET /_armsim/resources`).
    pub fn resource(&self, id: &str) -> Option<Value> {
        self.shared.resource(id)
    }

    /// Replaces a stored resource out of band, bypassing validation and operations
    /// (`PUT /_armsim/resources`): simulates drift.
    pub fn put_resource(&self, id: &str, body: Value) -> Result<(), Error> {
        self.shared.put_resource(id, body)
    }

    /// Deletes a stored resource out of band (`DELETE /_armsim/resources`); `false` if absent.
    pub fn delete_resource(&self, id: &str) -> bool {
        self.shared.delete_resource(id)
    }

    /// Changes how long new operations stay InProgress (`POST /_armsim/config`).
    pub fn set_lro_delay(&self, delay: Duration) {
        self.shared.set_lro_delay(delay)
    }

    /// Puts operation URLs (`Azure-AsyncOperation`, `Location`) on another
    /// host name of this simulator (e.g. `localhost`), or back on the ARM
    /// host with `None`: a client must not send its ARM token there.
    pub fn set_operation_host(&self, host: Option<&str>) {
        self.shared.world().operation_host = host.map(str::to_string);
    }

    /// Completes every running operation now (`POST /_armsim/settle`).
    pub fn settle_operations(&self) {
        self.shared.settle()
    }
}

impl Drop for RunningSim {
    fn drop(&mut self) {
        self.task.abort();
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}
