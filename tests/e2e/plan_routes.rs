//! Planning the routing resources (route table, firewall route, route,
//! subnet association) with no Azure credentials: a valid egress stack plans
//! with its defaults filled in, rules wait for unknown values, and each of
//! rules R1–R4 rejects its bad configuration on the offending attribute.

use serde_json::Value;

use crate::harness::{assert_plan_violates, config, route_table_id, subnet_id, RuleError, Workdir};

/// A route table whose default route leaves through the firewall, with the
/// exceptions AKS egress setups typically carry, attached to the AKS subnet.
fn egress_stack() -> String {
    format!(
        r#"resource "aksudr_route_table" "x" {{
  name                = "rt-aks-egress"
  resource_group_name = "rg-egress"
  location            = "westeurope"
  tags = {{
    purpose = "aks-egress"
  }}
}}

resource "aksudr_firewall_route" "default" {{
  name                   = "default-via-firewall"
  route_table_id         = aksudr_route_table.x.id
  next_hop_in_ip_address = "10.0.1.4"
}}

# A single public address straight out is fine: it is no default route.
resource "aksudr_route" "api_server" {{
  name           = "api-server-direct"
  route_table_id = aksudr_route_table.x.id
  address_prefix = "20.50.60.70/32"
  next_hop_type  = "Internet"
}}

resource "aksudr_route" "monitor" {{
  name           = "azure-monitor"
  route_table_id = aksudr_route_table.x.id
  address_prefix = "AzureMonitor"
  next_hop_type  = "Internet"
}}

resource "aksudr_route" "on_prem" {{
  name           = "on-prem"
  route_table_id = aksudr_route_table.x.id
  address_prefix = "172.16.0.0/12"
  next_hop_type  = "VirtualNetworkGateway"
}}

resource "aksudr_subnet_route_table_association" "aks" {{
  subnet_id      = "{subnet}"
  route_table_id = aksudr_route_table.x.id
}}
"#,
        subnet = subnet_id("aks"),
    )
}

#[test]
fn valid_egress_stack_validates_and_plans_without_credentials() {
    let wd = Workdir::new(&config(&egress_stack()));
    wd.init();
    wd.terraform(&["validate"]).assert_success().assert_stdout_contains("The configuration is valid");

    let out = wd.plan();
    out.assert_success().assert_no_errors();
    for address in [
        "aksudr_route_table.x",
        "aksudr_firewall_route.default",
        "aksudr_route.api_server",
        "aksudr_route.monitor",
        "aksudr_route.on_prem",
        "aksudr_subnet_route_table_association.aks",
    ] {
        out.assert_stdout_contains(&format!("{address} will be created"));
    }
    out.assert_stdout_contains("Plan: 6 to add, 0 to change, 0 to destroy.");
}

/// The planned change of `address` in `terraform show -json` output.
#[track_caller]
fn change<'a>(plan: &'a Value, address: &str) -> &'a Value {
    plan["resource_changes"]
        .as_array()
        .and_then(|rcs| rcs.iter().find(|rc| rc["address"] == address))
        .map(|rc| &rc["change"])
        .unwrap_or_else(|| panic!("no change for {address} in {plan:#}"))
}

#[test]
fn plan_fills_in_defaults_and_leaves_ids_unknown() {
    let wd = Workdir::new(&config(&egress_stack()));
    wd.init();
    wd.terraform(&["plan", "-input=false", "-out=tfplan"]).assert_success();
    let plan = wd.terraform(&["show", "-json", "tfplan"]).assert_success().json();

    let table = change(&plan, "aksudr_route_table.x");
    assert_eq!(table["actions"], serde_json::json!(["create"]), "{table:#}");
    assert_eq!(table["after"]["bgp_route_propagation_enabled"], true, "{table:#}");
    assert_eq!(table["after"]["location"], "westeurope", "{table:#}");
    assert_eq!(table["after_unknown"]["id"], true, "{table:#}");

    let fw = change(&plan, "aksudr_firewall_route.default");
    assert_eq!(fw["after"]["address_prefix"], "0.0.0.0/0", "{fw:#}");
    assert_eq!(fw["after"]["next_hop_type"], "VirtualAppliance", "{fw:#}");
    assert_eq!(fw["after"]["next_hop_in_ip_address"], "10.0.1.4", "{fw:#}");
    // Known only once the route table exists.
    assert_eq!(fw["after_unknown"]["route_table_id"], true, "{fw:#}");
    assert_eq!(fw["after_unknown"]["id"], true, "{fw:#}");

    let assoc = change(&plan, "aksudr_subnet_route_table_association.aks");
    assert_eq!(assoc["after"]["subnet_id"], subnet_id("aks").as_str(), "{assoc:#}");
}

#[test]
fn rules_wait_for_unknown_values() {
    // Both values depend on the route table's ID, unknown until apply: the
    // rules cannot judge them yet and must not guess.
    let resources = r#"resource "aksudr_route_table" "x" {
  name                = "rt-aks-egress"
  resource_group_name = "rg-egress"
  location            = "westeurope"
}

resource "aksudr_firewall_route" "default" {
  name                   = "default-via-firewall"
  route_table_id         = aksudr_route_table.x.id
  next_hop_in_ip_address = aksudr_route_table.x.id != "" ? "10.0.1.4" : "10.0.1.5"
}

resource "aksudr_route" "later" {
  name           = "decided-later"
  route_table_id = aksudr_route_table.x.id
  address_prefix = aksudr_route_table.x.id != "" ? "20.50.60.70/32" : "20.50.60.71/32"
  next_hop_type  = "Internet"
}
"#;
    let wd = Workdir::new(&config(resources));
    wd.init();
    wd.plan().assert_success().assert_no_errors().assert_stdout_contains("Plan: 3 to add, 0 to change, 0 to destroy.");
}

fn route(prefix: &str, hop: &str, ip: Option<&str>) -> String {
    let ip = ip.map(|ip| format!("  next_hop_in_ip_address = \"{ip}\"\n")).unwrap_or_default();
    format!(
        r#"resource "aksudr_route" "r" {{
  name           = "r"
  route_table_id = "{rt}"
  address_prefix = "{prefix}"
  next_hop_type  = "{hop}"
{ip}}}
"#,
        rt = route_table_id("rt"),
    )
}

fn firewall_route(settings: &str) -> String {
    format!(
        r#"resource "aksudr_firewall_route" "fw" {{
  name           = "default-via-firewall"
  route_table_id = "{rt}"
{settings}}}
"#,
        rt = route_table_id("rt"),
    )
}

#[test]
fn r1_default_route_to_internet() {
    assert_plan_violates(
        &route("0.0.0.0/0", "Internet", None),
        RuleError { rule: "R1", attribute: "next_hop_type", config_line: Some(r#"next_hop_type  = "Internet""#) },
    );
}

#[test]
fn r1_ipv6_default_route_to_none() {
    assert_plan_violates(
        &route("::/0", "None", None),
        RuleError { rule: "R1", attribute: "next_hop_type", config_line: Some(r#"next_hop_type  = "None""#) },
    );
}

#[test]
fn r1_default_route_to_vnet_local() {
    assert_plan_violates(
        &route("0.0.0.0/0", "VnetLocal", None),
        RuleError { rule: "R1", attribute: "next_hop_type", config_line: Some(r#"next_hop_type  = "VnetLocal""#) },
    );
}

#[test]
fn r2_firewall_route_to_internet() {
    assert_plan_violates(
        &firewall_route("  next_hop_type = \"Internet\"\n"),
        RuleError { rule: "R2", attribute: "next_hop_type", config_line: Some(r#"next_hop_type = "Internet""#) },
    );
}

#[test]
fn r3_virtual_appliance_without_ip() {
    // The attribute is absent, so terraform can only point at the resource;
    // the message itself has to name what is missing.
    assert_plan_violates(
        &route("10.0.0.0/8", "VirtualAppliance", None),
        RuleError { rule: "R3", attribute: "next_hop_in_ip_address", config_line: None },
    );
}

#[test]
fn r3_firewall_route_with_invalid_ip() {
    assert_plan_violates(
        &firewall_route("  next_hop_in_ip_address = \"10.0.1.300\"\n"),
        RuleError { rule: "R3", attribute: "next_hop_in_ip_address", config_line: Some("10.0.1.300") },
    );
}

#[test]
fn r3_internet_route_with_ip() {
    assert_plan_violates(
        &route("20.50.60.70/32", "Internet", Some("10.0.1.4")),
        RuleError { rule: "R3", attribute: "next_hop_in_ip_address", config_line: Some("10.0.1.4") },
    );
}

#[test]
fn r4_prefix_length_out_of_range() {
    assert_plan_violates(
        &route("10.0.0.0/33", "VirtualAppliance", Some("10.0.1.4")),
        RuleError { rule: "R4", attribute: "address_prefix", config_line: Some("10.0.0.0/33") },
    );
}

#[test]
fn r4_firewall_route_prefix_not_a_cidr() {
    assert_plan_violates(
        &firewall_route("  address_prefix         = \"not a cidr!\"\n  next_hop_in_ip_address = \"10.0.1.4\"\n"),
        RuleError { rule: "R4", attribute: "address_prefix", config_line: Some("not a cidr!") },
    );
}
