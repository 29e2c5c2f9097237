//! Microsoft.Network (written from the 2024-07-01 spec; every published api-version is
//! accepted, see `api_versions`): route tables, routes, virtual networks and
//! subnets, with the validation the network resource provider performs synchronously.

use std::net::Ipv4Addr;

use serde_json::{json, Map, Value};

use crate::cidr::{Cidr, CidrError};
use crate::error::ArmError;
use crate::http::{HResult, Req, Resp};
use crate::lro::Completion;
use crate::paths::{self, name_of, parent_of, resource_id, Namespace, Target, ROUTE_TABLES};
use crate::store::{same_id, Entry, Kind};
use crate::world::{check_preconditions, normalize_location, read_tags, OpSpec, World};

/// The `RouteNextHopType` enum of routeTable.json, in its canonical spelling.
const NEXT_HOP_TYPES: &[&str] = &["VirtualNetworkGateway", "VnetLocal", "Internet", "VirtualAppliance", "None"];

/// Subnet properties that are computed by the service and ignored in requests.
const SUBNET_READ_ONLY: &[&str] = &[
    "provisioningState",
    "purpose",
    "privateEndpoints",
    "ipConfigurations",
    "ipConfigurationProfiles",
    "resourceNavigationLinks",
    "serviceAssociationLinks",
];

/// Handles a Microsoft.Network request.
pub(crate) fn handle(w: &mut World, req: &Req, target: &Target) -> HResult {
    let m = req.method.as_str();
    match (target, m) {
        (Target::RouteTables { sub, rg }, "GET") => list_route_tables(w, sub, rg.as_deref()),
        (Target::RouteTable { sub, rg, name }, _) => {
            let rg_id = require_rg(w, sub, rg)?;
            let id = resource_id(&rg_id, ROUTE_TABLES, name);
            match m {
                "GET" => get_route_table(w, &id, rg, name),
                "PUT" => put_route_table(w, req, sub, &id),
                "PATCH" => patch_route_table(w, req, &id, rg, name),
                "DELETE" => delete_route_table(w, req, sub, &id),
                _ => Err(method_not_allowed(m)),
            }
        }
        (Target::Routes { sub, rg, table }, "GET") => {
            let rt = route_table_id(w, sub, rg, table)?;
            let value: Vec<Value> = w.store.list(Kind::Route, &rt).iter().map(|e| e.body.clone()).collect();
            Ok(Resp::json(200, json!({ "value": value })))
        }
        (Target::Route { sub, rg, table, name }, _) => {
            let rt = route_table_id(w, sub, rg, table)?;
            let id = format!("{rt}/routes/{name}");
            match m {
                "GET" => w
                    .store
                    .get(&id)
                    .map(|e| Resp::json(200, e.body.clone()))
                    .ok_or_else(|| ArmError::child_not_found(&id)),
                "PUT" => put_route(w, req, sub, &rt, &id),
                "DELETE" => delete_route(w, req, sub, &rt, &id),
                _ => Err(method_not_allowed(m)),
            }
        }
        (Target::VirtualNetworks { sub, rg }, "GET") => {
            let prefix = match rg {
                Some(rg) => require_rg(w, sub, rg)?,
                None => format!("/subscriptions/{sub}"),
            };
            let value: Vec<Value> =
                w.store.list(Kind::VirtualNetwork, &prefix).iter().map(|e| render_vnet(w, e)).collect();
            Ok(Resp::json(200, json!({ "value": value })))
        }
        (Target::VirtualNetwork { sub, rg, name }, "GET") => {
            let rg_id = require_rg(w, sub, rg)?;
            let id = resource_id(&rg_id, paths::VNETS, name);
            w.store
                .get(&id)
                .map(|e| Resp::json(200, render_vnet(w, e)))
                .ok_or_else(|| ArmError::resource_not_found(paths::VNETS, name, rg))
        }
        (Target::Subnets { sub, rg, vnet }, "GET") => {
            let vnet_id = vnet_id(w, sub, rg, vnet)?;
            let value: Vec<Value> = w.store.list(Kind::Subnet, &vnet_id).iter().map(|e| e.body.clone()).collect();
            Ok(Resp::json(200, json!({ "value": value })))
        }
        (Target::Subnet { sub, rg, vnet, name }, _) => {
            let vnet_id = vnet_id(w, sub, rg, vnet)?;
            let id = format!("{vnet_id}/subnets/{name}");
            match m {
                "GET" => w
                    .store
                    .get(&id)
                    .map(|e| Resp::json(200, e.body.clone()))
                    .ok_or_else(|| ArmError::child_not_found(&id)),
                "PUT" => put_subnet(w, req, sub, &vnet_id, &id),
                "DELETE" => delete_subnet(w, req, sub, &vnet_id, &id),
                _ => Err(method_not_allowed(m)),
            }
        }
        _ => Err(method_not_allowed(m)),
    }
}

pub(crate) fn method_not_allowed(m: &str) -> ArmError {
    ArmError::new(405, "HttpMethodNotSupported", format!("The requested resource does not support http method '{m}'."))
}

/// The canonical ID of an existing resource group, or ARM's `ResourceGroupNotFound`.
pub(crate) fn require_rg(w: &World, sub: &str, rg: &str) -> Result<String, ArmError> {
    w.store
        .get(&paths::rg_id(sub, rg))
        .filter(|e| e.kind == Kind::ResourceGroup)
        .map(|e| e.id.clone())
        .ok_or_else(|| ArmError::resource_group_not_found(rg))
}

/// The canonical ID of an existing route table, for requests on its routes.
fn route_table_id(w: &World, sub: &str, rg: &str, table: &str) -> Result<String, ArmError> {
    let rg_id = require_rg(w, sub, rg)?;
    let id = resource_id(&rg_id, ROUTE_TABLES, table);
    w.store.get(&id).map(|e| e.id.clone()).ok_or_else(|| parent_not_found(table))
}

fn vnet_id(w: &World, sub: &str, rg: &str, vnet: &str) -> Result<String, ArmError> {
    let rg_id = require_rg(w, sub, rg)?;
    let id = resource_id(&rg_id, paths::VNETS, vnet);
    w.store.get(&id).map(|e| e.id.clone()).ok_or_else(|| parent_not_found(vnet))
}

/// ARM's answer for a nested resource whose parent does not exist.
fn parent_not_found(parent: &str) -> ArmError {
    ArmError::new(
        404,
        "ParentResourceNotFound",
        format!("Can not perform requested operation on nested resource. Parent resource '{parent}' not found."),
    )
}

/// A route table as GET returns it: stored body plus its routes and the subnets using it.
pub(crate) fn render_route_table(w: &World, e: &Entry) -> Value {
    let mut body = e.body.clone();
    let routes: Vec<Value> = w.store.list(Kind::Route, &e.id).iter().map(|r| r.body.clone()).collect();
    let subnets: Vec<Value> = subnets_using(w, &e.id).into_iter().map(|id| json!({ "id": id })).collect();
    let props = crate::store::props_mut(&mut body);
    props.insert("routes".into(), Value::Array(routes));
    if !subnets.is_empty() {
        props.insert("subnets".into(), Value::Array(subnets));
    }
    body
}

/// IDs of the subnets whose `routeTable` points at `rt_id`.
pub(crate) fn subnets_using(w: &World, rt_id: &str) -> Vec<String> {
    w.store
        .all(Kind::Subnet)
        .into_iter()
        .filter(|s| subnet_route_table(s).is_some_and(|r| same_id(r, rt_id)))
        .map(|s| s.id.clone())
        .collect()
}

/// The route table ID a subnet references, if any.
pub(crate) fn subnet_route_table(s: &Entry) -> Option<&str> {
    s.props()?.get("routeTable")?.get("id")?.as_str()
}

fn render_vnet(w: &World, e: &Entry) -> Value {
    let mut body = e.body.clone();
    let subnets: Vec<Value> = w.store.list(Kind::Subnet, &e.id).iter().map(|s| s.body.clone()).collect();
    crate::store::props_mut(&mut body).insert("subnets".into(), Value::Array(subnets));
    body
}

fn list_route_tables(w: &World, sub: &str, rg: Option<&str>) -> HResult {
    let prefix = match rg {
        Some(rg) => require_rg(w, sub, rg)?,
        None => format!("/subscriptions/{sub}"),
    };
    let value: Vec<Value> = w.store.list(Kind::RouteTable, &prefix).iter().map(|e| render_route_table(w, e)).collect();
    Ok(Resp::json(200, json!({ "value": value })))
}

fn get_route_table(w: &World, id: &str, rg: &str, name: &str) -> HResult {
    w.store
        .get(id)
        .map(|e| Resp::json(200, render_route_table(w, e)))
        .ok_or_else(|| ArmError::resource_not_found(ROUTE_TABLES, name, rg))
}

/// A validated route's `properties`.
fn validate_route(route_id: &str, props: Option<&Value>) -> Result<Map<String, Value>, ArmError> {
    let name = name_of(route_id);
    let props = match props {
        Some(Value::Object(p)) => p,
        _ => {
            return Err(ArmError::invalid_request_format(format!(
                "Cannot parse the request. Route {name} has no properties."
            )))
        }
    };
    let hop = match props.get("nextHopType") {
        Some(Value::String(s)) => {
            NEXT_HOP_TYPES.iter().find(|t| t.eq_ignore_ascii_case(s)).copied().ok_or_else(|| {
                ArmError::invalid_request_format(format!(
                    "Cannot parse the request. Route {name} has an invalid nextHopType '{s}'; \
                     allowed values are {}.",
                    NEXT_HOP_TYPES.join(", ")
                ))
            })?
        }
        _ => {
            return Err(ArmError::invalid_request_format(format!(
                "Cannot parse the request. Route {name} must specify nextHopType."
            )))
        }
    };
    let prefix = match props.get("addressPrefix") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => {
            return Err(ArmError::invalid_request_format(format!(
                "Cannot parse the request. Route {name} must specify addressPrefix."
            )))
        }
    };
    check_route_prefix(route_id, &prefix)?;
    let ip = match props.get("nextHopIpAddress") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            return Err(ArmError::invalid_request_format(
                "Cannot parse the request. nextHopIpAddress must be a string.",
            ))
        }
    };
    match (&ip, hop) {
        (None, "VirtualAppliance") => {
            return Err(ArmError::bad_request(
                "MissingNextHopIpAddress",
                format!(
                    "NextHopIpAddress cannot be Null or Empty in route {name} when NextHopType is VirtualAppliance."
                ),
            ))
        }
        (Some(ip), "VirtualAppliance") => {
            if ip.parse::<Ipv4Addr>().is_err() {
                return Err(ArmError::bad_request(
                    "InvalidNextHopIpAddress",
                    format!("Next hop IP address {ip} of route {route_id} is not a valid IP address."),
                ));
            }
        }
        (Some(ip), other) => {
            return Err(ArmError::bad_request(
                "NextHopIpAddressNotAllowed",
                format!(
                    "Route {route_id} specifies next hop IP address {ip}, which is only allowed \
                     when NextHopType is VirtualAppliance (it is {other})."
                ),
            ))
        }
        (None, _) => {}
    }
    let mut out = Map::new();
    out.insert("addressPrefix".into(), json!(prefix));
    out.insert("nextHopType".into(), json!(hop));
    if let Some(ip) = ip {
        out.insert("nextHopIpAddress".into(), json!(ip));
    }
    out.insert("hasBgpOverride".into(), json!(false));
    Ok(out)
}

/// Route prefixes are CIDRs, or service tags (e.g. `AzureCloud`), which Azure also accepts.
fn check_route_prefix(route_id: &str, prefix: &str) -> Result<(), ArmError> {
    let looks_like_tag = prefix.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && prefix.chars().all(|c| c.is_ascii_alphanumeric() || c == '.');
    if looks_like_tag {
        return Ok(());
    }
    check_cidr(route_id, prefix).map(|_| ())
}

/// Parses a CIDR with the network RP's error codes.
fn check_cidr(resource: &str, prefix: &str) -> Result<Cidr, ArmError> {
    Cidr::parse(prefix).map_err(|e| match e {
        CidrError::Format => ArmError::bad_request(
            "InvalidAddressPrefixFormat",
            format!("Address prefix {prefix} of resource {resource} is not formatted correctly. It should follow CIDR notation, for example 10.0.0.0/24."),
        ),
        CidrError::HostBits(suggested) => ArmError::bad_request(
            "InvalidCIDRNotation",
            format!("The address prefix {prefix} in resource {resource} has an invalid CIDR notation. For the given prefix length, the address prefix should be {suggested}."),
        ),
    })
}

fn put_route_table(w: &mut World, req: &Req, sub: &str, path_id: &str) -> HResult {
    let existing = w.store.get(path_id).cloned();
    check_preconditions(req, existing.as_ref())?;
    let id = existing.as_ref().map_or(path_id.to_string(), |e| e.id.clone());
    let body = req.json_object()?;
    let location = match body.get("location") {
        Some(Value::String(l)) if !l.is_empty() => normalize_location(l),
        _ => {
            return Err(ArmError::bad_request(
                "LocationRequired",
                "The location property is required for this definition.",
            ))
        }
    };
    if let Some(old) = existing.as_ref().and_then(|e| e.location()) {
        if old != location {
            return Err(location_mismatch(&id, old, &location));
        }
    }
    let tags = read_tags(body.get("tags"))?;
    let props = match body.get("properties") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(p)) => p.clone(),
        Some(_) => {
            return Err(ArmError::invalid_request_format("Cannot parse the request. 'properties' must be an object."))
        }
    };
    let disable_bgp = match props.get("disableBgpRoutePropagation") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(ArmError::invalid_request_format(
                "Cannot parse the request. disableBgpRoutePropagation must be a boolean.",
            ))
        }
    };
    // Validate every route before touching the store: a PUT is all-or-nothing.
    let mut routes: Vec<(String, Map<String, Value>)> = Vec::new();
    match props.get("routes") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for item in items {
                let name = match item.get("name") {
                    Some(Value::String(n)) if !n.is_empty() => n.clone(),
                    _ => {
                        return Err(ArmError::invalid_request_format(
                            "Cannot parse the request. Every route must have a name.",
                        ))
                    }
                };
                if routes.iter().any(|(n, _)| n.eq_ignore_ascii_case(&name)) {
                    return Err(ArmError::invalid_request_format(format!(
                        "Cannot parse the request. Route name {name} appears more than once."
                    )));
                }
                let rid = existing_child_id(w, &format!("{id}/routes/{name}"));
                let p = validate_route(&rid, item.get("properties"))?;
                routes.push((rid, p));
            }
        }
        Some(_) => {
            return Err(ArmError::invalid_request_format("Cannot parse the request. 'routes' must be an array."))
        }
    }
    w.check_network_conflict(&id, "PutRouteTableOperation")?;

    let mut stored = json!({
        "name": name_of(&id),
        "id": id,
        "etag": w.ids.etag(),
        "type": ROUTE_TABLES,
        "location": location,
        "properties": {
            "provisioningState": "Updating",
            "resourceGuid": existing
                .as_ref()
                .and_then(|e| e.prop_str("resourceGuid").map(str::to_string))
                .unwrap_or_else(|| w.ids.guid()),
            "disableBgpRoutePropagation": disable_bgp,
        }
    });
    if let Some(t) = tags {
        stored["tags"] = t;
    }
    w.store.put(Kind::RouteTable, &id, stored);
    // The PUT replaces the whole table: routes it omits are deleted, as in Azure.
    let old_routes: Vec<String> = w.store.list(Kind::Route, &id).iter().map(|e| e.id.clone()).collect();
    for old in old_routes {
        if !routes.iter().any(|(rid, _)| same_id(rid, &old)) {
            w.store.remove_tree(&old);
        }
    }
    let mut provisioned = vec![id.clone()];
    for (rid, p) in routes {
        store_route(w, &rid, p);
        provisioned.push(rid);
    }
    let op = w.start_op(
        req,
        OpSpec {
            ns: Namespace::Network,
            name: "PutRouteTableOperation",
            resource_id: id.clone(),
            lock: id.clone(),
            sub: sub.to_string(),
            location,
            completion: Completion::Provisioned(provisioned),
            is_delete: false,
        },
    );
    let status = if existing.is_some() { 200 } else { 201 };
    let e = w.store.get(&id).cloned().ok_or_else(internal)?;
    let resp = Resp::json(status, render_route_table(w, &e));
    Ok(w.lro_headers(resp, &op, false))
}

fn internal() -> ArmError {
    ArmError::new(500, "InternalServerError", "The resource vanished while being written.")
}

fn location_mismatch(id: &str, old: &str, new: &str) -> ArmError {
    ArmError::bad_request(
        "InvalidResourceLocation",
        format!(
            "The resource '{}' already exists in location '{old}' in resource group '{}'. A resource \
             with the same name cannot be created in location '{new}'. Please select a new resource name.",
            name_of(id),
            rg_of(id)
        ),
    )
}

fn rg_of(id: &str) -> &str {
    id.split('/').nth(4).unwrap_or("")
}

/// The stored ID of a child if it exists (keeping its casing), else `candidate`.
fn existing_child_id(w: &World, candidate: &str) -> String {
    w.store.get(candidate).map_or(candidate.to_string(), |e| e.id.clone())
}

/// Writes a route entry in state Updating with a new etag.
fn store_route(w: &mut World, rid: &str, mut props: Map<String, Value>) {
    props.insert("provisioningState".into(), json!("Updating"));
    // Keep Azure's property order: provisioningState first.
    let mut ordered = Map::new();
    ordered.insert("provisioningState".into(), json!("Updating"));
    for (k, v) in props {
        if k != "provisioningState" {
            ordered.insert(k, v);
        }
    }
    let body = json!({
        "name": name_of(rid),
        "id": rid,
        "etag": w.ids.etag(),
        "type": paths::ROUTES,
        "properties": ordered,
    });
    w.store.put(Kind::Route, rid, body);
}

fn patch_route_table(w: &mut World, req: &Req, id: &str, rg: &str, name: &str) -> HResult {
    let existing = w.store.get(id).cloned();
    let Some(existing) = existing else {
        return Err(ArmError::resource_not_found(ROUTE_TABLES, name, rg));
    };
    check_preconditions(req, Some(&existing))?;
    let body = req.json_object()?;
    let tags = read_tags(body.get("tags"))?;
    w.check_network_conflict(&existing.id, "UpdateRouteTableTagsOperation")?;
    let etag = w.ids.etag();
    if let Some(e) = w.store.get_mut(id) {
        if let Value::Object(o) = &mut e.body {
            match tags {
                Some(t) => {
                    o.insert("tags".into(), t);
                }
                None => {
                    o.remove("tags");
                }
            }
            o.insert("etag".into(), json!(etag));
        }
    }
    let e = w.store.get(id).cloned().ok_or_else(internal)?;
    Ok(Resp::json(200, render_route_table(w, &e)))
}

fn delete_route_table(w: &mut World, req: &Req, sub: &str, id: &str) -> HResult {
    let Some(existing) = w.store.get(id).cloned() else {
        check_preconditions(req, None)?;
        return Ok(Resp::empty(204));
    };
    check_preconditions(req, Some(&existing))?;
    if let Some(subnet) = subnets_using(w, &existing.id).first() {
        return Err(ArmError::bad_request(
            "InUseRouteTableCannotBeDeleted",
            format!(
                "Route table {} is in use by subnet {subnet} and cannot be deleted. In order to \
                 delete the route table, remove all references from subnets.",
                existing.id
            ),
        ));
    }
    w.check_network_conflict(&existing.id, "DeleteRouteTableOperation")?;
    w.set_state(&existing.id, "Deleting");
    let op = w.start_op(
        req,
        OpSpec {
            ns: Namespace::Network,
            name: "DeleteRouteTableOperation",
            resource_id: existing.id.clone(),
            lock: existing.id.clone(),
            sub: sub.to_string(),
            location: existing.location().unwrap_or("westeurope").to_string(),
            completion: Completion::Deleted(vec![existing.id.clone()]),
            is_delete: true,
        },
    );
    Ok(w.lro_headers(Resp::empty(202), &op, true))
}

fn put_route(w: &mut World, req: &Req, sub: &str, rt: &str, path_id: &str) -> HResult {
    let existing = w.store.get(path_id).cloned();
    check_preconditions(req, existing.as_ref())?;
    let id = existing.as_ref().map_or(path_id.to_string(), |e| e.id.clone());
    let body = req.json_object()?;
    let props = validate_route(&id, body.get("properties"))?;
    w.check_network_conflict(rt, "PutRouteOperation")?;
    store_route(w, &id, props);
    w.bump_etag(rt);
    let location =
        w.store.get(rt).and_then(|e| e.location().map(str::to_string)).unwrap_or_else(|| "westeurope".into());
    let op = w.start_op(
        req,
        OpSpec {
            ns: Namespace::Network,
            name: "PutRouteOperation",
            resource_id: id.clone(),
            lock: rt.to_string(),
            sub: sub.to_string(),
            location,
            completion: Completion::Provisioned(vec![id.clone()]),
            is_delete: false,
        },
    );
    let status = if existing.is_some() { 200 } else { 201 };
    let body = w.store.get(&id).map(|e| e.body.clone()).ok_or_else(internal)?;
    Ok(w.lro_headers(Resp::json(status, body), &op, false))
}

fn delete_route(w: &mut World, req: &Req, sub: &str, rt: &str, id: &str) -> HResult {
    let Some(existing) = w.store.get(id).cloned() else {
        check_preconditions(req, None)?;
        return Ok(Resp::empty(204));
    };
    check_preconditions(req, Some(&existing))?;
    w.check_network_conflict(rt, "DeleteRouteOperation")?;
    w.set_state(&existing.id, "Deleting");
    w.bump_etag(rt);
    let location =
        w.store.get(rt).and_then(|e| e.location().map(str::to_string)).unwrap_or_else(|| "westeurope".into());
    let op = w.start_op(
        req,
        OpSpec {
            ns: Namespace::Network,
            name: "DeleteRouteOperation",
            resource_id: existing.id.clone(),
            lock: rt.to_string(),
            sub: sub.to_string(),
            location,
            completion: Completion::Deleted(vec![existing.id.clone()]),
            is_delete: true,
        },
    );
    Ok(w.lro_headers(Resp::empty(202), &op, true))
}

/// The address prefixes of a subnet body (`addressPrefix` and/or `addressPrefixes`).
pub(crate) fn subnet_prefixes(props: &Map<String, Value>) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    if let Some(Value::String(p)) = props.get("addressPrefix") {
        v.push(p.clone());
    }
    if let Some(Value::Array(ps)) = props.get("addressPrefixes") {
        v.extend(ps.iter().filter_map(Value::as_str).map(str::to_string));
    }
    v
}

fn put_subnet(w: &mut World, req: &Req, sub: &str, vnet_id: &str, path_id: &str) -> HResult {
    let existing = w.store.get(path_id).cloned();
    check_preconditions(req, existing.as_ref())?;
    let id = existing.as_ref().map_or(path_id.to_string(), |e| e.id.clone());
    let body = req.json_object()?;
    let mut props = match body.get("properties") {
        Some(Value::Object(p)) => p.clone(),
        None | Some(Value::Null) => Map::new(),
        Some(_) => {
            return Err(ArmError::invalid_request_format("Cannot parse the request. 'properties' must be an object."))
        }
    };
    for k in SUBNET_READ_ONLY {
        props.remove(*k);
    }
    let prefixes = subnet_prefixes(&props);
    if prefixes.is_empty() {
        return Err(ArmError::invalid_request_format(format!(
            "Cannot parse the request. Subnet {} must specify addressPrefix or addressPrefixes.",
            name_of(&id)
        )));
    }
    let vnet = w.store.get(vnet_id).cloned().ok_or_else(internal)?;
    let vnet_space: Vec<Cidr> = vnet
        .props()
        .and_then(|p| p.get("addressSpace"))
        .and_then(|a| a.get("addressPrefixes"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).filter_map(|s| Cidr::parse(s).ok()).collect())
        .unwrap_or_default();
    let mut cidrs = Vec::new();
    for p in &prefixes {
        let c = check_cidr(&id, p)?;
        if !vnet_space.iter().any(|v| v.covers(&c)) {
            return Err(ArmError::bad_request(
                "NetcfgSubnetRangeOutsideVnet",
                format!(
                    "Subnet '{}' is not valid because its IP address range is outside the IP address \
                     range of virtual network '{}'.",
                    name_of(&id),
                    name_of(vnet_id)
                ),
            ));
        }
        cidrs.push(c);
    }
    for other in w.store.list(Kind::Subnet, vnet_id) {
        if same_id(&other.id, &id) {
            continue;
        }
        let theirs: Vec<Cidr> =
            other.props().map(subnet_prefixes).unwrap_or_default().iter().filter_map(|s| Cidr::parse(s).ok()).collect();
        if cidrs.iter().any(|c| theirs.iter().any(|t| t.overlaps(c))) {
            return Err(ArmError::bad_request(
                "NetcfgSubnetRangesOverlap",
                format!(
                    "Subnet '{}' is not valid because its IP address range overlaps with that of an \
                     existing subnet '{}' in virtual network '{}'.",
                    name_of(&id),
                    name_of(&other.id),
                    name_of(vnet_id)
                ),
            ));
        }
    }
    let new_rt = match props.get("routeTable") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let Some(rid) = v.get("id").and_then(Value::as_str) else {
                return Err(ArmError::invalid_request_format(
                    "Cannot parse the request. routeTable must be an object with an id.",
                ));
            };
            let rt = w
                .store
                .get(rid)
                .filter(|e| e.kind == Kind::RouteTable)
                .filter(|e| e.location() == vnet.location())
                .ok_or_else(|| invalid_reference(rid, &id))?;
            Some(rt.id.clone())
        }
    };
    match &new_rt {
        Some(rt) => {
            props.insert("routeTable".into(), json!({ "id": rt }));
        }
        None => {
            props.remove("routeTable");
        }
    }
    for k in ["networkSecurityGroup", "natGateway"] {
        if let Some(v) = props.get(k) {
            match v.get("id").and_then(Value::as_str) {
                Some(i) => {
                    let i = i.to_string();
                    props.insert(k.into(), json!({ "id": i }));
                }
                None => {
                    props.remove(k);
                }
            }
        }
    }
    // What Azure fills in on nested objects (read-only in the spec).
    if let Some(endpoints) = props.get_mut("serviceEndpoints").and_then(Value::as_array_mut) {
        for e in endpoints.iter_mut().filter_map(Value::as_object_mut) {
            e.insert("provisioningState".into(), json!("Succeeded"));
        }
    }
    if let Some(delegations) = props.get_mut("delegations").and_then(Value::as_array_mut) {
        for d in delegations.iter_mut().filter_map(Value::as_object_mut) {
            let name = d.get("name").and_then(Value::as_str).unwrap_or("delegation").to_string();
            d.insert("id".into(), json!(format!("{id}/delegations/{name}")));
            d.insert("etag".into(), json!(w.ids.etag()));
            d.insert("type".into(), json!("Microsoft.Network/virtualNetworks/subnets/delegations"));
            if let Some(dp) = d.get_mut("properties").and_then(Value::as_object_mut) {
                dp.insert("actions".into(), json!(["Microsoft.Network/virtualNetworks/subnets/action"]));
                dp.insert("provisioningState".into(), json!("Succeeded"));
            }
        }
    }
    w.check_network_conflict(vnet_id, "PutSubnetOperation")?;
    if let Some(rt) = &new_rt {
        w.check_network_conflict(rt, "PutSubnetOperation")?;
    }
    let old_rt = existing.as_ref().and_then(subnet_route_table).map(str::to_string);
    let mut ordered = Map::new();
    ordered.insert("provisioningState".into(), json!("Updating"));
    for (k, v) in props {
        ordered.insert(k, v);
    }
    ordered.entry("privateEndpointNetworkPolicies").or_insert(json!("Disabled"));
    ordered.entry("privateLinkServiceNetworkPolicies").or_insert(json!("Enabled"));
    let stored = json!({
        "name": name_of(&id),
        "id": id,
        "etag": w.ids.etag(),
        "type": paths::SUBNETS,
        "properties": ordered,
    });
    w.store.put(Kind::Subnet, &id, stored);
    w.bump_etag(vnet_id);
    for rt in [old_rt, new_rt].into_iter().flatten() {
        w.bump_etag(&rt);
    }
    let op = w.start_op(
        req,
        OpSpec {
            ns: Namespace::Network,
            name: "PutSubnetOperation",
            resource_id: id.clone(),
            lock: vnet_id.to_string(),
            sub: sub.to_string(),
            location: vnet.location().unwrap_or("westeurope").to_string(),
            completion: Completion::Provisioned(vec![id.clone()]),
            is_delete: false,
        },
    );
    let status = if existing.is_some() { 200 } else { 201 };
    let body = w.store.get(&id).map(|e| e.body.clone()).ok_or_else(internal)?;
    Ok(w.lro_headers(Resp::json(status, body), &op, false))
}

fn invalid_reference(referenced: &str, by: &str) -> ArmError {
    ArmError::bad_request(
        "InvalidResourceReference",
        format!(
            "Resource {referenced} referenced by resource {by} was not found. Please make sure that \
             the referenced resource exists, and that both resources are in the same region."
        ),
    )
}

fn delete_subnet(w: &mut World, req: &Req, sub: &str, vnet_id: &str, id: &str) -> HResult {
    let Some(existing) = w.store.get(id).cloned() else {
        check_preconditions(req, None)?;
        return Ok(Resp::empty(204));
    };
    check_preconditions(req, Some(&existing))?;
    if let Some(user) = crate::aks::cluster_using_subnet(w, &existing.id) {
        return Err(ArmError::bad_request(
            "InUseSubnetCannotBeDeleted",
            format!(
                "Subnet {} is in use by {user} and cannot be deleted. In order to delete the \
                 subnet, delete all the resources within the subnet.",
                name_of(&existing.id)
            ),
        ));
    }
    w.check_network_conflict(vnet_id, "DeleteSubnetOperation")?;
    w.set_state(&existing.id, "Deleting");
    let location =
        w.store.get(vnet_id).and_then(|e| e.location().map(str::to_string)).unwrap_or_else(|| "westeurope".into());
    let op = w.start_op(
        req,
        OpSpec {
            ns: Namespace::Network,
            name: "DeleteSubnetOperation",
            resource_id: existing.id.clone(),
            lock: vnet_id.to_string(),
            sub: sub.to_string(),
            location,
            completion: Completion::Deleted(vec![existing.id.clone()]),
            is_delete: true,
        },
    );
    Ok(w.lro_headers(Resp::empty(202), &op, true))
}

/// Removes a resource (and its children) once its delete operation completes, keeping the
/// composed references consistent.
pub(crate) fn remove(w: &mut World, id: &str) {
    let Some(e) = w.store.remove_tree(id) else {
        return;
    };
    match e.kind {
        Kind::Route => w.bump_etag(parent_of(&e.id)),
        Kind::Subnet => {
            w.bump_etag(parent_of(&e.id));
            if let Some(rt) = subnet_route_table(&e) {
                let rt = rt.to_string();
                w.bump_etag(&rt);
            }
        }
        _ => {}
    }
}

/// Builds a route body for seeding and for AKS-managed pod routes (stored Succeeded).
pub(crate) fn insert_route(w: &mut World, rt: &str, name: &str, prefix: &str, hop: &str, ip: Option<&str>) {
    let rid = existing_child_id(w, &format!("{rt}/routes/{name}"));
    let mut props = Map::new();
    props.insert("provisioningState".into(), json!("Succeeded"));
    props.insert("addressPrefix".into(), json!(prefix));
    props.insert("nextHopType".into(), json!(hop));
    if let Some(ip) = ip {
        props.insert("nextHopIpAddress".into(), json!(ip));
    }
    props.insert("hasBgpOverride".into(), json!(false));
    let body = json!({
        "name": name,
        "id": rid,
        "etag": w.ids.etag(),
        "type": paths::ROUTES,
        "properties": props,
    });
    w.store.put(Kind::Route, &rid, body);
    w.bump_etag(rt);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_validation_codes() {
        let id = "/x/routes/r";
        let code = |p: Value| validate_route(id, Some(&p)).err().map(|e| e.code);
        assert_eq!(code(json!({"addressPrefix":"0.0.0.0/0","nextHopType":"Internet"})), None);
        assert_eq!(code(json!({"addressPrefix":"AzureCloud","nextHopType":"Internet"})), None);
        assert_eq!(
            code(json!({"addressPrefix":"0.0.0.0/0","nextHopType":"VirtualAppliance"})).as_deref(),
            Some("MissingNextHopIpAddress")
        );
        assert_eq!(
            code(json!({"addressPrefix":"10.0.0.1/24","nextHopType":"None"})).as_deref(),
            Some("InvalidCIDRNotation")
        );
        assert_eq!(
            code(json!({"addressPrefix":"10.0.0.0/40","nextHopType":"None"})).as_deref(),
            Some("InvalidAddressPrefixFormat")
        );
        assert_eq!(
            code(json!({"addressPrefix":"10.0.0.0/8","nextHopType":"Bogus"})).as_deref(),
            Some("InvalidRequestFormat")
        );
        assert_eq!(
            code(json!({"addressPrefix":"10.0.0.0/8","nextHopType":"Internet","nextHopIpAddress":"10.0.4.4"}))
                .as_deref(),
            Some("NextHopIpAddressNotAllowed")
        );
        let ok = validate_route(
            id,
            Some(&json!({"addressPrefix":"0.0.0.0/0","nextHopType":"virtualappliance","nextHopIpAddress":"10.0.4.4"})),
        );
        assert_eq!(ok.ok().and_then(|p| p.get("nextHopType").cloned()), Some(json!("VirtualAppliance")));
    }
}
