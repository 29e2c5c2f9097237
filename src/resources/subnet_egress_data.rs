//! Data source `aksudr_subnet_egress`: whether a subnet is ready for UDR
//! egress, by the same rule code as the cluster's checks
//! (`rules::egress::check_subnet_egress`), so that a module can refuse, in a
//! `precondition` or a `check` block, to deploy into a subnet that is not.

use async_trait::async_trait;

use super::subnet_egress::live_route_table;
use super::{arm_error, check_subnet_id, object, str_attr};
use crate::context::ProviderData;
use crate::rules::egress::{check_subnet_egress, default_routes};
use crate::tf::data_source::DataSource;
use crate::tf::diag::{AttributePath, Diagnostic, Diagnostics};
use crate::tf::schema::{Attribute, Block, Schema};
use crate::tf::value::{Type, Value};

pub const TYPE_NAME: &str = "aksudr_subnet_egress";

/// How long the read may take.
const READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

fn route_type() -> Type {
    Type::Object(
        ["name", "address_prefix", "next_hop_type", "next_hop_in_ip_address"]
            .iter()
            .map(|k| (k.to_string(), Type::String))
            .collect(),
    )
}

fn problem_type() -> Type {
    Type::Object([("summary", Type::String), ("detail", Type::String)].map(|(k, t)| (k.to_string(), t)).into())
}

pub struct SubnetEgressData {
    schema: Schema,
}

impl SubnetEgressData {
    pub fn new() -> Self {
        let block = Block::new(
            "Whether a subnet is ready for an AKS cluster with `outbound_type = \"userDefinedRouting\"`: its route \
             table, its default route, and the problems found, in the words of the cluster's plan-time checks.",
        )
        .attr(Attribute::string("subnet_id", "The ARM ID of the subnet to check.").required().check(check_subnet_id))
        .attr(
            Attribute::string("route_table_id", "The ARM ID of the subnet's route table; null without one.").computed(),
        )
        .attr(
            Attribute::of_type(
                "default_route",
                route_type(),
                "The table's `0.0.0.0/0` route (`name`, `address_prefix`, `next_hop_type`, \
                 `next_hop_in_ip_address`); null without one.",
            )
            .computed(),
        )
        .attr(
            Attribute::bool(
                "udr_ready",
                "Whether AKS would accept the subnet for user-defined routing: a route table with a `0.0.0.0/0` \
                 route to a `VirtualAppliance` or `VirtualNetworkGateway`.",
            )
            .computed(),
        )
        .attr(
            Attribute::of_type(
                "problems",
                Type::list(problem_type()),
                "What stops the subnet from being ready, each with `summary` and `detail` as the cluster's \
                 plan would report it; empty when `udr_ready`.",
            )
            .computed(),
        );
        SubnetEgressData { schema: Schema::new(0, block) }
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
        let subnet_id = str_attr(config, "subnet_id").unwrap_or_default().to_string();
        let until = tokio::time::Instant::now() + READ_TIMEOUT;
        let action = format!("reading subnet {subnet_id} and its route table");
        let Some(table) = live_route_table(&data.arm, &subnet_id, until).await.map_err(|e| arm_error(&action, e))?
        else {
            return Err(Diagnostic::error("Subnet not found", format!("The subnet {subnet_id} does not exist."))
                .at(AttributePath::root("subnet_id"))
                .into());
        };
        let findings = check_subnet_egress(&subnet_id, table.as_ref(), "subnet_id");
        let problems: Vec<Value> = findings
            .iter()
            .filter(|d| d.severity == crate::tf::diag::Severity::Error)
            .map(|d| object([("summary", Value::string(&d.summary)), ("detail", Value::string(&d.detail))]))
            .collect();
        let default_route = table
            .as_ref()
            .and_then(|t| default_routes(t).first().copied().cloned())
            .map(|r| {
                object([
                    ("name", Value::string(&r.name)),
                    ("address_prefix", Value::string(&r.address_prefix)),
                    ("next_hop_type", Value::string(&r.next_hop_type)),
                    ("next_hop_in_ip_address", r.next_hop_ip.map(Value::String).unwrap_or(Value::Null)),
                ])
            })
            .unwrap_or(Value::Null);
        Ok(object([
            ("subnet_id", config.attr("subnet_id").cloned().unwrap_or(Value::Null)),
            ("route_table_id", table.as_ref().map(|t| Value::string(&t.id)).unwrap_or(Value::Null)),
            ("default_route", default_route),
            ("udr_ready", Value::Bool(problems.is_empty())),
            ("problems", Value::List(problems)),
        ]))
    }
}
