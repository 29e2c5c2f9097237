//! The data source `aksudr_subnet_egress` gives the cluster plan's verdict
//! on a subnet, in the same words; a module's `precondition` built on it
//! refuses a subnet that is not ready; the ephemeral resource
//! `aksudr_cluster_credentials` feeds a provider configuration while no
//! kubeconfig or token reaches the state (Terraform 1.10+), and Terraform
//! 1.0.3 sees no ephemeral resource at all.

use serde_json::json;

use crate::harness::{config, subnet_id, supports_ephemeral_resources, supports_preconditions, Azure, Workdir};
use crate::lifecycle_cluster::{cluster, cluster_id, default_route, egress_in_place};

fn subnet_egress(name: &str) -> String {
    format!(
        r#"data "aksudr_subnet_egress" "aks" {{
  subnet_id = "{subnet}"
}}

output "ready" {{
  value = data.aksudr_subnet_egress.aks.udr_ready
}}

output "problems" {{
  value = data.aksudr_subnet_egress.aks.problems[*].summary
}}

output "default_hop" {{
  value = data.aksudr_subnet_egress.aks.default_route == null ? "" : data.aksudr_subnet_egress.aks.default_route.next_hop_type
}}
"#,
        subnet = subnet_id(name)
    )
}

#[test]
fn subnet_egress_gives_the_cluster_plans_verdict_in_its_words() {
    type Setup = fn(&Azure);
    let cases: [(&str, Setup); 4] = [
        ("ready", |az| egress_in_place(az, default_route("VirtualAppliance"))),
        ("no table", |_| {}),
        ("no default route", |az| egress_in_place(az, json!([]))),
        ("default to Internet", |az| egress_in_place(az, default_route("Internet"))),
    ];
    for (case, setup) in cases {
        let az = Azure::start();
        setup(&az);
        let data = az.workdir(&subnet_egress("aks"));
        data.apply().assert_success();
        let outputs = data.terraform(&["output", "-json"]);
        outputs.assert_success();
        let outputs = outputs.json();
        let ready = outputs["ready"]["value"].as_bool().unwrap_or_else(|| panic!("{case}: no `ready`: {outputs}"));
        let problems: Vec<String> = outputs["problems"]["value"]
            .as_array()
            .map(|p| p.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
            .unwrap_or_default();

        let plan = az.workdir(&cluster("azure", "network_plugin_mode = \"overlay\"", "")).plan();
        let refused: Vec<String> =
            plan.diagnostics().into_iter().filter(|d| d.summary.contains("(UDR egress)")).map(|d| d.summary).collect();
        assert_eq!(ready, plan.success(), "{case}: the data source and the plan disagree: {}", plan.stderr);
        assert_eq!(problems, refused, "{case}: the same problems in the same words");
        if case == "default to Internet" {
            assert_eq!(outputs["default_hop"]["value"], "Internet");
        }
    }
}

#[test]
fn a_module_precondition_refuses_a_subnet_that_is_not_udr_ready() {
    if !supports_preconditions() {
        eprintln!("skipped: precondition blocks need Terraform 1.2");
        return;
    }
    let az = Azure::start();
    let example = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/udr-ready-subnet/main.tf"))
        .unwrap_or_else(|e| panic!("reading the example: {e}"));
    let wd = Workdir::new(&example).envs(az.secret_env());
    wd.init();
    let out = wd.plan();
    out.assert_failure();
    assert!(out.stderr.contains("is not ready for user-defined routing"), "{}", out.stderr);
    assert!(out.stderr.contains("has no route table"), "{}", out.stderr);
    egress_in_place(&az, default_route("VirtualAppliance"));
    wd.plan().assert_success();
}

#[test]
fn cluster_credentials_feed_a_provider_and_never_reach_the_state() {
    let schema_wd = Workdir::new(&config(""));
    schema_wd.init();
    let schema = schema_wd.terraform(&["providers", "schema", "-json"]);
    schema.assert_success();
    let ephemeral = schema.json()["provider_schemas"][crate::harness::PROVIDER_ADDRESS]["ephemeral_resource_schemas"]
        .get("aksudr_cluster_credentials")
        .is_some();
    if !supports_ephemeral_resources() {
        assert!(!ephemeral, "Terraform before 1.10 must not see an ephemeral resource");
        return;
    }
    assert!(ephemeral, "the schema lists aksudr_cluster_credentials");

    // The cluster lives in another configuration (its state holds its
    // kubeconfig, for Terraform before 1.10); this one only uses it.
    let az = Azure::start();
    egress_in_place(&az, default_route("VirtualAppliance"));
    let owner = az.workdir(&cluster("azure", "network_plugin_mode = \"overlay\"", ""));
    owner.apply();
    let owner_state = owner.terraform(&["state", "pull"]).json();
    let raw = owner_state["resources"][0]["instances"][0]["attributes"]["kube_config_raw"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let token = raw.lines().find_map(|l| l.trim().strip_prefix("token:")).map(|t| t.trim().to_string());
    let Some(token) = token.filter(|t| t.len() > 8) else { panic!("no token in the cluster's kubeconfig: {raw}") };

    let hcl = format!(
        r#"ephemeral "aksudr_cluster_credentials" "aks" {{
  cluster_id = "{cluster}"
}}

# A second configuration of this provider fed from the credentials, as the
# kubernetes provider would be (host, token, certificates); use_oidc is off,
# so the token does not change how it signs in.
provider "aksudr" {{
  alias      = "fed"
  oidc_token = ephemeral.aksudr_cluster_credentials.aks.token
  use_oidc   = false
}}

data "aksudr_subnet_egress" "fed" {{
  provider  = aksudr.fed
  subnet_id = "{subnet}"
}}

output "fed_ready" {{
  value = data.aksudr_subnet_egress.fed.udr_ready
}}
"#,
        cluster = cluster_id("aks-egress"),
        subnet = subnet_id("aks")
    );
    let wd = az.workdir(&hcl);
    wd.apply().assert_success();
    let out = wd.terraform(&["output", "-raw", "fed_ready"]);
    assert_eq!(out.stdout.trim(), "true");
    let listed = az.sim.requests().iter().filter(|r| r.path.ends_with("/listClusterUserCredential")).count();
    assert!(listed >= 2, "the credentials were fetched for this configuration too");
    let state = wd.terraform(&["state", "pull"]);
    state.assert_success();
    for secret in [token.as_str(), "kube_config", "apiVersion", "certificate-authority-data"] {
        assert!(!state.stdout.contains(secret), "the state holds {secret:?}: {}", state.stdout);
    }
}

#[test]
fn egress_requirements_map_onto_firewall_rule_collections() {
    let hcl = r#"data "aksudr_egress_requirements" "aks" {
  location = "West Europe"
  addons   = ["azure_monitor"]
}

output "network" {
  value = data.aksudr_egress_requirements.aks.network_rules
}

output "fqdns" {
  value = flatten(data.aksudr_egress_requirements.aks.application_rules[*].destination_fqdns)
}

output "tags" {
  value = data.aksudr_egress_requirements.aks.fqdn_tags
}
"#;
    // No Azure needed: no credentials in this workspace.
    let wd = Workdir::new(&config(hcl));
    wd.init();
    wd.apply().assert_success();
    let out = wd.terraform(&["output", "-json"]).json();
    let fqdns: Vec<&str> =
        out["fqdns"]["value"].as_array().map(|a| a.iter().filter_map(|s| s.as_str()).collect()).unwrap_or_default();
    for want in ["*.hcp.westeurope.azmk8s.io", "mcr.microsoft.com", "westeurope.handler.control.monitor.azure.com"] {
        assert!(fqdns.contains(&want), "{want} not in {fqdns:?}");
    }
    let network = out["network"]["value"].as_array().cloned().unwrap_or_default();
    let tunnel = network.iter().find(|r| r["name"] == "aks-tunnel-udp").unwrap_or_else(|| panic!("{network:?}"));
    assert_eq!(tunnel["destination_addresses"], json!(["AzureCloud.westeurope"]));
    assert_eq!(tunnel["destination_ports"], json!(["1194"]));
    assert!(tunnel["source"].as_str().is_some_and(|s| s.contains("Azure Global required network rules")));
    assert_eq!(out["tags"]["value"], json!(["AzureKubernetesService"]));

    let bad = Workdir::new(&config(&hcl.replace("\"azure_monitor\"", "\"monitoring\"")));
    bad.init();
    let out = bad.plan();
    out.assert_failure();
    assert!(out.stderr.contains("not a known add-on"), "{}", out.stderr);
}

/// The documented pattern with the cluster created in the same
/// configuration: Terraform opens the ephemeral resource while planning,
/// before the cluster exists; its credentials are unknown until apply, the
/// provider configuration fed from them is configured at apply (as the
/// kubernetes provider would be), and the postcondition sees the token.
/// With `store_kube_config = false` nothing secret is stored.
#[test]
fn cluster_credentials_of_a_cluster_created_in_the_same_configuration() {
    if !supports_ephemeral_resources() {
        return;
    }
    let az = Azure::start();
    egress_in_place(&az, default_route("VirtualAppliance"));
    let hcl = format!(
        r#"{cluster}
ephemeral "aksudr_cluster_credentials" "aks" {{
  cluster_id = aksudr_cluster.aks.id
  lifecycle {{
    postcondition {{
      condition     = length(self.token) > 8 && startswith(self.host, "https://")
      error_message = "no credentials"
    }}
  }}
}}

provider "aksudr" {{
  alias      = "fed"
  oidc_token = ephemeral.aksudr_cluster_credentials.aks.token
  use_oidc   = false
}}

resource "aksudr_route_table" "fed" {{
  provider            = aksudr.fed
  name                = "rt-fed"
  resource_group_name = "rg-egress"
  location            = "westeurope"
}}

output "fed_table" {{
  value = aksudr_route_table.fed.id
}}
"#,
        cluster = cluster("azure", "network_plugin_mode = \"overlay\"", "store_kube_config = false"),
    );
    let wd = az.workdir(&hcl);
    let plan = wd.plan();
    plan.assert_success();
    assert!(
        az.sim.requests().iter().any(|r| r.path.ends_with("/listClusterUserCredential")),
        "the plan asked for the credentials (and was told the cluster is not there yet)"
    );
    wd.apply().assert_success();
    let out = wd.terraform(&["output", "-raw", "fed_table"]);
    assert!(out.stdout.trim().ends_with("/routeTables/rt-fed"), "the fed provider did not apply: {}", out.stdout);
    let listed_ok =
        az.sim.requests().iter().filter(|r| r.path.ends_with("/listClusterUserCredential") && r.status == 200).count();
    assert!(listed_ok >= 1, "the credentials were fetched once the cluster existed");
    let state = wd.terraform(&["state", "pull"]);
    state.assert_success();
    for secret in ["token:", "apiVersion", "certificate-authority-data"] {
        assert!(!state.stdout.contains(secret), "the state holds {secret:?}: {}", state.stdout);
    }
    wd.assert_no_changes();
}
