//! Long-running operations: the Azure-AsyncOperation / Location documents that clients poll,
//! and the per-resource "one write at a time" rule.
//!
//! Operations complete lazily: each request first advances every operation whose deadline
//! has passed (see `World::advance`), so no background task is needed and a zero delay means
//! "done by the next request", i.e. on the first poll.

use std::time::Instant;

use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::error::ArmError;
use crate::paths::Namespace;

/// What happens to the store when an operation ends.
#[derive(Debug, Clone)]
pub(crate) enum Completion {
    /// These resources go from Updating/Creating to Succeeded (or Failed).
    Provisioned(Vec<String>),
    /// These resources (and their children) are removed (or left Failed).
    Deleted(Vec<String>),
    /// A managed cluster finished creating or updating; `created` says which.
    Cluster { id: String, created: bool },
    /// A managed cluster finished deleting.
    ClusterDeleted(String),
    /// An agent pool of a managed cluster finished creating or updating.
    AgentPool { cluster: String, pool: String },
    /// An agent pool of a managed cluster finished deleting.
    AgentPoolDeleted { cluster: String, pool: String },
}

/// The state of an operation as its status document reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OpState {
    InProgress,
    Succeeded,
    Failed { code: String, message: String },
}

/// One long-running operation.
#[derive(Debug, Clone)]
pub(crate) struct Operation {
    pub id: String,
    pub ns: Namespace,
    /// Azure's internal operation name, quoted in conflict messages.
    pub name: String,
    pub resource_id: String,
    /// Lower-cased ID of the resource this operation holds (route table, virtual network,
    /// cluster); another write to it is refused while this runs.
    pub lock: String,
    pub sub: String,
    pub location: String,
    pub api_version: String,
    pub started_at: OffsetDateTime,
    pub ended_at: Option<OffsetDateTime>,
    pub deadline: Instant,
    /// Set by an `lro-fail` rule: the operation ends Failed with this code and message.
    pub failure: Option<(String, String)>,
    pub completion: Completion,
    pub state: OpState,
    pub is_delete: bool,
}

impl Operation {
    fn ns_segment(&self) -> &'static str {
        match self.ns {
            Namespace::Network => "Microsoft.Network",
            Namespace::ContainerService => "Microsoft.ContainerService",
        }
    }

    /// The Azure-AsyncOperation URL.
    pub fn status_url(&self, base: &str) -> String {
        format!(
            "{base}/subscriptions/{}/providers/{}/locations/{}/operations/{}?api-version={}",
            self.sub,
            self.ns_segment(),
            self.location,
            self.id,
            self.api_version
        )
    }

    /// The Location URL. Network spells the segment `operationResults`, AKS `operationresults`.
    pub fn result_url(&self, base: &str) -> String {
        let seg = match self.ns {
            Namespace::Network => "operationResults",
            Namespace::ContainerService => "operationresults",
        };
        format!(
            "{base}/subscriptions/{}/providers/{}/locations/{}/{seg}/{}?api-version={}",
            self.sub,
            self.ns_segment(),
            self.location,
            self.id,
            self.api_version
        )
    }

    fn status_str(&self) -> &'static str {
        match self.state {
            OpState::InProgress => "InProgress",
            OpState::Succeeded => "Succeeded",
            OpState::Failed { .. } => "Failed",
        }
    }

    /// The body of a GET on the Azure-AsyncOperation URL.
    pub fn status_document(&self) -> Value {
        let mut doc = match self.ns {
            // Microsoft.Network's operation status carries only status (and error).
            Namespace::Network => json!({ "status": self.status_str() }),
            // AKS adds the operation name and timestamps.
            Namespace::ContainerService => json!({
                "name": self.id,
                "status": self.status_str(),
                "startTime": rfc3339(self.started_at),
            }),
        };
        if self.ns == Namespace::ContainerService {
            if let Some(end) = self.ended_at {
                doc["endTime"] = json!(rfc3339(end));
            }
        }
        if let OpState::Failed { code, message } = &self.state {
            doc["error"] = ArmError::new(500, code.clone(), message.clone()).detail();
        }
        doc
    }

    /// The `Retry-After` value to advertise, in seconds.
    pub fn retry_after(&self, now: Instant) -> u64 {
        let left = self.deadline.saturating_duration_since(now);
        if left.is_zero() {
            0
        } else {
            1
        }
    }
}

/// Formats a timestamp the way ARM does (RFC 3339, UTC).
pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// All operations, finished ones kept so late polls still get an answer.
#[derive(Debug, Default)]
pub(crate) struct Operations {
    ops: Vec<Operation>,
}

impl Operations {
    pub fn add(&mut self, op: Operation) {
        self.ops.push(op);
    }

    pub fn get(&self, id: &str) -> Option<&Operation> {
        self.ops.iter().find(|o| o.id.eq_ignore_ascii_case(id))
    }

    /// The running operation holding `lock`, if any.
    pub fn running_on(&self, lock: &str) -> Option<&Operation> {
        let lock = lock.to_ascii_lowercase();
        self.ops.iter().find(|o| o.state == OpState::InProgress && o.lock == lock)
    }

    /// Marks every due operation ended and returns them for their store effects.
    pub fn take_due(&mut self, now: Instant) -> Vec<Operation> {
        let mut done = Vec::new();
        for op in self.ops.iter_mut() {
            if op.state == OpState::InProgress && op.deadline <= now {
                op.state = match &op.failure {
                    Some((code, message)) => OpState::Failed { code: code.clone(), message: message.clone() },
                    None => OpState::Succeeded,
                };
                op.ended_at = Some(OffsetDateTime::now_utc());
                done.push(op.clone());
            }
        }
        done
    }

    /// Moves every running operation's deadline to `now`, so the next request completes it.
    pub fn expire_all(&mut self, now: Instant) {
        for op in self.ops.iter_mut() {
            if op.state == OpState::InProgress {
                op.deadline = op.deadline.min(now);
            }
        }
    }
}
