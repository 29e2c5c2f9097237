//! `aksudr_node_pool` against the ARM simulator with the real terraform: a
//! UDR cluster with two user pools in subnets of their own, built in one
//! apply; pools whose subnet cannot carry UDR egress refused at plan (R12,
//! R13) and, when the network changes after the plan, by the check before
//! the pool PUT with nothing sent; import; the autoscaler's count.

use serde_json::json;

use crate::harness::{config, egress_stack, route_table_id, subnet_id, Azure};
use crate::lifecycle_cluster::{cluster, cluster_id, default_route, egress_in_place, wired};

const SUBSCRIPTION: &str = "/subscriptions/00000000-0000-0000-0000-000000000000";

fn pool_id(name: &str) -> String {
    format!("{}/agentPools/{name}", cluster_id("aks-egress"))
}

/// Creates the subnet `name` of VNet `vnet` out of band.
fn add_subnet(az: &Azure, name: &str, prefix: &str) {
    az.put(&subnet_id(name), json!({"properties": {"addressPrefix": prefix}}));
}

/// Agent pool writes the simulator received.
fn pool_writes(az: &Azure) -> usize {
    az.sim
        .requests()
        .iter()
        .filter(|r| (r.method == "PUT" || r.method == "DELETE") && r.path.contains("/agentPools/"))
        .count()
}

/// A pool named `name` of the cluster in the configuration, in `subnet`
/// (an HCL expression); `extra` goes into the resource.
fn pool(name: &str, subnet: &str, extra: &str) -> String {
    format!(
        r#"
resource "aksudr_node_pool" "{name}" {{
  name           = "{name}"
  cluster_id     = aksudr_cluster.aks.id
  vm_size        = "Standard_D4s_v5"
  vnet_subnet_id = {subnet}
  {extra}
}}
"#
    )
}

fn association(name: &str) -> String {
    format!(
        r#"
resource "aksudr_subnet_route_table_association" "{name}" {{
  subnet_id      = "{subnet}"
  route_table_id = aksudr_route_table.rt.id
}}
"#,
        subnet = subnet_id(name)
    )
}

#[test]
fn a_cluster_and_two_user_pools_apply_replan_empty_import_and_destroy() {
    let az = Azure::start();
    add_subnet(&az, "users1", "10.0.10.0/24");
    add_subnet(&az, "users2", "10.0.11.0/24");
    // Everything in one apply: table, default route, three associations,
    // the cluster and its pools. The plan-time checks see the network and
    // the cluster as this plan leaves them.
    let hcl = format!(
        "{}{}{}{}{}{}",
        egress_stack("rt-egress"),
        association("users1"),
        association("users2"),
        wired(&cluster("azure", "network_plugin_mode = \"overlay\"", "")),
        pool(
            "users1",
            "aksudr_subnet_route_table_association.users1.subnet_id",
            "auto_scaling_enabled = true\n  min_count = 1\n  max_count = 5\n  node_labels = { workload = \"batch\" }\n  node_taints = [\"dedicated=batch:NoSchedule\"]"
        ),
        pool("users2", "aksudr_subnet_route_table_association.users2.subnet_id", "node_count = 2\n  zones = [\"1\", \"2\"]"),
    );
    let mut wd = az.workdir(&hcl);
    wd.plan().assert_success();
    wd.apply().assert_stdout_contains("8 added");
    let live = az.get(&cluster_id("aks-egress"));
    let mut names: Vec<&str> = live["properties"]["agentPoolProfiles"]
        .as_array()
        .map(|p| p.iter().filter_map(|p| p["name"].as_str()).collect())
        .unwrap_or_default();
    names.sort_unstable();
    assert_eq!(names, ["system", "users1", "users2"], "{live}");
    let users1 = az.get(&pool_id("users1"));
    assert_eq!(users1["properties"]["mode"], "User");
    assert_eq!(
        users1["properties"]["vnetSubnetID"].as_str().map(str::to_ascii_lowercase),
        Some(subnet_id("users1").to_ascii_lowercase())
    );
    assert_eq!(users1["properties"]["nodeTaints"], json!(["dedicated=batch:NoSchedule"]));
    assert_eq!(az.get(&pool_id("users2"))["properties"]["count"], 2);
    wd.assert_no_changes();

    // The autoscaler's count is not drift, and an update of the pool keeps it.
    az.edit(&cluster_id("aks-egress"), |c| {
        for p in c["properties"]["agentPoolProfiles"].as_array_mut().into_iter().flatten() {
            if p["name"] == "users1" {
                p["count"] = json!(4);
            }
        }
    });
    wd.assert_no_changes();
    wd.rewrite(&config(&hcl.replace("workload = \"batch\"", "workload = \"batch2\"")));
    wd.apply().assert_stdout_contains("1 changed");
    let users1 = az.get(&pool_id("users1"));
    assert_eq!(users1["properties"]["count"], 4, "{users1}");
    assert_eq!(users1["properties"]["nodeLabels"]["workload"], "batch2");
    // A cluster update leaves the pools it does not name alone.
    let tagged = hcl.replace("workload = \"batch\"", "workload = \"batch2\"").replacen(
        "dns_prefix",
        "tags = {\n    env = \"test\"\n  }\n  dns_prefix",
        1,
    );
    wd.rewrite(&config(&tagged));
    wd.apply().assert_stdout_contains("1 changed");
    assert_eq!(az.get(&pool_id("users2"))["properties"]["count"], 2);
    wd.assert_no_changes();

    // Turning the autoscaler off without a node_count keeps the autoscaler's
    // last count (4), not the one from before it took over (1).
    let manual =
        tagged.replace("auto_scaling_enabled = true\n  min_count = 1\n  max_count = 5", "auto_scaling_enabled = false");
    wd.rewrite(&config(&manual));
    wd.apply().assert_stdout_contains("1 changed");
    let users1 = az.get(&pool_id("users1"));
    assert_eq!(users1["properties"]["count"], 4, "the pool was scaled in: {users1}");
    assert_eq!(users1["properties"]["enableAutoScaling"], false);
    wd.assert_no_changes();

    // Import into a fresh state, with the ID as `az aks nodepool show`
    // prints it (`resourcegroups`): the state holds the canonical spelling
    // and the plan after it is empty.
    wd.terraform(&["state", "rm", "aksudr_node_pool.users2"]).assert_success();
    let as_the_cli_prints = pool_id("users2").replace("/resourceGroups/", "/resourcegroups/");
    wd.terraform(&["import", "-input=false", "aksudr_node_pool.users2", &as_the_cli_prints]).assert_success();
    let shown = wd.terraform(&["state", "show", "-no-color", "aksudr_node_pool.users2"]);
    shown.assert_success();
    let id_line = shown.stdout.lines().find(|l| l.trim_start().starts_with("id ")).unwrap_or_default();
    assert!(id_line.contains(&pool_id("users2")), "state id not canonical: {id_line}");
    wd.assert_no_changes();
    // Creating a pool that exists needs an import.
    wd.terraform(&["state", "rm", "aksudr_node_pool.users2"]).assert_success();
    let out = wd.apply_with(&["-target=aksudr_node_pool.users2"]);
    out.assert_failure();
    assert!(out.stderr.contains("needs to be imported"), "{}", out.stderr);
    wd.terraform(&["import", "-input=false", "aksudr_node_pool.users2", &pool_id("users2")]).assert_success();

    wd.destroy().assert_success();
    assert!(az.sim.resource(&cluster_id("aks-egress")).is_none(), "the cluster is gone");
}

#[test]
fn a_pool_whose_subnet_has_no_default_route_is_refused_at_plan() {
    let az = Azure::start();
    egress_in_place(&az, default_route("VirtualAppliance"));
    add_subnet(&az, "users1", "10.0.10.0/24");
    // users1 uses a table with only a route to the firewall's public IP.
    let rt = route_table_id("rt-users");
    az.put(
        &rt,
        json!({"location": "westeurope", "properties": {"routes": [{"name": "fw-ip", "properties": {"addressPrefix": "20.50.60.70/32", "nextHopType": "Internet"}}]}}),
    );
    az.edit(&subnet_id("users1"), |s| s["properties"]["routeTable"] = json!({"id": rt}));
    let base = cluster("azure", "network_plugin_mode = \"overlay\"", "");
    let mut wd = az.workdir(&base);
    wd.apply();

    let with_pool = format!("{base}{}", pool("users1", &format!("\"{}\"", subnet_id("users1")), ""));
    wd.rewrite(&config(&with_pool));
    let out = wd.plan();
    out.assert_failure();
    let diags = out.diagnostics();
    let d = diags
        .iter()
        .find(|d| d.summary.starts_with("Route table has no default route"))
        .unwrap_or_else(|| out.fail("no R12 error"));
    let want_line = crate::harness::line_of(wd.main_tf(), "subnets/users1\"");
    assert_eq!(d.line, Some(want_line), "the error points at the pool's vnet_subnet_id: {d:#?}");
    assert_eq!(pool_writes(&az), 0);

    // Fixed with a default route in the same plan (ordered by depends_on).
    let fixed = format!(
        r#"{with_pool}
resource "aksudr_firewall_route" "users" {{
  name                   = "default"
  route_table_id         = "{rt}"
  next_hop_in_ip_address = "10.0.4.4"
}}"#
    )
    .replace(
        "  vm_size        = \"Standard_D4s_v5\"",
        "  vm_size        = \"Standard_D4s_v5\"\n  depends_on     = [aksudr_firewall_route.users]",
    );
    wd.rewrite(&config(&fixed));
    let out = wd.terraform(&["plan", "-input=false", "-out=tfplan"]);
    out.assert_success();
    // The network changes between plan and apply: the check before the
    // pool PUT refuses, and sends nothing.
    wd.terraform(&["apply", "-input=false", "-auto-approve", "-target=aksudr_firewall_route.users"]).assert_success();
    let out = wd.terraform(&["plan", "-input=false", "-out=tfplan"]);
    out.assert_success();
    az.edit(&subnet_id("users1"), |s| {
        if let Some(p) = s["properties"].as_object_mut() {
            p.remove("routeTable");
        }
    });
    let out = wd.terraform(&["apply", "-input=false", "tfplan"]);
    out.assert_failure();
    assert!(out.stderr.contains("Node subnet has no route table"), "{}", out.stderr);
    assert_eq!(pool_writes(&az), 0, "the precheck must send nothing");
    assert!(az.sim.resource(&pool_id("users1")).is_none());
}

#[test]
fn kubenet_pools_must_share_the_cluster_route_table_and_vnet() {
    let az = Azure::start();
    egress_in_place(&az, default_route("VirtualAppliance"));
    add_subnet(&az, "users1", "10.0.10.0/24");
    let other = route_table_id("rt-other");
    az.put(&other, json!({"location": "westeurope", "properties": {"routes": default_route("VirtualAppliance")}}));
    az.edit(&subnet_id("users1"), |s| s["properties"]["routeTable"] = json!({"id": other}));
    let identity = format!(
        "{SUBSCRIPTION}/resourceGroups/rg-egress/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aks"
    );
    let base = cluster(
        "kubenet",
        "pod_cidr = \"10.244.0.0/16\"",
        &format!("identity {{\n    type = \"UserAssigned\"\n    identity_ids = [\"{identity}\"]\n  }}"),
    );
    let mut wd = az.workdir(&base);
    wd.apply();

    wd.rewrite(&config(&format!("{base}{}", pool("users1", &format!("\"{}\"", subnet_id("users1")), ""))));
    let out = wd.plan();
    out.assert_failure();
    let diags = out.diagnostics();
    let d = diags.iter().find(|d| d.summary.contains("(R13)")).unwrap_or_else(|| out.fail("no R13 error"));
    assert_eq!(d.line, Some(crate::harness::line_of(wd.main_tf(), "subnets/users1\"")), "{d:#?}");

    // A subnet in another virtual network: R12.
    let elsewhere = format!(
        "{SUBSCRIPTION}/resourceGroups/rg-egress/providers/Microsoft.Network/virtualNetworks/vnet-other/subnets/users"
    );
    wd.rewrite(&config(&format!("{base}{}", pool("users1", &format!("\"{elsewhere}\""), ""))));
    let out = wd.plan();
    out.assert_failure();
    assert!(out.stderr.contains("another virtual network (R12)"), "{}", out.stderr);

    // Associated with the cluster's table, the pool is fine.
    az.edit(&subnet_id("users1"), |s| s["properties"]["routeTable"] = json!({"id": route_table_id("rt-egress")}));
    wd.rewrite(&config(&format!("{base}{}", pool("users1", &format!("\"{}\"", subnet_id("users1")), ""))));
    wd.apply().assert_stdout_contains("1 added");
    wd.assert_no_changes();
    assert_eq!(pool_writes(&az), 1);
}

#[test]
fn a_separate_pool_must_be_a_scale_set_and_autoscaling_needs_its_bounds() {
    let az = Azure::start();
    let base = cluster("azure", "network_plugin_mode = \"overlay\"", "");
    let wd = az.workdir(&format!(
        "{base}{}",
        pool(
            "users1",
            &format!("\"{}\"", subnet_id("aks")),
            "type = \"AvailabilitySet\"\n  auto_scaling_enabled = true\n  max_count = 3"
        )
    ));
    let out = wd.terraform(&["validate"]);
    out.assert_failure();
    for expected in ["(R10)", "auto_scaling_enabled needs min_count (R11)"] {
        assert!(out.stderr.contains(expected), "{expected}: {}", out.stderr);
    }
}
