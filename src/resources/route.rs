//! `aksudr_route`: any other route, such as the firewall's public IP `/32`
//! with next hop `Internet` from Azure's firewall tutorial, or a service tag.

use super::route_common::RouteResource;
use super::{id_attribute, route_name_attribute, route_next_hop_ip_attribute, route_table_id_attribute};
use crate::rules::enums::NEXT_HOP_TYPES;
use crate::rules::route::RouteKind;
use crate::tf::schema::{Attribute, Block, Schema};

pub const TYPE_NAME: &str = "aksudr_route";

/// The schema of this route type.
fn schema() -> Schema {
    let block = Block::new(
        "A route in a route table, for anything other than the firewall default route — for example the \
             firewall's public IP `/32` with next hop `Internet`. A default route (`0.0.0.0/0` or `::/0`) must \
             go to a `VirtualAppliance` or `VirtualNetworkGateway`: AKS rejects a default route to `Internet`.",
    )
    .attr(id_attribute("route"))
    .attr(route_name_attribute())
    .attr(route_table_id_attribute("route"))
    .attr(
        Attribute::string(
            "address_prefix",
            "The destination: an IPv4 or IPv6 CIDR such as `20.1.2.3/32`, or an Azure service tag such as \
                 `AzureCloud`. Updated in place.",
        )
        .required(),
    )
    .attr(
        Attribute::string(
            "next_hop_type",
            "Where the traffic goes: `VirtualNetworkGateway`, `VnetLocal`, `Internet`, `VirtualAppliance` \
                 or `None` (drop). Matched case-insensitively. Updated in place.",
        )
        .required()
        .one_of(NEXT_HOP_TYPES),
    )
    .attr(route_next_hop_ip_attribute())
    .block(super::route_common::TIMEOUTS.block());
    Schema::new(0, block)
}

/// The `{TYPE_NAME}` resource.
pub fn resource() -> RouteResource {
    RouteResource::new(RouteKind::General, TYPE_NAME, schema())
}
