//! The registry of resource types, data sources and ephemeral resources,
//! one file each; the helpers they share have files of their own
//! (`attributes`, `values`, `outcome`), re-exported here.

mod aks_write;
mod attributes;
pub mod cluster;
pub mod cluster_credentials;
pub mod egress_requirements_data;
pub mod firewall_route;
pub mod node_pool;
mod outcome;
#[cfg(test)]
mod properties;
pub mod route;
mod route_attributes;
mod route_common;
pub mod route_table;
mod subnet_egress;
pub mod subnet_egress_data;
pub mod subnet_route_table_association;
mod values;

pub use crate::tf::timeouts::parse_duration;
pub(crate) use crate::tf::timeouts::{Op, Timeouts};
pub use attributes::normalize_location;
pub(crate) use attributes::{
    check_network_name, check_subnet_id, id_attribute, location_attribute, resource_group_attribute, same_location,
    tags_attribute,
};
pub(crate) use outcome::{
    after_write, arm_error, create_error, plan_read_failed, requires_import, stale_or_unanswered, tracked_state,
    tracked_update,
};
pub(crate) use route_attributes::{
    check_route_config, route_name_attribute, route_next_hop_ip_attribute, route_table_id_attribute,
};
pub(crate) use values::{input_str, json_str, keep, keep_spelling, object, remove_keys, str_attr};

use crate::context::ProviderData;
use crate::tf::data_source::{DataSource, EphemeralResource};
use crate::tf::diag::Diagnostics;
use crate::tf::resource::Resource;

/// Every resource type, in the order the docs list them.
pub fn all() -> Vec<Box<dyn Resource<ProviderData>>> {
    vec![
        Box::new(cluster::ClusterResource::new()),
        Box::new(node_pool::NodePoolResource::new()),
        Box::new(route_table::RouteTableResource::new()),
        Box::new(firewall_route::resource()),
        Box::new(route::resource()),
        Box::new(subnet_route_table_association::AssociationResource::new()),
    ]
}

/// Every data source type.
pub fn data_sources() -> Vec<Box<dyn DataSource<ProviderData>>> {
    vec![
        Box::new(subnet_egress_data::SubnetEgressData::new()),
        Box::new(egress_requirements_data::EgressRequirementsData::new()),
    ]
}

/// Every ephemeral resource type.
pub fn ephemeral_resources() -> Vec<Box<dyn EphemeralResource<ProviderData>>> {
    vec![Box::new(cluster_credentials::ClusterCredentials::new())]
}

/// The error of a data source that needs Azure while the provider's
/// configuration is still unknown.
pub(crate) fn unconfigured(type_name: &str) -> Diagnostics {
    crate::tf::diag::Diagnostic::error(
        "Provider not configured",
        format!(
            "{type_name} reads Azure, but the aksudr provider's configuration is known only after apply. Apply \
             what the provider block depends on first, e.g. with -target."
        ),
    )
    .into()
}

/// The subscription from the provider configuration, needed to build the
/// IDs of new objects.
pub(crate) fn subscription(data: &ProviderData) -> Result<String, Diagnostics> {
    data.arm.subscription_id().map(str::to_string).ok_or_else(|| {
        crate::tf::diag::Diagnostic::error(
            "No subscription configured",
            "Set subscription_id in the provider block or ARM_SUBSCRIPTION_ID in the environment.",
        )
        .at(crate::tf::diag::AttributePath::root("subscription_id"))
        .into()
    })
}

#[cfg(test)]
mod docs_tests {
    use super::*;
    use crate::tf::schema::Block;

    fn names(block: &Block, prefix: &str, out: &mut Vec<String>) {
        for a in &block.attributes {
            out.push(format!("{prefix}{}", a.name));
        }
        for b in &block.blocks {
            out.push(format!("{prefix}{}", b.name));
            names(&b.block, prefix, out);
        }
    }

    /// Every attribute and block of every resource, data source and
    /// ephemeral resource is documented in docs/<kind>/<name>.md, so the
    /// docs cannot fall behind the schema.
    #[test]
    fn every_attribute_is_documented() {
        let resources = all();
        let data = data_sources();
        let ephemeral = ephemeral_resources();
        let mut docs: Vec<(&str, &str, &Block)> = Vec::new();
        docs.extend(resources.iter().map(|r| ("resources", r.type_name(), &r.schema().block)));
        docs.extend(data.iter().map(|d| ("data-sources", d.type_name(), &d.schema().block)));
        docs.extend(ephemeral.iter().map(|e| ("ephemeral-resources", e.type_name(), &e.schema().block)));
        for (kind, type_name, block) in docs {
            let file =
                format!("{}/docs/{kind}/{}.md", env!("CARGO_MANIFEST_DIR"), type_name.trim_start_matches("aksudr_"));
            let doc = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert!(doc.starts_with(&format!("# {type_name}")), "{file} has the wrong title");
            let mut all_names = Vec::new();
            names(block, "", &mut all_names);
            for name in all_names {
                assert!(doc.contains(&format!("`{name}`")), "{file} does not document `{name}`");
            }
        }
    }
}
