//! Microsoft.ContainerService managed clusters (api-version 2026-07-01).

use crate::error::ArmError;
use crate::http::{HResult, Req};
use crate::paths::Target;
use crate::store::{same_id, Kind};
use crate::world::World;

/// The Microsoft.ContainerService api-versions served.
pub(crate) const API_VERSIONS: &[&str] = &["2026-07-01"];

/// Handles a managed cluster request.
pub(crate) fn handle(_w: &mut World, req: &Req, _target: &Target) -> HResult {
    Err(crate::network::method_not_allowed(&req.method))
}

/// The ID of a cluster whose agent pools use `subnet_id`, if any.
pub(crate) fn cluster_using_subnet(w: &World, subnet_id: &str) -> Option<String> {
    w.store
        .all(Kind::ManagedCluster)
        .into_iter()
        .find(|c| {
            c.props()
                .and_then(|p| p.get("agentPoolProfiles"))
                .and_then(|a| a.as_array())
                .is_some_and(|pools| {
                    pools.iter().any(|p| {
                        p.get("vnetSubnetID")
                            .and_then(|s| s.as_str())
                            .is_some_and(|s| same_id(s, subnet_id))
                    })
                })
        })
        .map(|c| c.id.clone())
}

/// Applies the end of a create/update operation.
pub(crate) fn complete_write(w: &mut World, id: &str, _created: bool, ok: bool) {
    w.set_state(id, if ok { "Succeeded" } else { "Failed" });
}

/// Applies the end of a delete operation.
pub(crate) fn complete_delete(w: &mut World, id: &str, ok: bool) {
    if ok {
        w.store.remove_tree(id);
    } else {
        w.set_state(id, "Failed");
    }
}

#[allow(dead_code)]
fn _unused(_e: ArmError) {}
