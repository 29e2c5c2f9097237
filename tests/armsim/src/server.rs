//! The HTTPS server: accepts TLS connections, turns each request into a [`Req`], runs it
//! through logging, latency, fault injection, authentication and dispatch, and records it.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::admin::RequestLogEntry;
use crate::auth::Auth;
use crate::error::ArmError;
use crate::faults::{default_code, Fault, FaultStatus, Faults};
use crate::guid::IdGen;
use crate::http::{parse_form, percent_decode, HResult, Req, Resp};
use crate::lro::{rfc3339, OpState};
use crate::paths::{self, Namespace, OpUrlKind, Target};
use crate::record::Recorder;
use crate::world::World;

/// State shared by all connections and by the `RunningSim` handle.
#[derive(Debug)]
pub(crate) struct Shared {
    world: Mutex<World>,
    faults: Mutex<Faults>,
    log: Mutex<Vec<RequestLogEntry>>,
    pub auth: Auth,
    pub recorder: Option<Recorder>,
    pub ids: Arc<IdGen>,
    pub base_url: String,
    /// Render AKS validation errors flat instead of in the ARM envelope.
    pub aks_flat_errors: bool,
}

/// Locks a mutex, recovering the data if a panicking thread poisoned it: the state is only
/// ever mutated through complete, non-panicking steps.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    pub fn new(world: World, auth: Auth, recorder: Option<Recorder>, ids: Arc<IdGen>, base_url: String) -> Self {
        Shared {
            world: Mutex::new(world),
            faults: Mutex::new(Faults::default()),
            log: Mutex::new(Vec::new()),
            auth,
            recorder,
            ids,
            base_url,
            aks_flat_errors: false,
        }
    }

    pub fn world(&self) -> MutexGuard<'_, World> {
        lock(&self.world)
    }

    pub fn faults(&self) -> MutexGuard<'_, Faults> {
        lock(&self.faults)
    }

    pub fn log(&self) -> MutexGuard<'_, Vec<RequestLogEntry>> {
        lock(&self.log)
    }

    pub fn issue_token(&self) -> String {
        self.auth.issue(&self.ids)
    }

    fn log_request(&self, req: &Req, status: u16, at: time::OffsetDateTime) {
        let mut log = self.log();
        let seq = log.len() as u64 + 1;
        log.push(RequestLogEntry {
            seq,
            method: req.method.clone(),
            path: req.path.clone(),
            query: req.raw_query.clone(),
            api_version: req.api_version().map(str::to_string),
            status,
            timestamp: rfc3339(at),
        });
    }
}

/// What the server does with a request.
enum Outcome {
    Respond(Resp),
    /// Close the connection without a response (an injected `drop` fault).
    Drop,
}

/// The error hyper sees when a fault drops the connection; it aborts the connection.
#[derive(Debug)]
struct DroppedByFault;

impl std::fmt::Display for DroppedByFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by injected fault")
    }
}

impl std::error::Error for DroppedByFault {}

/// Accepts connections until the task is aborted; connection tasks die with it.
pub(crate) async fn serve(listener: TcpListener, acceptor: TlsAcceptor, shared: Arc<Shared>) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((tcp, peer)) = accepted else { continue };
                let acceptor = acceptor.clone();
                let shared = shared.clone();
                conns.spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else { return };
                    let svc = service_fn(move |req| {
                        let shared = shared.clone();
                        async move { respond(shared, peer, req).await }
                    });
                    // Errors here are client disconnects or injected drops; nothing to report.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), svc)
                        .await;
                });
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

async fn respond(
    shared: Arc<Shared>,
    peer: SocketAddr,
    req: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, DroppedByFault> {
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes().to_vec(),
        Err(_) => Vec::new(),
    };
    let raw_target =
        parts.uri.path_and_query().map_or_else(|| parts.uri.path().to_string(), |p| p.as_str().to_string());
    let raw_query = parts.uri.query().unwrap_or("").to_string();
    let req = Req {
        method: parts.method.as_str().to_ascii_uppercase(),
        raw_target,
        path: percent_decode(parts.uri.path(), false),
        query: parse_form(&raw_query),
        raw_query,
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect(),
        body,
    };
    match process(&shared, peer, req).await {
        Outcome::Drop => Err(DroppedByFault),
        Outcome::Respond(resp) => Ok(to_hyper(&shared, resp)),
    }
}

fn to_hyper(shared: &Shared, resp: Resp) -> hyper::Response<Full<Bytes>> {
    let mut b = hyper::Response::builder().status(resp.status).header("x-ms-request-id", shared.ids.guid());
    for (k, v) in &resp.headers {
        b = b.header(k.as_str(), v.as_str());
    }
    let body = match &resp.body {
        Some(v) => {
            b = b.header("content-type", "application/json; charset=utf-8");
            Bytes::from(serde_json::to_vec(v).unwrap_or_default())
        }
        None => Bytes::new(),
    };
    b.body(Full::new(body)).unwrap_or_else(|_| {
        let mut r = hyper::Response::new(Full::new(Bytes::from_static(b"{}")));
        *r.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}

async fn process(shared: &Shared, peer: SocketAddr, req: Req) -> Outcome {
    if req.path == "/_armsim" || req.path.starts_with("/_armsim/") {
        if !peer.ip().is_loopback() {
            return Outcome::Respond(Resp::json(403, json!({ "error": "admin endpoint is loopback-only" })));
        }
        return Outcome::Respond(crate::admin::handle(shared, &req));
    }
    let at = time::OffsetDateTime::now_utc();
    let delay = shared.faults().take_latency(&req, false);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let auth_path = crate::auth::classify(&req.path);
    let fault = shared.faults().take_fault(&req);
    let commit_then_drop = fault.as_ref().is_some_and(|f| f.status == FaultStatus::CommitThenDrop);
    // Carried out first, then answered with the fault: a write that
    // committed although the server reports an error (a gateway's 504).
    if let Some(f) = fault.as_ref().filter(|f| f.commit_first && !commit_then_drop) {
        let _ = arm(shared, &req);
        return Outcome::Respond(fault_response(shared, &req, f, at));
    }
    let resp = if let Some(f) = fault.filter(|_| !commit_then_drop) {
        match f.status {
            FaultStatus::Drop | FaultStatus::CommitThenDrop => {
                shared.log_request(&req, 0, at);
                return Outcome::Drop;
            }
            FaultStatus::Status(status) => status_fault(&f, status),
        }
    } else if let Some(which) = auth_path {
        let resp = shared.auth.handle(which, &req, &shared.base_url, &shared.ids);
        shared.log_request(&req, resp.status, at);
        return Outcome::Respond(resp);
    } else {
        arm(shared, &req).unwrap_or_else(|e| Resp::from_error(&e.for_aks_shape(shared.aks_flat_errors)))
    };
    if commit_then_drop {
        // Done, but the answer never leaves: logged as dropped (status 0).
        shared.log_request(&req, 0, at);
        return Outcome::Drop;
    }
    shared.log_request(&req, resp.status, at);
    if let Some(rec) = &shared.recorder {
        if crate::auth::classify(&req.path).is_none() {
            // A failed recording must not fail the request under test.
            let _ = rec.record(&shared.base_url, &req, &resp);
        }
    }
    let delay = shared.faults().take_latency(&req, true);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    Outcome::Respond(resp)
}

/// Authenticates, checks the api-version and dispatches an ARM request.
fn arm(shared: &Shared, req: &Req) -> HResult {
    shared.auth.check(req, &shared.base_url)?;
    let target = paths::parse(&req.path);
    let Some(version) = req.api_version() else {
        return Err(ArmError::bad_request(
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        ));
    };
    let supported = crate::api_versions::supported(&target);
    if !supported.contains(&version) {
        return Err(ArmError::bad_request(
            "InvalidApiVersionParameter",
            format!("The api-version '{version}' is invalid. The supported versions are '{}'.", supported.join(",")),
        ));
    }
    let mut w = shared.world();
    w.advance(Instant::now());
    match &target {
        Target::ResourceGroups { .. } | Target::ResourceGroup { .. } => crate::resources::handle(&mut w, req, &target),
        Target::Operation { id, kind, ns, .. } => operation(&w, req, id, *kind, *ns),
        Target::Unknown => Err(ArmError::new(
            404,
            "InvalidResourceType",
            format!("The resource type for path '{}' could not be found.", req.path),
        )),
        t if t.namespace() == Some(Namespace::ContainerService) => crate::aks::handle(&mut w, req, t),
        t => crate::network::handle(&mut w, req, t),
    }
}

/// GET on an Azure-AsyncOperation or Location URL.
fn operation(w: &World, req: &Req, id: &str, kind: OpUrlKind, ns: Namespace) -> HResult {
    if req.method != "GET" {
        return Err(crate::network::method_not_allowed(&req.method));
    }
    let Some(op) = w.ops.get(id).filter(|o| o.ns == ns) else {
        return Err(ArmError::new(404, "OperationNotFound", format!("The operation '{id}' could not be found.")));
    };
    let now = Instant::now();
    match kind {
        OpUrlKind::Status => {
            let mut r = Resp::json(200, op.status_document());
            if op.state == OpState::InProgress {
                r = r.header("Retry-After", op.retry_after(now).to_string());
            }
            Ok(r)
        }
        // Location polling: 202 while running; then the outcome.
        OpUrlKind::Result => match &op.state {
            OpState::InProgress => Ok(Resp::empty(202)
                .header("Location", op.result_url(&w.base_url))
                .header("Retry-After", op.retry_after(now).to_string())),
            OpState::Succeeded if op.is_delete => Ok(Resp::empty(204)),
            OpState::Succeeded => match w.store.get(&op.resource_id) {
                Some(e) if e.kind == crate::store::Kind::RouteTable => {
                    Ok(Resp::json(200, crate::network::render_route_table(w, e)))
                }
                Some(e) => Ok(Resp::json(200, e.body.clone())),
                None => match crate::agent_pools::render_by_id(w, &op.resource_id) {
                    Some(pool) => Ok(Resp::json(200, pool)),
                    None => Ok(Resp::empty(204)),
                },
            },
            OpState::Failed { code, message } => Err(ArmError::new(500, code.clone(), message.clone())),
        },
    }
}

/// The answer of an injected status fault.
fn status_fault(f: &Fault, status: u16) -> Resp {
    let code = f.code.clone().unwrap_or_else(|| default_code(status).to_string());
    let message = f.message.clone().unwrap_or_else(|| format!("Injected fault: {status} {code}."));
    let mut e = ArmError::new(status, code, message);
    if let Some(s) = f.retry_after {
        e = match f.retry_after_format.as_deref() {
            Some("ms") => e.with_header("retry-after-ms", (s * 1000).to_string()),
            Some("http-date") => {
                let at = time::OffsetDateTime::now_utc() + time::Duration::seconds(s as i64);
                let fmt = time::macros::format_description!(
                    "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
                );
                e.with_header("Retry-After", at.format(&fmt).unwrap_or_default())
            }
            _ => e.with_header("Retry-After", s.to_string()),
        };
    }
    Resp::from_error(&e)
}

/// An injected status fault's answer, logged.
fn fault_response(shared: &Shared, req: &Req, f: &Fault, at: time::OffsetDateTime) -> Resp {
    let status = match f.status {
        FaultStatus::Status(s) => s,
        _ => 500,
    };
    let resp = status_fault(f, status);
    shared.log_request(req, resp.status, at);
    resp
}
