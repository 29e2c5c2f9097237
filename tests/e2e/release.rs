//! The release packaging (`make release`, scripts/package.sh): the zip,
//! manifest and SHA256SUMS that a registry or a private mirror serves. The
//! package is laid into a packed filesystem mirror, and `terraform init`
//! and `plan` install and run the provider from it.

use std::fs;
use std::process::Command;

use crate::harness::{config, platform, provider_bin, Workdir};

const VERSION: &str = "9.8.7";

#[test]
fn a_packaged_release_installs_from_a_packed_mirror_and_plans() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dist = dir.path().join("dist");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/package.sh");
    let out = Command::new("bash")
        .args([script, &provider_bin().to_string_lossy(), VERSION, &dist.to_string_lossy()])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(out.status.success(), "package.sh failed: {}", String::from_utf8_lossy(&out.stderr));

    let zip_name = format!("terraform-provider-aksudr_{VERSION}_{}.zip", platform());
    let manifest = fs::read_to_string(dist.join(format!("terraform-provider-aksudr_{VERSION}_manifest.json")))
        .unwrap_or_else(|e| panic!("{e}"));
    let manifest: serde_json::Value = serde_json::from_str(&manifest).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(manifest["metadata"]["protocol_versions"], serde_json::json!(["6.0"]));
    let sums = fs::read_to_string(dist.join(format!("terraform-provider-aksudr_{VERSION}_SHA256SUMS")))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(sums.lines().any(|l| l.ends_with(&zip_name)), "no checksum of {zip_name} in:\n{sums}");
    let check = Command::new("sha256sum")
        .arg("-c")
        .arg(format!("terraform-provider-aksudr_{VERSION}_SHA256SUMS"))
        .current_dir(&dist)
        .output();
    assert!(check.is_ok_and(|o| o.status.success()), "the checksums do not match the files");

    // A packed mirror: HOSTNAME/NAMESPACE/TYPE/<the release zip>.
    let mirror = dir.path().join("mirror");
    let packed = mirror.join("registry.terraform.io/aksudr/aksudr");
    fs::create_dir_all(&packed).unwrap_or_else(|e| panic!("{e}"));
    fs::copy(dist.join(&zip_name), packed.join(&zip_name)).unwrap_or_else(|e| panic!("{e}"));
    let rc = dir.path().join("terraform.rc");
    fs::write(
        &rc,
        format!(
            "disable_checkpoint = true\nprovider_installation {{\n  filesystem_mirror {{\n    path    = \"{}\"\n    \
             include = [\"aksudr/aksudr\"]\n  }}\n  direct {{\n    exclude = [\"aksudr/aksudr\"]\n  }}\n}}\n",
            mirror.display()
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));

    let hcl = config(
        r#"data "aksudr_egress_requirements" "aks" {
  location = "westeurope"
}

output "tags" {
  value = data.aksudr_egress_requirements.aks.fqdn_tags
}
"#,
    )
    .replace(&format!("version = \"{}\"", crate::harness::PROVIDER_VERSION), &format!("version = \"{VERSION}\""));
    let wd = Workdir::new(&hcl).env("TF_CLI_CONFIG_FILE", &rc.to_string_lossy());
    wd.init().assert_stdout_contains(&format!("aksudr/aksudr v{VERSION}"));
    // A filesystem mirror's package is pinned by its content hash (h1:);
    // registries add the zip's (zh:, the SHA256SUMS entry).
    let lock = fs::read_to_string(wd.path().join(".terraform.lock.hcl")).unwrap_or_else(|e| panic!("{e}"));
    assert!(lock.contains("\"h1:") && lock.contains(&format!("version     = \"{VERSION}\"")), "{lock}");
    wd.plan().assert_success();
}
