//! The seed: resource groups, virtual networks, subnets and route tables that exist before
//! the first request. Its JSON format is documented in the crate README.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::cidr::Cidr;
use crate::paths::{self, resource_id};
use crate::store::Kind;
use crate::world::{normalize_location, World};
use crate::Error;

/// The subscription the default seed creates.
pub const DEFAULT_SUBSCRIPTION: &str = "00000000-0000-0000-0000-000000000000";

/// Pre-created resources.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Seed {
    #[serde(default)]
    pub subscriptions: Vec<SeedSubscription>,
}

/// A subscription and its resource groups.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedSubscription {
    pub id: String,
    #[serde(default)]
    pub resource_groups: Vec<SeedResourceGroup>,
}

/// A resource group and the network resources in it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedResourceGroup {
    pub name: String,
    pub location: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub route_tables: Vec<SeedRouteTable>,
    #[serde(default)]
    pub virtual_networks: Vec<SeedVirtualNetwork>,
}

/// A route table (created before the subnets, which may reference it by name).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedRouteTable {
    pub name: String,
    /// Defaults to the resource group's location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default)]
    pub disable_bgp_route_propagation: bool,
    #[serde(default)]
    pub routes: Vec<SeedRoute>,
}

/// A route in a seeded route table.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedRoute {
    pub name: String,
    pub address_prefix: String,
    pub next_hop_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_hop_ip_address: Option<String>,
}

/// A virtual network with its subnets.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedVirtualNetwork {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    pub address_prefixes: Vec<String>,
    #[serde(default)]
    pub subnets: Vec<SeedSubnet>,
}

/// A subnet; `route_table` names a route table of the same resource group (or is a full ID).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedSubnet {
    pub name: String,
    pub address_prefix: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_table: Option<String>,
    /// A network security group's full ID (not modelled as a resource).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_security_group: Option<String>,
    /// Service endpoints, e.g. `Microsoft.Storage`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_endpoints: Vec<String>,
    /// Services the subnet is delegated to, e.g. `Microsoft.Web/serverFarms`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub delegations: Vec<String>,
}

impl SeedSubnet {
    /// A subnet with only a name and prefix.
    pub fn new(name: &str, address_prefix: &str) -> Self {
        SeedSubnet {
            name: name.into(),
            address_prefix: address_prefix.into(),
            route_table: None,
            network_security_group: None,
            service_endpoints: Vec::new(),
            delegations: Vec::new(),
        }
    }
}

impl Default for Seed {
    /// Subscription `00000000-…`, group `rg-egress` (westeurope), VNet `vnet` 10.0.0.0/16 with
    /// subnets `aks` 10.0.0.0/22, `AzureFirewallSubnet` 10.0.4.0/26 and `users` 10.0.8.0/24 (for
    /// a user node pool).
    fn default() -> Self {
        Seed {
            subscriptions: vec![SeedSubscription {
                id: DEFAULT_SUBSCRIPTION.into(),
                resource_groups: vec![SeedResourceGroup {
                    name: "rg-egress".into(),
                    location: "westeurope".into(),
                    tags: BTreeMap::new(),
                    route_tables: Vec::new(),
                    virtual_networks: vec![SeedVirtualNetwork {
                        name: "vnet".into(),
                        location: None,
                        address_prefixes: vec!["10.0.0.0/16".into()],
                        subnets: vec![
                            SeedSubnet::new("aks", "10.0.0.0/22"),
                            SeedSubnet::new("AzureFirewallSubnet", "10.0.4.0/26"),
                            SeedSubnet::new("users", "10.0.8.0/24"),
                        ],
                    }],
                }],
            }],
        }
    }
}

impl Seed {
    /// Parses a seed document.
    pub fn from_json(text: &str) -> Result<Seed, Error> {
        serde_json::from_str(text).map_err(|e| Error::Seed(e.to_string()))
    }

    /// An empty seed: no resource groups at all.
    pub fn empty() -> Seed {
        Seed { subscriptions: Vec::new() }
    }
}

fn cidr(s: &str, what: &str) -> Result<Cidr, Error> {
    Cidr::parse(s).map_err(|_| Error::Seed(format!("{what}: '{s}' is not a valid IPv4 CIDR")))
}

/// Creates the seeded resources in a fresh world, all in state Succeeded.
pub(crate) fn apply(seed: &Seed, w: &mut World) -> Result<(), Error> {
    for sub in &seed.subscriptions {
        for rg in &sub.resource_groups {
            let rg_id = paths::rg_id(&sub.id, &rg.name);
            let rg_loc = normalize_location(&rg.location);
            let tags = (!rg.tags.is_empty()).then(|| json!(rg.tags));
            w.store.put(Kind::ResourceGroup, &rg_id, crate::resources::rg_body(&rg_id, &rg_loc, tags));
            for rt in &rg.route_tables {
                let id = resource_id(&rg_id, paths::ROUTE_TABLES, &rt.name);
                let loc = rt.location.as_deref().map_or(rg_loc.clone(), normalize_location);
                let body = json!({
                    "name": rt.name,
                    "id": id,
                    "etag": w.ids.etag(),
                    "type": paths::ROUTE_TABLES,
                    "location": loc,
                    "properties": {
                        "provisioningState": "Succeeded",
                        "resourceGuid": w.ids.guid(),
                        "disableBgpRoutePropagation": rt.disable_bgp_route_propagation,
                    }
                });
                w.store.put(Kind::RouteTable, &id, body);
                for r in &rt.routes {
                    if !r.address_prefix.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
                        cidr(&r.address_prefix, &format!("route {}", r.name))?;
                    }
                    crate::network::insert_route(
                        w,
                        &id,
                        &r.name,
                        &r.address_prefix,
                        &r.next_hop_type,
                        r.next_hop_ip_address.as_deref(),
                    );
                }
            }
            for vnet in &rg.virtual_networks {
                let id = resource_id(&rg_id, paths::VNETS, &vnet.name);
                let loc = vnet.location.as_deref().map_or(rg_loc.clone(), normalize_location);
                for p in &vnet.address_prefixes {
                    cidr(p, &format!("virtual network {}", vnet.name))?;
                }
                let body = json!({
                    "name": vnet.name,
                    "id": id,
                    "etag": w.ids.etag(),
                    "type": paths::VNETS,
                    "location": loc,
                    "properties": {
                        "provisioningState": "Succeeded",
                        "resourceGuid": w.ids.guid(),
                        "addressSpace": { "addressPrefixes": vnet.address_prefixes },
                        "virtualNetworkPeerings": [],
                        "enableDdosProtection": false,
                    }
                });
                w.store.put(Kind::VirtualNetwork, &id, body);
                for s in &vnet.subnets {
                    cidr(&s.address_prefix, &format!("subnet {}", s.name))?;
                    let sid = format!("{id}/subnets/{}", s.name);
                    let mut props = Map::new();
                    props.insert("provisioningState".into(), json!("Succeeded"));
                    props.insert("addressPrefix".into(), json!(s.address_prefix));
                    if let Some(rt) = &s.route_table {
                        let rt_id =
                            if rt.starts_with('/') { rt.clone() } else { resource_id(&rg_id, paths::ROUTE_TABLES, rt) };
                        let canonical =
                            w.store.get(&rt_id).map(|e| e.id.clone()).ok_or_else(|| {
                                Error::Seed(format!("subnet {}: route table {rt} is not seeded", s.name))
                            })?;
                        props.insert("routeTable".into(), json!({ "id": canonical }));
                    }
                    if let Some(nsg) = &s.network_security_group {
                        props.insert("networkSecurityGroup".into(), json!({ "id": nsg }));
                    }
                    if !s.service_endpoints.is_empty() {
                        let endpoints: Vec<Value> = s
                            .service_endpoints
                            .iter()
                            .map(
                                |e| json!({"service": e, "locations": [loc.clone()], "provisioningState": "Succeeded"}),
                            )
                            .collect();
                        props.insert("serviceEndpoints".into(), Value::Array(endpoints));
                    }
                    if !s.delegations.is_empty() {
                        let delegations: Vec<Value> = s
                            .delegations
                            .iter()
                            .enumerate()
                            .map(|(i, svc)| {
                                json!({
                                    "name": format!("delegation{i}"),
                                    "id": format!("{sid}/delegations/delegation{i}"),
                                    "etag": w.ids.etag(),
                                    "type": "Microsoft.Network/virtualNetworks/subnets/delegations",
                                    "properties": {
                                        "serviceName": svc,
                                        "actions": ["Microsoft.Network/virtualNetworks/subnets/action"],
                                        "provisioningState": "Succeeded",
                                    }
                                })
                            })
                            .collect();
                        props.insert("delegations".into(), Value::Array(delegations));
                    }
                    props.insert("privateEndpointNetworkPolicies".into(), json!("Disabled"));
                    props.insert("privateLinkServiceNetworkPolicies".into(), json!("Enabled"));
                    let body = json!({
                        "name": s.name,
                        "id": sid,
                        "etag": w.ids.etag(),
                        "type": paths::SUBNETS,
                        "properties": Value::Object(props),
                    });
                    w.store.put(Kind::Subnet, &sid, body);
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_seed_round_trips() -> Result<(), Error> {
        let text = serde_json::to_string(&Seed::default()).map_err(|e| Error::Seed(e.to_string()))?;
        assert_eq!(Seed::from_json(&text)?, Seed::default());
        assert!(Seed::from_json(r#"{"subscriptions":[{"id":"s","bogus":1}]}"#).is_err());
        Ok(())
    }
}
