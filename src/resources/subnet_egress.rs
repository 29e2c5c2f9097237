//! A subnet's egress as the UDR checks see it, for the cluster and for node
//! pools alike: its route table and routes read from live ARM, or as the
//! current plan leaves them (`rules::projection` overlaid on live ARM), and
//! when a finding is final (after the plan settles; before a write, once
//! this run's other changes are done).

use std::future::Future;
use std::time::Duration;

use crate::arm::ids::{RouteTableId, SubnetId};
use crate::arm::{ArmClient, ArmError, NETWORK_API_VERSION as NET_API};
use crate::context::ProviderData;
use crate::log;
use crate::rules::egress::{check_subnet_egress, LiveRoute, LiveRouteTable, SUBNET_PATH};
use crate::rules::projection::{subnet_table_after, SubnetTable, Verdict};
use crate::tf::diag::Diagnostics;

/// Reads the subnet's route table and routes from ARM; `Ok(None)` when the
/// subnet itself does not exist (yet).
pub(crate) async fn live_route_table(
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
pub(crate) fn live_routes(table: &serde_json::Value) -> Vec<LiveRoute> {
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

/// The subnet's route table and routes as this plan leaves them: Azure's
/// current state read where the plan does not decide it, overlaid with the
/// plan's own changes.
pub(crate) async fn projected_route_table(
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
    if uncertain && !check_subnet_egress(&subnet, Some(&table), SUBNET_PATH).is_empty() {
        return Ok(Verdict::Undecided(format!("a route of {table_id} is known only at apply")));
    }
    Ok(Verdict::Known(Some(table)))
}

/// How long this provider's RPCs must have been quiet before a failing
/// plan-time egress check is final: long enough for Terraform to start the
/// plans that were waiting on the ones just finished (see
/// `tf::activity`), short enough not to matter on a plan that fails.
const PLAN_SETTLE: Duration = Duration::from_secs(2);

/// The longest a plan-time check waits for the plan to settle: a plan kept
/// busy longer (throttled reads, thousands of resources) is judged on what
/// it has planned by then.
const SETTLE_AT_MOST: Duration = Duration::from_secs(120);

/// The least time between two looks of a check before a write: every RPC
/// starting or ending wakes it, and each look reads Azure.
const LOOK_AT_MOST_EVERY: Duration = Duration::from_secs(1);

/// How long the check before a write waits, after this provider's last
/// other RPC, for egress this run is still writing (a route or association
/// the cluster or pool was not ordered after).
const APPLY_SETTLE: Duration = Duration::from_secs(60);

/// How often the subnet is read again while the check before a write waits.
const APPLY_POLL: Duration = Duration::from_secs(5);

/// A plan-time check: its diagnostics, and whether they include a finding
/// on the subnet's egress (which a change planned later may settle).
pub(crate) struct Finding {
    pub diags: Diagnostics,
    pub egress: bool,
}

/// Runs a plan-time egress check until its verdict is final. Terraform
/// plans what the cluster or pool does not depend on concurrently with it,
/// in no set order, so a finding may be about a route or association this
/// plan has not reached yet: it is final only once this provider's other
/// RPCs have been quiet for `PLAN_SETTLE`, so every run of one
/// configuration gets the same verdict. In an apply walk (Terraform plans
/// each resource again right before applying it) a finding is left to the
/// check before the write, which waits for this run's changes: the plan
/// already judged this configuration.
pub(crate) async fn settled<F, Fut>(data: &ProviderData, timeout: Duration, what: &str, check: F) -> Diagnostics
where
    F: Fn(tokio::time::Instant) -> Fut,
    Fut: Future<Output = Finding>,
{
    let first = check(tokio::time::Instant::now() + timeout).await;
    if !first.egress {
        return first.diags;
    }
    let deferred = || {
        log::info!("egress not in place yet while applying; the check before the write waits for it", of = what);
        Diagnostics::new()
    };
    if data.activity.applying() {
        return deferred();
    }
    log::info!("plan-time egress check failing on what is planned so far; waiting for the rest of the plan", of = what);
    data.activity.wait_quiet(PLAN_SETTLE, tokio::time::Instant::now() + SETTLE_AT_MOST).await;
    let last = check(tokio::time::Instant::now() + timeout).await;
    if last.egress && data.activity.applying() {
        return deferred();
    }
    last.diags
}

/// Why a check before a write refused.
pub(crate) enum Refusal {
    /// The configuration breaks a rule, or Azure could not be asked: final.
    Final(Diagnostics),
    /// The subnet's egress, as Azure has it now, is not ready (or Azure
    /// could not be read for now): this run may still be writing it.
    Egress(Diagnostics),
}

impl Refusal {
    /// A failed read: final unless transient, which is looked at again.
    pub(crate) fn of_read(e: crate::arm::ArmError, diags: impl FnOnce(crate::arm::ArmError) -> Diagnostics) -> Self {
        if e.is_transient() {
            Refusal::Egress(diags(e))
        } else {
            Refusal::Final(diags(e))
        }
    }
}

/// Runs the check before a write. Egress that is not ready yet is looked at
/// again every `APPLY_POLL` while this provider is still applying other
/// changes (the route or association may be one of them), up to
/// `APPLY_SETTLE` after the last one ended, and never past `until`; each
/// look reads Azure, which notices Ctrl-C.
pub(crate) async fn waiting_for_egress<F, Fut>(
    data: &ProviderData,
    until: tokio::time::Instant,
    what: &str,
    check: F,
) -> Result<(), Diagnostics>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<(), Refusal>>,
{
    let started = tokio::time::Instant::now();
    let mut logged: Option<tokio::time::Instant> = None;
    // This apply's own RPC is not the activity waited for.
    let _waiting = data.activity.waiting();
    loop {
        let diags = match check().await {
            Ok(()) => return Ok(()),
            Err(Refusal::Final(d)) => d,
            Err(Refusal::Egress(d)) => {
                let now = tokio::time::Instant::now();
                if now + APPLY_POLL < until && data.activity.busy_within(APPLY_SETTLE, started) {
                    if logged.is_none_or(|l| now.duration_since(l) >= Duration::from_secs(30)) {
                        logged = Some(now);
                        log::info!(
                            "the subnet's egress is not ready; waiting for this run's other changes",
                            of = what,
                            waited_s = now.duration_since(started).as_secs(),
                            summary = d.0.first().map(|x| x.summary.clone()).unwrap_or_default()
                        );
                    }
                    tokio::time::sleep(LOOK_AT_MOST_EVERY).await;
                    data.activity.wait_change(APPLY_POLL - LOOK_AT_MOST_EVERY).await;
                    continue;
                }
                d
            }
        };
        log::warn!("precheck failed; nothing was sent to AKS", of = what, errors = diags.0.len());
        return Err(diags);
    }
}
