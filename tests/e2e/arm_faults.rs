//! ARM's transient failures (429 with Retry-After, 500, 503) on reads and
//! writes are retried until the apply succeeds; an operation that ends
//! Failed surfaces Azure's code and message.

use armsim::{Fault, FaultStatus, LroFailure};

use crate::harness::{egress_stack, route_table_id, Azure};

fn stack() -> String {
    egress_stack("rt-aks")
}

#[test]
fn throttling_and_server_errors_on_reads_and_writes_are_retried() {
    let az = Azure::start();
    let faults = [
        Fault::new("routeTables/rt-aks$", FaultStatus::Status(429)).method("GET").retry_after(1),
        Fault::new("routeTables/rt-aks$", FaultStatus::Status(503)).method("PUT"),
        Fault::new("routes/default$", FaultStatus::Status(500)).method("PUT"),
        Fault::new("routes/default$", FaultStatus::Status(429)).method("GET").retry_after(1).count(2),
        Fault::new("subnets/aks$", FaultStatus::Status(503)).method("GET"),
        Fault::new("subnets/aks$", FaultStatus::Status(429)).method("PUT").retry_after(1),
    ];
    for f in faults {
        az.sim.add_fault(f).unwrap_or_else(|e| panic!("add_fault: {e}"));
    }
    let wd = az.workdir(&stack());
    wd.apply().assert_stdout_contains("3 added");
    az.get(&format!("{}/routes/default", route_table_id("rt-aks")));

    let log = az.sim.requests();
    for (method, tail, status) in [
        ("GET", "routeTables/rt-aks", 429),
        ("PUT", "routeTables/rt-aks", 503),
        ("PUT", "routes/default", 500),
        ("GET", "routes/default", 429),
        ("GET", "subnets/aks", 503),
        ("PUT", "subnets/aks", 429),
    ] {
        let hits: Vec<u16> =
            log.iter().filter(|r| r.method == method && r.path.ends_with(tail)).map(|r| r.status).collect();
        assert!(hits.contains(&status), "{method} {tail}: expected a {status} then a retry, saw {hits:?}");
        assert!(hits.iter().any(|s| (200..300).contains(s)), "{method} {tail}: no success after {hits:?}");
    }
    // Reads during refresh are retried too.
    az.sim.add_fault(Fault::new("routes/default$", FaultStatus::Status(503)).method("GET")).ok();
    az.sim.add_fault(Fault::new("subnets/aks$", FaultStatus::Status(429)).method("GET").retry_after(1)).ok();
    wd.assert_no_changes();
}

#[test]
fn a_failed_operation_reports_azures_code_and_message() {
    let az = Azure::start();
    az.sim
        .fail_next_lro(LroFailure {
            method: Some("PUT".into()),
            path_regex: "routes/default$".into(),
            code: "InternalServerErrorRouteProgramming".into(),
            message: "Route programming failed on the host.".into(),
            count: 1,
        })
        .unwrap_or_else(|e| panic!("fail_next_lro: {e}"));
    let wd = az.workdir(&stack());
    let out = wd.apply_with(&[]);
    out.assert_failure();
    for needle in ["InternalServerErrorRouteProgramming", "Route programming failed on the host."] {
        if !out.stderr.contains(needle) {
            out.fail(format_args!("the error should carry {needle:?}"));
        }
    }
    // The failed route exists in Azure: Terraform keeps it, tainted, and
    // replaces it on the next apply.
    let again = wd.assert_changes();
    again.assert_stdout_contains("tainted");
    wd.apply();
    wd.assert_no_changes();
}

#[test]
fn a_route_table_whose_operation_failed_is_kept_tainted_and_replaced() {
    let az = Azure::start();
    az.sim
        .fail_next_lro(LroFailure {
            method: Some("PUT".into()),
            path_regex: "routeTables/rt-aks$".into(),
            code: "NetworkProvisioningFailed".into(),
            message: "Provisioning of the route table failed.".into(),
            count: 1,
        })
        .unwrap_or_else(|e| panic!("fail_next_lro: {e}"));
    let wd = az.workdir(
        r#"resource "aksudr_route_table" "rt" {
  name                = "rt-aks"
  resource_group_name = "rg-egress"
  location            = "westeurope"
}
"#,
    );
    let out = wd.apply_with(&[]);
    out.assert_failure();
    if !out.stderr.contains("NetworkProvisioningFailed")
        || !out.stderr.contains("Provisioning of the route table failed.")
    {
        out.fail("the error should carry Azure's code and message");
    }
    wd.assert_changes().assert_stdout_contains("tainted");
    wd.apply().assert_stdout_contains("1 added, 0 changed, 1 destroyed");
    assert_eq!(az.get(&route_table_id("rt-aks"))["properties"]["provisioningState"], "Succeeded");
    wd.assert_no_changes();
}
