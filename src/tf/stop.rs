//! A one-way "stop" latch shared between the code that asks for a stop and
//! the work that must give up when it happens.
//!
//! Terraform calls `StopProvider` when the user interrupts a run (Ctrl-C):
//! the provider should cancel in-flight work promptly and return errors, and
//! Terraform does not use a stopped provider again (terraform-plugin-sdk
//! likewise cancels one shared context and never resets it). Hence a latch,
//! not a resettable flag.
//!
//! How the rpc layer is meant to use it:
//!
//! * own one `StopSignal` in the provider service and hand clones to every
//!   request handler (and from there to the Azure client, pollers, etc.);
//! * the `StopProvider` handler calls [`StopSignal::stop`] and answers at
//!   once with an empty error string;
//! * long waits race against it: `stop.or_stopped(fut).await` (or
//!   `tokio::select!` on [`StopSignal::stopped`]) and turn
//!   [`Stopped`] into an error diagnostic such as "operation cancelled
//!   because Terraform asked the provider to stop";
//! * loops (polling a long-running Azure operation, retries with back-off)
//!   check [`StopSignal::is_stopped`] before each round and race their
//!   sleeps against `stopped()`.
//!
//! The plugin server uses the same type internally to trigger its own
//! graceful exit.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::watch;

/// Clonable stop latch: once [`stop`](StopSignal::stop) is called on any
/// clone, every clone reports stopped forever.
#[derive(Clone, Debug)]
pub struct StopSignal {
    tx: Arc<watch::Sender<bool>>,
}

/// Returned by [`StopSignal::or_stopped`] when the stop won the race.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("operation cancelled because Terraform asked the provider to stop")]
pub struct Stopped;

impl Default for StopSignal {
    fn default() -> Self {
        Self::new()
    }
}

impl StopSignal {
    /// A new latch, not stopped.
    pub fn new() -> Self {
        let (tx, _rx) = watch::channel(false);
        StopSignal { tx: Arc::new(tx) }
    }

    /// Sets the latch and wakes every waiter. Idempotent.
    pub fn stop(&self) {
        // send_replace stores the value even when nobody is subscribed yet.
        self.tx.send_replace(true);
    }

    /// Whether [`stop`](StopSignal::stop) has been called.
    pub fn is_stopped(&self) -> bool {
        *self.tx.borrow()
    }

    /// Completes once the latch is set (at once if it already is).
    /// Cancel-safe: dropping the future loses nothing.
    pub async fn stopped(&self) {
        let mut rx = self.tx.subscribe();
        // The sender lives in `self`, so the channel cannot close while we
        // wait; an error here would only mean "closed", which we treat as
        // stopped too.
        let _ = rx.wait_for(|stopped| *stopped).await;
    }

    /// Runs `fut` unless the latch is set first, in which case `fut` is
    /// dropped (cancelling it) and `Err(Stopped)` is returned. A latch
    /// already set wins without polling `fut`.
    pub async fn or_stopped<F: Future>(&self, fut: F) -> Result<F::Output, Stopped> {
        tokio::select! {
            biased;
            () = self.stopped() => Err(Stopped),
            out = fut => Ok(out),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn stop_is_seen_by_all_clones_and_sticks() {
        let a = StopSignal::new();
        let b = a.clone();
        assert!(!a.is_stopped());
        let waiter = tokio::spawn({
            let b = b.clone();
            async move { b.stopped().await }
        });
        a.stop();
        waiter.await.unwrap();
        assert!(b.is_stopped());
        a.stop();
        assert!(a.is_stopped());
        // Already stopped: completes immediately.
        b.stopped().await;
    }

    #[tokio::test]
    async fn or_stopped_cancels_pending_work() {
        let s = StopSignal::new();
        let s2 = s.clone();
        let task = tokio::spawn(async move { s2.or_stopped(tokio::time::sleep(Duration::from_secs(3600))).await });
        s.stop();
        assert_eq!(task.await.unwrap(), Err(Stopped));
    }

    #[tokio::test]
    async fn or_stopped_passes_output_through() {
        let s = StopSignal::new();
        assert_eq!(s.or_stopped(async { 7 }).await, Ok(7));
        s.stop();
        assert_eq!(s.or_stopped(async { 7 }).await, Err(Stopped));
    }
}
