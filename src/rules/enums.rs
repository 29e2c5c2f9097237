//! The enumerated values Azure accepts, in Azure's canonical casing, and the
//! case-insensitive matching the rules use for them.

use super::Input;
use crate::tf::diag::{AttributePath, Diagnostic, Diagnostics};

/// Route next-hop types (`Microsoft.Network/routeTables/routes`).
pub const NEXT_HOP_TYPES: &[&str] = &["VirtualNetworkGateway", "VnetLocal", "Internet", "VirtualAppliance", "None"];
/// Next-hop types that send traffic to a firewall or NVA (directly or through
/// a gateway): the only ones AKS accepts on the default route of a UDR subnet.
pub const FIREWALL_NEXT_HOP_TYPES: &[&str] = &["VirtualAppliance", "VirtualNetworkGateway"];
/// AKS `networkProfile.outboundType` values.
pub const OUTBOUND_TYPES: &[&str] =
    &["loadBalancer", "userDefinedRouting", "managedNATGateway", "userAssignedNATGateway", "none"];
/// AKS `networkProfile.networkPlugin` values.
pub const NETWORK_PLUGINS: &[&str] = &["azure", "kubenet", "none"];
/// AKS `networkProfile.networkPluginMode` values.
pub const NETWORK_PLUGIN_MODES: &[&str] = &["overlay"];
/// AKS `networkProfile.networkPolicy` values.
pub const NETWORK_POLICIES: &[&str] = &["azure", "calico", "cilium"];
/// AKS `networkProfile.loadBalancerSku` values.
pub const LOAD_BALANCER_SKUS: &[&str] = &["standard", "basic"];
/// AKS agent pool `type` values.
pub const NODE_POOL_TYPES: &[&str] = &["VirtualMachineScaleSets", "AvailabilitySet"];
/// AKS agent pool `mode` values: system pools host AKS's own pods.
pub const NODE_POOL_MODES: &[&str] = &["System", "User"];
/// Managed identity types a cluster may use.
pub const IDENTITY_TYPES: &[&str] = &["SystemAssigned", "UserAssigned"];
/// AKS `sku.tier` values.
pub const SKU_TIERS: &[&str] = &["Free", "Standard", "Premium"];

/// Next hop `VirtualAppliance`.
pub const VIRTUAL_APPLIANCE: &str = "VirtualAppliance";
/// Next hop `VirtualNetworkGateway`.
pub const VIRTUAL_NETWORK_GATEWAY: &str = "VirtualNetworkGateway";
/// Outbound type `loadBalancer`.
pub const LOAD_BALANCER: &str = "loadBalancer";
/// Outbound type `userDefinedRouting`.
pub const USER_DEFINED_ROUTING: &str = "userDefinedRouting";
/// Outbound type `managedNATGateway`.
pub const MANAGED_NAT_GATEWAY: &str = "managedNATGateway";
/// Outbound type `userAssignedNATGateway`.
pub const USER_ASSIGNED_NAT_GATEWAY: &str = "userAssignedNATGateway";
/// Outbound type `none`.
pub const OUTBOUND_NONE: &str = "none";

/// Matches `value` against `allowed` ignoring ASCII case, as Azure does, and
/// returns the allowed value in Azure's canonical casing.
pub fn canonical<'a>(value: &str, allowed: &[&'a str]) -> Option<&'a str> {
    allowed.iter().copied().find(|a| a.eq_ignore_ascii_case(value))
}

/// Whether `value` is one of `allowed`, ignoring ASCII case.
pub fn is_one_of(value: &str, allowed: &[&str]) -> bool {
    allowed.iter().any(|a| a.eq_ignore_ascii_case(value))
}

/// `allowed` as a readable list: `"a"`, `"b"`, `"c"`.
pub fn quoted_list(allowed: &[&str]) -> String {
    allowed.iter().map(|a| format!("\"{a}\"")).collect::<Vec<_>>().join(", ")
}

/// Checks an enumerated input: a known value outside `allowed` is an error at
/// `path` listing the allowed values. Returns the canonical value when the
/// input is known and allowed, `None` otherwise (unknown, null or invalid).
pub(crate) fn check_enum(
    diags: &mut Diagnostics,
    input: &Input<String>,
    allowed: &[&'static str],
    path: &str,
) -> Option<&'static str> {
    let value = input.known()?;
    let found = canonical(value, allowed);
    if found.is_none() {
        let attr = path.rsplit('.').next().unwrap_or(path);
        let example = allowed.first().copied().unwrap_or_default();
        diags.push(
            Diagnostic::error(
                format!("Unsupported {attr} value"),
                format!(
                    "\"{value}\" is not a value Azure accepts for {attr}. Allowed values (matched \
                     case-insensitively): {}.\nFor example: {attr} = \"{example}\"",
                    quoted_list(allowed)
                ),
            )
            .at(AttributePath::parse(path)),
        );
    }
    found
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn canonical_is_case_insensitive() {
        let cases: &[(&str, &[&str], Option<&str>)] = &[
            ("virtualappliance", NEXT_HOP_TYPES, Some("VirtualAppliance")),
            ("INTERNET", NEXT_HOP_TYPES, Some("Internet")),
            ("vnetlocal", NEXT_HOP_TYPES, Some("VnetLocal")),
            ("none", NEXT_HOP_TYPES, Some("None")),
            ("Null", NEXT_HOP_TYPES, None),
            ("VirtualApplianceEcmp", NEXT_HOP_TYPES, None),
            ("internet", FIREWALL_NEXT_HOP_TYPES, None),
            ("USERDEFINEDROUTING", OUTBOUND_TYPES, Some("userDefinedRouting")),
            ("ManagedNatGateway", OUTBOUND_TYPES, Some("managedNATGateway")),
            ("Kubenet", NETWORK_PLUGINS, Some("kubenet")),
            ("Overlay", NETWORK_PLUGIN_MODES, Some("overlay")),
            ("Cilium", NETWORK_POLICIES, Some("cilium")),
            ("Standard", LOAD_BALANCER_SKUS, Some("standard")),
            ("virtualmachinescalesets", NODE_POOL_TYPES, Some("VirtualMachineScaleSets")),
            ("userassigned", IDENTITY_TYPES, Some("UserAssigned")),
            ("SystemAssigned, UserAssigned", IDENTITY_TYPES, None),
            ("premium", SKU_TIERS, Some("Premium")),
            ("", SKU_TIERS, None),
            (" Free", SKU_TIERS, None),
        ];
        for (value, allowed, want) in cases {
            assert_eq!(canonical(value, allowed), *want, "{value}");
            assert_eq!(is_one_of(value, allowed), want.is_some(), "{value}");
        }
    }

    #[test]
    fn check_enum_reports_allowed_values_at_path() {
        let mut d = Diagnostics::new();
        let got =
            check_enum(&mut d, &Input::Known("udr".to_string()), OUTBOUND_TYPES, "network_profile[0].outbound_type");
        assert_eq!(got, None);
        assert_eq!(d.0.len(), 1);
        let e = &d.0[0];
        assert_eq!(e.path, Some(AttributePath::parse("network_profile[0].outbound_type")));
        assert_eq!(e.summary, "Unsupported outbound_type value");
        assert!(e.detail.contains("\"userDefinedRouting\""), "{}", e.detail);
        assert!(e.detail.contains("\"udr\""), "{}", e.detail);

        for input in [Input::Unknown, Input::Null] {
            let mut d = Diagnostics::new();
            assert_eq!(check_enum(&mut d, &input, OUTBOUND_TYPES, "x"), None);
            assert!(d.is_empty());
        }
        let mut d = Diagnostics::new();
        let got = check_enum(&mut d, &Input::Known("NONE".to_string()), OUTBOUND_TYPES, "x");
        assert_eq!(got, Some("none"));
        assert!(d.is_empty());
    }
}
