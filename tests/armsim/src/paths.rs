//! ARM URL paths: which resource or collection a request addresses, and how canonical
//! resource IDs are spelled.
//!
//! ARM treats every segment of a resource ID case-insensitively, so fixed segments
//! (`resourceGroups`, `providers`, namespaces, types) are matched ignoring case, and names
//! are kept as the client sent them.

/// Canonical spelling of the resource types the simulator serves.
pub(crate) const NETWORK_NS: &str = "Microsoft.Network";
pub(crate) const AKS_NS: &str = "Microsoft.ContainerService";
pub(crate) const ROUTE_TABLES: &str = "Microsoft.Network/routeTables";
pub(crate) const ROUTES: &str = "Microsoft.Network/routeTables/routes";
pub(crate) const VNETS: &str = "Microsoft.Network/virtualNetworks";
pub(crate) const SUBNETS: &str = "Microsoft.Network/virtualNetworks/subnets";
pub(crate) const CLUSTERS: &str = "Microsoft.ContainerService/managedClusters";
pub(crate) const AGENT_POOLS: &str = "Microsoft.ContainerService/managedClusters/agentPools";

/// The resource provider namespace an operation-status URL belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Namespace {
    Network,
    ContainerService,
}

/// `operations/{id}` (Azure-AsyncOperation) or `operationResults/{id}` (Location).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpUrlKind {
    Status,
    Result,
}

/// What an ARM request path addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    ResourceGroups { sub: String },
    ResourceGroup { sub: String, rg: String },
    RouteTables { sub: String, rg: Option<String> },
    RouteTable { sub: String, rg: String, name: String },
    Routes { sub: String, rg: String, table: String },
    Route { sub: String, rg: String, table: String, name: String },
    VirtualNetworks { sub: String, rg: Option<String> },
    VirtualNetwork { sub: String, rg: String, name: String },
    Subnets { sub: String, rg: String, vnet: String },
    Subnet { sub: String, rg: String, vnet: String, name: String },
    ManagedClusters { sub: String, rg: Option<String> },
    ManagedCluster { sub: String, rg: String, name: String },
    ManagedClusterAction { sub: String, rg: String, name: String, action: String },
    AgentPools { sub: String, rg: String, cluster: String },
    AgentPool { sub: String, rg: String, cluster: String, name: String },
    Operation { sub: String, ns: Namespace, location: String, id: String, kind: OpUrlKind },
    Unknown,
}

impl Target {
    /// The namespace whose api-versions apply, `None` for Microsoft.Resources.
    pub fn namespace(&self) -> Option<Namespace> {
        use Target::*;
        match self {
            ResourceGroups { .. } | ResourceGroup { .. } | Unknown => None,
            RouteTables { .. } | RouteTable { .. } | Routes { .. } | Route { .. } => Some(Namespace::Network),
            VirtualNetworks { .. } | VirtualNetwork { .. } | Subnets { .. } | Subnet { .. } => Some(Namespace::Network),
            ManagedClusters { .. }
            | ManagedCluster { .. }
            | ManagedClusterAction { .. }
            | AgentPools { .. }
            | AgentPool { .. } => Some(Namespace::ContainerService),
            Operation { ns, .. } => Some(*ns),
        }
    }
}

fn eq(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Parses an ARM path (already percent-decoded) into a [`Target`].
pub(crate) fn parse(path: &str) -> Target {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let s = |i: usize| segs.get(i).copied().unwrap_or("");
    let owned = |i: usize| s(i).to_string();
    if segs.len() < 2 || !eq(s(0), "subscriptions") || s(1).is_empty() {
        return Target::Unknown;
    }
    let sub = owned(1);
    if segs.iter().any(|x| x.is_empty()) {
        return Target::Unknown;
    }
    // Subscription-level provider paths: lists and operation status.
    if segs.len() >= 4 && eq(s(2), "providers") {
        let ns = s(3);
        let rest = &segs[4..];
        if eq(ns, NETWORK_NS) && rest.len() == 1 {
            if eq(rest[0], "routeTables") {
                return Target::RouteTables { sub, rg: None };
            }
            if eq(rest[0], "virtualNetworks") {
                return Target::VirtualNetworks { sub, rg: None };
            }
        }
        if eq(ns, AKS_NS) && rest.len() == 1 && eq(rest[0], "managedClusters") {
            return Target::ManagedClusters { sub, rg: None };
        }
        let namespace = if eq(ns, NETWORK_NS) {
            Some(Namespace::Network)
        } else if eq(ns, AKS_NS) {
            Some(Namespace::ContainerService)
        } else {
            None
        };
        if let (Some(ns), 4) = (namespace, rest.len()) {
            if eq(rest[0], "locations") {
                let kind = if eq(rest[2], "operations") {
                    Some(OpUrlKind::Status)
                } else if eq(rest[2], "operationResults") {
                    Some(OpUrlKind::Result)
                } else {
                    None
                };
                if let Some(kind) = kind {
                    return Target::Operation { sub, ns, location: rest[1].to_string(), id: rest[3].to_string(), kind };
                }
            }
        }
        return Target::Unknown;
    }
    if !eq(s(2), "resourceGroups") {
        return Target::Unknown;
    }
    if segs.len() == 3 {
        return Target::ResourceGroups { sub };
    }
    let rg = owned(3);
    if segs.len() == 4 {
        return Target::ResourceGroup { sub, rg };
    }
    if !eq(s(4), "providers") || segs.len() < 7 {
        return Target::Unknown;
    }
    let (ns, ty) = (s(5), s(6));
    let rest: Vec<String> = segs[7..].iter().map(|x| x.to_string()).collect();
    if eq(ns, NETWORK_NS) && eq(ty, "routeTables") {
        return match rest.as_slice() {
            [] => Target::RouteTables { sub, rg: Some(rg) },
            [name] => Target::RouteTable { sub, rg, name: name.clone() },
            [table, r] if eq(r, "routes") => Target::Routes { sub, rg, table: table.clone() },
            [table, r, name] if eq(r, "routes") => Target::Route { sub, rg, table: table.clone(), name: name.clone() },
            _ => Target::Unknown,
        };
    }
    if eq(ns, NETWORK_NS) && eq(ty, "virtualNetworks") {
        return match rest.as_slice() {
            [] => Target::VirtualNetworks { sub, rg: Some(rg) },
            [name] => Target::VirtualNetwork { sub, rg, name: name.clone() },
            [vnet, s] if eq(s, "subnets") => Target::Subnets { sub, rg, vnet: vnet.clone() },
            [vnet, s, name] if eq(s, "subnets") => Target::Subnet { sub, rg, vnet: vnet.clone(), name: name.clone() },
            _ => Target::Unknown,
        };
    }
    if eq(ns, AKS_NS) && eq(ty, "managedClusters") {
        return match rest.as_slice() {
            [] => Target::ManagedClusters { sub, rg: Some(rg) },
            [name] => Target::ManagedCluster { sub, rg, name: name.clone() },
            [cluster, p] if eq(p, "agentPools") => Target::AgentPools { sub, rg, cluster: cluster.clone() },
            [cluster, p, name] if eq(p, "agentPools") => {
                Target::AgentPool { sub, rg, cluster: cluster.clone(), name: name.clone() }
            }
            [name, action] => Target::ManagedClusterAction { sub, rg, name: name.clone(), action: action.clone() },
            _ => Target::Unknown,
        };
    }
    Target::Unknown
}

/// `/subscriptions/{sub}/resourceGroups/{rg}` with the group's stored casing.
pub(crate) fn rg_id(sub: &str, rg: &str) -> String {
    format!("/subscriptions/{sub}/resourceGroups/{rg}")
}

/// A top-level resource ID under a resource group, e.g. `…/providers/Microsoft.Network/routeTables/rt`.
pub(crate) fn resource_id(rg_id: &str, full_type: &str, name: &str) -> String {
    let (ns, ty) = full_type.split_once('/').unwrap_or((full_type, ""));
    format!("{rg_id}/providers/{ns}/{ty}/{name}")
}

/// The last segment of an ID (the resource's name).
pub(crate) fn name_of(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

/// The ID with its last two segments removed (a child's parent).
pub(crate) fn parent_of(id: &str) -> &str {
    let mut it = id.rmatch_indices('/');
    it.next();
    match it.next() {
        Some((i, _)) => &id[..i],
        None => id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_case_insensitively() {
        let t = parse("/SUBSCRIPTIONS/s/resourcegroups/RG/providers/microsoft.network/ROUTETABLES/rt/Routes/r1");
        assert_eq!(t, Target::Route { sub: "s".into(), rg: "RG".into(), table: "rt".into(), name: "r1".into() });
        assert_eq!(
            parse("/subscriptions/s/providers/Microsoft.Network/locations/westeurope/operations/x"),
            Target::Operation {
                sub: "s".into(),
                ns: Namespace::Network,
                location: "westeurope".into(),
                id: "x".into(),
                kind: OpUrlKind::Status
            }
        );
        assert_eq!(parse("/subscriptions/s/resourceGroups//x"), Target::Unknown);
        assert_eq!(parse("/foo"), Target::Unknown);
        let c = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c";
        assert_eq!(
            parse(&format!("{c}/AGENTPOOLS/np1")),
            Target::AgentPool { sub: "s".into(), rg: "rg".into(), cluster: "c".into(), name: "np1".into() }
        );
        assert_eq!(
            parse(&format!("{c}/agentPools")),
            Target::AgentPools { sub: "s".into(), rg: "rg".into(), cluster: "c".into() }
        );
        assert_eq!(
            parse(&format!("{c}/listClusterUserCredential")),
            Target::ManagedClusterAction {
                sub: "s".into(),
                rg: "rg".into(),
                name: "c".into(),
                action: "listClusterUserCredential".into()
            }
        );
    }

    #[test]
    fn ids() {
        let rg = rg_id("s", "rg");
        let rt = resource_id(&rg, ROUTE_TABLES, "rt");
        assert_eq!(rt, "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/routeTables/rt");
        assert_eq!(name_of(&rt), "rt");
        assert_eq!(parent_of(&format!("{rt}/routes/r")), rt);
    }
}
