//! `aksudr_subnet_route_table_association`: attaches a route table to an
//! existing subnet (the AKS subnet), touching nothing else on the subnet.

use async_trait::async_trait;
use serde_json::json;

use super::{
    after_write, arm_error, check_subnet_id, keep, requires_import, route_table_id_attribute, stale_or_unanswered,
    tracked_state, Op, Timeouts,
};
use crate::arm::ids::{RouteTableId, SubnetId};
use crate::arm::NETWORK_API_VERSION as API;
use crate::context::ProviderData;
use crate::rules::Input;
use crate::tf::diag::{Diagnostic, Diagnostics};
use crate::tf::model::{Model, Val};
use crate::tf::resource::{ApplyOutcome, Import, PlanChange, Resource};
use crate::tf::schema::{case_insensitive, Schema};
use crate::tf::timeouts::TimeoutValues;
use crate::tf::value::Value;

pub const TYPE_NAME: &str = "aksudr_subnet_route_table_association";

/// Default time limits.
const TIMEOUTS: Timeouts = Timeouts::minutes(30, 5, 30, 30);
/// Subnet writes carry the etag of the GET they are based on (so nothing
/// someone else changed meanwhile is overwritten); on a mismatch the
/// subnet is read again, this many times in all.
const ETAG_ATTEMPTS: u32 = 3;

/// The resource's schema and state.
#[derive(Clone, Debug, Default, PartialEq, Model)]
#[tf(description = "Associates a route table with an existing subnet. Only the subnet's route table reference is \
     changed; every other subnet setting is kept. A subnet that already uses a different route table is not taken \
     over silently.")]
struct AssociationModel {
    #[tf(description = "The ID of the association: the subnet's ARM ID.", build = computed().stable())]
    id: Val<String>,
    #[tf(
        description = "The ARM ID of the existing subnet (for AKS, the node pool's subnet). Changing it forces \
                       replacement.",
        build = required().forces_replacement().equivalent(case_insensitive).check(check_subnet_id)
    )]
    subnet_id: Val<String>,
    #[tf(with = route_table_id_attribute("association"))]
    route_table_id: Val<String>,
    #[tf(block_with = TIMEOUTS.block())]
    timeouts: Option<TimeoutValues>,
}

impl AssociationModel {
    fn from(v: &Value) -> Result<Self, Diagnostics> {
        Self::from_value(v).map_err(|e| e.diagnostic("Unexpected association value").into())
    }

    /// The subnet: from `id` in state, else from `subnet_id`.
    fn subnet(&self) -> Result<SubnetId, Diagnostics> {
        let raw = self.id.known().or(self.subnet_id.known()).map(String::as_str).unwrap_or_default();
        SubnetId::parse_insensitive(raw).map_err(|e| Diagnostic::error("Invalid subnet ID", e.to_string()).into())
    }

    /// The route table, as written.
    fn table(&self) -> String {
        self.route_table_id.known().cloned().unwrap_or_default()
    }
}

/// A string field as the projection takes it.
fn input(v: &Val<String>) -> Input<String> {
    match v {
        Val::Known(s) => Input::Known(s.clone()),
        Val::Null => Input::Null,
        Val::Unknown | Val::Partly(_) => Input::Unknown,
    }
}

pub struct AssociationResource {
    schema: Schema,
}

impl AssociationResource {
    pub fn new() -> Self {
        AssociationResource { schema: Schema::new(0, AssociationModel::block()) }
    }
}

impl Default for AssociationResource {
    fn default() -> Self {
        Self::new()
    }
}

/// Removes what the 2024-07-01 spec marks read-only from a subnet as GET
/// returns it, so that it can be sent back in a PUT; everything else,
/// including properties this provider does not know, is kept.
pub(super) fn strip_read_only(subnet: &mut serde_json::Value) {
    super::remove_keys(subnet, &["etag"]);
    if let Some(props) = subnet.get_mut("properties") {
        super::remove_keys(
            props,
            &[
                "provisioningState",
                "purpose",
                "ipConfigurations",
                "ipConfigurationProfiles",
                "privateEndpoints",
                "resourceNavigationLinks",
                "serviceAssociationLinks",
            ],
        );
        // Nested read-only fields of what the subnet keeps: its service
        // endpoints and delegations are sent back, without them.
        if let Some(endpoints) = props.get_mut("serviceEndpoints").and_then(|e| e.as_array_mut()) {
            for e in endpoints {
                super::remove_keys(e, &["provisioningState"]);
            }
        }
        if let Some(delegations) = props.get_mut("delegations").and_then(|d| d.as_array_mut()) {
            for d in delegations {
                super::remove_keys(d, &["etag"]);
                if let Some(dp) = d.get_mut("properties") {
                    super::remove_keys(dp, &["actions", "provisioningState"]);
                }
            }
        }
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

    /// The association's ID is its subnet's, known at plan whenever
    /// `subnet_id` is.
    async fn modify_plan(&self, _data: Option<&ProviderData>, plan: &mut PlanChange<'_>) -> Diagnostics {
        let Ok(planned) = AssociationModel::from(&plan.planned) else { return Diagnostics::new() };
        if planned.id == Val::Unknown {
            if let Some(subnet) = planned.subnet_id.known().and_then(|s| SubnetId::parse(s).ok()) {
                plan.planned = AssociationModel { id: Val::Known(subnet.to_string()), ..planned }.to_value();
            }
        }
        Diagnostics::new()
    }

    fn plan_recorded(&self, data: &ProviderData, prior: &Value, planned: &Value, replace: bool) {
        let model = |v: &Value| AssociationModel::from(v).unwrap_or_default();
        let subnet = |m: &AssociationModel| {
            input(&m.subnet_id).map(|s| SubnetId::parse_insensitive(&s).map(|id| id.to_string()).unwrap_or(s))
        };
        let mut projection = data.projection();
        if !prior.is_null() && (planned.is_null() || replace) {
            projection.association(subnet(&model(prior)).as_ref().map(String::as_str), None);
        }
        if !planned.is_null() {
            let planned = model(planned);
            let table = input(&planned.route_table_id).map(|t| lock_key(&t));
            projection.association(subnet(&planned).as_ref().map(String::as_str), Some(table));
        }
    }

    async fn create(&self, data: &ProviderData, planned: &Value, _config: &Value) -> ApplyOutcome {
        let (subnet, table) = match AssociationModel::from(planned).and_then(|m| Ok((m.subnet()?, m.table()))) {
            Ok(st) => st,
            Err(d) => return ApplyOutcome::failed(Value::Null, d),
        };
        let path = subnet.to_string();
        let action = format!("associating route table with subnet {}", describe(&subnet));
        let until = TIMEOUTS.deadline(planned, Op::Create);
        let _guard = data.arm.lock(&lock_key(&table)).await;
        let tracked = tracked_state(planned, &path);
        let mut attempt = 0;
        // Whether an earlier PUT of ours may have landed unseen.
        let mut ours_unseen = false;
        let (resp, url) = loop {
            attempt += 1;
            let current = match data.arm.get(&path, API, until).await {
                Ok(Some(c)) => c,
                Ok(None) => {
                    let d = Diagnostic::error(
                        "Subnet not found",
                        format!("{path} does not exist: the subnet must exist before a route table can be associated."),
                    );
                    return ApplyOutcome::failed(Value::Null, d.into());
                }
                Err(e) => return ApplyOutcome::failed(Value::Null, arm_error(&action, e)),
            };
            match current_table(&current) {
                // Our own PUT, whose answer was lost: it landed. (After an
                // ordinary 412 the same table is someone else's doing.)
                Some(existing) if ours_unseen && same_table(&existing, &table) => {
                    return after_write(self.read(data, &tracked).await, tracked, "association");
                }
                Some(existing) if same_table(&existing, &table) => {
                    return ApplyOutcome::failed(Value::Null, requires_import(TYPE_NAME, &path));
                }
                Some(existing) => {
                    let d = Diagnostic::error(
                        "Subnet already has a route table",
                        format!(
                            "{path} is associated with {existing}. It is not taken over silently: remove that \
                             association first (or import it and change route_table_id)."
                        ),
                    );
                    return ApplyOutcome::failed(Value::Null, d.into());
                }
                None => {}
            }
            let etag = current.get("etag").and_then(|e| e.as_str()).map(str::to_string);
            let mut body = current;
            strip_read_only(&mut body);
            let Some(props) = body.get_mut("properties").and_then(|p| p.as_object_mut()) else {
                let d = Diagnostic::error("Unexpected subnet from Azure", format!("{path} has no properties."));
                return ApplyOutcome::failed(Value::Null, d.into());
            };
            props.insert("routeTable".to_string(), json!({ "id": table }));
            match data.arm.put_accepted(&path, API, &body, etag.as_deref(), until).await {
                Ok(accepted) => break accepted,
                // Someone changed the subnet since the GET, or our own PUT
                // landed with its answer lost: look again.
                Err(e) if stale_or_unanswered(&e) && attempt < ETAG_ATTEMPTS => {
                    ours_unseen |= matches!(e, crate::arm::ArmError::Unanswered { .. });
                    continue;
                }
                // It may have landed: keep the association (tainted), or the
                // next refresh drops it.
                Err(e) if e.may_have_applied() => return ApplyOutcome::failed(tracked, arm_error(&action, e)),
                Err(e) => return ApplyOutcome::failed(Value::Null, arm_error(&action, e)),
            }
        };
        // The subnet has the reference from here on: state keeps the
        // association whatever fails next (tainted, so it is redone).
        if let Err(e) = data.arm.wait(&resp, &url, until).await {
            return ApplyOutcome::failed(tracked, arm_error(&action, e));
        }
        after_write(self.read(data, &tracked).await, tracked, "association")
    }

    async fn read(&self, data: &ProviderData, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let prior = AssociationModel::from(state)?;
        let subnet = prior.subnet()?;
        let until = TIMEOUTS.deadline(state, Op::Read);
        let action = format!("reading subnet {}", describe(&subnet));
        let Some(arm) = data.arm.get(&subnet.to_string(), API, until).await.map_err(|e| arm_error(&action, e))? else {
            return Ok(None);
        };
        let Some(table) = current_table(&arm) else {
            return Ok(None);
        };
        let arm_subnet = arm
            .get("id")
            .and_then(|i| i.as_str())
            .and_then(|i| SubnetId::parse_insensitive(i).ok())
            .unwrap_or(subnet)
            .to_string();
        let table = RouteTableId::parse_insensitive(&table).map(|t| t.to_string()).unwrap_or(table);
        let same = str::eq_ignore_ascii_case;
        Ok(Some(
            AssociationModel {
                id: keep(&prior.id, arm_subnet.clone(), same),
                subnet_id: keep(&prior.subnet_id, arm_subnet, same),
                route_table_id: keep(&prior.route_table_id, table, same),
                timeouts: prior.timeouts,
            }
            .to_value(),
        ))
    }

    /// Every attribute but `timeouts` forces replacement, so an update only
    /// records new time limits.
    async fn update(&self, data: &ProviderData, prior: &Value, planned: &Value, _config: &Value) -> ApplyOutcome {
        let state = match (AssociationModel::from(planned), AssociationModel::from(prior)) {
            (Ok(planned), Ok(prior)) => AssociationModel { id: prior.id, ..planned }.to_value(),
            (Err(d), _) | (_, Err(d)) => return ApplyOutcome::failed(prior.clone(), d),
        };
        match self.read(data, &state).await {
            Ok(Some(v)) => ApplyOutcome::ok(v),
            Ok(None) => ApplyOutcome::failed(
                prior.clone(),
                Diagnostic::error(
                    "Association not found",
                    "The subnet no longer uses a route table; plan again to re-create the association.",
                )
                .into(),
            ),
            Err(d) => ApplyOutcome::failed(prior.clone(), d),
        }
    }

    /// Removes only the subnet's reference to this association's route
    /// table; a subnet that uses another table (or none) is left alone.
    async fn delete(&self, data: &ProviderData, prior: &Value) -> Diagnostics {
        let result = async {
            let prior = AssociationModel::from(prior)?;
            let (subnet, table) = (prior.subnet()?, prior.table());
            let path = subnet.to_string();
            let action = format!("removing the route table from subnet {}", describe(&subnet));
            let until = TIMEOUTS.deadline(&prior.to_value(), Op::Delete);
            let _guard = data.arm.lock(&lock_key(&table)).await;
            let mut attempt = 0;
            loop {
                attempt += 1;
                let Some(mut current) = data.arm.get(&path, API, until).await.map_err(|e| arm_error(&action, e))?
                else {
                    return Ok(());
                };
                if !current_table(&current).is_some_and(|t| same_table(&t, &table)) {
                    return Ok(());
                }
                let etag = current.get("etag").and_then(|e| e.as_str()).map(str::to_string);
                strip_read_only(&mut current);
                if let Some(props) = current.get_mut("properties").and_then(|p| p.as_object_mut()) {
                    props.remove("routeTable");
                }
                match data.arm.put(&path, API, &current, etag.as_deref(), until).await {
                    Ok(()) => return Ok(()),
                    // Someone changed the subnet since the GET: look again.
                    Err(e) if stale_or_unanswered(&e) && attempt < ETAG_ATTEMPTS => continue,
                    Err(e) => return Err(arm_error(&action, e)),
                }
            }
        }
        .await;
        result.err().unwrap_or_default()
    }

    fn importer(&self) -> Option<&dyn Import<ProviderData>> {
        Some(self)
    }
}

#[async_trait]
impl Import<ProviderData> for AssociationResource {
    async fn import(&self, _data: &ProviderData, id: &str) -> Result<Value, Diagnostics> {
        let parsed = SubnetId::parse_import(id)
            .map_err(|e| Diagnostics::from(Diagnostic::error("Invalid import ID", e.to_string())))?;
        let id = Val::Known(parsed.to_string());
        Ok(AssociationModel { id: id.clone(), subnet_id: id, ..Default::default() }.to_value())
    }
}

/// The key routes lock a table with (its canonical ID), so that writes to
/// the subnet and to the table's routes are serialised however the ID was
/// spelled.
fn lock_key(table: &str) -> String {
    RouteTableId::parse_insensitive(table).map(|t| t.to_string()).unwrap_or_else(|_| table.to_string())
}

fn describe(id: &SubnetId) -> String {
    format!("{}/{}/{}", id.resource_group, id.virtual_network, id.name)
}

/// The route table a subnet (as ARM returns it) uses, if any.
pub(super) fn current_table(subnet: &serde_json::Value) -> Option<String> {
    subnet.pointer("/properties/routeTable/id").and_then(|i| i.as_str()).map(str::to_string)
}

/// Route table IDs compare case-insensitively (ARM is not consistent about
/// the casing of keywords such as `resourceGroups`).
fn same_table(a: &str, b: &str) -> bool {
    match (RouteTableId::parse_insensitive(a), RouteTableId::parse_insensitive(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => a.eq_ignore_ascii_case(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tf::model::check_model;

    #[test]
    fn the_model_is_the_schema() {
        assert_eq!(check_model::<AssociationModel>(), Ok(()));
    }

    #[test]
    fn what_the_subnet_has_is_sent_back_without_read_only_fields() {
        let mut subnet = json!({
            "id": "/s", "name": "aks", "etag": "W/\"1\"",
            "properties": {
                "addressPrefix": "10.0.0.0/22", "provisioningState": "Succeeded",
                "networkSecurityGroup": {"id": "/nsg"},
                "serviceEndpoints": [{"service": "Microsoft.Storage", "locations": ["westeurope"], "provisioningState": "Succeeded"}],
                "delegations": [{"name": "d", "id": "/s/delegations/d", "etag": "W/\"2\"", "type": "Microsoft.Network/virtualNetworks/subnets/delegations",
                                 "properties": {"serviceName": "Microsoft.Web/serverFarms", "actions": ["x"], "provisioningState": "Succeeded"}}],
                "ipConfigurations": [{"id": "/nic"}]
            }
        });
        strip_read_only(&mut subnet);
        assert_eq!(
            subnet,
            json!({
                "id": "/s", "name": "aks",
                "properties": {
                    "addressPrefix": "10.0.0.0/22",
                    "networkSecurityGroup": {"id": "/nsg"},
                    "serviceEndpoints": [{"service": "Microsoft.Storage", "locations": ["westeurope"]}],
                    "delegations": [{"name": "d", "id": "/s/delegations/d", "type": "Microsoft.Network/virtualNetworks/subnets/delegations",
                                     "properties": {"serviceName": "Microsoft.Web/serverFarms"}}]
                }
            })
        );
    }

    #[test]
    fn tables_compare_loosely() {
        let a = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Network/routeTables/RT";
        let b = "/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/RG/providers/microsoft.network/routeTables/rt";
        assert!(same_table(a, b));
        assert!(!same_table(a, &b.replace("/rt", "/other")));
    }
}
