//! The api-versions armsim accepts, per resource type: the one place they are listed.
//!
//! Real ARM accepts every api-version a resource provider has published for a resource type,
//! so a client pinned to an older version, or Microsoft's SDKs (which send their newest),
//! work against it. armsim does the same for the types it serves.
//!
//! # Sources
//!
//! * `*_SDK`: every api-version that a release of Microsoft's Python SDKs on PyPI knows for
//!   the operation groups armsim serves (`route_tables`, `routes`, `subnets`,
//!   `virtual_networks`; `managed_clusters`, `agent_pools`). The multi-api releases ship a
//!   sub-package per version (`azure/mgmt/network/v2019_09_01/`, azure-mgmt-network ≤ 22.x,
//!   azure-mgmt-containerservice ≤ 38.0.0), the "combined" ones (azure-mgmt-network
//!   23.0.0–27.0.0) list them in `api_version_validation(method_valid_on=[…])` on each
//!   operation group, and the single-api ones (network ≥ 28.0.0, containerservice ≥ 39.0.0)
//!   send one default each. Releases read: azure-mgmt-network 22.0.0, 22.3.0, 23.0.0, 23.1.0,
//!   24.0.0, 25.0.0–25.4.0, 26.0.0, 27.0.0, 28.0.0, 28.1.0, 29.0.0, 30.0.0–30.2.0, 31.0.0,
//!   32.0.0, 33.0.0, 33.1.0 (the newest, sends 2026-03-01); azure-mgmt-containerservice
//!   33.0.0–41.9.0, every stable release (41.9.0, the newest on 2026-12-08, sends
//!   2026-09-01), and 41.8.0b1 and 41.9.0b1 for the previews. With those wheels in DIR (`pip download --no-deps -d DIR
//!   azure-mgmt-network==X …`), `python3 tests/sdk/sdk_api_versions.py --check
//!   tests/armsim/src/api_versions.rs DIR` prints the versions and compares them with the
//!   `*_SDK` lists below. The newest wheels alone no longer carry the history: each holds one
//!   api-version.
//! * `NETWORK_DOCUMENTED`: the Microsoft.Network versions the SDK pruned from its
//!   multi-api releases but that Microsoft Learn's ARM template reference still lists for
//!   `Microsoft.Network/routeTables` (learn.microsoft.com/azure/templates/microsoft.network/routetables,
//!   the version picker, 2015-06-15 … 2024-03-01). Microsoft.Network publishes each
//!   api-version for the whole provider (one spec folder per version, holding routeTable.json
//!   and virtualNetwork.json alike), so one list serves route tables, routes, virtual
//!   networks and subnets.
//! * AKS previews: the newest two, `2026-08-02-preview` (azure-mgmt-containerservice
//!   41.9.0b1) and `2026-07-02-preview` (41.8.0b1): a client pinned to last month's preview
//!   keeps working, as ARM keeps a preview for months after the next one. Their models add
//!   properties to the stable ones but change no property armsim models (2026-08-02-preview
//!   moves `bastionProfile` under a new `apiConnectivityProfile`; armsim models neither);
//!   see the README for what armsim does not model there.
//! * `RESOURCES`: the resource-group versions armsim accepted before this list existed
//!   (ARM serves many more; these are the recent ones).
//!
//! Agent pools exist since 2019-02-01: 2018-03-31 is a managed-cluster version only.
//!
//! No version here differs from another in the JSON shape of a property armsim models
//! (checked on the SDK models: only properties were added over time), so every accepted
//! version gets the same answer. 2026-09-01, for instance, differs from 2026-08-01 only by
//! `nextLink` on the private endpoint connection and private link resource lists (models of
//! azure-mgmt-containerservice 41.8.0 and 41.9.0 compared), which armsim does not serve.
//!
//! When Microsoft publishes a version: `make sdk-drift` names it; add it to its list here,
//! compare the new SDK's models with the previous release's for the properties armsim
//! serves, and update the pins in `tests/sdk/requirements.in` (README, "The ARM simulator").

use std::sync::OnceLock;

use crate::paths::{Namespace, Target};

/// Microsoft.Network versions named by the Python SDK (see the module docs).
#[rustfmt::skip]
const NETWORK_SDK: &[&str] = &[
    "2015-06-15", "2016-09-01", "2016-12-01", "2017-03-01", "2017-06-01", "2017-10-01", "2018-01-01",
    "2018-02-01", "2018-04-01", "2018-06-01", "2018-07-01", "2018-08-01", "2018-10-01", "2018-11-01",
    "2018-12-01", "2019-02-01", "2019-04-01", "2019-06-01", "2019-07-01", "2019-08-01", "2019-09-01",
    "2019-11-01", "2019-12-01", "2020-03-01", "2020-04-01", "2020-05-01", "2020-06-01", "2020-07-01",
    "2020-08-01", "2020-11-01", "2021-02-01", "2022-05-01", "2022-09-01", "2022-11-01", "2023-02-01",
    "2023-04-01", "2023-05-01", "2023-06-01", "2023-09-01", "2023-11-01", "2024-01-01", "2024-03-01",
    "2024-05-01", "2024-07-01", "2024-10-01", "2025-03-01", "2025-05-01", "2025-07-01", "2025-09-01",
    "2026-01-01", "2026-03-01",
];

/// Microsoft.Network versions listed by Microsoft Learn that no SDK release read names.
#[rustfmt::skip]
const NETWORK_DOCUMENTED: &[&str] = &[
    "2016-03-30", "2016-06-01", "2017-03-30", "2017-08-01", "2017-09-01", "2017-11-01", "2021-03-01",
    "2021-05-01", "2021-08-01", "2022-01-01", "2022-07-01",
];

/// Microsoft.ContainerService stable versions named by the Python SDK.
#[rustfmt::skip]
const CONTAINER_SERVICE_SDK: &[&str] = &[
    "2018-03-31", "2019-02-01", "2019-04-01", "2019-06-01", "2019-08-01", "2019-10-01", "2019-11-01",
    "2020-01-01", "2020-02-01", "2020-03-01", "2020-04-01", "2020-06-01", "2020-07-01", "2020-09-01",
    "2020-11-01", "2020-12-01", "2021-02-01", "2021-03-01", "2021-05-01", "2021-07-01", "2021-08-01",
    "2021-09-01", "2021-10-01", "2022-01-01", "2022-02-01", "2022-03-01", "2022-04-01", "2022-06-01",
    "2022-07-01", "2022-09-01", "2022-11-01", "2023-01-01", "2023-02-01", "2023-03-01", "2023-04-01",
    "2023-05-01", "2023-06-01", "2023-07-01", "2023-08-01", "2023-09-01", "2023-10-01", "2023-11-01",
    "2024-01-01", "2024-02-01", "2024-05-01", "2024-07-01", "2024-08-01", "2024-09-01", "2024-10-01",
    "2025-01-01", "2025-02-01", "2025-03-01", "2025-04-01", "2025-05-01", "2025-07-01", "2025-08-01",
    "2025-09-01", "2025-10-01", "2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01", "2026-05-01",
    "2026-06-01", "2026-07-01", "2026-08-01", "2026-09-01",
];

/// The newest AKS preview versions armsim answers (see the module docs).
const CONTAINER_SERVICE_PREVIEW: &[&str] = &["2026-07-02-preview", "2026-08-02-preview"];

/// The first version with `managedClusters/agentPools`.
const AGENT_POOLS_SINCE: &str = "2019-02-01";

/// Microsoft.Resources resource-group versions.
#[rustfmt::skip]
const RESOURCES: &[&str] = &[
    "2019-10-01", "2020-06-01", "2020-10-01", "2021-01-01", "2021-04-01", "2022-09-01", "2023-07-01",
    "2024-03-01", "2024-07-01", "2024-11-01", "2025-01-01", "2025-03-01", "2025-04-01",
];

/// Newest first, as ARM lists them in `InvalidApiVersionParameter`.
fn newest_first(parts: &[&[&'static str]], keep: impl Fn(&str) -> bool) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = parts.iter().flat_map(|p| p.iter().copied()).filter(|s| keep(s)).collect();
    v.sort_unstable_by(|a, b| b.cmp(a));
    v.dedup();
    v
}

fn network() -> &'static [&'static str] {
    static V: OnceLock<Vec<&'static str>> = OnceLock::new();
    V.get_or_init(|| newest_first(&[NETWORK_SDK, NETWORK_DOCUMENTED], |_| true))
}

fn managed_clusters() -> &'static [&'static str] {
    static V: OnceLock<Vec<&'static str>> = OnceLock::new();
    V.get_or_init(|| newest_first(&[CONTAINER_SERVICE_SDK, CONTAINER_SERVICE_PREVIEW], |_| true))
}

fn agent_pools() -> &'static [&'static str] {
    static V: OnceLock<Vec<&'static str>> = OnceLock::new();
    V.get_or_init(|| newest_first(&[CONTAINER_SERVICE_SDK, CONTAINER_SERVICE_PREVIEW], |v| v >= AGENT_POOLS_SINCE))
}

fn resources() -> &'static [&'static str] {
    static V: OnceLock<Vec<&'static str>> = OnceLock::new();
    V.get_or_init(|| newest_first(&[RESOURCES], |_| true))
}

/// The versions accepted for a request to `target`, newest first. Operation-status URLs
/// take every version of their provider (the URL carries the version of the write).
pub(crate) fn supported(target: &Target) -> &'static [&'static str] {
    match target {
        Target::AgentPools { .. } | Target::AgentPool { .. } => agent_pools(),
        t => match t.namespace() {
            Some(Namespace::Network) => network(),
            Some(Namespace::ContainerService) => managed_clusters(),
            None => resources(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted_unique(v: &[&str]) -> bool {
        v.windows(2).all(|w| w[0] < w[1])
    }

    #[test]
    fn lists_are_sorted_disjoint_and_well_formed() {
        for l in [NETWORK_SDK, NETWORK_DOCUMENTED, CONTAINER_SERVICE_SDK, CONTAINER_SERVICE_PREVIEW, RESOURCES] {
            assert!(sorted_unique(l), "{l:?}");
            for v in l {
                let date = v.strip_suffix("-preview").unwrap_or(v);
                let ok = date.len() == 10
                    && date.char_indices().all(|(i, c)| if i == 4 || i == 7 { c == '-' } else { c.is_ascii_digit() });
                assert!(ok, "{v}");
            }
        }
        assert!(NETWORK_DOCUMENTED.iter().all(|v| !NETWORK_SDK.contains(v)));
        assert!(CONTAINER_SERVICE_SDK.iter().all(|v| !v.ends_with("-preview")));
    }

    #[test]
    fn per_type() {
        let rt = crate::paths::parse("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/routeTables/rt");
        let pool = crate::paths::parse(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c/agentPools/p",
        );
        let mc = crate::paths::parse(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c",
        );
        // The versions the provider sends and the specs in shared/arm-specs describe.
        assert!(supported(&rt).contains(&"2024-07-01"));
        assert!(supported(&mc).contains(&"2026-07-01") && supported(&pool).contains(&"2026-07-01"));
        assert_eq!(supported(&rt).first(), Some(&"2026-03-01"));
        assert_eq!(supported(&mc).first(), Some(&"2026-09-01"));
        assert!(supported(&pool).contains(&"2026-09-01"));
        assert!(supported(&pool).contains(&"2026-08-02-preview"));
        assert!(supported(&mc).contains(&"2018-03-31"));
        assert!(!supported(&pool).contains(&"2018-03-31"));
        assert!(supported(&pool).contains(&"2026-07-02-preview"));
        assert!(!supported(&mc).contains(&"2024-07-02-preview"));
    }
}
