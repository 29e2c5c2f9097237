//! Rules R1-R4 for `aksudr_route` and `aksudr_firewall_route`: where the
//! route points and whether Azure and AKS will accept it.

use super::enums::{self, canonical, quoted_list, FIREWALL_NEXT_HOP_TYPES, NEXT_HOP_TYPES, VIRTUAL_APPLIANCE};
use super::net::{is_service_tag, looks_like_address, Cidr, CidrError};
use super::Input;
use crate::tf::diag::{AttributePath, Diagnostic, Diagnostics};
use std::net::IpAddr;

/// Attribute paths of the route resources that errors are attached to.
pub mod paths {
    pub const ADDRESS_PREFIX: &str = "address_prefix";
    pub const NEXT_HOP_TYPE: &str = "next_hop_type";
    pub const NEXT_HOP_IN_IP_ADDRESS: &str = "next_hop_in_ip_address";
}

/// Which route resource is being checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouteKind {
    /// `aksudr_firewall_route`: egress to the firewall (R2 applies, service
    /// tags are not accepted).
    Firewall,
    /// `aksudr_route`: any route.
    General,
}

impl RouteKind {
    /// The Terraform resource type name.
    pub fn resource_type(self) -> &'static str {
        match self {
            RouteKind::Firewall => "aksudr_firewall_route",
            RouteKind::General => "aksudr_route",
        }
    }
}

/// A route's configuration as the rules see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteSpec {
    pub kind: RouteKind,
    pub address_prefix: Input<String>,
    pub next_hop_type: Input<String>,
    pub next_hop_in_ip_address: Input<String>,
}

/// What the prefix tells R1.
enum Prefix {
    /// `0.0.0.0/0` or `::/0`.
    Default,
    /// Any other valid prefix.
    Other,
    /// Unknown, null or already reported as invalid.
    Undecided,
}

/// Runs R1-R4 and the next-hop type check on one route.
///
/// At most one error is reported per attribute. A bad next-hop type is
/// reported as R1 when the prefix is a default route (the more specific
/// reason, for either route resource), otherwise as R2 on a firewall route or
/// as an unsupported value. R3's "required"/"forbidden" checks only run once
/// the next-hop type is acceptable, since fixing the type may change which
/// of them applies; the IP's syntax is checked regardless.
pub fn check_route(spec: &RouteSpec) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let prefix = check_prefix(spec, &mut diags);
    let hop = check_next_hop_type(spec, &prefix, &mut diags);
    check_next_hop_ip(spec, hop, &mut diags);
    diags
}

/// R4.
fn check_prefix(spec: &RouteSpec, diags: &mut Diagnostics) -> Prefix {
    let Some(text) = spec.address_prefix.known_str() else {
        return Prefix::Undecided;
    };
    let at = AttributePath::root(paths::ADDRESS_PREFIX);
    let what = match spec.kind {
        RouteKind::Firewall => "an IPv4 or IPv6 CIDR",
        RouteKind::General => "an IPv4 or IPv6 CIDR or an Azure service tag",
    };
    if looks_like_address(text) {
        return match Cidr::parse(text) {
            Ok(c) if c.is_default_route() => Prefix::Default,
            Ok(_) => Prefix::Other,
            Err(e) => {
                let fix = match &e {
                    CidrError::HostBitsSet { network } => format!("address_prefix = \"{network}\""),
                    CidrError::MissingPrefixLength => {
                        let len = if text.contains(':') { 128 } else { 32 };
                        format!("address_prefix = \"{text}/{len}\" # a single address")
                    }
                    _ => "address_prefix = \"10.0.0.0/16\"".to_string(),
                };
                let code = if matches!(e, CidrError::HostBitsSet { .. }) {
                    "Azure rejects prefixes with host bits set (InvalidCIDRNotation). "
                } else {
                    ""
                };
                diags.push(
                    Diagnostic::error(
                        "Invalid route address prefix (R4)",
                        format!(
                            "address_prefix must be {what}. \"{text}\" is not a valid CIDR: {e}. {code}\
                             For example:\n  {fix}"
                        ),
                    )
                    .at(at),
                );
                Prefix::Undecided
            }
        };
    }
    match spec.kind {
        RouteKind::General if is_service_tag(text) => Prefix::Other,
        RouteKind::General => {
            diags.push(
                Diagnostic::error(
                    "Invalid route address prefix (R4)",
                    format!(
                        "address_prefix must be {what}. \"{text}\" is neither: a service tag is made of \
                         letters, digits and dots and starts with a letter (e.g. \"AzureCloud\", \
                         \"Storage.WestEurope\"). For example:\n  address_prefix = \"AzureMonitor\""
                    ),
                )
                .at(at),
            );
            Prefix::Undecided
        }
        RouteKind::Firewall => {
            let detail = if is_service_tag(text) {
                format!(
                    "\"{text}\" looks like a service tag. aksudr_firewall_route takes a CIDR only, since it \
                     describes traffic sent to the firewall; use aksudr_route for service-tag routes. \
                     For example:\n  address_prefix = \"0.0.0.0/0\""
                )
            } else {
                format!(
                    "address_prefix must be {what}; \"{text}\" is not. For example:\n  address_prefix = \"0.0.0.0/0\""
                )
            };
            diags.push(Diagnostic::error("Invalid route address prefix (R4)", detail).at(at));
            Prefix::Undecided
        }
    }
}

/// The HCL that sends a route to the firewall, for fix hints.
const FIREWALL_HOP_HINT: &str = "  next_hop_type          = \"VirtualAppliance\"\n  \
                                 next_hop_in_ip_address = \"10.0.1.4\" # the firewall's private IP";

/// Next-hop type check, R1 and R2. Returns the canonical next-hop type when
/// it is known and acceptable for this route.
fn check_next_hop_type(spec: &RouteSpec, prefix: &Prefix, diags: &mut Diagnostics) -> Option<&'static str> {
    let value = spec.next_hop_type.known_str()?;
    let at = AttributePath::root(paths::NEXT_HOP_TYPE);
    let hop = canonical(value, NEXT_HOP_TYPES);
    let to_firewall = hop.is_some_and(|h| enums::is_one_of(h, FIREWALL_NEXT_HOP_TYPES));
    if to_firewall {
        return hop;
    }
    if let (Prefix::Default, Some(h)) = (prefix, hop) {
        let why = match h {
            "Internet" => "sends egress straight to the Internet, bypassing the firewall",
            "None" => "drops all egress traffic",
            _ => "keeps egress inside the virtual network, where nothing forwards it out",
        };
        let prefix_text = spec.address_prefix.known_str().unwrap_or("0.0.0.0/0");
        let other = match spec.kind {
            RouteKind::General => {
                "\nRoutes for other prefixes, such as the firewall's public IP /32, may use \"Internet\"."
            }
            RouteKind::Firewall => "",
        };
        diags.push(
            Diagnostic::error(
                "Default route must go to the firewall (R1)",
                format!(
                    "A default route ({prefix_text}) with next hop \"{h}\" {why}. AKS refuses a cluster with \
                     outbound_type \"userDefinedRouting\" whose subnet's default route does not point to a \
                     virtual appliance or gateway (RouteTableInvalidNextHop). Allowed next hops for a \
                     default route: {}. For example:\n{FIREWALL_HOP_HINT}{other}",
                    quoted_list(FIREWALL_NEXT_HOP_TYPES)
                ),
            )
            .at(at),
        );
        return None;
    }
    match (spec.kind, hop) {
        (RouteKind::Firewall, _) => {
            let known = match hop {
                Some(h) => format!("\"{h}\" does not lead to a firewall."),
                None => format!("\"{value}\" is not a next hop type Azure knows."),
            };
            diags.push(
                Diagnostic::error(
                    "Firewall route must use a firewall next hop (R2)",
                    format!(
                        "{known} aksudr_firewall_route accepts only {} (next hops are matched \
                         case-insensitively). For example:\n{FIREWALL_HOP_HINT}\nUse aksudr_route for \
                         routes with other next hops.",
                        quoted_list(FIREWALL_NEXT_HOP_TYPES)
                    ),
                )
                .at(at),
            );
            None
        }
        (RouteKind::General, Some(h)) => Some(h),
        (RouteKind::General, None) => {
            enums::check_enum(diags, &spec.next_hop_type, NEXT_HOP_TYPES, paths::NEXT_HOP_TYPE);
            None
        }
    }
}

/// R3. `hop` is the accepted canonical next-hop type, if any.
fn check_next_hop_ip(spec: &RouteSpec, hop: Option<&'static str>, diags: &mut Diagnostics) {
    let at = AttributePath::root(paths::NEXT_HOP_IN_IP_ADDRESS);
    let ip = spec.next_hop_in_ip_address.present();
    match (hop, ip) {
        (Some(VIRTUAL_APPLIANCE), None) if !spec.next_hop_in_ip_address.is_unknown() => {
            diags.push(
                Diagnostic::error(
                    "Next hop IP address required for VirtualAppliance (R3)",
                    "A route with next hop \"VirtualAppliance\" forwards traffic to an IP address, so \
                     next_hop_in_ip_address must be set; Azure rejects the route otherwise \
                     (MissingNextHopIpAddress). Set it to the private IP of the firewall or NVA, e.g.:\n  \
                     next_hop_in_ip_address = azurerm_firewall.hub.ip_configuration[0].private_ip_address",
                )
                .at(at),
            );
        }
        (Some(h), Some(value)) if h != VIRTUAL_APPLIANCE => {
            diags.push(
                Diagnostic::error(
                    "Next hop IP address only allowed for VirtualAppliance (R3)",
                    format!(
                        "next_hop_in_ip_address is \"{value}\", but Azure only accepts a next hop IP \
                         address on routes whose next hop type is \"VirtualAppliance\"; this route's is \
                         \"{h}\". Remove next_hop_in_ip_address, or if the traffic should go to the \
                         appliance at that address, set:\n  next_hop_type = \"VirtualAppliance\""
                    ),
                )
                .at(at),
            );
        }
        (_, Some(value)) if value.parse::<IpAddr>().is_err() => {
            let hint = match value.split_once('/') {
                Some((addr, _)) if addr.parse::<IpAddr>().is_ok() => {
                    format!("It is an address with a prefix length; write the address alone:\n  next_hop_in_ip_address = \"{addr}\"")
                }
                _ => "For example:\n  next_hop_in_ip_address = \"10.0.1.4\"".to_string(),
            };
            diags.push(
                Diagnostic::error(
                    "Invalid next hop IP address (R3)",
                    format!(
                        "next_hop_in_ip_address must be an IPv4 or IPv6 address (the firewall or NVA's \
                         private IP); \"{value}\" is not. {hint}"
                    ),
                )
                .at(at),
            );
        }
        _ => {}
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use RouteKind::{Firewall, General};

    /// An input from a table cell: `"?"` is unknown, `"-"` is null.
    fn inp(v: &str) -> Input<String> {
        match v {
            "?" => Input::Unknown,
            "-" => Input::Null,
            _ => Input::text(v),
        }
    }

    fn spec(kind: RouteKind, prefix: &str, hop: &str, ip: &str) -> RouteSpec {
        RouteSpec { kind, address_prefix: inp(prefix), next_hop_type: inp(hop), next_hop_in_ip_address: inp(ip) }
    }

    /// Each error as (path, summary).
    fn errors(d: &Diagnostics) -> Vec<(String, String)> {
        d.iter().map(|e| (e.path.as_ref().map(ToString::to_string).unwrap_or_default(), e.summary.clone())).collect()
    }

    const P: &str = paths::ADDRESS_PREFIX;
    const H: &str = paths::NEXT_HOP_TYPE;
    const I: &str = paths::NEXT_HOP_IN_IP_ADDRESS;

    #[test]
    fn accepted_routes() {
        let cases = [
            // Azure's AKS egress tutorial: default route to the firewall, and
            // the firewall public IP straight to the Internet.
            (General, "0.0.0.0/0", "VirtualAppliance", "10.42.1.4"),
            (Firewall, "0.0.0.0/0", "VirtualAppliance", "10.42.1.4"),
            (General, "20.61.1.7/32", "Internet", "-"),
            (General, "20.61.1.7/32", "INTERNET", "-"),
            (General, "0.0.0.0/0", "virtualappliance", "10.42.1.4"),
            (Firewall, "0.0.0.0/0", "VIRTUALAPPLIANCE", "10.42.1.4"),
            (Firewall, "0.0.0.0/0", "VirtualNetworkGateway", "-"),
            (Firewall, "0.0.0.0/0", "virtualnetworkgateway", ""),
            (General, "::/0", "VirtualAppliance", "fd00:1::4"),
            (Firewall, "::/0", "VirtualAppliance", "10.42.1.4"),
            (Firewall, "10.0.0.0/8", "VirtualAppliance", "10.42.1.4"),
            (General, "10.0.0.0/8", "VnetLocal", "-"),
            (General, "10.0.0.0/8", "None", "-"),
            (General, "fd00::/8", "None", "-"),
            (General, "2001:db8::/32", "Internet", "-"),
            (General, "AzureCloud", "Internet", "-"),
            (General, "Storage.WestEurope", "Internet", "-"),
            (General, "AzureMonitor", "VirtualAppliance", "10.42.1.4"),
            (General, "10.0.0.0/8", "VirtualNetworkGateway", "-"),
            // An empty next hop IP means "not set".
            (General, "10.0.0.0/8", "Internet", ""),
        ];
        for (kind, prefix, hop, ip) in cases {
            let d = check_route(&spec(kind, prefix, hop, ip));
            assert!(d.is_empty(), "{kind:?} {prefix} {hop} {ip}: {:?}", errors(&d));
        }
    }

    #[test]
    fn unknowns_never_error() {
        let cases = [
            (General, "?", "Internet", "-"),
            (Firewall, "?", "VirtualAppliance", "?"),
            (General, "0.0.0.0/0", "?", "?"),
            (General, "0.0.0.0/0", "?", "-"),
            (General, "0.0.0.0/0", "VirtualAppliance", "?"),
            (Firewall, "?", "?", "?"),
            (General, "?", "?", "?"),
            (Firewall, "0.0.0.0/0", "?", "10.0.0.4"),
            (General, "?", "None", "-"),
            // Null attributes are the schema's business.
            (General, "-", "-", "-"),
            (Firewall, "-", "VirtualAppliance", "10.0.0.4"),
        ];
        for (kind, prefix, hop, ip) in cases {
            let d = check_route(&spec(kind, prefix, hop, ip));
            assert!(d.is_empty(), "{kind:?} {prefix} {hop} {ip}: {:?}", errors(&d));
        }
    }

    /// A table row: kind, prefix, next hop, next hop IP, and the expected
    /// errors as (path, summary).
    type Case<'a> = (RouteKind, &'a str, &'a str, &'a str, &'a [(&'a str, &'a str)]);

    #[test]
    fn rejected_routes() {
        let r1 = "Default route must go to the firewall (R1)";
        let r2 = "Firewall route must use a firewall next hop (R2)";
        let r3_req = "Next hop IP address required for VirtualAppliance (R3)";
        let r3_forbid = "Next hop IP address only allowed for VirtualAppliance (R3)";
        let r3_bad = "Invalid next hop IP address (R3)";
        let r4 = "Invalid route address prefix (R4)";
        let bad_enum = "Unsupported next_hop_type value";
        let cases: &[Case<'_>] = &[
            // R1, on both resources, any casing, IPv4 and IPv6.
            (General, "0.0.0.0/0", "Internet", "-", &[(H, r1)]),
            (General, "0.0.0.0/0", "INTERNET", "-", &[(H, r1)]),
            (General, "0.0.0.0/0", "None", "-", &[(H, r1)]),
            (General, "0.0.0.0/0", "vnetlocal", "-", &[(H, r1)]),
            (General, "::/0", "Internet", "-", &[(H, r1)]),
            (Firewall, "0.0.0.0/0", "Internet", "-", &[(H, r1)]),
            (Firewall, "::/0", "none", "-", &[(H, r1)]),
            // The next-hop IP is not judged while the type is wrong.
            (General, "0.0.0.0/0", "Internet", "10.0.0.4", &[(H, r1)]),
            // R2: firewall routes, whatever the prefix.
            (Firewall, "10.0.0.0/8", "Internet", "-", &[(H, r2)]),
            (Firewall, "10.0.0.0/8", "VnetLocal", "-", &[(H, r2)]),
            (Firewall, "fd00::/8", "None", "-", &[(H, r2)]),
            (Firewall, "?", "internet", "-", &[(H, r2)]),
            (Firewall, "10.0.0.0/8", "Firewall", "-", &[(H, r2)]),
            (Firewall, "0.0.0.0/0", "VirtualApplianceEcmp", "-", &[(H, r2)]),
            // Next-hop types Azure does not know.
            (General, "10.0.0.0/8", "Null", "-", &[(H, bad_enum)]),
            (General, "0.0.0.0/0", "Appliance", "-", &[(H, bad_enum)]),
            (General, "10.0.0.0/8", "", "-", &[(H, bad_enum)]),
            // R3.
            (General, "0.0.0.0/0", "VirtualAppliance", "-", &[(I, r3_req)]),
            (Firewall, "0.0.0.0/0", "VirtualAppliance", "", &[(I, r3_req)]),
            (Firewall, "10.0.0.0/8", "virtualappliance", "  ", &[(I, r3_req)]),
            (General, "10.0.0.0/8", "Internet", "10.0.0.4", &[(I, r3_forbid)]),
            (General, "10.0.0.0/8", "None", "10.0.0.4", &[(I, r3_forbid)]),
            (Firewall, "0.0.0.0/0", "VirtualNetworkGateway", "10.0.0.4", &[(I, r3_forbid)]),
            (General, "0.0.0.0/0", "VirtualAppliance", "10.0.0.4/32", &[(I, r3_bad)]),
            (General, "0.0.0.0/0", "VirtualAppliance", "10.0.0.256", &[(I, r3_bad)]),
            (General, "0.0.0.0/0", "VirtualAppliance", "firewall", &[(I, r3_bad)]),
            (General, "0.0.0.0/0", "VirtualAppliance", " 10.0.0.4", &[(I, r3_bad)]),
            (Firewall, "::/0", "VirtualAppliance", "fd00::g", &[(I, r3_bad)]),
            (General, "0.0.0.0/0", "?", "10.0.0", &[(I, r3_bad)]),
            // R4.
            (General, "10.0.0.1/24", "VnetLocal", "-", &[(P, r4)]),
            (Firewall, "10.0.0.1/24", "VirtualAppliance", "10.0.0.4", &[(P, r4)]),
            (General, "fd00::1/64", "None", "-", &[(P, r4)]),
            (General, "10.0.0.0/33", "None", "-", &[(P, r4)]),
            (General, "fd00::/129", "None", "-", &[(P, r4)]),
            (General, "10.0.0.0", "None", "-", &[(P, r4)]),
            (General, "300.0.0.0/8", "None", "-", &[(P, r4)]),
            (General, "Azure Cloud", "Internet", "-", &[(P, r4)]),
            (General, "Storage.", "Internet", "-", &[(P, r4)]),
            (General, "", "Internet", "-", &[(P, r4)]),
            (General, "_tag", "Internet", "-", &[(P, r4)]),
            (General, "Stórage", "Internet", "-", &[(P, r4)]),
            (Firewall, "AzureCloud", "VirtualAppliance", "10.0.0.4", &[(P, r4)]),
            (Firewall, "", "VirtualAppliance", "10.0.0.4", &[(P, r4)]),
            // Several at once, in attribute order.
            (General, "10.0.0.1/8", "Internet", "10.0.0.4", &[(P, r4), (I, r3_forbid)]),
            (Firewall, "AzureCloud", "Internet", "x", &[(P, r4), (H, r2), (I, r3_bad)]),
            (General, "10.0.0.0/8", "Bogus", "nope", &[(H, bad_enum), (I, r3_bad)]),
        ];
        for (kind, prefix, hop, ip, want) in cases {
            let d = check_route(&spec(*kind, prefix, hop, ip));
            let want: Vec<(String, String)> = want.iter().map(|(p, s)| (p.to_string(), s.to_string())).collect();
            assert_eq!(errors(&d), want, "{kind:?} {prefix:?} {hop:?} {ip:?}");
            assert!(d.has_errors());
        }
    }

    /// The first diagnostic's detail for a route.
    fn detail(kind: RouteKind, prefix: &str, hop: &str, ip: &str) -> String {
        let d = check_route(&spec(kind, prefix, hop, ip));
        d.0.first().map(|e| e.detail.clone()).unwrap_or_default()
    }

    #[test]
    fn details_explain_and_cite_azure() {
        let d = detail(General, "0.0.0.0/0", "internet", "-");
        assert!(d.contains("RouteTableInvalidNextHop"), "{d}");
        assert!(d.contains("\"Internet\""), "canonical casing: {d}");
        assert!(d.contains("next_hop_type          = \"VirtualAppliance\""), "{d}");

        let d = detail(General, "0.0.0.0/0", "VirtualAppliance", "-");
        assert!(d.contains("MissingNextHopIpAddress"), "{d}");
        assert!(d.contains("next_hop_in_ip_address ="), "{d}");

        let d = detail(General, "10.0.0.1/24", "None", "-");
        assert!(d.contains("InvalidCIDRNotation"), "{d}");
        assert!(d.contains("address_prefix = \"10.0.0.0/24\""), "{d}");

        let d = detail(General, "10.0.0.4", "None", "-");
        assert!(d.contains("address_prefix = \"10.0.0.4/32\""), "{d}");
        let d = detail(General, "fd00::4", "None", "-");
        assert!(d.contains("address_prefix = \"fd00::4/128\""), "{d}");

        let d = detail(General, "0.0.0.0/0", "VirtualAppliance", "10.0.0.4/32");
        assert!(d.contains("next_hop_in_ip_address = \"10.0.0.4\""), "{d}");

        let d = detail(Firewall, "10.0.0.0/8", "Internet", "-");
        assert!(d.contains("\"VirtualAppliance\", \"VirtualNetworkGateway\""), "{d}");
        assert!(d.contains("aksudr_route"), "{d}");

        let d = detail(Firewall, "AzureCloud", "VirtualAppliance", "10.0.0.4");
        assert!(d.contains("service tag") && d.contains("aksudr_route"), "{d}");

        let d = detail(General, "10.0.0.0/8", "Bogus", "-");
        for v in NEXT_HOP_TYPES {
            assert!(d.contains(&format!("\"{v}\"")), "{d}");
        }

        let d = detail(General, "10.0.0.0/8", "Internet", "10.0.0.4");
        assert!(d.contains("Remove next_hop_in_ip_address"), "{d}");
    }

    #[test]
    fn resource_type_names() {
        assert_eq!(Firewall.resource_type(), "aksudr_firewall_route");
        assert_eq!(General.resource_type(), "aksudr_route");
    }
}
