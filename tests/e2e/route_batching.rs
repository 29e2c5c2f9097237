//! Routes handled through their route table: a refresh of many routes reads
//! the table once, routes applied together are written in few table PUTs,
//! a route AKS adds to the table between two batches survives, and a batch
//! that Azure refuses because of one route fails that route alone.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::harness::{route_table_id, Azure};

const TABLE: &str = "rt-many";

/// A route table and `n` routes in it, /24s out of 10.128.0.0/9; `extra`
/// is added to the configuration.
fn routes(n: usize, extra: &str) -> String {
    format!(
        r#"resource "aksudr_route_table" "rt" {{
  name                = "{TABLE}"
  resource_group_name = "rg-egress"
  location            = "westeurope"
}}

resource "aksudr_route" "r" {{
  count                  = {n}
  name                   = "r${{count.index}}"
  route_table_id         = aksudr_route_table.rt.id
  address_prefix         = cidrsubnet("10.128.0.0/9", 15, count.index)
  next_hop_type          = "VirtualAppliance"
  next_hop_in_ip_address = "10.0.4.4"
}}
{extra}"#
    )
}

/// PUTs of the route table itself (each carrying a batch of routes).
fn table_puts(az: &Azure) -> usize {
    let tail = format!("routeTables/{TABLE}");
    az.sim.requests().iter().filter(|r| r.method == "PUT" && r.path.ends_with(&tail)).count()
}

fn route_names(az: &Azure) -> Vec<String> {
    az.get(&route_table_id(TABLE))["properties"]["routes"]
        .as_array()
        .map(|r| r.iter().filter_map(|r| r["name"].as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

#[test]
fn a_refresh_of_200_routes_reads_the_table_once_and_50_routes_apply_in_few_puts() {
    let az = Azure::start();
    let mut wd = az.workdir(&routes(50, ""));
    wd.apply().assert_stdout_contains("51 added");
    let puts = table_puts(&az);
    // One for the table, then batches of up to -parallelism (10) routes.
    assert!(puts < 10, "50 routes took {puts} table PUTs");
    assert_eq!(route_names(&az).len(), 50);

    wd.rewrite(&crate::harness::config(&routes(200, "")));
    wd.apply().assert_stdout_contains("150 added");
    az.sim.clear_requests();
    let started = Instant::now();
    wd.assert_no_changes();
    let elapsed = started.elapsed();
    let log = az.sim.requests();
    let summary: Vec<String> = log.iter().map(|r| format!("{} {} {}", r.method, r.path, r.status)).collect();
    let summary = summary.join("\n");
    // One GET of the table serves every route read for 5 s (READ_REUSE): a
    // token, one table GET, and one more per 5 s that a loaded machine
    // takes over the plan.
    let table_gets =
        log.iter().filter(|r| r.method == "GET" && r.path.ends_with(&format!("routeTables/{TABLE}"))).count();
    let allowed = 1 + (elapsed.as_secs() / 5) as usize;
    assert!(table_gets <= allowed, "{table_gets} table GETs in {elapsed:?}:\n{summary}");
    assert!(!log.iter().any(|r| r.path.contains("/routes/")), "a route was read on its own:\n{summary}");
    if elapsed < Duration::from_secs(5) {
        assert!(log.len() <= 3, "the refresh of 200 routes sent {} requests:\n{summary}", log.len());
    }

    // Deleting them is batched too, and leaves the table empty.
    az.sim.clear_requests();
    wd.rewrite(&crate::harness::config(&routes(0, "")));
    wd.apply().assert_stdout_contains("200 destroyed");
    assert!(table_puts(&az) < 40, "{} table PUTs for 200 deletes", table_puts(&az));
    assert!(route_names(&az).is_empty());
}

#[test]
fn a_route_aks_adds_between_two_batches_survives() {
    let az = Azure::start();
    let wd = az.workdir(&routes(0, ""));
    wd.apply();
    az.sim.set_lro_delay(Duration::from_millis(800));
    az.sim.clear_requests();
    let mut wd = wd;
    wd.rewrite(&crate::harness::config(&routes(20, "")));
    let mut apply = wd.spawn(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    // Once the first batch is in, AKS writes a kubenet pod route.
    let start = Instant::now();
    while table_puts(&az) == 0 {
        assert!(start.elapsed() < Duration::from_secs(120), "no batch reached the table");
        std::thread::sleep(Duration::from_millis(20));
    }
    az.edit(&route_table_id(TABLE), |t| {
        if let Some(routes) = t["properties"]["routes"].as_array_mut() {
            routes.push(json!({"name": "aks-nodepool1-12345678-vmss000000", "properties": {
                "addressPrefix": "10.244.0.0/24", "nextHopType": "VirtualAppliance", "nextHopIpAddress": "10.224.0.4"}}));
        }
    });
    let status = apply.wait().unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success(), "the apply failed");
    let names = route_names(&az);
    assert!(names.iter().any(|n| n.starts_with("aks-nodepool1")), "AKS's route was lost: {names:?}");
    assert_eq!(names.iter().filter(|n| n.starts_with('r')).count(), 20, "{names:?}");
    assert!(table_puts(&az) >= 2, "the routes went in one batch; the test needs two");
    az.sim.set_lro_delay(Duration::ZERO);
    wd.assert_no_changes();
}

#[test]
fn a_batch_with_one_invalid_route_fails_that_route_only() {
    let az = Azure::start();
    let wd = az.workdir(&routes(0, ""));
    wd.apply();
    // An IPv6 next hop for an IPv4 prefix passes the plan, and Azure
    // refuses it (InvalidNextHopIpAddress).
    let bad = r#"
resource "aksudr_route" "bad" {
  name                   = "bad"
  route_table_id         = aksudr_route_table.rt.id
  address_prefix         = "10.99.0.0/16"
  next_hop_type          = "VirtualAppliance"
  next_hop_in_ip_address = "fd00::4"
}
"#;
    let mut wd = wd;
    wd.rewrite(&crate::harness::config(&routes(9, bad)));
    let out = wd.apply_with(&[]);
    out.assert_failure();
    let diags = out.diagnostics();
    let errors: Vec<_> = diags.iter().filter(|d| d.summary.contains("InvalidNextHopIpAddress")).collect();
    assert_eq!(errors.len(), 1, "one error, on the bad route: {}", out.stderr);
    assert!(errors[0].body.contains("aksudr_route.bad"), "{:#?}", errors[0]);
    let names = route_names(&az);
    assert_eq!(names.len(), 9, "the nine good routes are in: {names:?}");
    let state = wd.terraform(&["state", "list"]);
    assert_eq!(state.stdout.lines().filter(|l| l.starts_with("aksudr_route.r[")).count(), 9, "{}", state.stdout);
}
