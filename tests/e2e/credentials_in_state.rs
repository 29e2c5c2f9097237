//! `store_kube_config = false` keeps every credential of the cluster out of
//! Terraform's state: nothing listed, nothing stored, and switching it either
//! way changes state only, never the cluster.

use crate::harness::Azure;
use crate::lifecycle_cluster::{cluster, cluster_id, cluster_puts, default_route, egress_in_place};

/// How often the provider asked for the cluster user's kubeconfig.
fn credential_lists(az: &Azure) -> usize {
    az.sim.requests().iter().filter(|r| r.method == "POST" && r.path.contains("listClusterUserCredential")).count()
}

/// What of a kubeconfig the pulled state holds (empty when none).
fn secrets_in(state: &str) -> Vec<&'static str> {
    ["kind: Config", "token:", "client-key-data", "client-certificate-data", "certificate-authority-data"]
        .into_iter()
        .filter(|s| state.contains(s))
        .collect()
}

#[test]
fn with_store_kube_config_false_state_holds_no_credentials() {
    let az = Azure::start();
    egress_in_place(&az, default_route("VirtualAppliance"));
    let base = cluster("azure", "network_plugin_mode = \"overlay\"", "");
    let without = cluster("azure", "network_plugin_mode = \"overlay\"", "store_kube_config = false");
    let mut wd = az.workdir(&without);
    wd.apply().assert_stdout_contains("1 added");
    wd.assert_no_changes();
    let state = wd.terraform(&["state", "pull"]);
    state.assert_success();
    assert!(state.stdout.contains(&cluster_id("aks-egress")), "the cluster is in state");
    assert_eq!(secrets_in(&state.stdout), Vec::<&str>::new(), "credentials in state: {}", state.stdout);
    assert_eq!(credential_lists(&az), 0, "the credentials were listed");

    // Switching it on stores the kubeconfig; no PUT reaches the cluster.
    let puts = cluster_puts(&az);
    wd.rewrite(&crate::harness::config(&base));
    wd.apply().assert_stdout_contains("1 changed");
    wd.assert_no_changes();
    let state = wd.terraform(&["state", "pull"]).stdout.clone();
    assert!(secrets_in(&state).contains(&"token:"), "no kubeconfig stored: {state}");
    // And off again: gone from state.
    wd.rewrite(&crate::harness::config(&without));
    wd.apply().assert_stdout_contains("1 changed");
    wd.assert_no_changes();
    let state = wd.terraform(&["state", "pull"]).stdout.clone();
    assert_eq!(secrets_in(&state), Vec::<&str>::new(), "credentials left in state: {state}");
    assert_eq!(cluster_puts(&az), puts, "switching store_kube_config wrote the cluster");

    wd.destroy().assert_success();
}
