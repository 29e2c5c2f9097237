//! The schema of `aksudr_cluster`: its attributes, blocks and their checks.

use super::*;

pub(super) fn string_object(fields: &[&str]) -> Type {
    Type::Object(fields.iter().map(|f| (f.to_string(), Type::String)).collect::<BTreeMap<_, _>>())
}

pub(super) fn check_dns_prefix(s: &str) -> Result<(), String> {
    let ok_chars = s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let ends_ok = s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars().last().is_some_and(|c| c.is_ascii_alphanumeric());
    if s.is_empty() || s.len() > 54 || !ok_chars || !ends_ok {
        return Err(format!(
            "{s:?} is not a valid DNS prefix: use 1 to 54 letters, digits or hyphens, starting and ending with \
             a letter or digit."
        ));
    }
    Ok(())
}

pub(super) fn check_cluster_name(s: &str) -> Result<(), String> {
    let ok_chars = s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    let ends_ok = s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && s.chars().last().is_some_and(|c| c.is_ascii_alphanumeric());
    if s.is_empty() || s.len() > 63 || !ok_chars || !ends_ok {
        return Err(format!(
            "{s:?} is not a valid AKS cluster name: use 1 to 63 letters, digits, hyphens or underscores, \
             starting and ending with a letter or digit."
        ));
    }
    Ok(())
}

pub(super) fn check_route_id(s: &str) -> Result<(), String> {
    RouteId::parse(s).map(|_| ()).map_err(|e| e.to_string())
}

pub(super) fn identity_block() -> NestedBlock {
    NestedBlock::at_most_one(
        "identity",
        Block::new("The cluster's control-plane identity. Without this block AKS uses a system-assigned identity.")
            .attr(
                Attribute::string(
                    "type",
                    "`SystemAssigned` (default) or `UserAssigned`. kubenet with user-defined routing needs \
                     `UserAssigned`, with an identity that may write the route table. Updated in place.",
                )
                .default(Value::string("SystemAssigned"))
                .one_of(IDENTITY_TYPES),
            )
            .attr(
                Attribute::string_set(
                    "identity_ids",
                    "The user-assigned identities' ARM IDs; required with `UserAssigned`. Updated in place.",
                )
                .optional(),
            ),
    )
}

pub(super) fn default_node_pool_block() -> NestedBlock {
    let block = Block::new(
        "The system node pool. User-defined routing needs a `VirtualMachineScaleSets` pool in an existing subnet. \
         Pools added with `aksudr_node_pool` are left alone by updates of this block.",
    );
    NestedBlock::exactly_one(
        "default_node_pool",
        node_pool::profile::with_attributes(
            block,
            "The ARM ID of the existing subnet the nodes join. Required with user-defined routing: that subnet's \
             route table must hold a 0.0.0.0/0 route to the firewall, which the provider checks at plan (on the \
             network as the plan leaves it) and again before creating the cluster. Changing it forces replacement.",
        ),
    )
}

pub(super) fn network_profile_block() -> NestedBlock {
    let replaces = "Changing it forces replacement.";
    NestedBlock::exactly_one(
        "network_profile",
        Block::new("Cluster networking, including how egress leaves the cluster.")
            .attr(
                Attribute::string("network_plugin", &format!("`azure`, `kubenet` or `none`. {replaces}"))
                    .required()
                    .forces_replacement()
                    .one_of(NETWORK_PLUGINS),
            )
            .attr(
                Attribute::string("network_plugin_mode", &format!("`overlay` for Azure CNI Overlay. {replaces}"))
                    .optional()
                    .forces_replacement()
                    .one_of(NETWORK_PLUGIN_MODES),
            )
            .attr(
                Attribute::string("network_policy", &format!("`azure`, `calico` or `cilium`. {replaces}"))
                    .optional()
                    .forces_replacement()
                    .one_of(NETWORK_POLICIES),
            )
            .attr(
                Attribute::string(
                    "outbound_type",
                    "How egress leaves the cluster: `userDefinedRouting` (default; through the subnet's route \
                     table to a firewall or NVA — AKS then creates no outbound public IP), `loadBalancer`, \
                     `managedNATGateway`, `userAssignedNATGateway` or `none`. Changes among `loadBalancer`, \
                     `userDefinedRouting`, `userAssignedNATGateway` and `none` are made in place; any other \
                     change forces replacement.",
                )
                .default(Value::string("userDefinedRouting"))
                .one_of(OUTBOUND_TYPES),
            )
            .attr(
                Attribute::string(
                    "egress_route_id",
                    "The ID of the `aksudr_firewall_route` that carries the cluster's egress, e.g. \
                     `aksudr_firewall_route.default.id`. Not sent to Azure: referencing the route makes Terraform \
                     plan and create it before the cluster, and has the provider verify, at plan and again before \
                     the cluster is written, that this route is the default route of the node subnet's route \
                     table. Pair it with `vnet_subnet_id = aksudr_subnet_route_table_association.<name>.subnet_id` \
                     so that the association is made first too.",
                )
                .optional()
                .equivalent(case_insensitive)
                .check(check_route_id),
            )
            .attr(
                Attribute::string(
                    "load_balancer_sku",
                    &format!("`standard` (default) or `basic`; every outbound type but `loadBalancer` needs `standard`. {replaces}"),
                )
                .default(Value::string("standard"))
                .forces_replacement()
                .one_of(LOAD_BALANCER_SKUS),
            )
            .attr(Attribute::string("pod_cidr", &format!("The pod CIDR (kubenet and Azure CNI Overlay). {replaces}")).optional().computed().stable().forces_replacement())
            .attr(Attribute::string("service_cidr", &format!("The Kubernetes service CIDR; must not overlap the pod CIDR or the VNet. {replaces}")).optional().computed().stable().forces_replacement())
            .attr(Attribute::string("dns_service_ip", &format!("The cluster DNS service IP, inside `service_cidr`. {replaces}")).optional().computed().stable().forces_replacement()),
    )
}

impl ClusterResource {
    pub fn new() -> Self {
        let block = Block::new(
            "An AKS cluster whose egress goes through a user-defined route table to a firewall or network \
             virtual appliance. With `outbound_type = \"userDefinedRouting\"` the provider checks at plan — and \
             again against live Azure before creating — that the node subnet has a route table with a \
             0.0.0.0/0 route to a `VirtualAppliance` or `VirtualNetworkGateway`.",
        )
        .attr(id_attribute("cluster"))
        .attr(Attribute::string("name", "The cluster's name. Changing it forces replacement.").required().forces_replacement().check(check_cluster_name))
        .attr(resource_group_attribute("cluster"))
        .attr(location_attribute("cluster"))
        .attr(Attribute::string("dns_prefix", "The DNS prefix of the API server's FQDN. Changing it forces replacement.").required().forces_replacement().check(check_dns_prefix))
        .attr(Attribute::string("kubernetes_version", "The Kubernetes version of the control plane; AKS picks its default when unset. Upgraded in place.").optional().computed().stable())
        .attr(Attribute::string("sku_tier", "`Free` (default), `Standard` or `Premium`. Updated in place.").default(Value::string("Free")).one_of(SKU_TIERS))
        .attr(Attribute::bool("private_cluster_enabled", "Whether the API server has only a private endpoint. Default false. Changing it forces replacement.").default(Value::Bool(false)).forces_replacement())
        .attr(Attribute::string_set("api_server_authorized_ip_ranges", "CIDRs allowed to reach the public API server. With user-defined routing, include the firewall's public IP so that nodes reach the API server. Updated in place.").optional())
        .attr(Attribute::string("node_resource_group", "The resource group AKS creates for the nodes; AKS names it when unset. Changing it forces replacement.").optional().computed().stable().forces_replacement())
        .attr(tags_attribute())
        .attr(Attribute::string("fqdn", "The API server's public FQDN.").computed().stable())
        .attr(Attribute::string("private_fqdn", "The API server's private FQDN (private clusters).").computed().stable())
        // Not stable: AKS may issue new credentials with any update.
        .attr(Attribute::string("kube_config_raw", "The cluster user's kubeconfig, from listClusterUserCredential; null with `store_kube_config = false`. Sensitive.").computed().sensitive())
        .attr(Attribute::bool("store_kube_config", "Whether `kube_config_raw` and `kube_config` hold the cluster user's kubeconfig in state (default true). Set false to keep every credential out of state (the provider then never lists them) and use the `aksudr_cluster_credentials` ephemeral resource instead. Changed in place, without a write to the cluster.").default(Value::Bool(true)))
        .attr(
            Attribute::of_type(
                "kube_config",
                Type::list(string_object(&["host", "client_certificate", "client_key", "cluster_ca_certificate"])),
                "The parts of `kube_config_raw`: host and base64 certificates. Sensitive.",
            )
            .computed()
            .sensitive(),
        )
        .attr(
            Attribute::of_type(
                "kubelet_identity",
                Type::list(string_object(&["client_id", "object_id", "user_assigned_identity_id"])),
                "The identity the kubelets use (to pull images, for example).",
            )
            .computed()
            .stable(),
        )
        .block(identity_block())
        .block(default_node_pool_block())
        .block(network_profile_block())
        .block(TIMEOUTS.block());
        ClusterResource { schema: Schema::new(0, block) }
    }
}

impl Default for ClusterResource {
    fn default() -> Self {
        Self::new()
    }
}
