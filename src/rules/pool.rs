//! Rules R10-R13 for node pools: what an extra pool (`aksudr_node_pool`)
//! must be, how an autoscaled pool is bounded (also the cluster's default
//! pool), and how a pool's subnet must fit the cluster it joins.

use super::egress::{check_subnet_egress, LiveRouteTable};
use super::enums::{check_enum, NODE_POOL_MODES, NODE_POOL_TYPES, USER_DEFINED_ROUTING};
use super::Input;
use crate::tf::diag::{AttributePath, Diagnostic, Diagnostics};

/// Attribute paths of `aksudr_node_pool` that errors are attached to.
pub mod paths {
    pub const TYPE: &str = "type";
    pub const MODE: &str = "mode";
    pub const VNET_SUBNET_ID: &str = "vnet_subnet_id";
}

/// A pool's size settings as the rules see them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PoolScale {
    /// `auto_scaling_enabled`; null means false.
    pub auto_scaling: Input<bool>,
    pub node_count: Input<i64>,
    pub min_count: Input<i64>,
    pub max_count: Input<i64>,
}

/// An `aksudr_node_pool` configuration as the rules see it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PoolSpec {
    /// `type`; null means `VirtualMachineScaleSets`.
    pub pool_type: Input<String>,
    /// `mode`; null means `User`.
    pub mode: Input<String>,
    pub scale: PoolScale,
}

/// Runs the enumerated-value checks, R10 and R11 on a node pool.
pub fn check_pool(spec: &PoolSpec) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let pool_type = check_enum(&mut diags, &spec.pool_type, NODE_POOL_TYPES, paths::TYPE);
    check_enum(&mut diags, &spec.mode, NODE_POOL_MODES, paths::MODE);
    // R10.
    if let Some(t) = pool_type.filter(|t| *t != "VirtualMachineScaleSets") {
        diags.push(
            Diagnostic::error(
                "A separate node pool must be a VirtualMachineScaleSets pool (R10)",
                format!(
                    "AKS adds node pools only to clusters whose pools are virtual machine scale sets, and \
                     user-defined routing needs them too; this pool asks for \"{t}\". Remove type (it defaults to \
                     VirtualMachineScaleSets) or set:\n  type = \"VirtualMachineScaleSets\""
                ),
            )
            .at(AttributePath::parse(paths::TYPE)),
        );
    }
    check_scale(&spec.scale, "", &mut diags);
    diags
}

/// **R11 Autoscaling bounds.** With `auto_scaling_enabled`, `min_count`
/// and `max_count` are both set, `min_count <= max_count`, and a known
/// `node_count` lies between them (AKS: InvalidParameter); without it,
/// neither bound may be set. `prefix` locates the pool's attributes
/// (`default_node_pool[0].` for the cluster's).
pub fn check_scale(scale: &PoolScale, prefix: &str, diags: &mut Diagnostics) {
    let at = |name: &str| AttributePath::parse(&format!("{prefix}{name}"));
    let auto = match scale.auto_scaling {
        Input::Known(b) => b,
        Input::Null => false,
        Input::Unknown => return,
    };
    if !auto {
        for (name, value) in [("min_count", &scale.min_count), ("max_count", &scale.max_count)] {
            if let Input::Known(n) = value {
                diags.push(
                    Diagnostic::error(
                        format!("{name} needs auto_scaling_enabled (R11)"),
                        format!(
                            "{name} = {n} bounds the cluster autoscaler, which is off for this pool; AKS refuses \
                             the bound (InvalidParameter). Either turn the autoscaler on:\n  auto_scaling_enabled = \
                             true\nor remove {name} and set node_count."
                        ),
                    )
                    .at(at(name)),
                );
            }
        }
        return;
    }
    for (name, value) in [("min_count", &scale.min_count), ("max_count", &scale.max_count)] {
        if value.is_null() {
            diags.push(
                Diagnostic::error(
                    format!("auto_scaling_enabled needs {name} (R11)"),
                    "With auto_scaling_enabled = true AKS needs both bounds of the autoscaler \
                     (InvalidParameter). Set them, e.g.\n  min_count = 1\n  max_count = 5",
                )
                .at(at(name)),
            );
        }
    }
    let (Input::Known(lo), Input::Known(hi)) = (&scale.min_count, &scale.max_count) else { return };
    if lo > hi || *lo < 0 {
        diags.push(
            Diagnostic::error(
                "Autoscaler bounds are reversed (R11)",
                format!(
                    "min_count = {lo} and max_count = {hi}: the minimum must be at least 0 and at most the \
                     maximum (AKS: InvalidParameter)."
                ),
            )
            .at(at("max_count")),
        );
        return;
    }
    if let Input::Known(n) = scale.node_count {
        if n < *lo || n > *hi {
            diags.push(
                Diagnostic::error(
                    "node_count is outside the autoscaler's bounds (R11)",
                    format!(
                        "node_count = {n} is the initial size of an autoscaled pool and must lie between \
                         min_count = {lo} and max_count = {hi} (AKS: InvalidParameter). Remove node_count or \
                         set it within the bounds; afterwards the autoscaler owns the count and a change it \
                         makes is not shown as drift."
                    ),
                )
                .at(at("node_count")),
            );
        }
    }
}

/// The cluster a pool joins, as Azure has it or as this plan leaves it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolCluster {
    /// `outboundType`, in any case.
    pub outbound_type: String,
    /// `networkPlugin`, in any case.
    pub network_plugin: String,
    /// The subnet of the cluster's default (system) pool, when it has one.
    pub subnet_id: Option<String>,
    /// The route table of that subnet, when it has one and it is known
    /// (R13 is not judged otherwise).
    pub subnet_table: Option<String>,
}

/// The pool's subnet as Azure has it or as this plan leaves it.
#[derive(Clone, Copy, Debug)]
pub struct PoolSubnet<'a> {
    pub id: &'a str,
    /// Its route table and routes (`Some(None)`: it has no route table);
    /// `None` when that cannot be decided yet.
    pub table: Option<Option<&'a LiveRouteTable>>,
}

fn vnet_of(subnet_id: &str) -> &str {
    let lower = subnet_id.to_ascii_lowercase();
    match lower.rfind("/subnets/") {
        Some(i) => &subnet_id[..i],
        None => subnet_id,
    }
}

fn same_id(a: &str, b: &str) -> bool {
    a.trim_end_matches('/').eq_ignore_ascii_case(b.trim_end_matches('/'))
}

/// **R12 Pool subnet.** A pool of a `userDefinedRouting` cluster has a
/// subnet (AKS: InvalidParameter), in the cluster's virtual network, whose
/// egress passes the live check ([`check_subnet_egress`]); a pool with no
/// subnet of its own (`subnet = None`) joins the cluster's.
///
/// **R13 kubenet route table.** With kubenet, AKS writes the pod routes
/// into one route table, so a pool's subnet must use the same route table
/// as the cluster's subnet.
///
/// `subnet` is `None` when the pool names no subnet. What cannot be
/// decided yet (the pool subnet's table, the cluster's) is not judged.
pub fn check_pool_network(subnet: Option<PoolSubnet<'_>>, cluster: &PoolCluster) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let at = || AttributePath::parse(paths::VNET_SUBNET_ID);
    let udr = cluster.outbound_type.eq_ignore_ascii_case(USER_DEFINED_ROUTING);
    let Some(subnet) = subnet else {
        if udr {
            diags.push(
                Diagnostic::error(
                    "A node pool of a userDefinedRouting cluster needs its subnet (R12)",
                    "The cluster's egress goes through its subnets' route tables, so AKS places each pool in an \
                     existing subnet whose route table sends 0.0.0.0/0 to the firewall (InvalidParameter without \
                     one). Set the pool's subnet, for example the cluster's own:\n  vnet_subnet_id = \
                     aksudr_cluster.<name>.default_node_pool[0].vnet_subnet_id",
                )
                .at(at()),
            );
        }
        return diags;
    };
    if let Some(cluster_subnet) = cluster.subnet_id.as_deref() {
        let (ours, theirs) = (vnet_of(subnet.id), vnet_of(cluster_subnet));
        if !same_id(ours, theirs) {
            diags.push(
                Diagnostic::error(
                    "Node pool subnet is in another virtual network (R12)",
                    format!(
                        "The subnet {} is in virtual network {ours}, but the cluster's nodes are in {theirs}. AKS \
                         places all of a cluster's pools in one virtual network (InvalidParameter). Choose a \
                         subnet of {theirs}.",
                        subnet.id
                    ),
                )
                .at(at()),
            );
            return diags;
        }
    }
    let Some(table) = subnet.table else { return diags };
    if udr {
        diags.extend(check_subnet_egress(subnet.id, table, paths::VNET_SUBNET_ID));
    }
    if cluster.network_plugin.eq_ignore_ascii_case("kubenet") {
        if let (Some(cluster_table), Some(cluster_subnet)) = (&cluster.subnet_table, &cluster.subnet_id) {
            let pool_table = table.map(|t| t.id.as_str());
            if !pool_table.is_some_and(|t| same_id(t, cluster_table)) {
                let found = pool_table.map_or("no route table".to_string(), |t| format!("route table {t}"));
                diags.push(
                    Diagnostic::error(
                        "kubenet node pools must share the cluster's route table (R13)",
                        format!(
                            "With kubenet, AKS writes every node's pod route into the route table of the cluster's \
                             subnet ({cluster_table}, on {cluster_subnet}), so every pool's subnet must use that \
                             same table; the subnet {} has {found}. Associate it with the cluster's table:\n  \
                             resource \"aksudr_subnet_route_table_association\" \"<pool>\" {{\n    subnet_id      = \
                             \"{}\"\n    route_table_id = \"{cluster_table}\"\n  }}",
                            subnet.id, subnet.id
                        ),
                    )
                    .at(at()),
                );
            }
        }
    }
    diags
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::egress::LiveRoute;
    use super::*;

    const SUB: &str =
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Network";

    fn subnet(vnet: &str, name: &str) -> String {
        format!("{SUB}/virtualNetworks/{vnet}/subnets/{name}")
    }

    fn table(name: &str, hop: &str) -> LiveRouteTable {
        LiveRouteTable {
            id: format!("{SUB}/routeTables/{name}"),
            routes: vec![LiveRoute {
                name: "default".into(),
                address_prefix: "0.0.0.0/0".into(),
                next_hop_type: hop.into(),
                next_hop_ip: Some("10.0.1.4".into()),
            }],
        }
    }

    fn summaries(d: &Diagnostics) -> Vec<String> {
        d.0.iter().map(|d| format!("{} @ {:?}", d.summary, d.path)).collect()
    }

    #[test]
    fn pool_type_mode_and_scale() {
        let k = |s: &str| Input::text(s);
        let n = Input::<i64>::Known;
        let yes = Input::Known(true);
        let cases: Vec<(PoolSpec, &[&str])> = vec![
            (PoolSpec::default(), &[]),
            (PoolSpec { pool_type: k("virtualmachinescalesets"), mode: k("user"), ..Default::default() }, &[]),
            (PoolSpec { pool_type: k("AvailabilitySet"), ..Default::default() }, &["(R10)"]),
            (PoolSpec { pool_type: k("VMSS"), ..Default::default() }, &["Unsupported type value"]),
            (PoolSpec { mode: k("Gateway"), ..Default::default() }, &["Unsupported mode value"]),
            (
                PoolSpec {
                    scale: PoolScale { auto_scaling: yes.clone(), min_count: n(1), max_count: n(5), node_count: n(3) },
                    ..Default::default()
                },
                &[],
            ),
            (
                PoolSpec { scale: PoolScale { auto_scaling: yes.clone(), ..Default::default() }, ..Default::default() },
                &["needs min_count", "needs max_count"],
            ),
            (
                PoolSpec {
                    scale: PoolScale {
                        auto_scaling: yes.clone(),
                        min_count: n(5),
                        max_count: n(2),
                        ..Default::default()
                    },
                    ..Default::default()
                },
                &["reversed"],
            ),
            (
                PoolSpec {
                    scale: PoolScale { auto_scaling: yes.clone(), min_count: n(1), max_count: n(2), node_count: n(3) },
                    ..Default::default()
                },
                &["outside"],
            ),
            (
                PoolSpec { scale: PoolScale { min_count: n(1), ..Default::default() }, ..Default::default() },
                &["min_count needs auto_scaling_enabled"],
            ),
            // Unknown at plan: nothing to judge.
            (
                PoolSpec {
                    scale: PoolScale { auto_scaling: Input::Unknown, min_count: n(9), ..Default::default() },
                    ..Default::default()
                },
                &[],
            ),
            (
                PoolSpec {
                    scale: PoolScale {
                        auto_scaling: yes.clone(),
                        min_count: Input::Unknown,
                        max_count: n(2),
                        node_count: n(7),
                    },
                    ..Default::default()
                },
                &[],
            ),
        ];
        for (spec, expected) in cases {
            let d = check_pool(&spec);
            let got = summaries(&d);
            assert_eq!(got.len(), expected.len(), "{spec:?}: {got:?}");
            for e in expected {
                assert!(got.iter().any(|g| g.contains(e)), "{spec:?}: {e} not in {got:?}");
            }
        }
        let mut d = Diagnostics::new();
        check_scale(
            &PoolScale { auto_scaling: Input::Known(false), max_count: Input::Known(3), ..Default::default() },
            "default_node_pool[0].",
            &mut d,
        );
        assert_eq!(d.0[0].path, Some(AttributePath::parse("default_node_pool[0].max_count")));
    }

    #[test]
    fn pool_subnets() {
        let rt = table("rt", "VirtualAppliance");
        let other_rt = table("rt2", "VirtualAppliance");
        let internet = table("rt", "Internet");
        let cluster = |outbound: &str, plugin: &str| PoolCluster {
            outbound_type: outbound.into(),
            network_plugin: plugin.into(),
            subnet_id: Some(subnet("vnet", "aks")),
            subnet_table: Some(rt.id.clone()),
        };
        let users = subnet("vnet", "users");
        let elsewhere = subnet("other", "users");
        fn at<'a>(id: &'a str, table: Option<&'a LiveRouteTable>) -> Option<PoolSubnet<'a>> {
            Some(PoolSubnet { id, table: Some(table) })
        }
        let cases: Vec<(Option<PoolSubnet<'_>>, PoolCluster, &[&str])> = vec![
            (at(&users, Some(&rt)), cluster("userDefinedRouting", "azure"), &[]),
            (at(&users, Some(&other_rt)), cluster("userDefinedRouting", "azure"), &[]),
            (at(&users, Some(&rt)), cluster("userdefinedrouting", "kubenet"), &[]),
            (at(&users, None), cluster("userDefinedRouting", "azure"), &["Node subnet has no route table"]),
            (at(&users, Some(&internet)), cluster("userDefinedRouting", "azure"), &["does not go to the firewall"]),
            (at(&users, Some(&other_rt)), cluster("userDefinedRouting", "kubenet"), &["(R13)"]),
            (at(&users, None), cluster("loadBalancer", "kubenet"), &["(R13)"]),
            (at(&users, None), cluster("loadBalancer", "azure"), &[]),
            (at(&elsewhere, Some(&rt)), cluster("userDefinedRouting", "azure"), &["another virtual network"]),
            (None, cluster("userDefinedRouting", "azure"), &["needs its subnet"]),
            (None, cluster("loadBalancer", "azure"), &[]),
            // Undecided table: only the virtual network is judged.
            (Some(PoolSubnet { id: &users, table: None }), cluster("userDefinedRouting", "kubenet"), &[]),
            (Some(PoolSubnet { id: &elsewhere, table: None }), cluster("userDefinedRouting", "azure"), &["another"]),
            // A cluster whose subnet has no custom table: AKS manages kubenet's.
            (at(&users, None), PoolCluster { subnet_table: None, ..cluster("loadBalancer", "kubenet") }, &[]),
        ];
        for (sub, c, expected) in cases {
            let d = check_pool_network(sub, &c);
            let got = summaries(&d);
            assert_eq!(got.len(), expected.len(), "{c:?}: {got:?}");
            for e in expected {
                assert!(got.iter().any(|g| g.contains(e)), "{e} not in {got:?}");
            }
            for diag in &d.0 {
                assert_eq!(diag.path, Some(AttributePath::parse("vnet_subnet_id")));
            }
        }
    }
}
