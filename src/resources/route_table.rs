//! `aksudr_route_table`: the route table that the AKS subnet uses. Routes are
//! separate resources; routes nobody here manages (AKS's kubenet pod routes,
//! other teams' routes) are never removed and never shown as drift.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde_json::json;

use super::{
    after_write, arm_error, check_network_name, create_error, id_attribute, keep, location_attribute,
    normalize_location, requires_import, resource_group_attribute, stale_or_unanswered, subscription, tags_attribute,
    tracked_state, Op, Timeouts,
};
use crate::arm::ids::RouteTableId;
use crate::arm::NETWORK_API_VERSION as API;
use crate::context::ProviderData;
use crate::tf::diag::{Diagnostic, Diagnostics};
use crate::tf::model::{Model, StringSet, Val};
use crate::tf::resource::{ApplyOutcome, Import, PlanChange, Resource};
use crate::tf::schema::Schema;
use crate::tf::timeouts::TimeoutValues;
use crate::tf::value::Value;

pub const TYPE_NAME: &str = "aksudr_route_table";

/// Default time limits.
const TIMEOUTS: Timeouts = Timeouts::minutes(30, 5, 30, 30);
/// Table updates carry the etag of the GET they are based on; on a
/// mismatch the table is read again, this many times in all.
const ETAG_ATTEMPTS: u32 = 3;

/// The resource's schema and state.
#[derive(Clone, Debug, Default, PartialEq, Model)]
#[tf(description = "A route table for an AKS subnet. Declare routes with `aksudr_firewall_route` and `aksudr_route`; \
     routes created by others (such as AKS's kubenet pod routes) are kept and not reported as drift.")]
pub(super) struct RouteTableModel {
    #[tf(with = id_attribute("route table"))]
    pub id: Val<String>,
    #[tf(
        description = "The route table's name. Changing it forces replacement.",
        build = required().forces_replacement().check(check_network_name)
    )]
    pub name: Val<String>,
    #[tf(with = resource_group_attribute("route table"))]
    pub resource_group_name: Val<String>,
    #[tf(with = location_attribute("route table"))]
    pub location: Val<String>,
    #[tf(
        description = "Whether routes learned by BGP (from a VPN or ExpressRoute gateway) are propagated to the \
                       subnets. Default true. A BGP-learned default route never satisfies AKS's UDR requirement: \
                       keep an explicit 0.0.0.0/0 route to the firewall.",
        build = default(Value::Bool(true))
    )]
    pub bgp_route_propagation_enabled: Val<bool>,
    #[tf(with = tags_attribute())]
    pub tags: Val<BTreeMap<String, String>>,
    // Not stable: associations change it, and may run in the same apply as
    // an update of the table.
    #[tf(description = "The IDs of the subnets associated with this route table.", build = computed())]
    pub subnet_ids: Val<StringSet>,
    #[tf(block_with = TIMEOUTS.block())]
    pub timeouts: Option<TimeoutValues>,
}

impl RouteTableModel {
    fn from(v: &Value) -> Result<Self, Diagnostics> {
        Self::from_value(v).map_err(|e| e.diagnostic("Unexpected route table value").into())
    }

    /// ARM's `disableBgpRoutePropagation`: the opposite, true unless set false.
    fn bgp_disabled(&self) -> bool {
        !self.bgp_route_propagation_enabled.known().copied().unwrap_or(true)
    }

    /// The tags as ARM spells them (none: `{}`; a tag set to null is left
    /// out).
    fn tags_json(&self) -> serde_json::Value {
        match &self.tags {
            Val::Known(m) => json!(m),
            Val::Partly(Value::Map(m)) => {
                json!(m.iter().filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s))).collect::<BTreeMap<_, _>>())
            }
            _ => json!({}),
        }
    }
}

pub struct RouteTableResource {
    schema: Schema,
}

impl RouteTableResource {
    pub fn new() -> Self {
        RouteTableResource { schema: Schema::new(0, RouteTableModel::block()) }
    }
}

impl Default for RouteTableResource {
    fn default() -> Self {
        Self::new()
    }
}

pub(super) use crate::arm::route_tables::strip_read_only;

/// State from ARM's answer, keeping the prior spelling where ARM's only
/// differs in form, and the prior `timeouts`.
pub(super) fn flatten(arm: &serde_json::Value, prior: &Value) -> Result<Value, Diagnostics> {
    let raw_id = arm.get("id").and_then(|v| v.as_str()).unwrap_or_default();
    let id = RouteTableId::parse_insensitive(raw_id)
        .map_err(|e| Diagnostics::from(Diagnostic::error("Unexpected route table ID from Azure", e.to_string())))?;
    // A prior that does not fit (a state from elsewhere) only loses its
    // spellings.
    let prior = RouteTableModel::from(prior).unwrap_or_default();
    let tags: Option<BTreeMap<String, String>> = arm
        .get("tags")
        .and_then(|t| t.as_object())
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect());
    // An empty tag map and no tags are the same to Azure; follow the config.
    let tags = match (tags, &prior.tags) {
        (Some(m), Val::Null) if m.is_empty() => Val::Null,
        // A tag the configuration sets to null is not sent; it stays null.
        (Some(t), Val::Partly(Value::Map(p))) if p.iter().any(|(k, v)| v.is_null() && !t.contains_key(k)) => {
            let mut m: BTreeMap<String, Value> = t.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
            for (k, v) in p {
                if v.is_null() {
                    m.entry(k.clone()).or_insert(Value::Null);
                }
            }
            Val::Partly(Value::Map(m))
        }
        (Some(t), _) => Val::Known(t),
        (None, _) => Val::Null,
    };
    let subnets = arm
        .pointer("/properties/subnets")
        .and_then(|s| s.as_array())
        .map(|a| a.iter().filter_map(|s| s.get("id").and_then(|i| i.as_str())).map(str::to_string).collect())
        .unwrap_or_default();
    let disabled = arm.pointer("/properties/disableBgpRoutePropagation").and_then(|b| b.as_bool()).unwrap_or(false);
    let location = match arm.get("location").and_then(|l| l.as_str()) {
        Some(l) => keep(&prior.location, l.to_string(), |a, b| normalize_location(a) == normalize_location(b)),
        None => Val::Null,
    };
    Ok(RouteTableModel {
        id: keep(&prior.id, id.to_string(), str::eq_ignore_ascii_case),
        name: keep(&prior.name, id.name.clone(), str::eq_ignore_ascii_case),
        resource_group_name: keep(&prior.resource_group_name, id.resource_group.clone(), str::eq_ignore_ascii_case),
        location,
        bgp_route_propagation_enabled: Val::Known(!disabled),
        tags,
        subnet_ids: Val::Known(StringSet(subnets)),
        timeouts: prior.timeouts,
    }
    .to_value())
}

impl RouteTableResource {
    fn id_of(&self, data: &ProviderData, v: &Value) -> Result<RouteTableId, Diagnostics> {
        let m = RouteTableModel::from(v)?;
        if let Val::Known(id) = &m.id {
            return RouteTableId::parse_insensitive(id)
                .map_err(|e| Diagnostic::error("Invalid route table ID in state", e.to_string()).into());
        }
        Ok(RouteTableId {
            subscription_id: subscription(data)?,
            resource_group: m.resource_group_name.known().cloned().unwrap_or_default(),
            name: m.name.known().cloned().unwrap_or_default(),
        })
    }

    /// The table's ID from its planned values: from `id` when known, else
    /// from the subscription, resource group and name when all are known.
    fn planned_id(&self, data: &ProviderData, v: &Value) -> Option<String> {
        let m = RouteTableModel::from(v).ok()?;
        if let Val::Known(id) = m.id {
            return Some(id);
        }
        let id = RouteTableId {
            subscription_id: data.arm.subscription_id()?.to_string(),
            resource_group: m.resource_group_name.known()?.clone(),
            name: m.name.known()?.clone(),
        };
        Some(id.to_string())
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

    /// A new table's ID is known at plan (subscription, group and name),
    /// so that routes and associations referencing it know theirs too. The
    /// new half of a replacement keeps an unknown ID: the table is
    /// re-created empty, and what references it must be replaced with it
    /// (a known, unchanged ID would leave them planned as they are).
    async fn modify_plan(&self, data: Option<&ProviderData>, plan: &mut PlanChange<'_>) -> Diagnostics {
        let Some(data) = data else { return Diagnostics::new() };
        let Ok(planned) = RouteTableModel::from(&plan.planned) else { return Diagnostics::new() };
        if !plan.prior.is_null() || planned.id != Val::Unknown {
            return Diagnostics::new();
        }
        let Some(id) = self.planned_id(data, &plan.planned) else { return Diagnostics::new() };
        if data.projection().table_replaced(&id) {
            return Diagnostics::new();
        }
        // A table that exists under this ID is being replaced too (tainted,
        // `-replace`, moved to another address), or will fail the create
        // with an import hint: either way its references must not look
        // unchanged. Unknown when Azure cannot be asked.
        let until = TIMEOUTS.deadline(&plan.planned, Op::Read);
        match data.arm.get(&id, API, until).await {
            Ok(None) => {
                plan.planned = RouteTableModel { id: Val::Known(id), ..planned }.to_value();
                // (The model keeps what it does not know as given: a tag
                // known only at apply stays so in the plan.)
            }
            Ok(Some(_)) => {}
            // A credential Azure refuses fails the plan, not only the apply;
            // Azure unreachable leaves the ID unknown, with a warning.
            Err(e) => {
                return super::plan_read_failed(
                    "look for an existing route table",
                    "Its ID is known only at apply, where the create looks again.",
                    e,
                    "name",
                )
            }
        }
        Diagnostics::new()
    }

    fn plan_recorded(&self, data: &ProviderData, prior: &Value, planned: &Value, replace: bool) {
        let mut projection = data.projection();
        if !prior.is_null() && (planned.is_null() || replace) {
            if let Some(id) = self.planned_id(data, prior) {
                projection.table_deleted(&id, replace);
            }
        }
        if prior.is_null() && !planned.is_null() {
            if let Some(id) = self.planned_id(data, planned) {
                projection.table_created(&id);
            }
        }
    }

    async fn create(&self, data: &ProviderData, planned: &Value, _config: &Value) -> ApplyOutcome {
        let id = match self.id_of(data, planned) {
            Ok(id) => id,
            Err(d) => return ApplyOutcome::failed(Value::Null, d),
        };
        let path = id.to_string();
        let action = format!("creating route table {}/{}", id.resource_group, id.name);
        let until = TIMEOUTS.deadline(planned, Op::Create);
        let _guard = data.arm.lock(&path).await;
        match data.arm.get(&path, API, until).await {
            Ok(None) => {}
            Ok(Some(_)) => return ApplyOutcome::failed(Value::Null, requires_import(TYPE_NAME, &path)),
            Err(e) => return ApplyOutcome::failed(Value::Null, arm_error(&action, e)),
        }
        let model = match RouteTableModel::from(planned) {
            Ok(m) => m,
            Err(d) => return ApplyOutcome::failed(Value::Null, d),
        };
        let body = json!({
            "location": model.location.known().cloned().unwrap_or_default(),
            "tags": model.tags_json(),
            "properties": {
                "disableBgpRoutePropagation": model.bgp_disabled(),
                "routes": [],
            },
        });
        // From the moment the PUT may have reached Azure, state keeps the
        // table whatever fails next (the operation, a time-out, Ctrl-C, a
        // lost answer): tainted, so the next apply replaces it, or dropped
        // by the next refresh if it never came to exist.
        let tracked = match RouteTableModel::from(&tracked_state(planned, &path)) {
            Ok(t) => RouteTableModel { subnet_ids: Val::Known(StringSet::default()), ..t }.to_value(),
            Err(d) => return ApplyOutcome::failed(Value::Null, d),
        };
        let (resp, url) = match data.arm.put_create(&path, API, &body, until).await {
            Ok(accepted) => accepted,
            Err(e) if e.may_have_applied() => return ApplyOutcome::failed(tracked, arm_error(&action, e)),
            Err(e) => return ApplyOutcome::failed(Value::Null, create_error(TYPE_NAME, &action, &path, e)),
        };
        if let Err(e) = data.arm.wait(&resp, &url, until).await {
            return ApplyOutcome::failed(tracked, arm_error(&action, e));
        }
        after_write(self.read(data, &tracked).await, tracked, "route table")
    }

    async fn read(&self, data: &ProviderData, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let id = self.id_of(data, state)?;
        let until = TIMEOUTS.deadline(state, Op::Read);
        let action = format!("reading route table {}/{}", id.resource_group, id.name);
        // Shared with the reads of the table's routes in the same refresh.
        match data.route_tables.read_table(&data.arm, &id, until).await.map_err(|e| arm_error(&action, e))? {
            None => Ok(None),
            Some(arm) => flatten(&arm, state).map(Some),
        }
    }

    /// Changes only what this resource owns, on the table as it is now in
    /// Azure: a PUT replaces the whole table, so the routes of other
    /// resources (and of AKS) must be sent back as they are.
    async fn update(&self, data: &ProviderData, prior: &Value, planned: &Value, _config: &Value) -> ApplyOutcome {
        let result = async {
            let id = self.id_of(data, prior)?;
            let path = id.to_string();
            let action = format!("updating route table {}/{}", id.resource_group, id.name);
            let until = TIMEOUTS.deadline(planned, Op::Update);
            let ours = RouteTableModel::from(planned)?;
            let _guard = data.arm.lock(&path).await;
            let mut attempt = 0;
            loop {
                attempt += 1;
                let Some(mut current) = data.arm.get(&path, API, until).await.map_err(|e| arm_error(&action, e))?
                else {
                    return Err(Diagnostic::error(
                        "Route table not found",
                        format!("{path} was deleted outside Terraform; plan again to re-create it."),
                    )
                    .into());
                };
                let etag = current.get("etag").and_then(|e| e.as_str()).map(str::to_string);
                strip_read_only(&mut current);
                let well_formed = current.get("properties").is_none_or(|p| p.is_object());
                let (Some(table), true) = (current.as_object_mut(), well_formed) else {
                    return Err(Diagnostic::error(
                        "Unexpected route table from Azure",
                        format!("{path}: the answer is not a route table object."),
                    )
                    .into());
                };
                table.insert("tags".into(), ours.tags_json());
                let props = table.entry("properties").or_insert_with(|| json!({}));
                if let Some(props) = props.as_object_mut() {
                    props.insert("disableBgpRoutePropagation".into(), json!(ours.bgp_disabled()));
                }
                match data.arm.put(&path, API, &current, etag.as_deref(), until).await {
                    Ok(()) => break,
                    // Someone changed the table since the GET (a route
                    // written by AKS or another tool), or our own PUT landed
                    // and its answer was lost: read it again.
                    Err(e) if stale_or_unanswered(&e) && attempt < ETAG_ATTEMPTS => continue,
                    Err(e) => return Err(arm_error(&action, e)),
                }
            }
            let tracked = super::tracked_update(planned, prior, &path);
            Ok(after_write(self.read(data, &tracked).await, tracked, "route table"))
        }
        .await;
        ApplyOutcome::or_unchanged(result, prior)
    }

    async fn delete(&self, data: &ProviderData, prior: &Value) -> Diagnostics {
        let id = match self.id_of(data, prior) {
            Ok(id) => id,
            Err(d) => return d,
        };
        let path = id.to_string();
        let _guard = data.arm.lock(&path).await;
        let action = format!("deleting route table {}/{}", id.resource_group, id.name);
        match data.arm.delete(&path, API, TIMEOUTS.deadline(prior, Op::Delete)).await {
            Ok(()) => Diagnostics::new(),
            Err(e) => arm_error(&action, e),
        }
    }

    fn importer(&self) -> Option<&dyn Import<ProviderData>> {
        Some(self)
    }
}

#[async_trait]
impl Import<ProviderData> for RouteTableResource {
    async fn import(&self, _data: &ProviderData, id: &str) -> Result<Value, Diagnostics> {
        let parsed = RouteTableId::parse_import(id)
            .map_err(|e| Diagnostics::from(Diagnostic::error("Invalid import ID", e.to_string())))?;
        Ok(self.schema.state_with_id(&parsed.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tf::model::check_model;

    #[test]
    fn the_model_is_the_schema() {
        assert_eq!(check_model::<RouteTableModel>(), Ok(()));
        let timeouts: Vec<&str> = TIMEOUTS.block().block.attributes.iter().map(|a| a.name).collect();
        assert_eq!(timeouts, TimeoutValues::FIELDS);
        // A create plan with a tag known only at apply is written back as
        // it came.
        let planned = RouteTableModel {
            name: Val::Known("rt".into()),
            tags: Val::Partly(Value::Map(BTreeMap::from([("a".to_string(), Value::Unknown)]))),
            ..Default::default()
        }
        .to_value();
        assert_eq!(RouteTableModel::from(&planned).map(|m| m.to_value()).ok(), Some(planned));
    }

    #[test]
    fn read_only_properties_are_not_sent_back() {
        let mut table = json!({
            "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/routeTables/rt",
            "name": "rt", "type": "Microsoft.Network/routeTables", "etag": "W/\"1\"",
            "location": "westeurope", "tags": {"a": "b"},
            "properties": {
                "provisioningState": "Succeeded", "resourceGuid": "g", "disableBgpRoutePropagation": true,
                "subnets": [{"id": "/x"}], "somethingNew": 1,
                "routes": [{
                    "id": "/r", "name": "r", "type": "Microsoft.Network/routeTables/routes", "etag": "W/\"2\"",
                    "properties": {"addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance",
                                   "nextHopIpAddress": "10.0.4.4", "provisioningState": "Succeeded",
                                   "hasBgpOverride": false}
                }]
            }
        });
        strip_read_only(&mut table);
        assert_eq!(
            table,
            json!({
                "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/routeTables/rt",
                "location": "westeurope", "tags": {"a": "b"},
                "properties": {
                    "disableBgpRoutePropagation": true, "somethingNew": 1,
                    "routes": [{
                        "id": "/r", "name": "r", "type": "Microsoft.Network/routeTables/routes",
                        "properties": {"addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance",
                                       "nextHopIpAddress": "10.0.4.4"}
                    }]
                }
            })
        );
    }
}
