//! The UDR rules: pure checks of route and cluster configuration (and of the
//! live route table) that the provider runs at validate, at plan and again
//! before apply, so that a cluster whose egress cannot reach the firewall is
//! refused at plan rather than late in a long cluster deployment.
//!
//! The rules know nothing of Terraform values or the wire protocol: callers
//! translate configuration into the plain structs here, with every attribute
//! as an [`Input`], and get [`Diagnostics`](crate::tf::diag::Diagnostics)
//! back. Every error carries the path of the attribute to fix, a summary
//! naming the rule, and a detail saying why (with Azure's error code where
//! Azure has one) and how to fix it.
//!
//! # Catalogue
//!
//! Routes ([`route::check_route`], for `aksudr_route` and
//! `aksudr_firewall_route`):
//!
//! * **R1 Default route.** A route for `0.0.0.0/0` or `::/0` must go to the
//!   firewall: next hop `VirtualAppliance` or `VirtualNetworkGateway`. AKS
//!   refuses a UDR subnet whose default route is `Internet`, `None` or
//!   `VnetLocal` (RouteTableInvalidNextHop). Other prefixes may use
//!   `Internet`, such as the firewall public IP `/32` from Azure's tutorial.
//! * **R2 Firewall route.** `aksudr_firewall_route` accepts only
//!   `VirtualAppliance` and `VirtualNetworkGateway`, whatever the prefix.
//! * **R3 Next-hop IP.** `VirtualAppliance` requires `next_hop_in_ip_address`
//!   (MissingNextHopIpAddress), a valid IPv4 or IPv6 address; every other
//!   next hop forbids it.
//! * **R4 Address prefix.** A valid IPv4/IPv6 CIDR with no host bits set
//!   (InvalidCIDRNotation), or, for `aksudr_route` only, an Azure service
//!   tag name.
//!
//! Clusters ([`cluster::check_cluster`]):
//!
//! * **R5 Outbound preconditions.** `userDefinedRouting`,
//!   `userAssignedNATGateway` and `none` need a `VirtualMachineScaleSets`
//!   default node pool, the `standard` load balancer SKU and an existing
//!   subnet (`default_node_pool[0].vnet_subnet_id`); `managedNATGateway`
//!   only works in an AKS-managed VNet, so it rejects `vnet_subnet_id`. A
//!   known `vnet_subnet_id` must be a well-formed subnet resource ID.
//! * **R6 kubenet identity.** kubenet with `userDefinedRouting` needs a
//!   user-assigned identity that can write the route table
//!   (CustomRouteTableWithUnsupportedMSIType).
//! * **R7 CIDRs.** `pod_cidr` and `service_cidr` are valid CIDRs that do not
//!   overlap, and `dns_service_ip` lies inside `service_cidr`.
//! * **R8 Outbound type changes** ([`cluster::outbound_type_change`]):
//!   in place between `loadBalancer`, `userDefinedRouting`,
//!   `userAssignedNATGateway` and `none`; replacement otherwise.
//!
//! Live data ([`egress::check_subnet_egress`]), run at plan on the network
//! as the plan leaves it ([`projection`]) and again right before the
//! cluster PUT: the subnet has a route table
//! (ExistingRouteTableNotAssociatedWithSubnet) with an explicit `0.0.0.0/0`
//! route (RouteTableMissingDefaultRouteError) whose next hop is the firewall
//! (RouteTableInvalidNextHop).
//!
//! * **R9 Declared egress route** ([`egress::check_egress_route`]). The
//!   route a cluster names in `egress_route_id` is the `0.0.0.0/0` route of
//!   its subnet's route table.
//!
//! Node pools ([`pool::check_pool`], [`pool::check_pool_network`]):
//!
//! * **R10 Separate pools.** `aksudr_node_pool` is a
//!   `VirtualMachineScaleSets` pool.
//! * **R11 Autoscaling bounds** ([`pool::check_scale`], also for the
//!   cluster's default pool). With the autoscaler on, `min_count` and
//!   `max_count` are set, ordered, and bound a known `node_count`; with it
//!   off, neither is set.
//! * **R12 Pool subnet.** A pool of a `userDefinedRouting` cluster has a
//!   subnet, in the cluster's virtual network, that passes the live egress
//!   check below, at plan on the projected network and again before the
//!   pool PUT.
//! * **R13 kubenet route table.** With kubenet, a pool's subnet uses the
//!   same route table as the cluster's subnet.
//!
//! Besides the numbered rules, every enumerated attribute is checked against
//! the values in [`enums`], case-insensitively as Azure compares them.
//!
//! # Unknown values
//!
//! At plan time an attribute may be computed from a resource not yet created.
//! Such an [`Input::Unknown`] never produces an error, and neither does a rule
//! that would need it: the same rule runs again at apply with the real value.
//! Required-ness of attributes is the schema's job, so [`Input::Null`] only
//! matters where a rule needs a value to be present.

pub mod cluster;
pub mod egress;
pub mod enums;
pub mod net;
pub mod pool;
pub mod projection;
pub mod route;

pub use cluster::{check_cluster, outbound_type_change, ClusterSpec, OutboundChange};
pub use egress::{check_subnet_egress, LiveRoute, LiveRouteTable};
pub use enums::canonical;
pub use route::{check_route, RouteKind, RouteSpec};

/// A configuration input as the rules see it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Input<T> {
    /// Set to this value.
    Known(T),
    /// Not set in configuration.
    #[default]
    Null,
    /// Set, but to a value not known until apply.
    Unknown,
}

impl<T> Input<T> {
    /// The value, when known.
    pub fn known(&self) -> Option<&T> {
        match self {
            Input::Known(v) => Some(v),
            Input::Null | Input::Unknown => None,
        }
    }

    /// Whether the value is known.
    pub fn is_known(&self) -> bool {
        matches!(self, Input::Known(_))
    }

    /// Whether the attribute is not set.
    pub fn is_null(&self) -> bool {
        matches!(self, Input::Null)
    }

    /// Whether the value will only be known at apply.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Input::Unknown)
    }

    /// Borrows the value.
    pub fn as_ref(&self) -> Input<&T> {
        match self {
            Input::Known(v) => Input::Known(v),
            Input::Null => Input::Null,
            Input::Unknown => Input::Unknown,
        }
    }

    /// Transforms a known value, keeping null and unknown as they are.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Input<U> {
        match self {
            Input::Known(v) => Input::Known(f(v)),
            Input::Null => Input::Null,
            Input::Unknown => Input::Unknown,
        }
    }
}

impl Input<String> {
    /// A known string input from a `&str`.
    pub fn text(value: &str) -> Self {
        Input::Known(value.to_string())
    }

    /// The value as `&str`, when known.
    pub fn known_str(&self) -> Option<&str> {
        self.known().map(String::as_str)
    }

    /// The value when known and not empty or blank: Terraform configurations
    /// often write `""` to mean "not set", and Azure treats it so too.
    pub(crate) fn present(&self) -> Option<&str> {
        self.known_str().filter(|s| !s.trim().is_empty())
    }
}

impl<T> From<Option<T>> for Input<T> {
    /// `Some` is known, `None` is null.
    fn from(value: Option<T>) -> Self {
        value.map_or(Input::Null, Input::Known)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn input_helpers() {
        let k = Input::text("x");
        assert_eq!(k.known_str(), Some("x"));
        assert!(k.is_known() && !k.is_null() && !k.is_unknown());
        let u: Input<String> = Input::Unknown;
        assert!(u.is_unknown() && u.known().is_none());
        let n: Input<String> = Input::default();
        assert!(n.is_null());
        assert_eq!(Input::from(Some(3)), Input::Known(3));
        assert_eq!(Input::<i32>::from(None), Input::Null);
        assert_eq!(Input::Known(2).map(|v| v * 2), Input::Known(4));
        assert_eq!(Input::<i32>::Unknown.map(|v| v * 2), Input::Unknown);
        assert_eq!(Input::Known(1).as_ref(), Input::Known(&1));
        assert_eq!(Input::text("  ").present(), None);
        assert_eq!(Input::text("a").present(), Some("a"));
        // Default must not require `T: Default`.
        struct NoDefault;
        assert!(Input::<NoDefault>::default().is_null());
    }

    /// Odd strings in every attribute must produce diagnostics, never panics.
    #[test]
    fn odd_inputs_do_not_panic() {
        let odd = [
            "",
            " ",
            "/",
            "//",
            "::",
            ":::",
            "0/0",
            "/0",
            "0.0.0.0/",
            "1.2.3.4/ü",
            "é/8",
            "ü",
            "𝔘𝔇ℜ",
            "\u{0}",
            "10.0.0.0/8\n",
            "0.0.0.0/00",
            "::/000",
            "ffff::/0",
            "[::1]",
            "1.2.3.4%eth0",
            "fe80::1%eth0",
            "-",
            "..",
            ".a",
            "a.",
            "/subscriptions",
            "/subscriptions/ü/resourceGroups/ü/providers/ü/ü/ü/ü/ü",
        ];
        for a in odd {
            for b in odd {
                for kind in [route::RouteKind::Firewall, route::RouteKind::General] {
                    let spec = route::RouteSpec {
                        kind,
                        address_prefix: Input::text(a),
                        next_hop_type: Input::text(b),
                        next_hop_in_ip_address: Input::text(a),
                    };
                    let _ = route::check_route(&spec);
                }
                let spec = cluster::ClusterSpec {
                    outbound_type: Input::text("userDefinedRouting"),
                    network_plugin: Input::text("kubenet"),
                    identity_type: Input::text(b),
                    identity_ids: Input::Known(vec![a.to_string()]),
                    vnet_subnet_id: Input::text(a),
                    pod_cidr: Input::text(a),
                    service_cidr: Input::text(b),
                    dns_service_ip: Input::text(a),
                    ..Default::default()
                };
                let _ = cluster::check_cluster(&spec);
                let _ = cluster::outbound_type_change(a, b);
                let table = egress::LiveRouteTable {
                    id: b.to_string(),
                    routes: vec![egress::LiveRoute {
                        name: a.to_string(),
                        address_prefix: a.to_string(),
                        next_hop_type: b.to_string(),
                        next_hop_ip: Some(a.to_string()),
                    }],
                };
                let _ = egress::check_subnet_egress(a, Some(&table), egress::SUBNET_PATH);
            }
        }
    }
}
