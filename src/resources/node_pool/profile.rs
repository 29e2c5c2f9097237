//! A node pool's attributes and their ARM form, shared by the cluster's
//! `default_node_pool` block and `aksudr_node_pool`: the schema
//! declarations, the rules' view of a pool, the ARM properties built from a
//! plan, and the state read back from ARM's pool.

use serde_json::json;

use crate::resources::{json_str, keep_spelling, object};
use crate::rules::enums::NODE_POOL_TYPES;
use crate::rules::pool::PoolScale;
use crate::rules::Input;
use crate::tf::schema::{case_insensitive, Attribute};
use crate::tf::value::Value;

/// The pool attributes both resources have. `subnet_doc` says what the
/// subnet must provide, which differs between the two.
pub(crate) fn attributes(subnet_doc: &str) -> Vec<Attribute> {
    vec![
        Attribute::string(
            "name",
            "The pool's name (lowercase letters and digits, at most 12). Changing it forces replacement.",
        )
        .required()
        .forces_replacement()
        .check(check_pool_name),
        Attribute::string(
            "vm_size",
            "The VM size of the nodes, e.g. `Standard_D2s_v5`. Changing it forces replacement.",
        )
        .required()
        .forces_replacement()
        .equivalent(case_insensitive),
        // Computed: AKS starts an autoscaled pool at its minimum, and while
        // the autoscaler runs the count is its business (see `node_count`).
        Attribute::integer(
            "node_count",
            "The number of nodes; AKS's default is 1, or `min_count` with the autoscaler. With \
             `auto_scaling_enabled` it is only the initial size: the autoscaler's changes never show as drift. \
             Updated in place.",
        )
        .optional()
        .computed()
        .stable(),
        Attribute::string(
            "type",
            "`VirtualMachineScaleSets` (default) or `AvailabilitySet`. User-defined routing, NAT gateway and \
             `none` outbound types, and separate node pools, need `VirtualMachineScaleSets`. Changing it forces \
             replacement.",
        )
        .default(Value::string("VirtualMachineScaleSets"))
        .forces_replacement()
        .one_of(NODE_POOL_TYPES),
        Attribute::string("vnet_subnet_id", subnet_doc)
            .optional()
            .forces_replacement()
            .equivalent(case_insensitive)
            .check(crate::resources::check_subnet_id),
        Attribute::integer("max_pods", "The maximum pods per node. Changing it forces replacement.")
            .optional()
            .computed()
            .stable()
            .forces_replacement(),
        Attribute::integer("os_disk_size_gb", "The OS disk size in GB. Changing it forces replacement.")
            .optional()
            .computed()
            .stable()
            .forces_replacement(),
        Attribute::string_set(
            "zones",
            "The availability zones of the nodes, e.g. `[\"1\", \"2\", \"3\"]`. Changing it forces replacement.",
        )
        .optional()
        .forces_replacement(),
        Attribute::bool(
            "auto_scaling_enabled",
            "Whether the cluster autoscaler manages the node count. Default false. Updated in place.",
        )
        .default(Value::Bool(false)),
        Attribute::integer(
            "min_count",
            "The autoscaler's minimum node count; required with `auto_scaling_enabled`. Updated in place.",
        )
        .optional(),
        Attribute::integer(
            "max_count",
            "The autoscaler's maximum node count; required with `auto_scaling_enabled`. Updated in place.",
        )
        .optional(),
        Attribute::string(
            "orchestrator_version",
            "The Kubernetes version of the pool's nodes; AKS picks the control plane's when unset. Updated in place.",
        )
        .optional()
        .computed()
        .stable(),
        // Computed: labels and taints that others set (AKS add-ons, `az aks
        // nodepool update`) are kept while the configuration leaves these
        // unset; `{}` / `[]` removes them.
        Attribute::string_map(
            "node_labels",
            "Kubernetes labels for the pool's nodes. Updated in place. When unset, labels set by others are left \
             as they are; `{}` removes them all.",
        )
        .optional()
        .computed()
        .stable(),
        Attribute::string_list(
            "node_taints",
            "Kubernetes taints for the pool's nodes, as `key=value:Effect` (e.g. `dedicated=egress:NoSchedule`). \
             Updated in place. When unset, taints set by others are left as they are; `[]` removes them all.",
        )
        .optional()
        .computed()
        .stable(),
    ]
}

/// Pool names: 1-12 lowercase letters and digits, starting with a letter
/// (AKS's rule for Linux pools).
pub(crate) fn check_pool_name(s: &str) -> Result<(), String> {
    let first_ok = s.chars().next().is_some_and(|c| c.is_ascii_lowercase());
    if s.is_empty() || s.len() > 12 || !first_ok || !s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()) {
        return Err(format!(
            "{s:?} is not a valid node pool name: use 1 to 12 lowercase letters or digits, starting with a letter."
        ));
    }
    Ok(())
}

fn input_i64(v: &Value, name: &str) -> Input<i64> {
    match v.attr(name) {
        Some(Value::Number(n)) => n.as_i64().map_or(Input::Unknown, Input::Known),
        Some(Value::Unknown) => Input::Unknown,
        _ => Input::Null,
    }
}

/// R11's view of a pool (`pool` is the pool block's object or the node
/// pool resource's value). Pass the configuration: in a plan, an autoscaled
/// pool's `node_count` is the prior count, not the user's.
pub(crate) fn pool_scale(pool: &Value) -> PoolScale {
    PoolScale {
        auto_scaling: match pool.attr("auto_scaling_enabled") {
            Some(Value::Bool(b)) => Input::Known(*b),
            Some(Value::Unknown) => Input::Unknown,
            _ => Input::Null,
        },
        node_count: input_i64(pool, "node_count"),
        min_count: input_i64(pool, "min_count"),
        max_count: input_i64(pool, "max_count"),
    }
}

/// A plan that turns the autoscaler off while the configuration leaves
/// `node_count` unset keeps the pool at the autoscaler's last count: the
/// count becomes unknown (so it is not sent, and is read back after the
/// update) rather than the prior state's, which is the count before the
/// autoscaler took over and would scale the pool in.
pub(crate) fn plan_autoscaler_off(prior: &Value, config: &Value, planned: &mut Value) {
    let on = |v: &Value| v.attr("auto_scaling_enabled").and_then(Value::as_bool);
    if on(prior) == Some(true) && on(planned) == Some(false) && config.attr("node_count").is_none_or(Value::is_null) {
        planned.set_attr("node_count", Value::Unknown);
    }
}

/// Inserts `key` when `v` has a known, non-null value.
pub(crate) fn put_opt(obj: &mut serde_json::Map<String, serde_json::Value>, key: &str, v: Option<&Value>) {
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
pub(crate) fn canon(v: &Value, name: &str, allowed: &[&'static str]) -> Option<Value> {
    let s = v.attr(name).and_then(Value::as_str)?;
    Some(Value::string(crate::rules::canonical(s, allowed).unwrap_or(s)))
}

/// A known list or set of strings as JSON.
pub(crate) fn strings_json(v: &Value, name: &str) -> Option<serde_json::Value> {
    v.attr(name).and_then(Value::elements).map(|e| json!(e.iter().filter_map(Value::as_str).collect::<Vec<_>>()))
}

/// A known string map as a JSON object.
pub(crate) fn string_map_json(v: &Value, name: &str) -> Option<serde_json::Value> {
    match v.attr(name) {
        Some(Value::Map(m)) => Some(serde_json::Value::Object(
            m.iter().filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), json!(s)))).collect(),
        )),
        _ => None,
    }
}

/// The pool's ARM properties (`ManagedClusterAgentPoolProfileProperties`)
/// from a planned pool, without its name and mode. Labels and taints are
/// sent only when the plan has them (an update keeps the live ones
/// otherwise).
pub(crate) fn expand(pool: &Value) -> serde_json::Map<String, serde_json::Value> {
    let mut agent = serde_json::Map::new();
    put_opt(&mut agent, "vmSize", pool.attr("vm_size"));
    put_opt(&mut agent, "type", canon(pool, "type", NODE_POOL_TYPES).as_ref());
    put_opt(&mut agent, "vnetSubnetID", pool.attr("vnet_subnet_id"));
    put_opt(&mut agent, "maxPods", pool.attr("max_pods"));
    put_opt(&mut agent, "osDiskSizeGB", pool.attr("os_disk_size_gb"));
    let autoscaled = pool.attr("auto_scaling_enabled").and_then(Value::as_bool).unwrap_or(false);
    put_opt(&mut agent, "enableAutoScaling", pool.attr("auto_scaling_enabled"));
    put_opt(&mut agent, "count", pool.attr("node_count"));
    if autoscaled {
        put_opt(&mut agent, "minCount", pool.attr("min_count"));
        put_opt(&mut agent, "maxCount", pool.attr("max_count"));
        // An autoscaled pool starts within its bounds: AKS refuses a count
        // outside min..max, and the count in a plan may be a stale prior.
        let n = |k: &str| agent.get(k).and_then(|n| n.as_i64());
        if let (Some(lo), Some(hi)) = (n("minCount"), n("maxCount")) {
            if lo <= hi {
                let count = n("count").unwrap_or(lo).clamp(lo, hi);
                agent.insert("count".into(), json!(count));
            }
        }
    }
    put_opt(&mut agent, "orchestratorVersion", pool.attr("orchestrator_version"));
    if let Some(z) = strings_json(pool, "zones") {
        agent.insert("availabilityZones".into(), z);
    }
    if let Some(labels) = string_map_json(pool, "node_labels") {
        agent.insert("nodeLabels".into(), labels);
    }
    if let Some(taints) = strings_json(pool, "node_taints") {
        agent.insert("nodeTaints".into(), taints);
    }
    agent.insert("osType".into(), json!("Linux"));
    agent
}

/// Agent pool properties that the 2026-07-01 spec marks read-only.
pub(crate) const READ_ONLY: &[&str] = &["eTag", "currentOrchestratorVersion", "provisioningState"];

/// A pool's properties for an update: the live pool (`live`, read-only
/// fields dropped) with this configuration's (`mine`) laid over it, so that
/// settings it does not model survive. While the autoscaler manages the
/// pool, the live count stays, clamped into the (possibly new) bounds since
/// AKS refuses a count outside min..max; a pool that stops autoscaling
/// loses its bounds.
pub(crate) fn merge(mut live: serde_json::Value, mine: &serde_json::Value) -> serde_json::Value {
    crate::resources::remove_keys(&mut live, READ_ONLY);
    // Writable in the spec but not to be echoed: setting nodeImageVersion
    // asks for that image (a rollback, or a 400 if it is not a recent one);
    // status carries the read-only provisioningError.
    crate::resources::remove_keys(&mut live, &["nodeImageVersion", "status"]);
    let live_count = live.get("count").cloned();
    let (Some(obj), Some(ours)) = (live.as_object_mut(), mine.as_object()) else { return mine.clone() };
    for (k, v) in ours {
        obj.insert(k.clone(), v.clone());
    }
    let autoscaled = mine.get("enableAutoScaling").and_then(|b| b.as_bool()).unwrap_or(false);
    if let (true, Some(count)) = (autoscaled, live_count) {
        let bound = |k: &str| mine.get(k).and_then(|n| n.as_i64());
        let count = match (count.as_i64(), bound("minCount"), bound("maxCount")) {
            (Some(c), Some(lo), Some(hi)) if lo <= hi => json!(c.clamp(lo, hi)),
            _ => count,
        };
        obj.insert("count".into(), count);
    }
    if !autoscaled {
        obj.remove("minCount");
        obj.remove("maxCount");
    }
    live
}

fn json_i64(v: &serde_json::Value, pointer: &str) -> Value {
    v.pointer(pointer).and_then(|n| n.as_i64()).map(Value::int).unwrap_or(Value::Null)
}

/// A string collection from ARM; an empty one is null when the prior state
/// had none, so "unset" and "empty" never show as drift.
pub(crate) fn json_strings(v: &serde_json::Value, pointer: &str, prior: Option<&Value>, set: bool) -> Value {
    let items: Vec<Value> = v
        .pointer(pointer)
        .and_then(|a| a.as_array())
        .map(|a| a.iter().filter_map(|s| s.as_str()).map(Value::string).collect())
        .unwrap_or_default();
    if items.is_empty() && prior.is_none_or(Value::is_null) {
        Value::Null
    } else if set {
        Value::Set(items)
    } else {
        Value::List(items)
    }
}

/// The pool's node count. While the cluster autoscaler manages the pool the
/// count is its business, not drift: the prior value stays (as azurerm
/// does), so Terraform never fights the autoscaler.
fn node_count(agent: &serde_json::Value, prior: &Value) -> Value {
    let autoscaled = agent.pointer("/enableAutoScaling").and_then(|b| b.as_bool()).unwrap_or(false);
    match prior.attr("node_count") {
        Some(p) if autoscaled && !p.is_null() => p.clone(),
        _ => json_i64(agent, "/count"),
    }
}

/// The shared attributes' state from ARM's pool (`agent` holds the pool's
/// properties, plus `name` in a cluster's `agentPoolProfiles`), keeping the
/// prior spelling where ARM's differs only in form.
pub(crate) fn flatten(name: &str, agent: &serde_json::Value, prior: &Value) -> Value {
    // Empty (or left out by ARM) is null unless the prior state had a map,
    // so that `node_labels = {}` reads back as written.
    let prior_labels = prior.attr("node_labels").is_some_and(|t| !t.is_null());
    let labels: std::collections::BTreeMap<String, Value> = agent
        .get("nodeLabels")
        .and_then(|l| l.as_object())
        .map(|m| m.iter().map(|(k, v)| (k.clone(), Value::string(v.as_str().unwrap_or_default()))).collect())
        .unwrap_or_default();
    let labels = if labels.is_empty() && !prior_labels { Value::Null } else { Value::Map(labels) };
    let enum_from = |attr: &str, pointer: &str| keep_spelling(prior, attr, json_str(agent, pointer), case_insensitive);
    let autoscaled = agent.pointer("/enableAutoScaling").and_then(|b| b.as_bool()).unwrap_or(false);
    object([
        ("name", keep_spelling(prior, "name", Value::string(name), case_insensitive)),
        ("vm_size", enum_from("vm_size", "/vmSize")),
        ("node_count", node_count(agent, prior)),
        ("type", enum_from("type", "/type")),
        ("vnet_subnet_id", enum_from("vnet_subnet_id", "/vnetSubnetID")),
        ("max_pods", json_i64(agent, "/maxPods")),
        ("os_disk_size_gb", json_i64(agent, "/osDiskSizeGB")),
        ("zones", json_strings(agent, "/availabilityZones", prior.attr("zones"), true)),
        ("auto_scaling_enabled", Value::Bool(autoscaled)),
        // AKS may echo bounds of a pool that no longer autoscales.
        ("min_count", if autoscaled { json_i64(agent, "/minCount") } else { Value::Null }),
        ("max_count", if autoscaled { json_i64(agent, "/maxCount") } else { Value::Null }),
        ("orchestrator_version", json_str(agent, "/orchestratorVersion")),
        ("node_labels", labels),
        ("node_taints", json_strings(agent, "/nodeTaints", prior.attr("node_taints"), false)),
    ])
}

/// Adds the shared attributes to a block.
pub(crate) fn with_attributes(mut block: crate::tf::schema::Block, subnet_doc: &str) -> crate::tf::schema::Block {
    for a in attributes(subnet_doc) {
        block = block.attr(a);
    }
    block
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn planned(pairs: &[(&str, Value)]) -> Value {
        let mut v = Value::Object(Default::default());
        for (k, x) in pairs {
            v.set_attr(k, x.clone());
        }
        v
    }

    #[test]
    fn round_trip_through_arm() {
        let pool = planned(&[
            ("name", Value::string("user1")),
            ("vm_size", Value::string("Standard_D4s_v5")),
            ("type", Value::string("virtualmachinescalesets")),
            (
                "vnet_subnet_id",
                Value::string(
                    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/u",
                ),
            ),
            ("auto_scaling_enabled", Value::Bool(true)),
            ("min_count", Value::int(2)),
            ("max_count", Value::int(4)),
            ("node_count", Value::Unknown),
            ("node_labels", Value::Map([("team".to_string(), Value::string("a"))].into_iter().collect())),
            ("node_taints", Value::List(vec![Value::string("dedicated=egress:NoSchedule")])),
            ("zones", Value::Set(vec![Value::string("1")])),
        ]);
        let body = expand(&pool);
        assert_eq!(body["type"], "VirtualMachineScaleSets", "canonical spelling");
        assert_eq!(body["count"], 2, "an autoscaled pool starts at its minimum");
        assert_eq!(body["nodeLabels"]["team"], "a");
        assert_eq!(body["nodeTaints"][0], "dedicated=egress:NoSchedule");
        assert!(body.get("name").is_none() && body.get("mode").is_none());

        // ARM answers with its own spellings and read-only fields.
        let mut arm = serde_json::Value::Object(body.clone());
        arm["vnetSubnetID"] =
            json!("/subscriptions/s/resourcegroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/u");
        arm["count"] = json!(3);
        arm["maxPods"] = json!(30);
        arm["provisioningState"] = json!("Succeeded");
        let mut prior = pool.clone();
        prior.set_attr("node_count", Value::int(2));
        let state = flatten("user1", &arm, &prior);
        assert_eq!(state.attr("type"), pool.attr("type"), "prior spelling kept");
        assert_eq!(state.attr("vnet_subnet_id"), pool.attr("vnet_subnet_id"));
        assert_eq!(state.attr("node_count"), Some(&Value::int(2)), "the autoscaler's count is not drift");
        assert_eq!(state.attr("max_pods"), Some(&Value::int(30)));
        assert_eq!(state.attr("node_labels"), pool.attr("node_labels"));

        // Unset labels and taints are not sent, and stay null.
        let bare = planned(&[("vm_size", Value::string("x")), ("node_count", Value::int(3))]);
        let body = expand(&bare);
        assert!(body.get("nodeLabels").is_none() && body.get("nodeTaints").is_none());
        assert_eq!(body["count"], 3);
        assert!(body.get("minCount").is_none());
        let state = flatten("p", &serde_json::Value::Object(body), &bare);
        assert_eq!(state.attr("node_labels"), Some(&Value::Null));
        assert_eq!(state.attr("node_taints"), Some(&Value::Null));
        assert_eq!(state.attr("node_count"), Some(&Value::int(3)));
    }

    #[test]
    fn pool_names() {
        assert!(check_pool_name("user1").is_ok());
        for bad in ["", "1pool", "Pool", "averylongname1", "us-er"] {
            assert!(check_pool_name(bad).is_err(), "{bad}");
        }
    }
}
