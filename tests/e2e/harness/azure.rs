//! armsim for one test: started in-process on `127.0.0.1:0`, its CA
//! written out, and the environment that points the provider at it.

use std::fs;
use std::path::PathBuf;

use tempfile::TempDir;

use super::*;

/// The subscription of the simulator's default seed.
pub const SUBSCRIPTION_ID: &str = "00000000-0000-0000-0000-000000000000";

/// Any tenant: the simulator accepts every tenant.
pub const TENANT_ID: &str = "22222222-2222-2222-2222-222222222222";

/// A simulated Azure (armsim) for one test, with its CA written to a file
/// that the provider trusts through `SSL_CERT_FILE`. Dropping it stops the
/// simulator.
#[derive(Debug)]
pub struct Azure {
    pub sim: armsim::RunningSim,
    ca_file: PathBuf,
    _dir: TempDir,
}

impl Azure {
    /// The default seed: group `rg-egress`, VNet `vnet` with subnets `aks`,
    /// `AzureFirewallSubnet` and `users`, no route tables; operations finish
    /// at once.
    pub fn start() -> Azure {
        Azure::start_with(armsim::Config::default())
    }

    pub fn start_with(config: armsim::Config) -> Azure {
        let sim = armsim::Sim::start_in_background(config).unwrap_or_else(|e| panic!("cannot start armsim: {e}"));
        let base = e2e_tmp().join("sim");
        fs::create_dir_all(&base).unwrap_or_else(|e| panic!("{}: {e}", base.display()));
        let dir = tempfile::Builder::new()
            .prefix("ca-")
            .tempdir_in(&base)
            .unwrap_or_else(|e| panic!("cannot create a directory for the CA: {e}"));
        let ca_file = dir.path().join("armsim-ca.pem");
        fs::write(&ca_file, sim.ca_pem()).unwrap_or_else(|e| panic!("{}: {e}", ca_file.display()));
        Azure { sim, ca_file, _dir: dir }
    }

    /// Where the provider finds the simulator, with no credential at all:
    /// endpoints, the CA, subscription and tenant, and the Azure CLI off so
    /// a real `az` is never called.
    pub fn base_env(&self) -> Vec<(String, String)> {
        let base = self.sim.base_url();
        [
            ("SSL_CERT_FILE", self.ca_file.to_string_lossy().into_owned()),
            ("ARM_RESOURCE_MANAGER_ENDPOINT", base.to_string()),
            ("ARM_AUTHORITY_HOST", format!("{base}/")),
            ("ARM_SUBSCRIPTION_ID", SUBSCRIPTION_ID.to_string()),
            ("ARM_TENANT_ID", TENANT_ID.to_string()),
            ("ARM_USE_CLI", "false".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// [`Azure::base_env`] plus the service principal the simulator knows.
    pub fn secret_env(&self) -> Vec<(String, String)> {
        let auth = self.sim.auth_config();
        let mut env = self.base_env();
        env.push(("ARM_CLIENT_ID".into(), auth.client_id.clone()));
        env.push(("ARM_CLIENT_SECRET".into(), auth.client_secret.clone()));
        env
    }

    /// A work directory for `resources`, initialised, authenticating with a
    /// client secret.
    #[track_caller]
    pub fn workdir(&self, resources: &str) -> Workdir {
        let wd = Workdir::new(&config(resources)).envs(self.secret_env());
        wd.init();
        wd
    }

    /// A stored resource, which must exist.
    #[track_caller]
    pub fn get(&self, id: &str) -> serde_json::Value {
        self.sim.resource(id).unwrap_or_else(|| panic!("{id} should exist in the simulator"))
    }

    /// Replaces a stored resource out of band (drift).
    #[track_caller]
    pub fn put(&self, id: &str, body: serde_json::Value) {
        self.sim.put_resource(id, body).unwrap_or_else(|e| panic!("put_resource {id}: {e}"));
    }

    /// Changes a stored resource out of band with `edit`.
    #[track_caller]
    pub fn edit(&self, id: &str, edit: impl FnOnce(&mut serde_json::Value)) {
        let mut body = self.get(id);
        edit(&mut body);
        self.put(id, body);
    }
}
