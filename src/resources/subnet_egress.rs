//! A subnet's egress as the UDR checks see it, for the cluster and for node
//! pools alike: its route table and routes read from live ARM, or as the
//! current plan leaves them (`rules::projection` overlaid on live ARM).

use crate::arm::ids::{RouteTableId, SubnetId};
use crate::arm::{ArmClient, ArmError, NETWORK_API_VERSION as NET_API};
use crate::context::ProviderData;
use crate::rules::egress::{check_subnet_egress, LiveRoute, LiveRouteTable, SUBNET_PATH};
use crate::rules::projection::{subnet_table_after, SubnetTable, Verdict};

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
