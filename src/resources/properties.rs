//! Property tests of what comes from outside: IDs (every one the strict
//! parser accepts becomes a request URL addressing exactly that ID, and no
//! other string gets through) and ARM response bodies (every resource's
//! read-back and update code takes any JSON without panicking). `make fuzz`
//! runs them longer.

use proptest::prelude::*;
use serde_json::json;

use super::{cluster, route_common, route_table, subnet_route_table_association as association};
use crate::arm::ids::{is_safe_path, RouteId, RouteTableId, SubnetId};
use crate::arm::ArmClient;
use crate::arm::Settings;
use crate::tf::properties::check;
use crate::tf::stop::StopSignal;
use crate::tf::value::Value;

/// ID-like strings: ARM's keywords and names mixed with characters that
/// mean something to URL parsers.
fn id_like() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        4 => prop_oneof![
            Just("subscriptions"), Just("resourceGroups"), Just("resourcegroups"), Just("providers"),
            Just("Microsoft.Network"), Just("routeTables"), Just("routes"), Just("virtualNetworks"), Just("subnets"),
            Just("00000000-0000-0000-0000-000000000000"),
        ]
        .prop_map(str::to_string),
        3 => "[a-zA-Z0-9_.()\\-]{1,8}",
        2 => "[a-z\\\\/.%?#: @ü\\u{0}-\\u{1f}]{1,6}",
        1 => Just("..".to_string()),
    ];
    let shuffled = proptest::collection::vec(segment, 7..11).prop_map(|segs| format!("/{}", segs.join("/")));
    // The shapes of real IDs, with names that may hold anything.
    let name = prop_oneof![3 => "[a-zA-Z0-9_.()\\-]{1,10}", 1 => "[a-zü.()\\\\/%?#: \u{0}-\u{7f}]{1,8}"];
    let shaped = (name.clone(), name.clone(), name.clone(), 0..3usize).prop_map(|(rg, a, b, kind)| {
        let base = format!("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/{rg}/providers");
        match kind {
            0 => format!("{base}/Microsoft.Network/routeTables/{a}"),
            1 => format!("{base}/Microsoft.Network/routeTables/{a}/routes/{b}"),
            _ => format!("{base}/Microsoft.Network/virtualNetworks/{a}/subnets/{b}"),
        }
    });
    prop_oneof![shuffled, shaped]
}

fn client() -> ArmClient {
    let config = Settings {
        resource_manager_endpoint: "https://management.azure.com:443/".into(),
        authority_host: "https://login.microsoftonline.com/".into(),
        ..Settings::default()
    };
    match ArmClient::new(config, StopSignal::new()) {
        Ok(c) => c,
        Err(e) => panic!("client: {e}"),
    }
}

/// An accepted ID's URL addresses exactly it.
fn addresses_exactly(client: &ArmClient, id: &str) -> Result<(), TestCaseError> {
    let url = client.resource_url(id, "2024-07-01").map_err(|e| TestCaseError::fail(format!("{id:?}: {e}")))?;
    let parsed = reqwest::Url::parse(&url).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(parsed.host_str(), Some("management.azure.com"));
    let path: String = parsed.path_segments().into_iter().flatten().collect::<Vec<_>>().join("/");
    let want: String = id.trim_start_matches('/').split('/').map(encode).collect::<Vec<_>>().join("/");
    prop_assert_eq!(path, want, "{}", id);
    Ok(())
}

/// How a URL parser writes a path segment (non-ASCII percent-encoded).
fn encode(seg: &str) -> String {
    seg.chars()
        .map(
            |c| if c.is_ascii() { c.to_string() } else { c.to_string().bytes().map(|b| format!("%{b:02X}")).collect() },
        )
        .collect()
}

#[test]
fn every_accepted_id_addresses_exactly_itself() {
    let client = client();
    let accepted = std::sync::atomic::AtomicUsize::new(0);
    check("ID parsing → request URL", id_like(), |s| {
        for id in [
            RouteTableId::parse(&s).ok().map(|i| i.to_string()),
            RouteTableId::parse_insensitive(&s).ok().map(|i| i.to_string()),
            RouteId::parse(&s).ok().map(|i| i.to_string()),
            SubnetId::parse_insensitive(&s).ok().map(|i| i.to_string()),
        ]
        .into_iter()
        .flatten()
        {
            accepted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            addresses_exactly(&client, &id)?;
        }
        // Any path the client's own check lets through addresses exactly
        // itself, whether or not it is an ID of ours.
        if is_safe_path(&s) {
            addresses_exactly(&client, &s)?;
        }
        Ok(())
    });
    let accepted = accepted.into_inner();
    println!("property ID parsing: {accepted} IDs accepted and checked");
    assert!(accepted > 0, "the generator produced no valid ID");
}

/// Arbitrary JSON, biased towards ARM's shapes.
fn arm_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        prop_oneof![
            Just("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Network/routeTables/rt".to_string()),
            Just("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c".to_string()),
            Just("0.0.0.0/0".to_string()),
            Just("VirtualAppliance".to_string()),
            ".{0,8}",
        ]
        .prop_map(serde_json::Value::String),
    ];
    let keys = prop_oneof![
        Just("id"),
        Just("name"),
        Just("properties"),
        Just("routes"),
        Just("addressPrefix"),
        Just("nextHopType"),
        Just("routeTable"),
        Just("agentPoolProfiles"),
        Just("networkProfile"),
        Just("count"),
        Just("enableAutoScaling"),
        Just("tags"),
        Just("location"),
        Just("identity"),
        Just("kubeconfigs"),
        Just("x"),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            proptest::collection::vec((keys.clone(), inner), 0..6)
                .prop_map(|kv| serde_json::Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    })
}

#[test]
fn no_arm_body_panics_a_resource() {
    let prior = Value::Null;
    check("ARM bodies → read-back and update", (arm_json(), arm_json()), |(a, b)| {
        let _ = route_common::flatten(&a, &prior);
        let _ = route_table::flatten(&a, &prior);
        let mut stripped = a.clone();
        route_table::strip_read_only(&mut stripped);
        association::strip_read_only(&mut stripped);
        let _ = association::current_table(&a);
        let _ = cluster::flatten(&a, &prior, Some(a.to_string()));
        let _ = super::subnet_egress::live_routes(&a);
        let _ = cluster::update_body(&a, &b);
        let _ = cluster::kube_config_parts(&a.to_string());
        Ok(())
    });
}
