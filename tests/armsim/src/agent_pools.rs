//! Microsoft.ContainerService agent pools (written from the 2026-07-01 spec):
//! `managedClusters/{cluster}/agentPools/{name}` as a resource of its own — list, get,
//! create/update and delete as long-running operations — written from the published spec
//! (`AgentPool`, `ManagedClusterAgentPoolProfileProperties`) and AKS's documented behaviour.
//!
//! There is one copy of a pool: the entry of the cluster's `properties.agentPoolProfiles`
//! (the profile is the pool's properties plus `name`). A cluster GET shows the pools made
//! here, this API shows the pools declared in a cluster PUT, and a cluster delete takes its
//! pools with it. The checks a pool passes are the ones a cluster PUT makes on each of its
//! pools (`aks::validate_pool`), against the stored cluster's network settings.

use serde_json::{json, Map, Value};

use crate::aks::{self, aks_err, PoolDefaults};
use crate::error::ArmError;
use crate::http::{HResult, Req, Resp};
use crate::lro::Completion;
use crate::network::{method_not_allowed, require_rg};
use crate::paths::{self, resource_id, Namespace, Target, AGENT_POOLS, CLUSTERS};
use crate::store::{same_id, Entry, Kind};
use crate::world::{check_etag_preconditions, OpSpec, World};

/// Settings AKS does not change on an existing pool: a PUT that sends another value is
/// refused; one that leaves them out keeps the live value.
const IMMUTABLE: &[&str] = &["vmSize", "vnetSubnetID", "osDiskSizeGB", "maxPods", "availabilityZones", "osType"];

/// Values AKS maintains that a PUT leaving them out does not reset: the power state changes
/// only when a request sets it, the node image only through upgrades.
const KEPT: &[&str] = &["powerState", "nodeImageVersion"];

/// Handles `…/agentPools` and `…/agentPools/{name}`.
pub(crate) fn handle(w: &mut World, req: &Req, target: &Target) -> HResult {
    let m = req.method.as_str();
    match target {
        Target::AgentPools { sub, rg, cluster } if m == "GET" => {
            let c = cluster_entry(w, sub, rg, cluster)?;
            let value: Vec<Value> =
                aks::pools_of(&c).iter().filter_map(Value::as_object).map(|p| render(&c.id, p)).collect();
            Ok(Resp::json(200, json!({ "value": value })))
        }
        Target::AgentPool { sub, rg, cluster, name } => {
            let c = cluster_entry(w, sub, rg, cluster)?;
            match m {
                "GET" => find(&c, name).map(|p| Resp::json(200, render(&c.id, &p))).ok_or_else(|| not_found(&c, name)),
                "PUT" => put_pool(w, req, sub, &c, name),
                "DELETE" => delete_pool(w, req, sub, &c, name),
                _ => Err(method_not_allowed(m)),
            }
        }
        _ => Err(method_not_allowed(m)),
    }
}

/// The stored cluster a pool request is about, or ARM's 404 for it.
fn cluster_entry(w: &World, sub: &str, rg: &str, cluster: &str) -> Result<Entry, ArmError> {
    let rg_id = require_rg(w, sub, rg)?;
    w.store
        .get(&resource_id(&rg_id, CLUSTERS, cluster))
        .filter(|e| e.kind == Kind::ManagedCluster)
        .cloned()
        .ok_or_else(|| ArmError::resource_not_found(CLUSTERS, cluster, rg))
}

/// AKS's answer for a pool the cluster does not have.
fn not_found(c: &Entry, name: &str) -> ArmError {
    ArmError::new(404, "NotFound", format!("Agent pool '{name}' was not found in managed cluster {}.", c.id)).aks()
}

/// The profile of pool `name` (names compare case-insensitively).
fn find(c: &Entry, name: &str) -> Option<Map<String, Value>> {
    aks::pools_of(c).into_iter().find(|p| aks::pool_name(p).eq_ignore_ascii_case(name)).and_then(|p| match p {
        Value::Object(o) => Some(o),
        _ => None,
    })
}

fn pool_id(cluster_id: &str, name: &str) -> String {
    format!("{cluster_id}/agentPools/{name}")
}

/// A profile (`name` + properties) as the `AgentPool` resource.
fn render(cluster_id: &str, profile: &Map<String, Value>) -> Value {
    let name = profile.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
    let mut props = profile.clone();
    props.remove("name");
    json!({
        "id": pool_id(cluster_id, &name),
        "name": name,
        "type": AGENT_POOLS,
        "properties": props,
    })
}

/// The pool an agent pool ID names, as GET returns it; `None` if the ID is not an agent
/// pool's or the pool (or its cluster) does not exist.
pub(crate) fn render_by_id(w: &World, id: &str) -> Option<Value> {
    let Target::AgentPool { sub, rg, cluster, name } = paths::parse(id) else {
        return None;
    };
    let c = w.store.get(&resource_id(&paths::rg_id(&sub, &rg), CLUSTERS, &cluster))?;
    find(c, &name).map(|p| render(&c.id, &p))
}

/// Changes the cluster's pool list in place; `false` if the cluster is not stored.
fn with_pools(w: &mut World, cluster_id: &str, f: impl FnOnce(&mut Vec<Value>)) -> bool {
    let Some(e) = w.store.get_mut(cluster_id) else {
        return false;
    };
    let pools = e.props_mut().entry("agentPoolProfiles").or_insert_with(|| json!([]));
    match pools {
        Value::Array(a) => {
            f(a);
            true
        }
        _ => false,
    }
}

/// Replaces the pool of the same name, or appends `pool`.
fn store_pool(w: &mut World, cluster_id: &str, pool: Value) {
    let name = aks::pool_name(&pool).to_string();
    with_pools(w, cluster_id, |a| match a.iter_mut().find(|p| aks::pool_name(p).eq_ignore_ascii_case(&name)) {
        Some(slot) => *slot = pool,
        None => a.push(pool),
    });
    w.bump_etag(cluster_id);
}

fn set_pool_state(w: &mut World, cluster_id: &str, name: &str, state: &str) {
    with_pools(w, cluster_id, |a| {
        for p in a.iter_mut().filter(|p| aks::pool_name(p).eq_ignore_ascii_case(name)) {
            if let Value::Object(o) = p {
                o.insert("provisioningState".into(), json!(state));
            }
        }
    });
    w.bump_etag(cluster_id);
}

/// Whether a requested value of an immutable setting is the live one.
fn same_setting(key: &str, new: &Value, old: Option<&Value>) -> bool {
    let zones = |v: Option<&Value>| {
        let mut z: Vec<String> = v
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default();
        z.sort();
        z
    };
    match (key, new, old) {
        ("availabilityZones", _, _) => zones(Some(new)) == zones(old),
        ("vnetSubnetID", Value::String(a), Some(Value::String(b))) => same_id(a, b),
        (_, Value::String(a), Some(Value::String(b))) => a.eq_ignore_ascii_case(b),
        (_, a, Some(b)) => a == b,
        (_, _, None) => false,
    }
}

/// PUT: the whole pool. What the request leaves out takes AKS's default (an update does
/// not merge the live pool in), except the immutable settings, which keep their live value.
fn put_pool(w: &mut World, req: &Req, sub: &str, c: &Entry, name: &str) -> HResult {
    if !aks::valid_pool_name(name) {
        return Err(aks_err(
            "InvalidParameter",
            format!("The value of parameter agentPoolName is invalid: '{name}' must match ^[a-z][a-z0-9]{{0,11}}$."),
        ));
    }
    let existing = find(c, name);
    check_etag_preconditions(
        req,
        existing.as_ref().map(|p| p.get("eTag").and_then(Value::as_str).unwrap_or_default()),
    )?;
    let body = req.json_object()?;
    let mut props = aks::obj(body.get("properties"), "properties")?.cloned().unwrap_or_default();
    props.remove("name");
    for k in aks::POOL_READ_ONLY {
        props.remove(*k);
    }
    props.retain(|_, v| !v.is_null());
    // The spec: 0 means the default size for the VM size.
    if props.get("osDiskSizeGB").and_then(Value::as_u64) == Some(0) {
        props.remove("osDiskSizeGB");
    }
    if let Some(live) = &existing {
        for k in IMMUTABLE {
            match (props.get(*k), live.get(*k)) {
                (None, Some(old)) => {
                    props.insert((*k).into(), old.clone());
                }
                (Some(new), old) if !same_setting(k, new, old) => {
                    // AKS's code for an in-place change it cannot make (seen for
                    // vnetSubnetID in Azure/AKS#695); the message follows AKS's.
                    return Err(aks_err(
                        "PropertyChangeNotAllowed",
                        format!(
                            "Changing property '{k}' is not allowed. Agent pool '{name}' must be recreated to change it."
                        ),
                    ));
                }
                _ => {}
            }
        }
        for k in KEPT {
            if let (false, Some(v)) = (props.contains_key(*k), live.get(*k)) {
                props.insert((*k).into(), v.clone());
            }
        }
    }
    if props.get("enableAutoScaling").and_then(Value::as_bool) == Some(true) && !props.contains_key("count") {
        // Code and message as AKS answers an autoscaled pool PUT without count.
        return Err(aks_err("InvalidParameter", "Required parameter properties.count is missing (null)."));
    }
    let cluster_body = c.body.as_object().cloned().unwrap_or_default();
    let cluster_props = c.props().cloned().unwrap_or_default();
    let egress = aks::egress_of(&cluster_body, &cluster_props)?;
    let version = aks::k8s_version(&cluster_props);
    let pname = existing.as_ref().and_then(|p| p.get("name").and_then(Value::as_str)).unwrap_or(name).to_string();
    let mut pool = Map::new();
    pool.insert("name".into(), json!(pname));
    pool.extend(props);
    aks::apply_pool_defaults(
        &mut pool,
        &PoolDefaults { plugin: &egress.plugin, version: &version, mode: "User", count: 1 },
    );
    let pool_value = Value::Object(pool.clone());
    let all = aks::pools_of(c);
    let others: Vec<&Value> = all.iter().filter(|p| !aks::pool_name(p).eq_ignore_ascii_case(name)).collect();
    aks::validate_pool(w, &pool_value, "properties", &egress, &others)?;
    let mut after: Vec<Value> = others.iter().map(|p| (*p).clone()).collect();
    after.push(pool_value);
    aks::check_system_pool(&after)?;
    let created = existing.is_none();
    let op_name = if created { "CreateAgentPool" } else { "UpdateAgentPool" };
    aks::check_cluster_conflict(w, &c.id, op_name)?;

    aks::finish_pool(&mut pool, if created { "Creating" } else { "Updating" });
    pool.insert("eTag".into(), json!(w.ids.guid()));
    let response = render(&c.id, &pool);
    store_pool(w, &c.id, Value::Object(pool));
    let op = w.start_op(
        req,
        OpSpec {
            ns: Namespace::ContainerService,
            name: op_name,
            resource_id: pool_id(&c.id, &pname),
            lock: c.id.clone(),
            sub: sub.to_string(),
            location: c.location().unwrap_or("westeurope").to_string(),
            completion: Completion::AgentPool { cluster: c.id.clone(), pool: pname.clone() },
            is_delete: false,
        },
    );
    Ok(w.lro_headers(Resp::json(if created { 201 } else { 200 }, response), &op, false))
}

fn delete_pool(w: &mut World, req: &Req, sub: &str, c: &Entry, name: &str) -> HResult {
    let Some(live) = find(c, name) else {
        check_etag_preconditions(req, None)?;
        return Ok(Resp::empty(204));
    };
    check_etag_preconditions(req, Some(live.get("eTag").and_then(Value::as_str).unwrap_or_default()))?;
    let pname = live.get("name").and_then(Value::as_str).unwrap_or(name).to_string();
    let rest: Vec<Value> =
        aks::pools_of(c).into_iter().filter(|p| !aks::pool_name(p).eq_ignore_ascii_case(name)).collect();
    if rest.is_empty() {
        // Code and message as AKS answers (Azure/AKS#2560).
        return Err(aks_err("OperationNotAllowed", "There has to be at least one agent pool."));
    }
    if aks::is_system(&Value::Object(live.clone())) && !rest.iter().any(aks::is_system) {
        // AKS refuses this ("a cluster must have at least one 'System' agent pool at all
        // times"); the code is a guess, by analogy with the last-pool case above.
        return Err(aks_err(
            "OperationNotAllowed",
            format!(
                "Agent pool '{pname}' is the last System agent pool of the managed cluster and cannot be deleted: \
                 a cluster must have at least one System agent pool at all times."
            ),
        ));
    }
    aks::check_cluster_conflict(w, &c.id, "DeleteAgentPool")?;
    set_pool_state(w, &c.id, &pname, "Deleting");
    let op = w.start_op(
        req,
        OpSpec {
            ns: Namespace::ContainerService,
            name: "DeleteAgentPool",
            resource_id: pool_id(&c.id, &pname),
            lock: c.id.clone(),
            sub: sub.to_string(),
            location: c.location().unwrap_or("westeurope").to_string(),
            completion: Completion::AgentPoolDeleted { cluster: c.id.clone(), pool: pname },
            is_delete: true,
        },
    );
    Ok(w.lro_headers(Resp::empty(202), &op, true))
}

/// The end of a pool create/update: its state, and the kubenet pod routes of its nodes.
pub(crate) fn complete_write(w: &mut World, cluster_id: &str, pool: &str, ok: bool) {
    set_pool_state(w, cluster_id, pool, if ok { "Succeeded" } else { "Failed" });
    if ok {
        aks::refresh_pod_routes(w, cluster_id);
    }
}

/// The end of a pool delete: the pool leaves the cluster (or stays, Failed).
pub(crate) fn complete_delete(w: &mut World, cluster_id: &str, pool: &str, ok: bool) {
    if !ok {
        set_pool_state(w, cluster_id, pool, "Failed");
        return;
    }
    with_pools(w, cluster_id, |a| a.retain(|p| !aks::pool_name(p).eq_ignore_ascii_case(pool)));
    w.bump_etag(cluster_id);
    aks::refresh_pod_routes(w, cluster_id);
}

/// Admin: stores `body` (an `AgentPool`, or a bare profile) as the pool `id` names, as-is
/// (no validation, no operation), with a new eTag.
pub(crate) fn admin_put(w: &mut World, id: &str, body: Value) -> Result<(), String> {
    let Target::AgentPool { sub, rg, cluster, name } = paths::parse(id) else {
        return Err(format!("'{id}' is not an agent pool ID"));
    };
    let cluster_id = resource_id(&paths::rg_id(&sub, &rg), CLUSTERS, &cluster);
    let Some(c) = w.store.get(&cluster_id).filter(|e| e.kind == Kind::ManagedCluster) else {
        return Err(format!("managed cluster {cluster_id} is not stored"));
    };
    let cluster_id = c.id.clone();
    let mut profile = match body {
        Value::Object(mut o) => match o.remove("properties") {
            Some(Value::Object(p)) => p,
            _ => o,
        },
        _ => return Err("agent pool body must be a JSON object".into()),
    };
    for k in ["id", "type", "name"] {
        profile.remove(k);
    }
    let mut pool = Map::new();
    pool.insert("name".into(), json!(name));
    pool.extend(profile);
    pool.insert("eTag".into(), json!(w.ids.guid()));
    store_pool(w, &cluster_id, Value::Object(pool));
    Ok(())
}

/// Admin: removes the pool `id` names at once; `false` if it did not exist.
pub(crate) fn admin_remove(w: &mut World, id: &str) -> bool {
    let Target::AgentPool { sub, rg, cluster, name } = paths::parse(id) else {
        return false;
    };
    let Some(c) = w.store.get(&resource_id(&paths::rg_id(&sub, &rg), CLUSTERS, &cluster)).cloned() else {
        return false;
    };
    if find(&c, &name).is_none() {
        return false;
    }
    with_pools(w, &c.id, |a| a.retain(|p| !aks::pool_name(p).eq_ignore_ascii_case(&name)));
    w.bump_etag(&c.id);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn immutable_comparison() {
        assert!(same_setting("vmSize", &json!("standard_d2s_v5"), Some(&json!("Standard_D2s_v5"))));
        assert!(!same_setting("vmSize", &json!("Standard_D4s_v5"), Some(&json!("Standard_D2s_v5"))));
        assert!(same_setting("availabilityZones", &json!(["2", "1"]), Some(&json!(["1", "2"]))));
        assert!(same_setting("availabilityZones", &json!([]), None));
        assert!(!same_setting("availabilityZones", &json!(["1"]), None));
        assert!(same_setting("maxPods", &json!(30), Some(&json!(30))));
        assert!(!same_setting("vnetSubnetID", &json!("/a/b"), None));
        assert!(same_setting("vnetSubnetID", &json!("/A/b"), Some(&json!("/a/B"))));
    }

    #[test]
    fn renders_profile_as_resource() {
        let p = json!({"name": "np1", "count": 2});
        let r = render("/c", p.as_object().unwrap_or(&Map::new()));
        assert_eq!(
            r,
            json!({"id": "/c/agentPools/np1", "name": "np1", "type": AGENT_POOLS, "properties": {"count": 2}})
        );
    }
}
