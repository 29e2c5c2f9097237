//! `aksudr_route_table`: the route table that the AKS subnet uses. Routes are
//! separate resources; routes nobody here manages (AKS's kubenet pod routes,
//! other teams' routes) are never removed and never shown as drift.

use async_trait::async_trait;

use super::{
    check_network_name, id_attribute, location_attribute, resource_group_attribute, tags_attribute, timeouts_block,
};
use crate::provider::ProviderData;
use crate::tf::resource::Resource;
use crate::tf::schema::{Attribute, Block, Schema};
use crate::tf::value::Value;

pub const TYPE_NAME: &str = "aksudr_route_table";

pub struct RouteTableResource {
    schema: Schema,
}

impl RouteTableResource {
    pub fn new() -> Self {
        let block = Block::new(
            "A route table for an AKS subnet. Declare routes with `aksudr_firewall_route` and `aksudr_route`; \
             routes created by others (such as AKS's kubenet pod routes) are kept and not reported as drift.",
        )
        .attr(id_attribute("route table"))
        .attr(
            Attribute::string("name", "The route table's name. Changing it forces replacement.")
                .required()
                .forces_replacement()
                .check(check_network_name),
        )
        .attr(resource_group_attribute("route table"))
        .attr(location_attribute("route table"))
        .attr(
            Attribute::bool(
                "bgp_route_propagation_enabled",
                "Whether routes learned by BGP (from a VPN or ExpressRoute gateway) are propagated to the \
                 subnets. Default true. A BGP-learned default route never satisfies AKS's UDR requirement: \
                 keep an explicit 0.0.0.0/0 route to the firewall.",
            )
            .default(Value::Bool(true)),
        )
        .attr(tags_attribute())
        .attr(
            Attribute::string_set("subnet_ids", "The IDs of the subnets associated with this route table.")
                .computed()
                .stable(),
        )
        .block(timeouts_block("30m", "5m", "30m", "30m"));
        RouteTableResource { schema: Schema::new(0, block) }
    }
}

impl Default for RouteTableResource {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Resource<ProviderData> for RouteTableResource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
}
