//! `aksudr_cluster`: an AKS cluster whose egress leaves through the subnet's
//! route table (`outbound_type = "userDefinedRouting"` by default). The UDR
//! rules it plans with live in `crate::rules`.
//!
//! One file per concern: `schema` (attributes and blocks), `spec` (the
//! rules' view of a configuration), `body` (the ARM request bodies of a
//! create and of an update laid over the live cluster), `state` (state from
//! ARM's answer), `egress` (the live subnet checks at plan and before a
//! write); this file holds the create/read/update/delete/import flow.

mod body;
mod egress;
mod schema;
mod spec;
mod state;

#[cfg(test)]
pub(super) use body::update_body;
pub(crate) use spec::cluster_spec;
pub(super) use state::flatten;
#[cfg(test)]
pub(super) use state::kube_config_parts;
pub(super) use state::kubeconfig_field;

use body::*;
use egress::*;
use spec::*;

use std::collections::BTreeMap;

use async_trait::async_trait;
use base64::Engine as _;
use serde_json::json;

use super::aks_write::{put_and_wait, Write};
use super::node_pool::{
    self,
    profile::{canon, put_opt, string_map_json, strings_json},
};
use super::subnet_egress::{live_route_table, projected_route_table};
use super::{
    arm_error, id_attribute, input_str, json_str, keep_spelling, location_attribute, object, requires_import,
    resource_group_attribute, str_attr, subscription, tags_attribute, tracked_state, Op, Timeouts,
};
use crate::arm::ids::{ManagedClusterId, RouteId};
use crate::arm::{ArmClient, ArmError, AKS_API_VERSION as AKS_API, NETWORK_API_VERSION as NET_API};
use crate::context::ProviderData;
use crate::log;
use crate::rules::cluster::{check_cluster, outbound_type_change, ClusterSpec, OutboundChange};
use crate::rules::egress::{check_egress_route, check_subnet_egress, DeclaredRoute, LiveRouteTable, SUBNET_PATH};
use crate::rules::enums::{
    IDENTITY_TYPES, LOAD_BALANCER_SKUS, NETWORK_PLUGINS, NETWORK_PLUGIN_MODES, NETWORK_POLICIES, OUTBOUND_TYPES,
    SKU_TIERS,
};
use crate::rules::projection::{PlannedCluster, Verdict};
use crate::rules::Input;
use crate::tf::diag::{AttributePath, Diagnostic, Diagnostics};
use crate::tf::resource::{ApplyOutcome, Import, PlanChange, Resource};
use crate::tf::schema::{case_insensitive, Attribute, Block, NestedBlock, Schema};
use crate::tf::value::{Type, Value};

pub const TYPE_NAME: &str = "aksudr_cluster";

pub struct ClusterResource {
    schema: Schema,
}

/// Default time limits.
pub(super) const TIMEOUTS: Timeouts = Timeouts::minutes(90, 5, 90, 90);

impl ClusterResource {
    fn id_of(&self, data: &ProviderData, v: &Value) -> Result<ManagedClusterId, Diagnostics> {
        if let Some(id) = str_attr(v, "id") {
            return ManagedClusterId::parse_insensitive(id)
                .map_err(|e| Diagnostic::error("Invalid cluster ID in state", e.to_string()).into());
        }
        Ok(ManagedClusterId {
            subscription_id: subscription(data)?,
            resource_group: str_attr(v, "resource_group_name").unwrap_or_default().to_string(),
            name: str_attr(v, "name").unwrap_or_default().to_string(),
        })
    }

    /// The cluster's ID from planned values: `id` when known, else from the
    /// subscription, resource group and name when all are known.
    fn planned_id(&self, data: &ProviderData, v: &Value) -> Option<String> {
        if let Some(id) = str_attr(v, "id") {
            return Some(id.to_string());
        }
        let id = ManagedClusterId {
            subscription_id: data.arm.subscription_id()?.to_string(),
            resource_group: str_attr(v, "resource_group_name")?.to_string(),
            name: str_attr(v, "name")?.to_string(),
        };
        Some(id.to_string())
    }

    /// The cluster user's kubeconfig (base64 in ARM's answer), never logged.
    async fn kubeconfig(
        &self,
        arm: &ArmClient,
        id: &ManagedClusterId,
        until: tokio::time::Instant,
    ) -> Result<Option<String>, ArmError> {
        let creds = arm.post(&format!("{id}/listClusterUserCredential"), AKS_API, until).await?;
        let encoded = creds.pointer("/kubeconfigs/0/value").and_then(|v| v.as_str()).unwrap_or_default();
        Ok(base64::engine::general_purpose::STANDARD.decode(encoded).ok().and_then(|b| String::from_utf8(b).ok()))
    }
}

/// PUTs `ours` laid over the cluster as AKS has it now, with its ETag; the
/// cluster changing in between (412) is read again, up to three times.
async fn put_over_live(
    data: &ProviderData,
    path: &str,
    ours: &serde_json::Value,
    action: &str,
    until: tokio::time::Instant,
) -> Result<(), Diagnostics> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let Some(current) = data.arm.get(path, AKS_API, until).await.map_err(|e| arm_error(action, e))? else {
            return Err(Diagnostic::error(
                "Cluster not found",
                format!("{path} was deleted outside Terraform; plan again to re-create it."),
            )
            .into());
        };
        let etag = current.get("eTag").or_else(|| current.get("etag")).and_then(|e| e.as_str());
        let body = update_body(&current, ours);
        match put_and_wait(data, TYPE_NAME, path, &body, Write::Update { etag }, action, until).await {
            Ok(()) => return Ok(()),
            Err(e) if e.stale && attempt < 3 => continue,
            Err(e) => return Err(e.diags),
        }
    }
}

#[async_trait]
impl Import<ProviderData> for ClusterResource {
    async fn import(&self, _data: &ProviderData, id: &str) -> Result<Value, Diagnostics> {
        let parsed = ManagedClusterId::parse_import(id)
            .map_err(|e| Diagnostics::from(Diagnostic::error("Invalid import ID", e.to_string())))?;
        Ok(self.schema.state_with_id(&parsed.to_string()))
    }
}

#[async_trait]
impl Resource<ProviderData> for ClusterResource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    fn validate(&self, config: &Value) -> Diagnostics {
        check_cluster(&cluster_spec(config))
    }

    async fn create(&self, data: &ProviderData, planned: &Value, _config: &Value) -> ApplyOutcome {
        let id = match self.id_of(data, planned) {
            Ok(id) => id,
            Err(d) => return ApplyOutcome::failed(Value::Null, d),
        };
        let path = id.to_string();
        let action = format!("creating AKS cluster {}/{}", id.resource_group, id.name);
        let until = TIMEOUTS.deadline(planned, Op::Create);
        match data.arm.get(&path, AKS_API, until).await {
            Ok(Some(_)) => return ApplyOutcome::failed(Value::Null, requires_import(TYPE_NAME, &path)),
            Ok(None) => {}
            Err(e) => return ApplyOutcome::failed(Value::Null, arm_error(&action, e)),
        }
        if let Err(d) = precheck(data, planned, until).await {
            return ApplyOutcome::failed(Value::Null, d);
        }
        let tracked = tracked_state(planned, &path);
        match put_and_wait(data, TYPE_NAME, &path, &expand(planned), Write::Create, &action, until).await {
            Ok(()) => {}
            // Accepted but not finished: keep tracking the cluster.
            Err(e) if e.accepted => return ApplyOutcome::failed(tracked, e.diags),
            Err(e) => return ApplyOutcome::failed(Value::Null, e.diags),
        }
        super::after_write(self.read(data, &tracked).await, tracked, "cluster")
    }

    async fn read(&self, data: &ProviderData, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let id = self.id_of(data, state)?;
        let until = TIMEOUTS.deadline(state, Op::Read);
        let action = format!("reading AKS cluster {}/{}", id.resource_group, id.name);
        let Some(arm) = data.arm.get(&id.to_string(), AKS_API, until).await.map_err(|e| arm_error(&action, e))? else {
            return Ok(None);
        };
        // Kept out of state on request: not even listed.
        let listed = if state::stores_kube_config(state) {
            self.kubeconfig(&data.arm, &id, until).await.map(Some)
        } else {
            Ok(None)
        };
        let kubeconfig = match listed {
            Ok(k) => k.flatten(),
            // An identity allowed to manage the cluster but not to list its
            // credentials (Microsoft.ContainerService/managedClusters/
            // listClusterUserCredential/action): the cluster is there all
            // the same, so the read succeeds and keeps the kubeconfig it had.
            Err(e) if e.status() == Some(403) => {
                log::warn!(
                    "cannot list the cluster's user credentials; keeping the kubeconfig in state",
                    cluster = id.to_string(),
                    code = e.code().unwrap_or_default()
                );
                str_attr(state, "kube_config_raw").map(str::to_string)
            }
            Err(e) => return Err(arm_error(&action, e)),
        };
        flatten(&arm, state, kubeconfig).map(Some)
    }

    /// In-place changes go through a PUT of the cluster as AKS has it now,
    /// with this configuration's settings applied.
    async fn update(&self, data: &ProviderData, prior: &Value, planned: &Value, _config: &Value) -> ApplyOutcome {
        let result = async {
            let id = self.id_of(data, prior)?;
            let path = id.to_string();
            let action = format!("updating AKS cluster {}/{}", id.resource_group, id.name);
            let until = TIMEOUTS.deadline(planned, Op::Update);
            let outbound = |v: &Value| {
                first(v, "network_profile").attr("outbound_type").and_then(Value::as_str).map(str::to_ascii_lowercase)
            };
            // Before the lock: the check may wait for this run's egress.
            if outbound(prior) != outbound(planned) {
                precheck(data, planned, until).await?;
            }
            // AKS runs one operation at a time per cluster, its pools' too.
            let _guard = {
                let _blocked = data.activity.waiting();
                data.arm.lock(&path).await
            };
            let ours = expand(planned);
            // Nothing for AKS (only store_kube_config, egress_route_id or
            // timeouts changed): no PUT, which AKS takes minutes over.
            if ours != expand(prior) {
                put_over_live(data, &path, &ours, &action, until).await?;
            }
            let tracked = super::tracked_update(planned, prior, &path);
            Ok(super::after_write(self.read(data, &tracked).await, tracked, "cluster"))
        }
        .await;
        ApplyOutcome::or_unchanged(result, prior)
    }

    async fn delete(&self, data: &ProviderData, prior: &Value) -> Diagnostics {
        let id = match self.id_of(data, prior) {
            Ok(id) => id,
            Err(d) => return d,
        };
        let action = format!("deleting AKS cluster {}/{}", id.resource_group, id.name);
        let _guard = data.arm.lock(&id.to_string()).await;
        match data.arm.delete(&id.to_string(), AKS_API, TIMEOUTS.deadline(prior, Op::Delete)).await {
            Ok(()) => Diagnostics::new(),
            Err(e) => arm_error(&action, e),
        }
    }

    fn importer(&self) -> Option<&dyn Import<ProviderData>> {
        Some(self)
    }

    /// The node pools planned after the cluster check their subnets against
    /// its network as this plan leaves it.
    fn plan_recorded(&self, data: &ProviderData, prior: &Value, planned: &Value, _replace: bool) {
        if planned.is_null() {
            if let Some(id) = self.planned_id(data, prior) {
                data.projection().cluster(&id, None);
            }
            return;
        }
        let Some(id) = self.planned_id(data, planned) else { return };
        let net = first(planned, "network_profile");
        let cluster = PlannedCluster {
            outbound_type: with_default(net, "outbound_type", UDR),
            network_plugin: input_str(net, "network_plugin"),
            subnet_id: input_str(first(planned, "default_node_pool"), "vnet_subnet_id"),
        };
        data.projection().cluster(&id, Some(cluster));
    }

    /// R8: some outbound-type changes are made in place, the rest replace.
    /// A new cluster's ID is known at plan, so that its node pools know
    /// theirs and are checked against it; a cluster replaced under the same
    /// ID keeps an unknown one, so that its pools are replaced with it.
    async fn modify_plan(&self, data: Option<&ProviderData>, plan: &mut PlanChange<'_>) -> Diagnostics {
        if !plan.prior.is_null() {
            let (prior_pool, config_pool) =
                (first(plan.prior, "default_node_pool"), first(plan.config, "default_node_pool"));
            if let Some(Value::List(pools)) = plan.planned.attr_mut("default_node_pool") {
                if let Some(pool) = pools.first_mut() {
                    node_pool::profile::plan_autoscaler_off(prior_pool, config_pool, pool);
                }
            }
        }
        if !state::stores_kube_config(&plan.planned) {
            plan.planned.set_attr("kube_config_raw", Value::Null);
            plan.planned.set_attr("kube_config", Value::Null);
        }
        if let (Some(data), true) =
            (data, plan.prior.is_null() && plan.planned.attr("id").is_some_and(Value::is_unknown))
        {
            if let Some(id) = self.planned_id(data, &plan.planned) {
                let until = TIMEOUTS.deadline(&plan.planned, Op::Read);
                // Unknown only for a cluster that exists: a replacement, or a
                // create that will ask for an import.
                match data.arm.get(&id, AKS_API, until).await {
                    Ok(Some(_)) => {}
                    Ok(None) => plan.planned.set_attr("id", Value::string(id)),
                    Err(e) => {
                        let diags = super::plan_read_failed(
                            "look for an existing cluster",
                            "The create looks again, and the subnet's egress is checked before the cluster is \
                             written.",
                            e,
                            "name",
                        );
                        if diags.has_errors() {
                            return diags;
                        }
                        // Azure unreachable: plan as a create; the create
                        // itself asks for an import if the cluster exists.
                        plan.planned.set_attr("id", Value::string(id));
                        return diags;
                    }
                }
            }
        }
        let path = || AttributePath::parse("network_profile[0].outbound_type");
        let outbound =
            |v: &Value| first(v, "network_profile").attr("outbound_type").and_then(Value::as_str).map(str::to_string);
        if let (Some(from), Some(to)) = (outbound(plan.prior), outbound(&plan.planned)) {
            if outbound_type_change(&from, &to) == OutboundChange::Replace && !plan.requires_replace.contains(&path()) {
                plan.requires_replace.push(path());
            }
        }
        // The subnet is checked when the cluster would be sent to AKS with
        // its egress to validate: on create, and when the outbound type
        // changes. A no-op plan reads nothing beyond the refresh.
        let changes_egress = plan.prior.is_null() || outbound(plan.prior) != outbound(&plan.planned);
        // An egress route whose ID is known only at apply moves the check to
        // apply, where the precheck runs once the route exists.
        let route_pending =
            first(&plan.planned, "network_profile").attr("egress_route_id").is_some_and(Value::is_unknown);
        match (changes_egress && !route_pending, data, udr_subnet(&plan.planned)) {
            (true, Some(data), Some(subnet_id)) => plan_check(data, &subnet_id, &plan.planned).await,
            _ => Diagnostics::new(),
        }
    }
}
