//! The live egress check: whether the route table actually associated with
//! the cluster subnet in Azure sends the default route to the firewall, as
//! AKS verifies when it creates or updates a `userDefinedRouting` cluster.

use super::enums::{self, quoted_list, FIREWALL_NEXT_HOP_TYPES};
use super::net::Cidr;
use crate::tf::diag::{AttributePath, Diagnostic, Diagnostics};

/// Where the cluster's live-check errors are attached: the attribute that
/// chose its subnet (a node pool's is `vnet_subnet_id`).
pub const SUBNET_PATH: &str = "default_node_pool[0].vnet_subnet_id";

/// A route as read from ARM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveRoute {
    pub name: String,
    pub address_prefix: String,
    pub next_hop_type: String,
    pub next_hop_ip: Option<String>,
}

/// A route table as read from ARM, with its routes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveRouteTable {
    pub id: String,
    pub routes: Vec<LiveRoute>,
}

/// Whether a live prefix is the IPv4 default route AKS looks for. Parsing
/// (rather than comparing text) also recognises a prefix Azure may echo in
/// another spelling; anything unparsable is not a default route.
fn is_ipv4_default(prefix: &str) -> bool {
    Cidr::parse(prefix.trim()).is_ok_and(|c| c.is_ipv4() && c.is_default_route())
}

/// The routes of `table` that AKS takes for the default route.
pub fn default_routes(table: &LiveRouteTable) -> Vec<&LiveRoute> {
    table.routes.iter().filter(|r| is_ipv4_default(&r.address_prefix)).collect()
}

/// Checks the live state of `subnet_id` for UDR egress: a route table must be
/// associated, it must have an explicit `0.0.0.0/0` route, and every such
/// route must go to a virtual appliance or gateway. Errors name the Azure
/// error code AKS would return and are attached to `path`, the attribute
/// that chose the subnet (e.g. [`SUBNET_PATH`]).
pub fn check_subnet_egress(subnet_id: &str, route_table: Option<&LiveRouteTable>, path: &str) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let at = || AttributePath::parse(path);
    let subnet = resource_name(subnet_id);
    let Some(table) = route_table else {
        diags.push(
            Diagnostic::error(
                "Node subnet has no route table (UDR egress)",
                format!(
                    "The subnet \"{subnet}\" ({subnet_id}) has no route table associated. With outbound_type \
                     \"userDefinedRouting\" AKS sends egress wherever the subnet's route table says and \
                     refuses a subnet without one (ExistingRouteTableNotAssociatedWithSubnet). Associate a \
                     route table that sends 0.0.0.0/0 to your firewall:\n  resource \
                     \"aksudr_subnet_route_table_association\" \"aks\" {{\n    subnet_id      = \"{subnet_id}\"\n    \
                     route_table_id = aksudr_route_table.egress.id\n  }}\nand make the cluster (or node pool) depend on it."
                ),
            )
            .at(at()),
        );
        return diags;
    };
    let table_name = resource_name(&table.id);
    let defaults: Vec<&LiveRoute> = table.routes.iter().filter(|r| is_ipv4_default(&r.address_prefix)).collect();
    if defaults.is_empty() {
        diags.push(
            Diagnostic::error(
                "Route table has no default route (UDR egress)",
                format!(
                    "The route table \"{table_name}\" ({}) associated with subnet \"{subnet}\" has no explicit \
                     0.0.0.0/0 route, so cluster egress would not reach the firewall; AKS refuses it \
                     (RouteTableMissingDefaultRouteError). Add one that points to the firewall's private IP:\n  \
                     resource \"aksudr_firewall_route\" \"default\" {{\n    # in route table \"{table_name}\"\n    \
                     address_prefix         = \"0.0.0.0/0\"\n    next_hop_type          = \"VirtualAppliance\"\n    \
                     next_hop_in_ip_address = \"10.0.1.4\" # the firewall's private IP\n  }}",
                    table.id
                ),
            )
            .at(at()),
        );
        return diags;
    }
    for route in defaults {
        if enums::is_one_of(route.next_hop_type.trim(), FIREWALL_NEXT_HOP_TYPES) {
            continue;
        }
        diags.push(
            Diagnostic::error(
                "Default route does not go to the firewall (UDR egress)",
                format!(
                    "The route \"{}\" ({}) in route table \"{table_name}\" has next hop \"{}\", but AKS requires \
                     the default route of a userDefinedRouting subnet to go to a virtual appliance or gateway \
                     ({}); it refuses the cluster otherwise (RouteTableInvalidNextHop). Change that route to \
                     next_hop_type = \"VirtualAppliance\" with the firewall's private IP as \
                     next_hop_in_ip_address.",
                    route.name,
                    route.address_prefix,
                    route.next_hop_type,
                    quoted_list(FIREWALL_NEXT_HOP_TYPES)
                ),
            )
            .at(at()),
        );
    }
    diags
}

/// The route a cluster declares as its egress (`egress_route_id`): the ID
/// of its route table and its name.
#[derive(Clone, Copy, Debug)]
pub struct DeclaredRoute<'a> {
    pub table_id: &'a str,
    pub name: &'a str,
}

/// The path R9's errors are attached to.
pub const EGRESS_ROUTE_PATH: &str = "network_profile[0].egress_route_id";

/// **R9 Declared egress route.** The route the cluster names as its egress
/// must be the `0.0.0.0/0` route of the route table its subnet uses: in
/// that table, present, and for the IPv4 default prefix. (Where it goes is
/// [`check_subnet_egress`]'s concern.)
pub fn check_egress_route(subnet_id: &str, table: &LiveRouteTable, route: &DeclaredRoute<'_>) -> Diagnostics {
    let same_id = |a: &str, b: &str| a.trim_end_matches('/').eq_ignore_ascii_case(b.trim_end_matches('/'));
    let in_table = same_id(&table.id, route.table_id);
    let found = table.routes.iter().find(|r| r.name.eq_ignore_ascii_case(route.name));
    let problem = match (in_table, found) {
        (false, _) => format!(
            "the route belongs to route table {}, but the subnet {subnet_id} uses route table {}",
            route.table_id, table.id
        ),
        (true, None) => format!("route table {} has no route named {:?}", table.id, route.name),
        (true, Some(r)) if !is_ipv4_default(&r.address_prefix) => {
            format!("the route {:?} is for {}, not for 0.0.0.0/0", r.name, r.address_prefix)
        }
        _ => return Diagnostics::new(),
    };
    Diagnostic::error(
        "egress_route_id is not the subnet's default route (R9)",
        format!(
            "{problem}. With outbound_type \"userDefinedRouting\" the declared egress route must be the 0.0.0.0/0 \
             route of the node subnet's route table: point egress_route_id at the aksudr_firewall_route that sends \
             0.0.0.0/0 to the firewall."
        ),
    )
    .at(AttributePath::parse(EGRESS_ROUTE_PATH))
    .into()
}

/// The last segment of an ARM ID: the resource's name, for messages.
fn resource_name(id: &str) -> &str {
    id.rsplit('/').find(|s| !s.is_empty()).unwrap_or(id)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const SUBNET: &str = "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg/providers/\
                          Microsoft.Network/virtualNetworks/vnet/subnets/aks";
    const TABLE: &str = "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg/providers/\
                         Microsoft.Network/routeTables/rt-egress";

    fn route(name: &str, prefix: &str, hop: &str, ip: Option<&str>) -> LiveRoute {
        LiveRoute {
            name: name.into(),
            address_prefix: prefix.into(),
            next_hop_type: hop.into(),
            next_hop_ip: ip.map(str::to_string),
        }
    }

    fn table(routes: Vec<LiveRoute>) -> LiveRouteTable {
        LiveRouteTable { id: TABLE.into(), routes }
    }

    #[test]
    fn accepted_tables() {
        let cases = [
            // Azure's tutorial: default to the firewall, firewall public IP to the Internet.
            vec![
                route("fw-default", "0.0.0.0/0", "VirtualAppliance", Some("10.42.1.4")),
                route("fw-internet", "20.61.1.7/32", "Internet", None),
            ],
            vec![route("default", "0.0.0.0/0", "virtualappliance", Some("10.42.1.4"))],
            vec![route("default", "0.0.0.0/0", "VIRTUALNETWORKGATEWAY", None)],
            // IPv6 default routes are not what AKS checks; an Internet one is left alone.
            vec![
                route("default", "0.0.0.0/0", "VirtualAppliance", Some("10.42.1.4")),
                route("v6", "::/0", "Internet", None),
            ],
            vec![
                route("service-tag", "AzureCloud", "Internet", None),
                route("d", "0.0.0.0/0", "VirtualAppliance", Some("10.0.0.4")),
            ],
        ];
        for routes in cases {
            let t = table(routes);
            let d = check_subnet_egress(SUBNET, Some(&t), SUBNET_PATH);
            assert!(d.is_empty(), "{t:?}: {d:?}");
        }
    }

    #[test]
    fn rejected_tables() {
        let no_table = "Node subnet has no route table (UDR egress)";
        let no_default = "Route table has no default route (UDR egress)";
        let bad_hop = "Default route does not go to the firewall (UDR egress)";
        let cases: Vec<(Option<LiveRouteTable>, Vec<&str>, &str)> = vec![
            (None, vec![no_table], "ExistingRouteTableNotAssociatedWithSubnet"),
            (Some(table(vec![])), vec![no_default], "RouteTableMissingDefaultRouteError"),
            (
                Some(table(vec![
                    route("v6", "::/0", "VirtualAppliance", Some("fd00::4")),
                    route("x", "10.0.0.0/8", "VnetLocal", None),
                ])),
                vec![no_default],
                "RouteTableMissingDefaultRouteError",
            ),
            (
                Some(table(vec![route("bad", "0.0.0.0/1", "VirtualAppliance", Some("10.0.0.4"))])),
                vec![no_default],
                "rt-egress",
            ),
            (Some(table(vec![route("d", "0.0.0.0/0", "Internet", None)])), vec![bad_hop], "RouteTableInvalidNextHop"),
            (Some(table(vec![route("d", "0.0.0.0/0", "none", None)])), vec![bad_hop], "\"d\""),
            (Some(table(vec![route("d", "0.0.0.0/0", "VnetLocal", None)])), vec![bad_hop], "rt-egress"),
            (
                Some(table(vec![
                    route("a", "0.0.0.0/0", "Internet", None),
                    route("b", "0.0.0.0/0", "VirtualAppliance", Some("10.0.0.4")),
                ])),
                vec![bad_hop],
                "\"a\"",
            ),
        ];
        for (t, want, needle) in cases {
            let d = check_subnet_egress(SUBNET, t.as_ref(), SUBNET_PATH);
            let got: Vec<&str> = d.iter().map(|e| e.summary.as_str()).collect();
            assert_eq!(got, want, "{t:?}");
            for e in d.iter() {
                assert_eq!(e.path, Some(AttributePath::parse("default_node_pool[0].vnet_subnet_id")));
                assert!(e.detail.contains(needle), "{needle}: {}", e.detail);
            }
        }
        let d = check_subnet_egress(SUBNET, None, SUBNET_PATH);
        assert!(d.0[0].detail.contains("aksudr_subnet_route_table_association"));
        assert!(d.0[0].detail.contains("\"aks\""), "names the subnet");
        let d = check_subnet_egress(SUBNET, Some(&table(vec![])), SUBNET_PATH);
        assert!(d.0[0].detail.contains("aksudr_firewall_route"));
    }

    #[test]
    fn r9_the_declared_route_is_the_subnets_default_route() {
        let t = table(vec![
            route("default", "0.0.0.0/0", "VirtualAppliance", Some("10.0.0.4")),
            route("fw-ip", "20.1.2.3/32", "Internet", None),
        ]);
        let other = "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg/providers/\
                     Microsoft.Network/routeTables/other";
        let cases: Vec<(&str, &str, Option<&str>)> = vec![
            (TABLE, "default", None),
            (TABLE, "DEFAULT", None),
            (other, "default", Some("belongs to route table")),
            (TABLE, "missing", Some("has no route named")),
            (TABLE, "fw-ip", Some("not for 0.0.0.0/0")),
        ];
        for (table_id, name, want) in cases {
            let d = check_egress_route(SUBNET, &t, &DeclaredRoute { table_id, name });
            match want {
                None => assert!(d.is_empty(), "{name}: {d:?}"),
                Some(text) => {
                    assert_eq!(d.0.len(), 1, "{name}");
                    assert!(d.0[0].summary.ends_with("(R9)"));
                    assert!(d.0[0].detail.contains(text), "{name}: {}", d.0[0].detail);
                    assert_eq!(d.0[0].path, Some(AttributePath::parse(EGRESS_ROUTE_PATH)));
                }
            }
        }
        let upper = TABLE.to_uppercase();
        assert!(check_egress_route(SUBNET, &t, &DeclaredRoute { table_id: &upper, name: "default" }).is_empty());
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        for id in ["", "/", "x", "ü/ß"] {
            let t = LiveRouteTable {
                id: id.into(),
                routes: vec![route("", "", "", None), route("é", "0.0.0.0/0", "", Some(""))],
            };
            let d = check_subnet_egress(id, Some(&t), SUBNET_PATH);
            assert!(d.has_errors());
            assert!(check_subnet_egress(id, None, SUBNET_PATH).has_errors());
        }
    }
}
