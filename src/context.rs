//! The configured provider's context, which every resource gets: the ARM
//! client and what the current plan does to the network. It sits below
//! `resources` and `provider`, which both use it.

use std::sync::{Mutex, MutexGuard};

use crate::arm::route_tables::RouteTables;
use crate::arm::ArmClient;
use crate::rules::projection::Projection;
use crate::tf::activity::Activity;

/// What resources get once the provider is configured: the ARM client
/// (which resolves credentials on its first call, not before), and what the
/// current plan does to the network (a provider process serves one plan or
/// apply walk; a `--debug` process is configured again for each run).
#[derive(Debug)]
pub struct ProviderData {
    pub arm: ArmClient,
    pub projection: Mutex<Projection>,
    /// Shared reads and batched writes of routes, per route table.
    pub route_tables: RouteTables,
    /// The RPCs in flight, which the cluster's plan check waits on.
    pub activity: Activity,
}

impl ProviderData {
    pub fn new(arm: ArmClient) -> Self {
        ProviderData {
            arm,
            projection: Mutex::new(Projection::new()),
            route_tables: RouteTables::new(),
            activity: Activity::new(),
        }
    }

    /// The plan's changes to route tables, routes and associations so far.
    pub fn projection(&self) -> MutexGuard<'_, Projection> {
        // Every update of the projection is a single insert or remove, so a
        // panic elsewhere cannot leave it half-written.
        self.projection.lock().unwrap_or_else(|p| p.into_inner())
    }
}
