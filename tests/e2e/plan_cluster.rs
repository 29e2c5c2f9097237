//! Planning `aksudr_cluster` with no Azure credentials: a private-egress
//! cluster on a user-defined route table plans with its defaults and keeps
//! its kubeconfig hidden, and rules R5–R7 reject the cluster settings that
//! cannot work with user-defined routing.

use crate::harness::{assert_plan_violates, config, subnet_id, unwrapped, Azure, RuleError, Workdir};

/// The parts of a cluster the rule tests vary.
struct Cluster<'a> {
    identity: &'a str,
    /// Lines added to `default_node_pool`.
    pool: &'a str,
    /// The body of `network_profile`.
    network: &'a str,
}

const SYSTEM_ASSIGNED: &str = "  identity {\n    type = \"SystemAssigned\"\n  }\n";

const OVERLAY: &str = r#"    network_plugin      = "azure"
    network_plugin_mode = "overlay"
    pod_cidr            = "192.168.0.0/16"
    service_cidr        = "10.96.0.0/16"
    dns_service_ip      = "10.96.0.10"
"#;

fn with_subnet() -> String {
    format!("    vnet_subnet_id = \"{}\"\n", subnet_id("aks"))
}

impl Cluster<'_> {
    fn hcl(&self) -> String {
        format!(
            r#"resource "aksudr_cluster" "aks" {{
  name                = "aks-egress"
  resource_group_name = "rg-egress"
  location            = "westeurope"
  dns_prefix          = "aksegress"
{identity}
  default_node_pool {{
    name       = "system"
    vm_size    = "Standard_D4s_v5"
    node_count = 2
{pool}  }}

  network_profile {{
{network}  }}
}}
"#,
            identity = self.identity,
            pool = self.pool,
            network = self.network,
        )
    }
}

#[test]
fn cluster_behind_a_firewall_plans_and_needs_credentials_to() {
    let cluster = Cluster { identity: SYSTEM_ASSIGNED, pool: &with_subnet(), network: OVERLAY }.hcl();
    let routing = format!(
        r#"resource "aksudr_route_table" "x" {{
  name                = "rt-aks-egress"
  resource_group_name = "rg-egress"
  location            = "westeurope"
}}

resource "aksudr_firewall_route" "default" {{
  name                   = "default-via-firewall"
  route_table_id         = aksudr_route_table.x.id
  next_hop_in_ip_address = "10.0.1.4"
}}

resource "aksudr_subnet_route_table_association" "aks" {{
  subnet_id      = "{subnet}"
  route_table_id = aksudr_route_table.x.id
}}
"#,
        subnet = subnet_id("aks"),
    );
    // Without any credential, validate passes but a plan is refused: it
    // could not apply, and a plan gate must not pass it.
    let offline = Workdir::new(&config(&format!("{routing}\n{cluster}")));
    offline.init();
    offline.terraform(&["validate"]).assert_success();
    let out = offline.plan();
    out.assert_failure();
    let stderr = unwrapped(&out.stderr);
    // Nothing configured: the Azure CLI, the last resort, was tried, and the
    // error says what else could be set.
    for needle in ["Cannot authenticate to Azure", "Azure CLI", "ARM_CLIENT_SECRET", "ARM_USE_OIDC", "ARM_USE_MSI"] {
        if !stderr.contains(needle) {
            out.fail(format_args!("the plan's error should name {needle:?}"));
        }
    }

    let az = Azure::start();
    let wd = Workdir::new(&config(&format!("{routing}\n{cluster}"))).envs(az.secret_env());
    wd.init();
    let out = wd.terraform(&["plan", "-input=false", "-out=tfplan"]);
    out.assert_success()
        .assert_no_errors()
        .assert_stdout_contains("aksudr_cluster.aks will be created")
        .assert_stdout_contains("kube_config_raw")
        .assert_stdout_contains("(sensitive value)")
        .assert_stdout_contains("Plan: 4 to add, 0 to change, 0 to destroy.");

    let plan = wd.terraform(&["show", "-json", "tfplan"]).assert_success().json();
    let Some(change) = plan["resource_changes"]
        .as_array()
        .and_then(|rcs| rcs.iter().find(|rc| rc["address"] == "aksudr_cluster.aks"))
        .map(|rc| &rc["change"])
    else {
        panic!("no change for the cluster in {plan:#}");
    };
    let network = &change["after"]["network_profile"][0];
    assert_eq!(network["outbound_type"], "userDefinedRouting", "{change:#}");
    assert_eq!(network["load_balancer_sku"], "standard", "{change:#}");
    assert!(change["after"]["id"].as_str().is_some_and(|id| id.ends_with("/managedClusters/aks-egress")), "{change:#}");
    assert_eq!(change["after_unknown"]["kube_config_raw"], true, "{change:#}");
    assert_eq!(change["after_sensitive"]["kube_config_raw"], true, "{change:#}");
}

#[test]
fn r5_availability_set_pool() {
    let pool = format!("{}    type           = \"AvailabilitySet\"\n", with_subnet());
    let cluster = Cluster { identity: SYSTEM_ASSIGNED, pool: &pool, network: OVERLAY };
    assert_plan_violates(
        &cluster.hcl(),
        RuleError { rule: "R5", attribute: "type", config_line: Some("AvailabilitySet") },
    );
}

#[test]
fn r5_basic_load_balancer() {
    let network = format!("{OVERLAY}    load_balancer_sku   = \"basic\"\n");
    let cluster = Cluster { identity: SYSTEM_ASSIGNED, pool: &with_subnet(), network: &network };
    assert_plan_violates(
        &cluster.hcl(),
        RuleError { rule: "R5", attribute: "load_balancer_sku", config_line: Some("load_balancer_sku") },
    );
}

#[test]
fn r5_pool_without_subnet() {
    // Absent, so only the message can name it.
    let cluster = Cluster { identity: SYSTEM_ASSIGNED, pool: "", network: OVERLAY };
    assert_plan_violates(&cluster.hcl(), RuleError { rule: "R5", attribute: "vnet_subnet_id", config_line: None });
}

#[test]
fn r5_explicit_udr_is_checked_like_the_default() {
    let network = format!("{OVERLAY}    outbound_type       = \"userDefinedRouting\"\n");
    let pool = format!("{}    type           = \"AvailabilitySet\"\n", with_subnet());
    let cluster = Cluster { identity: SYSTEM_ASSIGNED, pool: &pool, network: &network };
    assert_plan_violates(
        &cluster.hcl(),
        RuleError { rule: "R5", attribute: "type", config_line: Some("AvailabilitySet") },
    );
}

#[test]
fn r6_kubenet_with_system_assigned_identity() {
    let network = r#"    network_plugin = "kubenet"
    pod_cidr       = "192.168.0.0/16"
    service_cidr   = "10.96.0.0/16"
    dns_service_ip = "10.96.0.10"
"#;
    let cluster = Cluster { identity: SYSTEM_ASSIGNED, pool: &with_subnet(), network };
    assert_plan_violates(
        &cluster.hcl(),
        RuleError { rule: "R6", attribute: "type", config_line: Some("SystemAssigned") },
    );
}

#[test]
fn r7_dns_service_ip_outside_service_cidr() {
    let network = r#"    network_plugin      = "azure"
    network_plugin_mode = "overlay"
    pod_cidr            = "192.168.0.0/16"
    service_cidr        = "10.96.0.0/16"
    dns_service_ip      = "10.97.0.10"
"#;
    let cluster = Cluster { identity: SYSTEM_ASSIGNED, pool: &with_subnet(), network };
    assert_plan_violates(
        &cluster.hcl(),
        RuleError { rule: "R7", attribute: "dns_service_ip", config_line: Some("10.97.0.10") },
    );
}

#[test]
fn r7_pod_cidr_overlaps_service_cidr() {
    let network = r#"    network_plugin      = "azure"
    network_plugin_mode = "overlay"
    pod_cidr            = "10.96.128.0/17"
    service_cidr        = "10.96.0.0/16"
    dns_service_ip      = "10.96.0.10"
"#;
    let cluster = Cluster { identity: SYSTEM_ASSIGNED, pool: &with_subnet(), network };
    // Either side of the overlap is a fair place to report it; the message
    // must name both so the reader knows what collides with what.
    let out = assert_plan_violates(&cluster.hcl(), RuleError { rule: "R7", attribute: "pod_cidr", config_line: None });
    let diag =
        out.diagnostics().into_iter().find(|d| d.summary.ends_with("(R7)")).unwrap_or_else(|| out.fail("no R7 error"));
    if !diag.text().contains("service_cidr") {
        out.fail(format_args!("the R7 error must name service_cidr: {diag:#?}"));
    }
    let pointed = diag.line.and_then(|n| out_line(&cluster.hcl(), n));
    if !pointed.as_ref().is_some_and(|l| l.contains("pod_cidr") || l.contains("service_cidr")) {
        out.fail(format_args!("the R7 error should point at pod_cidr or service_cidr, not {pointed:?}"));
    }
}

/// Line `n` (1-based) of the full main.tf built from `resources`.
fn out_line(resources: &str, n: usize) -> Option<String> {
    config(resources).lines().nth(n.checked_sub(1)?).map(str::to_string)
}
