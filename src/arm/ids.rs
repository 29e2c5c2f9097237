//! Typed ARM resource IDs. User input is parsed strictly (exact segment
//! keywords, a GUID subscription) so a typo becomes a plan-time diagnostic;
//! IDs that ARM returns are parsed case-insensitively, because ARM is not
//! consistent about casing (e.g. `resourcegroups` in some responses). Import
//! IDs sit between the two: users paste them from the portal or the Azure
//! CLI, which print ARM's spelling (`az aks nodepool show` prints
//! `/resourcegroups/`), so keywords may take any case but the subscription
//! must still be a GUID; `Display` writes the canonical spelling to state.

use std::fmt;

/// Why an ID did not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a valid {kind} ID: {reason}. Expected the form {shape}")]
pub struct IdError {
    pub kind: &'static str,
    pub input: String,
    pub reason: String,
    pub shape: String,
}

/// A segment of an ID pattern.
enum Seg {
    /// A fixed keyword such as `resourceGroups`.
    Key(&'static str),
    /// A user-chosen name.
    Name(&'static str),
}
use Seg::{Key, Name};

fn shape(pattern: &[Seg]) -> String {
    pattern
        .iter()
        .map(|s| match s {
            Key(k) => format!("/{k}"),
            Name(n) => format!("/{{{n}}}"),
        })
        .collect()
}

fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The characters of Azure resource names (and resource group names, which
/// also allow parentheses and non-ASCII letters) in the IDs this provider
/// handles.
fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '(' | ')')
}

/// Whether `path` is made only of `/`-separated segments an ID may contain:
/// what the ARM client checks before it sends a request.
pub fn is_safe_path(path: &str) -> bool {
    path.strip_prefix('/').is_some_and(|rest| {
        rest.split('/').all(|seg| !seg.is_empty() && !seg.ends_with('.') && seg.chars().all(is_name_char))
    })
}

/// How strictly an ID is read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Spelling {
    /// Configuration: keywords as ARM spells them, a GUID subscription.
    Strict,
    /// `terraform import`: keywords in any case, a GUID subscription.
    Import,
    /// ARM's answers: keywords in any case, any subscription name.
    Lenient,
}

/// Parses `input` against `pattern`; returns the names in order.
fn parse(kind: &'static str, pattern: &[Seg], input: &str, spelling: Spelling) -> Result<Vec<String>, IdError> {
    let strict = spelling == Spelling::Strict;
    let fail = |reason: String| IdError { kind, input: input.to_string(), reason, shape: shape(pattern) };
    let Some(rest) = input.strip_prefix('/') else {
        return Err(fail("it must start with /subscriptions/".into()));
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let parts: Vec<&str> = rest.split('/').collect();
    if parts.len() != pattern.len() {
        return Err(fail(format!("it has {} segments where {} are expected", parts.len(), pattern.len())));
    }
    let mut names = Vec::new();
    for (part, seg) in parts.iter().zip(pattern) {
        match seg {
            Key(k) => {
                let ok = if strict { part == k } else { part.eq_ignore_ascii_case(k) };
                if !ok {
                    return Err(fail(format!("found {part:?} where {k:?} belongs")));
                }
            }
            Name(n) => {
                if part.is_empty() {
                    return Err(fail(format!("the {n} is empty")));
                }
                // Names become URL path segments, so only the characters
                // Azure allows in the names of these resource types may
                // pass: anything else could change the URL's meaning (`\`
                // is a `/` to URL parsers, `..` a parent path, `?` a query,
                // `%` an escape) and send the request to another object.
                // Nor may a name end with `.` (Azure refuses it; a front end
                // trimming it would alias `rg.` to `rg`).
                if part.ends_with('.') || !part.chars().all(is_name_char) {
                    return Err(fail(format!(
                        "the {n} {part:?} has a character Azure names cannot have (only letters, digits, \
                         '_', '-', '.', '(' and ')' are allowed, and no '.' at the end)"
                    )));
                }
                if spelling != Spelling::Lenient && *n == "subscriptionId" && !is_guid(part) {
                    return Err(fail(format!("the subscription ID {part:?} is not a GUID")));
                }
                names.push((*part).to_string());
            }
        }
    }
    Ok(names)
}

/// Writes an ID: each keyword of `pattern`, and the next of `names` for
/// each name segment.
fn write_id(f: &mut fmt::Formatter<'_>, pattern: &[Seg], names: &[&str]) -> fmt::Result {
    let mut names = names.iter();
    for seg in pattern {
        match seg {
            Key(k) => write!(f, "/{k}")?,
            Name(_) => write!(f, "/{}", names.next().copied().unwrap_or_default())?,
        }
    }
    Ok(())
}

/// Declares a typed ID: its parsers (strict, import, lenient), its
/// canonical `Display` and case-insensitive equality, all from one pattern.
macro_rules! arm_id {
    ($(#[$doc:meta])* $ty:ident, $kind:literal, [$($seg:expr),*], { $($field:ident),* }) => {
        $(#[$doc])*
        #[derive(Clone, Debug)]
        pub struct $ty {
            $(pub $field: String,)*
        }

        impl $ty {
            const PATTERN: &'static [Seg] = &[$($seg),*];

            /// Parses an ID written by a user: keywords must be spelled as ARM
            /// spells them.
            pub fn parse(input: &str) -> Result<Self, IdError> {
                Self::from_names(parse($kind, Self::PATTERN, input, Spelling::Strict)?)
            }

            /// Parses an ID given to `terraform import`: keywords in any case, as
            /// ARM and the Azure CLI print them; the subscription a GUID.
            pub fn parse_import(input: &str) -> Result<Self, IdError> {
                Self::from_names(parse($kind, Self::PATTERN, input, Spelling::Import)?)
            }

            /// Parses an ID returned by ARM, ignoring the case of keywords.
            pub fn parse_insensitive(input: &str) -> Result<Self, IdError> {
                Self::from_names(parse($kind, Self::PATTERN, input, Spelling::Lenient)?)
            }

            fn from_names(names: Vec<String>) -> Result<Self, IdError> {
                let mut it = names.into_iter();
                Ok($ty { $($field: it.next().unwrap_or_default(),)* })
            }

            /// The form users must write, for error messages.
            pub fn shape() -> String {
                shape(Self::PATTERN)
            }
        }

        impl fmt::Display for $ty {
            /// The canonical spelling: the pattern's keywords, the names as
            /// parsed.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let names: &[&str] = &[$(self.$field.as_str()),*];
                write_id(f, Self::PATTERN, names)
            }
        }

        impl PartialEq for $ty {
            /// ARM names are case-insensitive.
            fn eq(&self, other: &Self) -> bool {
                true $(&& self.$field.eq_ignore_ascii_case(&other.$field))*
            }
        }
        impl Eq for $ty {}
    };
}

arm_id!(
    /// `/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Network/routeTables/{name}`
    RouteTableId, "route table",
    [Key("subscriptions"), Name("subscriptionId"), Key("resourceGroups"), Name("resourceGroupName"),
     Key("providers"), Key("Microsoft.Network"), Key("routeTables"), Name("routeTableName")],
    { subscription_id, resource_group, name }
);

arm_id!(
    /// `.../routeTables/{table}/routes/{name}`
    RouteId, "route",
    [Key("subscriptions"), Name("subscriptionId"), Key("resourceGroups"), Name("resourceGroupName"),
     Key("providers"), Key("Microsoft.Network"), Key("routeTables"), Name("routeTableName"),
     Key("routes"), Name("routeName")],
    { subscription_id, resource_group, route_table, name }
);

arm_id!(
    /// `.../virtualNetworks/{vnet}/subnets/{name}`
    SubnetId, "subnet",
    [Key("subscriptions"), Name("subscriptionId"), Key("resourceGroups"), Name("resourceGroupName"),
     Key("providers"), Key("Microsoft.Network"), Key("virtualNetworks"), Name("virtualNetworkName"),
     Key("subnets"), Name("subnetName")],
    { subscription_id, resource_group, virtual_network, name }
);

arm_id!(
    /// `.../providers/Microsoft.ContainerService/managedClusters/{name}`
    ManagedClusterId, "AKS cluster",
    [Key("subscriptions"), Name("subscriptionId"), Key("resourceGroups"), Name("resourceGroupName"),
     Key("providers"), Key("Microsoft.ContainerService"), Key("managedClusters"), Name("managedClusterName")],
    { subscription_id, resource_group, name }
);

arm_id!(
    /// `.../managedClusters/{cluster}/agentPools/{name}`
    AgentPoolId, "AKS node pool",
    [Key("subscriptions"), Name("subscriptionId"), Key("resourceGroups"), Name("resourceGroupName"),
     Key("providers"), Key("Microsoft.ContainerService"), Key("managedClusters"), Name("managedClusterName"),
     Key("agentPools"), Name("agentPoolName")],
    { subscription_id, resource_group, cluster, name }
);

arm_id!(
    /// `.../providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}`
    UserAssignedIdentityId, "user-assigned identity",
    [Key("subscriptions"), Name("subscriptionId"), Key("resourceGroups"), Name("resourceGroupName"),
     Key("providers"), Key("Microsoft.ManagedIdentity"), Key("userAssignedIdentities"), Name("resourceName")],
    { subscription_id, resource_group, name }
);

impl RouteId {
    /// The route table this route belongs to.
    pub fn table(&self) -> RouteTableId {
        RouteTableId {
            subscription_id: self.subscription_id.clone(),
            resource_group: self.resource_group.clone(),
            name: self.route_table.clone(),
        }
    }
}

impl AgentPoolId {
    /// The cluster this pool belongs to.
    pub fn cluster(&self) -> ManagedClusterId {
        ManagedClusterId {
            subscription_id: self.subscription_id.clone(),
            resource_group: self.resource_group.clone(),
            name: self.cluster.clone(),
        }
    }
}

impl SubnetId {
    /// The ID of the virtual network the subnet belongs to.
    pub fn virtual_network_id(&self) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Network/virtualNetworks/{}",
            self.subscription_id, self.resource_group, self.virtual_network
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUB: &str = "00000000-0000-0000-0000-000000000000";

    #[test]
    fn strict_parsing_of_user_input() {
        let ok = format!("/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/routeTables/rt");
        let id = RouteTableId::parse(&ok).expect("valid");
        assert_eq!(id.name, "rt");
        assert_eq!(id.to_string(), ok);

        let cases = [
            (
                format!("/subscriptions/{SUB}/resourcegroups/rg/providers/Microsoft.Network/routeTables/rt"),
                "resourceGroups",
            ),
            (
                "/subscriptions/not-a-guid/resourceGroups/rg/providers/Microsoft.Network/routeTables/rt".to_string(),
                "GUID",
            ),
            (format!("/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/routeTables"), "segments"),
            (format!("subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/routeTables/rt"), "start"),
            (format!("/subscriptions/{SUB}/resourceGroups//providers/Microsoft.Network/routeTables/rt"), "empty"),
            (String::new(), "start"),
            (
                format!("/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/routeTables/.."),
                "cannot have",
            ),
            (
                format!("/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/routeTables/rt?x=1"),
                "cannot have",
            ),
            // `\` is `/` to a URL parser: this would address the resource
            // group's parent path, not a route table.
            (
                format!("/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/routeTables/..\\..\\x"),
                "cannot have",
            ),
            (
                format!("/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/routeTables/a\\b"),
                "cannot have",
            ),
            (
                format!("/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/routeTables/a b"),
                "cannot have",
            ),
            (
                format!("/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/routeTables/a:b"),
                "cannot have",
            ),
        ];
        for (input, why) in cases {
            let err = RouteTableId::parse(&input).expect_err(&input);
            assert!(err.to_string().contains(why), "{input}: {err}");
        }
    }

    #[test]
    fn backslashes_are_refused_in_both_modes() {
        let evil =
            format!("/subscriptions/{SUB}/resourceGroups/rg\\..\\..\\x/providers/Microsoft.Network/routeTables/rt");
        assert!(RouteTableId::parse(&evil).is_err());
        assert!(RouteTableId::parse_insensitive(&evil).is_err());
        assert!(SubnetId::parse_insensitive(&evil.replace("routeTables/rt", "virtualNetworks/v/subnets/s")).is_err());
        assert!(RouteTableId::parse("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-(prod).ü/providers/Microsoft.Network/routeTables/rt_1.x").is_ok());
    }

    #[test]
    fn safe_paths() {
        assert!(is_safe_path("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/routeTables/rt"));
        assert!(is_safe_path("/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c/listClusterUserCredential"));
        for bad in ["", "x", "/", "/a//b", "/a/../b", "/a/./b", "/a\\b", "/a?b", "/a#b", "/a%2e", "/a b", "/a/"] {
            assert!(!is_safe_path(bad), "{bad}");
        }
    }

    #[test]
    fn lenient_parsing_of_arm_responses_and_comparison() {
        let from_arm =
            format!("/subscriptions/{SUB}/resourcegroups/RG/providers/microsoft.network/virtualNetworks/v/subnets/aks");
        let a = SubnetId::parse_insensitive(&from_arm).expect("valid");
        let b = SubnetId::parse(&format!(
            "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/AKS"
        ))
        .expect("valid");
        assert_eq!(a, b);
        let route = RouteId::parse_insensitive(&format!(
            "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/routeTables/rt/routes/default"
        ))
        .expect("valid");
        assert_eq!(route.table().name, "rt");
        let pool = AgentPoolId::parse_insensitive(&format!(
            "/subscriptions/{SUB}/resourcegroups/rg/providers/Microsoft.ContainerService/managedclusters/c/agentpools/user1"
        ))
        .expect("valid");
        assert_eq!(pool.cluster().name, "c");
        assert!(pool.to_string().ends_with("/managedClusters/c/agentPools/user1"));
        assert!(AgentPoolId::parse(&pool.to_string().replace("agentPools", "agentpools")).is_err());
    }

    #[test]
    fn every_type_writes_back_what_it_parsed() {
        let base = format!("/subscriptions/{SUB}/resourceGroups/rg-(a).b");
        let net = format!("{base}/providers/Microsoft.Network");
        let aks = format!("{base}/providers/Microsoft.ContainerService/managedClusters/c1");
        let cases = [
            RouteTableId::parse(&format!("{net}/routeTables/rt")).map(|i| i.to_string()),
            RouteId::parse(&format!("{net}/routeTables/rt/routes/r")).map(|i| i.to_string()),
            SubnetId::parse(&format!("{net}/virtualNetworks/v/subnets/s")).map(|i| i.to_string()),
            ManagedClusterId::parse(&aks).map(|i| i.to_string()),
            AgentPoolId::parse(&format!("{aks}/agentPools/p")).map(|i| i.to_string()),
            UserAssignedIdentityId::parse(&format!(
                "{base}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id"
            ))
            .map(|i| i.to_string()),
        ];
        let want = [
            format!("{net}/routeTables/rt"),
            format!("{net}/routeTables/rt/routes/r"),
            format!("{net}/virtualNetworks/v/subnets/s"),
            aks.clone(),
            format!("{aks}/agentPools/p"),
            format!("{base}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id"),
        ];
        for (got, want) in cases.into_iter().zip(want) {
            assert_eq!(got.expect(&want), want);
        }
        let route = RouteId::parse(&format!("{net}/routeTables/rt/routes/r")).expect("valid");
        assert_eq!(route.table().to_string(), format!("{net}/routeTables/rt"));
    }

    #[test]
    fn import_ids_take_any_keyword_case_and_are_written_canonically() {
        let canonical = format!(
            "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c/agentPools/p"
        );
        for pasted in [
            // az aks nodepool show
            format!("/subscriptions/{SUB}/resourcegroups/rg/providers/Microsoft.ContainerService/managedClusters/c/agentPools/p"),
            format!("/SUBSCRIPTIONS/{SUB}/RESOURCEGROUPS/rg/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/c/AGENTPOOLS/p"),
            format!("{canonical}/"),
        ] {
            let id = AgentPoolId::parse_import(&pasted).expect(&pasted);
            assert_eq!(id.to_string(), canonical, "{pasted}");
            assert!(AgentPoolId::parse(&pasted).is_err() || pasted.ends_with('/'), "{pasted}");
        }
        // Names keep their spelling; the subscription must still be a GUID.
        let id = RouteTableId::parse_import(&format!(
            "/subscriptions/{SUB}/resourcegroups/RG-Egress/providers/microsoft.network/routetables/RT"
        ))
        .expect("valid");
        assert_eq!(
            id.to_string(),
            format!("/subscriptions/{SUB}/resourceGroups/RG-Egress/providers/Microsoft.Network/routeTables/RT")
        );
        let err = RouteTableId::parse_import(
            "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.Network/routeTables/rt",
        )
        .expect_err("not a GUID");
        assert!(err.to_string().contains("GUID"), "{err}");
        assert!(SubnetId::parse_import(&format!(
            "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/a?b"
        ))
        .is_err());
    }
}
