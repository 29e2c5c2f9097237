//! `aksudr_subnet_route_table_association`: attaches a route table to an
//! existing subnet (the AKS subnet), touching nothing else on the subnet.

use async_trait::async_trait;

use super::{check_subnet_id, route_table_id_attribute, timeouts_block};
use crate::provider::ProviderData;
use crate::tf::resource::Resource;
use crate::tf::schema::{case_insensitive, Attribute, Block, Schema};

pub const TYPE_NAME: &str = "aksudr_subnet_route_table_association";

pub struct AssociationResource {
    schema: Schema,
}

impl AssociationResource {
    pub fn new() -> Self {
        let block = Block::new(
            "Associates a route table with an existing subnet. Only the subnet's route table reference is \
             changed; every other subnet setting is kept. A subnet that already uses a different route table \
             is not taken over silently.",
        )
        .attr(Attribute::string("id", "The ID of the association: the subnet's ARM ID.").computed().stable())
        .attr(
            Attribute::string(
                "subnet_id",
                "The ARM ID of the existing subnet (for AKS, the node pool's subnet). Changing it forces \
                 replacement.",
            )
            .required()
            .forces_replacement()
            .equivalent(case_insensitive)
            .check(check_subnet_id),
        )
        .attr(route_table_id_attribute("association"))
        .block(timeouts_block("30m", "5m", "30m", "30m"));
        AssociationResource { schema: Schema::new(0, block) }
    }
}

impl Default for AssociationResource {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Resource<ProviderData> for AssociationResource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
}
