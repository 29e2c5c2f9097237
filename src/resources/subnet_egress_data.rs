//! Data source `aksudr_subnet_egress`: whether a subnet is ready for UDR
//! egress, by the same rule code as the cluster's checks
//! (`rules::egress::check_subnet_egress`), so that a module can refuse, in a
//! `precondition` or a `check` block, to deploy into a subnet that is not.

use async_trait::async_trait;

use super::arm_error;
use super::check_subnet_id;
use super::subnet_egress::live_route_table;
use crate::context::ProviderData;
use crate::rules::egress::{check_subnet_egress, default_routes};
use crate::tf::data_source::DataSource;
use crate::tf::diag::{AttributePath, Diagnostic, Diagnostics};
use crate::tf::model::{Model, Object, Objects, Val};
use crate::tf::schema::Schema;
use crate::tf::value::Value;

pub const TYPE_NAME: &str = "aksudr_subnet_egress";

/// How long the read may take.
const READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// A route as the data source gives it.
#[derive(Clone, Debug, Default, PartialEq, Model)]
#[tf(description = "A route.")]
struct RouteModel {
    #[tf(description = "The route's name.")]
    name: Val<String>,
    #[tf(description = "Its destination.")]
    address_prefix: Val<String>,
    #[tf(description = "Its next hop type.")]
    next_hop_type: Val<String>,
    #[tf(description = "Its next hop's IP, for a virtual appliance.")]
    next_hop_in_ip_address: Val<String>,
}

/// A problem found, in the words of the cluster's plan.
#[derive(Clone, Debug, Default, PartialEq, Model)]
#[tf(description = "A problem.")]
struct ProblemModel {
    #[tf(description = "The summary.")]
    summary: Val<String>,
    #[tf(description = "The detail.")]
    detail: Val<String>,
}

/// The data source's schema and value.
#[derive(Clone, Debug, Default, PartialEq, Model)]
#[tf(description = "Whether a subnet is ready for an AKS cluster with `outbound_type = \"userDefinedRouting\"`: its \
     route table, its default route, and the problems found, in the words of the cluster's plan-time checks.")]
struct SubnetEgressModel {
    #[tf(description = "The ARM ID of the subnet to check.", build = required().check(check_subnet_id))]
    subnet_id: Val<String>,
    #[tf(description = "The ARM ID of the subnet's route table; null without one.", build = computed())]
    route_table_id: Val<String>,
    #[tf(
        description = "The table's `0.0.0.0/0` route (`name`, `address_prefix`, `next_hop_type`, \
                       `next_hop_in_ip_address`); null without one.",
        build = computed()
    )]
    default_route: Val<Object<RouteModel>>,
    #[tf(
        description = "Whether AKS would accept the subnet for user-defined routing: a route table with a \
                       `0.0.0.0/0` route to a `VirtualAppliance` or `VirtualNetworkGateway`.",
        build = computed()
    )]
    udr_ready: Val<bool>,
    #[tf(
        description = "What stops the subnet from being ready, each with `summary` and `detail` as the cluster's \
                       plan would report it; empty when `udr_ready`.",
        build = computed()
    )]
    problems: Val<Objects<ProblemModel>>,
}

pub struct SubnetEgressData {
    schema: Schema,
}

impl SubnetEgressData {
    pub fn new() -> Self {
        SubnetEgressData { schema: Schema::new(0, SubnetEgressModel::block()) }
    }
}

impl Default for SubnetEgressData {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl DataSource<ProviderData> for SubnetEgressData {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }

    async fn read(&self, data: Option<&ProviderData>, config: &Value) -> Result<Value, Diagnostics> {
        let data = data.ok_or_else(|| super::unconfigured(TYPE_NAME))?;
        let config = SubnetEgressModel::from_value(config)
            .map_err(|e| Diagnostics::from(e.diagnostic("Unexpected configuration")))?;
        let subnet_id = config.subnet_id.known().cloned().unwrap_or_default();
        let until = tokio::time::Instant::now() + READ_TIMEOUT;
        let action = format!("reading subnet {subnet_id} and its route table");
        let Some(table) = live_route_table(&data.arm, &subnet_id, until).await.map_err(|e| arm_error(&action, e))?
        else {
            return Err(Diagnostic::error("Subnet not found", format!("The subnet {subnet_id} does not exist."))
                .at(AttributePath::root("subnet_id"))
                .into());
        };
        let findings = check_subnet_egress(&subnet_id, table.as_ref(), "subnet_id");
        let problems: Vec<ProblemModel> = findings
            .iter()
            .filter(|d| d.severity == crate::tf::diag::Severity::Error)
            .map(|d| ProblemModel { summary: Val::Known(d.summary.clone()), detail: Val::Known(d.detail.clone()) })
            .collect();
        let default_route = table.as_ref().and_then(|t| default_routes(t).first().copied().cloned()).map(|r| {
            Object(RouteModel {
                name: Val::Known(r.name),
                address_prefix: Val::Known(r.address_prefix),
                next_hop_type: Val::Known(r.next_hop_type),
                next_hop_in_ip_address: r.next_hop_ip.map_or(Val::Null, Val::Known),
            })
        });
        Ok(SubnetEgressModel {
            route_table_id: table.as_ref().map_or(Val::Null, |t| Val::Known(t.id.clone())),
            default_route: default_route.map_or(Val::Null, Val::Known),
            udr_ready: Val::Known(problems.is_empty()),
            problems: Val::Known(Objects(problems)),
            ..config
        }
        .to_value())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tf::model::check_model;

    #[test]
    fn the_model_is_the_schema() {
        assert_eq!(check_model::<SubnetEgressModel>(), Ok(()));
    }
}
