//! `aksudr_firewall_route`: the route that sends a subnet's egress to the
//! firewall or NVA — by default `0.0.0.0/0` to a `VirtualAppliance`.

use super::route_common::RouteResource;
use super::{id_attribute, route_name_attribute, route_next_hop_ip_attribute, route_table_id_attribute};
use crate::rules::enums::FIREWALL_NEXT_HOP_TYPES;
use crate::rules::route::RouteKind;
use crate::tf::schema::{Attribute, Block, Schema};
use crate::tf::value::Value;

pub const TYPE_NAME: &str = "aksudr_firewall_route";

/// The schema of this route type.
fn schema() -> Schema {
    let block = Block::new(
        "The route that sends egress to the firewall or network virtual appliance: by default \
             `0.0.0.0/0` to a `VirtualAppliance` at `next_hop_in_ip_address` (the firewall's private IP). \
             AKS with `outbound_type = \"userDefinedRouting\"` requires exactly such a route on its subnet's \
             route table.",
    )
    .attr(id_attribute("route"))
    .attr(route_name_attribute())
    .attr(route_table_id_attribute("route"))
    .attr(
        Attribute::string(
            "address_prefix",
            "The destination CIDR. Default `0.0.0.0/0` (all egress). Updated in place.",
        )
        .default(Value::string("0.0.0.0/0")),
    )
    .attr(
        Attribute::string(
            "next_hop_type",
            "Where the traffic goes: `VirtualAppliance` (default; the firewall or NVA at \
                 `next_hop_in_ip_address`) or `VirtualNetworkGateway`. Matched case-insensitively. \
                 Updated in place.",
        )
        .default(Value::string("VirtualAppliance"))
        .one_of(FIREWALL_NEXT_HOP_TYPES),
    )
    .attr(route_next_hop_ip_attribute())
    .block(super::route_common::TIMEOUTS.block());
    Schema::new(0, block)
}

/// The `{TYPE_NAME}` resource.
pub fn resource() -> RouteResource {
    RouteResource::new(RouteKind::Firewall, TYPE_NAME, schema())
}
