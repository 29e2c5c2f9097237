//! `aksudr_route_table` against the ARM simulator with the real terraform:
//! create, no-op plan, in-place update, replacement, drift, out-of-band
//! deletion, import, the import hint, routes of others, and destroy.

use serde_json::json;

use crate::harness::{route_table_id, supports_import_blocks, Azure};

fn table(name: &str, purpose: &str) -> String {
    table_in("West Europe", name, purpose)
}

fn table_in(location: &str, name: &str, purpose: &str) -> String {
    format!(
        r#"resource "aksudr_route_table" "rt" {{
  name                = "{name}"
  resource_group_name = "rg-egress"
  location            = "{location}"
  tags = {{
    purpose = "{purpose}"
  }}
}}
"#
    )
}

fn firewall_route() -> &'static str {
    r#"
resource "aksudr_firewall_route" "default" {
  name                   = "default-via-firewall"
  route_table_id         = aksudr_route_table.rt.id
  next_hop_in_ip_address = "10.0.4.4"
}
"#
}

#[test]
fn route_table_create_update_drift_replace_destroy() {
    let az = Azure::start();
    let id = route_table_id("rt-aks");
    let mut wd = az.workdir(&table("rt-aks", "egress"));

    wd.apply().assert_stdout_contains("1 added");
    assert_eq!(az.get(&id)["tags"]["purpose"], "egress");
    // "West Europe" in the configuration, "westeurope" from Azure: no diff.
    wd.assert_no_changes();

    // In place: tags.
    wd.rewrite(&crate::harness::config(&table("rt-aks", "aks-egress")));
    wd.assert_changes().assert_stdout_contains("will be updated in-place");
    wd.apply().assert_stdout_contains("1 changed");
    assert_eq!(az.get(&id)["tags"]["purpose"], "aks-egress");
    wd.assert_no_changes();

    // Drift made in Azure shows in the next plan, and apply repairs it.
    az.edit(&id, |rt| rt["tags"] = json!({"purpose": "changed-by-hand"}));
    wd.assert_changes().assert_stdout_contains("changed-by-hand");
    wd.apply();
    assert_eq!(az.get(&id)["tags"]["purpose"], "aks-egress");
    wd.assert_no_changes();

    // Deleted out of band: planned for re-creation.
    assert!(az.sim.delete_resource(&id));
    wd.assert_changes().assert_stdout_contains("will be created");
    wd.apply().assert_stdout_contains("1 added");
    wd.assert_no_changes();

    // A new name forces replacement.
    wd.rewrite(&crate::harness::config(&table("rt-aks-2", "aks-egress")));
    wd.assert_changes().assert_stdout_contains("must be replaced");
    wd.apply().assert_stdout_contains("1 added, 0 changed, 1 destroyed");
    assert!(az.sim.resource(&id).is_none(), "the old table should be gone");
    az.get(&route_table_id("rt-aks-2"));

    wd.destroy();
    assert!(az.sim.resource(&route_table_id("rt-aks-2")).is_none(), "destroy should leave nothing");
}

#[test]
fn route_table_import_command_block_and_hint() {
    let az = Azure::start();
    let id = route_table_id("rt-aks");
    // Azure's spelling of the region: an imported state can only hold what
    // Azure returns, and Terraform requires a required attribute's plan to
    // equal the configuration, so "West Europe" would plan a (harmless)
    // in-place update after `terraform import`.
    let hcl = table_in("westeurope", "rt-aks", "egress");
    let first = az.workdir(&hcl);
    first.apply();

    // Another configuration creating the same table is told to import it.
    let second = az.workdir(&hcl);
    let out = second.apply_with(&[]);
    out.assert_failure();
    if !out.stderr.contains("needs to be imported") || !out.stderr.contains(&id) {
        out.fail("creating an existing route table should fail with the import hint naming its ID");
    }

    // `terraform import`, then nothing to do.
    let imported = az.workdir(&hcl);
    imported.terraform(&["import", "-input=false", "aksudr_route_table.rt", &id]).assert_success();
    imported.assert_no_changes();

    // An import block (Terraform 1.5+), then nothing to do.
    if supports_import_blocks() {
        let block = az.workdir(&format!("{hcl}\nimport {{\n  to = aksudr_route_table.rt\n  id = \"{id}\"\n}}\n"));
        block.apply().assert_stdout_contains("1 imported");
        block.assert_no_changes();
    }

    // As the Azure CLI prints it (`resourcegroups`): imported, canonical in
    // state, nothing to do.
    let pasted = az.workdir(&hcl);
    pasted
        .terraform(&[
            "import",
            "-input=false",
            "aksudr_route_table.rt",
            &id.replace("resourceGroups", "resourcegroups"),
        ])
        .assert_success();
    pasted.assert_no_changes();

    // An ID users mistype is refused before any request.
    let bad = az.workdir(&hcl);
    let wrong = id.replace("resourceGroups", "resourceGroup");
    let out = bad.terraform(&["import", "-input=false", "aksudr_route_table.rt", &wrong]);
    out.assert_failure();
    if !out.stderr.contains("Invalid import ID") {
        out.fail("a mistyped import ID should be reported as such");
    }
}

#[test]
fn routes_of_others_survive_table_updates_and_are_not_drift() {
    let az = Azure::start();
    let id = route_table_id("rt-aks");
    let mut wd = az.workdir(&format!("{}{}", table("rt-aks", "egress"), firewall_route()));
    wd.apply().assert_stdout_contains("2 added");

    // AKS (or another team) adds a route to the table.
    let foreign = format!("{id}/routes/aks-nodepool1-vmss000000");
    az.put(
        &foreign,
        json!({"properties": {"addressPrefix": "10.244.0.0/24", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.0.0.4"}}),
    );
    wd.assert_no_changes();

    wd.rewrite(&crate::harness::config(&format!("{}{}", table("rt-aks", "changed"), firewall_route())));
    wd.apply().assert_stdout_contains("1 changed");
    let kept = az.get(&foreign);
    assert_eq!(kept["properties"]["addressPrefix"], "10.244.0.0/24");
    az.get(&format!("{id}/routes/default-via-firewall"));
    wd.assert_no_changes();
}

/// Tags that are null or known only at apply plan and apply as written: a
/// null tag is not sent, an unknown one is sent once known.
#[test]
fn tags_known_at_apply_or_null() {
    let az = Azure::start();
    let hcl = r#"resource "aksudr_route_table" "first" {
  name                = "rt-first"
  resource_group_name = "rg-egress"
  location            = "westeurope"
}

resource "aksudr_route_table" "second" {
  name                = "rt-second"
  resource_group_name = "rg-egress"
  location            = "westeurope"
  tags = {
    subnets = tostring(length(aksudr_route_table.first.subnet_ids))
    unset   = null
    team    = "net"
  }
}
"#;
    let wd = az.workdir(hcl);
    wd.apply().assert_stdout_contains("2 added");
    let tags = &az.get(&route_table_id("rt-second"))["tags"];
    assert_eq!(tags, &json!({"subnets": "0", "team": "net"}), "{tags}");
    wd.assert_no_changes();
}
