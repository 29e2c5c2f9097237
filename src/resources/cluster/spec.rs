//! The rules' view of a cluster configuration or plan, and the values the
//! egress checks read from it.

use super::*;

/// The first element of a `LIST` block, or null.
pub(super) fn first<'a>(v: &'a Value, block: &str) -> &'a Value {
    const NULL: &Value = &Value::Null;
    match v.attr(block) {
        Some(Value::List(items)) => items.first().unwrap_or(NULL),
        Some(Value::Unknown) => &Value::Unknown,
        _ => NULL,
    }
}

pub(super) fn input_strings(v: &Value, name: &str) -> Input<Vec<String>> {
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
pub(super) fn with_default(v: &Value, name: &str, default: &str) -> Input<String> {
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
        default_pool_scale: node_pool::profile::pool_scale(pool),
    }
}

pub(super) const UDR: &str = "userDefinedRouting";

/// The subnet of a cluster whose (planned) outbound type is UDR, when known.
pub(super) fn udr_subnet(v: &Value) -> Option<String> {
    let pool = first(v, "default_node_pool");
    let net = first(v, "network_profile");
    let outbound = net.attr("outbound_type").and_then(Value::as_str).unwrap_or(UDR);
    if !outbound.eq_ignore_ascii_case(UDR) {
        return None;
    }
    pool.attr("vnet_subnet_id").and_then(Value::as_str).map(str::to_string)
}

/// The configured `egress_route_id`, parsed; `None` when unset or unknown.
pub(super) fn egress_route(v: &Value) -> Option<RouteId> {
    first(v, "network_profile").attr("egress_route_id").and_then(Value::as_str).and_then(|s| RouteId::parse(s).ok())
}
