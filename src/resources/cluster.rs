//! `aksudr_cluster`: an AKS cluster whose egress leaves through the subnet's
//! route table (`outbound_type = "userDefinedRouting"` by default). The UDR
//! rules it plans with live in `crate::rules`.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use serde_json::json;

use super::{
    arm_error, check_subnet_id, deadline, id_attribute, input_str, json_str, keep_spelling, location_attribute, object,
    requires_import, resource_group_attribute, str_attr, subscription, tags_attribute, timeouts_block, tracked_state,
    Op,
};
use crate::arm::ids::{ManagedClusterId, RouteId, RouteTableId, SubnetId};
use crate::arm::{ArmClient, ArmError, AKS_API_VERSION as AKS_API, NETWORK_API_VERSION as NET_API};
use crate::context::ProviderData;
use crate::log;
use crate::rules::cluster::{check_cluster, outbound_type_change, ClusterSpec, OutboundChange};
use crate::rules::egress::{check_subnet_egress, LiveRoute, LiveRouteTable};
use crate::rules::enums::{
    IDENTITY_TYPES, LOAD_BALANCER_SKUS, NETWORK_PLUGINS, NETWORK_PLUGIN_MODES, NETWORK_POLICIES, NODE_POOL_TYPES,
    OUTBOUND_TYPES, SKU_TIERS,
};
use crate::rules::projection::{subnet_table_after, SubnetTable, Verdict};
use crate::rules::Input;
use crate::tf::diag::{AttributePath, Diagnostic, Diagnostics};
use crate::tf::resource::{ApplyOutcome, Import, PlanChange, Resource};
use crate::tf::schema::{case_insensitive, Attribute, Block, NestedBlock, Schema};
use crate::tf::value::{Type, Value};

pub const TYPE_NAME: &str = "aksudr_cluster";

pub struct ClusterResource {
    schema: Schema,
}

fn string_object(fields: &[&str]) -> Type {
    Type::Object(fields.iter().map(|f| (f.to_string(), Type::String)).collect::<BTreeMap<_, _>>())
}

fn check_dns_prefix(s: &str) -> Result<(), String> {
    let ok_chars = s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let ends_ok = s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars().last().is_some_and(|c| c.is_ascii_alphanumeric());
    if s.is_empty() || s.len() > 54 || !ok_chars || !ends_ok {
        return Err(format!(
            "{s:?} is not a valid DNS prefix: use 1 to 54 letters, digits or hyphens, starting and ending with \
             a letter or digit."
        ));
    }
    Ok(())
}

fn check_cluster_name(s: &str) -> Result<(), String> {
    let ok_chars = s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    let ends_ok = s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars().last().is_some_and(|c| c.is_ascii_alphanumeric());
    if s.is_empty() || s.len() > 63 || !ok_chars || !ends_ok {
        return Err(format!(
            "{s:?} is not a valid AKS cluster name: use 1 to 63 letters, digits, hyphens or underscores, \
             starting and ending with a letter or digit."
        ));
    }
    Ok(())
}

fn check_route_id(s: &str) -> Result<(), String> {
    RouteId::parse(s).map(|_| ()).map_err(|e| e.to_string())
}

fn check_pool_name(s: &str) -> Result<(), String> {
    let first_ok = s.chars().next().is_some_and(|c| c.is_ascii_lowercase());
    if s.is_empty() || s.len() > 12 || !first_ok || !s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()) {
        return Err(format!(
            "{s:?} is not a valid node pool name: use 1 to 12 lowercase letters or digits, starting with a letter."
        ));
    }
    Ok(())
}

fn identity_block() -> NestedBlock {
    NestedBlock::at_most_one(
        "identity",
        Block::new("The cluster's control-plane identity. Without this block AKS uses a system-assigned identity.")
            .attr(
                Attribute::string(
                    "type",
                    "`SystemAssigned` (default) or `UserAssigned`. kubenet with user-defined routing needs \
                     `UserAssigned`, with an identity that may write the route table. Updated in place.",
                )
                .default(Value::string("SystemAssigned"))
                .one_of(IDENTITY_TYPES),
            )
            .attr(
                Attribute::string_set(
                    "identity_ids",
                    "The user-assigned identities' ARM IDs; required with `UserAssigned`. Updated in place.",
                )
                .optional(),
            ),
    )
}

fn default_node_pool_block() -> NestedBlock {
    NestedBlock::exactly_one(
        "default_node_pool",
        Block::new("The system node pool. User-defined routing needs a `VirtualMachineScaleSets` pool in an existing subnet.")
            .attr(
                Attribute::string("name", "The pool's name (lowercase letters and digits, at most 12). Changing it forces replacement.")
                    .required()
                    .forces_replacement()
                    .check(check_pool_name),
            )
            .attr(
                Attribute::string("vm_size", "The VM size of the nodes, e.g. `Standard_D2s_v5`. Changing it forces replacement.")
                    .required()
                    .forces_replacement()
                    .equivalent(case_insensitive),
            )
            .attr(Attribute::integer("node_count", "The number of nodes. Default 1. Updated in place.").default(Value::int(1)))
            .attr(
                Attribute::string(
                    "type",
                    "`VirtualMachineScaleSets` (default) or `AvailabilitySet`. User-defined routing, NAT gateway and \
                     `none` outbound types need `VirtualMachineScaleSets`. Changing it forces replacement.",
                )
                .default(Value::string("VirtualMachineScaleSets"))
                .forces_replacement()
                .one_of(NODE_POOL_TYPES),
            )
            .attr(
                Attribute::string(
                    "vnet_subnet_id",
                    "The ARM ID of the existing subnet the nodes join. Required with user-defined routing: that \
                     subnet's route table must hold a 0.0.0.0/0 route to the firewall, which the provider checks \
                     at plan (on the network as the plan leaves it) and again before creating the cluster. \
                     Changing it forces replacement.",
                )
                .optional()
                .forces_replacement()
                .equivalent(case_insensitive)
                .check(check_subnet_id),
            )
            .attr(Attribute::integer("max_pods", "The maximum pods per node. Changing it forces replacement.").optional().computed().stable().forces_replacement())
            .attr(Attribute::integer("os_disk_size_gb", "The OS disk size in GB. Changing it forces replacement.").optional().computed().stable().forces_replacement())
            .attr(Attribute::string_set("zones", "The availability zones of the nodes, e.g. `[\"1\", \"2\", \"3\"]`. Changing it forces replacement.").optional().forces_replacement())
            .attr(Attribute::bool("auto_scaling_enabled", "Whether the cluster autoscaler manages the node count. Default false. Updated in place.").default(Value::Bool(false)))
            .attr(Attribute::integer("min_count", "The autoscaler's minimum node count. Updated in place.").optional())
            .attr(Attribute::integer("max_count", "The autoscaler's maximum node count. Updated in place.").optional())
            .attr(Attribute::string("orchestrator_version", "The Kubernetes version of the pool's nodes; AKS picks the control plane's when unset. Updated in place.").optional().computed().stable()),
    )
}

fn network_profile_block() -> NestedBlock {
    let replaces = "Changing it forces replacement.";
    NestedBlock::exactly_one(
        "network_profile",
        Block::new("Cluster networking, including how egress leaves the cluster.")
            .attr(
                Attribute::string("network_plugin", &format!("`azure`, `kubenet` or `none`. {replaces}"))
                    .required()
                    .forces_replacement()
                    .one_of(NETWORK_PLUGINS),
            )
            .attr(
                Attribute::string("network_plugin_mode", &format!("`overlay` for Azure CNI Overlay. {replaces}"))
                    .optional()
                    .forces_replacement()
                    .one_of(NETWORK_PLUGIN_MODES),
            )
            .attr(
                Attribute::string("network_policy", &format!("`azure`, `calico` or `cilium`. {replaces}"))
                    .optional()
                    .forces_replacement()
                    .one_of(NETWORK_POLICIES),
            )
            .attr(
                Attribute::string(
                    "outbound_type",
                    "How egress leaves the cluster: `userDefinedRouting` (default; through the subnet's route \
                     table to a firewall or NVA — AKS then creates no outbound public IP), `loadBalancer`, \
                     `managedNATGateway`, `userAssignedNATGateway` or `none`. Changes among `loadBalancer`, \
                     `userDefinedRouting`, `userAssignedNATGateway` and `none` are made in place; any other \
                     change forces replacement.",
                )
                .default(Value::string("userDefinedRouting"))
                .one_of(OUTBOUND_TYPES),
            )
            .attr(
                Attribute::string(
                    "egress_route_id",
                    "The ID of the `aksudr_firewall_route` that carries the cluster's egress, e.g. \
                     `aksudr_firewall_route.default.id`. Not sent to Azure: referencing the route makes Terraform \
                     plan and create it before the cluster, and has the provider verify, at plan and again before \
                     the cluster is written, that this route is the default route of the node subnet's route \
                     table. Pair it with `vnet_subnet_id = aksudr_subnet_route_table_association.<name>.subnet_id` \
                     so that the association is made first too.",
                )
                .optional()
                .equivalent(case_insensitive)
                .check(check_route_id),
            )
            .attr(
                Attribute::string(
                    "load_balancer_sku",
                    &format!("`standard` (default) or `basic`; every outbound type but `loadBalancer` needs `standard`. {replaces}"),
                )
                .default(Value::string("standard"))
                .forces_replacement()
                .one_of(LOAD_BALANCER_SKUS),
            )
            .attr(Attribute::string("pod_cidr", &format!("The pod CIDR (kubenet and Azure CNI Overlay). {replaces}")).optional().computed().stable().forces_replacement())
            .attr(Attribute::string("service_cidr", &format!("The Kubernetes service CIDR; must not overlap the pod CIDR or the VNet. {replaces}")).optional().computed().stable().forces_replacement())
            .attr(Attribute::string("dns_service_ip", &format!("The cluster DNS service IP, inside `service_cidr`. {replaces}")).optional().computed().stable().forces_replacement()),
    )
}

impl ClusterResource {
    pub fn new() -> Self {
        let block = Block::new(
            "An AKS cluster whose egress goes through a user-defined route table to a firewall or network \
             virtual appliance. With `outbound_type = \"userDefinedRouting\"` the provider checks at plan — and \
             again against live Azure before creating — that the node subnet has a route table with a \
             0.0.0.0/0 route to a `VirtualAppliance` or `VirtualNetworkGateway`.",
        )
        .attr(id_attribute("cluster"))
        .attr(Attribute::string("name", "The cluster's name. Changing it forces replacement.").required().forces_replacement().check(check_cluster_name))
        .attr(resource_group_attribute("cluster"))
        .attr(location_attribute("cluster"))
        .attr(Attribute::string("dns_prefix", "The DNS prefix of the API server's FQDN. Changing it forces replacement.").required().forces_replacement().check(check_dns_prefix))
        .attr(Attribute::string("kubernetes_version", "The Kubernetes version of the control plane; AKS picks its default when unset. Upgraded in place.").optional().computed().stable())
        .attr(Attribute::string("sku_tier", "`Free` (default), `Standard` or `Premium`. Updated in place.").default(Value::string("Free")).one_of(SKU_TIERS))
        .attr(Attribute::bool("private_cluster_enabled", "Whether the API server has only a private endpoint. Default false. Changing it forces replacement.").default(Value::Bool(false)).forces_replacement())
        .attr(Attribute::string_set("api_server_authorized_ip_ranges", "CIDRs allowed to reach the public API server. With user-defined routing, include the firewall's public IP so that nodes reach the API server. Updated in place.").optional())
        .attr(Attribute::string("node_resource_group", "The resource group AKS creates for the nodes; AKS names it when unset. Changing it forces replacement.").optional().computed().stable().forces_replacement())
        .attr(tags_attribute())
        .attr(Attribute::string("fqdn", "The API server's public FQDN.").computed().stable())
        .attr(Attribute::string("private_fqdn", "The API server's private FQDN (private clusters).").computed().stable())
        // Not stable: AKS may issue new credentials with any update.
        .attr(Attribute::string("kube_config_raw", "The cluster user's kubeconfig, from listClusterUserCredential. Sensitive.").computed().sensitive())
        .attr(
            Attribute::of_type(
                "kube_config",
                Type::list(string_object(&["host", "client_certificate", "client_key", "cluster_ca_certificate"])),
                "The parts of `kube_config_raw`: host and base64 certificates. Sensitive.",
            )
            .computed()
            .sensitive(),
        )
        .attr(
            Attribute::of_type(
                "kubelet_identity",
                Type::list(string_object(&["client_id", "object_id", "user_assigned_identity_id"])),
                "The identity the kubelets use (to pull images, for example).",
            )
            .computed()
            .stable(),
        )
        .block(identity_block())
        .block(default_node_pool_block())
        .block(network_profile_block())
        .block(timeouts_block("90m", "5m", "90m", "90m"));
        ClusterResource { schema: Schema::new(0, block) }
    }
}

impl Default for ClusterResource {
    fn default() -> Self {
        Self::new()
    }
}

/// The first element of a `LIST` block, or null.
fn first<'a>(v: &'a Value, block: &str) -> &'a Value {
    const NULL: &Value = &Value::Null;
    match v.attr(block) {
        Some(Value::List(items)) => items.first().unwrap_or(NULL),
        Some(Value::Unknown) => &Value::Unknown,
        _ => NULL,
    }
}

fn input_strings(v: &Value, name: &str) -> Input<Vec<String>> {
    match v.attr(name) {
        Some(Value::Unknown) => Input::Unknown,
        Some(Value::Set(items)) | Some(Value::List(items)) => {
            if items.iter().any(Value::is_unknown) {
                Input::Unknown
            } else {
                Input::Known(items.iter().filter_map(|i| i.as_str().map(str::to_string)).collect())
            }
        }
        _ => Input::Null,
    }
}

/// A string attribute with the schema default applied when unset, as the
/// cluster will have it.
fn with_default(v: &Value, name: &str, default: &str) -> Input<String> {
    match input_str(v, name) {
        Input::Null if !v.is_unknown() => Input::Known(default.to_string()),
        Input::Null => Input::Unknown,
        other => other,
    }
}

/// The rules' view of a cluster configuration.
pub(crate) fn cluster_spec(config: &Value) -> ClusterSpec {
    let pool = first(config, "default_node_pool");
    let net = first(config, "network_profile");
    let identity = first(config, "identity");
    ClusterSpec {
        outbound_type: with_default(net, "outbound_type", "userDefinedRouting"),
        network_plugin: input_str(net, "network_plugin"),
        network_plugin_mode: input_str(net, "network_plugin_mode"),
        network_policy: input_str(net, "network_policy"),
        sku_tier: with_default(config, "sku_tier", "Free"),
        node_pool_type: with_default(pool, "type", "VirtualMachineScaleSets"),
        load_balancer_sku: with_default(net, "load_balancer_sku", "standard"),
        vnet_subnet_id: input_str(pool, "vnet_subnet_id"),
        identity_type: with_default(identity, "type", "SystemAssigned"),
        identity_ids: input_strings(identity, "identity_ids"),
        pod_cidr: input_str(net, "pod_cidr"),
        service_cidr: input_str(net, "service_cidr"),
        dns_service_ip: input_str(net, "dns_service_ip"),
    }
}

const CREATE: Duration = Duration::from_secs(90 * 60);
const READ: Duration = Duration::from_secs(5 * 60);
const UPDATE: Duration = Duration::from_secs(90 * 60);
const DELETE: Duration = Duration::from_secs(90 * 60);

const UDR: &str = "userDefinedRouting";

/// Managed-cluster properties that api-version 2026-07-01 marks read-only:
/// AKS ignores them in a PUT, but a request carrying them does not conform
/// to the spec.
const READ_ONLY_PROPERTIES: &[&str] = &[
    "provisioningState",
    "powerState",
    "maxAgentPools",
    "currentKubernetesVersion",
    "fqdn",
    "privateFQDN",
    "azurePortalFQDN",
    "resourceUID",
];

/// The hint for a route or association that the same apply creates: nothing
/// orders them before the cluster unless the configuration says so.
const ORDERING_HINT: &str = "If the route table, the route or the association is created in this same apply, \
     Terraform may have started the cluster before them. Reference them from the cluster so that egress is in \
     place first:\n  default_node_pool {\n    vnet_subnet_id = aksudr_subnet_route_table_association.<name>.subnet_id\n  \
     }\n  network_profile {\n    egress_route_id = aksudr_firewall_route.<name>.id\n  }\n(or add both resources to \
     the cluster's depends_on).";

/// Reads the subnet's route table and routes from ARM; `Ok(None)` when the
/// subnet itself does not exist (yet).
async fn live_route_table(
    arm: &ArmClient,
    subnet_id: &str,
    until: tokio::time::Instant,
) -> Result<Option<Option<LiveRouteTable>>, ArmError> {
    let Ok(subnet) = SubnetId::parse_insensitive(subnet_id) else { return Ok(None) };
    let Some(subnet) = arm.get(&subnet.to_string(), NET_API, until).await? else { return Ok(None) };
    let Some(table_id) = subnet.pointer("/properties/routeTable/id").and_then(|v| v.as_str()) else {
        return Ok(Some(None));
    };
    let Ok(table) = RouteTableId::parse_insensitive(table_id) else { return Ok(Some(None)) };
    let Some(table) = arm.get(&table.to_string(), NET_API, until).await? else { return Ok(Some(None)) };
    Ok(Some(Some(LiveRouteTable { id: table_id.to_string(), routes: live_routes(&table) })))
}

/// The routes of a route table as ARM returns it.
pub(super) fn live_routes(table: &serde_json::Value) -> Vec<LiveRoute> {
    let text = |r: &serde_json::Value, p: &str| r.pointer(p).and_then(|v| v.as_str()).unwrap_or_default().to_string();
    table
        .pointer("/properties/routes")
        .and_then(|r| r.as_array())
        .map(|routes| {
            routes
                .iter()
                .map(|r| LiveRoute {
                    name: text(r, "/name"),
                    address_prefix: text(r, "/properties/addressPrefix"),
                    next_hop_type: text(r, "/properties/nextHopType"),
                    next_hop_ip: r.pointer("/properties/nextHopIpAddress").and_then(|v| v.as_str()).map(str::to_string),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The subnet of a cluster whose (planned) outbound type is UDR, when known.
fn udr_subnet(v: &Value) -> Option<String> {
    let pool = first(v, "default_node_pool");
    let net = first(v, "network_profile");
    let outbound = net.attr("outbound_type").and_then(Value::as_str).unwrap_or(UDR);
    if !outbound.eq_ignore_ascii_case(UDR) {
        return None;
    }
    pool.attr("vnet_subnet_id").and_then(Value::as_str).map(str::to_string)
}

/// The configured `egress_route_id`, parsed; `None` when unset or unknown.
fn egress_route(v: &Value) -> Option<RouteId> {
    first(v, "network_profile").attr("egress_route_id").and_then(Value::as_str).and_then(|s| RouteId::parse(s).ok())
}

/// The declared egress route must be a default route of the subnet's table.
fn check_egress_route(subnet_id: &str, table: &LiveRouteTable, route: &RouteId) -> Diagnostics {
    let in_table = RouteTableId::parse_insensitive(&table.id).is_ok_and(|t| t == route.table());
    let found = table.routes.iter().find(|r| r.name.eq_ignore_ascii_case(&route.name));
    let problem = match (in_table, found) {
        (false, _) => format!(
            "the route belongs to route table {}, but the subnet {subnet_id} uses route table {}",
            route.table(),
            table.id
        ),
        (true, None) => format!("route table {} has no route named {:?}", table.id, route.name),
        (true, Some(r)) if r.address_prefix.trim() != "0.0.0.0/0" => {
            format!("the route {:?} is for {}, not for 0.0.0.0/0", r.name, r.address_prefix)
        }
        _ => return Diagnostics::new(),
    };
    Diagnostic::error(
        "egress_route_id is not the subnet's default route (UDR egress)",
        format!("{problem}. Point egress_route_id at the aksudr_firewall_route that sends 0.0.0.0/0 to the firewall."),
    )
    .at(AttributePath::parse("network_profile[0].egress_route_id"))
    .into()
}

/// Every rule, on the configuration and on live ARM, right before a write
/// that AKS would validate; errors mean nothing is sent.
async fn precheck(arm: &ArmClient, planned: &Value, until: tokio::time::Instant) -> Result<(), Diagnostics> {
    let mut diags = check_cluster(&cluster_spec(planned));
    if let Some(subnet_id) = udr_subnet(planned) {
        match live_route_table(arm, &subnet_id, until).await {
            Ok(None) => diags.push(
                Diagnostic::error(
                    "Cluster subnet does not exist (UDR egress)",
                    format!(
                        "The subnet {subnet_id} was not found. A cluster with outbound_type \"userDefinedRouting\" \
                         goes into an existing subnet."
                    ),
                )
                .at(AttributePath::parse("default_node_pool[0].vnet_subnet_id")),
            ),
            Ok(Some(table)) => {
                for mut d in check_subnet_egress(&subnet_id, table.as_ref()).0 {
                    d.detail = format!("{}\n\n{ORDERING_HINT}", d.detail);
                    diags.push(d);
                }
                if let (Some(table), Some(route)) = (table.as_ref(), egress_route(planned)) {
                    diags.extend(check_egress_route(&subnet_id, table, &route));
                }
            }
            Err(e) => diags.extend(arm_error("checking the cluster subnet's egress before writing the cluster", e)),
        }
    }
    if diags.has_errors() {
        log::warn!("cluster precheck failed; nothing was sent to AKS", errors = diags.0.len());
        return Err(diags);
    }
    Ok(())
}

fn strings_json(v: &Value, name: &str) -> Option<serde_json::Value> {
    v.attr(name).and_then(Value::elements).map(|e| json!(e.iter().filter_map(Value::as_str).collect::<Vec<_>>()))
}

fn tags_json(v: &Value) -> serde_json::Value {
    match v.attr("tags") {
        Some(Value::Map(m)) => {
            serde_json::Value::Object(m.iter().filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), json!(s)))).collect())
        }
        _ => json!({}),
    }
}

/// Inserts `key` when `v` has a known, non-null value.
fn put_opt(obj: &mut serde_json::Map<String, serde_json::Value>, key: &str, v: Option<&Value>) {
    let j = match v {
        Some(Value::String(s)) => json!(s),
        Some(Value::Bool(b)) => json!(b),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(i) => json!(i),
            None => return,
        },
        _ => return,
    };
    obj.insert(key.to_string(), j);
}

/// The canonical spelling of an enum attribute, for ARM.
fn canon(v: &Value, name: &str, allowed: &[&'static str]) -> Option<Value> {
    let s = v.attr(name).and_then(Value::as_str)?;
    Some(Value::string(crate::rules::canonical(s, allowed).unwrap_or(s)))
}

/// The managed cluster's ARM body from the planned state.
fn expand(planned: &Value) -> serde_json::Value {
    let pool = first(planned, "default_node_pool");
    let net = first(planned, "network_profile");
    let identity = first(planned, "identity");

    let mut agent = serde_json::Map::new();
    put_opt(&mut agent, "name", pool.attr("name"));
    put_opt(&mut agent, "count", pool.attr("node_count"));
    put_opt(&mut agent, "vmSize", pool.attr("vm_size"));
    put_opt(&mut agent, "type", canon(pool, "type", NODE_POOL_TYPES).as_ref());
    put_opt(&mut agent, "vnetSubnetID", pool.attr("vnet_subnet_id"));
    put_opt(&mut agent, "maxPods", pool.attr("max_pods"));
    put_opt(&mut agent, "osDiskSizeGB", pool.attr("os_disk_size_gb"));
    put_opt(&mut agent, "enableAutoScaling", pool.attr("auto_scaling_enabled"));
    put_opt(&mut agent, "minCount", pool.attr("min_count"));
    put_opt(&mut agent, "maxCount", pool.attr("max_count"));
    put_opt(&mut agent, "orchestratorVersion", pool.attr("orchestrator_version"));
    if let Some(z) = strings_json(pool, "zones") {
        agent.insert("availabilityZones".into(), z);
    }
    agent.insert("mode".into(), json!("System"));
    agent.insert("osType".into(), json!("Linux"));

    let mut network = serde_json::Map::new();
    put_opt(&mut network, "networkPlugin", canon(net, "network_plugin", NETWORK_PLUGINS).as_ref());
    put_opt(&mut network, "networkPluginMode", canon(net, "network_plugin_mode", NETWORK_PLUGIN_MODES).as_ref());
    put_opt(&mut network, "networkPolicy", canon(net, "network_policy", NETWORK_POLICIES).as_ref());
    put_opt(&mut network, "outboundType", canon(net, "outbound_type", OUTBOUND_TYPES).as_ref());
    put_opt(&mut network, "loadBalancerSku", canon(net, "load_balancer_sku", LOAD_BALANCER_SKUS).as_ref());
    put_opt(&mut network, "podCidr", net.attr("pod_cidr"));
    put_opt(&mut network, "serviceCidr", net.attr("service_cidr"));
    put_opt(&mut network, "dnsServiceIP", net.attr("dns_service_ip"));

    let mut access = serde_json::Map::new();
    put_opt(&mut access, "enablePrivateCluster", planned.attr("private_cluster_enabled"));
    // Always sent, empty when unset: an update is laid over the live
    // profile, where leaving the key out would keep ranges removed here.
    access.insert(
        "authorizedIPRanges".into(),
        strings_json(planned, "api_server_authorized_ip_ranges").unwrap_or_else(|| json!([])),
    );

    let mut props = serde_json::Map::new();
    put_opt(&mut props, "dnsPrefix", planned.attr("dns_prefix"));
    put_opt(&mut props, "kubernetesVersion", planned.attr("kubernetes_version"));
    put_opt(&mut props, "nodeResourceGroup", planned.attr("node_resource_group"));
    props.insert("agentPoolProfiles".into(), json!([agent]));
    props.insert("networkProfile".into(), serde_json::Value::Object(network));
    props.insert("apiServerAccessProfile".into(), serde_json::Value::Object(access));

    let identity_type = canon(identity, "type", IDENTITY_TYPES)
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "SystemAssigned".into());
    let mut ident = json!({ "type": identity_type });
    let assigned: serde_json::Map<String, serde_json::Value> = identity
        .attr("identity_ids")
        .and_then(Value::elements)
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_str)
        .map(|id| (id.to_string(), json!({})))
        .collect();
    if !assigned.is_empty() {
        ident["userAssignedIdentities"] = serde_json::Value::Object(assigned);
    }
    let tier = canon(planned, "sku_tier", SKU_TIERS)
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "Free".into());
    json!({
        "location": str_attr(planned, "location").unwrap_or_default(),
        "tags": tags_json(planned),
        "sku": { "name": "Base", "tier": tier },
        "identity": ident,
        "properties": props,
    })
}

fn json_i64(v: &serde_json::Value, pointer: &str) -> Value {
    v.pointer(pointer).and_then(|n| n.as_i64()).map(Value::int).unwrap_or(Value::Null)
}

fn json_bool(v: &serde_json::Value, pointer: &str) -> Value {
    Value::Bool(v.pointer(pointer).and_then(|b| b.as_bool()).unwrap_or(false))
}

/// A string set from ARM; an empty one is null when the prior state had
/// none, so "unset" and "empty" never show as drift.
fn json_string_set(v: &serde_json::Value, pointer: &str, prior: Option<&Value>) -> Value {
    let items: Vec<Value> = v
        .pointer(pointer)
        .and_then(|a| a.as_array())
        .map(|a| a.iter().filter_map(|s| s.as_str()).map(Value::string).collect())
        .unwrap_or_default();
    if items.is_empty() && prior.is_none_or(Value::is_null) {
        Value::Null
    } else {
        Value::Set(items)
    }
}

/// An enum as ARM returns it, in the prior spelling when only case differs.
fn enum_from(prior: &Value, name: &str, arm: &serde_json::Value, pointer: &str) -> Value {
    keep_spelling(prior, name, json_str(arm, pointer), case_insensitive)
}

/// The kubeconfig fields Terraform users need, read from its YAML text
/// without a YAML parser: AKS writes one cluster and one user.
pub(super) fn kube_config_parts(raw: &str) -> Value {
    let field = |key: &str| {
        raw.lines()
            .find_map(|l| l.trim().strip_prefix(key).map(|rest| rest.trim().trim_matches('"').to_string()))
            .map(Value::String)
            .unwrap_or(Value::Null)
    };
    Value::List(vec![object([
        ("host", field("server:")),
        ("client_certificate", field("client-certificate-data:")),
        ("client_key", field("client-key-data:")),
        ("cluster_ca_certificate", field("certificate-authority-data:")),
    ])])
}

fn set_equal_ignoring_case(a: &Value, b: &Value) -> bool {
    match (a.elements(), b.elements()) {
        (Some(x), Some(y)) => x.len() == y.len() && x.iter().all(|i| y.iter().any(|j| case_insensitive(i, j))),
        _ => false,
    }
}

/// The `identity` block from ARM. Without the block in the configuration,
/// AKS's system-assigned default stays implicit (an empty block list), or it
/// would show as drift.
fn flatten_identity(arm: &serde_json::Value, prior: &Value) -> Value {
    let arm_type = json_str(arm, "/identity/type");
    let prior_blocks = prior.attr("identity").and_then(Value::elements);
    if prior_blocks.is_none_or(<[Value]>::is_empty)
        && arm_type.as_str().is_none_or(|t| t.eq_ignore_ascii_case("SystemAssigned"))
    {
        return Value::List(vec![]);
    }
    let prior_identity = first(prior, "identity");
    let ids: Vec<Value> = arm
        .pointer("/identity/userAssignedIdentities")
        .and_then(|m| m.as_object())
        .map(|m| m.keys().map(Value::string).collect())
        .unwrap_or_default();
    let ids = if ids.is_empty() && prior_identity.attr("identity_ids").is_none_or(Value::is_null) {
        Value::Null
    } else {
        keep_spelling(prior_identity, "identity_ids", Value::Set(ids), set_equal_ignoring_case)
    };
    Value::List(vec![object([
        ("type", keep_spelling(prior_identity, "type", arm_type, case_insensitive)),
        ("identity_ids", ids),
    ])])
}

/// The pool's node count. While the cluster autoscaler manages the pool the
/// count is its business, not drift: the prior value stays (as azurerm
/// does), so Terraform never fights the autoscaler.
fn node_count(agent: &serde_json::Value, prior_pool: &Value) -> Value {
    let autoscaled = agent.pointer("/enableAutoScaling").and_then(|b| b.as_bool()).unwrap_or(false);
    match prior_pool.attr("node_count") {
        Some(prior) if autoscaled && !prior.is_null() => prior.clone(),
        _ => json_i64(agent, "/count"),
    }
}

/// State from ARM's managed cluster, the prior state (for spellings and what
/// the configuration leaves unset) and the user kubeconfig.
pub(super) fn flatten(
    arm: &serde_json::Value,
    prior: &Value,
    kubeconfig: Option<String>,
) -> Result<Value, Diagnostics> {
    let raw_id = arm.get("id").and_then(|v| v.as_str()).unwrap_or_default();
    let id = ManagedClusterId::parse_insensitive(raw_id)
        .map_err(|e| Diagnostics::from(Diagnostic::error("Unexpected cluster ID from Azure", e.to_string())))?;
    let prior_pool = first(prior, "default_node_pool");
    let prior_net = first(prior, "network_profile");
    let pool_name = prior_pool.attr("name").and_then(Value::as_str);
    let agent = arm
        .pointer("/properties/agentPoolProfiles")
        .and_then(|a| a.as_array())
        .and_then(|a| {
            a.iter().find(|x| pool_name.is_some() && x.get("name").and_then(|v| v.as_str()) == pool_name).or(a.first())
        })
        .cloned()
        .unwrap_or(serde_json::Value::Null);
    let pool = object([
        ("name", json_str(&agent, "/name")),
        ("vm_size", keep_spelling(prior_pool, "vm_size", json_str(&agent, "/vmSize"), case_insensitive)),
        ("node_count", node_count(&agent, prior_pool)),
        ("type", enum_from(prior_pool, "type", &agent, "/type")),
        (
            "vnet_subnet_id",
            keep_spelling(prior_pool, "vnet_subnet_id", json_str(&agent, "/vnetSubnetID"), case_insensitive),
        ),
        ("max_pods", json_i64(&agent, "/maxPods")),
        ("os_disk_size_gb", json_i64(&agent, "/osDiskSizeGB")),
        ("zones", json_string_set(&agent, "/availabilityZones", prior_pool.attr("zones"))),
        ("auto_scaling_enabled", json_bool(&agent, "/enableAutoScaling")),
        ("min_count", json_i64(&agent, "/minCount")),
        ("max_count", json_i64(&agent, "/maxCount")),
        ("orchestrator_version", json_str(&agent, "/orchestratorVersion")),
    ]);
    let np = |k: &str| format!("/properties/networkProfile/{k}");
    let network = object([
        ("network_plugin", enum_from(prior_net, "network_plugin", arm, &np("networkPlugin"))),
        ("network_plugin_mode", enum_from(prior_net, "network_plugin_mode", arm, &np("networkPluginMode"))),
        ("network_policy", enum_from(prior_net, "network_policy", arm, &np("networkPolicy"))),
        ("outbound_type", enum_from(prior_net, "outbound_type", arm, &np("outboundType"))),
        ("load_balancer_sku", enum_from(prior_net, "load_balancer_sku", arm, &np("loadBalancerSku"))),
        ("pod_cidr", json_str(arm, &np("podCidr"))),
        ("service_cidr", json_str(arm, &np("serviceCidr"))),
        ("dns_service_ip", json_str(arm, &np("dnsServiceIP"))),
        // Only in Terraform's state: ARM has no such property.
        ("egress_route_id", prior_net.attr("egress_route_id").cloned().unwrap_or(Value::Null)),
    ]);
    let kubelet = arm.pointer("/properties/identityProfile/kubeletidentity").map(|k| {
        Value::List(vec![object([
            ("client_id", json_str(k, "/clientId")),
            ("object_id", json_str(k, "/objectId")),
            ("user_assigned_identity_id", json_str(k, "/resourceId")),
        ])])
    });
    let tags = arm
        .get("tags")
        .and_then(|t| t.as_object())
        .filter(|m| !m.is_empty() || prior.attr("tags").is_some_and(|t| !t.is_null()))
        .map(|m| {
            Value::Map(m.iter().map(|(k, v)| (k.clone(), Value::string(v.as_str().unwrap_or_default()))).collect())
        })
        .unwrap_or(Value::Null);
    let kube_config = kubeconfig.as_deref().map(kube_config_parts).unwrap_or(Value::Null);
    let p = |k: &str| format!("/properties/{k}");
    Ok(object([
        ("id", keep_spelling(prior, "id", Value::string(id.to_string()), case_insensitive)),
        ("name", keep_spelling(prior, "name", Value::string(&id.name), case_insensitive)),
        (
            "resource_group_name",
            keep_spelling(prior, "resource_group_name", Value::string(&id.resource_group), case_insensitive),
        ),
        ("location", keep_spelling(prior, "location", json_str(arm, "/location"), super::same_location)),
        ("dns_prefix", json_str(arm, &p("dnsPrefix"))),
        ("kubernetes_version", json_str(arm, &p("kubernetesVersion"))),
        ("sku_tier", keep_spelling(prior, "sku_tier", json_str(arm, "/sku/tier"), case_insensitive)),
        ("private_cluster_enabled", json_bool(arm, &p("apiServerAccessProfile/enablePrivateCluster"))),
        (
            "api_server_authorized_ip_ranges",
            json_string_set(
                arm,
                &p("apiServerAccessProfile/authorizedIPRanges"),
                prior.attr("api_server_authorized_ip_ranges"),
            ),
        ),
        ("node_resource_group", json_str(arm, &p("nodeResourceGroup"))),
        ("tags", tags),
        ("fqdn", json_str(arm, &p("fqdn"))),
        ("private_fqdn", json_str(arm, &p("privateFQDN"))),
        ("kube_config_raw", kubeconfig.map(Value::String).unwrap_or(Value::Null)),
        ("kube_config", kube_config),
        ("kubelet_identity", kubelet.unwrap_or(Value::Null)),
        ("identity", flatten_identity(arm, prior)),
        ("default_node_pool", Value::List(vec![pool])),
        ("network_profile", Value::List(vec![network])),
        ("timeouts", prior.attr("timeouts").cloned().unwrap_or(Value::Null)),
    ]))
}

impl ClusterResource {
    fn id_of(&self, data: &ProviderData, v: &Value) -> Result<ManagedClusterId, Diagnostics> {
        if let Some(id) = str_attr(v, "id") {
            return ManagedClusterId::parse_insensitive(id)
                .map_err(|e| Diagnostic::error("Invalid cluster ID in state", e.to_string()).into());
        }
        Ok(ManagedClusterId {
            subscription_id: subscription(data)?,
            resource_group: str_attr(v, "resource_group_name").unwrap_or_default().to_string(),
            name: str_attr(v, "name").unwrap_or_default().to_string(),
        })
    }

    /// The cluster user's kubeconfig (base64 in ARM's answer), never logged.
    async fn kubeconfig(
        &self,
        arm: &ArmClient,
        id: &ManagedClusterId,
        until: tokio::time::Instant,
    ) -> Result<Option<String>, ArmError> {
        let creds = arm.post(&format!("{id}/listClusterUserCredential"), AKS_API, until).await?;
        let encoded = creds.pointer("/kubeconfigs/0/value").and_then(|v| v.as_str()).unwrap_or_default();
        Ok(base64::engine::general_purpose::STANDARD.decode(encoded).ok().and_then(|b| String::from_utf8(b).ok()))
    }

    /// PUT, then wait. The error says whether AKS had accepted the PUT
    /// (then the cluster exists and must stay tracked). A create carries
    /// `If-None-Match: *`; an update the `If-Match` of the cluster it was
    /// built from.
    async fn put_and_wait(
        &self,
        data: &ProviderData,
        id: &ManagedClusterId,
        body: &serde_json::Value,
        write: Write<'_>,
        action: &str,
        until: tokio::time::Instant,
    ) -> Result<(), WriteError> {
        let path = id.to_string();
        let accepted = match write {
            Write::Create => data.arm.put_create(&path, AKS_API, body, until).await,
            Write::Update { etag } => match data.arm.put_accepted(&path, AKS_API, body, etag, until).await {
                // The update may be under way with its answer lost: follow
                // the cluster's own provisioningState rather than PUT again
                // (AKS refuses a PUT during an operation with 409).
                Err(ArmError::Unanswered { .. }) => match data.arm.get(&path, AKS_API, until).await {
                    Ok(Some(live)) => {
                        let body = serde_json::to_vec(&live).unwrap_or_default();
                        let url = data.arm.resource_url(&path, AKS_API);
                        url.map(|url| {
                            (crate::arm::client::Response { status: 200, headers: Default::default(), body }, url)
                        })
                    }
                    Ok(None) => Err(ArmError::Service {
                        status: 404,
                        code: "NotFound".into(),
                        message: "the cluster vanished during its update".into(),
                        target: None,
                        correlation_id: None,
                    }),
                    Err(e) => Err(e),
                },
                other => other,
            },
        };
        let (resp, url) = accepted.map_err(|e| {
            let stale = e.status() == Some(412);
            // A create cut short or unanswered may exist: keep tracking it.
            let accepted = matches!(write, Write::Create) && e.may_have_applied();
            let diags = match write {
                Write::Create if !accepted => super::create_error(TYPE_NAME, action, &path, e),
                _ => arm_error(action, e),
            };
            WriteError { accepted, stale, diags }
        })?;
        log::info!("AKS accepted the cluster; waiting for it to finish", cluster = path, status = resp.status);
        data.arm.wait(&resp, &url, until).await.map_err(|e| WriteError {
            accepted: true,
            stale: false,
            diags: arm_error(action, e),
        })
    }
}

/// Why a cluster PUT failed.
struct WriteError {
    /// AKS had accepted the PUT: the cluster exists and stays tracked.
    accepted: bool,
    /// 412: the cluster changed since it was read.
    stale: bool,
    diags: Diagnostics,
}

/// Which write a cluster PUT is.
#[derive(Clone, Copy)]
enum Write<'a> {
    Create,
    Update { etag: Option<&'a str> },
}

/// The PUT body of an update: the cluster as AKS has it now (`live`), with
/// what this configuration owns (`ours`, from the plan) laid over it. What
/// the schema does not model survives: add-ons, settings made outside
/// Terraform, nested profile fields, pool settings. An autoscaled pool keeps
/// the autoscaler's live node count.
pub(super) fn update_body(live: &serde_json::Value, ours: &serde_json::Value) -> serde_json::Value {
    let mut body = live.clone();
    // Read-only in the 2026-07-01 spec (oav: READONLY_PROPERTY_NOT_ALLOWED_IN_REQUEST).
    super::remove_keys(&mut body, &["id", "name", "type", "systemData", "eTag", "etag"]);
    let Some(obj) = body.as_object_mut() else { return ours.clone() };
    for key in ["location", "tags", "sku", "identity"] {
        if let Some(v) = ours.get(key) {
            obj.insert(key.to_string(), v.clone());
        }
    }
    let props = obj.entry("properties").or_insert_with(|| json!({}));
    if !props.is_object() {
        *props = json!({});
    }
    let Some(props) = props.as_object_mut() else { return ours.clone() };
    for k in READ_ONLY_PROPERTIES {
        props.remove(*k);
    }
    let Some(our_props) = ours.get("properties").and_then(|p| p.as_object()) else { return body };
    for (k, v) in our_props {
        match (k.as_str(), props.get_mut(k)) {
            ("agentPoolProfiles", Some(live_pools)) => *live_pools = merge_pools(live_pools, v),
            ("networkProfile" | "apiServerAccessProfile", Some(live_obj)) if live_obj.is_object() => {
                overlay(live_obj, v);
                for nested in ["loadBalancerProfile", "natGatewayProfile"] {
                    if let Some(n) = live_obj.get_mut(nested) {
                        super::remove_keys(n, &["effectiveOutboundIPs"]);
                    }
                }
                // A profile for egress through another path than the new
                // outbound type's: AKS refuses the load balancer's outbound
                // IPs with userDefinedRouting
                // (InvalidUserDefinedRoutingWithLoadBalancerProfile).
                let outbound = v.get("outboundType").and_then(|o| o.as_str()).unwrap_or_default().to_string();
                if k == "networkProfile" {
                    if !outbound.eq_ignore_ascii_case("loadBalancer") {
                        super::remove_keys(live_obj, &["loadBalancerProfile"]);
                    }
                    if !outbound.eq_ignore_ascii_case("managedNATGateway") {
                        super::remove_keys(live_obj, &["natGatewayProfile"]);
                    }
                }
            }
            _ => {
                props.insert(k.clone(), v.clone());
            }
        }
    }
    body
}

/// Sets every key of `ours` in `live` (both objects).
fn overlay(live: &mut serde_json::Value, ours: &serde_json::Value) {
    if let (Some(l), Some(o)) = (live.as_object_mut(), ours.as_object()) {
        for (k, v) in o {
            l.insert(k.clone(), v.clone());
        }
    }
}

/// The pools of an update: each of ours over the live pool of the same
/// name (read-only fields dropped), with the live count while the
/// autoscaler manages the pool; live pools this resource does not manage
/// (added by `az aks nodepool add`, say) are kept.
fn merge_pools(live: &serde_json::Value, ours: &serde_json::Value) -> serde_json::Value {
    let live_pools = live.as_array().cloned().unwrap_or_default();
    let our_pools = ours.as_array().cloned().unwrap_or_default();
    let name = |p: &serde_json::Value| p.get("name").and_then(|n| n.as_str()).map(str::to_ascii_lowercase);
    let mut out = Vec::new();
    for mut live_pool in live_pools {
        super::remove_keys(&mut live_pool, &["eTag", "currentOrchestratorVersion", "provisioningState"]);
        match our_pools.iter().find(|o| name(o) == name(&live_pool)) {
            Some(mine) => {
                let live_count = live_pool.get("count").cloned();
                overlay(&mut live_pool, mine);
                let autoscaled = mine.get("enableAutoScaling").and_then(|b| b.as_bool()).unwrap_or(false);
                if let (true, Some(Some(obj)), Some(count)) = (autoscaled, Some(live_pool.as_object_mut()), live_count)
                {
                    // Within the (possibly new) bounds: AKS refuses a count
                    // outside min..max.
                    let bound = |k: &str| mine.get(k).and_then(|n| n.as_i64());
                    let count = match (count.as_i64(), bound("minCount"), bound("maxCount")) {
                        (Some(c), Some(lo), Some(hi)) if lo <= hi => json!(c.clamp(lo, hi)),
                        _ => count,
                    };
                    obj.insert("count".into(), count);
                }
                if !autoscaled {
                    super::remove_keys(&mut live_pool, &["minCount", "maxCount"]);
                }
                out.push(live_pool);
            }
            None => out.push(live_pool),
        }
    }
    for mine in our_pools {
        if !out.iter().any(|p| name(p) == name(&mine)) {
            out.push(mine);
        }
    }
    serde_json::Value::Array(out)
}

/// What to do when the plan-time check fails although the configuration
/// means to fix the subnet, and how to leave a configuration whose cluster
/// cannot be planned.
const PLAN_HINT: &str = "This was checked while planning, on Azure's current network overlaid with the route \
     tables, routes and associations this plan creates, changes or deletes before the cluster, that is those the \
     cluster depends on (by reference or depends_on):\n  \
     default_node_pool {\n    vnet_subnet_id = aksudr_subnet_route_table_association.<name>.subnet_id\n  }\n  \
     network_profile {\n    egress_route_id = aksudr_firewall_route.<name>.id\n  }\n\
     or\n  depends_on = [aksudr_subnet_route_table_association.<name>, aksudr_firewall_route.<name>]\n\
     If another provider (for example azurerm) changes this subnet's route table or routes in the same run, point \
     vnet_subnet_id at that change, e.g. vnet_subnet_id = azurerm_subnet_route_table_association.<name>.id, so that \
     the check waits for apply.\n\
     To destroy the rest of this configuration while the cluster cannot be planned, run\n  \
     terraform destroy -refresh=false\n\
     (a plain destroy first plans the configuration again, cluster included).";

/// The plan-time look at the subnet as this plan leaves it (see
/// `rules::projection`): a definite finding fails the plan; what cannot be
/// decided at plan, or not looked at (no credentials, Azure unreachable),
/// is left to the check before the cluster is written, because a plan must
/// never fail on a guess and must work offline.
async fn plan_check(data: &ProviderData, subnet_id: &str, planned: &Value) -> Diagnostics {
    let until = deadline(planned, Op::Read, READ);
    let verdict = match egress_route(planned) {
        Some(route) => match declared_route_known(data, &route, until).await {
            Ok(true) => projected_route_table(data, subnet_id, until).await,
            // Another configuration of this provider (an alias, a module
            // with its own provider) may create it in this run, unseen here.
            Ok(false) => Ok(Verdict::Undecided(format!("egress route {route} is neither in Azure nor in this plan"))),
            Err(e) => Err(e),
        },
        None => projected_route_table(data, subnet_id, until).await,
    };
    match verdict {
        Ok(Verdict::Known(table)) => {
            let mut diags = check_subnet_egress(subnet_id, table.as_ref());
            if let (Some(table), Some(route)) = (table.as_ref(), egress_route(planned)) {
                diags.extend(check_egress_route(subnet_id, table, &route));
            }
            let pending = data.projection().unknown_targets().to_vec();
            if diags.has_errors() && !pending.is_empty() {
                log::info!(
                    "plan-time egress check undecided: changes with targets known only at apply",
                    subnet = subnet_id,
                    pending = pending.join("; ")
                );
                return Diagnostics::new();
            }
            for d in &mut diags.0 {
                d.detail = format!("{}\n\n{PLAN_HINT}", d.detail);
            }
            diags
        }
        Ok(Verdict::Undecided(why)) => {
            log::info!(
                "plan-time egress check undecided; it runs again before the cluster is written",
                subnet = subnet_id,
                why = why
            );
            Diagnostics::new()
        }
        Err(e) => Diagnostics::from(
            Diagnostic::warning(
                "Could not check the cluster subnet's egress at plan",
                format!("{e}\nThe check runs again right before the cluster is written."),
            )
            .at(AttributePath::parse("default_node_pool[0].vnet_subnet_id")),
        ),
    }
}

/// Whether the declared egress route exists in Azure or is planned here.
async fn declared_route_known(
    data: &ProviderData,
    route: &RouteId,
    until: tokio::time::Instant,
) -> Result<bool, ArmError> {
    // Planned here (created, changed or deleted): the check sees it.
    if data.projection().plans_route(&route.table().to_string(), &route.name).is_some() {
        return Ok(true);
    }
    Ok(data.arm.get(&route.to_string(), NET_API, until).await?.is_some())
}

/// The subnet's route table and routes as this plan leaves them: Azure's
/// current state read where the plan does not decide it, overlaid with the
/// plan's own changes.
async fn projected_route_table(
    data: &ProviderData,
    subnet_id: &str,
    until: tokio::time::Instant,
) -> Result<Verdict, ArmError> {
    let Ok(subnet) = SubnetId::parse_insensitive(subnet_id) else {
        return Ok(Verdict::Undecided("the subnet ID does not parse".into()));
    };
    let subnet = subnet.to_string();
    let planned = data.projection().planned_association(&subnet).cloned();
    let live_table = match planned {
        // The plan decides the association: an association needs an
        // existing subnet, so there is nothing to read.
        Some(_) => None,
        None => match data.arm.get(&subnet, NET_API, until).await? {
            // Not there (yet): created by another tool in this run, or a
            // typo that the check before the PUT reports.
            None => return Ok(Verdict::Undecided(format!("subnet {subnet} does not exist yet"))),
            Some(s) => s.pointer("/properties/routeTable/id").and_then(|v| v.as_str()).map(str::to_string),
        },
    };
    let table = match subnet_table_after(&data.projection(), &subnet, live_table.as_deref()) {
        SubnetTable::None => return Ok(Verdict::Known(None)),
        SubnetTable::Unknown => {
            return Ok(Verdict::Undecided("the associated route table is known only at apply".into()))
        }
        SubnetTable::Table(t) => t,
    };
    let Ok(table_id) = RouteTableId::parse_insensitive(&table) else {
        return Ok(Verdict::Undecided(format!("{table} is not a route table ID")));
    };
    let table_id = table_id.to_string();
    let fresh = data.projection().table_is_fresh(&table_id);
    let live_routes = if fresh {
        Vec::new()
    } else {
        match data.arm.get(&table_id, NET_API, until).await? {
            Some(t) => live_routes(&t),
            // Neither in Azure nor in this plan: another tool creates it.
            None => return Ok(Verdict::Undecided(format!("route table {table_id} does not exist yet"))),
        }
    };
    let (routes, uncertain) = data.projection().routes_after(&table_id, &live_routes);
    let table = LiveRouteTable { id: table.clone(), routes };
    if uncertain && !check_subnet_egress(&subnet, Some(&table)).is_empty() {
        return Ok(Verdict::Undecided(format!("a route of {table_id} is known only at apply")));
    }
    Ok(Verdict::Known(Some(table)))
}

#[async_trait]
impl Import<ProviderData> for ClusterResource {
    async fn import(&self, _data: &ProviderData, id: &str) -> Result<Value, Diagnostics> {
        let parsed = ManagedClusterId::parse(id)
            .map_err(|e| Diagnostics::from(Diagnostic::error("Invalid import ID", e.to_string())))?;
        Ok(self.schema.state_with_id(&parsed.to_string()))
    }
}

#[async_trait]
impl Resource<ProviderData> for ClusterResource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    fn validate(&self, config: &Value) -> Diagnostics {
        check_cluster(&cluster_spec(config))
    }

    async fn create(&self, data: &ProviderData, planned: &Value, _config: &Value) -> ApplyOutcome {
        let id = match self.id_of(data, planned) {
            Ok(id) => id,
            Err(d) => return ApplyOutcome::failed(Value::Null, d),
        };
        let path = id.to_string();
        let action = format!("creating AKS cluster {}/{}", id.resource_group, id.name);
        let until = deadline(planned, Op::Create, CREATE);
        match data.arm.get(&path, AKS_API, until).await {
            Ok(Some(_)) => return ApplyOutcome::failed(Value::Null, requires_import(TYPE_NAME, &path)),
            Ok(None) => {}
            Err(e) => return ApplyOutcome::failed(Value::Null, arm_error(&action, e)),
        }
        if let Err(d) = precheck(&data.arm, planned, until).await {
            return ApplyOutcome::failed(Value::Null, d);
        }
        let tracked = tracked_state(planned, &path);
        match self.put_and_wait(data, &id, &expand(planned), Write::Create, &action, until).await {
            Ok(()) => {}
            // Accepted but not finished: keep tracking the cluster.
            Err(e) if e.accepted => return ApplyOutcome::failed(tracked, e.diags),
            Err(e) => return ApplyOutcome::failed(Value::Null, e.diags),
        }
        super::after_write(self.read(data, &tracked).await, tracked, "cluster")
    }

    async fn read(&self, data: &ProviderData, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let id = self.id_of(data, state)?;
        let until = deadline(state, Op::Read, READ);
        let action = format!("reading AKS cluster {}/{}", id.resource_group, id.name);
        let Some(arm) = data.arm.get(&id.to_string(), AKS_API, until).await.map_err(|e| arm_error(&action, e))? else {
            return Ok(None);
        };
        let kubeconfig = match self.kubeconfig(&data.arm, &id, until).await {
            Ok(k) => k,
            // An identity allowed to manage the cluster but not to list its
            // credentials (Microsoft.ContainerService/managedClusters/
            // listClusterUserCredential/action): the cluster is there all
            // the same, so the read succeeds and keeps the kubeconfig it had.
            Err(e) if e.status() == Some(403) => {
                log::warn!(
                    "cannot list the cluster's user credentials; keeping the kubeconfig in state",
                    cluster = id.to_string(),
                    code = e.code().unwrap_or_default()
                );
                str_attr(state, "kube_config_raw").map(str::to_string)
            }
            Err(e) => return Err(arm_error(&action, e)),
        };
        flatten(&arm, state, kubeconfig).map(Some)
    }

    /// In-place changes go through a PUT of the cluster as AKS has it now,
    /// with this configuration's settings applied.
    async fn update(&self, data: &ProviderData, prior: &Value, planned: &Value, _config: &Value) -> ApplyOutcome {
        let result = async {
            let id = self.id_of(data, prior)?;
            let path = id.to_string();
            let action = format!("updating AKS cluster {}/{}", id.resource_group, id.name);
            let until = deadline(planned, Op::Update, UPDATE);
            let outbound = |v: &Value| {
                first(v, "network_profile").attr("outbound_type").and_then(Value::as_str).map(str::to_ascii_lowercase)
            };
            if outbound(prior) != outbound(planned) {
                precheck(&data.arm, planned, until).await?;
            }
            let ours = expand(planned);
            let mut attempt = 0;
            loop {
                attempt += 1;
                let Some(current) = data.arm.get(&path, AKS_API, until).await.map_err(|e| arm_error(&action, e))?
                else {
                    return Err(Diagnostic::error(
                        "Cluster not found",
                        format!("{path} was deleted outside Terraform; plan again to re-create it."),
                    )
                    .into());
                };
                let etag = current.get("eTag").or_else(|| current.get("etag")).and_then(|e| e.as_str());
                let body = update_body(&current, &ours);
                match self.put_and_wait(data, &id, &body, Write::Update { etag }, &action, until).await {
                    Ok(()) => break,
                    // The cluster changed since the GET: build on it again.
                    Err(e) if e.stale && attempt < 3 => continue,
                    Err(e) => return Err(e.diags),
                }
            }
            let tracked = super::tracked_update(planned, prior, &path);
            Ok(super::after_write(self.read(data, &tracked).await, tracked, "cluster"))
        }
        .await;
        result.unwrap_or_else(|d| ApplyOutcome::failed(prior.clone(), d))
    }

    async fn delete(&self, data: &ProviderData, prior: &Value) -> Diagnostics {
        let id = match self.id_of(data, prior) {
            Ok(id) => id,
            Err(d) => return d,
        };
        let action = format!("deleting AKS cluster {}/{}", id.resource_group, id.name);
        match data.arm.delete(&id.to_string(), AKS_API, deadline(prior, Op::Delete, DELETE)).await {
            Ok(()) => Diagnostics::new(),
            Err(e) => arm_error(&action, e),
        }
    }

    fn importer(&self) -> Option<&dyn Import<ProviderData>> {
        Some(self)
    }

    /// R8: some outbound-type changes are made in place, the rest replace.
    async fn modify_plan(&self, data: Option<&ProviderData>, plan: &mut PlanChange<'_>) -> Diagnostics {
        let path = || AttributePath::parse("network_profile[0].outbound_type");
        let outbound =
            |v: &Value| first(v, "network_profile").attr("outbound_type").and_then(Value::as_str).map(str::to_string);
        if let (Some(from), Some(to)) = (outbound(plan.prior), outbound(&plan.planned)) {
            if outbound_type_change(&from, &to) == OutboundChange::Replace && !plan.requires_replace.contains(&path()) {
                plan.requires_replace.push(path());
            }
        }
        // The subnet is checked when the cluster would be sent to AKS with
        // its egress to validate: on create, and when the outbound type
        // changes. A no-op plan reads nothing beyond the refresh.
        let changes_egress = plan.prior.is_null() || outbound(plan.prior) != outbound(&plan.planned);
        // An egress route whose ID is known only at apply moves the check to
        // apply, where the precheck runs once the route exists.
        let route_pending =
            first(&plan.planned, "network_profile").attr("egress_route_id").is_some_and(Value::is_unknown);
        match (changes_egress && !route_pending, data, udr_subnet(&plan.planned)) {
            (true, Some(data), Some(subnet_id)) => plan_check(data, &subnet_id, &plan.planned).await,
            _ => Diagnostics::new(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn updates_keep_what_the_configuration_does_not_own() {
        let live = json!({
            "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c",
            "location": "westeurope", "eTag": "e1", "tags": {"old": "x"},
            "properties": {
                "provisioningState": "Succeeded", "fqdn": "c.example", "addonProfiles": {"azurepolicy": {"enabled": true}},
                "networkProfile": {"networkPlugin": "azure", "outboundType": "loadBalancer", "podCidr": "10.244.0.0/16",
                                   "loadBalancerProfile": {"managedOutboundIPs": {"count": 1}, "effectiveOutboundIPs": [{"id": "/ip"}]}},
                "apiServerAccessProfile": {"enablePrivateCluster": false, "disableRunCommand": true},
                "agentPoolProfiles": [
                    {"name": "system", "count": 4, "enableAutoScaling": true, "minCount": 1, "maxCount": 5,
                     "provisioningState": "Succeeded", "currentOrchestratorVersion": "1.33.2", "eTag": "p1",
                     "nodeLabels": {"team": "a"}},
                    {"name": "user1", "count": 2, "mode": "User"}
                ]
            }
        });
        let ours = json!({
            "location": "westeurope", "tags": {"new": "y"},
            "properties": {
                "dnsPrefix": "c",
                "networkProfile": {"networkPlugin": "azure", "outboundType": "userDefinedRouting"},
                "apiServerAccessProfile": {"enablePrivateCluster": false},
                "agentPoolProfiles": [{"name": "system", "count": 2, "enableAutoScaling": true, "minCount": 1, "maxCount": 6}]
            }
        });
        let body = update_body(&live, &ours);
        assert_eq!(body["tags"], json!({"new": "y"}));
        for read_only in ["eTag", "id", "name", "type"] {
            assert!(body.get(read_only).is_none(), "{read_only}");
        }
        let p = &body["properties"];
        assert!(p.get("provisioningState").is_none() && p.get("fqdn").is_none(), "{p}");
        assert_eq!(p["addonProfiles"]["azurepolicy"]["enabled"], true);
        assert_eq!(p["networkProfile"]["podCidr"], "10.244.0.0/16", "nested fields survive");
        assert_eq!(p["networkProfile"]["outboundType"], "userDefinedRouting");
        assert!(p["networkProfile"].get("loadBalancerProfile").is_none(), "no LB outbound IPs with UDR");
        assert_eq!(p["apiServerAccessProfile"]["disableRunCommand"], true);
        let pools = p["agentPoolProfiles"].as_array().unwrap();
        assert_eq!(pools.len(), 2, "a pool managed elsewhere is kept");
        assert_eq!(pools[0]["count"], 4, "the autoscaler's count, not the stale one");
        let narrowed = json!({"properties": {"agentPoolProfiles": [
            {"name": "system", "count": 2, "enableAutoScaling": true, "minCount": 1, "maxCount": 3}]}});
        let body = update_body(&live, &narrowed);
        assert_eq!(body["properties"]["agentPoolProfiles"][0]["count"], 3, "clamped into the new bounds");
        assert_eq!(pools[0]["maxCount"], 6);
        assert_eq!(pools[0]["nodeLabels"]["team"], "a");
        for ro in ["provisioningState", "currentOrchestratorVersion", "eTag"] {
            assert!(pools[0].get(ro).is_none(), "{ro}");
        }
    }

    #[test]
    fn a_pool_that_stops_autoscaling_takes_the_configured_count() {
        let live = json!({"properties": {"agentPoolProfiles": [
            {"name": "system", "count": 4, "enableAutoScaling": true, "minCount": 1, "maxCount": 5}]}});
        let ours = json!({"properties": {"agentPoolProfiles": [
            {"name": "system", "count": 3, "enableAutoScaling": false}]}});
        let body = update_body(&live, &ours);
        let pool = &body["properties"]["agentPoolProfiles"][0];
        assert_eq!(pool["count"], 3);
        assert!(pool.get("minCount").is_none() && pool.get("maxCount").is_none(), "{pool}");
    }

    #[test]
    fn malformed_live_bodies_do_not_panic() {
        let ours = json!({"properties": {"agentPoolProfiles": [{"name": "a"}], "networkProfile": {}}});
        for live in [
            json!(null),
            json!([]),
            json!("x"),
            json!({"properties": 3}),
            json!({"properties": {"agentPoolProfiles": "x", "networkProfile": 1}}),
        ] {
            let _ = update_body(&live, &ours);
        }
    }
}
