//! A route table's routes handled through the table: reads of routes in one
//! table share one GET of the table (which carries all its routes), and
//! route writes that arrive together become one PUT of the table.
//!
//! Terraform refreshes and applies up to `-parallelism` resources at once,
//! and Microsoft.Network serialises writes to a route table (409
//! AnotherOperationInProgress otherwise), so routes written one by one
//! would each wait for the previous one's operation. A batch reads the
//! table with its ETag, applies every waiting change to its route list,
//! keeps every other route exactly (AKS's kubenet routes, other tools'),
//! and PUTs it with `If-Match`; a 412 means someone changed the table in
//! between, and the batch is built again on a fresh read.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::Instant;

use super::client::ArmClient;
use super::error::ArmError;
use super::ids::RouteTableId;
use super::NETWORK_API_VERSION as API;
use crate::log;

/// How long a table read serves later route reads when this process has
/// written nothing since: a refresh reads all of a table's routes within
/// moments.
const READ_REUSE: Duration = Duration::from_secs(5);
/// A batch is gathered until no change has joined it for this long:
/// Terraform starts the next routes as soon as earlier ones finish, within
/// moments of each other (longer on a loaded machine, hence the quiet
/// period rather than a fixed wait).
const GATHER_QUIET: Duration = Duration::from_millis(25);
/// The longest a batch waits for more changes.
const GATHER_MAX: Duration = Duration::from_millis(250);
/// Attempts of one batch when the table changes under it (412) or an
/// answer is lost.
const ATTEMPTS: u32 = 4;

/// A change to one route of a table.
#[derive(Clone, Debug)]
pub enum RouteChange {
    /// Create (`create`) or replace the route `name` with `properties`.
    Put { name: String, properties: serde_json::Value, create: bool },
    /// Remove the route `name`; absent is fine.
    Delete { name: String },
}

impl RouteChange {
    fn name(&self) -> &str {
        match self {
            RouteChange::Put { name, .. } | RouteChange::Delete { name } => name,
        }
    }
}

/// What became of one change.
#[derive(Debug)]
pub enum ChangeOutcome {
    /// Azure has the change.
    Done,
    /// A create found the route there already.
    Exists,
    /// An update found no such route, or the table itself is gone.
    Missing,
    /// Azure refused the combined write: make this change on its own, so
    /// that an error lands on the route that caused it.
    OnItsOwn,
    /// The batch failed; `accepted` when Azure had taken the PUT (or may
    /// have), so that a create stays tracked.
    Failed { error: ArmError, accepted: bool },
}

struct Waiting {
    /// Tells a waiter's entry apart, for it to withdraw on its deadline.
    ticket: u64,
    change: RouteChange,
    until: Instant,
    reply: oneshot::Sender<ChangeOutcome>,
}

/// A read of a table: when, under which write generation of the client,
/// and the answer (`None`: no such table).
struct Cached {
    at: Instant,
    generation: u64,
    table: Option<Arc<serde_json::Value>>,
}

#[derive(Default)]
struct Table {
    cache: tokio::sync::Mutex<Option<Cached>>,
    queue: Mutex<Queue>,
    tickets: AtomicU64,
    /// Held by the task writing a batch.
    writer: tokio::sync::Mutex<()>,
}

/// The changes waiting for a table, and what batching needs to know of the
/// one being written; one lock, so that the counts agree.
#[derive(Default)]
struct Queue {
    waiting: Vec<Waiting>,
    /// Changes of the batch being written that are not answered yet.
    in_flight: usize,
    /// The most changes at once (waiting and in flight) since the batch
    /// being written was taken: how many Terraform runs on this table in
    /// parallel now. It falls again when fewer remain.
    peak: usize,
    /// When the last batch was written.
    last_batch: Option<Instant>,
}

impl Queue {
    fn push(&mut self, w: Waiting) {
        self.waiting.push(w);
        self.peak = self.peak.max(self.waiting.len() + self.in_flight);
    }

    fn take(&mut self) -> Vec<Waiting> {
        let batch = std::mem::take(&mut self.waiting);
        self.in_flight = batch.len();
        self.peak = batch.len();
        batch
    }
}

impl Table {
    fn queue(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Answers one change of the batch being written; it stops counting as
    /// in flight before Terraform can send the next one.
    fn answer(&self, w: Waiting, outcome: ChangeOutcome) {
        {
            let mut q = self.queue();
            q.in_flight = q.in_flight.saturating_sub(1);
        }
        let _ = w.reply.send(outcome);
    }

    /// Waits for the changes that join the next batch. A batch goes once
    /// no change has joined for [`GATHER_QUIET`], or after [`GATHER_MAX`].
    /// Right after a batch, it goes as soon as as many changes wait as
    /// Terraform ran at once while that batch was written, and the quiet
    /// period alone does not end the wait: Terraform refills the slots of
    /// the routes just finished after a round trip (their answer, its next
    /// plan and apply), which on a loaded machine takes longer than the
    /// quiet period, and a batch sent without them would split every later
    /// one in two.
    async fn gather(&self) {
        let started = Instant::now();
        let (after_batch, mut seen) = {
            let q = self.queue();
            let recent = q.last_batch.is_some_and(|done| started.saturating_duration_since(done) < GATHER_MAX);
            (recent, q.waiting.len())
        };
        loop {
            let full = self.queue().peak;
            if (after_batch && seen >= full) || started.elapsed() >= GATHER_MAX {
                return;
            }
            tokio::time::sleep(GATHER_QUIET).await;
            let now_waiting = self.queue().waiting.len();
            if now_waiting == seen && !after_batch {
                return;
            }
            seen = now_waiting;
        }
    }
}

/// Marks the end of a batch's write, also when the task writing it is
/// cancelled (its RPC ended).
struct BatchDone<'a>(&'a Table);

impl Drop for BatchDone<'_> {
    fn drop(&mut self) {
        let mut q = self.0.queue();
        q.in_flight = 0;
        q.last_batch = Some(Instant::now());
    }
}

/// Every route table this process reads or writes routes of.
#[derive(Default)]
pub struct RouteTables {
    tables: Mutex<HashMap<String, Arc<Table>>>,
}

impl std::fmt::Debug for RouteTables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouteTables").finish_non_exhaustive()
    }
}

/// The route named `name` in a table as ARM returns it.
pub fn route_in<'a>(table: &'a serde_json::Value, name: &str) -> Option<&'a serde_json::Value> {
    table
        .pointer("/properties/routes")
        .and_then(|r| r.as_array())?
        .iter()
        .find(|r| r.get("name").and_then(|n| n.as_str()).is_some_and(|n| n.eq_ignore_ascii_case(name)))
}

/// Removes what the 2024-07-01 spec marks read-only from a route table as
/// returned by a GET (and from its routes), so that it can be sent back in
/// a PUT.
pub fn strip_read_only(table: &mut serde_json::Value) {
    if let Some(t) = table.as_object_mut() {
        t.remove("etag");
        t.remove("name");
        t.remove("type");
    }
    let Some(props) = table.get_mut("properties").and_then(|p| p.as_object_mut()) else { return };
    for key in ["provisioningState", "resourceGuid", "subnets"] {
        props.remove(key);
    }
    if let Some(routes) = props.get_mut("routes").and_then(|r| r.as_array_mut()) {
        for route in routes {
            if let Some(r) = route.as_object_mut() {
                r.remove("etag");
            }
            if let Some(p) = route.get_mut("properties").and_then(|p| p.as_object_mut()) {
                p.remove("provisioningState");
                p.remove("hasBgpOverride");
            }
        }
    }
}

/// Whether the route `name` of `table` has `properties` (the fields sent;
/// ARM adds read-only ones and may spell the next hop type otherwise).
fn has_properties(table: &serde_json::Value, name: &str, properties: &serde_json::Value) -> bool {
    let Some(live) = route_in(table, name).and_then(|r| r.get("properties")) else { return false };
    properties.as_object().is_some_and(|want| {
        want.iter().all(|(k, v)| match (live.get(k), v) {
            (Some(serde_json::Value::String(a)), serde_json::Value::String(b)) => a.eq_ignore_ascii_case(b),
            (got, _) => got == Some(v),
        })
    })
}

impl RouteTables {
    pub fn new() -> Self {
        Self::default()
    }

    fn table(&self, id: &RouteTableId) -> Arc<Table> {
        let mut tables = self.tables.lock().unwrap_or_else(|p| p.into_inner());
        tables.entry(id.to_string().to_ascii_lowercase()).or_default().clone()
    }

    /// The table as ARM has it (`None`: no such table). Concurrent callers
    /// share one GET; a later one reuses its answer for a few seconds as
    /// long as this process has written nothing since.
    pub async fn read_table(
        &self,
        arm: &ArmClient,
        id: &RouteTableId,
        until: Instant,
    ) -> Result<Option<Arc<serde_json::Value>>, ArmError> {
        let table = self.table(id);
        let mut cache = table.cache.lock().await;
        let generation = arm.write_generation();
        if let Some(c) = cache.as_ref().filter(|c| c.generation == generation && c.at.elapsed() < READ_REUSE) {
            return Ok(c.table.clone());
        }
        let table = arm.get(&id.to_string(), API, until).await?.map(Arc::new);
        *cache = Some(Cached { at: Instant::now(), generation, table: table.clone() });
        Ok(table)
    }

    /// The route `name` of table `id` as ARM returns it, from the table's
    /// shared read; a route missing there is confirmed with a GET of its
    /// own before it counts as gone (a route written after the table was
    /// read, or a table listing that lags).
    pub async fn read_route(
        &self,
        arm: &ArmClient,
        id: &RouteTableId,
        name: &str,
        until: Instant,
    ) -> Result<Option<serde_json::Value>, ArmError> {
        match self.read_table(arm, id, until).await {
            Ok(Some(table)) => {
                if let Some(route) = route_in(&table, name) {
                    return Ok(Some(route.clone()));
                }
            }
            Ok(None) => {}
            // An identity allowed to read routes but not their table
            // (a custom role with routeTables/routes/read only).
            Err(e) if e.status() == Some(403) => {}
            Err(e) => return Err(e),
        }
        arm.get(&format!("{id}/routes/{name}"), API, until).await
    }

    /// Makes `change` to table `id`, together with the changes to the same
    /// table that arrive meanwhile: one PUT of the table for all of them.
    pub async fn change(
        &self,
        arm: &ArmClient,
        id: &RouteTableId,
        change: RouteChange,
        until: Instant,
    ) -> ChangeOutcome {
        let table = self.table(id);
        let (reply, mut outcome) = oneshot::channel();
        let ticket = table.tickets.fetch_add(1, Ordering::Relaxed);
        table.queue().push(Waiting { ticket, change, until, reply });
        loop {
            let writer = tokio::select! {
                w = table.writer.lock() => w,
                result = &mut outcome => return result.unwrap_or_else(|_| lost()),
                () = tokio::time::sleep_until(until) => {
                    // Still waiting: withdrawn, so nothing is ever sent for
                    // it. Else a batch under way has it, and a create stays
                    // tracked.
                    let mut q = table.queue();
                    let before = q.waiting.len();
                    q.waiting.retain(|w| w.ticket != ticket);
                    let accepted = q.waiting.len() == before;
                    return ChangeOutcome::Failed { error: ArmError::Timeout, accepted };
                }
            };
            // Written by an earlier batch while this task waited.
            match outcome.try_recv() {
                Ok(result) => return result,
                Err(oneshot::error::TryRecvError::Closed) => return lost(),
                Err(oneshot::error::TryRecvError::Empty) => {}
            }
            // Let the changes that Terraform is starting alongside this one
            // join the batch.
            table.gather().await;
            let batch = table.queue().take();
            if !batch.is_empty() {
                let _done = BatchDone(&table);
                write_batch(arm, id, &table, batch).await;
            }
            drop(writer);
            match outcome.try_recv() {
                Ok(result) => return result,
                Err(oneshot::error::TryRecvError::Closed) => return lost(),
                Err(oneshot::error::TryRecvError::Empty) => {}
            }
        }
    }
}

fn lost() -> ChangeOutcome {
    ChangeOutcome::Failed { error: ArmError::Stopped, accepted: true }
}

/// Writes one batch under the table's lock and answers every change in it.
async fn write_batch(arm: &ArmClient, id: &RouteTableId, table: &Table, batch: Vec<Waiting>) {
    let path = id.to_string();
    // Waiters gone (their RPC ended) or past their deadline are not written.
    let now = Instant::now();
    let (mut batch, late): (Vec<Waiting>, Vec<Waiting>) =
        batch.into_iter().partition(|w| !w.reply.is_closed() && w.until > now);
    for w in late {
        table.answer(w, ChangeOutcome::Failed { error: ArmError::Timeout, accepted: false });
    }
    if batch.is_empty() {
        return;
    }
    // Deletes first: a route replaced under the same name (delete, then
    // create) swaps in one PUT, whatever order the two arrived in.
    batch.sort_by_key(|w| !matches!(w.change, RouteChange::Delete { .. }));
    let until = batch.iter().map(|w| w.until).max().unwrap_or(now);
    let _guard = arm.lock(&path).await;
    log::info!("writing routes as one route table update", route_table = path, changes = batch.len());
    let mut outcomes: Vec<Option<ChangeOutcome>> = batch.iter().map(|_| None).collect();
    // Whether an earlier attempt may have landed unseen: a create then
    // finding its route with its properties is its own write.
    let mut ambiguous = false;
    let mut attempt = 0;
    let result = loop {
        attempt += 1;
        let Some(mut table) = (match arm.get(&path, API, until).await {
            Ok(t) => t,
            Err(e) => break Err((e, ambiguous)),
        }) else {
            for (i, w) in batch.iter().enumerate() {
                outcomes[i] = Some(match w.change {
                    RouteChange::Delete { .. } => ChangeOutcome::Done,
                    RouteChange::Put { .. } => ChangeOutcome::Missing,
                });
            }
            break Ok(false);
        };
        let etag = table.get("etag").and_then(|e| e.as_str()).map(str::to_string);
        let mut changed = false;
        for (i, w) in batch.iter().enumerate() {
            if matches!(outcomes[i], Some(ChangeOutcome::Exists | ChangeOutcome::Missing)) {
                continue;
            }
            outcomes[i] = None;
            let present = route_in(&table, w.change.name()).is_some();
            match &w.change {
                RouteChange::Put { name, properties, create } => {
                    if *create && present && !(ambiguous && has_properties(&table, name, properties)) {
                        outcomes[i] = Some(ChangeOutcome::Exists);
                        continue;
                    }
                    if !*create && !present {
                        outcomes[i] = Some(ChangeOutcome::Missing);
                        continue;
                    }
                    if has_properties(&table, name, properties) {
                        continue;
                    }
                    set_route(&mut table, name, properties);
                    changed = true;
                }
                RouteChange::Delete { name } => {
                    if present {
                        remove_route(&mut table, name);
                        changed = true;
                    }
                }
            }
        }
        if !changed {
            break Ok(false);
        }
        strip_read_only(&mut table);
        match arm.put_accepted(&path, API, &table, etag.as_deref(), until).await {
            Ok((resp, url)) => match arm.wait(&resp, &url, until).await {
                Ok(()) => break Ok(true),
                Err(e) => break Err((e, true)),
            },
            // The table changed since the read, or this write's answer was
            // lost: build the batch again on a fresh read, after a pause
            // that grows (AKS writing kubenet routes of a scaling pool).
            Err(e) if (e.status() == Some(412) || matches!(e, ArmError::Unanswered { .. })) && attempt < ATTEMPTS => {
                ambiguous |= matches!(e, ArmError::Unanswered { .. });
                log::info!("route table changed or answer lost; building the batch again", route_table = path);
                let pause = Duration::from_millis(100 * u64::from(attempt) + u64::from(rand::random::<u8>()));
                tokio::time::sleep(pause.min(until.saturating_duration_since(Instant::now()))).await;
            }
            // Still changing under us: each route on its own needs no ETag.
            Err(e) if e.status() == Some(412) && !ambiguous => break Err((e, false)),
            Err(e) => {
                let accepted = ambiguous || e.may_have_applied();
                break Err((e, accepted));
            }
        }
    };
    let refused =
        |e: &ArmError| matches!(e, ArmError::Service { status, .. } if (400..500).contains(status) && *status != 429);
    for (i, w) in batch.into_iter().enumerate() {
        let outcome = match (&result, outcomes[i].take()) {
            (_, Some(decided)) => decided,
            (Ok(_), None) => ChangeOutcome::Done,
            // One change alone: its own error. Several: each on its own.
            (Err((e, false)), None) if refused(e) => ChangeOutcome::OnItsOwn,
            (Err((e, accepted)), None) => ChangeOutcome::Failed { error: e.clone(), accepted: *accepted },
        };
        table.answer(w, outcome);
    }
}

fn routes_mut(table: &mut serde_json::Value) -> Option<&mut Vec<serde_json::Value>> {
    let obj = table.as_object_mut()?;
    let props = obj.entry("properties").or_insert_with(|| serde_json::json!({}));
    let props = props.as_object_mut()?;
    props.entry("routes").or_insert_with(|| serde_json::json!([])).as_array_mut()
}

fn set_route(table: &mut serde_json::Value, name: &str, properties: &serde_json::Value) {
    let Some(routes) = routes_mut(table) else { return };
    let same =
        |r: &serde_json::Value| r.get("name").and_then(|n| n.as_str()).is_some_and(|n| n.eq_ignore_ascii_case(name));
    match routes.iter_mut().find(|r| same(r)) {
        Some(r) => r["properties"] = properties.clone(),
        None => routes.push(serde_json::json!({ "name": name, "properties": properties })),
    }
}

fn remove_route(table: &mut serde_json::Value, name: &str) {
    if let Some(routes) = routes_mut(table) {
        routes.retain(|r| !r.get("name").and_then(|n| n.as_str()).is_some_and(|n| n.eq_ignore_ascii_case(name)));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn wait(table: &Table, n: usize) {
        let mut q = table.queue();
        for _ in 0..n {
            let (reply, _) = oneshot::channel();
            let ticket = table.tickets.fetch_add(1, Ordering::Relaxed);
            let change = RouteChange::Delete { name: format!("r{ticket}") };
            q.push(Waiting { ticket, change, until: Instant::now() + Duration::from_secs(60), reply });
        }
    }

    /// A table on which Terraform ran ten changes at once while a batch was
    /// written, that batch just done, and `n` changes waiting.
    fn after_a_batch_of_ten(n: usize) -> Table {
        let table = Table::default();
        wait(&table, 10);
        let batch = table.queue().take();
        for w in batch {
            table.answer(w, ChangeOutcome::Done);
        }
        drop(BatchDone(&table));
        wait(&table, n);
        table
    }

    #[tokio::test(start_paused = true)]
    async fn a_first_batch_goes_once_no_change_joins() {
        let table = Table::default();
        wait(&table, 3);
        let started = Instant::now();
        table.gather().await;
        assert_eq!(started.elapsed(), GATHER_QUIET);
    }

    #[tokio::test(start_paused = true)]
    async fn after_a_batch_the_freed_slots_are_waited_for() {
        let table = Arc::new(after_a_batch_of_ten(4));
        // Terraform's next six arrive 100 ms later, well past the quiet period.
        let later = table.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            wait(&later, 6);
        });
        let started = Instant::now();
        table.gather().await;
        assert_eq!(table.queue().waiting.len(), 10);
        assert!(started.elapsed() < GATHER_MAX, "{:?}", started.elapsed());
    }

    #[tokio::test(start_paused = true)]
    async fn after_a_batch_the_wait_ends_at_the_limit() {
        let table = after_a_batch_of_ten(2);
        let started = Instant::now();
        table.gather().await;
        assert!(started.elapsed() >= GATHER_MAX && started.elapsed() < GATHER_MAX + GATHER_QUIET);
    }

    #[tokio::test(start_paused = true)]
    async fn long_after_a_batch_the_quiet_period_decides() {
        let table = after_a_batch_of_ten(2);
        tokio::time::sleep(GATHER_MAX).await;
        let started = Instant::now();
        table.gather().await;
        assert_eq!(started.elapsed(), GATHER_QUIET);
    }

    #[test]
    fn the_parallelism_counts_waiting_and_unanswered_changes_and_falls_with_them() {
        let table = Table::default();
        wait(&table, 6);
        let mut first = table.queue().take();
        // Four join while six are written: ten at once.
        wait(&table, 4);
        assert_eq!(table.queue().peak, 10);
        // Answered changes no longer count: their successors do.
        for w in first.drain(..3) {
            table.answer(w, ChangeOutcome::Done);
        }
        wait(&table, 3);
        let q = table.queue();
        assert_eq!((q.in_flight, q.peak), (3, 10));
        drop(q);
        drop(BatchDone(&table));
        assert_eq!(table.queue().in_flight, 0);
        // Fewer remain: the next batch's peak is its own size.
        let second = table.queue().take();
        assert_eq!((second.len(), table.queue().peak), (7, 7));
        wait(&table, 1);
        assert_eq!(table.queue().peak, 8);
    }

    #[test]
    fn routes_in_a_table_body() {
        let mut table = json!({"etag": "W/\"1\"", "name": "rt", "properties": {"provisioningState": "Succeeded",
            "routes": [{"name": "aks-node-1", "etag": "x", "properties": {"addressPrefix": "10.244.0.0/24",
                "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.0.0.4", "provisioningState": "Succeeded"}}]}});
        assert!(route_in(&table, "AKS-node-1").is_some());
        let ours =
            json!({"addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.0.4.4"});
        set_route(&mut table, "default", &ours);
        assert!(has_properties(&table, "default", &ours));
        let changed =
            json!({"addressPrefix": "0.0.0.0/0", "nextHopType": "virtualappliance", "nextHopIpAddress": "10.0.4.5"});
        assert!(!has_properties(&table, "default", &changed));
        set_route(&mut table, "DEFAULT", &changed);
        assert_eq!(table["properties"]["routes"].as_array().unwrap().len(), 2, "replaced, not added");
        remove_route(&mut table, "default");
        strip_read_only(&mut table);
        assert_eq!(
            table,
            json!({"properties": {"routes": [{"name": "aks-node-1", "properties": {"addressPrefix": "10.244.0.0/24",
                "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.0.0.4"}}]}}),
            "the route others own is kept exactly"
        );
        // Bodies of any shape never panic.
        for odd in [json!(null), json!([]), json!({"properties": 3}), json!({"properties": {"routes": {}}})] {
            let mut t = odd.clone();
            set_route(&mut t, "x", &ours);
            remove_route(&mut t, "x");
            strip_read_only(&mut t);
            assert!(route_in(&odd, "x").is_none());
        }
    }
}
