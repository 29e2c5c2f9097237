//! The test-control surface: fault, latency and LRO-failure injection, the request log,
//! direct resource reads/edits that bypass validation and operations, and runtime config.
//! Served over HTTP under `/_armsim/` and exposed as typed methods of `RunningSim`.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::faults::{Fault, Latency, LroFailure, Rule};
use crate::http::{Req, Resp};
use crate::paths::{self, name_of};
use crate::server::Shared;
use crate::store::Kind;
use crate::Error;

/// One request as the simulator saw it (admin requests are not logged).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RequestLogEntry {
    /// Order of arrival, from 1.
    pub seq: u64,
    pub method: String,
    /// Percent-decoded path.
    pub path: String,
    /// Raw query string, without `?`.
    pub query: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Response status; 0 when an injected fault dropped the connection.
    pub status: u16,
    /// Arrival time, RFC 3339.
    pub timestamp: String,
}

/// Runtime-adjustable settings (`POST /_armsim/config`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// How long a long-running operation stays InProgress.
    pub lro_delay_ms: u64,
}

impl Shared {
    pub(crate) fn add_fault(&self, f: Fault) -> Result<(), Error> {
        self.faults().add_fault(f).map_err(Error::Config)
    }

    pub(crate) fn add_latency(&self, l: Latency) -> Result<(), Error> {
        self.faults().add_latency(l).map_err(Error::Config)
    }

    pub(crate) fn clear_faults(&self) {
        let mut f = self.faults();
        f.faults.clear();
        f.latency.clear();
    }

    pub(crate) fn add_lro_failure(&self, f: LroFailure) -> Result<(), Error> {
        let rule = Rule::new(f.clone(), f.method.as_deref(), &f.path_regex, Some(f.count)).map_err(Error::Config)?;
        self.world().lro_failures.push(rule);
        Ok(())
    }

    pub(crate) fn requests(&self) -> Vec<RequestLogEntry> {
        self.log().clone()
    }

    pub(crate) fn clear_requests(&self) {
        self.log().clear();
    }

    pub(crate) fn set_lro_delay(&self, d: Duration) {
        self.world().lro_delay = d;
    }

    pub(crate) fn lro_delay(&self) -> Duration {
        self.world().lro_delay
    }

    /// Ends every running operation now, applying its effects.
    pub(crate) fn settle(&self) {
        let mut w = self.world();
        let now = Instant::now();
        w.ops.expire_all(now);
        w.advance(now);
    }

    /// A stored resource as GET would return it (composite views assembled).
    pub(crate) fn resource(&self, id: &str) -> Option<Value> {
        let mut w = self.world();
        w.advance(Instant::now());
        let Some(e) = w.store.get(id).cloned() else {
            // Agent pools live inside their cluster.
            return crate::agent_pools::render_by_id(&w, id);
        };
        Some(match e.kind {
            Kind::RouteTable => crate::network::render_route_table(&w, &e),
            Kind::VirtualNetwork => {
                let mut b = e.body.clone();
                let subnets: Vec<Value> = w.store.list(Kind::Subnet, &e.id).iter().map(|s| s.body.clone()).collect();
                crate::store::props_mut(&mut b).insert("subnets".into(), Value::Array(subnets));
                b
            }
            _ => e.body,
        })
    }

    /// Stores `body` under `id` as-is (no validation, no operation), as an out-of-band change
    /// would. `id`, `name` and `type` are filled in when missing and the etag changes. A route
    /// table's `properties.routes` and a virtual network's `properties.subnets` replace the
    /// stored children.
    pub(crate) fn put_resource(&self, id: &str, body: Value) -> Result<(), Error> {
        if matches!(paths::parse(id), paths::Target::AgentPool { .. }) {
            return crate::agent_pools::admin_put(&mut self.world(), id, body).map_err(Error::Config);
        }
        let kind = Kind::of_id(id)
            .ok_or_else(|| Error::Config(format!("'{id}' is not an ID of a resource type armsim stores")))?;
        let Value::Object(_) = body else {
            return Err(Error::Config("resource body must be a JSON object".into()));
        };
        let mut w = self.world();
        let id = w.store.get(id).map_or(id.to_string(), |e| e.id.clone());
        let (child_key, child_kind, child_seg) = match kind {
            Kind::RouteTable => (Some("routes"), Kind::Route, "routes"),
            Kind::VirtualNetwork => (Some("subnets"), Kind::Subnet, "subnets"),
            _ => (None, kind, ""),
        };
        let mut body = body;
        let children =
            child_key.and_then(|k| body.get_mut("properties").and_then(Value::as_object_mut).and_then(|p| p.remove(k)));
        if kind == Kind::RouteTable {
            if let Some(p) = body.get_mut("properties").and_then(Value::as_object_mut) {
                p.remove("subnets");
            }
        }
        if kind == Kind::ManagedCluster {
            // A pool whose settings changed (the autoscaler's count, say) gets a new eTag.
            let old = w.store.get(&id).map(crate::aks::pools_of).unwrap_or_default();
            if let Some(Value::Array(pools)) = body.get_mut("properties").and_then(|p| p.get_mut("agentPoolProfiles")) {
                crate::aks::assign_pool_etags(&w, &old, pools);
            }
        }
        let etag = w.ids.etag();
        fill_identity(&mut body, &id, kind, (kind != Kind::ResourceGroup).then_some(etag));
        w.store.put(kind, &id, body);
        if let Some(Value::Array(items)) = children {
            let old: Vec<String> = w.store.list(child_kind, &id).iter().map(|e| e.id.clone()).collect();
            for o in old {
                w.store.remove_tree(&o);
            }
            for mut item in items {
                let Some(name) = item.get("name").and_then(Value::as_str).map(str::to_string) else {
                    continue;
                };
                let cid = format!("{id}/{child_seg}/{name}");
                let etag = w.ids.etag();
                fill_identity(&mut item, &cid, child_kind, Some(etag));
                w.store.put(child_kind, &cid, item);
            }
        } else if matches!(kind, Kind::Route | Kind::Subnet) {
            let parent = paths::parent_of(&id).to_string();
            w.bump_etag(&parent);
        }
        Ok(())
    }

    /// Removes a resource and its children immediately; `false` if it did not exist.
    pub(crate) fn delete_resource(&self, id: &str) -> bool {
        let mut w = self.world();
        if matches!(paths::parse(id), paths::Target::AgentPool { .. }) {
            return crate::agent_pools::admin_remove(&mut w, id);
        }
        let existed = w.store.contains(id);
        if existed {
            crate::network::remove(&mut w, id);
        }
        existed
    }
}

/// Sets `id`, `name`, `type` (when missing) and `etag` on a stored body.
fn fill_identity(body: &mut Value, id: &str, kind: Kind, etag: Option<String>) {
    if let Value::Object(o) = body {
        o.entry("id").or_insert_with(|| json!(id));
        o.entry("name").or_insert_with(|| json!(name_of(id)));
        o.entry("type").or_insert_with(|| json!(kind.arm_type()));
        if let Some(e) = etag {
            // AKS spells the property `eTag`, Microsoft.Network `etag`.
            let key = if kind == Kind::ManagedCluster { "eTag" } else { "etag" };
            o.insert(key.into(), json!(e));
        }
    }
}

fn bad(msg: impl std::fmt::Display) -> Resp {
    Resp::json(400, json!({ "error": msg.to_string() }))
}

fn parse_body<T: serde::de::DeserializeOwned>(req: &Req) -> Result<T, Resp> {
    serde_json::from_slice(&req.body).map_err(|e| bad(format!("invalid body: {e}")))
}

fn done(r: Result<(), Error>) -> Resp {
    match r {
        Ok(()) => Resp::empty(204),
        Err(e) => bad(e),
    }
}

/// Serves `/_armsim/...`.
pub(crate) fn handle(shared: &Shared, req: &Req) -> Resp {
    let what = req.path.trim_start_matches("/_armsim").trim_matches('/');
    let m = req.method.as_str();
    let r: Result<Resp, Resp> = (|| {
        Ok(match (what, m) {
            ("faults", "POST") => done(shared.add_fault(parse_body(req)?)),
            ("faults", "DELETE") | ("latency", "DELETE") => {
                shared.clear_faults();
                Resp::empty(204)
            }
            ("faults", "GET") => {
                let list: Vec<Fault> = shared.faults().faults.iter().map(|r| r.spec.clone()).collect();
                Resp::json(200, json!(list))
            }
            ("latency", "POST") => done(shared.add_latency(parse_body(req)?)),
            ("lro-fail", "POST") => done(shared.add_lro_failure(parse_body(req)?)),
            ("lro-fail", "DELETE") => {
                shared.world().lro_failures.clear();
                Resp::empty(204)
            }
            ("requests", "GET") => Resp::json(200, json!(shared.requests())),
            ("requests", "DELETE") => {
                shared.clear_requests();
                Resp::empty(204)
            }
            ("resources", _) => {
                let Some(id) = req.query_param("id").map(str::to_string) else {
                    return Err(bad("query parameter 'id' is required"));
                };
                match m {
                    "GET" => match shared.resource(&id) {
                        Some(v) => Resp::json(200, v),
                        None => Resp::json(404, json!({ "error": format!("{id} not found") })),
                    },
                    "PUT" => done(shared.put_resource(&id, parse_body(req)?)),
                    "DELETE" => {
                        if shared.delete_resource(&id) {
                            Resp::empty(204)
                        } else {
                            Resp::json(404, json!({ "error": format!("{id} not found") }))
                        }
                    }
                    _ => Resp::json(405, json!({ "error": "method not allowed" })),
                }
            }
            ("config", "GET") => Resp::json(
                200,
                json!(RuntimeConfig {
                    lro_delay_ms: u64::try_from(shared.lro_delay().as_millis()).unwrap_or(u64::MAX)
                }),
            ),
            ("config", "POST") => {
                let c: RuntimeConfig = parse_body(req)?;
                shared.set_lro_delay(Duration::from_millis(c.lro_delay_ms));
                Resp::empty(204)
            }
            ("settle", "POST") => {
                shared.settle();
                Resp::empty(204)
            }
            ("token", "POST") => Resp::json(200, json!({ "access_token": shared.issue_token() })),
            _ => Resp::json(404, json!({ "error": format!("no admin endpoint {m} /_armsim/{what}") })),
        })
    })();
    r.unwrap_or_else(|e| e)
}
