//! A pool's subnet checked against its cluster (R12, R13 and the egress
//! check on the subnet's route table): at plan on the network as the plan
//! leaves it, and against live ARM right before the pool PUT, which sends
//! nothing when it fails.

use super::*;
use crate::resources::subnet_egress::{
    live_route_table, projected_route_table, settled, waiting_for_egress, Finding, Refusal,
};
use crate::rules::egress::LiveRouteTable;
use crate::rules::pool::{check_pool_network, paths, PoolCluster, PoolSubnet};
use crate::rules::projection::{PlannedCluster, Verdict};
use crate::rules::Input;
use crate::tf::diag::AttributePath;
use crate::{arm::ArmError, log};

/// How to order a pool after the egress it needs.
const ORDERING_HINT: &str = "If the pool's route table, default route or subnet association is created in this same \
     apply, reference it from the pool so that it is in place first:\n  vnet_subnet_id = \
     aksudr_subnet_route_table_association.<name>.subnet_id\n(or add it to the pool's depends_on).";

/// What to do when the plan-time check fails although the configuration
/// means to fix the subnet.
const PLAN_HINT: &str = "This was checked while planning, on Azure's current network overlaid with the route tables, \
     routes and associations this plan changes before the pool, that is those the pool depends on (by reference or \
     depends_on):\n  vnet_subnet_id = aksudr_subnet_route_table_association.<name>.subnet_id\nTo destroy the rest \
     of this configuration while the pool cannot be planned, run\n  terraform destroy -refresh=false";

/// The cluster's network as ARM has it: the default (system) pool's subnet
/// stands for the cluster's.
fn cluster_from_arm(arm: &serde_json::Value) -> PlannedCluster {
    let text = |p: &str| arm.pointer(p).and_then(|v| v.as_str()).map(str::to_string);
    let pools = arm.pointer("/properties/agentPoolProfiles").and_then(|p| p.as_array()).cloned().unwrap_or_default();
    let is_system = |p: &&serde_json::Value| {
        p.get("mode").and_then(|m| m.as_str()).is_some_and(|m| m.eq_ignore_ascii_case("System"))
    };
    let subnet = pools
        .iter()
        .filter(|p| p.get("vnetSubnetID").is_some())
        .find(is_system)
        .or_else(|| pools.iter().find(|p| p.get("vnetSubnetID").is_some()))
        .and_then(|p| p.get("vnetSubnetID").and_then(|s| s.as_str()).map(str::to_string));
    PlannedCluster {
        // ARM's default when a cluster has no network profile.
        outbound_type: Input::Known(
            text("/properties/networkProfile/outboundType").unwrap_or_else(|| "loadBalancer".into()),
        ),
        network_plugin: Input::Known(
            text("/properties/networkProfile/networkPlugin").unwrap_or_else(|| "kubenet".into()),
        ),
        subnet_id: subnet.map_or(Input::Null, Input::Known),
    }
}

fn undecided(why: &str) -> Finding {
    log::info!("plan-time node pool subnet check undecided; it runs again before the pool is written", why = why);
    Finding { diags: Diagnostics::new(), egress: false }
}

fn could_not_check(e: ArmError) -> Finding {
    let diags = super::super::plan_read_failed(
        "check the node pool's subnet",
        "The check runs again right before the pool is written.",
        e,
        paths::VNET_SUBNET_ID,
    );
    Finding { diags, egress: false }
}

/// The plan-time check: a definite finding fails the plan; what cannot be
/// decided at plan (values known only at apply, a cluster not in Azure nor
/// in this plan) or not looked at (Azure unreachable) is left to the check
/// before the pool PUT.
pub(super) async fn plan_check(data: &ProviderData, planned: &Value) -> Diagnostics {
    let timeout = TIMEOUTS.duration(planned, Op::Read);
    settled(data, timeout, "node pool", |until| plan_check_once(data, planned, until)).await
}

/// One plan-time look; see [`plan_check`].
async fn plan_check_once(data: &ProviderData, planned: &Value, until: tokio::time::Instant) -> Finding {
    let Some(cluster_id) = str_attr(planned, "cluster_id").and_then(|c| ManagedClusterId::parse_insensitive(c).ok())
    else {
        return undecided("the cluster ID is known only at apply");
    };
    let cluster_id = cluster_id.to_string();
    let planned_cluster = data.projection().planned_cluster(&cluster_id).cloned();
    let cluster = match planned_cluster {
        Some(c) => c,
        None => match data.arm.get(&cluster_id, AKS_API, until).await {
            Ok(Some(c)) => cluster_from_arm(&c),
            Ok(None) => return undecided("the cluster is neither in Azure nor in this plan"),
            Err(e) => return could_not_check(e),
        },
    };
    let (Some(outbound), Some(plugin)) = (cluster.outbound_type.known(), cluster.network_plugin.known()) else {
        return undecided("the cluster's network is known only at apply");
    };
    let pool_subnet = match input_str(planned, "vnet_subnet_id") {
        Input::Known(s) => Some(s),
        Input::Null => None,
        Input::Unknown => return undecided("the pool's subnet is known only at apply"),
    };
    let pool_table = match &pool_subnet {
        None => None,
        Some(s) => match projected_route_table(data, s, until).await {
            Ok(Verdict::Known(t)) => Some(t),
            Ok(Verdict::Undecided(why)) => {
                log::info!("pool subnet's route table undecided at plan", why = why);
                None
            }
            Err(e) => return could_not_check(e),
        },
    };
    let cluster_subnet = cluster.subnet_id.known().cloned();
    let cluster_table = match (&cluster_subnet, plugin.eq_ignore_ascii_case("kubenet")) {
        (Some(s), true) => match projected_route_table(data, s, until).await {
            Ok(Verdict::Known(Some(t))) => Some(t.id),
            Ok(_) => None,
            Err(e) => return could_not_check(e),
        },
        _ => None,
    };
    let network = PoolCluster {
        outbound_type: outbound.clone(),
        network_plugin: plugin.clone(),
        subnet_id: cluster_subnet,
        subnet_table: cluster_table,
    };
    let subnet = pool_subnet.as_deref().map(|id| PoolSubnet { id, table: pool_table.as_ref().map(Option::as_ref) });
    let mut diags = check_pool_network(subnet, &network);
    let pending = data.projection().unknown_targets().to_vec();
    if diags.has_errors() && !pending.is_empty() {
        return undecided(&format!("changes with targets known only at apply: {}", pending.join("; ")));
    }
    let egress = diags.has_errors();
    for d in &mut diags.0 {
        d.detail = format!("{}\n\n{PLAN_HINT}", d.detail);
    }
    Finding { diags, egress }
}

/// Every pool rule on the plan and on live ARM, right before the pool PUT;
/// errors mean nothing is sent.
/// Egress this run is still writing is waited for
/// (`subnet_egress::waiting_for_egress`).
pub(super) async fn precheck(
    data: &ProviderData,
    planned: &Value,
    until: tokio::time::Instant,
) -> Result<(), Diagnostics> {
    waiting_for_egress(data, until, "node pool", || precheck_once(data, planned, until)).await
}

/// One look: the rules, the cluster and the subnets as Azure has them.
async fn precheck_once(data: &ProviderData, planned: &Value, until: tokio::time::Instant) -> Result<(), Refusal> {
    let fail = |d: Diagnostics| Refusal::Final(d);
    let mut diags = check_pool(&pool_spec(planned, false));
    let action = "checking the node pool's subnet before writing the pool";
    let cluster_id = str_attr(planned, "cluster_id").unwrap_or_default();
    let cluster = match ManagedClusterId::parse_insensitive(cluster_id) {
        Ok(id) => data
            .arm
            .get(&id.to_string(), AKS_API, until)
            .await
            .map_err(|e| Refusal::of_read(e, |e| arm_error(action, e)))?,
        Err(e) => return Err(fail(Diagnostic::error("Invalid cluster ID", e.to_string()).into())),
    };
    let Some(cluster) = cluster else {
        return Err(fail(
            Diagnostic::error(
                "Cluster not found",
                format!("The cluster {cluster_id} does not exist; a node pool is added to an existing cluster."),
            )
            .at(AttributePath::root("cluster_id"))
            .into(),
        ));
    };
    let cluster = cluster_from_arm(&cluster);
    let outbound = cluster.outbound_type.known().cloned().unwrap_or_default();
    let plugin = cluster.network_plugin.known().cloned().unwrap_or_default();
    let cluster_subnet = cluster.subnet_id.known().cloned();
    let pool_subnet = str_attr(planned, "vnet_subnet_id");
    let mut pool_table: Option<Option<LiveRouteTable>> = None;
    if let Some(s) = pool_subnet {
        match live_route_table(&data.arm, s, until).await.map_err(|e| Refusal::of_read(e, |e| arm_error(action, e)))? {
            Some(t) => pool_table = Some(t),
            None => diags.push(
                Diagnostic::error(
                    "Node pool subnet does not exist",
                    format!("The subnet {s} was not found. A node pool goes into an existing subnet."),
                )
                .at(AttributePath::root("vnet_subnet_id")),
            ),
        }
    }
    let mut cluster_table = None;
    if let (Some(s), true) = (&cluster_subnet, plugin.eq_ignore_ascii_case("kubenet")) {
        if let Some(Some(t)) =
            live_route_table(&data.arm, s, until).await.map_err(|e| Refusal::of_read(e, |e| arm_error(action, e)))?
        {
            cluster_table = Some(t.id);
        }
    }
    let network = PoolCluster {
        outbound_type: outbound,
        network_plugin: plugin,
        subnet_id: cluster_subnet,
        subnet_table: cluster_table,
    };
    if diags.has_errors() {
        return Err(fail(diags));
    }
    if pool_subnet.is_none() || pool_table.is_some() {
        let subnet = pool_subnet.map(|id| PoolSubnet { id, table: pool_table.as_ref().map(Option::as_ref) });
        for mut d in check_pool_network(subnet, &network).0 {
            d.detail = format!("{}\n\n{ORDERING_HINT}", d.detail);
            diags.push(d);
        }
    }
    if diags.has_errors() {
        return Err(Refusal::Egress(diags));
    }
    Ok(())
}
