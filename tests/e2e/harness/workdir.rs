//! A throwaway work directory holding one configuration, where terraform
//! runs with a hermetic environment.

use std::env;
use std::ffi::OsString;
use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;

use tempfile::TempDir;

use super::*;

/// Clears whatever in the caller's environment could change how terraform or
/// the provider behave, so that tests see the same thing on every machine.
pub(crate) fn hermetic_env(cmd: &mut Command) {
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
pub(crate) const NO_COLOR_COMMANDS: [&str; 12] =
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
