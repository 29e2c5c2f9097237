//! The fault matrix: every resource type that creates something in Azure
//! (node pools included), under every way a create can go wrong after (or
//! while) Azure accepts it — Ctrl-C while the PUT's answer is on its way or
//! during the operation, the provider process terminated, the create
//! timeout, the operation-status URL failing until retries run out, the
//! answer to the PUT lost (or a 504) after Azure committed it, the read
//! after the write refused, a throttling storm. In each cell, once Azure has
//! (or may have) the object the state tracks it, the next apply converges
//! without an import error, and nothing exists in Azure that the state does
//! not know. The matrix is printed as a table.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use armsim::{Fault, FaultStatus};

use crate::harness::{route_table_id, subnet_id, Azure, Workdir};
use crate::lifecycle_cluster::{cluster, cluster_id, default_route, egress_in_place};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    RouteTable,
    FirewallRoute,
    Association,
    Cluster,
    NodePool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Failure {
    StopBeforeAnswer,
    StopDuringOperation,
    TerminatedDuringOperation,
    CreateTimeout,
    StatusUrlDown,
    AnswerLost,
    CommittedThen504,
    ReadRefused,
    Throttled,
}

const KINDS: [Kind; 5] = [Kind::RouteTable, Kind::FirewallRoute, Kind::Association, Kind::Cluster, Kind::NodePool];
const FAILURES: [Failure; 9] = [
    Failure::StopBeforeAnswer,
    Failure::StopDuringOperation,
    Failure::TerminatedDuringOperation,
    Failure::CreateTimeout,
    Failure::StatusUrlDown,
    Failure::AnswerLost,
    Failure::CommittedThen504,
    Failure::ReadRefused,
    Failure::Throttled,
];

impl Failure {
    fn label(self) -> &'static str {
        match self {
            Failure::StopBeforeAnswer => "Ctrl-C in PUT",
            Failure::StopDuringOperation => "Ctrl-C in LRO",
            Failure::TerminatedDuringOperation => "provider TERM",
            Failure::CreateTimeout => "create timeout",
            Failure::StatusUrlDown => "status URL 503",
            Failure::AnswerLost => "commit, drop",
            Failure::CommittedThen504 => "commit, 504",
            Failure::ReadRefused => "read 403",
            Failure::Throttled => "429 storm",
        }
    }
}

const TABLE: &str = r#"resource "aksudr_route_table" "rt" {
  name                = "rt-egress"
  resource_group_name = "rg-egress"
  location            = "westeurope"
  TIMEOUTS
}
"#;

impl Kind {
    fn address(self) -> &'static str {
        match self {
            Kind::RouteTable => "aksudr_route_table.rt",
            Kind::FirewallRoute => "aksudr_firewall_route.default",
            Kind::Association => "aksudr_subnet_route_table_association.aks",
            Kind::Cluster => "aksudr_cluster.aks",
            Kind::NodePool => "aksudr_node_pool.users",
        }
    }

    /// The path of the object's PUT, as a regex.
    fn put_path(self) -> &'static str {
        match self {
            Kind::RouteTable => "routeTables/rt-egress$",
            // Routes are written through their table (batched writes).
            Kind::FirewallRoute => "routeTables/rt-egress$",
            Kind::Association => "subnets/aks$",
            Kind::Cluster => "managedClusters/aks-egress$",
            Kind::NodePool => "agentPools/users$",
        }
    }

    /// What must exist before the object, applied with `-target`.
    fn dependency(self) -> Option<&'static str> {
        match self {
            Kind::FirewallRoute | Kind::Association => Some("aksudr_route_table.rt"),
            Kind::NodePool => Some("aksudr_cluster.aks"),
            Kind::RouteTable | Kind::Cluster => None,
        }
    }

    /// The configuration, with `timeouts` in the object under test.
    fn hcl(self, timeouts: &str) -> String {
        let table = |t: &str| TABLE.replace("TIMEOUTS", t);
        match self {
            Kind::RouteTable => table(timeouts),
            Kind::FirewallRoute => format!(
                "{}\nresource \"aksudr_firewall_route\" \"default\" {{\n  name                   = \"default\"\n  \
                 route_table_id         = aksudr_route_table.rt.id\n  next_hop_in_ip_address = \"10.0.4.4\"\n  \
                 {timeouts}\n}}\n",
                table("")
            ),
            Kind::Association => format!(
                "{}\nresource \"aksudr_subnet_route_table_association\" \"aks\" {{\n  subnet_id      = \"{}\"\n  \
                 route_table_id = aksudr_route_table.rt.id\n  {timeouts}\n}}\n",
                table(""),
                subnet_id("aks")
            ),
            Kind::Cluster => cluster("azure", "network_plugin_mode = \"overlay\"", timeouts),
            Kind::NodePool => format!(
                "{}\nresource \"aksudr_node_pool\" \"users\" {{\n  name           = \"users\"\n  \
                 cluster_id     = aksudr_cluster.aks.id\n  vm_size        = \"Standard_D4s_v5\"\n  \
                 vnet_subnet_id = \"{}\"\n  {timeouts}\n}}\n",
                cluster("azure", "network_plugin_mode = \"overlay\"", ""),
                subnet_id("aks")
            ),
        }
    }

    /// Whether Azure has the object now.
    fn exists(self, az: &Azure) -> bool {
        match self {
            Kind::RouteTable => az.sim.resource(&route_table_id("rt-egress")).is_some(),
            Kind::FirewallRoute => {
                az.sim.resource(&format!("{}/routes/default", route_table_id("rt-egress"))).is_some()
            }
            Kind::Association => {
                az.sim.resource(&subnet_id("aks")).is_some_and(|s| s.pointer("/properties/routeTable/id").is_some())
            }
            Kind::Cluster => az.sim.resource(&cluster_id("aks-egress")).is_some(),
            Kind::NodePool => az.sim.resource(&format!("{}/agentPools/users", cluster_id("aks-egress"))).is_some(),
        }
    }
}

fn in_state(wd: &Workdir, address: &str) -> Result<bool, String> {
    let out = wd.terraform(&["state", "list"]);
    if !out.success() {
        return Err(format!("state list failed: {}", out.stderr));
    }
    Ok(out.stdout.lines().any(|l| l.trim() == address))
}

/// Waits for `done`, polling the simulator's request log (the signal).
fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) -> Result<(), String> {
    let start = Instant::now();
    while !done() {
        if start.elapsed() > limit {
            return Err(format!("timed out waiting for {what}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// An apply interrupted as a terminal's Ctrl-C does (`INT` to the whole
/// process group), or with the provider process alone terminated (`TERM`,
/// as a job runner or the OOM handling of a container may do), once Azure
/// has accepted the object's PUT.
fn interrupted_apply(az: &Azure, wd: &Workdir, kind: Kind, signal: &str) -> Result<(), String> {
    let tail = kind.put_path().trim_end_matches('$');
    let mut child = wd.spawn(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    let group = format!("-{}", child.id());
    let accepted = || {
        az.sim.requests().iter().any(|r| r.method == "PUT" && r.path.ends_with(tail) && (200..300).contains(&r.status))
    };
    let waited = wait_for("the PUT", Duration::from_secs(120), accepted);
    if signal == "-TERM" {
        // The provider alone: what Terraform does then depends on what the
        // provider answered before it went.
        let pids = std::process::Command::new("pgrep")
            .args(["-g", &child.id().to_string(), "-f", "terraform-provider-aksudr"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).split_whitespace().map(str::to_string).collect::<Vec<_>>())
            .unwrap_or_default();
        if pids.is_empty() {
            let _ = std::process::Command::new("kill").args(["-KILL", "--", &group]).status();
            let _ = child.wait();
            return Err("no provider process found to terminate".into());
        }
        for pid in pids {
            let _ = std::process::Command::new("kill").args(["-TERM", &pid]).status();
        }
    } else {
        let _ = std::process::Command::new("kill").args([signal, "--", &group]).status();
    }
    let exited = wait_for("terraform to stop", Duration::from_secs(120), || matches!(child.try_wait(), Ok(Some(_))));
    if exited.is_err() {
        let _ = std::process::Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = child.wait();
    }
    waited.and(exited)
}

/// One cell: the failure, then the checks. `Err` says what went wrong.
fn run(kind: Kind, failure: Failure) -> Result<(), String> {
    let az = Azure::start();
    if matches!(kind, Kind::Cluster | Kind::NodePool) {
        egress_in_place(&az, default_route("VirtualAppliance"));
    }
    let timeouts = if failure == Failure::CreateTimeout { "timeouts {\n    create = \"3s\"\n  }" } else { "" };
    let wd = az.workdir(&kind.hcl(timeouts));
    if let Some(dep) = kind.dependency() {
        let out = wd.apply_with(&[&format!("-target={dep}")]);
        if !out.success() {
            return Err(format!("applying {dep} first failed: {}", out.stderr));
        }
        // Its PUT must not count as the object's (a route's goes to the
        // same table path).
        az.sim.clear_requests();
    }
    let path = kind.put_path();
    let fault = |f: Fault| az.sim.add_fault(f).map_err(|e| e.to_string());
    let expect_success = match failure {
        Failure::StopBeforeAnswer => {
            // Azure commits the PUT; its answer is still on the way when
            // the user presses Ctrl-C.
            let slow_answer = armsim::Latency {
                method: Some("PUT".into()),
                path_regex: path.into(),
                delay_ms: 60_000,
                count: Some(1),
                after_commit: true,
            };
            az.sim.add_latency(slow_answer).map_err(|e| e.to_string())?;
            interrupted_apply(&az, &wd, kind, "-INT")?;
            false
        }
        Failure::StopDuringOperation => {
            az.sim.set_lro_delay(Duration::from_secs(600));
            interrupted_apply(&az, &wd, kind, "-INT")?;
            false
        }
        Failure::TerminatedDuringOperation => {
            az.sim.set_lro_delay(Duration::from_secs(600));
            interrupted_apply(&az, &wd, kind, "-TERM")?;
            false
        }
        Failure::CreateTimeout => {
            az.sim.set_lro_delay(Duration::from_secs(600));
            false
        }
        Failure::StatusUrlDown => {
            fault(Fault::new("/operations/", FaultStatus::Status(503)).method("GET").count(1000).retry_after(0))?;
            false
        }
        Failure::AnswerLost => {
            fault(Fault::new(path, FaultStatus::CommitThenDrop).method("PUT"))?;
            true
        }
        Failure::CommittedThen504 => {
            fault(Fault::new(path, FaultStatus::Status(504)).method("PUT").commit_first())?;
            true
        }
        Failure::ReadRefused => {
            // The reads before the create pass; the read after the write
            // is refused.
            let refused = Fault::new(path, FaultStatus::Status(403))
                .method("GET")
                .after_write()
                .error("AuthorizationFailed", "The client does not have authorization to perform action read.");
            fault(refused)?;
            true
        }
        Failure::Throttled => {
            fault(Fault::new(path, FaultStatus::Status(429)).method("PUT").count(5).retry_after(0))?;
            true
        }
    };
    if !matches!(failure, Failure::StopBeforeAnswer | Failure::StopDuringOperation | Failure::TerminatedDuringOperation)
    {
        let out = wd.apply_with(&[]);
        if out.success() != expect_success {
            return Err(format!(
                "the apply should {}: {}",
                if expect_success { "succeed" } else { "fail" },
                out.stderr
            ));
        }
    }
    let exists = kind.exists(&az);
    let tracked = in_state(&wd, kind.address())?;
    if exists && !tracked {
        // What the interrupted apply printed, if there was one, to tell
        // which side lost the object.
        let printed: String = ["stdout.log", "stderr.log"]
            .iter()
            .filter_map(|f| std::fs::read_to_string(wd.path().join(f)).ok())
            .collect::<Vec<_>>()
            .join("\n");
        return Err(format!("Azure has the object, the state does not\n{printed}"));
    }
    if !exists {
        return Err("Azure never got the object: the fault did not hit after the accept".into());
    }
    // The weather clears; the next apply must converge with no import.
    az.sim.clear_faults();
    az.sim.set_lro_delay(Duration::ZERO);
    az.sim.settle_operations();
    let again = wd.apply_with(&[]);
    if !again.success() {
        return Err(format!("the next apply failed: {}", again.stderr));
    }
    let plan = wd.plan_detailed();
    if plan.status.code() != Some(0) {
        return Err(format!("the plan after it is not empty: {}{}", plan.stdout, plan.stderr));
    }
    if !kind.exists(&az) || !in_state(&wd, kind.address())? {
        return Err("after converging, Azure and the state disagree".into());
    }
    Ok(())
}

#[test]
fn every_create_failure_leaves_the_object_tracked_and_the_next_apply_converges() {
    // `AKSUDR_FAULT_MATRIX_CELL=NodePool/provider TERM` runs one cell (to
    // repeat it while debugging); the others are shown as skipped.
    let only = std::env::var("AKSUDR_FAULT_MATRIX_CELL").ok();
    let mut results = Vec::new();
    for kind in KINDS {
        for failure in FAILURES {
            if only.as_ref().is_some_and(|o| *o != format!("{kind:?}/{}", failure.label())) {
                results.push((kind, failure, None));
                continue;
            }
            results.push((kind, failure, Some(run(kind, failure))));
        }
    }
    if let Some(cell) = &only {
        assert!(results.iter().any(|(_, _, r)| r.is_some()), "AKSUDR_FAULT_MATRIX_CELL={cell:?} names no cell");
    }
    let mut table = String::from("\nfault matrix (create)\n");
    let _ = write!(table, "{:<16}", "");
    for f in FAILURES {
        let _ = write!(table, "| {:<15}", f.label());
    }
    table.push('\n');
    for kind in KINDS {
        let _ = write!(table, "{:<16}", format!("{kind:?}"));
        for failure in FAILURES {
            let cell = match results.iter().find(|(k, f, _)| *k == kind && *f == failure).map(|(_, _, r)| r) {
                Some(Some(Ok(()))) => "pass",
                Some(None) => "skipped",
                _ => "FAIL",
            };
            let _ = write!(table, "| {cell:<15}");
        }
        table.push('\n');
    }
    println!("{table}");
    let failed: Vec<String> = results
        .iter()
        .filter_map(|(k, f, r)| r.as_ref()?.as_ref().err().map(|e| format!("{k:?} × {}: {e}", f.label())))
        .collect();
    assert!(failed.is_empty(), "{table}\n{}", failed.join("\n\n"));
}
