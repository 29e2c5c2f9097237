//! The managed cluster's ARM request bodies: a create from the plan, and an
//! update laid over the live cluster so that nothing the configuration does
//! not own is lost.

use super::*;

/// Managed-cluster properties that api-version 2026-07-01 marks read-only:
/// AKS ignores them in a PUT, but a request carrying them does not conform
/// to the spec.
pub(super) const READ_ONLY_PROPERTIES: &[&str] = &[
    "provisioningState",
    "powerState",
    "maxAgentPools",
    "currentKubernetesVersion",
    "fqdn",
    "privateFQDN",
    "azurePortalFQDN",
    "resourceUID",
];

/// The tags to send: empty when unset, so that an update removes them.
pub(super) fn tags_json(v: &Value) -> serde_json::Value {
    string_map_json(v, "tags").unwrap_or_else(|| json!({}))
}

/// The managed cluster's ARM body from the planned state.
pub(super) fn expand(planned: &Value) -> serde_json::Value {
    let pool = first(planned, "default_node_pool");
    let net = first(planned, "network_profile");
    let identity = first(planned, "identity");

    let mut agent = node_pool::profile::expand(pool);
    put_opt(&mut agent, "name", pool.attr("name"));
    agent.insert("mode".into(), json!("System"));

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

/// The PUT body of an update: the cluster as AKS has it now (`live`), with
/// what this configuration owns (`ours`, from the plan) laid over it. What
/// the schema does not model survives: add-ons, settings made outside
/// Terraform, nested profile fields, pool settings. An autoscaled pool keeps
/// the autoscaler's live node count.
pub(crate) fn update_body(live: &serde_json::Value, ours: &serde_json::Value) -> serde_json::Value {
    let mut body = live.clone();
    // Read-only in the 2026-07-01 spec (oav: READONLY_PROPERTY_NOT_ALLOWED_IN_REQUEST).
    crate::resources::remove_keys(&mut body, &["id", "name", "type", "systemData", "eTag", "etag"]);
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
                        crate::resources::remove_keys(n, &["effectiveOutboundIPs"]);
                    }
                }
                // A profile for egress through another path than the new
                // outbound type's: AKS refuses the load balancer's outbound
                // IPs with userDefinedRouting
                // (InvalidUserDefinedRoutingWithLoadBalancerProfile).
                let outbound = v.get("outboundType").and_then(|o| o.as_str()).unwrap_or_default().to_string();
                if k == "networkProfile" {
                    if !outbound.eq_ignore_ascii_case("loadBalancer") {
                        crate::resources::remove_keys(live_obj, &["loadBalancerProfile"]);
                    }
                    if !outbound.eq_ignore_ascii_case("managedNATGateway") {
                        crate::resources::remove_keys(live_obj, &["natGatewayProfile"]);
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
pub(super) fn overlay(live: &mut serde_json::Value, ours: &serde_json::Value) {
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
pub(super) fn merge_pools(live: &serde_json::Value, ours: &serde_json::Value) -> serde_json::Value {
    let live_pools = live.as_array().cloned().unwrap_or_default();
    let our_pools = ours.as_array().cloned().unwrap_or_default();
    let name = |p: &serde_json::Value| p.get("name").and_then(|n| n.as_str()).map(str::to_ascii_lowercase);
    let mut out = Vec::new();
    for mut live_pool in live_pools {
        match our_pools.iter().find(|o| name(o) == name(&live_pool)) {
            Some(mine) => out.push(node_pool::profile::merge(live_pool, mine)),
            None => {
                crate::resources::remove_keys(&mut live_pool, node_pool::profile::READ_ONLY);
                out.push(live_pool)
            }
        }
    }
    for mine in our_pools {
        if !out.iter().any(|p| name(p) == name(&mine)) {
            out.push(mine);
        }
    }
    serde_json::Value::Array(out)
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
