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
        // Routes are written and read through their table: the route's
        // batch meets these once the table's create has met the ones above.
        Fault::new("routeTables/rt-aks$", FaultStatus::Status(500)).method("PUT"),
        Fault::new("routeTables/rt-aks$", FaultStatus::Status(429)).method("GET").retry_after(1).count(2),
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
        ("PUT", "routeTables/rt-aks", 500),
        ("GET", "subnets/aks", 503),
        ("PUT", "subnets/aks", 429),
    ] {
        let hits: Vec<u16> =
            log.iter().filter(|r| r.method == method && r.path.ends_with(tail)).map(|r| r.status).collect();
        assert!(hits.contains(&status), "{method} {tail}: expected a {status} then a retry, saw {hits:?}");
        assert!(hits.iter().any(|s| (200..300).contains(s)), "{method} {tail}: no success after {hits:?}");
    }
    // Reads during refresh are retried too.
    az.sim.add_fault(Fault::new("routeTables/rt-aks$", FaultStatus::Status(503)).method("GET")).ok();
    az.sim.add_fault(Fault::new("subnets/aks$", FaultStatus::Status(429)).method("GET").retry_after(1)).ok();
    wd.assert_no_changes();
}

#[test]
fn a_failed_operation_reports_azures_code_and_message() {
    let az = Azure::start();
    let wd = az.workdir(&stack());
    wd.apply_with(&["-target=aksudr_route_table.rt"]).assert_success();
    // The route is written through its table.
    az.sim
        .fail_next_lro(LroFailure {
            method: Some("PUT".into()),
            path_regex: "routeTables/rt-aks$".into(),
            code: "InternalServerErrorRouteProgramming".into(),
            message: "Route programming failed on the host.".into(),
            count: 1,
        })
        .unwrap_or_else(|e| panic!("fail_next_lro: {e}"));
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

/// Operation URLs on another host than the Resource Manager endpoint: the
/// provider never sends its token there. The create fails, and the table
/// Azure accepted stays in the state; the next apply converges.
#[test]
fn operation_urls_off_the_endpoint_get_no_token_and_the_object_stays_tracked() {
    let az = Azure::start();
    az.sim.set_operation_host(Some("localhost"));
    let table = r#"resource "aksudr_route_table" "rt" {
  name                = "rt-aks"
  resource_group_name = "rg-egress"
  location            = "westeurope"
}
"#;
    let wd = az.workdir(table);
    let out = wd.apply_with(&[]);
    out.assert_failure();
    assert!(out.stderr.contains("outside the Resource Manager endpoint"), "{}", out.stderr);
    let polled = az.sim.requests().iter().filter(|r| r.path.contains("/operations/")).count();
    assert_eq!(polled, 0, "an operation URL on another host was called");
    let listed = wd.terraform(&["state", "list"]);
    assert!(listed.stdout.contains("aksudr_route_table.rt"), "{}", listed.stdout);

    az.sim.set_operation_host(None);
    wd.apply();
    wd.assert_no_changes();
}

/// A 404 that does not say the object is gone (here ARM's
/// SubscriptionNotFound, as a wrong subscription or a proxy might answer)
/// fails the refresh instead of dropping the object from the state.
#[test]
fn a_404_without_a_not_found_code_keeps_the_state() {
    let az = Azure::start();
    let wd = az.workdir(&stack());
    wd.apply();
    az.sim
        .add_fault(
            Fault::new("routeTables/rt-aks$", FaultStatus::Status(404))
                .method("GET")
                .count(100)
                .error("SubscriptionNotFound", "The subscription could not be found."),
        )
        .unwrap_or_else(|e| panic!("add_fault: {e}"));
    let out = wd.plan();
    out.assert_failure();
    assert!(out.stderr.contains("SubscriptionNotFound"), "{}", out.stderr);
    assert!(!out.stdout.contains("will be created"), "{}", out.stdout);
    az.sim.clear_faults();
    let listed = wd.terraform(&["state", "list"]);
    assert!(listed.stdout.contains("aksudr_route_table.rt"), "{}", listed.stdout);
    wd.assert_no_changes();
}

/// Throttling answered with `Retry-After` as an HTTP date and as
/// `retry-after-ms` is waited out like the seconds form.
#[test]
fn retry_after_as_a_date_or_in_milliseconds_is_waited_out() {
    let az = Azure::start();
    for format in ["http-date", "ms"] {
        let fault = Fault::new("routeTables/rt-aks$", FaultStatus::Status(429))
            .method("PUT")
            .retry_after(1)
            .retry_after_format(format);
        az.sim.add_fault(fault).unwrap_or_else(|e| panic!("add_fault: {e}"));
    }
    let wd = az.workdir(&stack());
    wd.apply().assert_stdout_contains("3 added");
    let puts: Vec<u16> = az
        .sim
        .requests()
        .iter()
        .filter(|r| r.method == "PUT" && r.path.ends_with("routeTables/rt-aks"))
        .map(|r| r.status)
        .collect();
    assert_eq!(puts.iter().filter(|s| **s == 429).count(), 2, "{puts:?}");
    assert!(puts.last().is_some_and(|s| (200..300).contains(s)), "{puts:?}");
}

/// The Resource Manager endpoint as users may spell it — scheme in upper
/// case, trailing slash — is the same endpoint: the token is asked for
/// ARM's audience, operations are followed with it, the apply converges.
/// (An upper-case host is covered by the client's unit tests: armsim
/// answers on an IP address.)
#[test]
fn an_endpoint_spelled_in_upper_case_with_a_slash_is_the_same_endpoint() {
    let az = Azure::start();
    let endpoint = format!("{}/", az.sim.base_url().replacen("https://", "HTTPS://", 1));
    let table = r#"resource "aksudr_route_table" "rt" {
  name                = "rt-aks"
  resource_group_name = "rg-egress"
  location            = "westeurope"
}
"#;
    let wd = az.workdir(table).env("ARM_RESOURCE_MANAGER_ENDPOINT", &endpoint);
    wd.apply();
    let polled = az.sim.requests().iter().filter(|r| r.path.contains("/operations/")).count();
    assert!(polled > 0, "the create's operation was not followed");
    wd.assert_no_changes();
}
