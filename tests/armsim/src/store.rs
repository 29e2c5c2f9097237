//! The resource store: every stored resource keyed by its ID, looked up case-insensitively
//! (as ARM does) while keeping the casing it was created with.
//!
//! Composite views are not stored: a route table's `routes` and `subnets`, and a virtual
//! network's `subnets`, are assembled from the child entries on every read, so the
//! subnet ↔ route table references can never drift apart.

use std::collections::HashMap;

use serde_json::{Map, Value};

/// The kinds of resource the simulator stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    ResourceGroup,
    RouteTable,
    Route,
    VirtualNetwork,
    Subnet,
    ManagedCluster,
}

impl Kind {
    /// The ARM `type` of the resource.
    pub fn arm_type(self) -> &'static str {
        match self {
            Kind::ResourceGroup => "Microsoft.Resources/resourceGroups",
            Kind::RouteTable => crate::paths::ROUTE_TABLES,
            Kind::Route => crate::paths::ROUTES,
            Kind::VirtualNetwork => crate::paths::VNETS,
            Kind::Subnet => crate::paths::SUBNETS,
            Kind::ManagedCluster => crate::paths::CLUSTERS,
        }
    }

    /// Works out the kind from an ID's shape (used by the admin endpoint).
    pub fn of_id(id: &str) -> Option<Kind> {
        use crate::paths::Target;
        match crate::paths::parse(id) {
            Target::ResourceGroup { .. } => Some(Kind::ResourceGroup),
            Target::RouteTable { .. } => Some(Kind::RouteTable),
            Target::Route { .. } => Some(Kind::Route),
            Target::VirtualNetwork { .. } => Some(Kind::VirtualNetwork),
            Target::Subnet { .. } => Some(Kind::Subnet),
            Target::ManagedCluster { .. } => Some(Kind::ManagedCluster),
            _ => None,
        }
    }
}

/// One stored resource. `body` is the resource as returned by GET, minus composed parts.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub id: String,
    pub kind: Kind,
    seq: u64,
    pub body: Value,
}

impl Entry {
    pub fn props(&self) -> Option<&Map<String, Value>> {
        self.body.get("properties").and_then(Value::as_object)
    }

    pub fn prop_str(&self, key: &str) -> Option<&str> {
        self.props().and_then(|p| p.get(key)).and_then(Value::as_str)
    }

    /// The `properties` object, created if missing.
    pub fn props_mut(&mut self) -> &mut Map<String, Value> {
        props_mut(&mut self.body)
    }

    /// The etag; Microsoft.Network spells the property `etag`, AKS `eTag`.
    pub fn etag(&self) -> Option<&str> {
        self.body.get("etag").or_else(|| self.body.get("eTag")).and_then(Value::as_str)
    }

    pub fn location(&self) -> Option<&str> {
        self.body.get("location").and_then(Value::as_str)
    }
}

/// `body.properties` as a mutable object, replacing a non-object value.
pub(crate) fn props_mut(body: &mut Value) -> &mut Map<String, Value> {
    if !body.is_object() {
        *body = Value::Object(Map::new());
    }
    let obj = match body {
        Value::Object(o) => o,
        _ => unreachable!("made an object above"),
    };
    let p = obj.entry("properties").or_insert_with(|| Value::Object(Map::new()));
    if !p.is_object() {
        *p = Value::Object(Map::new());
    }
    match p {
        Value::Object(m) => m,
        _ => unreachable!("made an object above"),
    }
}

/// All stored resources.
#[derive(Debug, Default)]
pub(crate) struct Store {
    entries: HashMap<String, Entry>,
    next_seq: u64,
}

fn key(id: &str) -> String {
    id.trim_end_matches('/').to_ascii_lowercase()
}

impl Store {
    pub fn get(&self, id: &str) -> Option<&Entry> {
        self.entries.get(&key(id))
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut Entry> {
        self.entries.get_mut(&key(id))
    }

    pub fn contains(&self, id: &str) -> bool {
        self.entries.contains_key(&key(id))
    }

    /// Stores `body` under `id`. An existing entry keeps its original ID casing and its
    /// position in listings; a new one is appended.
    pub fn put(&mut self, kind: Kind, id: &str, body: Value) -> &mut Entry {
        let k = key(id);
        let seq = self.next_seq;
        self.next_seq += 1;
        let e = self.entries.entry(k).or_insert_with(|| Entry { id: id.to_string(), kind, seq, body: Value::Null });
        e.kind = kind;
        e.body = body;
        e
    }

    /// Removes `id` and everything below it.
    pub fn remove_tree(&mut self, id: &str) -> Option<Entry> {
        let k = key(id);
        let prefix = format!("{k}/");
        self.entries.retain(|ek, _| !ek.starts_with(&prefix));
        self.entries.remove(&k)
    }

    /// Entries of `kind` whose ID starts with `prefix` (case-insensitive), in creation order.
    pub fn list(&self, kind: Kind, prefix: &str) -> Vec<&Entry> {
        let p = format!("{}/", key(prefix));
        let mut v: Vec<&Entry> =
            self.entries.iter().filter(|(k, e)| e.kind == kind && k.starts_with(&p)).map(|(_, e)| e).collect();
        v.sort_by_key(|e| e.seq);
        v
    }

    /// Every entry of `kind`, in creation order.
    pub fn all(&self, kind: Kind) -> Vec<&Entry> {
        let mut v: Vec<&Entry> = self.entries.values().filter(|e| e.kind == kind).collect();
        v.sort_by_key(|e| e.seq);
        v
    }
}

/// Case-insensitive comparison of two resource IDs.
pub(crate) fn same_id(a: &str, b: &str) -> bool {
    key(a) == key(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn case_insensitive_and_ordered() {
        let mut s = Store::default();
        s.put(
            Kind::RouteTable,
            "/subscriptions/s/resourceGroups/RG/providers/Microsoft.Network/routeTables/rt",
            json!({}),
        );
        s.put(
            Kind::Route,
            "/subscriptions/s/resourceGroups/RG/providers/Microsoft.Network/routeTables/rt/routes/b",
            json!({}),
        );
        s.put(
            Kind::Route,
            "/subscriptions/s/resourceGroups/RG/providers/Microsoft.Network/routeTables/rt/routes/a",
            json!({}),
        );
        let rt = "/SUBSCRIPTIONS/s/resourcegroups/rg/providers/microsoft.network/routetables/RT";
        assert!(s.contains(rt));
        assert_eq!(
            s.get(rt).map(|e| e.id.as_str()),
            Some("/subscriptions/s/resourceGroups/RG/providers/Microsoft.Network/routeTables/rt")
        );
        let names: Vec<&str> = s.list(Kind::Route, rt).iter().map(|e| crate::paths::name_of(&e.id)).collect();
        assert_eq!(names, vec!["b", "a"]);
        s.remove_tree(rt);
        assert!(s.all(Kind::Route).is_empty());
    }
}
