//! What the provider process is doing for Terraform right now: how many
//! resource RPCs are in flight, and whether any apply has been seen. A plan
//! check that depends on other resources' plans waits on it for the walk to
//! go quiet, instead of answering before Terraform has planned them.
//!
//! Why this exists: Terraform plans resources that do not depend on each
//! other concurrently, in no fixed order, and tells a provider nothing of
//! its dependency graph (a `PlanResourceChange` request carries the
//! resource's own prior state, configuration and proposed state only). A
//! check that reads what other resources plan would otherwise see them or
//! not depending on timing. Terraform starts a resource's plan as soon as
//! the plans it depends on have returned, so once none of this provider's
//! RPCs has been running for a moment, everything of this provider that can
//! be planned before the waiting check has been.

use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

/// What kind of RPC a guard stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rpc {
    /// Plan, read, import, data source read, ephemeral open.
    Other,
    /// `ApplyResourceChange`: the process serves an apply walk.
    Apply,
}

#[derive(Debug, Default)]
struct Counts {
    in_flight: usize,
    /// Of `in_flight`, those waiting in [`Activity::wait_quiet`]: they do
    /// not keep each other waiting.
    waiting: usize,
    applies: u64,
    /// When an RPC that was not waiting last ended.
    last_end: Option<Instant>,
}

/// The activity of one provider process (see the module docs).
#[derive(Debug)]
pub struct Activity {
    counts: Mutex<Counts>,
    /// Bumped at every start, end and wait; waiters watch it.
    generation: watch::Sender<u64>,
}

impl Default for Activity {
    fn default() -> Self {
        Activity { counts: Mutex::new(Counts::default()), generation: watch::Sender::new(0) }
    }
}

/// Counts an RPC as in flight until dropped.
#[derive(Debug)]
pub struct Guard<'a> {
    activity: &'a Activity,
    waiting: bool,
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        self.activity.update(|c| {
            if self.waiting {
                c.waiting = c.waiting.saturating_sub(1);
            } else {
                c.in_flight = c.in_flight.saturating_sub(1);
                c.last_end = Some(Instant::now());
            }
        });
    }
}

impl Activity {
    pub fn new() -> Self {
        Self::default()
    }

    fn update(&self, f: impl FnOnce(&mut Counts)) {
        {
            // Every update is a few integer changes: a panic elsewhere
            // cannot leave them half-written.
            let mut c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut c);
        }
        self.generation.send_modify(|g| *g = g.wrapping_add(1));
    }

    /// Marks an RPC as started; it ends when the guard drops.
    pub fn start(&self, rpc: Rpc) -> Guard<'_> {
        self.update(|c| {
            c.in_flight += 1;
            if rpc == Rpc::Apply {
                c.applies += 1;
            }
        });
        Guard { activity: self, waiting: false }
    }

    /// Whether this process has been asked to apply anything: it serves an
    /// apply walk (Terraform re-plans each resource right before applying
    /// it, in a process that never serves a plan walk).
    pub fn applying(&self) -> bool {
        self.counts.lock().unwrap_or_else(|p| p.into_inner()).applies > 0
    }

    /// Whether an RPC other than the waiting ones is in flight.
    fn busy(&self) -> bool {
        let c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        c.in_flight > c.waiting
    }

    /// Counts the caller's own in-flight RPC as waiting while the guard
    /// lives, so that it keeps neither itself nor other waiters waiting.
    pub fn waiting(&self) -> Guard<'_> {
        self.update(|c| c.waiting += 1);
        Guard { activity: self, waiting: true }
    }

    /// Whether an RPC other than the waiting ones is in flight, or one ended
    /// (or the wait began, at `since`) less than `window` ago.
    pub fn busy_within(&self, window: Duration, since: Instant) -> bool {
        let c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let last = c.last_end.map_or(since, |e| e.max(since));
        c.in_flight > c.waiting || last.elapsed() < window
    }

    /// Waits until an RPC starts or ends, at most `max`.
    pub async fn wait_change(&self, max: Duration) {
        let mut rx = self.generation.subscribe();
        let _ = tokio::time::timeout(max, rx.changed()).await;
    }

    /// Waits until no RPC of this process but waiting ones has been in
    /// flight for `quiet`, or until `until`. The caller's own RPC must be in
    /// flight (it is counted as waiting meanwhile).
    pub async fn wait_quiet(&self, quiet: Duration, until: Instant) {
        let _waiting = self.waiting();
        let mut rx = self.generation.subscribe();
        loop {
            let busy = self.busy();
            let deadline = if busy { until } else { until.min(Instant::now() + quiet) };
            tokio::select! {
                changed = rx.changed() => {
                    if changed.is_err() {
                        return;
                    }
                }
                () = tokio::time::sleep_until(deadline) => {
                    if !busy || Instant::now() >= until {
                        return;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUIET: Duration = Duration::from_millis(500);

    #[tokio::test(start_paused = true)]
    async fn a_quiet_process_returns_after_the_window() {
        let a = Activity::new();
        let _own = a.start(Rpc::Other);
        let started = Instant::now();
        a.wait_quiet(QUIET, started + Duration::from_secs(60)).await;
        assert_eq!(started.elapsed(), QUIET);
    }

    #[tokio::test(start_paused = true)]
    async fn waits_while_another_rpc_runs_then_for_the_window() {
        let a = std::sync::Arc::new(Activity::new());
        let _own = a.start(Rpc::Other);
        let other = a.clone();
        let worker = tokio::spawn(async move {
            let _g = other.start(Rpc::Other);
            tokio::time::sleep(Duration::from_secs(3)).await;
        });
        tokio::task::yield_now().await;
        let started = Instant::now();
        a.wait_quiet(QUIET, started + Duration::from_secs(60)).await;
        assert_eq!(started.elapsed(), Duration::from_secs(3) + QUIET);
        worker.await.expect("worker");
    }

    #[tokio::test(start_paused = true)]
    async fn a_later_rpc_restarts_the_window() {
        let a = std::sync::Arc::new(Activity::new());
        let _own = a.start(Rpc::Other);
        let other = a.clone();
        let worker = tokio::spawn(async move {
            // Starts within the window (as a dependent plan would), runs 1 s.
            tokio::time::sleep(Duration::from_millis(300)).await;
            let _g = other.start(Rpc::Apply);
            tokio::time::sleep(Duration::from_secs(1)).await;
        });
        let started = Instant::now();
        a.wait_quiet(QUIET, started + Duration::from_secs(60)).await;
        assert_eq!(started.elapsed(), Duration::from_millis(1300) + QUIET);
        assert!(a.applying());
        worker.await.expect("worker");
    }

    #[tokio::test(start_paused = true)]
    async fn waiters_do_not_hold_each_other_and_the_deadline_holds() {
        let a = std::sync::Arc::new(Activity::new());
        let (x, y) = (a.clone(), a.clone());
        let until = Instant::now() + Duration::from_secs(60);
        let one = tokio::spawn(async move {
            let _g = x.start(Rpc::Other);
            x.wait_quiet(QUIET, until).await;
        });
        let two = tokio::spawn(async move {
            let _g = y.start(Rpc::Other);
            y.wait_quiet(QUIET, until).await;
        });
        let started = Instant::now();
        one.await.expect("one");
        two.await.expect("two");
        // At most a window each: the first's RPC ending is activity (its
        // dependents could start now), which may give the second one more.
        let took = started.elapsed();
        assert!(took >= QUIET && took <= QUIET * 2, "two waiting checks kept each other waiting: {took:?}");
        // Something that never ends: the deadline ends the wait.
        let _stuck = a.start(Rpc::Other);
        let _own = a.start(Rpc::Other);
        let started = Instant::now();
        a.wait_quiet(QUIET, started + Duration::from_secs(5)).await;
        assert_eq!(started.elapsed(), Duration::from_secs(5));
        assert!(!a.applying());
    }

    #[tokio::test(start_paused = true)]
    async fn busy_within_a_window_of_the_last_end_or_the_start() {
        let a = Activity::new();
        let _own = a.start(Rpc::Apply);
        let _waiting = a.waiting();
        let since = Instant::now();
        let window = Duration::from_secs(60);
        assert!(a.busy_within(window, since), "the window starts with the wait");
        tokio::time::advance(Duration::from_secs(61)).await;
        assert!(!a.busy_within(window, since));
        {
            let _other = a.start(Rpc::Apply);
            assert!(a.busy_within(window, since), "another RPC in flight");
            tokio::time::advance(Duration::from_secs(120)).await;
        }
        tokio::time::advance(Duration::from_secs(59)).await;
        assert!(a.busy_within(window, since), "59 s after it ended");
        tokio::time::advance(Duration::from_secs(2)).await;
        assert!(!a.busy_within(window, since));
    }
}
