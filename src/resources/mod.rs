//! The resource types, one file each, plus the attribute declarations and
//! checks they share.

mod aks_write;
pub mod cluster;
pub mod cluster_credentials;
pub mod egress_requirements_data;
pub mod firewall_route;
pub mod node_pool;
#[cfg(test)]
mod properties;
pub mod route;
mod route_common;
pub mod route_table;
mod subnet_egress;
pub mod subnet_egress_data;
pub mod subnet_route_table_association;

use crate::arm::ids::{RouteTableId, SubnetId};
use crate::context::ProviderData;
use crate::rules::{
    self,
    route::{RouteKind, RouteSpec},
    Input,
};
use crate::tf::data_source::{DataSource, EphemeralResource};
use crate::tf::diag::Diagnostics;
use crate::tf::resource::{ApplyOutcome, Resource};
use crate::tf::schema::{Attribute, Block, NestedBlock};
use crate::tf::value::Value;

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

/// `id`, the ARM ID, known once created and never changing afterwards.
pub(crate) fn id_attribute(what: &str) -> Attribute {
    Attribute::string("id", &format!("The ARM resource ID of the {what}.")).computed().stable()
}

pub(crate) fn resource_group_attribute(what: &str) -> Attribute {
    Attribute::string(
        "resource_group_name",
        &format!("The existing resource group of the {what}. Changing it forces replacement."),
    )
    .required()
    .forces_replacement()
    .check(check_resource_group_name)
}

pub(crate) fn location_attribute(what: &str) -> Attribute {
    Attribute::string(
        "location",
        &format!(
            "The Azure region of the {what}, e.g. `westeurope` or `West Europe` (both spellings are the same \
             region and never show as a difference). Changing it forces replacement."
        ),
    )
    .required()
    .forces_replacement()
    .equivalent(same_location)
}

pub(crate) fn tags_attribute() -> Attribute {
    Attribute::string_map("tags", "Tags to assign. Updated in place.").optional()
}

pub(crate) fn route_table_id_attribute(what: &str) -> Attribute {
    Attribute::string(
        "route_table_id",
        &format!(
            "The ARM ID of the route table the {what} belongs to (`aksudr_route_table.<name>.id`). \
             Changing it forces replacement."
        ),
    )
    .required()
    .forces_replacement()
    .equivalent(crate::tf::schema::case_insensitive)
    .check(check_route_table_id)
}

pub(crate) fn route_name_attribute() -> Attribute {
    Attribute::string("name", "The route's name, unique within its route table. Changing it forces replacement.")
        .required()
        .forces_replacement()
        .check(check_network_name)
}

pub(crate) fn route_next_hop_ip_attribute() -> Attribute {
    Attribute::string(
        "next_hop_in_ip_address",
        "The IP address of the firewall or NVA. Required when `next_hop_type` is `VirtualAppliance`, \
         not allowed otherwise. Updated in place.",
    )
    .optional()
}

/// Runs the route rules (R1-R4) on a route resource's configuration.
pub(crate) fn check_route_config(kind: RouteKind, config: &Value) -> Diagnostics {
    rules::route::check_route(&RouteSpec {
        kind,
        address_prefix: input_str(config, "address_prefix"),
        next_hop_type: input_str(config, "next_hop_type"),
        next_hop_in_ip_address: input_str(config, "next_hop_in_ip_address"),
    })
}

/// A string attribute as the rules see it.
pub(crate) fn input_str(v: &Value, name: &str) -> Input<String> {
    match v.attr(name) {
        Some(Value::String(s)) => Input::Known(s.clone()),
        Some(Value::Unknown) => Input::Unknown,
        _ => Input::Null,
    }
}

/// A resource's time limits: declared once, they give both the `timeouts`
/// block (each default stated in its description) and each operation's
/// deadline.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Timeouts {
    pub create: std::time::Duration,
    pub read: std::time::Duration,
    pub update: std::time::Duration,
    pub delete: std::time::Duration,
}

impl Timeouts {
    /// Limits in whole minutes.
    pub const fn minutes(create: u64, read: u64, update: u64, delete: u64) -> Self {
        use std::time::Duration;
        Timeouts {
            create: Duration::from_secs(create * 60),
            read: Duration::from_secs(read * 60),
            update: Duration::from_secs(update * 60),
            delete: Duration::from_secs(delete * 60),
        }
    }

    /// The `timeouts` block.
    pub fn block(&self) -> NestedBlock {
        let attr = |name: &'static str, default: std::time::Duration| {
            Attribute::string(
                name,
                &format!(
                    "How long {name} may take, as a Go duration such as `90m` or `1h30m`. Default {}m.",
                    default.as_secs() / 60
                ),
            )
            .optional()
            .check(check_duration)
        };
        NestedBlock::single(
            "timeouts",
            Block::new("Time limits for each operation.")
                .attr(attr("create", self.create))
                .attr(attr("read", self.read))
                .attr(attr("update", self.update))
                .attr(attr("delete", self.delete)),
        )
    }

    /// When `op` must be done by: the `timeouts` block's value in `v`
    /// (config, plan or state), else the default.
    pub fn deadline(&self, v: &Value, op: Op) -> tokio::time::Instant {
        tokio::time::Instant::now() + self.duration(v, op)
    }

    /// How long `op` may take: the `timeouts` block's value in `v`, else
    /// the default.
    pub fn duration(&self, v: &Value, op: Op) -> std::time::Duration {
        let default = match op {
            Op::Create => self.create,
            Op::Read => self.read,
            Op::Update => self.update,
            Op::Delete => self.delete,
        };
        configured_duration(v, op).unwrap_or(default)
    }
}

/// Region names as ARM compares them: case and spaces do not matter.
pub fn normalize_location(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase()
}

fn same_location(a: &Value, b: &Value) -> bool {
    match (a.as_str(), b.as_str()) {
        (Some(x), Some(y)) => normalize_location(x) == normalize_location(y),
        _ => false,
    }
}

pub(crate) fn check_route_table_id(s: &str) -> Result<(), String> {
    RouteTableId::parse(s).map(|_| ()).map_err(|e| e.to_string())
}

pub(crate) fn check_subnet_id(s: &str) -> Result<(), String> {
    SubnetId::parse(s).map(|_| ()).map_err(|e| e.to_string())
}

/// Network resource names (route tables, routes): 1-80 characters of
/// letters, digits, `_`, `.` and `-`, starting with a letter or digit and
/// ending with a letter, digit or `_` (Azure's naming rules for
/// Microsoft.Network).
pub(crate) fn check_network_name(s: &str) -> Result<(), String> {
    let valid_chars = s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    let first_ok = s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    let last_ok = s.chars().last().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    if s.is_empty() || s.len() > 80 || !valid_chars || !first_ok || !last_ok {
        return Err(format!(
            "{s:?} is not a valid name: use 1 to 80 letters, digits, underscores, periods or hyphens, \
             starting with a letter or digit and ending with a letter, digit or underscore."
        ));
    }
    Ok(())
}

/// Resource group names: 1-90 characters of letters, digits, `_`, `(`, `)`,
/// `-` and `.`, not ending with a period.
pub(crate) fn check_resource_group_name(s: &str) -> Result<(), String> {
    let valid_chars = s.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '(' | ')' | '-' | '.'));
    if s.is_empty() || s.chars().count() > 90 || !valid_chars || s.ends_with('.') {
        return Err(format!(
            "{s:?} is not a valid resource group name: use 1 to 90 letters, digits, underscores, parentheses, \
             hyphens or periods, not ending with a period."
        ));
    }
    Ok(())
}

/// Go duration syntax (`90m`, `1h30m`, `45s`), as Terraform users write
/// timeouts.
pub(crate) fn check_duration(s: &str) -> Result<(), String> {
    parse_duration(s).map(|_| ()).ok_or_else(|| {
        format!("{s:?} is not a duration: write a number with a unit, such as \"90m\", \"1h30m\" or \"45s\".")
    })
}

/// Parses Go duration syntax into a `Duration`; `None` when malformed.
pub fn parse_duration(s: &str) -> Option<std::time::Duration> {
    if s.is_empty() {
        return None;
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        if num_len == 0 {
            return None;
        }
        let n: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let secs = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += n * secs;
    }
    (total.is_finite() && total < 1e9).then(|| std::time::Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90m"), Some(std::time::Duration::from_secs(5400)));
        assert_eq!(parse_duration("1h30m"), Some(std::time::Duration::from_secs(5400)));
        for bad in ["", "90", "m", "1x", "1h-3m", "ü"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn names() {
        assert!(check_network_name("rt-egress_1").is_ok());
        assert!(check_network_name("route.").is_err());
        assert!(check_network_name("-x").is_err());
        assert!(check_network_name(&"a".repeat(81)).is_err());
        assert!(check_resource_group_name("rg-egress").is_ok());
        assert!(check_resource_group_name("rg.").is_err());
    }

    #[test]
    fn tracked_states() {
        let planned = object([
            ("id", Value::Null),
            ("name", Value::string("c")),
            ("kube_config_raw", Value::Unknown),
            ("tags", Value::Map([("a".to_string(), Value::Unknown)].into_iter().collect())),
        ]);
        let created = tracked_state(&planned, "/x");
        assert_eq!(created.attr("id"), Some(&Value::string("/x")));
        assert_eq!(created.attr("kube_config_raw"), Some(&Value::Null));
        let prior = object([("kube_config_raw", Value::string("apiVersion: v1"))]);
        let updated = tracked_update(&planned, &prior, "/x");
        assert_eq!(updated.attr("kube_config_raw"), Some(&Value::string("apiVersion: v1")), "kept from prior");
        assert_eq!(updated.attr("name"), Some(&Value::string("c")));
        assert!(!updated.contains_unknown(), "{updated:?}");
    }

    #[test]
    fn locations_compare_loosely() {
        assert!(same_location(&Value::string("West Europe"), &Value::string("westeurope")));
        assert!(!same_location(&Value::string("West Europe"), &Value::string("northeurope")));
    }
}

/// The operations a `timeouts` block bounds.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Op {
    Create,
    Read,
    Update,
    Delete,
}

/// The `timeouts` block's value for `op` in `v` (config, plan or state).
fn configured_duration(v: &Value, op: Op) -> Option<std::time::Duration> {
    let key = match op {
        Op::Create => "create",
        Op::Read => "read",
        Op::Update => "update",
        Op::Delete => "delete",
    };
    v.attr("timeouts").and_then(|t| t.attr(key)).and_then(Value::as_str).and_then(parse_duration)
}

/// A known string attribute.
pub(crate) fn str_attr<'a>(v: &'a Value, name: &str) -> Option<&'a str> {
    v.attr(name).and_then(Value::as_str)
}

/// An object value from attribute pairs.
pub(crate) fn object<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// A string from ARM, or null.
pub(crate) fn json_str(v: &serde_json::Value, pointer: &str) -> Value {
    v.pointer(pointer).and_then(|s| s.as_str()).map(Value::string).unwrap_or(Value::Null)
}

/// Keeps the prior spelling of a value that ARM returns in another case or
/// form (IDs, regions, enums), so the difference never shows as drift.
pub(crate) fn keep_spelling(prior: &Value, name: &str, from_arm: Value, same: fn(&Value, &Value) -> bool) -> Value {
    match prior.attr(name) {
        Some(p) if !p.is_null() && same(p, &from_arm) => p.clone(),
        _ => from_arm,
    }
}

/// Removes `keys` from a JSON object (read-only properties before a PUT of
/// what a GET returned); no effect on other values.
pub(crate) fn remove_keys(v: &mut serde_json::Value, keys: &[&str]) {
    if let Some(obj) = v.as_object_mut() {
        for k in keys {
            obj.remove(*k);
        }
    }
}

/// The diagnostic for a failed ARM call while doing `action` (e.g.
/// "creating route table rg/rt").
pub(crate) fn arm_error(action: &str, e: crate::arm::ArmError) -> Diagnostics {
    use crate::arm::ArmError;
    let summary = match &e {
        ArmError::Credential(_) | ArmError::CredentialUnavailable(_) => "Cannot authenticate to Azure".to_string(),
        ArmError::Stopped => format!("Interrupted while {action}"),
        ArmError::Timeout => format!("Timed out while {action}"),
        _ => format!("Azure refused {action}"),
    };
    let summary = match e.code() {
        Some(code) if !e.is_credential() => format!("{summary} ({code})"),
        _ => summary,
    };
    crate::tf::diag::Diagnostic::error(summary, format!("While {action}: {e}")).into()
}

/// A read at plan that failed. A refusal (a credential Azure rejects, a
/// missing configuration, a 403) fails the plan, naming what to fix, since
/// the apply would fail the same way; only a transient failure (Azure or the
/// login endpoint unreachable or failing after retries, a timeout) lets the
/// plan go on, with a warning that says so and that `then` happens at apply.
pub(crate) fn plan_read_failed(check: &str, then: &str, e: crate::arm::ArmError, path: &str) -> Diagnostics {
    let path = crate::tf::diag::AttributePath::parse(path);
    if e.is_transient() {
        return crate::tf::diag::Diagnostic::warning(
            format!("Could not {check} at plan"),
            format!(
                "Azure could not be reached or failed, which may pass: {e}\n{then} This plan is not a verdict on \
                 it."
            ),
        )
        .at(path)
        .into();
    }
    let mut d = arm_error(&format!("trying to {check} at plan"), e);
    for d in &mut d.0 {
        d.path = Some(path.clone());
    }
    d
}

/// What state records of an object that Azure has accepted: the planned
/// values with the ID, values known only after apply as null. Terraform then
/// keeps tracking the object whatever happens next, instead of orphaning it.
pub(crate) fn tracked_state(planned: &Value, id: &str) -> Value {
    let mut s = known_only(planned);
    s.set_attr("id", Value::string(id));
    s
}

/// [`tracked_state`] for an update: what the plan leaves unknown keeps its
/// prior value (not null), so that a read failing after the update does
/// not wipe, say, the kubeconfig from the state.
pub(crate) fn tracked_update(planned: &Value, prior: &Value, id: &str) -> Value {
    fn fill(v: &Value, prior: Option<&Value>) -> Value {
        match v {
            Value::Unknown => prior.cloned().unwrap_or(Value::Null),
            Value::Object(m) => {
                Value::Object(m.iter().map(|(k, v)| (k.clone(), fill(v, prior.and_then(|p| p.attr(k))))).collect())
            }
            Value::List(items) => Value::List(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| fill(v, prior.and_then(Value::elements).and_then(|e| e.get(i))))
                    .collect(),
            ),
            other => known_only(other),
        }
    }
    let mut s = fill(planned, Some(prior));
    s.set_attr("id", Value::string(id));
    s
}

/// `v` with unknowns (inside sets and maps) as null.
fn known_only(v: &Value) -> Value {
    match v {
        Value::Unknown => Value::Null,
        Value::List(items) => Value::List(items.iter().map(known_only).collect()),
        Value::Set(items) => Value::Set(items.iter().map(known_only).collect()),
        Value::Map(m) => Value::Map(m.iter().map(|(k, v)| (k.clone(), known_only(v))).collect()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), known_only(v))).collect()),
        other => other.clone(),
    }
}

/// The outcome of a write that Azure completed, from the read that follows
/// it: the object as read; when the read fails (a permission the identity
/// lacks, a transient error), `tracked` with the read's errors as warnings,
/// since the write itself succeeded and the next refresh reads it; when the
/// object has vanished, `tracked` with an error.
pub(crate) fn after_write(read: Result<Option<Value>, Diagnostics>, tracked: Value, what: &str) -> ApplyOutcome {
    match read {
        Ok(Some(state)) => ApplyOutcome::ok(state),
        Ok(None) => ApplyOutcome::failed(
            tracked,
            crate::tf::diag::Diagnostic::error(
                format!("{what} vanished"),
                format!("Azure completed the write of the {what}, then had no such object."),
            )
            .into(),
        ),
        Err(d) => {
            let mut warnings = Diagnostics::new();
            for e in d.0 {
                warnings.push(crate::tf::diag::Diagnostic::warning(
                    format!("Written, but not read back: {}", e.summary),
                    format!(
                        "Azure completed the write of the {what}; reading it afterwards failed, so the state holds \
                         the planned values until the next refresh.\n{}",
                        e.detail
                    ),
                ));
            }
            ApplyOutcome { state: tracked, diagnostics: warnings }
        }
    }
}

/// Whether a conditional write should be redone on a fresh read: 412 (the
/// object changed since it was read) or an answer lost after sending (our
/// own write may have landed; the read tells).
pub(crate) fn stale_or_unanswered(e: &crate::arm::ArmError) -> bool {
    e.status() == Some(412) || matches!(e, crate::arm::ArmError::Unanswered { .. })
}

/// The error for a create's PUT: a 412 answers `If-None-Match: *` (the
/// object appeared since it was checked), which needs an import.
pub(crate) fn create_error(type_name: &str, action: &str, id: &str, e: crate::arm::ArmError) -> Diagnostics {
    if e.status() == Some(412) {
        return requires_import(type_name, id);
    }
    arm_error(action, e)
}

/// The error for creating something that already exists: Terraform must
/// import it rather than silently adopt (or overwrite) it.
pub(crate) fn requires_import(type_name: &str, id: &str) -> Diagnostics {
    crate::tf::diag::Diagnostic::error(
        "A resource with this ID already exists - to be managed via Terraform it needs to be imported",
        format!(
            "{id} already exists in Azure. Import it into the state with\n  terraform import <address> {id}\n\
             or an import block, then plan again. ({type_name})"
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
