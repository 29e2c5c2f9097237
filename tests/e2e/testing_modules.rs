//! The module-testing guide's example (docs/guides/testing-modules.md,
//! examples/testing-modules/run.sh) as a module author's CI runs it: armsim
//! started from its binary with the example's seed, `terraform test` (or
//! apply/plan/destroy before 1.6), a throttling fault, armsim stopped.

use std::path::PathBuf;
use std::process::Command;

use crate::harness::{mirror, provider_bin, terraform};

/// The armsim binary beside the provider's; built when a run of this test
/// binary alone did not build it.
fn armsim_bin() -> PathBuf {
    let dir = provider_bin().parent().map(PathBuf::from).unwrap_or_default();
    let bin = dir.join("armsim");
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let profile = if dir.ends_with("release") { vec!["--release"] } else { vec![] };
        let status = Command::new(cargo)
            .args(["build", "-p", "armsim", "--bin", "armsim"])
            .args(profile)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .unwrap_or_else(|e| panic!("cannot build armsim: {e}"));
        assert!(status.success(), "building armsim failed");
    }
    bin
}

#[test]
fn the_guides_example_runs_as_a_module_authors_ci_would() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/testing-modules/run.sh");
    let mut cmd = Command::new("bash");
    cmd.arg(script);
    // Nothing of the caller's Terraform or Azure settings.
    for (key, _) in std::env::vars_os() {
        let k = key.to_string_lossy();
        if ["TF_", "ARM_", "AZURE_"].iter().any(|p| k.starts_with(p)) {
            cmd.env_remove(&key);
        }
    }
    let out = cmd
        .env("ARMSIM", armsim_bin())
        .env("TERRAFORM", &terraform().path)
        .env("TF_CLI_CONFIG_FILE", &mirror().cli_config)
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {script}: {e}"));
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "run.sh failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}");
    assert!(stdout.contains("throttled plan: ok") && stdout.contains("module tests against armsim: ok"), "{stdout}");
}
