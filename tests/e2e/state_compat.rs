//! State written by release 0.1.0 keeps working: `tests/fixtures/state-0.1.0`
//! holds a state of every resource type recorded with that build (commit
//! 02f6c88) from `resources.tf` beside it, as `state.json`. Today's build applies the same
//! configuration to a fresh armsim, so that Azure holds the same objects;
//! then the recorded state replaces its own, and the plan must be empty:
//! today's build reads every 0.1.0 object and wants nothing changed.

use crate::harness::Azure;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/state-0.1.0");

#[test]
fn state_of_release_0_1_0_re_plans_empty() {
    let resources = std::fs::read_to_string(format!("{FIXTURE}/resources.tf"))
        .unwrap_or_else(|e| panic!("{FIXTURE}/resources.tf: {e}"));
    let recorded = format!("{FIXTURE}/state.json");
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&recorded).unwrap_or_else(|e| panic!("{recorded}: {e}")))
            .unwrap_or_else(|e| panic!("{recorded}: {e}"));
    let mut types: Vec<&str> = state["resources"]
        .as_array()
        .unwrap_or_else(|| panic!("no resources in {recorded}"))
        .iter()
        .filter_map(|r| r["type"].as_str())
        .collect();
    types.sort_unstable();
    types.dedup();
    assert_eq!(types, crate::schema::RESOURCE_TYPES, "the fixture covers every resource type");

    let az = Azure::start();
    let wd = az.workdir(&resources);
    wd.apply().assert_stdout_contains("7 added");
    wd.terraform(&["state", "push", "-force", &recorded]).assert_success();
    let shown = wd.terraform(&["state", "list"]);
    assert_eq!(shown.assert_success().stdout.lines().count(), 7, "{}", shown.stdout);
    wd.assert_no_changes();
}
