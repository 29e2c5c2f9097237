//! The `Resource` trait every resource type implements, and the optional
//! capabilities (import, state upgrade) as separate traits.

use async_trait::async_trait;

use super::diag::{AttributePath, Diagnostics};
use super::schema::Schema;
use super::value::Value;

/// The outcome of a write: the new state (possibly partial, when the object
/// was created but could not be completed) and what went wrong.
#[derive(Debug)]
pub struct ApplyOutcome {
    /// `Value::Null` when nothing exists afterwards.
    pub state: Value,
    pub diagnostics: Diagnostics,
}

impl ApplyOutcome {
    pub fn ok(state: Value) -> Self {
        ApplyOutcome { state, diagnostics: Diagnostics::new() }
    }
    pub fn failed(state: Value, diagnostics: Diagnostics) -> Self {
        ApplyOutcome { state, diagnostics }
    }
    /// An update's outcome: `result`'s own, or, when it failed before
    /// changing anything, `unchanged` (the prior state) with the
    /// diagnostics.
    pub fn or_unchanged(result: Result<ApplyOutcome, Diagnostics>, unchanged: &Value) -> Self {
        result.unwrap_or_else(|d| ApplyOutcome::failed(unchanged.clone(), d))
    }
}

/// A plan under construction, handed to [`Resource::modify_plan`] after the
/// framework's standard behaviour has run.
#[derive(Debug)]
pub struct PlanChange<'a> {
    /// Null on create.
    pub prior: &'a Value,
    pub config: &'a Value,
    /// The planned new state; null on destroy.
    pub planned: Value,
    pub requires_replace: Vec<AttributePath>,
}

/// One resource type. `D` is the configured provider's data (its ARM client);
/// it is `None` while the provider is not configured yet or its
/// configuration is unknown.
#[async_trait]
pub trait Resource<D: Send + Sync>: Send + Sync {
    /// `aksudr_<name>`.
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> &Schema;

    /// Cross-attribute checks on a configuration that may hold unknowns.
    fn validate(&self, _config: &Value) -> Diagnostics {
        Diagnostics::new()
    }

    /// Adjusts the framework's plan; runs for creates and updates (not
    /// destroys).
    async fn modify_plan(&self, _data: Option<&D>, _plan: &mut PlanChange<'_>) -> Diagnostics {
        Diagnostics::new()
    }

    /// Told of every change planned for this resource type once planning
    /// succeeded: creates and updates, destroys (`planned` null; Terraform
    /// 1.3 and later plan those with the provider) and the first half of a
    /// replacement (`replace`, with the new values in `planned`; the create
    /// that follows is planned again with a null `prior`). Resources whose
    /// planned changes other resources' plans must see record them here.
    fn plan_recorded(&self, _data: &D, _prior: &Value, _planned: &Value, _replace: bool) {}

    async fn create(&self, data: &D, planned: &Value, config: &Value) -> ApplyOutcome;
    /// `Ok(None)` when the object no longer exists (removed from state).
    async fn read(&self, data: &D, state: &Value) -> Result<Option<Value>, Diagnostics>;
    async fn update(&self, data: &D, prior: &Value, planned: &Value, config: &Value) -> ApplyOutcome;
    /// Already gone counts as deleted.
    async fn delete(&self, data: &D, prior: &Value) -> Diagnostics;

    /// The import capability, when the resource has it.
    fn importer(&self) -> Option<&dyn Import<D>> {
        None
    }
    /// The state-upgrade capability, for schemas past version 0.
    fn upgrader(&self) -> Option<&dyn UpgradeState> {
        None
    }
}

/// Import by ID: returns the state to hand to `read`.
#[async_trait]
pub trait Import<D: Send + Sync>: Send + Sync {
    async fn import(&self, data: &D, id: &str) -> Result<Value, Diagnostics>;
}

/// Upgrades JSON state written by an older schema version to the current one.
pub trait UpgradeState: Send + Sync {
    fn upgrade(&self, from_version: i64, state: serde_json::Value) -> Result<serde_json::Value, Diagnostics>;
}
