//! The provider binary Cargo built, published in a filesystem mirror that
//! every work directory's CLI configuration points at.

use std::env;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::*;

/// Where Terraform looks the provider up; the mirror is laid out by it.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/aksudr/aksudr";

pub const PROVIDER_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The provider binary under test: the one Cargo built for this run, or
/// `$AKSUDR_E2E_PROVIDER_BIN` (a release build, say) when that is set.
pub fn provider_bin() -> PathBuf {
    env::var_os("AKSUDR_E2E_PROVIDER_BIN")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-aksudr")))
}

/// go-plugin's handshake cookie for Terraform providers; a provider started
/// without it must refuse to serve.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";

pub const MAGIC_COOKIE_VALUE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// The provider published where `terraform init` will find it.
#[derive(Debug)]
pub struct Mirror {
    /// The filesystem mirror's root directory.
    pub root: PathBuf,
    /// A CLI configuration that installs our provider from `root` only.
    pub cli_config: PathBuf,
}

/// Builds the mirror once per process. Its directory is named after the
/// provider binary's size and mtime so that separate test processes (nextest
/// runs one per test) share it, and a rebuilt provider gets a fresh one.
pub fn mirror() -> &'static Mirror {
    static MIRROR: OnceLock<Mirror> = OnceLock::new();
    MIRROR.get_or_init(|| build_mirror().unwrap_or_else(|e| panic!("cannot build the provider mirror: {e}")))
}

pub(crate) fn build_mirror() -> io::Result<Mirror> {
    let bin = &provider_bin();
    let meta = fs::metadata(bin).map_err(|e| annotate(e, bin))?;
    let mtime = meta.modified()?.duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
    let base = e2e_tmp();
    fs::create_dir_all(&base)?;
    let name = format!("mirror-{:x}-{:x}", meta.len(), mtime);
    let dir = base.join(&name);
    let mirror = Mirror { root: dir.join("mirror"), cli_config: dir.join("terraform.rc") };
    if dir.exists() {
        return Ok(mirror);
    }

    // Assemble in a staging directory and rename it into place, which is
    // atomic: a concurrent process either sees no mirror or a complete one.
    let staging = tempfile::Builder::new().prefix(".staging-").tempdir_in(&base)?;
    let platform_dir = staging.path().join("mirror").join(PROVIDER_ADDRESS).join(PROVIDER_VERSION).join(platform());
    fs::create_dir_all(&platform_dir)?;
    let target = platform_dir.join(format!("terraform-provider-aksudr_v{PROVIDER_VERSION}"));
    // A hard link costs no space; Cargo replaces rather than rewrites the
    // binary on rebuild, so the link keeps the bytes this mirror was named for.
    if fs::hard_link(bin, &target).is_err() {
        fs::copy(bin, &target).map_err(|e| annotate(e, &target))?;
    }
    fs::write(staging.path().join("terraform.rc"), cli_config_text(&mirror.root))?;
    match fs::rename(staging.path(), &dir) {
        Ok(()) => prune_old_mirrors(&base, &name),
        Err(_) if dir.exists() => {} // another test process won the race
        Err(e) => return Err(e),
    }
    Ok(mirror)
}

/// Mirrors of earlier builds pin old binaries on disk; remove the ones old
/// enough that no test run can still be using them.
pub(crate) fn prune_old_mirrors(base: &Path, keep: &str) {
    let Ok(entries) = fs::read_dir(base) else {
        return;
    };
    let cutoff = SystemTime::now() - Duration::from_secs(3600);
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let stale = entry.metadata().and_then(|m| m.modified()).map(|t| t < cutoff).unwrap_or(false);
        if name.starts_with("mirror-") && name != keep && stale {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

pub(crate) fn cli_config_text(mirror_root: &Path) -> String {
    format!(
        r#"# Written by the aksudr e2e harness: install aksudr/aksudr from the local
# mirror only, and never reach the network for it.
disable_checkpoint = true

provider_installation {{
  filesystem_mirror {{
    path    = {root}
    include = ["{PROVIDER_ADDRESS}"]
  }}
  direct {{
    exclude = ["{PROVIDER_ADDRESS}"]
  }}
}}
"#,
        root = hcl_string(&mirror_root.to_string_lossy()),
    )
}

/// Terraform's name for this machine's platform, e.g. `linux_amd64`.
pub fn platform() -> String {
    let arch = match env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "arm" => "arm",
        other => other,
    };
    format!("{}_{arch}", env::consts::OS)
}

pub(crate) fn e2e_tmp() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e")
}

pub(crate) fn annotate(e: io::Error, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}
