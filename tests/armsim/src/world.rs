//! The simulated cloud's mutable state (stored resources, operations, LRO failure rules)
//! and the cross-cutting write rules: preconditions, conflicts and starting operations.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::error::ArmError;
use crate::faults::{take_match, LroFailure, Rule};
use crate::guid::IdGen;
use crate::http::{Req, Resp};
use crate::lro::{Completion, OpState, Operation, Operations};
use crate::paths::Namespace;
use crate::store::{Entry, Store};

/// Everything a request handler may read or change, behind one lock.
#[derive(Debug)]
pub(crate) struct World {
    pub store: Store,
    pub ops: Operations,
    pub lro_failures: Vec<Rule<LroFailure>>,
    pub lro_delay: Duration,
    pub ids: Arc<IdGen>,
    /// `https://127.0.0.1:PORT`, used in operation URLs.
    pub base_url: String,
    /// Another host name for operation URLs (a status service on its own
    /// host, as some clouds have), same port; `None`: the ARM host.
    pub operation_host: Option<String>,
    /// Route IDs AKS wrote for a kubenet cluster's nodes, by lower-cased cluster ID.
    pub pod_routes: HashMap<String, Vec<String>>,
}

/// What a handler tells [`World::start_op`] about the operation it starts.
#[derive(Debug)]
pub(crate) struct OpSpec {
    pub ns: Namespace,
    pub name: &'static str,
    pub resource_id: String,
    pub lock: String,
    pub sub: String,
    pub location: String,
    pub completion: Completion,
    pub is_delete: bool,
}

impl World {
    pub fn new(ids: Arc<IdGen>, lro_delay: Duration) -> Self {
        World {
            store: Store::default(),
            ops: Operations::default(),
            lro_failures: Vec::new(),
            lro_delay,
            ids,
            base_url: String::new(),
            operation_host: None,
            pod_routes: HashMap::new(),
        }
    }

    /// Completes every operation whose time has come, applying its effect to the store.
    pub fn advance(&mut self, now: Instant) {
        for op in self.ops.take_due(now) {
            let ok = op.state == OpState::Succeeded;
            match &op.completion {
                Completion::Provisioned(ids) => {
                    for id in ids {
                        self.set_state(id, if ok { "Succeeded" } else { "Failed" });
                    }
                }
                Completion::Deleted(ids) => {
                    for id in ids {
                        if ok {
                            crate::network::remove(self, id);
                        } else {
                            self.set_state(id, "Failed");
                        }
                    }
                }
                Completion::Cluster { id, created } => {
                    crate::aks::complete_write(self, id, *created, ok);
                }
                Completion::ClusterDeleted(id) => crate::aks::complete_delete(self, id, ok),
                Completion::AgentPool { cluster, pool } => crate::agent_pools::complete_write(self, cluster, pool, ok),
                Completion::AgentPoolDeleted { cluster, pool } => {
                    crate::agent_pools::complete_delete(self, cluster, pool, ok)
                }
            }
        }
    }

    /// Sets `properties.provisioningState` and gives the resource a new etag.
    pub fn set_state(&mut self, id: &str, state: &str) {
        let etag = self.ids.etag();
        if let Some(e) = self.store.get_mut(id) {
            e.props_mut().insert("provisioningState".into(), json!(state));
            set_etag(&mut e.body, etag);
        }
    }

    /// Gives a stored resource a new etag (its content or a composed part changed).
    pub fn bump_etag(&mut self, id: &str) {
        let etag = self.ids.etag();
        if let Some(e) = self.store.get_mut(id) {
            set_etag(&mut e.body, etag);
        }
    }

    /// Refuses a write while another operation holds `lock`, the way Microsoft.Network does.
    pub fn check_network_conflict(&self, lock: &str, what: &str) -> Result<(), ArmError> {
        match self.ops.running_on(lock) {
            None => Ok(()),
            Some(op) => Err(ArmError::new(
                409,
                "AnotherOperationInProgress",
                format!(
                    "Operation '{what}' on resource '{}' cannot be performed: another operation \
                     '{}' on this or a dependent resource ({}) is in progress. To retrieve status \
                     of the operation use uri: {}",
                    op.resource_id,
                    op.name,
                    op.resource_id,
                    op.status_url(&self.base_url)
                ),
            )),
        }
    }

    /// Starts a long-running operation; an `lro-fail` rule matching the request makes it fail.
    pub fn start_op(&mut self, req: &Req, spec: OpSpec) -> Operation {
        let failure = take_match(&mut self.lro_failures, &req.method, &req.path).map(|f| (f.code, f.message));
        let api_version = req.api_version().unwrap_or_default().to_string();
        let op = Operation {
            id: self.ids.guid(),
            ns: spec.ns,
            name: spec.name.to_string(),
            resource_id: spec.resource_id,
            lock: spec.lock.to_ascii_lowercase(),
            sub: spec.sub,
            location: spec.location,
            api_version,
            started_at: OffsetDateTime::now_utc(),
            ended_at: None,
            deadline: Instant::now() + self.lro_delay,
            failure,
            completion: spec.completion,
            state: OpState::InProgress,
            is_delete: spec.is_delete,
        };
        self.ops.add(op.clone());
        op
    }

    /// The base of operation URLs: the ARM endpoint, or the same port on
    /// [`World::operation_host`].
    fn operation_base(&self) -> String {
        match &self.operation_host {
            None => self.base_url.clone(),
            Some(host) => {
                let port = self.base_url.rsplit(':').next().unwrap_or_default();
                format!("https://{host}:{port}")
            }
        }
    }

    /// Adds the polling headers of a started operation to a response.
    pub fn lro_headers(&self, resp: Resp, op: &Operation, with_location: bool) -> Resp {
        let base = self.operation_base();
        let mut r = resp
            .header("Azure-AsyncOperation", op.status_url(&base))
            .header("Retry-After", op.retry_after(Instant::now()).to_string());
        if with_location {
            r = r.header("Location", op.result_url(&base));
        }
        r
    }
}

/// Replaces whichever etag property (`etag` or AKS's `eTag`) the body carries.
fn set_etag(body: &mut Value, etag: String) {
    if let Value::Object(o) = body {
        let key = if o.contains_key("eTag") { "eTag" } else { "etag" };
        if o.contains_key(key) {
            o.insert(key.into(), json!(etag));
        }
    }
}

/// Evaluates `If-Match` / `If-None-Match` against the current resource, as ARM does for
/// resources that expose an etag.
pub(crate) fn check_preconditions(req: &Req, existing: Option<&Entry>) -> Result<(), ArmError> {
    check_etag_preconditions(req, existing.map(|e| e.etag().unwrap_or("")))
}

/// [`check_preconditions`] for a resource that is not stored as an entry of its own (an
/// agent pool lives inside its cluster): `current` is `None` when the resource does not
/// exist, else its etag (`""` when it has none).
pub(crate) fn check_etag_preconditions(req: &Req, current: Option<&str>) -> Result<(), ArmError> {
    let failed = || {
        ArmError::new(412, "PreconditionFailed", "The condition specified using HTTP conditional header(s) is not met.")
    };
    if let Some(want) = req.header("if-match") {
        let ok = match current {
            None => false,
            Some(etag) => want.trim() == "*" || want.split(',').any(|w| normalize_etag(w) == normalize_etag(etag)),
        };
        if !ok {
            return Err(failed());
        }
    }
    if let Some(not) = req.header("if-none-match") {
        if not.trim() == "*" && current.is_some() {
            return Err(failed());
        }
        if let Some(etag) = current {
            if not.split(',').any(|w| normalize_etag(w) == normalize_etag(etag)) {
                return Err(failed());
            }
        }
    }
    Ok(())
}

/// Compares etags ignoring the weak marker and quoting, so a client that strips `W/` or the
/// quotes still matches.
fn normalize_etag(s: &str) -> &str {
    let s = s.trim();
    let s = s.strip_prefix("W/").unwrap_or(s);
    s.trim_matches('"')
}

/// Azure's normal form of a location name: `West Europe` → `westeurope`.
pub(crate) fn normalize_location(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase()
}

/// Reads `tags` from a request body: absent, or an object of strings.
pub(crate) fn read_tags(v: Option<&Value>) -> Result<Option<Value>, ArmError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) if m.values().all(Value::is_string) => Ok(Some(Value::Object(m.clone()))),
        Some(_) => Err(ArmError::invalid_request_format(
            "Cannot parse the request. 'tags' must be an object of string values.",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etag_normalization() {
        assert_eq!(normalize_etag(" W/\"abc\" "), "abc");
        assert_eq!(normalize_etag("\"abc\""), "abc");
        assert_eq!(normalize_location("West Europe"), "westeurope");
    }
}
