//! Provider installation: `terraform init` takes aksudr/aksudr from the
//! harness's filesystem mirror, never from the network, and concurrent inits
//! in separate directories do not disturb each other.

use std::thread;

use crate::harness::{config, Workdir, PROVIDER_ADDRESS, PROVIDER_VERSION};

#[test]
fn init_installs_the_provider_from_the_mirror() {
    let wd = Workdir::new(&config(""));
    let out = wd.init();
    out.assert_stdout_contains(&format!("aksudr/aksudr v{PROVIDER_VERSION}"))
        .assert_stdout_contains("Terraform has been successfully initialized");

    let lock = std::fs::read_to_string(wd.path().join(".terraform.lock.hcl"))
        .unwrap_or_else(|e| out.fail(format_args!("no lock file: {e}")));
    assert!(lock.contains(&format!("provider \"{PROVIDER_ADDRESS}\"")), "lock file does not pin our provider:\n{lock}");
    let version_line = lock.lines().map(str::trim).find(|l| l.starts_with("version"));
    assert!(
        version_line.is_some_and(|l| l.ends_with(&format!("\"{PROVIDER_VERSION}\""))),
        "lock file has another version:\n{lock}"
    );
    assert!(lock.contains("\"h1:"), "lock file has no h1 hash:\n{lock}");
}

#[test]
fn concurrent_inits_in_separate_directories_succeed() {
    let handles: Vec<_> = (0..4)
        .map(|_| {
            thread::spawn(|| {
                let wd = Workdir::new(&config(""));
                wd.init();
            })
        })
        .collect();
    for h in handles {
        if let Err(panic) = h.join() {
            std::panic::resume_unwind(panic);
        }
    }
}
