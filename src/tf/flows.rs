//! What the framework does for each resource RPC, on decoded values: the
//! standard plan behaviour, then the resource's own `modify_plan`; applies
//! dispatched to create, update or delete; state upgrades. `rpc` only
//! decodes, calls these and encodes; resources only implement the
//! `Resource` trait.

use super::diag::{AttributePath, Diagnostic, Diagnostics};
use super::plan::plan as standard_plan;
use super::resource::{ApplyOutcome, PlanChange, Resource};
use super::schema::Schema;
use super::validate::validate;
use super::value::Value;

/// The type's own rules (`rules`), then per-attribute validation for what
/// the rules did not already report (the rules' messages are the more
/// specific).
pub fn validate_config(schema: &Schema, rules: impl Fn(&Value) -> Diagnostics, config: &Value) -> Diagnostics {
    let mut diags = rules(config);
    let mut per_attribute = Diagnostics::new();
    validate(&schema.block, config, &AttributePath::default(), &mut per_attribute);
    diags.extend_unless_reported(per_attribute);
    diags
}

/// A planned change as Terraform receives it.
#[derive(Debug)]
pub struct Planned {
    /// Null for a destroy.
    pub state: Value,
    pub requires_replace: Vec<AttributePath>,
    /// Warnings (errors make the plan fail instead).
    pub diagnostics: Diagnostics,
}

/// Plans a change of one resource: a destroy when `proposed` is null, else
/// the configuration validated again (values unknown at validate may be
/// known now), the standard behaviour, and the resource's `modify_plan`.
/// A successful plan is recorded with the resource (`plan_recorded`) when
/// the provider is configured.
pub async fn plan<D: Send + Sync>(
    r: &dyn Resource<D>,
    data: Option<&D>,
    prior: &Value,
    proposed: &Value,
    config: &Value,
) -> Result<Planned, Diagnostics> {
    if proposed.is_null() {
        if let Some(data) = data {
            r.plan_recorded(data, prior, &Value::Null, false);
        }
        return Ok(Planned { state: Value::Null, requires_replace: Vec::new(), diagnostics: Diagnostics::new() });
    }
    let mut diags = validate_config(r.schema(), |c| r.validate(c), config);
    if diags.has_errors() {
        return Err(diags);
    }
    let planned = standard_plan(&r.schema().block, prior, proposed, config);
    let mut change = PlanChange { prior, config, planned: planned.state, requires_replace: planned.requires_replace };
    diags.extend(r.modify_plan(data, &mut change).await);
    if diags.has_errors() {
        return Err(diags);
    }
    if let Some(data) = data {
        r.plan_recorded(data, prior, &change.planned, !change.requires_replace.is_empty());
    }
    Ok(Planned { state: change.planned, requires_replace: change.requires_replace, diagnostics: diags })
}

/// Applies a planned change: delete when `planned` is null (the prior state
/// stays if that fails), create when `prior` is null, update otherwise.
pub async fn apply<D: Send + Sync>(
    r: &dyn Resource<D>,
    data: &D,
    prior: &Value,
    planned: &Value,
    config: &Value,
) -> ApplyOutcome {
    if planned.is_null() {
        let d = r.delete(data, prior).await;
        let state = if d.has_errors() { prior.clone() } else { Value::Null };
        ApplyOutcome::failed(state, d)
    } else if prior.is_null() {
        r.create(data, planned, config).await
    } else {
        r.update(data, prior, planned, config).await
    }
}

/// Reads a resource; null when it no longer exists (Terraform then drops it
/// from state).
pub async fn read<D: Send + Sync>(r: &dyn Resource<D>, data: &D, state: &Value) -> Result<Value, Diagnostics> {
    Ok(r.read(data, state).await?.unwrap_or(Value::Null))
}

/// The state to import `id` into, for types that can be imported.
pub async fn import<D: Send + Sync>(r: &dyn Resource<D>, data: &D, id: &str) -> Result<Value, Diagnostics> {
    let importer = r.importer().ok_or_else(|| {
        Diagnostics::from(Diagnostic::error(
            "Import not supported",
            format!("{} cannot be imported by this build of the provider.", r.type_name()),
        ))
    })?;
    importer.import(data, id).await
}

/// Upgrades JSON state written with schema `version` to the current schema
/// (`json` empty: the flatmap format of Terraform 0.11), and drops
/// attributes the schema no longer declares.
pub fn upgrade_state<D: Send + Sync>(r: &dyn Resource<D>, version: i64, json: &[u8]) -> Result<Value, Diagnostics> {
    if json.is_empty() {
        return Err(Diagnostic::error(
            "Unsupported state format",
            "The state of this resource is in the flatmap format of Terraform 0.11, which this provider never \
             wrote. Remove it from state and import it again.",
        )
        .into());
    }
    let mut state: serde_json::Value = serde_json::from_slice(json)
        .map_err(|e| Diagnostic::error("Malformed state", format!("The stored state is not JSON: {e}")))?;
    let schema = r.schema();
    if version > schema.version {
        return Err(Diagnostic::error(
            "State written by a newer provider",
            format!(
                "This state has schema version {version} but this provider knows version {}. Upgrade the provider.",
                schema.version
            ),
        )
        .into());
    }
    if version < schema.version {
        let up = r.upgrader().ok_or_else(|| {
            Diagnostics::from(Diagnostic::error("No state upgrade", "This resource cannot upgrade its state."))
        })?;
        state = up.upgrade(version, state)?;
    }
    super::json::drop_undeclared_attributes(&mut state, &schema.value_type());
    let bytes =
        serde_json::to_vec(&state).map_err(|e| Diagnostic::error("Internal error re-encoding state", e.to_string()))?;
    super::json::decode(&bytes, &schema.value_type())
        .map_err(|e| Diagnostic::error("Malformed state", e.to_string()).into())
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;

    use super::*;
    use crate::tf::resource::UpgradeState;
    use crate::tf::schema::{Attribute, Block};

    /// A resource that records what the framework asks of it.
    struct Fake {
        schema: Schema,
        calls: Mutex<Vec<String>>,
        /// `modify_plan` fails with this error when set.
        refuse: Option<&'static str>,
    }

    #[derive(Default)]
    struct Data;

    impl Fake {
        fn new(version: i64) -> Self {
            let block = Block::new("a test resource")
                .attr(Attribute::string("id", "id").computed())
                .attr(Attribute::string("name", "name").required().forces_replacement())
                .attr(Attribute::string("note", "note").optional());
            Fake { schema: Schema::new(version, block), calls: Mutex::new(Vec::new()), refuse: None }
        }
        fn calls(&self) -> Vec<String> {
            self.calls.lock().expect("calls").clone()
        }
        fn note(&self, s: &str) {
            self.calls.lock().expect("calls").push(s.to_string());
        }
    }

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }

    #[async_trait]
    impl Resource<Data> for Fake {
        fn type_name(&self) -> &'static str {
            "test_fake"
        }
        fn schema(&self) -> &Schema {
            &self.schema
        }
        fn validate(&self, config: &Value) -> Diagnostics {
            match config.attr("note").and_then(Value::as_str) {
                Some("bad") => Diagnostic::error("Bad note", "no").at(AttributePath::root("note")).into(),
                _ => Diagnostics::new(),
            }
        }
        async fn modify_plan(&self, data: Option<&Data>, plan: &mut PlanChange<'_>) -> Diagnostics {
            self.note(&format!("modify_plan configured={}", data.is_some()));
            if let Some(why) = self.refuse {
                return Diagnostic::error(why, "").into();
            }
            plan.planned.set_attr("id", Value::string("planned-id"));
            Diagnostic::warning("a warning", "").into()
        }
        fn plan_recorded(&self, _: &Data, prior: &Value, planned: &Value, replace: bool) {
            self.note(&format!(
                "recorded prior_null={} planned_null={} replace={replace}",
                prior.is_null(),
                planned.is_null()
            ));
        }
        async fn create(&self, _: &Data, planned: &Value, _: &Value) -> ApplyOutcome {
            self.note("create");
            ApplyOutcome::ok(planned.clone())
        }
        async fn read(&self, _: &Data, state: &Value) -> Result<Option<Value>, Diagnostics> {
            self.note("read");
            Ok((state.attr("name").and_then(Value::as_str) != Some("gone")).then(|| state.clone()))
        }
        async fn update(&self, _: &Data, _: &Value, planned: &Value, _: &Value) -> ApplyOutcome {
            self.note("update");
            ApplyOutcome::ok(planned.clone())
        }
        async fn delete(&self, _: &Data, prior: &Value) -> Diagnostics {
            self.note("delete");
            match prior.attr("name").and_then(Value::as_str) {
                Some("stuck") => Diagnostic::error("Cannot delete", "").into(),
                _ => Diagnostics::new(),
            }
        }
        fn upgrader(&self) -> Option<&dyn UpgradeState> {
            Some(self)
        }
    }

    impl UpgradeState for Fake {
        fn upgrade(&self, from: i64, mut state: serde_json::Value) -> Result<serde_json::Value, Diagnostics> {
            // Version 0 called `note` `comment`.
            if from == 0 {
                if let Some(c) = state.as_object_mut().and_then(|o| o.remove("comment")) {
                    state["note"] = c;
                }
            }
            Ok(state)
        }
    }

    #[tokio::test]
    async fn a_create_is_planned_validated_modified_and_recorded() {
        let r = Fake::new(0);
        let config = obj(&[("id", Value::Null), ("name", Value::string("a")), ("note", Value::Null)]);
        let planned = plan(&r, Some(&Data), &Value::Null, &config, &config).await.expect("planned");
        assert_eq!(planned.state.attr("id"), Some(&Value::string("planned-id")));
        assert!(planned.requires_replace.is_empty());
        assert_eq!(planned.diagnostics.0.len(), 1, "the warning comes along");
        assert_eq!(
            r.calls(),
            ["modify_plan configured=true", "recorded prior_null=true planned_null=false replace=false"]
        );
    }

    #[tokio::test]
    async fn a_replacement_is_recorded_as_such_and_an_unconfigured_plan_records_nothing() {
        let r = Fake::new(0);
        let prior = obj(&[("id", Value::string("x")), ("name", Value::string("a")), ("note", Value::Null)]);
        let config = obj(&[("id", Value::Null), ("name", Value::string("b")), ("note", Value::Null)]);
        let planned = plan(&r, Some(&Data), &prior, &config, &config).await.expect("planned");
        assert_eq!(planned.requires_replace, vec![AttributePath::root("name")]);
        assert_eq!(
            r.calls().last().map(String::as_str),
            Some("recorded prior_null=false planned_null=false replace=true")
        );
        let r = Fake::new(0);
        plan(&r, None, &prior, &config, &config).await.expect("planned");
        assert_eq!(r.calls(), ["modify_plan configured=false"]);
    }

    #[tokio::test]
    async fn invalid_configurations_and_refusals_fail_before_anything_is_recorded() {
        let r = Fake::new(0);
        let config = obj(&[("id", Value::Null), ("name", Value::string("a")), ("note", Value::string("bad"))]);
        let err = plan(&r, Some(&Data), &Value::Null, &config, &config).await.expect_err("invalid");
        assert!(err.iter().any(|d| d.summary == "Bad note"), "{err:?}");
        assert!(r.calls().is_empty(), "nothing ran: {:?}", r.calls());
        let mut r = Fake::new(0);
        r.refuse = Some("Refused");
        let config = obj(&[("id", Value::Null), ("name", Value::string("a")), ("note", Value::Null)]);
        let err = plan(&r, Some(&Data), &Value::Null, &config, &config).await.expect_err("refused");
        assert!(err.iter().any(|d| d.summary == "Refused"));
        assert_eq!(r.calls(), ["modify_plan configured=true"], "a refused plan is not recorded");
    }

    #[tokio::test]
    async fn a_destroy_is_recorded_without_modify_plan() {
        let r = Fake::new(0);
        let prior = obj(&[("id", Value::string("x")), ("name", Value::string("a")), ("note", Value::Null)]);
        let planned = plan(&r, Some(&Data), &prior, &Value::Null, &Value::Null).await.expect("planned");
        assert!(planned.state.is_null());
        assert_eq!(r.calls(), ["recorded prior_null=false planned_null=true replace=false"]);
    }

    #[tokio::test]
    async fn applies_go_to_create_update_or_delete_and_a_failed_delete_keeps_the_state() {
        let r = Fake::new(0);
        let a = obj(&[("id", Value::string("x")), ("name", Value::string("a")), ("note", Value::Null)]);
        let b = obj(&[("id", Value::string("x")), ("name", Value::string("a")), ("note", Value::string("n"))]);
        assert_eq!(apply(&r, &Data, &Value::Null, &a, &a).await.state, a);
        assert_eq!(apply(&r, &Data, &a, &b, &b).await.state, b);
        assert!(apply(&r, &Data, &a, &Value::Null, &Value::Null).await.state.is_null());
        let stuck = obj(&[("id", Value::string("x")), ("name", Value::string("stuck")), ("note", Value::Null)]);
        let out = apply(&r, &Data, &stuck, &Value::Null, &Value::Null).await;
        assert_eq!(out.state, stuck, "still there, still in state");
        assert!(out.diagnostics.has_errors());
        assert_eq!(r.calls(), ["create", "update", "delete", "delete"]);
        let gone = obj(&[("id", Value::string("x")), ("name", Value::string("gone")), ("note", Value::Null)]);
        assert!(read(&r, &Data, &gone).await.expect("read").is_null(), "gone from Azure: dropped from state");
        assert_eq!(read(&r, &Data, &a).await.expect("read"), a);
        let err = import(&r, &Data, "x").await.expect_err("no importer");
        assert!(err.iter().any(|d| d.summary == "Import not supported"));
    }

    #[test]
    fn state_upgrades_run_the_upgrader_and_drop_what_is_no_longer_declared() {
        let r = Fake::new(1);
        let old = br#"{"id":"x","name":"a","comment":"kept as note","removed_long_ago":1}"#;
        let up = upgrade_state(&r, 0, old).expect("upgraded");
        assert_eq!(up.attr("note"), Some(&Value::string("kept as note")));
        assert!(up.attr("removed_long_ago").is_none());
        let current = br#"{"id":"x","name":"a","note":null}"#;
        assert_eq!(upgrade_state(&r, 1, current).expect("as is").attr("name"), Some(&Value::string("a")));
        for (version, json, summary) in [
            (2, &current[..], "State written by a newer provider"),
            (1, &b""[..], "Unsupported state format"),
            (1, &b"{not json"[..], "Malformed state"),
        ] {
            let err = upgrade_state(&r, version, json).expect_err(summary);
            assert!(err.iter().any(|d| d.summary == summary), "{summary}: {err:?}");
        }
    }
}
