//! How the provider authenticates to the simulator's identity platform: a
//! client secret, an OIDC token from Terraform Cloud's variable, a wrong
//! secret (an error at plan naming the variable), an unreachable login
//! endpoint (named, with its cause), OIDC asked for without a token, a bad
//! endpoint from the environment, and no credentials at all.

use crate::harness::{config, parse_diagnostics, unwrapped, Azure, Workdir};

const TABLE: &str = r#"resource "aksudr_route_table" "rt" {
  name                = "rt-aks"
  resource_group_name = "rg-egress"
  location            = "westeurope"
}
"#;

/// A syntactically valid JWT, as Terraform Cloud's workload identity token
/// is; the simulator accepts any such assertion.
const TFC_TOKEN: &str = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2FwcC50ZXJyYWZvcm0uaW8iLCJzdWIiOiJvcmdhbml6YXRpb246bzp3b3Jrc3BhY2U6dyIsImF1ZCI6ImFwaTovL0F6dXJlQURUb2tlbkV4Y2hhbmdlIn0.c2lnbmF0dXJl";

/// `env` with `key` set to `value` (replacing any earlier value).
fn with(mut env: Vec<(String, String)>, key: &str, value: &str) -> Vec<(String, String)> {
    env.retain(|(k, _)| k != key);
    env.push((key.into(), value.into()));
    env
}

fn workdir(env: Vec<(String, String)>) -> Workdir {
    let wd = Workdir::new(&config(TABLE)).envs(env);
    wd.init();
    wd
}

#[test]
fn client_secret() {
    let az = Azure::start();
    workdir(az.secret_env()).apply().assert_stdout_contains("1 added");
}

#[test]
fn oidc_token_from_terraform_cloud() {
    let az = Azure::start();
    let mut env = az.base_env();
    env.push(("ARM_CLIENT_ID".into(), az.sim.auth_config().client_id.clone()));
    env.push(("ARM_USE_OIDC".into(), "true".into()));
    env.push(("TFC_WORKLOAD_IDENTITY_TOKEN".into(), TFC_TOKEN.into()));
    workdir(env).apply().assert_stdout_contains("1 added");
}

#[test]
fn wrong_client_secret_is_a_clear_error() {
    let az = Azure::start();
    let mut env = az.base_env();
    env.push(("ARM_CLIENT_ID".into(), az.sim.auth_config().client_id.clone()));
    env.push(("ARM_CLIENT_SECRET".into(), "not-the-secret".into()));
    let out = workdir(env).apply_with(&[]);
    out.assert_failure();
    let stderr = unwrapped(&out.stderr);
    if !stderr.contains("Cannot authenticate to Azure") || !stderr.contains("Invalid client secret") {
        out.fail("a wrong secret should say authentication failed and why");
    }
}

#[test]
fn no_credentials_lists_what_was_tried() {
    let az = Azure::start();
    let out = workdir(az.base_env()).apply_with(&[]);
    out.assert_failure();
    for needle in ["Cannot authenticate to Azure", "client secret", "OIDC", "managed identity", "Azure CLI"] {
        if !out.stderr.contains(needle) {
            out.fail(format_args!("the diagnostic should mention {needle:?}"));
        }
    }
    assert!(az.sim.requests().iter().all(|r| !r.path.contains("routeTables")), "nothing should reach ARM");
}

#[test]
fn wrong_client_secret_fails_the_plan_naming_the_variable() {
    let az = Azure::start();
    let out = workdir(with(az.secret_env(), "ARM_CLIENT_SECRET", "not-the-secret")).plan();
    out.assert_failure();
    let diags = out.diagnostics();
    let d = diags
        .iter()
        .find(|d| d.summary == "Cannot authenticate to Azure")
        .unwrap_or_else(|| out.fail(format_args!("no authentication error: {diags:#?}")));
    for needle in ["ARM_CLIENT_SECRET", "AADSTS7000215", "Invalid client secret"] {
        if !d.flat().contains(needle) {
            out.fail(format_args!("the error should name {needle:?}"));
        }
    }
    assert!(!out.stderr.contains("not-the-secret"), "the secret itself is never printed");
}

#[test]
fn an_unreachable_login_endpoint_is_named_with_its_cause() {
    let az = Azure::start();
    // Port 9 (discard) on loopback: nothing listens there.
    let wd = workdir(with(az.secret_env(), "ARM_AUTHORITY_HOST", "https://127.0.0.1:9/"));
    // At plan it is a warning that says why; the apply is an error.
    let out = wd.plan();
    out.assert_success();
    // Terraform prints warnings on stdout.
    let diags = parse_diagnostics(&out.stdout);
    let warned = diags.iter().any(|d| {
        d.summary.starts_with("Could not look for an existing route table at plan")
            && d.flat().contains("Connection refused")
            && d.flat().contains("127.0.0.1:9")
    });
    if !warned {
        out.fail(format_args!("no warning naming the host and the refused connection: {diags:#?}"));
    }
    let out = wd.apply_with(&[]);
    out.assert_failure();
    let stderr = unwrapped(&out.stderr);
    for needle in ["Cannot authenticate to Azure", "127.0.0.1:9", "Connection refused", "ARM_AUTHORITY_HOST"] {
        if !stderr.contains(needle) {
            out.fail(format_args!("the apply's error should name {needle:?}"));
        }
    }
}

#[test]
fn oidc_without_a_token_says_so_when_the_fallback_fails() {
    let az = Azure::start();
    let mut env = with(az.base_env(), "ARM_USE_OIDC", "true");
    env = with(env, "ARM_CLIENT_ID", &az.sim.auth_config().client_id);
    // The Azure CLI is the fallback; an empty PATH keeps any real `az` out.
    env = with(env, "ARM_USE_CLI", "true");
    let out = workdir(env).env("PATH", "/nonexistent").plan();
    out.assert_failure();
    let stderr = unwrapped(&out.stderr);
    for needle in ["Azure CLI", "use_oidc (ARM_USE_OIDC) is set", "TFC_WORKLOAD_IDENTITY_TOKEN"] {
        if !stderr.contains(needle) {
            out.fail(format_args!("the error should say {needle:?}"));
        }
    }
}

#[test]
fn a_bad_endpoint_from_the_environment_names_the_variable() {
    let az = Azure::start();
    let out = workdir(with(az.secret_env(), "ARM_RESOURCE_MANAGER_ENDPOINT", "http://127.0.0.1:1")).plan();
    out.assert_failure();
    let diags = out.diagnostics();
    let named = diags.iter().any(|d| {
        d.summary == "resource_manager_endpoint must use https"
            && d.flat().contains("The environment variable ARM_RESOURCE_MANAGER_ENDPOINT gives")
    });
    if !named {
        out.fail(format_args!("the error should name ARM_RESOURCE_MANAGER_ENDPOINT: {diags:#?}"));
    }
}

#[test]
fn an_untrusted_login_certificate_is_named_with_what_to_set() {
    let az = Azure::start();
    // armsim's CA is not trusted: no SSL_CERT_FILE (and none inherited, as
    // the test process's environment has none pointing at armsim's CA).
    let mut env = az.secret_env();
    env.retain(|(k, _)| k != "SSL_CERT_FILE");
    let out = workdir(env).env("SSL_CERT_FILE", "/nonexistent-ca.pem").plan();
    out.assert_failure();
    let stderr = unwrapped(&out.stderr);
    for needle in ["Cannot authenticate to Azure", "UnknownIssuer", "SSL_CERT_FILE"] {
        if !stderr.contains(needle) {
            out.fail(format_args!("the error should name {needle:?}"));
        }
    }
}
