//! One configuration, one live state: the same plan verdict on every run,
//! whatever order Terraform plans the resources in, and an apply that
//! passes whenever the plan did. Each configuration builds the cluster's
//! egress (route table, default route, association) in the same run as the
//! cluster, ordered in one of the ways users write it; one lacks the default
//! route and must be refused every time.
//!
//! Each run starts a fresh armsim whose reads are slow in turn for the
//! cluster and for the route table, so that the cluster is planned before
//! its egress in some runs and after it in others, and whose operations take
//! a moment. `AKSUDR_DETERMINISM_RUNS` sets the number of runs (2 by
//! default; `make determinism`, which CI runs, sets 10).

use std::time::Duration;

use crate::harness::{egress_stack, subnet_id, Azure};
use crate::lifecycle_cluster::{cluster, cluster_id};

fn runs() -> usize {
    std::env::var("AKSUDR_DETERMINISM_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(2)
}

/// The cluster in subnet `aks` with the literal subnet ID.
fn literal_cluster() -> String {
    cluster("azure", "network_plugin_mode = \"overlay\"", "")
}

/// Plans `resources` `runs()` times, alternating which reads are slow, and
/// applies every plan that passed; returns the plan verdicts. Panics if an
/// apply fails after its plan passed.
fn verdicts(resources: &str) -> Vec<bool> {
    (0..runs())
        .map(|run| {
            let az = Azure::start_with(armsim::Config { lro_delay: Duration::from_millis(200), ..Default::default() });
            // Even runs: the cluster's reads are slow, its egress is planned
            // first. Odd runs: the route table's are, the cluster is first.
            let slow = if run % 2 == 0 { "/managedClusters/" } else { "/routeTables/" };
            az.sim
                .add_latency(armsim::Latency {
                    method: Some("GET".into()),
                    path_regex: format!("(?i){slow}"),
                    delay_ms: 800,
                    count: None,
                    after_commit: false,
                })
                .unwrap_or_else(|e| panic!("{e}"));
            let wd = az.workdir(resources);
            let plan = wd.plan();
            if !plan.success() {
                return false;
            }
            let out = wd.apply_with(&[]);
            if !out.success() {
                out.fail(format_args!("run {run}: the plan passed but the apply failed"));
            }
            assert!(az.sim.resource(&cluster_id("aks-egress")).is_some(), "run {run}: no cluster after the apply");
            true
        })
        .collect()
}

#[track_caller]
fn assert_always(resources: &str, expected: bool) {
    let got = verdicts(resources);
    assert!(got.iter().all(|v| *v == expected), "plan verdicts {got:?}, expected {expected} every time");
}

#[test]
fn a_literal_subnet_without_ordering() {
    assert_always(&format!("{}{}", egress_stack("rt-egress"), literal_cluster()), true);
}

#[test]
fn a_cluster_referencing_only_the_association() {
    let hcl = literal_cluster().replace(
        &format!("vnet_subnet_id = \"{}\"", subnet_id("aks")),
        "vnet_subnet_id = aksudr_subnet_route_table_association.aks.subnet_id",
    );
    assert_always(&format!("{}{hcl}", egress_stack("rt-egress")), true);
}

#[test]
fn depends_on_the_route_and_the_association() {
    let hcl = cluster(
        "azure",
        "network_plugin_mode = \"overlay\"",
        "depends_on = [aksudr_firewall_route.default, aksudr_subnet_route_table_association.aks]",
    );
    assert_always(&format!("{}{hcl}", egress_stack("rt-egress")), true);
}

#[test]
fn egress_route_id_only() {
    let hcl = cluster(
        "azure",
        "network_plugin_mode = \"overlay\"\n    egress_route_id = aksudr_firewall_route.default.id",
        "",
    );
    assert_always(&format!("{}{hcl}", egress_stack("rt-egress")), true);
}

#[test]
fn full_references() {
    let hcl = crate::lifecycle_cluster::wired(&literal_cluster());
    assert_always(&format!("{}{hcl}", egress_stack("rt-egress")), true);
}

#[test]
fn no_default_route_is_refused_every_time() {
    let without_route = egress_stack("rt-egress").replace(
        "resource \"aksudr_firewall_route\" \"default\" {",
        "resource \"aksudr_route\" \"default\" {\n  address_prefix = \"10.50.0.0/16\"\n  next_hop_type = \"VirtualAppliance\"",
    );
    assert_always(&format!("{without_route}{}", literal_cluster()), false);
}

#[test]
fn a_node_pool_with_a_literal_subnet_whose_association_is_not_ordered() {
    let pool = format!(
        r#"
resource "aksudr_subnet_route_table_association" "users" {{
  subnet_id      = "{users}"
  route_table_id = aksudr_route_table.rt.id
}}

resource "aksudr_node_pool" "users" {{
  name           = "users"
  cluster_id     = aksudr_cluster.aks.id
  vm_size        = "Standard_D4s_v5"
  vnet_subnet_id = "{users}"
}}
"#,
        users = subnet_id("users")
    );
    let hcl = crate::lifecycle_cluster::wired(&literal_cluster());
    assert_always(&format!("{}{hcl}{pool}", egress_stack("rt-egress")), true);
}
