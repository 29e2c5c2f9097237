//! Rules R5-R8 for the cluster (and R11 on its default pool): what an outbound type requires of the rest
//! of the configuration, the kubenet identity rule, the cluster CIDRs, and
//! which outbound-type changes AKS can make in place.

use super::enums::{
    self, check_enum, quoted_list, IDENTITY_TYPES, LOAD_BALANCER, LOAD_BALANCER_SKUS, MANAGED_NAT_GATEWAY,
    NETWORK_PLUGINS, NETWORK_PLUGIN_MODES, NETWORK_POLICIES, NODE_POOL_TYPES, OUTBOUND_NONE, OUTBOUND_TYPES, SKU_TIERS,
    USER_ASSIGNED_NAT_GATEWAY, USER_DEFINED_ROUTING,
};
use super::net::{Cidr, CidrError};
use super::Input;
use crate::tf::diag::{AttributePath, Diagnostic, Diagnostics};
use std::net::IpAddr;

/// Attribute paths of the cluster resource that errors are attached to. The
/// nested blocks are lists with exactly one element.
pub mod paths {
    pub const OUTBOUND_TYPE: &str = "network_profile[0].outbound_type";
    pub const NETWORK_PLUGIN: &str = "network_profile[0].network_plugin";
    pub const NETWORK_PLUGIN_MODE: &str = "network_profile[0].network_plugin_mode";
    pub const NETWORK_POLICY: &str = "network_profile[0].network_policy";
    pub const LOAD_BALANCER_SKU: &str = "network_profile[0].load_balancer_sku";
    pub const POD_CIDR: &str = "network_profile[0].pod_cidr";
    pub const SERVICE_CIDR: &str = "network_profile[0].service_cidr";
    pub const DNS_SERVICE_IP: &str = "network_profile[0].dns_service_ip";
    pub const NODE_POOL_TYPE: &str = "default_node_pool[0].type";
    pub const VNET_SUBNET_ID: &str = "default_node_pool[0].vnet_subnet_id";
    pub const IDENTITY_TYPE: &str = "identity[0].type";
    pub const IDENTITY_IDS: &str = "identity[0].identity_ids";
    pub const SKU_TIER: &str = "sku_tier";
}

/// A cluster's configuration as the rules see it. Unset attributes are
/// [`Input::Null`]; `Default` gives a spec with everything unset.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClusterSpec {
    /// `network_profile[0].outbound_type`; null means Azure's default,
    /// `loadBalancer`.
    pub outbound_type: Input<String>,
    /// `network_profile[0].network_plugin`.
    pub network_plugin: Input<String>,
    /// `network_profile[0].network_plugin_mode`.
    pub network_plugin_mode: Input<String>,
    /// `network_profile[0].network_policy`.
    pub network_policy: Input<String>,
    /// `network_profile[0].load_balancer_sku`; null means Azure's default,
    /// `standard`.
    pub load_balancer_sku: Input<String>,
    /// `sku_tier`.
    pub sku_tier: Input<String>,
    /// `default_node_pool[0].type`; null means Azure's default,
    /// `VirtualMachineScaleSets`.
    pub node_pool_type: Input<String>,
    /// `default_node_pool[0].vnet_subnet_id`.
    pub vnet_subnet_id: Input<String>,
    /// `identity[0].type`; null when the identity block is absent.
    pub identity_type: Input<String>,
    /// `identity[0].identity_ids`; unknown if the list or any element is.
    pub identity_ids: Input<Vec<String>>,
    /// `network_profile[0].pod_cidr`.
    pub pod_cidr: Input<String>,
    /// `network_profile[0].service_cidr`.
    pub service_cidr: Input<String>,
    /// `network_profile[0].dns_service_ip`.
    pub dns_service_ip: Input<String>,
    /// The default pool's size settings (R11).
    pub default_pool_scale: super::pool::PoolScale,
}

/// Outbound types that leave egress to the user and so need a subnet of the
/// user's own (R5).
const BYO_EGRESS_OUTBOUND_TYPES: &[&str] = &[USER_DEFINED_ROUTING, USER_ASSIGNED_NAT_GATEWAY, OUTBOUND_NONE];

/// Outbound types AKS can switch between on a running cluster (R8).
const IN_PLACE_OUTBOUND_TYPES: &[&str] =
    &[LOAD_BALANCER, USER_DEFINED_ROUTING, USER_ASSIGNED_NAT_GATEWAY, OUTBOUND_NONE];

/// The canonical enumerated values of a spec that passed their value checks;
/// `None` where unknown, null or invalid.
struct Enums {
    outbound_type: Option<&'static str>,
    network_plugin: Option<&'static str>,
    load_balancer_sku: Option<&'static str>,
    node_pool_type: Option<&'static str>,
    identity_type: Option<&'static str>,
}

/// Runs the enumerated-value checks and R5-R7 on a cluster.
pub fn check_cluster(spec: &ClusterSpec) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let e = Enums {
        outbound_type: check_enum(&mut diags, &spec.outbound_type, OUTBOUND_TYPES, paths::OUTBOUND_TYPE),
        network_plugin: check_enum(&mut diags, &spec.network_plugin, NETWORK_PLUGINS, paths::NETWORK_PLUGIN),
        load_balancer_sku: check_enum(
            &mut diags,
            &spec.load_balancer_sku,
            LOAD_BALANCER_SKUS,
            paths::LOAD_BALANCER_SKU,
        ),
        node_pool_type: check_enum(&mut diags, &spec.node_pool_type, NODE_POOL_TYPES, paths::NODE_POOL_TYPE),
        identity_type: check_enum(&mut diags, &spec.identity_type, IDENTITY_TYPES, paths::IDENTITY_TYPE),
    };
    check_enum(&mut diags, &spec.network_plugin_mode, NETWORK_PLUGIN_MODES, paths::NETWORK_PLUGIN_MODE);
    check_enum(&mut diags, &spec.network_policy, NETWORK_POLICIES, paths::NETWORK_POLICY);
    check_enum(&mut diags, &spec.sku_tier, SKU_TIERS, paths::SKU_TIER);

    check_outbound_preconditions(spec, &e, &mut diags);
    check_kubenet_identity(spec, &e, &mut diags);
    check_cidrs(spec, &mut diags);
    super::pool::check_scale(&spec.default_pool_scale, "default_node_pool[0].", &mut diags);
    diags
}

/// What a cluster with `outbound` egress needs its subnet to provide.
fn egress_setup(outbound: &str) -> &'static str {
    match outbound {
        USER_DEFINED_ROUTING => {
            "whose route table sends 0.0.0.0/0 to your firewall or NVA (see aksudr_firewall_route and \
             aksudr_subnet_route_table_association)"
        }
        USER_ASSIGNED_NAT_GATEWAY => "associated with your NAT gateway",
        _ => "where you provide egress yourself",
    }
}

/// R5.
fn check_outbound_preconditions(spec: &ClusterSpec, e: &Enums, diags: &mut Diagnostics) {
    let Some(outbound) = e.outbound_type else {
        return;
    };
    if outbound == MANAGED_NAT_GATEWAY {
        if let Some(id) = spec.vnet_subnet_id.present() {
            diags.push(
                Diagnostic::error(
                    "managedNATGateway cannot use an existing subnet (R5)",
                    format!(
                        "With outbound_type \"managedNATGateway\" AKS creates and manages the virtual network \
                         and its NAT gateway, so it only works with an AKS-managed virtual network; the cluster \
                         cannot be placed in the existing subnet \"{id}\". Either remove vnet_subnet_id, or keep \
                         the subnet and choose an outbound type for your own network:\n  outbound_type = \
                         \"userDefinedRouting\"     # egress through your firewall\n  outbound_type = \
                         \"userAssignedNATGateway\" # egress through your NAT gateway on the subnet"
                    ),
                )
                .at(AttributePath::parse(paths::VNET_SUBNET_ID)),
            );
        }
        return;
    }
    if !enums::is_one_of(outbound, BYO_EGRESS_OUTBOUND_TYPES) {
        return;
    }
    // AKS documents both as requirements of any non-default outbound type.
    if let Some(pool) = e.node_pool_type.filter(|t| *t != "VirtualMachineScaleSets") {
        diags.push(
            Diagnostic::error(
                format!("outbound_type {outbound} needs a VirtualMachineScaleSets node pool (R5)"),
                format!(
                    "AKS supports outbound_type \"{outbound}\" only on clusters whose node pools are virtual \
                     machine scale sets; this default node pool is \"{pool}\". Set it in default_node_pool \
                     (or remove it, as it is the default):\n  type = \"VirtualMachineScaleSets\""
                ),
            )
            .at(AttributePath::parse(paths::NODE_POOL_TYPE)),
        );
    }
    if let Some(sku) = e.load_balancer_sku.filter(|s| *s != "standard") {
        diags.push(
            Diagnostic::error(
                format!("outbound_type {outbound} needs the standard load balancer SKU (R5)"),
                format!(
                    "AKS supports outbound_type \"{outbound}\" only with the Standard load balancer; this \
                     cluster asks for \"{sku}\". Set it in network_profile (or remove it, as it is the \
                     default):\n  load_balancer_sku = \"standard\""
                ),
            )
            .at(AttributePath::parse(paths::LOAD_BALANCER_SKU)),
        );
    }
    // A blank ID is reported by the attribute's own ID check (resources::check_subnet_id).
    if spec.vnet_subnet_id.is_null() {
        diags.push(
            Diagnostic::error(
                format!("outbound_type {outbound} needs an existing subnet (R5)"),
                format!(
                    "With outbound_type \"{outbound}\" AKS does not create a virtual network or an egress path: \
                     the cluster must go into an existing subnet {}. Set it in default_node_pool:\n  \
                     vnet_subnet_id = azurerm_subnet.aks.id",
                    egress_setup(outbound)
                ),
            )
            .at(AttributePath::parse(paths::VNET_SUBNET_ID)),
        );
    }
}

/// R6. When the identity block is absent the error goes on
/// `network_plugin`: Terraform cannot point at an attribute of a block that
/// is not in the configuration, and the plugin choice is the other half of
/// the conflict.
fn check_kubenet_identity(spec: &ClusterSpec, e: &Enums, diags: &mut Diagnostics) {
    if e.outbound_type != Some(USER_DEFINED_ROUTING) || e.network_plugin != Some("kubenet") {
        return;
    }
    let why = "With network_plugin \"kubenet\" and outbound_type \"userDefinedRouting\", AKS writes the pod \
               routes into your subnet's route table, so the cluster identity needs permission on that route \
               table before the cluster exists. A system-assigned identity is only created with the cluster, \
               so AKS rejects it (CustomRouteTableWithUnsupportedMSIType).";
    let fix = "Use a user-assigned identity that has Network Contributor on the route table:\n  identity {\n    \
               type         = \"UserAssigned\"\n    identity_ids = [azurerm_user_assigned_identity.aks.id]\n  \
               }\nor use network_plugin = \"azure\".";
    let summary = "kubenet with userDefinedRouting needs a user-assigned identity (R6)";
    let (path, found) = match (&spec.identity_type, e.identity_type) {
        (Input::Null, _) => (paths::NETWORK_PLUGIN, "This cluster has no identity block.".to_string()),
        (_, Some("SystemAssigned")) => {
            (paths::IDENTITY_TYPE, "This cluster's identity is \"SystemAssigned\".".to_string())
        }
        (_, Some(_)) => {
            let empty = match &spec.identity_ids {
                Input::Known(ids) => ids.iter().all(|id| id.trim().is_empty()),
                Input::Null => true,
                Input::Unknown => false,
            };
            if !empty {
                return;
            }
            (paths::IDENTITY_IDS, "The identity is \"UserAssigned\" but identity_ids lists no identity.".to_string())
        }
        // Unknown, or an invalid value already reported.
        (_, None) => return,
    };
    diags.push(Diagnostic::error(summary, format!("{why} {found} {fix}")).at(AttributePath::parse(path)));
}

/// Parses a known CIDR attribute, reporting an error at `path` when it is
/// invalid.
fn parse_cidr_input(
    input: &Input<String>,
    path: &str,
    summary: &str,
    example: &str,
    diags: &mut Diagnostics,
) -> Option<Cidr> {
    let text = input.known_str()?;
    match Cidr::parse(text) {
        Ok(c) => Some(c),
        Err(err) => {
            let attr = path.rsplit('.').next().unwrap_or(path);
            let fix = match &err {
                CidrError::HostBitsSet { network } => network.to_string(),
                _ => example.to_string(),
            };
            diags.push(
                Diagnostic::error(
                    summary,
                    format!(
                        "{attr} must be an IPv4 or IPv6 CIDR; \"{text}\" is not valid: {err}. For example:\n  \
                         {attr} = \"{fix}\""
                    ),
                )
                .at(AttributePath::parse(path)),
            );
            None
        }
    }
}

/// R7.
fn check_cidrs(spec: &ClusterSpec, diags: &mut Diagnostics) {
    let pod = parse_cidr_input(&spec.pod_cidr, paths::POD_CIDR, "Invalid pod CIDR (R7)", "10.244.0.0/16", diags);
    let service =
        parse_cidr_input(&spec.service_cidr, paths::SERVICE_CIDR, "Invalid service CIDR (R7)", "10.0.0.0/16", diags);
    if let (Some(pod), Some(service)) = (pod, service) {
        if pod.overlaps(&service) {
            diags.push(
                Diagnostic::error(
                    "Pod and service CIDRs overlap (R7)",
                    format!(
                        "Pod addresses and Kubernetes service addresses must come from separate ranges, or \
                         traffic to one is routed to the other; service_cidr \"{service}\" overlaps pod_cidr \
                         \"{pod}\". Choose disjoint ranges that also do not overlap your virtual networks, \
                         e.g.:\n  pod_cidr     = \"10.244.0.0/16\"\n  service_cidr = \"10.0.0.0/16\""
                    ),
                )
                .at(AttributePath::parse(paths::SERVICE_CIDR)),
            );
        }
    }
    let Some(dns) = spec.dns_service_ip.known_str() else {
        return;
    };
    let at = AttributePath::parse(paths::DNS_SERVICE_IP);
    let Ok(ip) = dns.parse::<IpAddr>() else {
        diags.push(
            Diagnostic::error(
                "Invalid DNS service IP (R7)",
                format!(
                    "dns_service_ip must be an IPv4 or IPv6 address inside service_cidr; \"{dns}\" is not an \
                     address. For example:\n  dns_service_ip = \"10.0.0.10\""
                ),
            )
            .at(at),
        );
        return;
    };
    if let Some(service) = service.filter(|s| !s.contains(ip)) {
        let suggestion = service.nth(10).map(|s| format!("  dns_service_ip = \"{s}\"")).unwrap_or_default();
        diags.push(
            Diagnostic::error(
                "DNS service IP outside the service CIDR (R7)",
                format!(
                    "The cluster DNS service is a Kubernetes service, so its address comes from service_cidr \
                     \"{service}\"; dns_service_ip \"{dns}\" is outside it. Pick an address inside the range \
                     (by convention the .10 address), or change service_cidr to a range that contains it. \
                     For example:\n{suggestion}"
                ),
            )
            .at(at),
        );
    }
}

/// What changing `outbound_type` on an existing cluster takes (R8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutboundChange {
    /// The values are equal, ignoring case.
    Unchanged,
    /// AKS can switch a running cluster; the target type's preconditions
    /// (R5) still apply.
    InPlace,
    /// The cluster must be destroyed and recreated.
    Replace,
}

/// Classifies a change of `outbound_type` from `from` to `to` (R8). AKS can
/// switch in place between `loadBalancer`, `userDefinedRouting`,
/// `userAssignedNATGateway` and `none`; any change to or from
/// `managedNATGateway`, or involving a value it does not know, is a
/// replacement.
pub fn outbound_type_change(from: &str, to: &str) -> OutboundChange {
    if from.eq_ignore_ascii_case(to) {
        OutboundChange::Unchanged
    } else if enums::is_one_of(from, IN_PLACE_OUTBOUND_TYPES) && enums::is_one_of(to, IN_PLACE_OUTBOUND_TYPES) {
        OutboundChange::InPlace
    } else {
        OutboundChange::Replace
    }
}

/// The outbound types AKS can switch between in place, as a readable list.
pub fn in_place_outbound_types() -> String {
    quoted_list(IN_PLACE_OUTBOUND_TYPES)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const SUBNET: &str = "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-aks/providers/\
                          Microsoft.Network/virtualNetworks/vnet-spoke/subnets/aks";

    /// A cluster that passes every rule: Azure's UDR tutorial with CNI.
    fn udr() -> ClusterSpec {
        ClusterSpec {
            outbound_type: Input::text("userDefinedRouting"),
            network_plugin: Input::text("azure"),
            network_plugin_mode: Input::text("overlay"),
            network_policy: Input::text("cilium"),
            load_balancer_sku: Input::text("standard"),
            sku_tier: Input::text("Standard"),
            node_pool_type: Input::text("VirtualMachineScaleSets"),
            vnet_subnet_id: Input::text(SUBNET),
            identity_type: Input::text("SystemAssigned"),
            identity_ids: Input::Null,
            pod_cidr: Input::text("10.244.0.0/16"),
            service_cidr: Input::text("10.0.0.0/16"),
            dns_service_ip: Input::text("10.0.0.10"),
            default_pool_scale: Default::default(),
        }
    }

    /// `udr()` with kubenet and a user-assigned identity.
    fn kubenet() -> ClusterSpec {
        ClusterSpec {
            network_plugin: Input::text("kubenet"),
            network_plugin_mode: Input::Null,
            network_policy: Input::text("calico"),
            identity_type: Input::text("UserAssigned"),
            identity_ids: Input::Known(vec!["/subscriptions/x/resourceGroups/rg/providers/\
                 Microsoft.ManagedIdentity/userAssignedIdentities/aks"
                .to_string()]),
            ..udr()
        }
    }

    /// Each error as (path, summary).
    fn errors(d: &Diagnostics) -> Vec<(String, String)> {
        d.iter().map(|e| (e.path.as_ref().map(ToString::to_string).unwrap_or_default(), e.summary.clone())).collect()
    }

    fn assert_clean(name: &str, spec: &ClusterSpec) {
        let d = check_cluster(spec);
        assert!(d.is_empty(), "{name}: {:?}", errors(&d));
    }

    fn s(v: &str) -> Input<String> {
        Input::text(v)
    }

    #[test]
    fn accepted_clusters() {
        let cases: Vec<(&str, ClusterSpec)> = vec![
            ("udr tutorial", udr()),
            ("kubenet with user-assigned identity", kubenet()),
            ("empty spec", ClusterSpec::default()),
            (
                "case-insensitive enums",
                ClusterSpec {
                    outbound_type: s("USERDEFINEDROUTING"),
                    network_plugin: s("Azure"),
                    network_plugin_mode: s("Overlay"),
                    network_policy: s("CILIUM"),
                    load_balancer_sku: s("Standard"),
                    sku_tier: s("premium"),
                    node_pool_type: s("virtualmachinescalesets"),
                    identity_type: s("systemassigned"),
                    ..udr()
                },
            ),
            ("kubenet lower-case identity", ClusterSpec { identity_type: s("userassigned"), ..kubenet() }),
            (
                "kubenet with loadBalancer",
                ClusterSpec { outbound_type: s("loadBalancer"), identity_type: s("SystemAssigned"), ..kubenet() },
            ),
            (
                "defaults for pool type and sku",
                ClusterSpec { node_pool_type: Input::Null, load_balancer_sku: Input::Null, ..udr() },
            ),
            ("userAssignedNATGateway", ClusterSpec { outbound_type: s("userAssignedNATGateway"), ..udr() }),
            ("none", ClusterSpec { outbound_type: s("none"), ..udr() }),
            (
                "managedNATGateway in a managed vnet",
                ClusterSpec { outbound_type: s("managedNATGateway"), vnet_subnet_id: Input::Null, ..udr() },
            ),
            (
                "loadBalancer with basic sku and availability set, no subnet",
                ClusterSpec {
                    outbound_type: s("loadBalancer"),
                    load_balancer_sku: s("basic"),
                    node_pool_type: s("AvailabilitySet"),
                    vnet_subnet_id: Input::Null,
                    ..udr()
                },
            ),
            (
                "default outbound with no subnet",
                ClusterSpec { outbound_type: Input::Null, vnet_subnet_id: Input::Null, ..udr() },
            ),
            (
                "ipv6 cidrs",
                ClusterSpec {
                    pod_cidr: s("fd00:10:244::/56"),
                    service_cidr: s("fd00:10:0::/108"),
                    dns_service_ip: s("fd00:10::a"),
                    ..udr()
                },
            ),
            (
                "v4 pods, v6 services",
                ClusterSpec {
                    pod_cidr: s("10.0.0.0/16"),
                    service_cidr: s("fd00::/108"),
                    dns_service_ip: s("fd00::a"),
                    ..udr()
                },
            ),
            ("lower-case segments in subnet id", ClusterSpec { vnet_subnet_id: s(&SUBNET.to_lowercase()), ..udr() }),
        ];
        for (name, spec) in &cases {
            assert_clean(name, spec);
        }
    }

    #[test]
    fn unknowns_never_error() {
        let all_unknown = ClusterSpec {
            outbound_type: Input::Unknown,
            network_plugin: Input::Unknown,
            network_plugin_mode: Input::Unknown,
            network_policy: Input::Unknown,
            load_balancer_sku: Input::Unknown,
            sku_tier: Input::Unknown,
            node_pool_type: Input::Unknown,
            vnet_subnet_id: Input::Unknown,
            identity_type: Input::Unknown,
            identity_ids: Input::Unknown,
            pod_cidr: Input::Unknown,
            service_cidr: Input::Unknown,
            dns_service_ip: Input::Unknown,
            default_pool_scale: crate::rules::pool::PoolScale {
                auto_scaling: Input::Unknown,
                node_count: Input::Unknown,
                min_count: Input::Unknown,
                max_count: Input::Unknown,
            },
        };
        let cases: Vec<(&str, ClusterSpec)> = vec![
            ("everything unknown", all_unknown.clone()),
            ("unknown subnet under UDR", ClusterSpec { vnet_subnet_id: Input::Unknown, ..udr() }),
            (
                "unknown outbound type with a non-UDR-ready config",
                ClusterSpec {
                    outbound_type: Input::Unknown,
                    load_balancer_sku: s("basic"),
                    node_pool_type: s("AvailabilitySet"),
                    vnet_subnet_id: Input::Null,
                    ..kubenet()
                },
            ),
            ("unknown plugin with system identity", ClusterSpec { network_plugin: Input::Unknown, ..udr() }),
            (
                "kubenet with unknown identity type",
                ClusterSpec { identity_type: Input::Unknown, identity_ids: Input::Null, ..kubenet() },
            ),
            ("kubenet with unknown identity ids", ClusterSpec { identity_ids: Input::Unknown, ..kubenet() }),
            (
                "unknown service cidr",
                ClusterSpec { service_cidr: Input::Unknown, dns_service_ip: s("192.168.0.10"), ..udr() },
            ),
            ("unknown pod cidr", ClusterSpec { pod_cidr: Input::Unknown, ..udr() }),
            ("unknown dns ip", ClusterSpec { dns_service_ip: Input::Unknown, ..udr() }),
            (
                "managedNATGateway with unknown subnet",
                ClusterSpec { outbound_type: s("managedNATGateway"), vnet_subnet_id: Input::Unknown, ..udr() },
            ),
            ("unknown pool type under UDR", ClusterSpec { node_pool_type: Input::Unknown, ..udr() }),
            ("unknown sku under UDR", ClusterSpec { load_balancer_sku: Input::Unknown, ..udr() }),
        ];
        for (name, spec) in &cases {
            assert_clean(name, spec);
        }
    }

    /// A table row: name, spec, and the expected errors as (path, summary).
    type Case = (&'static str, ClusterSpec, Vec<(&'static str, &'static str)>);

    #[test]
    fn rejected_clusters() {
        use paths::*;
        let r5_pool = "outbound_type userDefinedRouting needs a VirtualMachineScaleSets node pool (R5)";
        let r5_sku = "outbound_type userDefinedRouting needs the standard load balancer SKU (R5)";
        let r5_subnet = "outbound_type userDefinedRouting needs an existing subnet (R5)";
        let r5_mnat = "managedNATGateway cannot use an existing subnet (R5)";
        let r6 = "kubenet with userDefinedRouting needs a user-assigned identity (R6)";
        let cases: Vec<Case> = vec![
            // Enumerated values.
            (
                "bad outbound type",
                ClusterSpec { outbound_type: s("udr"), ..udr() },
                vec![(OUTBOUND_TYPE, "Unsupported outbound_type value")],
            ),
            (
                "bad plugin",
                ClusterSpec { network_plugin: s("cni"), ..udr() },
                vec![(NETWORK_PLUGIN, "Unsupported network_plugin value")],
            ),
            (
                "bad plugin mode",
                ClusterSpec { network_plugin_mode: s("underlay"), ..udr() },
                vec![(NETWORK_PLUGIN_MODE, "Unsupported network_plugin_mode value")],
            ),
            (
                "bad policy",
                ClusterSpec { network_policy: s("antrea"), ..udr() },
                vec![(NETWORK_POLICY, "Unsupported network_policy value")],
            ),
            (
                "bad lb sku",
                ClusterSpec { load_balancer_sku: s("gateway"), ..udr() },
                vec![(LOAD_BALANCER_SKU, "Unsupported load_balancer_sku value")],
            ),
            (
                "bad sku tier",
                ClusterSpec { sku_tier: s("Paid"), ..udr() },
                vec![(SKU_TIER, "Unsupported sku_tier value")],
            ),
            (
                "bad pool type",
                ClusterSpec { node_pool_type: s("VMSS"), ..udr() },
                vec![(NODE_POOL_TYPE, "Unsupported type value")],
            ),
            (
                "bad identity type",
                ClusterSpec { identity_type: s("SystemAssigned, UserAssigned"), ..udr() },
                vec![(IDENTITY_TYPE, "Unsupported type value")],
            ),
            // R5, for each outbound type that needs a subnet.
            (
                "udr on availability set",
                ClusterSpec { node_pool_type: s("AvailabilitySet"), ..udr() },
                vec![(NODE_POOL_TYPE, r5_pool)],
            ),
            (
                "udr on basic lb",
                ClusterSpec { load_balancer_sku: s("Basic"), ..udr() },
                vec![(LOAD_BALANCER_SKU, r5_sku)],
            ),
            (
                "udr without subnet",
                ClusterSpec { vnet_subnet_id: Input::Null, ..udr() },
                vec![(VNET_SUBNET_ID, r5_subnet)],
            ),
            (
                "udr with everything wrong",
                ClusterSpec {
                    node_pool_type: s("availabilityset"),
                    load_balancer_sku: s("BASIC"),
                    vnet_subnet_id: Input::Null,
                    ..udr()
                },
                vec![(NODE_POOL_TYPE, r5_pool), (LOAD_BALANCER_SKU, r5_sku), (VNET_SUBNET_ID, r5_subnet)],
            ),
            (
                "userAssignedNATGateway without subnet",
                ClusterSpec { outbound_type: s("userassignednatgateway"), vnet_subnet_id: Input::Null, ..udr() },
                vec![(VNET_SUBNET_ID, "outbound_type userAssignedNATGateway needs an existing subnet (R5)")],
            ),
            (
                "none on basic lb",
                ClusterSpec { outbound_type: s("None"), load_balancer_sku: s("basic"), ..udr() },
                vec![(LOAD_BALANCER_SKU, "outbound_type none needs the standard load balancer SKU (R5)")],
            ),
            (
                "userAssignedNATGateway on availability set",
                ClusterSpec {
                    outbound_type: s("userAssignedNATGateway"),
                    node_pool_type: s("AvailabilitySet"),
                    ..udr()
                },
                vec![(
                    NODE_POOL_TYPE,
                    "outbound_type userAssignedNATGateway needs a VirtualMachineScaleSets node pool (R5)",
                )],
            ),
            (
                "managedNATGateway with subnet",
                ClusterSpec { outbound_type: s("ManagedNATGateway"), ..udr() },
                vec![(VNET_SUBNET_ID, r5_mnat)],
            ),
            // R6.
            (
                "kubenet with system identity",
                ClusterSpec { identity_type: s("SystemAssigned"), ..kubenet() },
                vec![(IDENTITY_TYPE, r6)],
            ),
            (
                "kubenet with system identity, any case",
                ClusterSpec { network_plugin: s("KUBENET"), identity_type: s("systemassigned"), ..kubenet() },
                vec![(IDENTITY_TYPE, r6)],
            ),
            (
                "kubenet without identity block",
                ClusterSpec { identity_type: Input::Null, identity_ids: Input::Null, ..kubenet() },
                vec![(NETWORK_PLUGIN, r6)],
            ),
            (
                "kubenet with no identity ids",
                ClusterSpec { identity_ids: Input::Null, ..kubenet() },
                vec![(IDENTITY_IDS, r6)],
            ),
            (
                "kubenet with empty identity ids",
                ClusterSpec { identity_ids: Input::Known(vec![]), ..kubenet() },
                vec![(IDENTITY_IDS, r6)],
            ),
            (
                "kubenet with blank identity id",
                ClusterSpec { identity_ids: Input::Known(vec![String::new()]), ..kubenet() },
                vec![(IDENTITY_IDS, r6)],
            ),
            // R7.
            (
                "pod cidr host bits",
                ClusterSpec { pod_cidr: s("10.244.0.1/16"), ..udr() },
                vec![(POD_CIDR, "Invalid pod CIDR (R7)")],
            ),
            (
                "pod cidr garbage",
                ClusterSpec { pod_cidr: s("10.244.0.0"), ..udr() },
                vec![(POD_CIDR, "Invalid pod CIDR (R7)")],
            ),
            (
                "service cidr too long",
                ClusterSpec { service_cidr: s("10.0.0.0/40"), ..udr() },
                vec![(SERVICE_CIDR, "Invalid service CIDR (R7)")],
            ),
            (
                "service cidr v6 host bits",
                ClusterSpec { service_cidr: s("fd00::1/108"), dns_service_ip: s("fd00::a"), ..udr() },
                vec![(SERVICE_CIDR, "Invalid service CIDR (R7)")],
            ),
            (
                "overlap",
                ClusterSpec { pod_cidr: s("10.0.0.0/8"), ..udr() },
                vec![(SERVICE_CIDR, "Pod and service CIDRs overlap (R7)")],
            ),
            (
                "v6 overlap",
                ClusterSpec {
                    pod_cidr: s("fd00::/64"),
                    service_cidr: s("fd00::/108"),
                    dns_service_ip: s("fd00::a"),
                    ..udr()
                },
                vec![(SERVICE_CIDR, "Pod and service CIDRs overlap (R7)")],
            ),
            (
                "dns outside",
                ClusterSpec { dns_service_ip: s("10.1.0.10"), ..udr() },
                vec![(DNS_SERVICE_IP, "DNS service IP outside the service CIDR (R7)")],
            ),
            (
                "dns other family",
                ClusterSpec { dns_service_ip: s("fd00::a"), ..udr() },
                vec![(DNS_SERVICE_IP, "DNS service IP outside the service CIDR (R7)")],
            ),
            (
                "dns not an ip",
                ClusterSpec { dns_service_ip: s("10.0.0.10/32"), ..udr() },
                vec![(DNS_SERVICE_IP, "Invalid DNS service IP (R7)")],
            ),
            (
                "dns not an ip, service cidr invalid",
                ClusterSpec { service_cidr: s("bogus"), dns_service_ip: s("x"), ..udr() },
                vec![(SERVICE_CIDR, "Invalid service CIDR (R7)"), (DNS_SERVICE_IP, "Invalid DNS service IP (R7)")],
            ),
        ];
        for (name, spec, want) in cases {
            let d = check_cluster(&spec);
            let want: Vec<(String, String)> = want.iter().map(|(p, s)| (p.to_string(), s.to_string())).collect();
            assert_eq!(errors(&d), want, "{name}");
            assert!(d.has_errors(), "{name}");
        }
    }

    fn first_detail(spec: &ClusterSpec) -> String {
        check_cluster(spec).0.first().map(|e| e.detail.clone()).unwrap_or_default()
    }

    #[test]
    fn details_explain_and_cite_azure() {
        let d = first_detail(&ClusterSpec { identity_type: s("SystemAssigned"), ..kubenet() });
        assert!(d.contains("CustomRouteTableWithUnsupportedMSIType"), "{d}");
        assert!(d.contains("type         = \"UserAssigned\""), "{d}");

        let d = first_detail(&ClusterSpec { identity_type: Input::Null, ..kubenet() });
        assert!(d.contains("no identity block"), "{d}");

        let d = first_detail(&ClusterSpec { vnet_subnet_id: Input::Null, ..udr() });
        assert!(d.contains("vnet_subnet_id = "), "{d}");
        assert!(d.contains("aksudr_subnet_route_table_association"), "{d}");

        let d = first_detail(&ClusterSpec { outbound_type: s("managedNATGateway"), ..udr() });
        assert!(d.contains("AKS-managed virtual network") && d.contains("userAssignedNATGateway"), "{d}");

        let d = first_detail(&ClusterSpec { load_balancer_sku: s("basic"), ..udr() });
        assert!(d.contains("load_balancer_sku = \"standard\""), "{d}");

        let d = first_detail(&ClusterSpec { pod_cidr: s("10.244.0.1/16"), ..udr() });
        assert!(d.contains("pod_cidr = \"10.244.0.0/16\""), "{d}");

        let d = first_detail(&ClusterSpec { service_cidr: s("172.16.0.0/16"), ..udr() });
        assert!(d.contains("dns_service_ip = \"172.16.0.10\""), "{d}");

        let d = first_detail(&ClusterSpec { outbound_type: s("UDR"), ..udr() });
        for v in OUTBOUND_TYPES {
            assert!(d.contains(&format!("\"{v}\"")), "{d}");
        }
    }

    #[test]
    fn outbound_type_changes() {
        use OutboundChange::*;
        let cases = [
            ("loadBalancer", "loadBalancer", Unchanged),
            ("userDefinedRouting", "USERDEFINEDROUTING", Unchanged),
            ("managedNATGateway", "managednatgateway", Unchanged),
            ("bogus", "BOGUS", Unchanged),
            ("loadBalancer", "userDefinedRouting", InPlace),
            ("userDefinedRouting", "loadBalancer", InPlace),
            ("loadbalancer", "userassignednatgateway", InPlace),
            ("userAssignedNATGateway", "userDefinedRouting", InPlace),
            ("userDefinedRouting", "none", InPlace),
            ("none", "loadBalancer", InPlace),
            ("loadBalancer", "managedNATGateway", Replace),
            ("managedNATGateway", "userDefinedRouting", Replace),
            ("managedNATGateway", "none", Replace),
            ("userAssignedNATGateway", "managedNATGateway", Replace),
            ("loadBalancer", "bogus", Replace),
            ("", "loadBalancer", Replace),
        ];
        for (from, to, want) in cases {
            assert_eq!(outbound_type_change(from, to), want, "{from} -> {to}");
        }
        assert_eq!(
            in_place_outbound_types(),
            "\"loadBalancer\", \"userDefinedRouting\", \"userAssignedNATGateway\", \"none\""
        );
    }
}
