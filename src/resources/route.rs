//! `aksudr_route`: any other route, such as the firewall's public IP `/32`
//! with next hop `Internet` from Azure's firewall tutorial, or a service tag.

use async_trait::async_trait;

use super::{
    check_route_config, id_attribute, route_common, route_name_attribute, route_next_hop_ip_attribute,
    route_table_id_attribute, timeouts_block,
};
use crate::provider::ProviderData;
use crate::rules::enums::NEXT_HOP_TYPES;
use crate::rules::route::RouteKind;
use crate::tf::diag::Diagnostics;
use crate::tf::resource::{ApplyOutcome, Import, Resource};
use crate::tf::schema::{Attribute, Block, Schema};
use crate::tf::value::Value;

pub const TYPE_NAME: &str = "aksudr_route";

pub struct RouteResource {
    schema: Schema,
}

impl RouteResource {
    pub fn new() -> Self {
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
        .block(timeouts_block("30m", "5m", "30m", "30m"));
        RouteResource { schema: Schema::new(0, block) }
    }
}

impl Default for RouteResource {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Resource<ProviderData> for RouteResource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    fn validate(&self, config: &Value) -> Diagnostics {
        check_route_config(RouteKind::General, config)
    }

    async fn create(&self, data: &ProviderData, planned: &Value, _config: &Value) -> ApplyOutcome {
        route_common::create(RouteKind::General, data, planned).await
    }

    async fn read(&self, data: &ProviderData, state: &Value) -> Result<Option<Value>, Diagnostics> {
        route_common::read(data, state).await
    }

    async fn update(&self, data: &ProviderData, prior: &Value, planned: &Value, _config: &Value) -> ApplyOutcome {
        route_common::update(RouteKind::General, data, prior, planned).await
    }

    async fn delete(&self, data: &ProviderData, prior: &Value) -> Diagnostics {
        route_common::delete(data, prior).await
    }

    fn importer(&self) -> Option<&dyn Import<ProviderData>> {
        Some(self)
    }
}

#[async_trait]
impl Import<ProviderData> for RouteResource {
    async fn import(&self, data: &ProviderData, id: &str) -> Result<Value, Diagnostics> {
        route_common::import(RouteKind::General, data, id).await
    }
}
