//! The schema terraform sees (`terraform providers schema -json`): the six
//! resource types and provider block of the contract, which attributes are
//! required, optional, defaulted or computed, which are sensitive, the
//! nesting of the cluster's blocks, and a description on every attribute.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use serde_json::Value;

use crate::harness::{config, Workdir, PROVIDER_ADDRESS};

pub(crate) const RESOURCE_TYPES: [&str; 6] = [
    "aksudr_cluster",
    "aksudr_firewall_route",
    "aksudr_node_pool",
    "aksudr_route",
    "aksudr_route_table",
    "aksudr_subnet_route_table_association",
];

/// How an attribute is set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Required,
    /// Optional; whether also computed is the provider's business.
    Optional,
    /// Has a default, which the provider fills in while planning, so it must
    /// be optional and computed or terraform rejects the plan.
    Defaulted,
    /// Set by the provider only.
    Computed,
    /// Required or optional: the contract leaves it open.
    Settable,
}
use Kind::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ty {
    Str,
    Bool,
    Num,
    /// A list or set of strings.
    Strings,
    StrMap,
    /// Not pinned by the contract.
    Any,
}

type Expected = &'static [(&'static str, Kind, Ty)];

const PROVIDER: Expected = &[
    ("subscription_id", Optional, Ty::Str),
    ("tenant_id", Optional, Ty::Str),
    ("client_id", Optional, Ty::Str),
    ("client_secret", Optional, Ty::Str),
    ("use_oidc", Optional, Ty::Bool),
    ("oidc_token", Optional, Ty::Str),
    ("oidc_token_file_path", Optional, Ty::Str),
    ("use_msi", Optional, Ty::Bool),
    ("use_cli", Optional, Ty::Bool),
    ("environment", Optional, Ty::Str),
    ("resource_manager_endpoint", Optional, Ty::Str),
    ("authority_host", Optional, Ty::Str),
];

const ROUTE_TABLE: Expected = &[
    ("id", Computed, Ty::Str),
    ("name", Required, Ty::Str),
    ("resource_group_name", Required, Ty::Str),
    ("location", Required, Ty::Str),
    ("bgp_route_propagation_enabled", Defaulted, Ty::Bool),
    ("tags", Optional, Ty::StrMap),
    ("subnet_ids", Computed, Ty::Strings),
];

const FIREWALL_ROUTE: Expected = &[
    ("id", Computed, Ty::Str),
    ("name", Required, Ty::Str),
    ("route_table_id", Required, Ty::Str),
    ("address_prefix", Defaulted, Ty::Str),
    ("next_hop_type", Defaulted, Ty::Str),
    ("next_hop_in_ip_address", Optional, Ty::Str),
];

const ROUTE: Expected = &[
    ("id", Computed, Ty::Str),
    ("name", Required, Ty::Str),
    ("route_table_id", Required, Ty::Str),
    ("address_prefix", Required, Ty::Str),
    ("next_hop_type", Required, Ty::Str),
    ("next_hop_in_ip_address", Optional, Ty::Str),
];

const ASSOCIATION: Expected =
    &[("id", Computed, Ty::Str), ("subnet_id", Required, Ty::Str), ("route_table_id", Required, Ty::Str)];

const CLUSTER: Expected = &[
    ("id", Computed, Ty::Str),
    ("name", Required, Ty::Str),
    ("resource_group_name", Required, Ty::Str),
    ("location", Required, Ty::Str),
    ("dns_prefix", Settable, Ty::Str),
    ("kubernetes_version", Optional, Ty::Str),
    ("sku_tier", Optional, Ty::Str),
    ("private_cluster_enabled", Optional, Ty::Bool),
    ("api_server_authorized_ip_ranges", Optional, Ty::Strings),
    ("node_resource_group", Optional, Ty::Str),
    ("tags", Optional, Ty::StrMap),
    ("fqdn", Computed, Ty::Str),
    ("private_fqdn", Computed, Ty::Str),
    ("kube_config_raw", Computed, Ty::Str),
    ("kube_config", Computed, Ty::Any),
    ("kubelet_identity", Computed, Ty::Any),
];

const IDENTITY: Expected = &[("type", Defaulted, Ty::Str), ("identity_ids", Optional, Ty::Strings)];

const DEFAULT_NODE_POOL: Expected = &[
    ("name", Required, Ty::Str),
    ("vm_size", Required, Ty::Str),
    ("node_count", Settable, Ty::Num),
    ("type", Optional, Ty::Str),
    // Optional in the schema so that its absence is reported by R5, which
    // explains why user-defined routing needs it.
    ("vnet_subnet_id", Optional, Ty::Str),
    ("max_pods", Optional, Ty::Num),
    ("os_disk_size_gb", Optional, Ty::Num),
    ("zones", Optional, Ty::Strings),
    ("auto_scaling_enabled", Optional, Ty::Bool),
    ("min_count", Optional, Ty::Num),
    ("max_count", Optional, Ty::Num),
    ("orchestrator_version", Optional, Ty::Str),
    ("node_labels", Optional, Ty::StrMap),
    ("node_taints", Optional, Ty::Strings),
];

/// The pool attributes of `aksudr_node_pool`: the default pool's, with the
/// cluster and the mode.
const NODE_POOL_EXTRA: Expected =
    &[("id", Computed, Ty::Str), ("cluster_id", Required, Ty::Str), ("mode", Defaulted, Ty::Str)];

const NETWORK_PROFILE: Expected = &[
    ("network_plugin", Required, Ty::Str),
    ("network_plugin_mode", Optional, Ty::Str),
    ("network_policy", Optional, Ty::Str),
    ("outbound_type", Defaulted, Ty::Str),
    ("load_balancer_sku", Defaulted, Ty::Str),
    ("pod_cidr", Optional, Ty::Str),
    ("service_cidr", Optional, Ty::Str),
    ("dns_service_ip", Optional, Ty::Str),
];

const TIMEOUTS: Expected = &[
    ("create", Optional, Ty::Str),
    ("read", Optional, Ty::Str),
    ("update", Optional, Ty::Str),
    ("delete", Optional, Ty::Str),
];

/// The provider's schema document, fetched once for all tests here.
fn provider_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let wd = Workdir::new(&config(""));
        wd.init();
        let out = wd.terraform(&["providers", "schema", "-json"]);
        out.assert_success();
        let doc = out.json();
        let Some(ours) = doc["provider_schemas"].get(PROVIDER_ADDRESS) else {
            out.fail(format_args!("no schema for {PROVIDER_ADDRESS}"));
        };
        ours.clone()
    })
}

fn resource_block(name: &str) -> &'static Value {
    let block = &provider_schema()["resource_schemas"][name]["block"];
    assert!(block.is_object(), "no schema for resource type {name}");
    block
}

/// The schema of a nested block, which must exist.
fn nested_block<'a>(parent: &'a Value, name: &str) -> &'a Value {
    let nested = &parent["block_types"][name];
    assert!(nested.is_object(), "no block `{name}`; blocks are {:?}", keys(&parent["block_types"]));
    nested
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default()
}

fn flag(attr: &Value, name: &str) -> bool {
    attr.get(name).and_then(Value::as_bool).unwrap_or(false)
}

/// Checks every expected attribute of `block`; collects all mismatches so a
/// failure shows the whole picture at once.
fn check_attributes(what: &str, block: &Value, expected: Expected, problems: &mut Vec<String>) {
    for &(name, kind, ty) in expected {
        let Some(attr) = block["attributes"].get(name) else {
            problems.push(format!("{what}: no attribute `{name}` (has {:?})", keys(&block["attributes"])));
            continue;
        };
        let (required, optional, computed) = (flag(attr, "required"), flag(attr, "optional"), flag(attr, "computed"));
        let ok = match kind {
            Required => required && !optional && !computed,
            Optional => optional && !required,
            Defaulted => optional && computed && !required,
            Computed => computed && !optional && !required,
            Settable => required || optional,
        };
        if !ok {
            problems.push(format!(
                "{what}.{name}: expected {kind:?}, got required={required} optional={optional} computed={computed}"
            ));
        }
        if !type_matches(&attr["type"], ty) {
            problems.push(format!("{what}.{name}: expected a {ty:?}, got type {}", attr["type"]));
        }
    }
}

/// Matches a cty type in its JSON form: `"string"`, `["list","string"]`, …
fn type_matches(t: &Value, ty: Ty) -> bool {
    let collection = |kinds: &[&str], elem: &str| {
        t.as_array().is_some_and(|a| {
            a.len() == 2 && a[0].as_str().is_some_and(|k| kinds.contains(&k)) && a[1].as_str() == Some(elem)
        })
    };
    match ty {
        Ty::Str => t == "string",
        Ty::Bool => t == "bool",
        Ty::Num => t == "number",
        Ty::Strings => collection(&["list", "set"], "string"),
        Ty::StrMap => collection(&["map"], "string"),
        Ty::Any => true,
    }
}

#[track_caller]
fn assert_no_problems(problems: &[String]) {
    assert!(
        problems.is_empty(),
        "schema does not match the contract:\n  {}\nfull schema:\n{:#}",
        problems.join("\n  "),
        provider_schema()
    );
}

#[test]
fn lists_exactly_the_six_resource_types() {
    let found = keys(&provider_schema()["resource_schemas"]);
    let want: BTreeSet<String> = RESOURCE_TYPES.iter().map(|s| s.to_string()).collect();
    assert_eq!(found, want);
}

#[test]
fn provider_block_is_all_optional() {
    let block = &provider_schema()["provider"]["block"];
    let mut problems = Vec::new();
    check_attributes("provider", block, PROVIDER, &mut problems);
    for (name, attr) in block["attributes"].as_object().into_iter().flatten() {
        if flag(attr, "required") {
            problems.push(format!("provider.{name} is required; plans must work with `provider \"aksudr\" {{}}`"));
        }
    }
    assert_no_problems(&problems);
}

#[test]
fn secrets_are_sensitive() {
    let provider = &provider_schema()["provider"]["block"]["attributes"];
    let cluster = &resource_block("aksudr_cluster")["attributes"];
    for (what, attrs, name) in [
        ("provider", provider, "client_secret"),
        ("provider", provider, "oidc_token"),
        ("aksudr_cluster", cluster, "kube_config_raw"),
        ("aksudr_cluster", cluster, "kube_config"),
    ] {
        assert!(flag(&attrs[name], "sensitive"), "{what}.{name} must be sensitive: {:#}", attrs[name]);
    }
    for name in ["subscription_id", "tenant_id", "client_id"] {
        assert!(
            !flag(&provider[name], "sensitive"),
            "provider.{name} is an identifier, not a secret; hiding it only hampers debugging"
        );
    }
}

#[test]
fn route_resources_match_the_contract() {
    let mut problems = Vec::new();
    for (name, expected) in [
        ("aksudr_route_table", ROUTE_TABLE),
        ("aksudr_firewall_route", FIREWALL_ROUTE),
        ("aksudr_route", ROUTE),
        ("aksudr_subnet_route_table_association", ASSOCIATION),
    ] {
        check_attributes(name, resource_block(name), expected, &mut problems);
    }
    assert_no_problems(&problems);
}

#[test]
fn cluster_matches_the_contract() {
    let cluster = resource_block("aksudr_cluster");
    let mut problems = Vec::new();
    check_attributes("aksudr_cluster", cluster, CLUSTER, &mut problems);
    for (name, expected) in [
        ("identity", IDENTITY),
        ("default_node_pool", DEFAULT_NODE_POOL),
        ("network_profile", NETWORK_PROFILE),
        ("timeouts", TIMEOUTS),
    ] {
        let nested = nested_block(cluster, name);
        check_attributes(&format!("aksudr_cluster.{name}"), &nested["block"], expected, &mut problems);
    }
    assert_no_problems(&problems);
}

#[test]
fn node_pool_shares_the_default_pools_attributes() {
    let pool = resource_block("aksudr_node_pool");
    let mut problems = Vec::new();
    check_attributes("aksudr_node_pool", pool, DEFAULT_NODE_POOL, &mut problems);
    check_attributes("aksudr_node_pool", pool, NODE_POOL_EXTRA, &mut problems);
    check_attributes("aksudr_node_pool.timeouts", &nested_block(pool, "timeouts")["block"], TIMEOUTS, &mut problems);
    assert_no_problems(&problems);
}

#[test]
fn cluster_block_nesting() {
    let cluster = resource_block("aksudr_cluster");
    let items = |b: &Value, k: &str| b.get(k).and_then(Value::as_u64).unwrap_or(0);
    for name in ["default_node_pool", "network_profile"] {
        let b = nested_block(cluster, name);
        let mode = b["nesting_mode"].as_str().unwrap_or_default();
        // "Exactly one" is only expressible as a list (or set) of 1..=1.
        assert!(
            matches!(mode, "list" | "set") && items(b, "min_items") == 1 && items(b, "max_items") == 1,
            "{name} must be exactly one block: {b:#}"
        );
    }
    for name in ["identity", "timeouts"] {
        let b = nested_block(cluster, name);
        let mode = b["nesting_mode"].as_str().unwrap_or_default();
        let at_most_one = mode == "single" || (mode == "list" && items(b, "max_items") == 1);
        assert!(at_most_one, "{name} must allow at most one block: {b:#}");
        assert_eq!(items(b, "min_items"), 0, "{name} must be optional: {b:#}");
    }
}

#[test]
fn every_attribute_has_a_description() {
    let schema = provider_schema();
    let mut missing = Vec::new();
    walk_descriptions("provider", &schema["provider"]["block"], &mut missing);
    for ty in RESOURCE_TYPES {
        walk_descriptions(ty, resource_block(ty), &mut missing);
    }
    assert!(missing.is_empty(), "attributes without a description:\n  {}", missing.join("\n  "));
}

/// Visits a block's attributes, nested attribute types and nested blocks.
fn walk_descriptions(path: &str, block: &Value, missing: &mut Vec<String>) {
    for (name, attr) in block["attributes"].as_object().into_iter().flatten() {
        walk_attribute(&format!("{path}.{name}"), attr, missing);
    }
    for (name, nested) in block["block_types"].as_object().into_iter().flatten() {
        walk_descriptions(&format!("{path}.{name}"), &nested["block"], missing);
    }
}

fn walk_attribute(path: &str, attr: &Value, missing: &mut Vec<String>) {
    let described = attr["description"].as_str().is_some_and(|d| !d.trim().is_empty());
    if !described {
        missing.push(path.to_string());
    }
    let nested = &attr["nested_type"]["attributes"];
    for (name, inner) in nested.as_object().into_iter().flatten() {
        walk_attribute(&format!("{path}.{name}"), inner, missing);
    }
}
