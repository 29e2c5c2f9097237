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
    requires_import, resource_group_attribute, str_attr, subscription, tags_attribute, timeouts_block, Op,
};
use crate::arm::ids::{ManagedClusterId, RouteTableId, SubnetId};
use crate::arm::{ArmClient, ArmError, AKS_API_VERSION as AKS_API, NETWORK_API_VERSION as NET_API};
use crate::log;
use crate::provider::ProviderData;
use crate::rules::cluster::{check_cluster, outbound_type_change, ClusterSpec, OutboundChange};
use crate::rules::enums::{
    IDENTITY_TYPES, LOAD_BALANCER_SKUS, NETWORK_PLUGINS, NETWORK_PLUGIN_MODES, NETWORK_POLICIES, NODE_POOL_TYPES,
    OUTBOUND_TYPES, SKU_TIERS,
};
use crate::rules::egress::{check_subnet_egress, LiveRoute, LiveRouteTable};
use crate::rules::Input;
use crate::tf::diag::{AttributePath, Diagnostic, Diagnostics, Severity};
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
            .attr(Attribute::number("node_count", "The number of nodes. Default 1. Updated in place.").default(Value::int(1)))
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
                     at plan (when the subnet exists) and again before creating the cluster. Changing it forces \
                     replacement.",
                )
                .optional()
                .forces_replacement()
                .equivalent(case_insensitive)
                .check(check_subnet_id),
            )
            .attr(Attribute::number("max_pods", "The maximum pods per node. Changing it forces replacement.").optional().computed().stable().forces_replacement())
            .attr(Attribute::number("os_disk_size_gb", "The OS disk size in GB. Changing it forces replacement.").optional().computed().stable().forces_replacement())
            .attr(Attribute::string_set("zones", "The availability zones of the nodes, e.g. `[\"1\", \"2\", \"3\"]`. Changing it forces replacement.").optional().forces_replacement())
            .attr(Attribute::bool("auto_scaling_enabled", "Whether the cluster autoscaler manages the node count. Default false. Updated in place.").default(Value::Bool(false)))
            .attr(Attribute::number("min_count", "The autoscaler's minimum node count. Updated in place.").optional())
            .attr(Attribute::number("max_count", "The autoscaler's maximum node count. Updated in place.").optional())
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
        .attr(Attribute::string("kube_config_raw", "The cluster user's kubeconfig, from listClusterUserCredential. Sensitive.").computed().sensitive().stable())
        .attr(
            Attribute::of_type(
                "kube_config",
                Type::list(string_object(&["host", "client_certificate", "client_key", "cluster_ca_certificate"])),
                "The parts of `kube_config_raw`: host and base64 certificates. Sensitive.",
            )
            .computed()
            .sensitive()
            .stable(),
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

    /// R8: some outbound-type changes are made in place, the rest replace.
    async fn modify_plan(&self, _data: Option<&ProviderData>, plan: &mut PlanChange<'_>) -> Diagnostics {
        let path = || AttributePath::parse("network_profile[0].outbound_type");
        let outbound =
            |v: &Value| first(v, "network_profile").attr("outbound_type").and_then(Value::as_str).map(str::to_string);
        if let (Some(from), Some(to)) = (outbound(plan.prior), outbound(&plan.planned)) {
            if outbound_type_change(&from, &to) == OutboundChange::Replace && !plan.requires_replace.contains(&path()) {
                plan.requires_replace.push(path());
            }
        }
        Diagnostics::new()
    }
}
