//! The plan-time egress check sees the network as the plan leaves it: the
//! configurations users write (a literal subnet ID with `depends_on`, or
//! references) build route table, routes, association and cluster in one
//! run without a false error; new network objects plan their real IDs; a
//! subnet that stays without a default route, or loses it in this plan, is
//! refused at plan with nothing sent to AKS; the way out of a refused plan
//! (`terraform destroy -refresh=false`) works; and a no-op plan of an
//! existing cluster reads nothing beyond the refresh.

use serde_json::json;

use crate::harness::{egress_stack, plans_destroys_with_provider, route_table_id, subnet_id, Azure, SUBSCRIPTION};
use crate::lifecycle_cluster::{cluster, cluster_puts, egress_in_place, wired};

const OVERLAY: &str = "network_plugin_mode = \"overlay\"";

/// The cluster of `lifecycle_cluster` with the literal subnet ID and
/// `depends_on` on what orders egress before it.
fn cluster_depending_on(deps: &str) -> String {
    cluster("azure", OVERLAY, &format!("depends_on = [{deps}]"))
}

const STACK_DEPS: &str = "aksudr_subnet_route_table_association.aks, aksudr_firewall_route.default";

/// Requests of `method` whose path ends with `suffix`.
fn requests_ending(az: &Azure, method: &str, suffix: &str) -> usize {
    az.sim.requests().iter().filter(|r| r.method == method && r.path.ends_with(suffix)).count()
}

#[test]
fn greenfield_with_a_literal_subnet_and_depends_on_applies_in_one_run() {
    let az = Azure::start();
    let hcl = format!("{}{}", egress_stack("rt-egress"), cluster_depending_on(STACK_DEPS));
    let wd = az.workdir(&hcl);
    wd.apply().assert_stdout_contains("4 added");
    assert_eq!(
        az.get(&subnet_id("aks"))["properties"]["routeTable"]["id"].as_str().map(str::to_ascii_lowercase),
        Some(route_table_id("rt-egress").to_ascii_lowercase())
    );
    wd.assert_no_changes();
    wd.destroy();
}

#[test]
fn the_depends_on_example_applies_plans_clean_and_destroys() {
    let az = Azure::start();
    let example = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/udr-firewall-egress/depends-on/main.tf"
    ))
    .unwrap_or_else(|e| panic!("reading the example: {e}"));
    let wd = crate::harness::Workdir::new(&example).envs(az.secret_env());
    wd.init();
    wd.apply().assert_stdout_contains("4 added");
    wd.assert_no_changes();
    wd.destroy();
    assert!(az.sim.resource(&route_table_id("rt-aks-egress")).is_none());
}

#[test]
fn greenfield_with_references_is_checked_at_plan() {
    let az = Azure::start();
    let wired_hcl = wired(&format!("{}{}", egress_stack("rt-egress"), cluster("azure", OVERLAY, "")));
    // The route the cluster names is not a default route and the table has
    // none: known at plan now that the route's ID is, so refused at plan.
    let broken = wired_hcl.replace(
        "next_hop_in_ip_address = \"10.0.4.4\"",
        "next_hop_in_ip_address = \"10.0.4.4\"\n  address_prefix         = \"10.0.0.0/8\"",
    );
    let mut wd = az.workdir(&broken);
    let out = wd.plan();
    out.assert_failure();
    assert!(out.stderr.contains("Route table has no default route"), "{}", out.stderr);
    assert!(out.stderr.contains("egress_route_id is not the subnet's default route"), "{}", out.stderr);
    assert!(az.sim.requests().iter().all(|r| r.method == "GET" || r.method == "POST"), "a plan writes nothing");

    wd.rewrite(&crate::harness::config(&wired_hcl));
    wd.apply().assert_stdout_contains("4 added");
    wd.assert_no_changes();
}

#[test]
fn new_network_objects_plan_their_real_ids_and_keep_that_spelling() {
    let az = Azure::start();
    // The group as the user spells it; armsim, like ARM, answers with the
    // group's stored casing (rg-egress).
    let hcl = egress_stack("rt-egress").replace("\"rg-egress\"", "\"RG-Egress\"");
    let wd = az.workdir(&hcl);
    let plan = wd.terraform(&["plan", "-input=false", "-out=tfplan"]);
    plan.assert_success();
    assert!(!plan.stdout.contains("id                     = (known after apply)"), "{}", plan.stdout);
    let shown = wd.terraform(&["show", "-json", "tfplan"]).assert_success().json();
    let table = format!("{SUBSCRIPTION}/resourceGroups/RG-Egress/providers/Microsoft.Network/routeTables/rt-egress");
    let expected = [
        ("aksudr_route_table.rt", table.clone()),
        ("aksudr_firewall_route.default", format!("{table}/routes/default")),
        ("aksudr_subnet_route_table_association.aks", subnet_id("aks")),
    ];
    let changes = shown["resource_changes"].as_array().cloned().unwrap_or_default();
    for (address, id) in &expected {
        let change = changes.iter().find(|c| c["address"] == *address).unwrap_or_else(|| panic!("{address}: {shown}"));
        assert_eq!(change["change"]["after"]["id"], json!(id), "{address}");
        assert_ne!(change["change"]["after_unknown"]["id"], json!(true), "{address}");
    }
    let route = changes.iter().find(|c| c["address"] == "aksudr_firewall_route.default").map(|c| &c["change"]["after"]);
    assert_eq!(route.map(|r| &r["route_table_id"]), Some(&json!(table)), "references are known at plan");

    wd.terraform(&["apply", "-input=false", "-auto-approve", "tfplan"]).assert_success().assert_no_errors();
    let state = wd.terraform(&["show", "-json"]).assert_success().json();
    let resources = state.pointer("/values/root_module/resources").and_then(|r| r.as_array()).cloned();
    for (address, id) in &expected {
        let r = resources.iter().flatten().find(|r| r["address"] == *address);
        assert_eq!(r.map(|r| &r["values"]["id"]), Some(&json!(id)), "{address} keeps the planned spelling");
    }
    wd.assert_no_changes();
}

#[test]
fn existing_network_without_a_default_route_is_refused_until_the_plan_adds_one() {
    let az = Azure::start();
    egress_in_place(&az, json!([]));
    let mut wd = az.workdir(&cluster("azure", OVERLAY, ""));
    let out = wd.plan();
    out.assert_failure();
    let diags = out.diagnostics();
    let Some(diag) = diags.iter().find(|d| d.summary.starts_with("Route table has no default route")) else {
        out.fail("no missing-default-route error");
    };
    let want_line = crate::harness::line_of(wd.main_tf(), "vnet_subnet_id");
    assert_eq!(diag.line, Some(want_line), "the error points at vnet_subnet_id: {diag:#?}");
    assert!(diag.text().contains("terraform destroy -refresh=false"), "{diag:#?}");
    assert!(diag.text().contains("azurerm_subnet_route_table_association"), "{diag:#?}");
    assert_eq!(cluster_puts(&az), 0);

    // The same configuration plus the firewall route, which the cluster
    // depends on: the plan passes, and so does the apply.
    let route = format!(
        r#"resource "aksudr_firewall_route" "default" {{
  name                   = "default"
  route_table_id         = "{table}"
  next_hop_in_ip_address = "10.0.4.4"
}}
"#,
        table = route_table_id("rt-egress")
    );
    let fixed = format!("{route}{}", cluster_depending_on("aksudr_firewall_route.default"));
    wd.rewrite(&crate::harness::config(&fixed));
    wd.terraform(&["plan", "-input=false"]).assert_success().assert_no_errors();
    wd.apply().assert_stdout_contains("2 added");
    wd.assert_no_changes();
}

#[test]
fn a_plan_that_deletes_the_default_route_the_new_cluster_needs_is_refused() {
    let az = Azure::start();
    let counted = egress_stack("rt-egress").replace(
        "resource \"aksudr_firewall_route\" \"default\" {",
        "resource \"aksudr_firewall_route\" \"default\" {\n  count                  = var.with_route ? 1 : 0",
    );
    let variable = "variable \"with_route\" {\n  type    = bool\n  default = true\n}\n";
    let mut wd = az.workdir(&format!("{variable}{counted}"));
    wd.apply().assert_stdout_contains("3 added");

    let with_cluster = format!(
        "{variable}{counted}{}",
        cluster_depending_on("aksudr_subnet_route_table_association.aks, aksudr_firewall_route.default")
    );
    wd.rewrite(&crate::harness::config(&with_cluster));
    let out = wd.terraform(&["plan", "-input=false", "-var", "with_route=false"]);
    if plans_destroys_with_provider() {
        out.assert_failure();
        assert!(out.stderr.contains("Route table has no default route"), "{}", out.stderr);
    } else {
        // Terraform before 1.3 plans a destroy without the provider, so the
        // plan cannot know; the check before the cluster PUT still runs.
        out.assert_success();
    }
    // Keeping the route, the same plan passes.
    wd.terraform(&["plan", "-input=false"]).assert_success().assert_no_errors();
    assert_eq!(cluster_puts(&az), 0);
}

#[test]
fn after_a_refused_plan_destroy_with_refresh_false_removes_the_rest() {
    let az = Azure::start();
    let network = r#"resource "aksudr_route_table" "rt" {
  name                = "rt-egress"
  resource_group_name = "rg-egress"
  location            = "westeurope"
}
"#
    .to_string()
        + &format!(
            r#"
resource "aksudr_subnet_route_table_association" "aks" {{
  subnet_id      = "{}"
  route_table_id = aksudr_route_table.rt.id
}}
"#,
            subnet_id("aks")
        );
    let mut wd = az.workdir(&network);
    wd.apply().assert_stdout_contains("2 added");
    wd.rewrite(&crate::harness::config(&format!(
        "{network}{}",
        cluster_depending_on("aksudr_subnet_route_table_association.aks")
    )));
    let refused = wd.plan();
    refused.assert_failure();
    assert!(refused.stderr.contains("terraform destroy -refresh=false"), "{}", refused.stderr);

    wd.terraform(&["destroy", "-input=false", "-auto-approve", "-refresh=false"]).assert_success();
    assert!(az.sim.resource(&route_table_id("rt-egress")).is_none(), "the route table is gone");
    assert!(az.get(&subnet_id("aks"))["properties"].get("routeTable").is_none(), "the subnet is free again");
    assert_eq!(cluster_puts(&az), 0);
}

#[test]
fn a_no_op_plan_of_an_existing_cluster_reads_nothing_beyond_the_refresh() {
    let az = Azure::start();
    let hcl = format!("{}{}", egress_stack("rt-egress"), cluster_depending_on(STACK_DEPS));
    let wd = az.workdir(&hcl);
    wd.apply();
    az.sim.clear_requests();
    wd.assert_no_changes();
    // The refresh reads the association (the subnet) once and the route
    // table once; the cluster's check, which a no-op does not need, would
    // read both again.
    assert_eq!(requests_ending(&az, "GET", "/virtualNetworks/vnet/subnets/aks"), 1, "{:#?}", az.sim.requests());
    assert_eq!(requests_ending(&az, "GET", "/routeTables/rt-egress"), 1, "{:#?}", az.sim.requests());
}

#[test]
fn a_table_replaced_under_the_same_id_takes_its_routes_along() {
    let az = Azure::start();
    // Without the association: a subnet only takes a table of its region.
    let stack = |location: &str| {
        let full = egress_stack("rt-egress").replace("westeurope", location);
        full[..full.find("resource \"aksudr_subnet_route_table_association\"").unwrap_or(full.len())].to_string()
    };
    let mut wd = az.workdir(&stack("westeurope"));
    wd.apply().assert_stdout_contains("2 added");
    // Same name, new region: a new table under the same ID. Its ID is left
    // unknown at plan, so the route that references it is replaced too
    // instead of being lost with the old table.
    wd.rewrite(&crate::harness::config(&stack("northeurope")));
    wd.assert_changes().assert_stdout_contains("aksudr_firewall_route.default must be replaced");
    wd.apply().assert_stdout_contains("2 added, 0 changed, 2 destroyed");
    let routes = az.get(&route_table_id("rt-egress"))["properties"]["routes"].clone();
    assert_eq!(routes.as_array().map(Vec::len), Some(1), "{routes}");
    wd.assert_no_changes();
}
