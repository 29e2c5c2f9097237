//! Microsoft.ContainerService managed clusters (written from the 2026-07-01 spec; every
//! published api-version is accepted, see `api_versions`): create/update/delete
//! as long-running operations, credentials, and the validation AKS performs synchronously on
//! egress (outbound type, route tables, load balancer settings, identity), written from
//! Azure's documented behaviour.
//!
//! AKS's own failures are marked as such: they are rendered in the ARM `{"error":{...}}`
//! envelope the published spec declares, or flat (`{"code","message",...}`) when configured
//! (`AksErrorShape::Flat`), since AKS has been observed answering that way.

use std::net::Ipv4Addr;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Map, Value};

use crate::cidr::Cidr;
use crate::error::ArmError;
use crate::http::{HResult, Req, Resp};
use crate::lro::Completion;
use crate::network::{method_not_allowed, require_rg, subnet_prefixes, subnet_route_table};
use crate::paths::{self, name_of, resource_id, Namespace, Target, CLUSTERS};
use crate::store::{same_id, Entry, Kind};
use crate::world::{check_preconditions, normalize_location, read_tags, OpSpec, World};

/// The Kubernetes version reported when the request names none.
const DEFAULT_K8S_VERSION: &str = "1.33.2";

/// Cluster properties computed by AKS; values sent in a request are ignored.
const READ_ONLY: &[&str] = &[
    "provisioningState",
    "powerState",
    "maxAgentPools",
    "currentKubernetesVersion",
    "fqdn",
    "privateFQDN",
    "azurePortalFQDN",
    "resourceUID",
];

pub(crate) fn aks_err(code: &str, message: impl Into<String>) -> ArmError {
    ArmError::bad_request(code, message).aks()
}

/// Handles a managed cluster request.
pub(crate) fn handle(w: &mut World, req: &Req, target: &Target) -> HResult {
    let m = req.method.as_str();
    match target {
        Target::AgentPools { .. } | Target::AgentPool { .. } => crate::agent_pools::handle(w, req, target),
        Target::ManagedClusters { sub, rg } if m == "GET" => {
            let prefix = match rg {
                Some(rg) => require_rg(w, sub, rg)?,
                None => format!("/subscriptions/{sub}"),
            };
            let value: Vec<Value> =
                w.store.list(Kind::ManagedCluster, &prefix).iter().map(|e| e.body.clone()).collect();
            Ok(Resp::json(200, json!({ "value": value })))
        }
        Target::ManagedCluster { sub, rg, name } => {
            let rg_id = require_rg(w, sub, rg)?;
            let id = resource_id(&rg_id, CLUSTERS, name);
            match m {
                "GET" => w
                    .store
                    .get(&id)
                    .map(|e| Resp::json(200, e.body.clone()))
                    .ok_or_else(|| ArmError::resource_not_found(CLUSTERS, name, rg)),
                "PUT" => put_cluster(w, req, sub, rg, &id),
                "DELETE" => delete_cluster(w, req, sub, &id),
                _ => Err(method_not_allowed(m)),
            }
        }
        Target::ManagedClusterAction { sub, rg, name, action } if m == "POST" => {
            let rg_id = require_rg(w, sub, rg)?;
            let id = resource_id(&rg_id, CLUSTERS, name);
            let cluster = w.store.get(&id).ok_or_else(|| ArmError::resource_not_found(CLUSTERS, name, rg))?;
            let kind = if action.eq_ignore_ascii_case("listClusterUserCredential") {
                "clusterUser"
            } else if action.eq_ignore_ascii_case("listClusterAdminCredential") {
                "clusterAdmin"
            } else {
                return Err(ArmError::new(
                    404,
                    "InvalidResourceType",
                    format!("The action '{action}' is not supported on managed clusters by armsim."),
                ));
            };
            let kubeconfig = kubeconfig(w, cluster, rg, kind);
            Ok(Resp::json(200, json!({ "kubeconfigs": [{ "name": kind, "value": STANDARD.encode(kubeconfig) }] })))
        }
        _ => Err(method_not_allowed(m)),
    }
}

/// A kubeconfig for the cluster's API server with an opaque token. The
/// token stays the same for a cluster and user kind, as AKS's credentials do
/// until they are rotated.
fn kubeconfig(_w: &World, cluster: &Entry, rg: &str, kind: &str) -> String {
    let name = name_of(&cluster.id);
    let fqdn = cluster.prop_str("fqdn").unwrap_or("localhost");
    let user = format!("{kind}_{rg}_{name}");
    let ca = STANDARD.encode(format!("armsim fake cluster CA for {name}"));
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority-data: {ca}\n    \
         server: https://{fqdn}:443\n  name: {name}\ncontexts:\n- context:\n    cluster: {name}\n    \
         user: {user}\n  name: {name}\ncurrent-context: {name}\npreferences: {{}}\nusers:\n- name: {user}\n  \
         user:\n    token: {:016x}\n",
        {
            use std::hash::{Hash, Hasher};
            // DefaultHasher::new() has fixed keys: stable across calls.
            let mut h = std::collections::hash_map::DefaultHasher::new();
            (cluster.id.to_ascii_lowercase(), fqdn, kind).hash(&mut h);
            h.finish()
        }
    )
}

/// AKS refuses a second operation on a cluster while one runs. Operations on the cluster
/// and on its agent pools all hold the cluster's ID, so they exclude each other.
pub(crate) fn check_cluster_conflict(w: &World, id: &str, what: &str) -> Result<(), ArmError> {
    match w.ops.running_on(id) {
        None => Ok(()),
        Some(op) => {
            let on = if same_id(&op.resource_id, id) {
                "the managed cluster".to_string()
            } else {
                format!("agent pool '{}' of the managed cluster", name_of(&op.resource_id))
            };
            Err(ArmError::new(
                409,
                "OperationNotAllowed",
                format!(
                    "Operation '{what}' is not allowed because there's an in progress '{}' operation ({}) on {on}. \
                     Please wait for it to finish before starting a new operation.",
                    op.name, op.id
                ),
            )
            .aks())
        }
    }
}

pub(crate) fn obj<'a>(v: Option<&'a Value>, what: &str) -> Result<Option<&'a Map<String, Value>>, ArmError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => {
            Err(aks_err("InvalidParameter", format!("The value of parameter {what} is invalid: it must be an object.")))
        }
    }
}

fn str_of<'a>(m: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    m.get(k).and_then(Value::as_str)
}

/// The identity type a request ends up with: explicit, else `None` when a service principal
/// is given, else AKS's default of a system-assigned identity.
fn identity_type(body: &Map<String, Value>, props: &Map<String, Value>) -> String {
    if let Some(t) = body.get("identity").and_then(|i| i.get("type")).and_then(Value::as_str) {
        return t.to_string();
    }
    let sp = props.get("servicePrincipalProfile").and_then(|s| s.get("clientId")).and_then(Value::as_str);
    match sp {
        Some(c) if !c.eq_ignore_ascii_case("msi") => "None".into(),
        _ => "SystemAssigned".into(),
    }
}

/// Everything about a cluster that the egress and agent pool validation looks at: derived
/// from the request for a cluster PUT, from the stored cluster for an agent pool PUT.
pub(crate) struct Egress<'a> {
    pub outbound: String,
    pub plugin: String,
    pub lb_sku: String,
    pub lb_profile: Option<&'a Map<String, Value>>,
    pub identity: String,
}

/// The egress settings of a cluster body (`body`, whose merged `properties` are `props`),
/// with AKS's defaults for what it leaves out.
pub(crate) fn egress_of<'a>(body: &Map<String, Value>, props: &'a Map<String, Value>) -> Result<Egress<'a>, ArmError> {
    let net = obj(props.get("networkProfile"), "networkProfile")?;
    Ok(Egress {
        outbound: net.and_then(|n| str_of(n, "outboundType")).unwrap_or("loadBalancer").to_string(),
        plugin: net.and_then(|n| str_of(n, "networkPlugin")).unwrap_or("kubenet").to_string(),
        lb_sku: net.and_then(|n| str_of(n, "loadBalancerSku")).unwrap_or("standard").to_ascii_lowercase(),
        lb_profile: obj(net.and_then(|n| n.get("loadBalancerProfile")), "networkProfile.loadBalancerProfile")?,
        identity: identity_type(body, props),
    })
}

/// The Kubernetes version a cluster's `properties` ask for (or AKS's default).
pub(crate) fn k8s_version(props: &Map<String, Value>) -> String {
    props
        .get("kubernetesVersion")
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
        .unwrap_or(DEFAULT_K8S_VERSION)
        .to_string()
}

/// `^[a-z][a-z0-9]{0,11}$`, the agent pool name pattern of the spec.
pub(crate) fn valid_pool_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 12
        && n.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && n.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

/// Agent pool properties the 2026-07-01 spec marks read-only (`status` holds only the
/// read-only `provisioningError`); values sent in a request are ignored.
pub(crate) const POOL_READ_ONLY: &[&str] = &["eTag", "currentOrchestratorVersion", "provisioningState", "status"];

/// What AKS fills in on an agent pool that leaves a setting out.
pub(crate) struct PoolDefaults<'a> {
    pub plugin: &'a str,
    /// The cluster's Kubernetes version, the pool's default `orchestratorVersion`.
    pub version: &'a str,
    pub mode: &'a str,
    /// The node count of a pool without the autoscaler (an autoscaled pool starts at
    /// `minCount`).
    pub count: u64,
}

/// Drops read-only and null properties of a requested pool and fills in AKS's defaults.
pub(crate) fn apply_pool_defaults(o: &mut Map<String, Value>, d: &PoolDefaults<'_>) {
    for k in POOL_READ_ONLY {
        o.remove(*k);
    }
    o.retain(|_, v| !v.is_null());
    // The spec: 0 means the default size for the VM size.
    if o.get("osDiskSizeGB").and_then(Value::as_u64) == Some(0) {
        o.remove("osDiskSizeGB");
    }
    let autoscaled = o.get("enableAutoScaling").and_then(Value::as_bool) == Some(true);
    let count = match o.get("minCount").and_then(Value::as_u64) {
        Some(min) if autoscaled => min,
        _ => d.count,
    };
    o.entry("count").or_insert(json!(count));
    o.entry("vmSize").or_insert(json!("Standard_D2s_v5"));
    o.entry("osDiskSizeGB").or_insert(json!(128));
    o.entry("type").or_insert(json!("VirtualMachineScaleSets"));
    o.entry("osType").or_insert(json!("Linux"));
    o.entry("mode").or_insert(json!(d.mode));
    o.entry("maxPods").or_insert(json!(if d.plugin == "kubenet" { 110 } else { 250 }));
    o.entry("orchestratorVersion").or_insert(json!(d.version));
    o.entry("nodeImageVersion").or_insert(json!("AKSUbuntu-2204gen2containerd-202507.01.0"));
}

/// Sets what AKS computes on a pool being written: its version, state and power state.
pub(crate) fn finish_pool(o: &mut Map<String, Value>, state: &str) {
    let version = o.get("orchestratorVersion").cloned().unwrap_or(json!(DEFAULT_K8S_VERSION));
    o.insert("currentOrchestratorVersion".into(), version);
    o.insert("provisioningState".into(), json!(state));
    o.entry("powerState").or_insert(json!({ "code": "Running" }));
}

/// The settings of a pool, for deciding whether a write changed it.
fn pool_settings(p: &Value) -> Value {
    let mut p = p.clone();
    if let Value::Object(o) = &mut p {
        for k in POOL_READ_ONLY {
            o.remove(*k);
        }
        if let Some(Value::String(n)) = o.get_mut("name") {
            *n = n.to_ascii_lowercase();
        }
    }
    p
}

/// Gives each pool of `new` an `eTag`: the one it had in `old` when its settings are
/// unchanged, a new one when it is new or changed ("the eTag value will change when the
/// resource is updated").
pub(crate) fn assign_pool_etags(w: &World, old: &[Value], new: &mut [Value]) {
    for p in new.iter_mut() {
        let name = pool_name(p).to_ascii_lowercase();
        let kept = old
            .iter()
            .find(|o| pool_name(o).eq_ignore_ascii_case(&name))
            .filter(|o| pool_settings(o) == pool_settings(p))
            .and_then(|o| o.get("eTag").cloned());
        if let Value::Object(o) = p {
            o.insert("eTag".into(), kept.unwrap_or_else(|| json!(w.ids.guid())));
        }
    }
}

pub(crate) fn pool_name(p: &Value) -> &str {
    p.get("name").and_then(Value::as_str).unwrap_or("")
}

fn pool_mode(p: &Value) -> &str {
    p.get("mode").and_then(Value::as_str).unwrap_or("User")
}

pub(crate) fn is_system(p: &Value) -> bool {
    pool_mode(p).eq_ignore_ascii_case("System")
}

/// "A cluster must have at least one 'System' Agent Pool at all times" (the spec).
pub(crate) fn check_system_pool(pools: &[Value]) -> Result<(), ArmError> {
    if pools.iter().any(is_system) {
        return Ok(());
    }
    // The message is AKS's (seen in Azure/AKS#1602); the code is a guess.
    Err(aks_err(
        "InvalidParameter",
        "Must define at least one system pool. A cluster must have at least one agent pool in mode System at all times.",
    ))
}

/// The checks that apply to the cluster as a whole (outbound type, load balancer).
fn validate_cluster(e: &Egress<'_>, existing: Option<&Entry>) -> Result<(), ArmError> {
    const OUTBOUND: &[&str] =
        &["loadBalancer", "userDefinedRouting", "managedNATGateway", "userAssignedNATGateway", "none"];
    if !OUTBOUND.contains(&e.outbound.as_str()) {
        return Err(aks_err(
            "UnsupportedOutboundType",
            format!("Outbound type '{}' is not supported. Supported values are {}.", e.outbound, OUTBOUND.join(", ")),
        ));
    }
    if let Some(old) = existing
        .and_then(|x| x.props())
        .and_then(|p| p.get("networkProfile"))
        .and_then(|n| n.get("outboundType"))
        .and_then(Value::as_str)
    {
        // AKS migrates a cluster's egress in place between these types
        // (`az aks update --outbound-type`); managedNATGateway needs an
        // AKS-managed VNet, so moving to or from it means a new cluster.
        const MIGRATABLE: &[&str] = &["loadBalancer", "userDefinedRouting", "userAssignedNATGateway", "none"];
        if old != e.outbound && !(MIGRATABLE.contains(&old) && MIGRATABLE.contains(&e.outbound.as_str())) {
            return Err(aks_err(
                "UpdatingOutboundTypeNotAllowed",
                format!("Updating outboundType from '{old}' to '{}' is not supported.", e.outbound),
            ));
        }
    }
    if !["standard", "basic"].contains(&e.lb_sku.as_str()) {
        return Err(aks_err(
            "InvalidLoadBalancerSku",
            format!("Load balancer SKU '{}' is invalid; use standard or basic.", e.lb_sku),
        ));
    }
    if e.outbound != "loadBalancer" && e.lb_sku == "basic" {
        return Err(aks_err(
            "UnexpectedLoadBalancerSkuForCurrentOutboundConfiguration",
            format!("Load balancer SKU must be standard when outboundType is {}; basic is not supported.", e.outbound),
        ));
    }
    if e.outbound == "userDefinedRouting" {
        if let Some(p) = e.lb_profile {
            let has_outbound = ["managedOutboundIPs", "outboundIPs", "outboundIPPrefixes"]
                .iter()
                .any(|k| p.get(*k).is_some_and(|v| !v.is_null()));
            if has_outbound {
                return Err(aks_err(
                    "InvalidUserDefinedRoutingWithLoadBalancerProfile",
                    "A load balancer profile with outbound IPs, outbound IP prefixes or managed outbound IPs \
                     cannot be used with outboundType userDefinedRouting: egress goes through the route table.",
                ));
            }
        }
    }
    Ok(())
}

/// Cluster PUT: the cluster-wide checks, then every pool against the others.
fn validate(w: &World, pools: &[Value], e: &Egress<'_>, existing: Option<&Entry>) -> Result<(), ArmError> {
    validate_cluster(e, existing)?;
    for (i, pool) in pools.iter().enumerate() {
        let others: Vec<&Value> = pools.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, p)| p).collect();
        validate_pool(w, pool, &format!("agentPoolProfiles[{i}]"), e, &others)?;
    }
    check_system_pool(pools)
}

/// A pool property that must be a non-negative integer when present.
fn int_prop(pool: &Value, field: &str, key: &str) -> Result<Option<u64>, ArmError> {
    match pool.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| {
            aks_err(
                "InvalidParameter",
                format!("The value of parameter {field}.{key} is invalid: it must be a non-negative integer."),
            )
        }),
    }
}

/// The checks AKS makes on one agent pool (defaults filled in) of a cluster whose egress is
/// `e`; `others` are the cluster's other pools and `field` names the pool in messages
/// (`agentPoolProfiles[0]` in a cluster PUT, `properties` in an agent pool PUT). The same
/// function serves the cluster PUT and the agent pool PUT.
pub(crate) fn validate_pool(
    w: &World,
    pool: &Value,
    field: &str,
    e: &Egress<'_>,
    others: &[&Value],
) -> Result<(), ArmError> {
    let invalid = |msg: String| Err(aks_err("InvalidParameter", msg));
    let pname = pool_name(pool);
    let system = is_system(pool);

    // Sizes and counts (ranges from the spec's descriptions).
    let count = int_prop(pool, field, "count")?;
    let min = int_prop(pool, field, "minCount")?;
    let max = int_prop(pool, field, "maxCount")?;
    int_prop(pool, field, "maxPods")?;
    if int_prop(pool, field, "osDiskSizeGB")?.is_some_and(|s| s > 2048) {
        return invalid(format!("The value of parameter {field}.osDiskSizeGB is invalid: the maximum is 2048."));
    }
    if let Some(c) = count {
        let lowest = u64::from(system);
        if c < lowest || c > 1000 {
            return invalid(format!(
                "The value of parameter {field}.count is invalid: {c} is outside {lowest}..1000 for a {} pool.",
                if system { "System" } else { "User" }
            ));
        }
    }
    let os = pool.get("osType").and_then(Value::as_str).unwrap_or("Linux");
    if system && !os.eq_ignore_ascii_case("Linux") {
        return invalid(format!("Agent pool '{pname}' is a System pool: System agent pools must have osType Linux."));
    }
    if os.eq_ignore_ascii_case("Windows") && pname.len() > 6 {
        return invalid(format!("Windows agent pool name '{pname}' is too long: it can be at most 6 characters."));
    }

    // Autoscaler bounds.
    if pool.get("enableAutoScaling").and_then(Value::as_bool) == Some(true) {
        let (Some(min), Some(max)) = (min, max) else {
            return invalid(format!(
                "Agent pool '{pname}' enables the autoscaler: {field}.minCount and {field}.maxCount are required."
            ));
        };
        if min > max {
            return invalid(format!(
                "The value of parameter {field}.minCount ({min}) must be less than or equal to {field}.maxCount ({max})."
            ));
        }
        if let Some(c) = count.filter(|c| *c < min || *c > max) {
            return invalid(format!(
                "The value of parameter {field}.count ({c}) must be within minCount ({min}) and maxCount ({max}) \
                 when the autoscaler is enabled."
            ));
        }
    } else if min.is_some() || max.is_some() {
        return invalid(format!(
            "Agent pool '{pname}' does not enable the autoscaler: {field}.minCount and {field}.maxCount must be null."
        ));
    }

    // Egress.
    let udr = e.outbound == "userDefinedRouting";
    let ptype = pool.get("type").and_then(Value::as_str).unwrap_or("VirtualMachineScaleSets");
    if e.outbound != "loadBalancer" && ptype != "VirtualMachineScaleSets" && ptype != "VirtualMachines" {
        return invalid(format!(
            "Agent pool '{pname}' ({field}.type) is {ptype}: outboundType {} requires VirtualMachineScaleSets agent pools.",
            e.outbound
        ));
    }
    if udr && pool.get("enableNodePublicIP").and_then(Value::as_bool) == Some(true) {
        return Err(aks_err(
            "UDRWithNodePublicIPNotAllowed",
            format!("Agent pool '{pname}' enables node public IPs, which cannot be combined with outboundType userDefinedRouting."),
        ));
    }
    let subnet_of = |p: &Value| p.get("vnetSubnetID").and_then(Value::as_str).map(str::to_string);
    let subnet_id = subnet_of(pool);
    let Some(subnet_id) = subnet_id else {
        if udr {
            return invalid(format!(
                "Agent pool '{pname}' has no vnetSubnetID: outboundType userDefinedRouting requires agent pools in \
                 an existing subnet whose route table sends egress to a firewall or appliance."
            ));
        }
        if let Some(other) = others.iter().find(|o| subnet_of(o).is_some()) {
            // The code follows the reverse case below; the message is armsim's.
            return invalid(format!(
                "Agent pool '{pname}' has no vnetSubnetID, but agent pool '{}' uses a custom subnet: all agent pools \
                 of a cluster must be in the same virtual network.",
                pool_name(other)
            ));
        }
        return Ok(());
    };
    if let Some(other) = others.iter().find(|o| subnet_of(o).is_none()) {
        // Code and message as AKS answers (MicrosoftDocs/azure-docs#116169).
        return invalid(format!(
            "Cannot use a custom subnet because agent pool {} is using a managed subnet. Please omit the \
             vnetSubnetID parameter from the request.",
            pool_name(other)
        ));
    }
    if !matches!(paths::parse(&subnet_id), Target::Subnet { .. }) {
        return invalid(format!("The value '{subnet_id}' of {field}.vnetSubnetID is not a valid subnet resource ID."));
    }
    let Some(subnet) = w.store.get(&subnet_id).filter(|s| s.kind == Kind::Subnet) else {
        return Err(aks_err(
            "SubnetNotFound",
            format!("Subnet '{subnet_id}' of agent pool '{pname}' could not be found."),
        ));
    };
    let vnet = paths::parent_of(&subnet.id);
    for other in others {
        let Some(theirs) = subnet_of(other) else { continue };
        if !same_id(paths::parent_of(&theirs), vnet) {
            // The rule is documented ("All node pools must reside in the same virtual
            // network"); AKS's error code for it is not known: InvalidParameter is a guess.
            return invalid(format!(
                "The subnet {subnet_id} of agent pool '{pname}' is in virtual network {vnet}, but agent pool '{}' uses \
                 virtual network {}: all agent pools of a cluster must be in the same virtual network.",
                pool_name(other),
                paths::parent_of(&theirs)
            ));
        }
    }
    let rt_id = subnet_route_table(subnet);
    if e.plugin == "kubenet" && rt_id.is_some() && e.identity.eq_ignore_ascii_case("SystemAssigned") {
        return Err(aks_err(
            "CustomRouteTableWithUnsupportedMSIType",
            "Clusters using managed identity type SystemAssigned do not support bringing your own route table. \
             Please see https://aka.ms/aks/customrt for more information",
        ));
    }
    if e.plugin == "kubenet" {
        if let Some(mine) = rt_id {
            for other in others {
                let theirs = subnet_of(other)
                    .and_then(|s| w.store.get(&s))
                    .and_then(|s| subnet_route_table(s).map(str::to_string));
                if let Some(theirs) = theirs.filter(|t| !same_id(t, mine)) {
                    // Documented ("all subnets of a kubenet cluster must use the same route
                    // table"); the error code is not known: InvalidParameter is a guess.
                    return invalid(format!(
                        "The subnet {subnet_id} of agent pool '{pname}' is associated with route table {mine}, but the \
                         subnet of agent pool '{}' uses route table {theirs}: with kubenet all subnets of a cluster \
                         must use the same route table.",
                        pool_name(other)
                    ));
                }
            }
        }
    }
    if !udr {
        return Ok(());
    }
    let Some(rt_id) = rt_id else {
        return Err(aks_err(
            "ExistingRouteTableNotAssociatedWithSubnet",
            format!(
                "An existing route table has not been associated with subnet {subnet_id}. Please update the route \
                 table association. For outboundType userDefinedRouting the subnet must have a route table."
            ),
        ));
    };
    let Some(rt) = w.store.get(rt_id).filter(|r| r.kind == Kind::RouteTable) else {
        return Err(aks_err(
            "GetRouteTableError",
            format!("Failed to get route table {rt_id} associated with subnet {subnet_id}."),
        ));
    };
    let default =
        w.store.list(Kind::Route, &rt.id).into_iter().find(|r| r.prop_str("addressPrefix") == Some("0.0.0.0/0"));
    let Some(default) = default else {
        return Err(aks_err(
            "RouteTableMissingDefaultRouteError",
            format!(
                "The route table {} associated with subnet {subnet_id} has no default route (0.0.0.0/0). \
                 outboundType userDefinedRouting requires one to a virtual appliance or virtual network gateway.",
                rt.id
            ),
        ));
    };
    let hop = default.prop_str("nextHopType").unwrap_or("");
    if hop != "VirtualAppliance" && hop != "VirtualNetworkGateway" {
        return Err(aks_err(
            "RouteTableInvalidNextHop",
            format!(
                "The default route (0.0.0.0/0) of route table {} has next hop type {hop}; outboundType \
                 userDefinedRouting requires VirtualAppliance or VirtualNetworkGateway.",
                rt.id
            ),
        ));
    }
    Ok(())
}

fn put_cluster(w: &mut World, req: &Req, sub: &str, rg: &str, path_id: &str) -> HResult {
    let existing = w.store.get(path_id).cloned();
    check_preconditions(req, existing.as_ref())?;
    let id = existing.as_ref().map_or(path_id.to_string(), |e| e.id.clone());
    let name = name_of(&id).to_string();
    let body = req.json_object()?;
    let location = match body.get("location") {
        Some(Value::String(l)) if !l.is_empty() => normalize_location(l),
        _ => {
            return Err(ArmError::bad_request(
                "LocationRequired",
                "The location property is required for this definition.",
            ))
        }
    };
    if let Some(old) = existing.as_ref().and_then(|e| e.location()) {
        if old != location {
            return Err(aks_err(
                "InvalidParameter",
                format!("The location of managed cluster '{name}' cannot be changed from '{old}' to '{location}'."),
            ));
        }
    }
    let tags = read_tags(body.get("tags"))?;
    let props = obj(body.get("properties"), "properties")?.cloned().unwrap_or_default();
    let props = match existing.as_ref().and_then(|e| e.body.get("properties")).and_then(Value::as_object) {
        Some(live) => merge_update(live, props),
        None => props,
    };
    let mut pools: Vec<Value> =
        match props.get("agentPoolProfiles") {
            Some(Value::Array(a)) if !a.is_empty() => a.clone(),
            _ => return Err(aks_err(
                "InvalidParameter",
                "The value of parameter agentPoolProfiles is invalid: a managed cluster needs at least one agent pool.",
            )),
        };
    for (i, p) in pools.iter().enumerate() {
        if !p.get("name").and_then(Value::as_str).is_some_and(valid_pool_name) {
            return Err(aks_err(
                "InvalidParameter",
                format!("The value of parameter agentPoolProfiles[{i}].name is invalid: it must match ^[a-z][a-z0-9]{{0,11}}$."),
            ));
        }
    }
    let egress = egress_of(&body, &props)?;
    let version = k8s_version(&props);
    for (i, p) in pools.iter_mut().enumerate() {
        if let Value::Object(o) = p {
            let mode = if i == 0 { "System" } else { "User" };
            apply_pool_defaults(o, &PoolDefaults { plugin: &egress.plugin, version: &version, mode, count: 3 });
        }
    }
    validate(w, &pools, &egress, existing.as_ref())?;
    check_cluster_conflict(w, &id, if existing.is_some() { "UpdateManagedCluster" } else { "CreateManagedCluster" })?;

    let stored = build_cluster(w, &id, rg, &location, tags, &body, props.clone(), pools, &egress, existing.as_ref());
    w.store.put(Kind::ManagedCluster, &id, stored);
    let created = existing.is_none();
    let op = w.start_op(
        req,
        OpSpec {
            ns: Namespace::ContainerService,
            name: if created { "CreateManagedCluster" } else { "UpdateManagedCluster" },
            resource_id: id.clone(),
            lock: id.clone(),
            sub: sub.to_string(),
            location,
            completion: Completion::Cluster { id: id.clone(), created },
            is_delete: false,
        },
    );
    let body = w.store.get(&id).map(|e| e.body.clone()).unwrap_or(Value::Null);
    Ok(w.lro_headers(Resp::json(if created { 201 } else { 200 }, body), &op, false))
}

/// An update as AKS applies it to the live cluster: settings the PUT leaves
/// out keep their values (top-level properties, fields of the network and
/// API server profiles, fields of each pool, such as the count the
/// autoscaler set), and pools the PUT does not list are kept (a cluster PUT
/// never deletes a pool). A profile for another outbound path is dropped
/// when the outbound type changes.
fn merge_update(live: &Map<String, Value>, request: Map<String, Value>) -> Map<String, Value> {
    let mut out = live.clone();
    for k in READ_ONLY {
        out.remove(*k);
    }
    for (k, v) in request {
        let merged = match (k.as_str(), out.get(&k), &v) {
            ("networkProfile" | "apiServerAccessProfile", Some(Value::Object(l)), Value::Object(r)) => {
                let mut m = l.clone();
                if k == "networkProfile"
                    && r.get("outboundType").is_some()
                    && r.get("outboundType") != l.get("outboundType")
                {
                    m.remove("loadBalancerProfile");
                    m.remove("natGatewayProfile");
                }
                for (rk, rv) in r {
                    m.insert(rk.clone(), rv.clone());
                }
                if let Some(Value::Object(lb)) = m.get_mut("loadBalancerProfile") {
                    lb.remove("effectiveOutboundIPs");
                }
                Value::Object(m)
            }
            ("agentPoolProfiles", Some(Value::Array(l)), Value::Array(r)) => {
                let name = |p: &Value| p.get("name").and_then(Value::as_str).map(str::to_ascii_lowercase);
                let mut pools: Vec<Value> = Vec::new();
                for req_pool in r {
                    let mut pool = l.iter().find(|lp| name(lp) == name(req_pool)).cloned().unwrap_or(json!({}));
                    if let (Value::Object(pm), Value::Object(rm)) = (&mut pool, req_pool) {
                        for ro in ["provisioningState", "currentOrchestratorVersion", "eTag", "powerState"] {
                            pm.remove(ro);
                        }
                        for (rk, rv) in rm {
                            pm.insert(rk.clone(), rv.clone());
                        }
                        // Turning the autoscaler off drops its bounds.
                        if rm.get("enableAutoScaling").and_then(Value::as_bool) == Some(false) {
                            for k in ["minCount", "maxCount"] {
                                if !rm.contains_key(k) {
                                    pm.remove(k);
                                }
                            }
                        }
                    }
                    pools.push(pool);
                }
                for lp in l {
                    if !pools.iter().any(|p| name(p) == name(lp)) {
                        pools.push(lp.clone());
                    }
                }
                Value::Array(pools)
            }
            _ => v,
        };
        out.insert(k, merged);
    }
    out
}

/// Stable 8-digit number AKS puts in node resource names, derived from the cluster ID.
fn node_suffix(id: &str) -> u32 {
    let h = id.to_ascii_lowercase().bytes().fold(0x811c_9dc5u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
    h % 100_000_000
}

#[allow(clippy::too_many_arguments)]
fn build_cluster(
    w: &World,
    id: &str,
    rg: &str,
    location: &str,
    tags: Option<Value>,
    body: &Map<String, Value>,
    mut props: Map<String, Value>,
    mut pools: Vec<Value>,
    e: &Egress<'_>,
    existing: Option<&Entry>,
) -> Value {
    let name = name_of(id);
    let keep = |k: &str| existing.and_then(|x| x.prop_str(k)).map(str::to_string);
    for k in READ_ONLY {
        props.remove(*k);
    }
    let version = k8s_version(&props);
    let dns_prefix = props
        .get("dnsPrefix")
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
        .map_or_else(|| format!("{name}-{rg}"), str::to_string);
    let state = if existing.is_some() { "Updating" } else { "Creating" };
    for p in pools.iter_mut() {
        if let Value::Object(o) = p {
            finish_pool(o, state);
        }
    }
    let old_pools = existing.map(pools_of).unwrap_or_default();
    assign_pool_etags(w, &old_pools, &mut pools);
    let mut network: Map<String, Value> =
        props.get("networkProfile").and_then(Value::as_object).cloned().unwrap_or_default();
    network.insert("networkPlugin".into(), json!(e.plugin));
    network.insert("outboundType".into(), json!(e.outbound));
    network.insert("loadBalancerSku".into(), json!(e.lb_sku));
    let service_cidr = network.get("serviceCidr").and_then(Value::as_str).unwrap_or("10.0.0.0/16").to_string();
    network.insert("serviceCidr".into(), json!(service_cidr));
    network.insert("serviceCidrs".into(), json!([service_cidr]));
    network.entry("dnsServiceIP").or_insert(json!("10.0.0.10"));
    network.entry("ipFamilies").or_insert(json!(["IPv4"]));
    if e.plugin == "kubenet" {
        let pod_cidr = network.get("podCidr").and_then(Value::as_str).unwrap_or("10.244.0.0/16").to_string();
        network.insert("podCidr".into(), json!(pod_cidr));
        network.insert("podCidrs".into(), json!([pod_cidr]));
    }
    let node_rg = props
        .get("nodeResourceGroup")
        .and_then(Value::as_str)
        .map_or_else(|| format!("MC_{rg}_{name}_{location}"), str::to_string);
    if e.outbound == "loadBalancer" {
        // Only the loadBalancer outbound type gets AKS-managed public IPs for egress; with
        // userDefinedRouting there is no outbound IP and no outbound rule at all.
        let mut lb = e.lb_profile.cloned().unwrap_or_default();
        let count = lb.get("managedOutboundIPs").and_then(|m| m.get("count")).and_then(Value::as_u64).unwrap_or(1);
        let explicit: Option<Vec<Value>> = ["outboundIPs", "outboundIPPrefixes"].iter().find_map(|k| {
            lb.get(*k).and_then(|o| o.as_object()).and_then(|o| o.values().next()).and_then(Value::as_array).cloned()
        });
        let effective = explicit.unwrap_or_else(|| {
            if !lb.contains_key("managedOutboundIPs") {
                lb.insert("managedOutboundIPs".into(), json!({ "count": count }));
            }
            (0..count)
                .map(|_| {
                    json!({ "id": format!(
                        "/subscriptions/{}/resourceGroups/{node_rg}/providers/Microsoft.Network/publicIPAddresses/{}",
                        id.split('/').nth(2).unwrap_or(""),
                        w.ids.guid()
                    ) })
                })
                .collect()
        });
        lb.insert("effectiveOutboundIPs".into(), Value::Array(effective));
        lb.entry("backendPoolType").or_insert(json!("NodeIPConfiguration"));
        network.insert("loadBalancerProfile".into(), Value::Object(lb));
    } else {
        network.remove("loadBalancerProfile");
    }
    // Secrets are write-only.
    if let Some(Value::Object(sp)) = props.get_mut("servicePrincipalProfile") {
        sp.remove("secret");
    }
    if let Some(Value::Object(wp)) = props.get_mut("windowsProfile") {
        wp.remove("adminPassword");
    }
    let identity_kind = e.identity.clone();
    if identity_kind != "None" {
        props.insert("servicePrincipalProfile".into(), json!({ "clientId": "msi" }));
    }

    let fqdn = keep("fqdn").unwrap_or_else(|| format!("{dns_prefix}-{}.hcp.{location}.azmk8s.io", &w.ids.guid()[..8]));
    let mut out = Map::new();
    out.insert("provisioningState".into(), json!(state));
    out.insert("powerState".into(), json!({ "code": "Running" }));
    out.insert("maxAgentPools".into(), json!(100));
    out.insert("kubernetesVersion".into(), json!(version));
    out.insert("currentKubernetesVersion".into(), json!(version));
    out.insert("dnsPrefix".into(), json!(dns_prefix));
    out.insert("fqdn".into(), json!(fqdn));
    out.insert("azurePortalFQDN".into(), json!(fqdn.replace(".hcp.", ".portal.hcp.")));
    out.insert("agentPoolProfiles".into(), Value::Array(pools));
    out.insert("nodeResourceGroup".into(), json!(node_rg));
    out.insert("enableRBAC".into(), props.get("enableRBAC").cloned().unwrap_or(json!(true)));
    out.insert("supportPlan".into(), props.get("supportPlan").cloned().unwrap_or(json!("KubernetesOfficial")));
    out.insert("networkProfile".into(), Value::Object(network));
    out.insert(
        "resourceUID".into(),
        json!(keep("resourceUID").unwrap_or_else(|| w.ids.opaque(1) + &w.ids.opaque(1)[..8])),
    );
    for (k, v) in props {
        out.entry(k).or_insert(v);
    }
    let mut cluster = json!({
        "id": id,
        "name": name,
        "type": CLUSTERS,
        "location": location,
        "eTag": w.ids.guid(),
        "sku": body.get("sku").cloned().unwrap_or(json!({ "name": "Base", "tier": "Free" })),
        "properties": Value::Object(out),
    });
    if let Some(t) = tags {
        cluster["tags"] = t;
    }
    match identity_kind.as_str() {
        "SystemAssigned" => {
            let (pid, tid) = existing
                .and_then(|x| x.body.get("identity"))
                .map(|i| (i.get("principalId").cloned(), i.get("tenantId").cloned()))
                .unwrap_or((None, None));
            cluster["identity"] = json!({
                "type": "SystemAssigned",
                "principalId": pid.unwrap_or_else(|| json!(w.ids.guid())),
                "tenantId": tid.unwrap_or_else(|| json!(w.ids.guid())),
            });
        }
        "UserAssigned" => {
            let mut uai = Map::new();
            if let Some(m) =
                body.get("identity").and_then(|i| i.get("userAssignedIdentities")).and_then(Value::as_object)
            {
                for k in m.keys() {
                    uai.insert(k.clone(), json!({ "clientId": w.ids.guid(), "principalId": w.ids.guid() }));
                }
            }
            cluster["identity"] = json!({ "type": "UserAssigned", "userAssignedIdentities": uai });
        }
        _ => {}
    }
    cluster
}

fn delete_cluster(w: &mut World, req: &Req, sub: &str, id: &str) -> HResult {
    let Some(existing) = w.store.get(id).cloned() else {
        check_preconditions(req, None)?;
        return Ok(Resp::empty(204));
    };
    check_preconditions(req, Some(&existing))?;
    check_cluster_conflict(w, &existing.id, "DeleteManagedCluster")?;
    w.set_state(&existing.id, "Deleting");
    let op = w.start_op(
        req,
        OpSpec {
            ns: Namespace::ContainerService,
            name: "DeleteManagedCluster",
            resource_id: existing.id.clone(),
            lock: existing.id.clone(),
            sub: sub.to_string(),
            location: existing.location().unwrap_or("westeurope").to_string(),
            completion: Completion::ClusterDeleted(existing.id.clone()),
            is_delete: true,
        },
    );
    Ok(w.lro_headers(Resp::empty(202), &op, true))
}

/// The ID of a cluster whose agent pools use `subnet_id`, if any.
pub(crate) fn cluster_using_subnet(w: &World, subnet_id: &str) -> Option<String> {
    w.store
        .all(Kind::ManagedCluster)
        .into_iter()
        .find(|c| {
            pools_of(c)
                .iter()
                .any(|p| p.get("vnetSubnetID").and_then(Value::as_str).is_some_and(|s| same_id(s, subnet_id)))
        })
        .map(|c| c.id.clone())
}

pub(crate) fn pools_of(c: &Entry) -> Vec<Value> {
    c.props().and_then(|p| p.get("agentPoolProfiles")).and_then(Value::as_array).cloned().unwrap_or_default()
}

/// Applies the end of a create/update: states, and for kubenet the per-node pod routes AKS
/// writes into the subnet's route table.
pub(crate) fn complete_write(w: &mut World, id: &str, _created: bool, ok: bool) {
    let state = if ok { "Succeeded" } else { "Failed" };
    w.set_state(id, state);
    if let Some(e) = w.store.get_mut(id) {
        if let Some(Value::Array(pools)) = e.props_mut().get_mut("agentPoolProfiles") {
            for p in pools {
                if let Value::Object(o) = p {
                    o.insert("provisioningState".into(), json!(state));
                }
            }
        }
    }
    if ok {
        refresh_pod_routes(w, id);
    }
}

/// Rewrites the kubenet pod routes of a cluster after its nodes changed.
pub(crate) fn refresh_pod_routes(w: &mut World, cluster_id: &str) {
    remove_pod_routes(w, cluster_id);
    write_pod_routes(w, cluster_id);
}

/// Applies the end of a delete: pod routes go, then the cluster.
pub(crate) fn complete_delete(w: &mut World, id: &str, ok: bool) {
    if ok {
        remove_pod_routes(w, id);
        w.store.remove_tree(id);
    } else {
        w.set_state(id, "Failed");
    }
}

fn remove_pod_routes(w: &mut World, cluster_id: &str) {
    let routes = w.pod_routes.remove(&cluster_id.to_ascii_lowercase()).unwrap_or_default();
    for r in routes {
        crate::network::remove(w, &r);
    }
}

/// Kubenet: one route per node, `addressPrefix` the node's /24 of the pod CIDR, next hop
/// the node's IP (Azure hands out subnet addresses from .4, the first four are reserved).
fn write_pod_routes(w: &mut World, cluster_id: &str) {
    let Some(cluster) = w.store.get(cluster_id).cloned() else {
        return;
    };
    let net = cluster.props().and_then(|p| p.get("networkProfile")).cloned().unwrap_or(Value::Null);
    if net.get("networkPlugin").and_then(Value::as_str) != Some("kubenet") {
        return;
    }
    let Some(pod_cidr) = net.get("podCidr").and_then(Value::as_str).and_then(|c| Cidr::parse(c).ok()) else {
        return;
    };
    let suffix = node_suffix(&cluster.id);
    let mut written = Vec::new();
    let mut node_index: u32 = 0;
    for pool in pools_of(&cluster) {
        let Some(subnet_id) = pool.get("vnetSubnetID").and_then(Value::as_str) else {
            continue;
        };
        let Some(subnet) = w.store.get(subnet_id).cloned() else {
            continue;
        };
        let Some(rt) = subnet_route_table(&subnet).map(str::to_string) else {
            continue;
        };
        if !w.store.contains(&rt) {
            continue;
        }
        let Some(subnet_cidr) =
            subnet.props().map(subnet_prefixes).and_then(|p| p.first().and_then(|c| Cidr::parse(c).ok()))
        else {
            continue;
        };
        let pname = pool.get("name").and_then(Value::as_str).unwrap_or("nodepool");
        let count = pool.get("count").and_then(Value::as_u64).unwrap_or(0);
        for i in 0..count {
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            let (Some(ip), Some(block)) = (subnet_cidr.nth(4 + i), pod_block(&pod_cidr, node_index)) else {
                break;
            };
            let node = format!("aks-{pname}-{suffix:08}-vmss{i:06}");
            let name = format!("{node}____{}", block.to_string().replace(['.', '/'], ""));
            crate::network::insert_route(w, &rt, &name, &block.to_string(), "VirtualAppliance", Some(&ip.to_string()));
            written.push(format!("{rt}/routes/{name}"));
            node_index += 1;
        }
    }
    if !written.is_empty() {
        w.pod_routes.insert(cluster.id.to_ascii_lowercase(), written);
    }
}

/// The `n`th /24 of the pod CIDR (AKS gives each kubenet node a /24).
fn pod_block(pod: &Cidr, n: u32) -> Option<Cidr> {
    if pod.len > 24 {
        return None;
    }
    let blocks = 1u64 << (24 - u32::from(pod.len));
    if u64::from(n) >= blocks {
        return None;
    }
    let base = u32::from(pod.network()) + (n << 8);
    Some(Cidr { addr: Ipv4Addr::from(base), len: 24 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_blocks() -> Result<(), crate::cidr::CidrError> {
        let pod = Cidr::parse("10.244.0.0/16")?;
        assert_eq!(pod_block(&pod, 0).map(|c| c.to_string()).as_deref(), Some("10.244.0.0/24"));
        assert_eq!(pod_block(&pod, 3).map(|c| c.to_string()).as_deref(), Some("10.244.3.0/24"));
        assert_eq!(pod_block(&pod, 256), None);
        assert!(node_suffix("/a") < 100_000_000);
        Ok(())
    }
}
