//! `aksudr_subnet_route_table_association` against the ARM simulator: only
//! the subnet's route table reference changes; a subnet using another table
//! is never taken over; drift, out-of-band removal, import and destroy.

use serde_json::json;

use crate::harness::{config, route_table_id, subnet_id, supports_import_blocks, Azure};

fn stack(table_ref: &str, subnet: &str) -> String {
    format!(
        r#"resource "aksudr_route_table" "a" {{
  name                = "rt-a"
  resource_group_name = "rg-egress"
  location            = "westeurope"
}}

resource "aksudr_route_table" "b" {{
  name                = "rt-b"
  resource_group_name = "rg-egress"
  location            = "westeurope"
}}

resource "aksudr_subnet_route_table_association" "aks" {{
  subnet_id      = "{subnet}"
  route_table_id = aksudr_route_table.{table_ref}.id
}}
"#,
        subnet = subnet_id(subnet),
    )
}

fn table_of(az: &Azure, subnet: &str) -> Option<String> {
    az.get(&subnet_id(subnet)).pointer("/properties/routeTable/id").and_then(|v| v.as_str()).map(str::to_string)
}

#[test]
fn association_create_replace_drift_destroy() {
    let az = Azure::start();
    let before = az.get(&subnet_id("aks"));
    let mut wd = az.workdir(&stack("a", "aks"));
    wd.apply().assert_stdout_contains("3 added");
    assert_eq!(table_of(&az, "aks").as_deref(), Some(route_table_id("rt-a").as_str()));
    let after = az.get(&subnet_id("aks"));
    assert_eq!(after["properties"]["addressPrefix"], before["properties"]["addressPrefix"], "kept: {after}");
    wd.assert_no_changes();

    // New time limits are an in-place update that touches nothing in Azure.
    let timed = stack("a", "aks").replace(
        "  route_table_id = aksudr_route_table.a.id\n}",
        "  route_table_id = aksudr_route_table.a.id\n  timeouts {\n    create = \"10m\"\n  }\n}",
    );
    assert_ne!(timed, stack("a", "aks"));
    wd.rewrite(&config(&timed));
    wd.apply().assert_stdout_contains("1 changed");
    wd.assert_no_changes();

    // Another table forces replacement.
    wd.rewrite(&config(&stack("b", "aks")));
    wd.assert_changes().assert_stdout_contains("must be replaced");
    wd.apply().assert_stdout_contains("1 added, 0 changed, 1 destroyed");
    assert_eq!(table_of(&az, "aks").as_deref(), Some(route_table_id("rt-b").as_str()));
    wd.assert_no_changes();

    // Someone dissociates the subnet by hand: planned for re-creation.
    az.edit(&subnet_id("aks"), |s| {
        if let Some(p) = s["properties"].as_object_mut() {
            p.remove("routeTable");
        }
    });
    wd.assert_changes().assert_stdout_contains("aksudr_subnet_route_table_association.aks will be created");
    wd.apply().assert_stdout_contains("1 added");
    wd.assert_no_changes();

    // Someone points the subnet at the other table: drift, replaced back.
    az.edit(&subnet_id("aks"), |s| s["properties"]["routeTable"] = json!({"id": route_table_id("rt-a")}));
    wd.assert_changes().assert_stdout_contains("rt-a");
    wd.apply();
    assert_eq!(table_of(&az, "aks").as_deref(), Some(route_table_id("rt-b").as_str()));

    wd.destroy();
    let subnet = az.get(&subnet_id("aks"));
    assert!(subnet["properties"].get("routeTable").is_none(), "destroy dissociates: {subnet}");
    assert_eq!(subnet["properties"]["addressPrefix"], before["properties"]["addressPrefix"]);
    for t in ["rt-a", "rt-b"] {
        assert!(az.sim.resource(&route_table_id(t)).is_none(), "{t} should be gone");
    }
}

#[test]
fn association_never_takes_over_a_subnet_and_needs_the_subnet() {
    let az = Azure::start();
    // The firewall subnet already uses rt-a (made by another configuration).
    let other = az.workdir(&stack("a", "AzureFirewallSubnet"));
    other.apply();

    let wd = az.workdir(&format!(
        r#"resource "aksudr_subnet_route_table_association" "fw" {{
  subnet_id      = "{}"
  route_table_id = "{}"
}}

resource "aksudr_subnet_route_table_association" "missing" {{
  subnet_id      = "{}"
  route_table_id = "{}"
}}
"#,
        subnet_id("AzureFirewallSubnet"),
        route_table_id("rt-b"),
        subnet_id("no-such-subnet"),
        route_table_id("rt-b"),
    ));
    let out = wd.apply_with(&[]);
    out.assert_failure();
    if !out.stderr.contains("Subnet already has a route table") || !out.stderr.contains(&route_table_id("rt-a")) {
        out.fail("a subnet with another route table should be refused, naming that table");
    }
    if !out.stderr.contains("the subnet must exist") {
        out.fail("a missing subnet should be reported");
    }
    assert_eq!(table_of(&az, "AzureFirewallSubnet").as_deref(), Some(route_table_id("rt-a").as_str()));
}

#[test]
fn association_import_command_block_and_hint() {
    let az = Azure::start();
    let hcl = stack("a", "aks");
    az.workdir(&hcl).apply();
    let sid = subnet_id("aks");

    let again = az.workdir(&format!(
        "resource \"aksudr_subnet_route_table_association\" \"dup\" {{\n  subnet_id = \"{sid}\"\n  route_table_id = \"{}\"\n}}\n",
        route_table_id("rt-a")
    ));
    let out = again.apply_with(&[]);
    out.assert_failure();
    if !out.stderr.contains("needs to be imported") || !out.stderr.contains(&sid) {
        out.fail("associating the same table again should fail with the import hint");
    }

    let imported = az.workdir(&hcl);
    for (address, id) in [
        ("aksudr_route_table.a", route_table_id("rt-a")),
        ("aksudr_route_table.b", route_table_id("rt-b")),
        ("aksudr_subnet_route_table_association.aks", sid.clone()),
    ] {
        imported.terraform(&["import", "-input=false", address, &id]).assert_success();
    }
    imported.assert_no_changes();

    if supports_import_blocks() {
        let blocks = format!(
            "{hcl}\nimport {{\n  to = aksudr_route_table.a\n  id = \"{}\"\n}}\n\
             import {{\n  to = aksudr_route_table.b\n  id = \"{}\"\n}}\n\
             import {{\n  to = aksudr_subnet_route_table_association.aks\n  id = \"{sid}\"\n}}\n",
            route_table_id("rt-a"),
            route_table_id("rt-b"),
        );
        let wd = az.workdir(&blocks);
        wd.apply().assert_stdout_contains("3 imported");
        wd.assert_no_changes();
    }
}

#[test]
fn a_failed_association_is_kept_tainted_and_redone() {
    let az = Azure::start();
    az.sim
        .fail_next_lro(armsim::LroFailure {
            method: Some("PUT".into()),
            path_regex: "subnets/aks$".into(),
            code: "SubnetProvisioningFailed".into(),
            message: "Updating the subnet failed.".into(),
            count: 1,
        })
        .unwrap_or_else(|e| panic!("fail_next_lro: {e}"));
    let wd = az.workdir(&stack("a", "aks"));
    let out = wd.apply_with(&[]);
    out.assert_failure();
    if !out.stderr.contains("SubnetProvisioningFailed") || !out.stderr.contains("Updating the subnet failed.") {
        out.fail("the error should carry Azure's code and message");
    }
    wd.assert_changes().assert_stdout_contains("tainted");
    wd.apply();
    assert_eq!(table_of(&az, "aks").as_deref(), Some(route_table_id("rt-a").as_str()));
    wd.assert_no_changes();
}

#[test]
fn a_subnet_changed_between_read_and_write_is_read_again() {
    use armsim::{Fault, FaultStatus};
    let az = Azure::start();
    let precondition_failed = || {
        let mut f = Fault::new("subnets/aks$", FaultStatus::Status(412)).method("PUT");
        f.code = Some("PreconditionFailed".into());
        f
    };
    az.sim.add_fault(precondition_failed()).unwrap_or_else(|e| panic!("add_fault: {e}"));
    let wd = az.workdir(&stack("a", "aks"));
    wd.apply().assert_stdout_contains("3 added");
    assert_eq!(table_of(&az, "aks").as_deref(), Some(route_table_id("rt-a").as_str()));

    az.sim.add_fault(precondition_failed()).unwrap_or_else(|e| panic!("add_fault: {e}"));
    wd.destroy();
    assert_eq!(table_of(&az, "aks"), None);
    let subnet_puts: Vec<u16> = az
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "PUT" && r.path.ends_with("subnets/aks"))
        .map(|r| r.status)
        .collect();
    assert_eq!(subnet_puts.iter().filter(|s| **s == 412).count(), 2, "{subnet_puts:?}");
}

/// A subnet with a network security group, service endpoints and a
/// delegation: associating a route table, and removing it again, changes
/// the route table reference and nothing else (a subnet PUT replaces the
/// whole subnet, so dropping any of them would remove it in Azure).
#[test]
fn association_keeps_the_subnets_nsg_endpoints_and_delegation() {
    let mut seed = armsim::Seed::default();
    let nsg = format!(
        "{}/resourceGroups/rg-egress/providers/Microsoft.Network/networkSecurityGroups/nsg-apps",
        crate::harness::SUBSCRIPTION
    );
    let mut apps = armsim::SeedSubnet::new("apps", "10.0.12.0/24");
    apps.network_security_group = Some(nsg.clone());
    apps.service_endpoints = vec!["Microsoft.Storage".into(), "Microsoft.KeyVault".into()];
    apps.delegations = vec!["Microsoft.Web/serverFarms".into()];
    seed.subscriptions[0].resource_groups[0].virtual_networks[0].subnets.push(apps);
    let az = Azure::start_with(armsim::Config { seed, ..armsim::Config::default() });
    // A subnet's kept settings; a delegation's etag changes with any write.
    let kept = |az: &Azure| {
        let mut p = az.get(&subnet_id("apps"))["properties"].clone();
        if let Some(ds) = p["delegations"].as_array_mut() {
            for d in ds.iter_mut().filter_map(|d| d.as_object_mut()) {
                d.remove("etag");
            }
        }
        p
    };
    let before = kept(&az);

    let wd = az.workdir(&stack("a", "apps"));
    wd.apply().assert_stdout_contains("3 added");
    let with_table = kept(&az);
    assert!(with_table["routeTable"]["id"].as_str().is_some_and(|t| t.ends_with("/rt-a")), "{with_table}");
    for key in ["networkSecurityGroup", "serviceEndpoints", "delegations", "addressPrefix"] {
        assert_eq!(with_table[key], before[key], "{key} changed by the association");
    }
    wd.assert_no_changes();

    wd.destroy();
    let after = kept(&az);
    assert!(after.get("routeTable").is_none(), "{after}");
    for key in ["networkSecurityGroup", "serviceEndpoints", "delegations", "addressPrefix"] {
        assert_eq!(after[key], before[key], "{key} changed by removing the association");
    }
    assert_eq!(after["networkSecurityGroup"]["id"], json!(nsg));
}
