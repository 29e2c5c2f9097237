//! How the provider authenticates to the simulator's identity platform: a
//! client secret, an OIDC token from Terraform Cloud's variable, a wrong
//! secret, and no credentials at all.

use crate::harness::{config, Azure, Workdir};

const TABLE: &str = r#"resource "aksudr_route_table" "rt" {
  name                = "rt-aks"
  resource_group_name = "rg-egress"
  location            = "westeurope"
}
"#;

/// A syntactically valid JWT, as Terraform Cloud's workload identity token
/// is; the simulator accepts any such assertion.
const TFC_TOKEN: &str = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2FwcC50ZXJyYWZvcm0uaW8iLCJzdWIiOiJvcmdhbml6YXRpb246bzp3b3Jrc3BhY2U6dyIsImF1ZCI6ImFwaTovL0F6dXJlQURUb2tlbkV4Y2hhbmdlIn0.c2lnbmF0dXJl";

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
    if !out.stderr.contains("Cannot authenticate to Azure") || !out.stderr.contains("Invalid client secret") {
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
