//! IDs that would move a request to another ARM path are refused before
//! anything is sent: a backslash is a `/` to URL parsers, so
//! `rt\..\..\x` would otherwise address the resource group's parent with the
//! user's token while the state showed an innocent route table ID.

use crate::harness::{hcl_string, route_table_id, subnet_id, Azure};

/// A route table ID whose last name climbs out of `routeTables` when a URL
/// parser reads it.
fn climbing(id: &str) -> String {
    format!("{id}\\..\\..\\..\\evil")
}

#[test]
fn backslashes_in_ids_are_refused_at_plan_and_import_with_nothing_sent() {
    let az = Azure::start();
    let table = climbing(&route_table_id("rt-egress"));
    let hcl = format!(
        r#"resource "aksudr_firewall_route" "default" {{
  name                   = "default"
  route_table_id         = {table}
  next_hop_in_ip_address = "10.0.4.4"
}}

resource "aksudr_subnet_route_table_association" "aks" {{
  subnet_id      = {subnet}
  route_table_id = {table}
}}
"#,
        table = hcl_string(&table),
        subnet = hcl_string(&climbing(&subnet_id("aks"))),
    );
    let wd = az.workdir(&hcl);
    let out = wd.plan();
    out.assert_failure();
    let diags = out.diagnostics();
    for attribute in ["route_table_id", "subnet_id"] {
        let hit = diags
            .iter()
            .any(|d| d.text().contains("character Azure names cannot have") && d.text().contains(attribute));
        if !hit {
            out.fail(format_args!("no refusal naming {attribute}: {diags:#?}"));
        }
    }
    let imported =
        wd.terraform(&["import", "-input=false", "aksudr_firewall_route.default", &format!("{table}/routes/x")]);
    imported.assert_failure();
    assert!(imported.stderr.contains("Invalid import ID"), "{}", imported.stderr);
    let sent: Vec<String> =
        az.sim.requests().iter().filter(|r| !r.path.contains("oauth2")).map(|r| r.path.clone()).collect();
    assert!(sent.is_empty(), "requests reached Azure: {sent:#?}");
}
