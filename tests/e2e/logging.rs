//! Provider logging as terraform relays it: with `TF_LOG` or
//! `TF_LOG_PROVIDER`, the provider's structured (hclog JSON) stderr lines
//! show up under terraform's `provider.terraform-provider-aksudr…` logger,
//! and sensitive provider settings never appear in them.

use crate::harness::{config, route_table_id, Output, Workdir};

/// go-plugin names the logger for a plugin's stderr after the executable.
const PLUGIN_LOGGER: &str = "provider.terraform-provider-aksudr";

fn one_route() -> String {
    format!(
        r#"resource "aksudr_firewall_route" "default" {{
  name                   = "default-via-firewall"
  route_table_id         = "{}"
  next_hop_in_ip_address = "10.0.1.4"
}}
"#,
        route_table_id("rt")
    )
}

/// The stderr lines terraform relayed from the provider process.
fn provider_lines(out: &Output) -> Vec<&str> {
    out.stderr.lines().filter(|l| l.contains(PLUGIN_LOGGER)).collect()
}

#[track_caller]
fn assert_structured_provider_logs(out: &Output) {
    let lines = provider_lines(out);
    if lines.is_empty() {
        out.fail(format_args!("no `{PLUGIN_LOGGER}` lines on stderr"));
    }
    // go-plugin turns hclog JSON fields into `key=value`; plain text lines
    // would carry no @module.
    if !lines.iter().any(|l| l.contains("@module=")) {
        out.fail("the provider's log lines are not structured (no @module field)");
    }
    if !lines.iter().any(|l| l.to_lowercase().contains("configur")) {
        out.fail("the provider did not log its configuration step");
    }
}

#[test]
fn tf_log_debug_shows_structured_provider_logs() {
    let wd = Workdir::new(&config(&one_route())).env("TF_LOG", "debug");
    wd.init();
    let out = wd.plan();
    out.assert_success();
    assert_structured_provider_logs(&out);
}

#[test]
fn tf_log_provider_alone_shows_provider_logs() {
    let wd = Workdir::new(&config(&one_route())).env("TF_LOG_PROVIDER", "debug");
    wd.init();
    let out = wd.plan();
    out.assert_success();
    assert_structured_provider_logs(&out);
}

#[test]
fn sensitive_provider_settings_stay_out_of_trace_logs() {
    const SECRET: &str = "e2e-client-secret-3f9a1c";
    const TOKEN: &str = "e2e-oidc-token-b27d40";
    let resources = one_route();
    let hcl = config(&resources).replace(
        "provider \"aksudr\" {}",
        &format!(
            r#"provider "aksudr" {{
  subscription_id = "00000000-0000-0000-0000-000000000000"
  tenant_id       = "11111111-1111-1111-1111-111111111111"
  client_id       = "22222222-2222-2222-2222-222222222222"
  client_secret   = "{SECRET}"
  oidc_token      = "{TOKEN}"
}}"#
        ),
    );
    let wd = Workdir::new(&hcl).env("TF_LOG", "trace");
    wd.init();
    // Whether planning with these made-up credentials succeeds is not the
    // point; what the provider logs while handling them is.
    let out = wd.plan();
    let lines = provider_lines(&out);
    if lines.is_empty() {
        out.fail(format_args!("no `{PLUGIN_LOGGER}` lines on stderr"));
    }
    for secret in [SECRET, TOKEN] {
        if let Some(leak) = lines.iter().find(|l| l.contains(secret)) {
            out.fail(format_args!("the provider logged a secret: {leak}"));
        }
    }
}

/// With `TF_LOG=trace`, the events of the provider's dependencies reach the
/// log too (azure_identity's token acquisition and reqwest's connections
/// among them), each line of an RPC names it and its resource type, and
/// neither the client secret nor the token it buys ever appears.
#[test]
fn dependencies_events_reach_the_trace_log_without_secrets() {
    let az = crate::harness::Azure::start();
    let table = r#"resource "aksudr_route_table" "rt" {
  name                = "rt-logged"
  resource_group_name = "rg-egress"
  location            = "westeurope"
}
"#;
    let wd = az.workdir(table);
    wd.apply();
    let wd = wd.env("TF_LOG", "trace");
    let out = wd.plan();
    out.assert_success();
    let lines = provider_lines(&out);
    let identity: Vec<&&str> = lines.iter().filter(|l| l.contains("@module=provider.azure_identity")).collect();
    assert!(!identity.is_empty(), "no azure_identity event in the trace log");
    // reqwest logs through the `log` crate, not `tracing`.
    assert!(
        lines.iter().any(|l| l.contains("@module=provider.reqwest") && l.contains("starting new connection")),
        "no reqwest event in the trace log"
    );
    assert!(
        lines.iter().any(|l| l.contains("tf_rpc=ReadResource") && l.contains("tf_resource_type=aksudr_route_table")),
        "no line of the refresh names its RPC and resource type"
    );
    let secret = az.sim.auth_config().client_secret.clone();
    // armsim's tokens are `armsim.<opaque>`.
    for leak in [secret.as_str(), "armsim.", "access_token"] {
        if let Some(line) = out.stderr.lines().find(|l| l.contains(leak)) {
            out.fail(format_args!("a secret reached the log: {line}"));
        }
    }
}
