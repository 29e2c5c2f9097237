//! `aksudr_cluster` against the ARM simulator with the real terraform: the
//! firewall-egress example end to end, every AKS validation case caught by
//! the provider first (the simulator's log then shows no cluster PUT), the
//! plan-time live subnet check, the precheck waiting for this run's route, kubenet pod
//! routes, in-place and replacing changes, failed and interrupted creates
//! that stay tracked, import, and a kubeconfig that never reaches the logs.

use std::time::Duration;

use serde_json::json;

use crate::harness::{config, egress_stack, route_table_id, subnet_id, Azure, Workdir};

const CLUSTERS: &str = "Microsoft.ContainerService/managedClusters";

pub(crate) fn cluster_id(name: &str) -> String {
    format!("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-egress/providers/{CLUSTERS}/{name}")
}

/// A cluster in subnet `aks`; `extra_net` goes into `network_profile`,
/// `extra` into the resource.
pub(crate) fn cluster(plugin: &str, extra_net: &str, extra: &str) -> String {
    format!(
        r#"resource "aksudr_cluster" "aks" {{
  name                = "aks-egress"
  resource_group_name = "rg-egress"
  location            = "West Europe"
  dns_prefix          = "aks-egress"
  {extra}
  default_node_pool {{
    name           = "system"
    vm_size        = "Standard_D2s_v5"
    node_count     = 2
    vnet_subnet_id = "{subnet}"
  }}
  network_profile {{
    network_plugin = "{plugin}"
    {extra_net}
  }}
}}
"#,
        subnet = subnet_id("aks"),
    )
}

/// Puts a route table with `routes` on subnet `aks`, out of band (as
/// another team's Terraform would have).
pub(crate) fn egress_in_place(az: &Azure, routes: serde_json::Value) {
    let rt = route_table_id("rt-egress");
    az.put(&rt, json!({"location": "westeurope", "properties": {"routes": routes}}));
    az.edit(&subnet_id("aks"), |s| s["properties"]["routeTable"] = json!({"id": rt}));
}

pub(crate) fn default_route(next_hop: &str) -> serde_json::Value {
    let mut props = json!({"addressPrefix": "0.0.0.0/0", "nextHopType": next_hop});
    if next_hop == "VirtualAppliance" {
        props["nextHopIpAddress"] = json!("10.0.4.4");
    }
    json!([{"name": "default", "properties": props}])
}

/// `hcl` with the cluster referencing the association and the firewall
/// route, as the example does: Terraform then creates them first.
pub(crate) fn wired(hcl: &str) -> String {
    hcl.replace(
        &format!("vnet_subnet_id = \"{}\"", subnet_id("aks")),
        "vnet_subnet_id = aksudr_subnet_route_table_association.aks.subnet_id",
    )
    .replacen("network_profile {", "network_profile {\n    egress_route_id = aksudr_firewall_route.default.id", 1)
}

/// Whether the simulator ever received a write of a managed cluster.
pub(crate) fn cluster_puts(az: &Azure) -> usize {
    az.sim.requests().iter().filter(|r| r.method == "PUT" && r.path.contains(CLUSTERS)).count()
}

#[test]
fn firewall_egress_example_applies_plans_clean_and_destroys() {
    let az = Azure::start();
    let example = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/udr-firewall-egress/main.tf"))
        .unwrap_or_else(|e| panic!("reading the example: {e}"));
    let wd = Workdir::new(&example).envs(az.secret_env());
    wd.init();
    wd.apply().assert_stdout_contains("7 added");
    let cluster = az.get(&cluster_id("aks-egress"));
    assert!(az.sim.resource(&format!("{}/agentPools/users", cluster_id("aks-egress"))).is_some());
    assert_eq!(cluster["properties"]["networkProfile"]["outboundType"], "userDefinedRouting");
    // UDR: AKS creates no outbound IPs of its own.
    assert!(cluster.pointer("/properties/networkProfile/loadBalancerProfile/effectiveOutboundIPs").is_none());
    wd.assert_no_changes();
    wd.destroy().assert_success();
    assert!(az.sim.resource(&cluster_id("aks-egress")).is_none());
    assert!(az.sim.resource(&route_table_id("rt-aks-egress")).is_none());
}

/// A validation case: name, how to set up Azure, the configuration, and
/// the text the plan's error must contain.
type Case = (&'static str, Box<dyn Fn(&Azure)>, String, &'static str);

/// Each case AKS would reject after the PUT is rejected by the provider's
/// plan first, on the attribute at fault, and no cluster PUT is ever sent.
#[test]
fn every_aks_validation_case_is_caught_before_any_put() {
    let az = Azure::start();
    let cases: Vec<Case> = vec![
        (
            "subnet without a route table",
            Box::new(|_: &Azure| {}),
            cluster("azure", "network_plugin_mode = \"overlay\"", ""),
            "ExistingRouteTableNotAssociatedWithSubnet",
        ),
        (
            "route table without a default route",
            Box::new(|az: &Azure| egress_in_place(az, json!([]))),
            cluster("azure", "network_plugin_mode = \"overlay\"", ""),
            "RouteTableMissingDefaultRouteError",
        ),
        (
            "default route to the Internet",
            Box::new(|az: &Azure| egress_in_place(az, default_route("Internet"))),
            cluster("azure", "network_plugin_mode = \"overlay\"", ""),
            "RouteTableInvalidNextHop",
        ),
        (
            "availability set node pool",
            Box::new(|az: &Azure| egress_in_place(az, default_route("VirtualAppliance"))),
            cluster("azure", "", "").replace("node_count     = 2", "node_count = 2\n    type = \"AvailabilitySet\""),
            "(R5)",
        ),
        (
            "basic load balancer",
            Box::new(|az: &Azure| egress_in_place(az, default_route("VirtualAppliance"))),
            cluster("azure", "load_balancer_sku = \"basic\"", ""),
            "(R5)",
        ),
        (
            "kubenet with a system-assigned identity",
            Box::new(|az: &Azure| egress_in_place(az, default_route("VirtualAppliance"))),
            cluster("kubenet", "", "identity {\n    type = \"SystemAssigned\"\n  }"),
            "CustomRouteTableWithUnsupportedMSIType",
        ),
    ];
    for (name, setup, hcl, expected) in cases {
        setup(&az);
        let wd = az.workdir(&hcl);
        let out = wd.plan();
        out.assert_failure();
        assert!(out.stderr.contains(expected), "{name}: expected {expected:?} in:\n{}", out.stderr);
        assert_eq!(cluster_puts(&az), 0, "{name}: a cluster PUT reached Azure");
    }
}

#[test]
fn a_cluster_not_ordered_after_its_route_waits_for_it_at_apply() {
    let az = Azure::start();
    // The association and route are created in this run; slow the route
    // down so the cluster, which does not depend on it, reaches its check
    // first. Routes are written through their table (a batched PUT of the
    // table) or, on fallback, one by one: both paths are slowed, and so is
    // the table's own create, which comes before either and only costs time.
    az.sim
        .add_latency(armsim::Latency {
            method: Some("PUT".into()),
            path_regex: "(?i)/routeTables/rt-egress(/routes/[^/]+)?$".into(),
            delay_ms: 3000,
            // The table's create and the route's first write.
            count: Some(2),
            after_commit: false,
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let hcl = format!("{}{}", egress_stack("rt-egress"), cluster("azure", "network_plugin_mode = \"overlay\"", ""));
    let wd = az.workdir(&hcl);
    // The check before the cluster is written waits for this run's route
    // instead of refusing an apply whose plan passed.
    wd.apply();
    wd.assert_no_changes();
    let log = az.sim.requests();
    let cluster_put = log
        .iter()
        .find(|r| r.method == "PUT" && r.path.contains(CLUSTERS))
        .map(|r| r.seq)
        .unwrap_or_else(|| panic!("no cluster PUT"));
    let route_written = log
        .iter()
        .filter(|r| r.method == "PUT" && r.path.to_ascii_lowercase().contains("/routetables/rt-egress"))
        .map(|r| r.seq)
        .max()
        .unwrap_or_else(|| panic!("no route table PUT"));
    assert!(route_written < cluster_put, "the cluster was written before its default route");
}

#[test]
fn kubenet_pod_routes_are_aks_own_and_left_alone() {
    let az = Azure::start();
    let identity = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-egress/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aks";
    let hcl = format!(
        r#"{stack}
resource "aksudr_route" "firewall_public_ip" {{
  name           = "firewall-public-ip"
  route_table_id = aksudr_route_table.rt.id
  address_prefix = "20.50.60.70/32"
  next_hop_type  = "Internet"
}}
{cluster}"#,
        stack = egress_stack("rt-egress"),
        cluster = cluster(
            "kubenet",
            "pod_cidr = \"10.244.0.0/16\"",
            &format!("identity {{\n    type = \"UserAssigned\"\n    identity_ids = [\"{identity}\"]\n  }}")
        ),
    );
    let wd = az.workdir(&wired(&hcl));
    wd.apply().assert_stdout_contains("5 added");
    let pod_routes = |az: &Azure| -> Vec<String> {
        az.get(&route_table_id("rt-egress"))["properties"]["routes"]
            .as_array()
            .map(|r| {
                r.iter()
                    .filter_map(|r| r["name"].as_str())
                    .filter(|n| n.starts_with("aks-"))
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let written_by_aks = pod_routes(&az);
    assert_eq!(written_by_aks.len(), 2, "one pod route per node");
    // AKS's routes are not ours: no drift.
    wd.assert_no_changes();
    wd.terraform(&["destroy", "-auto-approve", "-input=false", "-target=aksudr_route.firewall_public_ip"])
        .assert_success();
    assert_eq!(pod_routes(&az), written_by_aks, "AKS's pod routes must survive");
    wd.destroy().assert_success();
}

#[test]
fn outbound_type_in_place_and_forcing_changes() {
    let az = Azure::start();
    egress_in_place(&az, default_route("VirtualAppliance"));
    let mut wd =
        az.workdir(&cluster("azure", "network_plugin_mode = \"overlay\"\n    outbound_type = \"loadBalancer\"", ""));
    wd.apply();
    wd.assert_no_changes();

    wd.rewrite(&config(&cluster(
        "azure",
        "network_plugin_mode = \"overlay\"\n    outbound_type = \"userDefinedRouting\"",
        "",
    )));
    let plan = wd.assert_changes();
    assert!(plan.stdout.contains("updated in-place") && !plan.stdout.contains("must be replaced"), "{}", plan.stdout);
    wd.apply().assert_stdout_contains("1 changed");
    assert_eq!(az.get(&cluster_id("aks-egress"))["properties"]["networkProfile"]["outboundType"], "userDefinedRouting");
    wd.assert_no_changes();

    // The VM size cannot change in place: a new cluster.
    let forcing =
        cluster("azure", "network_plugin_mode = \"overlay\"", "").replace("Standard_D2s_v5", "Standard_D4s_v5");
    wd.rewrite(&config(&forcing));
    let plan = wd.assert_changes();
    assert!(plan.stdout.contains("must be replaced") && plan.stdout.contains("forces replacement"), "{}", plan.stdout);
    wd.apply().assert_stdout_contains("1 added");
    wd.assert_no_changes();
}

#[test]
fn failed_create_stays_tracked_and_the_next_apply_converges() {
    let az = Azure::start();
    egress_in_place(&az, default_route("VirtualAppliance"));
    az.sim
        .fail_next_lro(armsim::LroFailure {
            method: Some("PUT".into()),
            path_regex: "managedClusters".into(),
            code: "VMExtensionProvisioningError".into(),
            message: "the node bootstrap failed".into(),
            count: 1,
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let wd = az.workdir(&cluster("azure", "network_plugin_mode = \"overlay\"", ""));
    let out = wd.apply_with(&[]);
    out.assert_failure();
    assert!(
        out.stderr.contains("VMExtensionProvisioningError") && out.stderr.contains("the node bootstrap failed"),
        "{}",
        out.stderr
    );
    let listed = wd.terraform(&["state", "list"]);
    assert!(listed.stdout.contains("aksudr_cluster.aks"), "the cluster must stay in state:\n{}", listed.stdout);
    wd.apply();
    wd.assert_no_changes();
}

#[test]
fn interrupted_create_stays_tracked() {
    let az = Azure::start();
    egress_in_place(&az, default_route("VirtualAppliance"));
    az.sim.set_lro_delay(Duration::from_secs(600));
    let wd = az.workdir(&cluster("azure", "network_plugin_mode = \"overlay\"", ""));
    let mut child = wd.spawn(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    // The signal to wait for: AKS has the PUT.
    let started = std::time::Instant::now();
    while cluster_puts(&az) == 0 {
        assert!(started.elapsed() < Duration::from_secs(120), "terraform never sent the cluster PUT");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Ctrl-C in a terminal signals the whole foreground process group:
    // Terraform before 1.2 runs as a parent (which ignores SIGINT) and a
    // child that does the work, and the provider (which ignores it too, and
    // waits for Terraform's StopProvider).
    let group = format!("-{}", child.id());
    let interrupted = std::process::Command::new("kill").args(["-INT", "--", &group]).status();
    assert!(interrupted.is_ok_and(|s| s.success()));
    let status = loop {
        if let Some(status) = child.try_wait().unwrap_or_else(|e| panic!("{e}")) {
            break status;
        }
        if started.elapsed() > Duration::from_secs(180) {
            let _ = std::process::Command::new("kill").args(["-KILL", "--", &group]).status();
            panic!("terraform did not stop after SIGINT");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!status.success(), "an interrupted apply fails");
    let listed = wd.terraform(&["state", "list"]);
    assert!(listed.stdout.contains("aksudr_cluster.aks"), "the cluster must stay in state:\n{}", listed.stdout);
    az.sim.set_lro_delay(Duration::ZERO);
    az.sim.settle_operations();
    wd.apply();
    wd.assert_no_changes();
}

#[test]
fn import_then_empty_plan_and_existing_cluster_needs_import() {
    let az = Azure::start();
    egress_in_place(&az, default_route("VirtualAppliance"));
    let hcl = cluster("azure", "network_plugin_mode = \"overlay\"", "");
    let first = az.workdir(&hcl);
    first.apply();

    let second = az.workdir(&hcl);
    let out = second.apply_with(&[]);
    out.assert_failure();
    assert!(out.stderr.contains("terraform import"), "{}", out.stderr);

    second.terraform(&["import", "-input=false", "aksudr_cluster.aks", &cluster_id("aks-egress")]).assert_success();
    second.assert_no_changes();
}

#[test]
fn kubeconfig_never_reaches_the_logs() {
    let az = Azure::start();
    egress_in_place(&az, default_route("VirtualAppliance"));
    let wd = az.workdir(&cluster("azure", "network_plugin_mode = \"overlay\"", "")).env("TF_LOG", "trace");
    let out = wd.apply();
    let state = wd.terraform(&["show", "-json"]).json();
    let raw = state
        .pointer("/values/root_module/resources/0/values/kube_config_raw")
        .and_then(|v| v.as_str())
        .unwrap_or_else(|| panic!("no kubeconfig in state: {state}"))
        .to_string();
    let token = raw.lines().find_map(|l| l.trim().strip_prefix("token:")).map(str::trim).unwrap_or_default();
    assert!(!token.is_empty(), "the kubeconfig has a token");
    assert!(!out.stderr.contains(token), "the kubeconfig token appeared in TF_LOG=trace output");
    assert!(!out.stdout.contains(token));
}

#[test]
fn create_timeout_is_honoured_and_the_cluster_stays_tracked() {
    let az = Azure::start();
    egress_in_place(&az, default_route("VirtualAppliance"));
    az.sim.set_lro_delay(Duration::from_secs(600));
    let hcl = cluster("azure", "network_plugin_mode = \"overlay\"", "timeouts {\n    create = \"3s\"\n  }");
    let wd = az.workdir(&hcl);
    let out = wd.apply_with(&[]);
    out.assert_failure();
    assert!(out.stderr.contains("Timed out while creating AKS cluster"), "{}", out.stderr);
    let listed = wd.terraform(&["state", "list"]);
    assert!(listed.stdout.contains("aksudr_cluster.aks"), "the cluster must stay in state:\n{}", listed.stdout);
    az.sim.set_lro_delay(Duration::ZERO);
    az.sim.settle_operations();
    wd.apply();
    wd.assert_no_changes();
}

#[test]
fn the_autoscaler_changing_the_node_count_is_not_drift() {
    let az = Azure::start();
    egress_in_place(&az, default_route("VirtualAppliance"));
    let hcl = cluster("azure", "network_plugin_mode = \"overlay\"", "").replace(
        "node_count     = 2",
        "node_count = 2\n    auto_scaling_enabled = true\n    min_count = 1\n    max_count = 5",
    );
    let mut wd = az.workdir(&hcl);
    wd.apply();
    az.edit(&cluster_id("aks-egress"), |c| c["properties"]["agentPoolProfiles"][0]["count"] = json!(4));
    wd.assert_no_changes();

    // An update of something else (tags) is built on the live cluster: the
    // PUT carries the autoscaler's count, not the stale one from the state,
    // and keeps what the configuration does not own.
    az.edit(&cluster_id("aks-egress"), |c| {
        c["properties"]["agentPoolProfiles"][0]["nodeLabels"] = json!({"team": "platform"});
        c["properties"]["addonProfiles"] = json!({"azurepolicy": {"enabled": true}});
    });
    wd.rewrite(&config(&hcl.replacen("dns_prefix", "tags = {\n    env = \"test\"\n  }\n  dns_prefix", 1)));
    wd.apply().assert_stdout_contains("1 changed");
    let live = az.get(&cluster_id("aks-egress"));
    assert_eq!(live["tags"]["env"], "test");
    let pool = &live["properties"]["agentPoolProfiles"][0];
    assert_eq!(pool["count"], 4, "the autoscaler's count survives an update: {pool}");
    assert_eq!(pool["nodeLabels"]["team"], "platform");
    assert_eq!(live["properties"]["addonProfiles"]["azurepolicy"]["enabled"], true);
    wd.assert_no_changes();
}
