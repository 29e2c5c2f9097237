//! `aksudr_firewall_route`: the route that sends a subnet's egress to the
//! firewall or NVA — by default `0.0.0.0/0` to a `VirtualAppliance`.

use async_trait::async_trait;

use super::{
    check_route_config, id_attribute, route_common, route_name_attribute, route_next_hop_ip_attribute,
    route_table_id_attribute, timeouts_block,
};
use crate::provider::ProviderData;
use crate::rules::enums::FIREWALL_NEXT_HOP_TYPES;
use crate::rules::route::RouteKind;
use crate::tf::diag::Diagnostics;
use crate::tf::resource::{ApplyOutcome, Import, Resource};
use crate::tf::schema::{Attribute, Block, Schema};
use crate::tf::value::Value;

pub const TYPE_NAME: &str = "aksudr_firewall_route";

pub struct FirewallRouteResource {
    schema: Schema,
}

impl FirewallRouteResource {
    pub fn new() -> Self {
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
        .block(timeouts_block("30m", "5m", "30m", "30m"));
        FirewallRouteResource { schema: Schema::new(0, block) }
    }
}

impl Default for FirewallRouteResource {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Resource<ProviderData> for FirewallRouteResource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    fn validate(&self, config: &Value) -> Diagnostics {
        check_route_config(RouteKind::Firewall, config)
    }

    async fn create(&self, data: &ProviderData, planned: &Value, _config: &Value) -> ApplyOutcome {
        route_common::create(RouteKind::Firewall, data, planned).await
    }

    async fn read(&self, data: &ProviderData, state: &Value) -> Result<Option<Value>, Diagnostics> {
        route_common::read(data, state).await
    }

    async fn update(&self, data: &ProviderData, prior: &Value, planned: &Value, _config: &Value) -> ApplyOutcome {
        route_common::update(RouteKind::Firewall, data, prior, planned).await
    }

    async fn delete(&self, data: &ProviderData, prior: &Value) -> Diagnostics {
        route_common::delete(data, prior).await
    }

    fn importer(&self) -> Option<&dyn Import<ProviderData>> {
        Some(self)
    }
}

#[async_trait]
impl Import<ProviderData> for FirewallRouteResource {
    async fn import(&self, data: &ProviderData, id: &str) -> Result<Value, Diagnostics> {
        route_common::import(RouteKind::Firewall, data, id).await
    }
}
