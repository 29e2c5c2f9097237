//! `aksudr_node_pool`: a node pool added to an `aksudr_cluster` (an AKS
//! agent pool), usually in a subnet of its own. With user-defined routing
//! every pool's subnet must send its egress to the firewall, and with
//! kubenet all pools share the cluster's route table: rules R10-R13 in
//! `crate::rules::pool`, checked at plan and again before the pool PUT
//! (`egress`). `profile` holds the pool attributes and their ARM form,
//! shared with the cluster's `default_node_pool`.

mod egress;
pub(crate) mod profile;

use async_trait::async_trait;
use serde_json::json;

use super::aks_write::{put_and_wait, Write};
use super::{
    after_write, arm_error, id_attribute, input_str, keep_spelling, requires_import, str_attr, tracked_state, Op,
    Timeouts,
};
use crate::arm::ids::{AgentPoolId, ManagedClusterId};
use crate::arm::AKS_API_VERSION as AKS_API;
use crate::context::ProviderData;
use crate::rules::enums::NODE_POOL_MODES;
use crate::rules::pool::{check_pool, PoolSpec};
use crate::tf::diag::{Diagnostic, Diagnostics};
use crate::tf::resource::{ApplyOutcome, Import, PlanChange, Resource};
use crate::tf::schema::{case_insensitive, Attribute, Block, Schema};
use crate::tf::value::Value;

pub const TYPE_NAME: &str = "aksudr_node_pool";

/// Default time limits.
const TIMEOUTS: Timeouts = Timeouts::minutes(60, 5, 60, 60);
/// Updates carry the etag of the GET they are built on; on a mismatch the
/// pool is read again, this many times in all.
const ETAG_ATTEMPTS: u32 = 3;

pub struct NodePoolResource {
    schema: Schema,
}

fn check_cluster_id(s: &str) -> Result<(), String> {
    ManagedClusterId::parse(s).map(|_| ()).map_err(|e| e.to_string())
}

impl NodePoolResource {
    pub fn new() -> Self {
        let block = Block::new(
            "A node pool of an `aksudr_cluster`, usually in a subnet of its own. With the cluster's \
             `outbound_type = \"userDefinedRouting\"` the provider checks at plan — and again against live Azure \
             before creating the pool — that the pool's subnet sends 0.0.0.0/0 to a `VirtualAppliance` or \
             `VirtualNetworkGateway`, lies in the cluster's virtual network and, with kubenet, uses the cluster's \
             route table.",
        )
        .attr(id_attribute("node pool"))
        .attr(
            Attribute::string(
                "cluster_id",
                "The ARM ID of the cluster (`aksudr_cluster.<name>.id`). Changing it forces replacement.",
            )
            .required()
            .forces_replacement()
            .equivalent(case_insensitive)
            .check(check_cluster_id),
        )
        .attr(
            Attribute::string(
                "mode",
                "`User` (default) for workloads, or `System` to host AKS's own pods as well. Updated in place.",
            )
            .default(Value::string("User"))
            .one_of(NODE_POOL_MODES),
        );
        let block = profile::with_attributes(
            block,
            "The ARM ID of the existing subnet the nodes join, in the cluster's virtual network. Required when the \
             cluster uses user-defined routing: the subnet's route table must hold a 0.0.0.0/0 route to the \
             firewall (with kubenet: the cluster subnet's route table). Checked at plan and again before the pool \
             is created. Changing it forces replacement.",
        )
        .block(TIMEOUTS.block());
        NodePoolResource { schema: Schema::new(0, block) }
    }

    fn id_of(&self, v: &Value) -> Result<AgentPoolId, Diagnostics> {
        if let Some(id) = str_attr(v, "id") {
            return AgentPoolId::parse_insensitive(id)
                .map_err(|e| Diagnostic::error("Invalid node pool ID in state", e.to_string()).into());
        }
        let cluster = ManagedClusterId::parse_insensitive(str_attr(v, "cluster_id").unwrap_or_default())
            .map_err(|e| Diagnostics::from(Diagnostic::error("Invalid cluster ID", e.to_string())))?;
        Ok(AgentPoolId {
            subscription_id: cluster.subscription_id,
            resource_group: cluster.resource_group,
            cluster: cluster.name,
            name: str_attr(v, "name").unwrap_or_default().to_string(),
        })
    }
}

impl Default for NodePoolResource {
    fn default() -> Self {
        Self::new()
    }
}

/// The rules' view of a pool. In a plan an autoscaled pool's `node_count`
/// is the prior count, not the user's, so only the configuration's is
/// judged (`with_count`).
pub(crate) fn pool_spec(v: &Value, with_count: bool) -> PoolSpec {
    let mut scale = profile::pool_scale(v);
    if !with_count {
        scale.node_count = crate::rules::Input::Null;
    }
    PoolSpec { pool_type: input_str(v, "type"), mode: input_str(v, "mode"), scale }
}

/// The agent pool's ARM body from a plan.
fn expand(planned: &Value) -> serde_json::Value {
    let mut props = profile::expand(planned);
    profile::put_opt(&mut props, "mode", profile::canon(planned, "mode", NODE_POOL_MODES).as_ref());
    json!({ "properties": props })
}

/// State from ARM's agent pool, keeping the prior spelling where ARM's
/// differs only in form.
pub(crate) fn flatten(arm: &serde_json::Value, prior: &Value) -> Result<Value, Diagnostics> {
    let raw_id = arm.get("id").and_then(|v| v.as_str()).unwrap_or_default();
    let id = AgentPoolId::parse_insensitive(raw_id)
        .map_err(|e| Diagnostics::from(Diagnostic::error("Unexpected node pool ID from Azure", e.to_string())))?;
    let props = arm.get("properties").cloned().unwrap_or(serde_json::Value::Null);
    let mut state = profile::flatten(&id.name, &props, prior);
    state.set_attr("id", keep_spelling(prior, "id", Value::string(id.to_string()), case_insensitive));
    state.set_attr(
        "cluster_id",
        keep_spelling(prior, "cluster_id", Value::string(id.cluster().to_string()), case_insensitive),
    );
    state.set_attr("mode", keep_spelling(prior, "mode", super::json_str(&props, "/mode"), case_insensitive));
    state.set_attr("timeouts", prior.attr("timeouts").cloned().unwrap_or(Value::Null));
    Ok(state)
}

#[async_trait]
impl Resource<ProviderData> for NodePoolResource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    fn validate(&self, config: &Value) -> Diagnostics {
        check_pool(&pool_spec(config, true))
    }

    /// A new pool's ID is known at plan; its subnet is checked against the
    /// cluster on the network as this plan leaves it (every attribute the
    /// check reads forces replacement, so only a new pool is checked).
    async fn modify_plan(&self, data: Option<&ProviderData>, plan: &mut PlanChange<'_>) -> Diagnostics {
        if plan.planned.is_null() {
            return Diagnostics::new();
        }
        if !plan.prior.is_null() {
            profile::plan_autoscaler_off(plan.prior, plan.config, &mut plan.planned);
            return Diagnostics::new();
        }
        if plan.planned.attr("id").is_some_and(Value::is_unknown) {
            if let (Some(_), Some(_)) = (str_attr(&plan.planned, "cluster_id"), str_attr(&plan.planned, "name")) {
                if let Ok(id) = self.id_of(&plan.planned) {
                    plan.planned.set_attr("id", Value::string(id.to_string()));
                }
            }
        }
        match data {
            Some(data) => egress::plan_check(data, &plan.planned).await,
            None => Diagnostics::new(),
        }
    }

    async fn create(&self, data: &ProviderData, planned: &Value, _config: &Value) -> ApplyOutcome {
        let id = match self.id_of(planned) {
            Ok(id) => id,
            Err(d) => return ApplyOutcome::failed(Value::Null, d),
        };
        let path = id.to_string();
        let action = format!("creating node pool {} of AKS cluster {}/{}", id.name, id.resource_group, id.cluster);
        let until = TIMEOUTS.deadline(planned, Op::Create);
        // Before the cluster's lock: the check may wait for this run's
        // egress, and the cluster's other pools must not wait behind it.
        if let Err(d) = egress::precheck(data, planned, until).await {
            return ApplyOutcome::failed(Value::Null, d);
        }
        // AKS runs one operation at a time per cluster (409 otherwise). A
        // pool blocked here is not progress the egress checks wait for.
        let _guard = {
            let _blocked = data.activity.waiting();
            data.arm.lock(&id.cluster().to_string()).await
        };
        match data.arm.get(&path, AKS_API, until).await {
            Ok(Some(_)) => return ApplyOutcome::failed(Value::Null, requires_import(TYPE_NAME, &path)),
            Ok(None) => {}
            Err(e) => return ApplyOutcome::failed(Value::Null, arm_error(&action, e)),
        }
        let tracked = tracked_state(planned, &path);
        match put_and_wait(data, TYPE_NAME, &path, &expand(planned), Write::Create, &action, until).await {
            Ok(()) => {}
            Err(e) if e.accepted => return ApplyOutcome::failed(tracked, e.diags),
            Err(e) => return ApplyOutcome::failed(Value::Null, e.diags),
        }
        after_write(self.read(data, &tracked).await, tracked, "node pool")
    }

    async fn read(&self, data: &ProviderData, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let id = self.id_of(state)?;
        let until = TIMEOUTS.deadline(state, Op::Read);
        let action = format!("reading node pool {} of AKS cluster {}/{}", id.name, id.resource_group, id.cluster);
        match data.arm.get(&id.to_string(), AKS_API, until).await.map_err(|e| arm_error(&action, e))? {
            None => Ok(None),
            Some(arm) => flatten(&arm, state).map(Some),
        }
    }

    /// In-place changes go through a PUT of the pool as AKS has it now,
    /// with this configuration's settings laid over it.
    async fn update(&self, data: &ProviderData, prior: &Value, planned: &Value, _config: &Value) -> ApplyOutcome {
        let result = async {
            let id = self.id_of(prior)?;
            let path = id.to_string();
            let action = format!("updating node pool {} of AKS cluster {}/{}", id.name, id.resource_group, id.cluster);
            let until = TIMEOUTS.deadline(planned, Op::Update);
            let _guard = data.arm.lock(&id.cluster().to_string()).await;
            let ours = expand(planned);
            let mut attempt = 0;
            loop {
                attempt += 1;
                let Some(live) = data.arm.get(&path, AKS_API, until).await.map_err(|e| arm_error(&action, e))? else {
                    return Err(Diagnostic::error(
                        "Node pool not found",
                        format!("{path} was deleted outside Terraform; plan again to re-create it."),
                    )
                    .into());
                };
                let etag = live
                    .pointer("/properties/eTag")
                    .or_else(|| live.get("etag"))
                    .and_then(|e| e.as_str())
                    .map(str::to_string);
                let live_props = live.get("properties").cloned().unwrap_or_else(|| json!({}));
                let body = json!({ "properties": profile::merge(live_props, &ours["properties"]) });
                match put_and_wait(
                    data,
                    TYPE_NAME,
                    &path,
                    &body,
                    Write::Update { etag: etag.as_deref() },
                    &action,
                    until,
                )
                .await
                {
                    Ok(()) => break,
                    // The pool changed since the GET: build on it again.
                    Err(e) if e.stale && attempt < ETAG_ATTEMPTS => continue,
                    Err(e) => return Err(e.diags),
                }
            }
            let tracked = super::tracked_update(planned, prior, &path);
            Ok(after_write(self.read(data, &tracked).await, tracked, "node pool"))
        }
        .await;
        ApplyOutcome::or_unchanged(result, prior)
    }

    async fn delete(&self, data: &ProviderData, prior: &Value) -> Diagnostics {
        let id = match self.id_of(prior) {
            Ok(id) => id,
            Err(d) => return d,
        };
        let action = format!("deleting node pool {} of AKS cluster {}/{}", id.name, id.resource_group, id.cluster);
        let _guard = data.arm.lock(&id.cluster().to_string()).await;
        match data.arm.delete(&id.to_string(), AKS_API, TIMEOUTS.deadline(prior, Op::Delete)).await {
            Ok(()) => Diagnostics::new(),
            Err(e) => arm_error(&action, e),
        }
    }

    fn importer(&self) -> Option<&dyn Import<ProviderData>> {
        Some(self)
    }
}

#[async_trait]
impl Import<ProviderData> for NodePoolResource {
    async fn import(&self, _data: &ProviderData, id: &str) -> Result<Value, Diagnostics> {
        let parsed = AgentPoolId::parse_import(id)
            .map_err(|e| Diagnostics::from(Diagnostic::error("Invalid import ID", e.to_string())))?;
        Ok(self.schema.state_with_id(&parsed.to_string()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_back_an_arm_agent_pool() {
        let arm = json!({
            "id": "/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/rg/providers/Microsoft.ContainerService/managedClusters/c/agentPools/user1",
            "name": "user1",
            "type": "Microsoft.ContainerService/managedClusters/agentPools",
            "properties": {
                "count": 4, "vmSize": "Standard_D4s_v5", "mode": "User", "type": "VirtualMachineScaleSets",
                "enableAutoScaling": true, "minCount": 1, "maxCount": 5, "maxPods": 30, "osDiskSizeGB": 128,
                "orchestratorVersion": "1.33.2", "provisioningState": "Succeeded", "eTag": "e1",
                "nodeTaints": ["dedicated=egress:NoSchedule"]
            }
        });
        let mut prior = Value::Object(Default::default());
        prior.set_attr("cluster_id", Value::string("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c"));
        prior.set_attr("mode", Value::string("user"));
        prior.set_attr("node_count", Value::int(2));
        let state = flatten(&arm, &prior).unwrap();
        assert_eq!(state.attr("cluster_id"), prior.attr("cluster_id"), "the prior spelling of the group is kept");
        assert_eq!(state.attr("mode"), Some(&Value::string("user")));
        assert_eq!(state.attr("node_count"), Some(&Value::int(2)), "the autoscaler's count is not drift");
        assert_eq!(state.attr("node_taints"), Some(&Value::List(vec![Value::string("dedicated=egress:NoSchedule")])));
        assert!(flatten(&json!({"id": "/x"}), &prior).is_err());

        // An update keeps what the configuration does not model and drops
        // read-only fields.
        let ours = expand(&state);
        let merged = profile::merge(arm["properties"].clone(), &ours["properties"]);
        assert_eq!(merged["count"], 4, "the live count while autoscaled");
        for ro in profile::READ_ONLY {
            assert!(merged.get(*ro).is_none(), "{ro}");
        }
        assert_eq!(merged["mode"], "User", "canonical spelling for ARM");
    }
}
