//! `aksudr_firewall_route` and `aksudr_route` against the ARM simulator:
//! create, no-op plan, in-place updates, replacement, drift, out-of-band
//! deletion, import (command and block), the import hint, a firewall route
//! import of a route that is not one, many routes in parallel, destroy.

use serde_json::json;

use crate::harness::{config, route_table_id, supports_import_blocks, Azure};

const TABLE: &str = r#"resource "aksudr_route_table" "rt" {
  name                = "rt-aks"
  resource_group_name = "rg-egress"
  location            = "westeurope"
}
"#;

fn routes(fw_ip: &str, fw_name: &str, api_prefix: &str, api_hop: &str) -> String {
    format!(
        r#"{TABLE}
resource "aksudr_firewall_route" "default" {{
  name                   = "{fw_name}"
  route_table_id         = aksudr_route_table.rt.id
  next_hop_type          = "virtualappliance"
  next_hop_in_ip_address = "{fw_ip}"
}}

resource "aksudr_route" "api" {{
  name           = "api-server"
  route_table_id = aksudr_route_table.rt.id
  address_prefix = "{api_prefix}"
  next_hop_type  = "{api_hop}"
}}
"#
    )
}

fn route_id(name: &str) -> String {
    format!("{}/routes/{name}", route_table_id("rt-aks"))
}

#[test]
fn routes_create_update_drift_replace_destroy() {
    let az = Azure::start();
    let mut wd = az.workdir(&routes("10.0.4.4", "default", "20.50.60.70/32", "Internet"));
    wd.apply().assert_stdout_contains("3 added");
    let fw = az.get(&route_id("default"));
    assert_eq!(fw["properties"]["nextHopType"], "VirtualAppliance", "canonical casing is sent: {fw}");
    assert_eq!(fw["properties"]["nextHopIpAddress"], "10.0.4.4");
    assert_eq!(fw["properties"]["addressPrefix"], "0.0.0.0/0");
    let api = az.get(&route_id("api-server"));
    assert!(api["properties"].get("nextHopIpAddress").is_none(), "no IP for Internet: {api}");
    // "virtualappliance" in the configuration is not drift.
    wd.assert_no_changes();

    // In place: the firewall's IP, the other route's prefix and next hop.
    wd.rewrite(&config(&routes("10.0.4.5", "default", "20.50.60.0/24", "VirtualNetworkGateway")));
    wd.assert_changes().assert_stdout_contains("2 to change, 0 to destroy");
    wd.apply().assert_stdout_contains("2 changed");
    assert_eq!(az.get(&route_id("default"))["properties"]["nextHopIpAddress"], "10.0.4.5");
    let api = az.get(&route_id("api-server"));
    assert_eq!(api["properties"]["addressPrefix"], "20.50.60.0/24");
    assert_eq!(api["properties"]["nextHopType"], "VirtualNetworkGateway");
    wd.assert_no_changes();

    // Drift in Azure shows, and apply puts it back.
    az.edit(&route_id("default"), |r| r["properties"]["nextHopIpAddress"] = json!("10.9.9.9"));
    wd.assert_changes().assert_stdout_contains("10.9.9.9");
    wd.apply();
    assert_eq!(az.get(&route_id("default"))["properties"]["nextHopIpAddress"], "10.0.4.5");

    // Deleted out of band: re-created.
    assert!(az.sim.delete_resource(&route_id("api-server")));
    assert!(az.sim.delete_resource(&route_id("default")));
    wd.assert_changes()
        .assert_stdout_contains("aksudr_route.api will be created")
        .assert_stdout_contains("aksudr_firewall_route.default will be created");
    wd.apply().assert_stdout_contains("2 added");
    wd.assert_no_changes();

    // A new name forces replacement.
    wd.rewrite(&config(&routes("10.0.4.5", "default-fw", "20.50.60.0/24", "VirtualNetworkGateway")));
    wd.assert_changes().assert_stdout_contains("forces replacement");
    wd.apply().assert_stdout_contains("1 added, 0 changed, 1 destroyed");
    assert!(az.sim.resource(&route_id("default")).is_none());
    az.get(&route_id("default-fw"));
    wd.assert_no_changes();

    wd.destroy();
    for id in [route_id("default-fw"), route_id("api-server"), route_table_id("rt-aks")] {
        assert!(az.sim.resource(&id).is_none(), "{id} should be gone after destroy");
    }
}

#[test]
fn routes_import_command_block_and_hint() {
    let az = Azure::start();
    // Azure's casing: an imported state holds what Azure returns (see
    // lifecycle_route_table for why a case-only difference would plan).
    let hcl = routes("10.0.4.4", "default", "AzureMonitor", "Internet")
        .replace("\"virtualappliance\"", "\"VirtualAppliance\"");
    az.workdir(&hcl).apply();

    // Creating what exists fails with the import hint and writes nothing.
    let again = az.workdir(&format!(
        r#"resource "aksudr_route" "dup" {{
  name           = "api-server"
  route_table_id = "{}"
  address_prefix = "10.1.0.0/16"
  next_hop_type  = "None"
}}
"#,
        route_table_id("rt-aks")
    ));
    let out = again.apply_with(&[]);
    out.assert_failure();
    if !out.stderr.contains("needs to be imported") || !out.stderr.contains(&route_id("api-server")) {
        out.fail("creating an existing route should fail with the import hint");
    }
    assert_eq!(az.get(&route_id("api-server"))["properties"]["addressPrefix"], "AzureMonitor");

    let imported = az.workdir(&hcl);
    for (address, id) in [
        ("aksudr_route_table.rt", route_table_id("rt-aks")),
        ("aksudr_firewall_route.default", route_id("default")),
        ("aksudr_route.api", route_id("api-server")),
    ] {
        imported.terraform(&["import", "-input=false", address, &id]).assert_success();
    }
    imported.assert_no_changes();

    if supports_import_blocks() {
        let blocks = format!(
            "{hcl}\nimport {{\n  to = aksudr_route_table.rt\n  id = \"{}\"\n}}\n\
             import {{\n  to = aksudr_firewall_route.default\n  id = \"{}\"\n}}\n\
             import {{\n  to = aksudr_route.api\n  id = \"{}\"\n}}\n",
            route_table_id("rt-aks"),
            route_id("default"),
            route_id("api-server"),
        );
        let wd = az.workdir(&blocks);
        wd.apply().assert_stdout_contains("3 imported");
        wd.assert_no_changes();
    }
}

#[test]
fn firewall_route_import_refuses_a_route_that_is_not_one() {
    let az = Azure::start();
    let hcl = routes("10.0.4.4", "default", "20.50.60.70/32", "Internet");
    az.workdir(&hcl).apply();
    let wd = az.workdir(&hcl);
    let out = wd.terraform(&["import", "-input=false", "aksudr_firewall_route.default", &route_id("api-server")]);
    out.assert_failure();
    if !out.stderr.contains("Not a firewall route") || !out.stderr.contains("aksudr_route") {
        out.fail("importing an Internet route as a firewall route should suggest aksudr_route");
    }
}

#[test]
fn thirty_routes_with_parallelism_ten_all_land() {
    let az = Azure::start();
    let many: String = (0..30)
        .map(|i| {
            format!(
                r#"
resource "aksudr_route" "r{i}" {{
  name           = "spoke-{i}"
  route_table_id = aksudr_route_table.rt.id
  address_prefix = "10.{n}.0.0/16"
  next_hop_type  = "VirtualAppliance"
  next_hop_in_ip_address = "10.0.4.4"
}}
"#,
                n = 100 + i
            )
        })
        .collect();
    let wd = az.workdir(&format!("{TABLE}{many}"));
    wd.apply_with(&["-parallelism=10"]).assert_success().assert_no_errors().assert_stdout_contains("31 added");
    let table = az.get(&route_table_id("rt-aks"));
    let landed = table["properties"]["routes"].as_array().map(Vec::len).unwrap_or_default();
    assert_eq!(landed, 30, "every route should be in the table: {table}");
    wd.assert_no_changes();
}

#[test]
fn a_route_is_checked_again_before_anything_is_sent() {
    // The next hop IP comes from an attribute of another resource that is
    // known only after apply (a table's ID is known at plan, its subnets
    // are not), so the rules cannot decide at plan time; the apply must
    // refuse before writing the route.
    let az = Azure::start();
    let wd = az.workdir(&format!(
        r#"{TABLE}
resource "aksudr_route" "bad" {{
  name                   = "bad"
  route_table_id         = aksudr_route_table.rt.id
  address_prefix         = "10.1.0.0/16"
  next_hop_type          = "Internet"
  next_hop_in_ip_address = split("/", "10.0.4.4/${{length(aksudr_route_table.rt.subnet_ids)}}")[0]
}}
"#
    ));
    let out = wd.apply_with(&[]);
    out.assert_failure();
    if !out.stderr.contains("(R3)") {
        out.fail("the apply should fail with rule R3");
    }
    assert!(
        az.sim.resource(&route_id("bad")).is_none(),
        "nothing should have been written: {:?}\n{out}",
        az.sim.resource(&route_id("bad"))
    );
    // Routes are written through their table (or, on fallback, one by one):
    // the table's own create is the only write allowed.
    let puts: Vec<_> = az
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "PUT" && (r.path.contains("/routes/") || r.path.ends_with("/routeTables/rt-aks")))
        .collect();
    assert_eq!(puts.len(), 1, "only the table's create may be written: {puts:?}");
}

#[test]
fn writes_to_one_table_are_serialised() {
    // Operations that take a while: a second write to the table while one
    // runs would get 409 AnotherOperationInProgress from Azure.
    let az = Azure::start();
    az.sim.set_lro_delay(std::time::Duration::from_millis(300));
    let four: String = (0..4)
        .map(|i| {
            format!(
                "\nresource \"aksudr_route\" \"r{i}\" {{\n  name = \"r{i}\"\n  route_table_id = aksudr_route_table.rt.id\n  \
                 address_prefix = \"10.{i}.0.0/16\"\n  next_hop_type = \"None\"\n}}\n"
            )
        })
        .collect();
    let wd = az.workdir(&format!("{TABLE}{four}"));
    wd.apply().assert_stdout_contains("5 added");
    let conflicts: Vec<_> = az.sim.requests().into_iter().filter(|r| r.status == 409).collect();
    assert!(conflicts.is_empty(), "no write should collide with another: {conflicts:?}");
}
