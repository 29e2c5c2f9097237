//! State from ARM's managed cluster: the prior spelling kept where ARM's
//! differs only in form, what the configuration leaves unset left implicit.

use super::*;

pub(super) fn json_bool(v: &serde_json::Value, pointer: &str) -> Value {
    Value::Bool(v.pointer(pointer).and_then(|b| b.as_bool()).unwrap_or(false))
}

/// A string set from ARM; an empty one is null when the prior state had
/// none, so "unset" and "empty" never show as drift.
pub(super) fn json_string_set(v: &serde_json::Value, pointer: &str, prior: Option<&Value>) -> Value {
    node_pool::profile::json_strings(v, pointer, prior, true)
}

/// An enum as ARM returns it, in the prior spelling when only case differs.
pub(super) fn enum_from(prior: &Value, name: &str, arm: &serde_json::Value, pointer: &str) -> Value {
    keep_spelling(prior, name, json_str(arm, pointer), case_insensitive)
}

/// The kubeconfig fields Terraform users need, read from its YAML text
/// without a YAML parser: AKS writes one cluster and one user.
pub(crate) fn kube_config_parts(raw: &str) -> Value {
    let field = |key: &str| kubeconfig_field(raw, key).map(Value::String).unwrap_or(Value::Null);
    Value::List(vec![object([
        ("host", field("server:")),
        ("client_certificate", field("client-certificate-data:")),
        ("client_key", field("client-key-data:")),
        ("cluster_ca_certificate", field("certificate-authority-data:")),
    ])])
}

/// Whether state keeps the kubeconfig (`store_kube_config`, true unless set
/// false).
pub(crate) fn stores_kube_config(v: &Value) -> bool {
    v.attr("store_kube_config").and_then(Value::as_bool).unwrap_or(true)
}

/// The value of `key` (e.g. `server:`) in a kubeconfig's YAML text.
pub(crate) fn kubeconfig_field(raw: &str, key: &str) -> Option<String> {
    raw.lines().find_map(|l| l.trim().strip_prefix(key).map(|rest| rest.trim().trim_matches('"').to_string()))
}

pub(super) fn set_equal_ignoring_case(a: &Value, b: &Value) -> bool {
    match (a.elements(), b.elements()) {
        (Some(x), Some(y)) => x.len() == y.len() && x.iter().all(|i| y.iter().any(|j| case_insensitive(i, j))),
        _ => false,
    }
}

/// The `identity` block from ARM. Without the block in the configuration,
/// AKS's system-assigned default stays implicit (an empty block list), or it
/// would show as drift.
pub(super) fn flatten_identity(arm: &serde_json::Value, prior: &Value) -> Value {
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

/// State from ARM's managed cluster, the prior state (for spellings and what
/// the configuration leaves unset) and the user kubeconfig.
pub(crate) fn flatten(
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
            let named = |x: &&serde_json::Value| {
                pool_name
                    .is_some_and(|n| x.get("name").and_then(|v| v.as_str()).is_some_and(|m| m.eq_ignore_ascii_case(n)))
            };
            // Without a prior name (import), the first system pool: pools
            // added with aksudr_node_pool are user pools, or later ones.
            let system = |x: &&serde_json::Value| {
                x.get("mode").and_then(|m| m.as_str()).is_some_and(|m| m.eq_ignore_ascii_case("System"))
            };
            a.iter().find(named).or_else(|| a.iter().find(system)).or(a.first())
        })
        .cloned()
        .unwrap_or(serde_json::Value::Null);
    let pool =
        node_pool::profile::flatten(agent.get("name").and_then(|n| n.as_str()).unwrap_or_default(), &agent, prior_pool);

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
        ("location", keep_spelling(prior, "location", json_str(arm, "/location"), crate::resources::same_location)),
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
        // Only in Terraform's state; null in a state written before it
        // existed, which meant true.
        ("store_kube_config", Value::Bool(stores_kube_config(prior))),
        ("kube_config_raw", kubeconfig.map(Value::String).unwrap_or(Value::Null)),
        ("kube_config", kube_config),
        ("kubelet_identity", kubelet.unwrap_or(Value::Null)),
        ("identity", flatten_identity(arm, prior)),
        ("default_node_pool", Value::List(vec![pool])),
        ("network_profile", Value::List(vec![network])),
        ("timeouts", prior.attr("timeouts").cloned().unwrap_or(Value::Null)),
    ]))
}
