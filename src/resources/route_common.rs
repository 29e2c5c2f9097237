//! What `aksudr_route` and `aksudr_firewall_route` share: one route in a
//! route table, written as the child resource `{table}/routes/{name}`. The
//! two resource types differ only in their schemas and in the rules they
//! apply, so everything here is parameterised by [`RouteKind`].

use async_trait::async_trait;
use serde_json::json;

use super::{
    after_write, arm_error, check_route_config, create_error, input_str, json_str, keep_spelling, object,
    requires_import, str_attr, tracked_state, Op, Timeouts,
};
use crate::arm::ids::{RouteId, RouteTableId};
use crate::arm::route_tables::{ChangeOutcome, RouteChange};
use crate::arm::NETWORK_API_VERSION as API;
use crate::context::ProviderData;
use crate::rules::enums::{canonical, is_one_of, FIREWALL_NEXT_HOP_TYPES, NEXT_HOP_TYPES};
use crate::rules::projection::PlannedRoute;
use crate::rules::route::RouteKind;
use crate::rules::Input;
use crate::tf::diag::{Diagnostic, Diagnostics};
use crate::tf::resource::{ApplyOutcome, Import, PlanChange, Resource};
use crate::tf::schema::{case_insensitive, Schema};
use crate::tf::value::Value;

/// Default time limits of both route types.
pub(crate) const TIMEOUTS: Timeouts = Timeouts::minutes(30, 5, 30, 30);

/// The ID a route will have, in the spelling planned and kept in state:
/// its table's ID in canonical form plus `/routes/{name}`. `None` while the
/// table or the name is unknown.
fn planned_id(v: &Value) -> Option<String> {
    let table = str_attr(v, "route_table_id")?;
    let table = RouteTableId::parse(table).or_else(|_| RouteTableId::parse_insensitive(table)).ok()?;
    let name = str_attr(v, "name")?;
    Some(
        RouteId {
            subscription_id: table.subscription_id,
            resource_group: table.resource_group,
            route_table: table.name,
            name: name.to_string(),
        }
        .to_string(),
    )
}

/// The route's table as the projection keys it: canonical when known.
fn table_input(v: &Value) -> Input<String> {
    input_str(v, "route_table_id").map(|t| RouteTableId::parse_insensitive(&t).map(|id| id.to_string()).unwrap_or(t))
}

/// Records in the plan's projection what this plan does to the route.
fn record_plan(data: &ProviderData, prior: &Value, planned: &Value, replace: bool) {
    let mut projection = data.projection();
    if !prior.is_null() && (planned.is_null() || replace) {
        let table = table_input(prior);
        projection.route(table.as_ref().map(String::as_str), str_attr(prior, "name").unwrap_or_default(), None);
    }
    if planned.is_null() {
        return;
    }
    let table = match (table_input(planned), str_attr(planned, "name")) {
        (Input::Known(t), Some(_)) => Input::Known(t),
        _ => Input::Unknown,
    };
    let name = str_attr(planned, "name").unwrap_or_default();
    let route = PlannedRoute {
        name: name.to_string(),
        address_prefix: input_str(planned, "address_prefix"),
        next_hop_type: input_str(planned, "next_hop_type"),
        next_hop_ip: input_str(planned, "next_hop_in_ip_address"),
    };
    projection.route(table.as_ref().map(String::as_str), name, Some(route));
}

/// The route's ID: from state when there is one, else from the planned
/// table and name (validated strictly at plan time).
fn id_of(v: &Value) -> Result<RouteId, Diagnostics> {
    if let Some(id) = str_attr(v, "id") {
        return RouteId::parse_insensitive(id)
            .map_err(|e| Diagnostic::error("Invalid route ID in state", e.to_string()).into());
    }
    let table = RouteTableId::parse_insensitive(str_attr(v, "route_table_id").unwrap_or_default())
        .map_err(|e| Diagnostics::from(Diagnostic::error("Invalid route table ID", e.to_string())))?;
    Ok(RouteId {
        subscription_id: table.subscription_id,
        resource_group: table.resource_group,
        route_table: table.name,
        name: str_attr(v, "name").unwrap_or_default().to_string(),
    })
}

fn describe(id: &RouteId) -> String {
    format!("{}/{}/{}", id.resource_group, id.route_table, id.name)
}

/// The ARM properties of a route: `nextHopType` in Azure's casing, and
/// `nextHopIpAddress` only when set.
fn properties(planned: &Value) -> serde_json::Value {
    let hop = str_attr(planned, "next_hop_type").unwrap_or_default();
    let hop = canonical(hop, NEXT_HOP_TYPES).unwrap_or(hop);
    let mut props = json!({
        "addressPrefix": str_attr(planned, "address_prefix").unwrap_or_default(),
        "nextHopType": hop,
    });
    if let Some(ip) = str_attr(planned, "next_hop_in_ip_address").filter(|ip| !ip.is_empty()) {
        props["nextHopIpAddress"] = json!(ip);
    }
    props
}

/// The ARM body of a route written on its own.
fn body(planned: &Value) -> serde_json::Value {
    json!({ "properties": properties(planned) })
}

/// The state of a route from ARM's answer, keeping the prior spelling of
/// values that only differ in case, and the prior `timeouts`.
pub(super) fn flatten(arm: &serde_json::Value, prior: &Value) -> Result<Value, Diagnostics> {
    let raw_id = arm.get("id").and_then(|v| v.as_str()).unwrap_or_default();
    let id = RouteId::parse_insensitive(raw_id)
        .map_err(|e| Diagnostics::from(Diagnostic::error("Unexpected route ID from Azure", e.to_string())))?;
    Ok(object([
        ("id", keep_spelling(prior, "id", Value::string(id.to_string()), case_insensitive)),
        ("name", keep_spelling(prior, "name", Value::string(&id.name), case_insensitive)),
        (
            "route_table_id",
            keep_spelling(prior, "route_table_id", Value::string(id.table().to_string()), case_insensitive),
        ),
        (
            "address_prefix",
            keep_spelling(prior, "address_prefix", json_str(arm, "/properties/addressPrefix"), case_insensitive),
        ),
        (
            "next_hop_type",
            keep_spelling(prior, "next_hop_type", json_str(arm, "/properties/nextHopType"), case_insensitive),
        ),
        ("next_hop_in_ip_address", next_hop_ip(arm, prior)),
        ("timeouts", prior.attr("timeouts").cloned().unwrap_or(Value::Null)),
    ]))
}

/// ARM omits an empty next hop IP; an empty string in the configuration
/// stays as written rather than showing as a change to null.
fn next_hop_ip(arm: &serde_json::Value, prior: &Value) -> Value {
    match (json_str(arm, "/properties/nextHopIpAddress"), prior.attr("next_hop_in_ip_address")) {
        (Value::Null, Some(Value::String(p))) if p.is_empty() => Value::string(""),
        (v, _) => v,
    }
}

/// The rules on the planned values, before anything is sent.
fn recheck(kind: RouteKind, planned: &Value) -> Result<(), Diagnostics> {
    let diags = check_route_config(kind, planned);
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(())
    }
}

pub(crate) async fn create(kind: RouteKind, data: &ProviderData, planned: &Value) -> ApplyOutcome {
    if let Err(d) = recheck(kind, planned) {
        return ApplyOutcome::failed(Value::Null, d);
    }
    let id = match id_of(planned) {
        Ok(id) => id,
        Err(d) => return ApplyOutcome::failed(Value::Null, d),
    };
    let path = id.to_string();
    let action = format!("creating route {}", describe(&id));
    let until = TIMEOUTS.deadline(planned, Op::Create);
    // From the moment the write may have reached Azure, state keeps the
    // route whatever fails next (see the route table's create).
    let tracked = tracked_state(planned, &path);
    let change = RouteChange::Put { name: id.name.clone(), properties: properties(planned), create: true };
    match data.route_tables.change(&data.arm, &id.table(), change, until).await {
        ChangeOutcome::Done => {}
        ChangeOutcome::Exists => {
            return ApplyOutcome::failed(Value::Null, requires_import(kind.resource_type(), &path))
        }
        ChangeOutcome::Missing => return ApplyOutcome::failed(Value::Null, table_gone(&id)),
        ChangeOutcome::Failed { error, accepted: true } => {
            return ApplyOutcome::failed(tracked, arm_error(&action, error))
        }
        ChangeOutcome::Failed { error, accepted: false } => {
            return ApplyOutcome::failed(Value::Null, arm_error(&action, error))
        }
        ChangeOutcome::OnItsOwn => return create_alone(kind, data, planned, &id, tracked, until).await,
    }
    after_write(read(data, &tracked).await, tracked, "route")
}

/// The error for a route whose table does not exist.
fn table_gone(id: &RouteId) -> Diagnostics {
    Diagnostic::error(
        "Route table not found",
        format!("The route table {} does not exist; a route is created in an existing table.", id.table()),
    )
    .into()
}

/// A create on its own, as the child resource `{table}/routes/{name}`:
/// after the table refused a batch, so that its error is this route's.
async fn create_alone(
    kind: RouteKind,
    data: &ProviderData,
    planned: &Value,
    id: &RouteId,
    tracked: Value,
    until: tokio::time::Instant,
) -> ApplyOutcome {
    let path = id.to_string();
    let action = format!("creating route {}", describe(id));
    let _guard = data.arm.lock(&id.table().to_string()).await;
    match data.arm.get(&path, API, until).await {
        Ok(None) => {}
        Ok(Some(_)) => return ApplyOutcome::failed(Value::Null, requires_import(kind.resource_type(), &path)),
        Err(e) => return ApplyOutcome::failed(Value::Null, arm_error(&action, e)),
    }
    let (resp, url) = match data.arm.put_create(&path, API, &body(planned), until).await {
        Ok(accepted) => accepted,
        Err(e) if e.may_have_applied() => return ApplyOutcome::failed(tracked, arm_error(&action, e)),
        Err(e) => return ApplyOutcome::failed(Value::Null, create_error(kind.resource_type(), &action, &path, e)),
    };
    if let Err(e) = data.arm.wait(&resp, &url, until).await {
        return ApplyOutcome::failed(tracked, arm_error(&action, e));
    }
    after_write(read(data, &tracked).await, tracked, "route")
}

/// Reads the route from its table's shared read (one GET of the table
/// serves every route of it in a refresh).
pub(crate) async fn read(data: &ProviderData, state: &Value) -> Result<Option<Value>, Diagnostics> {
    let id = id_of(state)?;
    let until = TIMEOUTS.deadline(state, Op::Read);
    let action = format!("reading route {}", describe(&id));
    let found = data
        .route_tables
        .read_route(&data.arm, &id.table(), &id.name, until)
        .await
        .map_err(|e| arm_error(&action, e))?;
    match found {
        None => Ok(None),
        Some(arm) => flatten(&arm, state).map(Some),
    }
}

pub(crate) async fn update(kind: RouteKind, data: &ProviderData, prior: &Value, planned: &Value) -> ApplyOutcome {
    let result = async {
        recheck(kind, planned)?;
        let id = id_of(prior)?;
        let path = id.to_string();
        let action = format!("updating route {}", describe(&id));
        let until = TIMEOUTS.deadline(planned, Op::Update);
        let change = RouteChange::Put { name: id.name.clone(), properties: properties(planned), create: false };
        match data.route_tables.change(&data.arm, &id.table(), change, until).await {
            ChangeOutcome::Done => {}
            ChangeOutcome::Missing | ChangeOutcome::Exists => {
                return Err(Diagnostic::error(
                    "Route not found",
                    format!("{path} was deleted outside Terraform; plan again to re-create it."),
                )
                .into())
            }
            ChangeOutcome::Failed { error, .. } => return Err(arm_error(&action, error)),
            ChangeOutcome::OnItsOwn => {
                let _guard = data.arm.lock(&id.table().to_string()).await;
                data.arm.put(&path, API, &body(planned), None, until).await.map_err(|e| arm_error(&action, e))?;
            }
        }
        let tracked = super::tracked_update(planned, prior, &path);
        Ok(after_write(read(data, &tracked).await, tracked, "route"))
    }
    .await;
    ApplyOutcome::or_unchanged(result, prior)
}

pub(crate) async fn delete(data: &ProviderData, prior: &Value) -> Diagnostics {
    let id = match id_of(prior) {
        Ok(id) => id,
        Err(d) => return d,
    };
    let action = format!("deleting route {}", describe(&id));
    let until = TIMEOUTS.deadline(prior, Op::Delete);
    match data.route_tables.change(&data.arm, &id.table(), RouteChange::Delete { name: id.name.clone() }, until).await {
        ChangeOutcome::Done | ChangeOutcome::Missing => Diagnostics::new(),
        ChangeOutcome::Exists => Diagnostics::new(),
        ChangeOutcome::Failed { error, .. } => arm_error(&action, error),
        ChangeOutcome::OnItsOwn => {
            let _guard = data.arm.lock(&id.table().to_string()).await;
            match data.arm.delete(&id.to_string(), API, until).await {
                Ok(()) => Diagnostics::new(),
                Err(e) => arm_error(&action, e),
            }
        }
    }
}

/// Import by route ID. A firewall route must point at a firewall: any other
/// next hop belongs in `aksudr_route`.
pub(crate) async fn import(
    kind: RouteKind,
    schema: &Schema,
    data: &ProviderData,
    id: &str,
) -> Result<Value, Diagnostics> {
    let parsed = RouteId::parse_import(id)
        .map_err(|e| Diagnostics::from(Diagnostic::error("Invalid import ID", e.to_string())))?;
    if kind == RouteKind::Firewall {
        let action = format!("importing route {}", describe(&parsed));
        let until = TIMEOUTS.deadline(&Value::Null, Op::Read);
        let found = data.arm.get(&parsed.to_string(), API, until).await.map_err(|e| arm_error(&action, e))?;
        if let Some(arm) = found {
            let hop = arm.pointer("/properties/nextHopType").and_then(|h| h.as_str()).unwrap_or_default();
            if !is_one_of(hop, FIREWALL_NEXT_HOP_TYPES) {
                return Err(Diagnostic::error(
                    "Not a firewall route",
                    format!(
                        "{id} has next hop type {hop:?}; aksudr_firewall_route only manages routes to a \
                         VirtualAppliance or VirtualNetworkGateway. Import it as aksudr_route instead."
                    ),
                )
                .into());
            }
        }
    }
    Ok(schema.state_with_id(&parsed.to_string()))
}

/// `aksudr_route` and `aksudr_firewall_route`: one implementation, told
/// apart by their schemas and the rules of their `RouteKind`.
pub struct RouteResource {
    kind: RouteKind,
    type_name: &'static str,
    schema: Schema,
}

impl RouteResource {
    pub fn new(kind: RouteKind, type_name: &'static str, schema: Schema) -> Self {
        RouteResource { kind, type_name, schema }
    }
}

#[async_trait]
impl Resource<ProviderData> for RouteResource {
    fn type_name(&self) -> &'static str {
        self.type_name
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }
    fn validate(&self, config: &Value) -> Diagnostics {
        check_route_config(self.kind, config)
    }
    /// A new route's ID is known at plan once its table's is, so that what
    /// references it (a cluster's `egress_route_id`) is known too.
    async fn modify_plan(&self, _data: Option<&ProviderData>, plan: &mut PlanChange<'_>) -> Diagnostics {
        if plan.planned.attr("id").is_some_and(Value::is_unknown) {
            if let Some(id) = planned_id(&plan.planned) {
                plan.planned.set_attr("id", Value::string(id));
            }
        }
        Diagnostics::new()
    }
    fn plan_recorded(&self, data: &ProviderData, prior: &Value, planned: &Value, replace: bool) {
        record_plan(data, prior, planned, replace);
    }
    async fn create(&self, data: &ProviderData, planned: &Value, _config: &Value) -> ApplyOutcome {
        create(self.kind, data, planned).await
    }
    async fn read(&self, data: &ProviderData, state: &Value) -> Result<Option<Value>, Diagnostics> {
        read(data, state).await
    }
    async fn update(&self, data: &ProviderData, prior: &Value, planned: &Value, _config: &Value) -> ApplyOutcome {
        update(self.kind, data, prior, planned).await
    }
    async fn delete(&self, data: &ProviderData, prior: &Value) -> Diagnostics {
        delete(data, prior).await
    }
    fn importer(&self) -> Option<&dyn Import<ProviderData>> {
        Some(self)
    }
}

#[async_trait]
impl Import<ProviderData> for RouteResource {
    async fn import(&self, data: &ProviderData, id: &str) -> Result<Value, Diagnostics> {
        import(self.kind, &self.schema, data, id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str =
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Network/routeTables/rt";

    fn planned(hop: &str, ip: Option<&str>) -> Value {
        object([
            ("id", Value::Null),
            ("name", Value::string("default")),
            ("route_table_id", Value::string(TABLE)),
            ("address_prefix", Value::string("0.0.0.0/0")),
            ("next_hop_type", Value::string(hop)),
            ("next_hop_in_ip_address", ip.map(Value::string).unwrap_or(Value::Null)),
            ("timeouts", Value::Null),
        ])
    }

    #[test]
    fn body_uses_canonical_casing_and_omits_a_missing_ip() {
        let b = body(&planned("virtualappliance", Some("10.0.1.4")));
        assert_eq!(b["properties"]["nextHopType"], "VirtualAppliance");
        assert_eq!(b["properties"]["nextHopIpAddress"], "10.0.1.4");
        let b = body(&planned("VirtualNetworkGateway", None));
        assert!(b["properties"].get("nextHopIpAddress").is_none(), "{b}");
    }

    #[test]
    fn flatten_keeps_prior_spellings() {
        let prior = planned("virtualappliance", Some("10.0.1.4"));
        let mut prior = prior;
        prior.set_attr("id", Value::string(format!("{TABLE}/routes/default")));
        let arm = json!({
            "id": format!("{}/routes/default", TABLE.replace("resourceGroups", "resourcegroups")),
            "name": "default",
            "properties": {"addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.0.1.4"}
        });
        let s = flatten(&arm, &prior).expect("flattens");
        assert_eq!(s, prior);
    }

    #[test]
    fn an_empty_ip_is_not_sent_and_stays_empty() {
        let p = planned("Internet", Some(""));
        assert!(body(&p)["properties"].get("nextHopIpAddress").is_none());
        let arm = json!({"properties": {"nextHopType": "Internet"}});
        assert_eq!(next_hop_ip(&arm, &p), Value::string(""));
        assert_eq!(next_hop_ip(&arm, &planned("Internet", None)), Value::Null);
    }

    #[test]
    fn id_from_plan() {
        let id = id_of(&planned("VirtualAppliance", None)).expect("id");
        assert_eq!(id.to_string(), format!("{TABLE}/routes/default"));
    }
}
