//! The network as this plan will leave it: what the plan creates, changes or
//! deletes among route tables, routes and subnet associations, overlaid on
//! what Azure has now. The cluster's plan-time egress check
//! ([`super::egress::check_subnet_egress`]) runs on this view, so that a
//! configuration which builds its egress in the same run as its cluster is
//! not refused for what Azure lacks only until the run's earlier steps.
//!
//! Terraform plans a resource only after those it depends on (through
//! references or `depends_on`), all in the same provider process, so by the
//! time a cluster is planned the changes it depends on have been recorded
//! here. Anything the view cannot decide (a value known only at apply, a
//! change whose target is unknown) makes the verdict [`Verdict::Undecided`]
//! rather than an error: the check before the cluster PUT settles it.
//!
//! Pure data: callers pass IDs in canonical form (keys are compared without
//! regard to case, as ARM compares them) and do the ARM reads themselves.

use std::collections::{HashMap, HashSet};

use super::egress::{LiveRoute, LiveRouteTable};
use super::net::Cidr;
use super::Input;

/// A route as a plan leaves it; fields known only at apply are `Unknown`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedRoute {
    pub name: String,
    pub address_prefix: Input<String>,
    pub next_hop_type: Input<String>,
    pub next_hop_ip: Input<String>,
}

/// What one plan does to route tables, routes and subnet associations.
#[derive(Debug, Default)]
pub struct Projection {
    /// Tables this plan creates (or replaces): they start without routes.
    fresh_tables: HashSet<String>,
    /// Tables whose replacement has been planned; their new ID stays unknown
    /// at plan so that what references them is replaced too.
    replaced_tables: HashSet<String>,
    /// (table, route name) → the route after this plan, or `None` when the
    /// plan deletes it.
    routes: HashMap<(String, String), Option<PlannedRoute>>,
    /// subnet → the route table the plan associates it with (`Some`), or
    /// `None` when the plan removes its association.
    associations: HashMap<String, Option<Input<String>>>,
    /// Changes whose target (the route's table, the association's subnet)
    /// is unknown at plan: any subnet's egress may depend on them.
    unknown_targets: Vec<String>,
    /// cluster → its network as this plan leaves it, for the node pools
    /// planned after it.
    clusters: HashMap<String, PlannedCluster>,
}

/// A cluster's network as a plan leaves it, which its node pools' checks
/// need; fields known only at apply are `Unknown`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedCluster {
    pub outbound_type: Input<String>,
    pub network_plugin: Input<String>,
    /// The default pool's subnet.
    pub subnet_id: Input<String>,
}

fn key(id: &str) -> String {
    id.trim_end_matches('/').to_ascii_lowercase()
}

impl Projection {
    pub fn new() -> Self {
        Self::default()
    }

    /// The plan creates the table `id` (also the second half of a replace).
    pub fn table_created(&mut self, id: &str) {
        self.fresh_tables.insert(key(id));
    }

    /// The plan deletes the table `id`; `replaced` when it is re-created.
    pub fn table_deleted(&mut self, id: &str, replaced: bool) {
        let k = key(id);
        self.fresh_tables.remove(&k);
        if replaced {
            self.replaced_tables.insert(k.clone());
        }
        // Its routes go with it; routes planned later re-populate it.
        self.routes.retain(|(t, _), _| *t != k);
    }

    /// Whether the plan replaces the table `id`.
    pub fn table_replaced(&self, id: &str) -> bool {
        self.replaced_tables.contains(&key(id))
    }

    /// Whether the table `id` will exist only through this plan: it starts
    /// empty, whatever Azure has under that ID now.
    pub fn table_is_fresh(&self, id: &str) -> bool {
        self.fresh_tables.contains(&key(id))
    }

    /// The plan leaves the route `name` in `table` as `route` (`None`:
    /// deleted). An unknown table could be any table.
    pub fn route(&mut self, table: Input<&str>, name: &str, route: Option<PlannedRoute>) {
        match table {
            Input::Known(t) => {
                self.routes.insert((key(t), name.to_ascii_lowercase()), route);
            }
            _ => self.unknown_targets.push(format!("route {name:?} in a route table known only at apply")),
        }
    }

    /// The plan associates `subnet` with `table` (`None`: removes its
    /// association). An unknown subnet could be any subnet.
    pub fn association(&mut self, subnet: Input<&str>, table: Option<Input<String>>) {
        match subnet {
            Input::Known(s) => {
                self.associations.insert(key(s), table);
            }
            _ => self.unknown_targets.push("a subnet association whose subnet is known only at apply".to_string()),
        }
    }

    /// Whether the plan creates, changes or deletes the route `name` in
    /// `table`.
    pub fn touches_route(&self, table: &str, name: &str) -> bool {
        self.routes.contains_key(&(key(table), name.to_ascii_lowercase()))
    }

    /// What the plan does to `subnet`'s association: `None` when nothing.
    pub fn planned_association(&self, subnet: &str) -> Option<&Option<Input<String>>> {
        self.associations.get(&key(subnet))
    }

    /// The routes of `table` after this plan, from the routes Azure has now
    /// (`live`; ignored for a table this plan creates). Also says whether a
    /// route of this table could not be judged at plan.
    pub fn routes_after(&self, table: &str, live: &[LiveRoute]) -> (Vec<LiveRoute>, bool) {
        let k = key(table);
        let mut out: Vec<LiveRoute> = if self.table_is_fresh(table) { Vec::new() } else { live.to_vec() };
        let mut uncertain = false;
        let mut planned: Vec<(&String, &Option<PlannedRoute>)> =
            self.routes.iter().filter(|((t, _), _)| *t == k).map(|((_, n), r)| (n, r)).collect();
        planned.sort_by(|a, b| a.0.cmp(b.0));
        for (name, route) in planned {
            out.retain(|r| !r.name.eq_ignore_ascii_case(name));
            let Some(route) = route else { continue };
            match (&route.address_prefix, &route.next_hop_type) {
                (Input::Known(prefix), Input::Known(hop)) => out.push(LiveRoute {
                    name: route.name.clone(),
                    address_prefix: prefix.clone(),
                    next_hop_type: hop.clone(),
                    next_hop_ip: route.next_hop_ip.known().cloned(),
                }),
                // Only a default route matters, and only its next hop.
                (Input::Known(prefix), _) if !could_be_default(prefix) => {}
                _ => uncertain = true,
            }
        }
        (out, uncertain)
    }

    /// The plan creates or changes the cluster `id` (`None`: deletes it).
    pub fn cluster(&mut self, id: &str, cluster: Option<PlannedCluster>) {
        match cluster {
            Some(c) => {
                self.clusters.insert(key(id), c);
            }
            None => {
                self.clusters.remove(&key(id));
            }
        }
    }

    /// The cluster `id` as this plan leaves it, when the plan creates or
    /// changes it.
    pub fn planned_cluster(&self, id: &str) -> Option<&PlannedCluster> {
        self.clusters.get(&key(id))
    }

    /// Why a failing verdict may still change by apply: changes whose
    /// target is unknown at plan.
    pub fn unknown_targets(&self) -> &[String] {
        &self.unknown_targets
    }
}

fn could_be_default(prefix: &str) -> bool {
    Cidr::parse(prefix.trim()).is_ok_and(|c| c.is_ipv4() && c.is_default_route())
}

/// Where the subnet's route table stands after this plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubnetTable {
    /// No route table.
    None,
    /// This table.
    Table(String),
    /// Cannot be told at plan.
    Unknown,
}

/// The subnet's table after this plan: the plan's association if it makes
/// one, else what Azure has (`live`, already read by the caller).
pub fn subnet_table_after(projection: &Projection, subnet: &str, live: Option<&str>) -> SubnetTable {
    match projection.planned_association(subnet) {
        Some(Some(Input::Known(t))) => SubnetTable::Table(t.clone()),
        Some(Some(_)) => SubnetTable::Unknown,
        Some(None) => SubnetTable::None,
        None => live.map_or(SubnetTable::None, |t| SubnetTable::Table(t.to_string())),
    }
}

/// The outcome of the projected egress check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The subnet's egress after this plan, fully known: check it.
    Known(Option<LiveRouteTable>),
    /// Not decidable at plan, and why; the check before the PUT decides.
    Undecided(String),
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const SUBNET: &str = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/aks";
    const RT: &str = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/routeTables/rt";

    fn live(name: &str, prefix: &str, hop: &str) -> LiveRoute {
        LiveRoute { name: name.into(), address_prefix: prefix.into(), next_hop_type: hop.into(), next_hop_ip: None }
    }

    fn planned(name: &str, prefix: Input<String>, hop: Input<String>) -> Option<PlannedRoute> {
        Some(PlannedRoute {
            name: name.into(),
            address_prefix: prefix,
            next_hop_type: hop,
            next_hop_ip: Input::Unknown,
        })
    }

    #[test]
    fn association_of_the_plan_wins_over_azure() {
        let mut p = Projection::new();
        assert_eq!(subnet_table_after(&p, SUBNET, None), SubnetTable::None);
        assert_eq!(subnet_table_after(&p, SUBNET, Some(RT)), SubnetTable::Table(RT.into()));
        p.association(Input::Known(&SUBNET.to_uppercase()), Some(Input::text(RT)));
        assert_eq!(subnet_table_after(&p, SUBNET, None), SubnetTable::Table(RT.into()));
        p.association(Input::Known(SUBNET), None);
        assert_eq!(subnet_table_after(&p, SUBNET, Some(RT)), SubnetTable::None);
        p.association(Input::Known(SUBNET), Some(Input::Unknown));
        assert_eq!(subnet_table_after(&p, SUBNET, Some(RT)), SubnetTable::Unknown);
        p.association(Input::Unknown, None);
        assert_eq!(p.unknown_targets().len(), 1);
    }

    /// What a case plans, and the routes (name, prefix, next hop) and
    /// uncertainty it must leave.
    type Case = (
        &'static str,
        Vec<(&'static str, Option<PlannedRoute>)>,
        Vec<(&'static str, &'static str, &'static str)>,
        bool,
    );

    #[test]
    fn planned_routes_overlay_live_ones() {
        let cases: Vec<Case> = vec![
            ("nothing planned", vec![], vec![("a", "10.0.0.0/8", "VnetLocal")], false),
            (
                "a new default route",
                vec![("d", planned("d", Input::text("0.0.0.0/0"), Input::text("VirtualAppliance")))],
                vec![("a", "10.0.0.0/8", "VnetLocal"), ("d", "0.0.0.0/0", "VirtualAppliance")],
                false,
            ),
            (
                "an update, names compared without case",
                vec![("A", planned("A", Input::text("10.0.0.0/8"), Input::text("Internet")))],
                vec![("A", "10.0.0.0/8", "Internet")],
                false,
            ),
            ("a delete", vec![("a", None)], vec![], false),
            (
                "a default route with a next hop known at apply",
                vec![("d", planned("d", Input::text("0.0.0.0/0"), Input::Unknown))],
                vec![("a", "10.0.0.0/8", "VnetLocal")],
                true,
            ),
            (
                "another prefix with an unknown next hop does not matter",
                vec![("x", planned("x", Input::text("10.1.0.0/16"), Input::Unknown))],
                vec![("a", "10.0.0.0/8", "VnetLocal")],
                false,
            ),
            (
                "a prefix known only at apply",
                vec![("x", planned("x", Input::Unknown, Input::text("Internet")))],
                vec![("a", "10.0.0.0/8", "VnetLocal")],
                true,
            ),
        ];
        for (what, plan, want, want_uncertain) in cases {
            let mut p = Projection::new();
            for (name, r) in plan {
                p.route(Input::Known(RT), name, r);
            }
            let (got, uncertain) = p.routes_after(RT, &[live("a", "10.0.0.0/8", "VnetLocal")]);
            let got: Vec<(&str, &str, &str)> =
                got.iter().map(|r| (r.name.as_str(), r.address_prefix.as_str(), r.next_hop_type.as_str())).collect();
            assert_eq!(got, want, "{what}");
            assert_eq!(uncertain, want_uncertain, "{what}");
        }
    }

    #[test]
    fn a_created_or_replaced_table_starts_empty() {
        let mut p = Projection::new();
        p.route(Input::Known(RT), "d", planned("d", Input::text("0.0.0.0/0"), Input::text("VirtualAppliance")));
        p.table_deleted(RT, true);
        assert!(p.table_replaced(RT));
        p.table_created(RT);
        let (routes, _) = p.routes_after(RT, &[live("old", "0.0.0.0/0", "VirtualAppliance")]);
        assert!(routes.is_empty(), "{routes:?}");
        p.route(Input::Known(RT), "d", planned("d", Input::text("0.0.0.0/0"), Input::text("VirtualAppliance")));
        assert_eq!(p.routes_after(RT, &[]).0.len(), 1);
    }

    #[test]
    fn routes_in_unknown_tables_are_remembered_as_such() {
        let mut p = Projection::new();
        p.route(Input::Unknown, "d", None);
        assert_eq!(p.unknown_targets().len(), 1);
        assert!(p.routes_after(RT, &[]).0.is_empty());
    }
}
