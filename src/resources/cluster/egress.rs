//! The cluster subnet's egress, checked against live ARM: at plan on the
//! network as the plan leaves it (`rules::projection`), and right before a
//! write that AKS validates (the precheck, which sends nothing on failure).

use super::*;
use crate::resources::subnet_egress::{settled, waiting_for_egress, Finding, Refusal};

/// The hint for a route or association that the same apply creates: nothing
/// orders them before the cluster unless the configuration says so.
pub(super) const ORDERING_HINT: &str = "If the route table, the route or the association is created in this same apply, \
     Terraform may have started the cluster before them. Reference them from the cluster so that egress is in \
     place first:\n  default_node_pool {\n    vnet_subnet_id = aksudr_subnet_route_table_association.<name>.subnet_id\n  \
     }\n  network_profile {\n    egress_route_id = aksudr_firewall_route.<name>.id\n  }\n(or add both resources to \
     the cluster's depends_on).";

/// R9 on the declared `egress_route_id`.
fn check_declared_route(subnet_id: &str, table: &LiveRouteTable, route: &RouteId) -> Diagnostics {
    let table_id = route.table().to_string();
    check_egress_route(subnet_id, table, &DeclaredRoute { table_id: &table_id, name: &route.name })
}

/// Every rule, on the configuration and on live ARM, right before a write
/// that AKS would validate; errors mean nothing is sent. Egress that this
/// run is still writing is waited for (`subnet_egress::waiting_for_egress`).
pub(super) async fn precheck(
    data: &ProviderData,
    planned: &Value,
    until: tokio::time::Instant,
) -> Result<(), Diagnostics> {
    waiting_for_egress(data, until, "cluster", || precheck_once(&data.arm, planned, until)).await
}

/// One look: the rules, then the live subnet.
async fn precheck_once(arm: &ArmClient, planned: &Value, until: tokio::time::Instant) -> Result<(), Refusal> {
    let mut spec = cluster_spec(planned);
    // In a plan an autoscaled pool's count is the prior one, not the user's
    // (R11 judges the configured count at validate).
    spec.default_pool_scale.node_count = Input::Null;
    let diags = check_cluster(&spec);
    if diags.has_errors() {
        return Err(Refusal::Final(diags));
    }
    let mut diags = Diagnostics::new();
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
                for mut d in check_subnet_egress(&subnet_id, table.as_ref(), SUBNET_PATH).0 {
                    d.detail = format!("{}\n\n{ORDERING_HINT}", d.detail);
                    diags.push(d);
                }
                if let (Some(table), Some(route)) = (table.as_ref(), egress_route(planned)) {
                    diags.extend(check_declared_route(&subnet_id, table, &route));
                }
            }
            Err(e) => {
                return Err(Refusal::of_read(e, |e| {
                    arm_error("checking the cluster subnet's egress before writing the cluster", e)
                }))
            }
        }
    }
    if diags.has_errors() {
        return Err(Refusal::Egress(diags));
    }
    Ok(())
}

/// What to do when the plan-time check fails although the configuration
/// means to fix the subnet, and how to leave a configuration whose cluster
/// cannot be planned.
pub(super) const PLAN_HINT: &str =
    "This was checked while planning, on Azure's current network overlaid with the route \
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
/// It is final once the plan settles (`subnet_egress::settled`).
pub(super) async fn plan_check(data: &ProviderData, subnet_id: &str, planned: &Value) -> Diagnostics {
    let timeout = TIMEOUTS.duration(planned, Op::Read);
    settled(data, timeout, "cluster", |until| plan_check_once(data, subnet_id, planned, until)).await
}

/// One plan-time look; also says whether it found the egress not ready.
async fn plan_check_once(
    data: &ProviderData,
    subnet_id: &str,
    planned: &Value,
    until: tokio::time::Instant,
) -> Finding {
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
            let mut diags = check_subnet_egress(subnet_id, table.as_ref(), SUBNET_PATH);
            if let (Some(table), Some(route)) = (table.as_ref(), egress_route(planned)) {
                diags.extend(check_declared_route(subnet_id, table, &route));
            }
            let pending = data.projection().unknown_targets().to_vec();
            if diags.has_errors() && !pending.is_empty() {
                log::info!(
                    "plan-time egress check undecided: changes with targets known only at apply",
                    subnet = subnet_id,
                    pending = pending.join("; ")
                );
                return Finding { diags: Diagnostics::new(), egress: false };
            }
            let egress = diags.has_errors();
            for d in &mut diags.0 {
                d.detail = format!("{}\n\n{PLAN_HINT}", d.detail);
            }
            Finding { diags, egress }
        }
        Ok(Verdict::Undecided(why)) => {
            log::info!(
                "plan-time egress check undecided; it runs again before the cluster is written",
                subnet = subnet_id,
                why = why
            );
            Finding { diags: Diagnostics::new(), egress: false }
        }
        Err(e) => Finding {
            diags: super::super::plan_read_failed(
                "check the cluster subnet's egress",
                "The check runs again right before the cluster is written.",
                e,
                "default_node_pool[0].vnet_subnet_id",
            ),
            egress: false,
        },
    }
}

/// Whether the declared egress route exists in Azure or is planned here.
pub(super) async fn declared_route_known(
    data: &ProviderData,
    route: &RouteId,
    until: tokio::time::Instant,
) -> Result<bool, ArmError> {
    // Planned here (created, changed or deleted): the check sees it.
    if data.projection().touches_route(&route.table().to_string(), &route.name) {
        return Ok(true);
    }
    Ok(data.arm.get(&route.to_string(), NET_API, until).await?.is_some())
}
