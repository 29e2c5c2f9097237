//! The `aksudr` provider: its configuration schema, how each setting falls
//! back to the azurerm-style environment variable, and the registry of
//! resource types.

use crate::arm::Settings;
use crate::context::ProviderData;
use crate::log::Sensitive;
use crate::resources;
use crate::tf::data_source::{DataSource, EphemeralResource};
use crate::tf::diag::{AttributePath, Diagnostic, Diagnostics};
use crate::tf::provider::{Configure, Provider};
use crate::tf::resource::Resource;
use crate::tf::schema::{Attribute, Block, Schema};
use crate::tf::value::Value;

/// Azure clouds and their Resource Manager / login endpoints.
pub const ENVIRONMENTS: &[&str] = &["public", "usgovernment", "china"];

/// One provider setting: attribute name, environment fallback(s), whether
/// it is secret, and its description.
struct Setting {
    name: &'static str,
    env: &'static [&'static str],
    kind: Kind,
    description: &'static str,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Secret,
    Flag,
}

const SETTINGS: &[Setting] = &[
    Setting { name: "subscription_id", env: &["ARM_SUBSCRIPTION_ID"], kind: Kind::Text, description: "The Azure subscription ID. Falls back to `ARM_SUBSCRIPTION_ID`." },
    Setting { name: "tenant_id", env: &["ARM_TENANT_ID"], kind: Kind::Text, description: "The Microsoft Entra tenant ID. Falls back to `ARM_TENANT_ID`." },
    Setting { name: "client_id", env: &["ARM_CLIENT_ID"], kind: Kind::Text, description: "The client (application) ID of a service principal or user-assigned managed identity. Falls back to `ARM_CLIENT_ID`." },
    Setting { name: "client_secret", env: &["ARM_CLIENT_SECRET"], kind: Kind::Secret, description: "The service principal's client secret. Sensitive. Falls back to `ARM_CLIENT_SECRET`." },
    Setting { name: "use_oidc", env: &["ARM_USE_OIDC"], kind: Kind::Flag, description: "Authenticate with an OIDC token (workload identity federation, e.g. GitHub Actions or Terraform Cloud). Falls back to `ARM_USE_OIDC`." },
    Setting { name: "oidc_token", env: &["ARM_OIDC_TOKEN", "TFC_WORKLOAD_IDENTITY_TOKEN"], kind: Kind::Secret, description: "An OIDC ID token exchanged for an Azure token. Sensitive. Falls back to `ARM_OIDC_TOKEN`, then Terraform Cloud's `TFC_WORKLOAD_IDENTITY_TOKEN`." },
    Setting { name: "oidc_token_file_path", env: &["ARM_OIDC_TOKEN_FILE_PATH"], kind: Kind::Text, description: "A file holding the OIDC ID token (read at each token request). Falls back to `ARM_OIDC_TOKEN_FILE_PATH`." },
    Setting { name: "use_msi", env: &["ARM_USE_MSI"], kind: Kind::Flag, description: "Authenticate with the managed identity of the machine running Terraform. Falls back to `ARM_USE_MSI`." },
    Setting { name: "use_cli", env: &["ARM_USE_CLI"], kind: Kind::Flag, description: "Authenticate with the Azure CLI's logged-in account when nothing else is configured. Defaults to true. Falls back to `ARM_USE_CLI`." },
    Setting { name: "environment", env: &["ARM_ENVIRONMENT"], kind: Kind::Text, description: "The Azure cloud: `public` (default), `usgovernment` or `china`. Falls back to `ARM_ENVIRONMENT`." },
    Setting { name: "resource_manager_endpoint", env: &["ARM_RESOURCE_MANAGER_ENDPOINT"], kind: Kind::Text, description: "Overrides the cloud's Resource Manager endpoint; must be `https://`. Falls back to `ARM_RESOURCE_MANAGER_ENDPOINT`." },
    Setting { name: "authority_host", env: &["ARM_AUTHORITY_HOST"], kind: Kind::Text, description: "Overrides the cloud's Microsoft Entra login endpoint; must be `https://`. Falls back to `ARM_AUTHORITY_HOST`." },
];

/// The provider block's schema.
pub fn schema() -> Schema {
    let mut block = Block::new(
        "Manages AKS clusters whose egress leaves through a user-defined route table to a firewall or \
         network virtual appliance, and the route tables, routes and subnet associations they need.",
    );
    for s in SETTINGS {
        let a = match s.kind {
            Kind::Flag => Attribute::bool(s.name, s.description).optional(),
            Kind::Secret => Attribute::string(s.name, s.description).optional().sensitive(),
            Kind::Text => Attribute::string(s.name, s.description).optional(),
        };
        let a = if s.name == "environment" { a.one_of(ENVIRONMENTS) } else { a };
        block = block.attr(a);
    }
    Schema::new(0, block)
}

/// Every resource type this provider offers.
pub fn resources() -> Vec<Box<dyn Resource<ProviderData>>> {
    resources::all()
}

/// The `aksudr` provider, as the framework serves it.
#[derive(Clone, Copy, Debug, Default)]
pub struct AksudrProvider;

impl Provider for AksudrProvider {
    type Data = ProviderData;

    fn schema(&self) -> Schema {
        schema()
    }

    fn resources(&self) -> Vec<Box<dyn Resource<ProviderData>>> {
        resources()
    }

    fn data_sources(&self) -> Vec<Box<dyn DataSource<ProviderData>>> {
        resources::data_sources()
    }

    fn ephemeral_resources(&self) -> Vec<Box<dyn EphemeralResource<ProviderData>>> {
        resources::ephemeral_resources()
    }

    fn activity<'a>(&self, data: &'a ProviderData) -> Option<&'a crate::tf::activity::Activity> {
        Some(&data.activity)
    }

    fn configure(&self, config: &Value, how: &Configure) -> Result<ProviderData, Diagnostics> {
        let env = |k: &str| std::env::var(k).ok();
        let resolved = resolve(config, &env)?;
        if how.plaintext {
            check_debug_endpoints(&resolved, &env)?;
        }
        let arm = crate::arm::ArmClient::new(resolved, how.stop.clone())
            .map_err(|e| Diagnostic::error("Cannot set up the Azure client", e.to_string()))?;
        Ok(ProviderData::new(arm))
    }
}

/// Default endpoints of each cloud: (Resource Manager, login).
fn cloud_endpoints(environment: &str) -> (&'static str, &'static str) {
    match environment {
        "usgovernment" => ("https://management.usgovcloudapi.net/", "https://login.microsoftonline.us/"),
        "china" => ("https://management.chinacloudapi.cn/", "https://login.chinacloudapi.cn/"),
        _ => ("https://management.azure.com/", "https://login.microsoftonline.com/"),
    }
}

/// Resolves the provider block against the environment. `env` is injected
/// so tests need not touch the process environment.
pub fn resolve(config: &Value, env: &dyn Fn(&str) -> Option<String>) -> Result<Settings, Diagnostics> {
    let mut diags = Diagnostics::new();
    // A value and where it came from: the provider block (`None`) or the
    // environment variable named, so that an error says what to fix.
    let sourced = |name: &str| -> Option<(String, Option<&'static str>)> {
        if let Some(s) = config.attr(name).and_then(Value::as_str) {
            return Some((s.to_string(), None));
        }
        let setting = SETTINGS.iter().find(|s| s.name == name)?;
        setting.env.iter().find_map(|k| env(k).filter(|v| !v.is_empty()).map(|v| (v, Some(*k))))
    };
    let text = |name: &str| sourced(name).map(|(v, _)| v);
    let mut flag = |name: &str, default: bool| -> bool {
        if let Some(b) = config.attr(name).and_then(Value::as_bool) {
            return b;
        }
        let Some((raw, var)) = sourced(name) else { return default };
        match raw.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" => true,
            "0" | "false" | "no" => false,
            _ => {
                diags.push(
                    Diagnostic::error(
                        format!("Invalid boolean for {name}"),
                        format!("{} gives {raw:?}; use true or false.", given_by(var)),
                    )
                    .at(AttributePath::root(name)),
                );
                default
            }
        }
    };
    let use_oidc = flag("use_oidc", false);
    let use_msi = flag("use_msi", false);
    let use_cli = flag("use_cli", true);
    let (environment, environment_var) = sourced("environment").unwrap_or_else(|| ("public".to_string(), None));
    let environment = environment.to_ascii_lowercase();
    if !ENVIRONMENTS.contains(&environment.as_str()) {
        diags.push(
            Diagnostic::error(
                "Unknown Azure environment",
                format!(
                    "{} gives {environment:?}, which is not one of: {}.",
                    given_by(environment_var),
                    ENVIRONMENTS.join(", ")
                ),
            )
            .at(AttributePath::root("environment")),
        );
    }
    let (arm, login) = cloud_endpoints(&environment);
    let mut endpoint = |name: &str, default: &str| -> String {
        let (v, var) = sourced(name).unwrap_or_else(|| (default.to_string(), None));
        let problem = if !v.to_ascii_lowercase().starts_with("https://") {
            Some((
                format!("{name} must use https"),
                "is not an https:// URL. Bearer tokens are never sent in clear text; to trust a private CA, \
                 point SSL_CERT_FILE or SSL_CERT_DIR at it."
                    .to_string(),
            ))
        } else {
            match reqwest::Url::parse(&v) {
                // Said without the value, which would print the password.
                Ok(u) if !u.username().is_empty() || u.password().is_some() => {
                    diags.push(
                        Diagnostic::error(
                            format!("Invalid {name}"),
                            format!(
                                "{} gives a URL with a user name or password in it; the endpoint takes none \
                                 (credentials go in client_secret, oidc_token and their variables).",
                                given_by(var)
                            ),
                        )
                        .at(AttributePath::root(name)),
                    );
                    return v;
                }
                Ok(u) if u.host_str().is_some_and(|h| !h.is_empty()) => None,
                Ok(_) => Some((format!("Invalid {name}"), "has no host.".to_string())),
                Err(e) => Some((format!("Invalid {name}"), format!("is not a URL ({e})."))),
            }
        };
        if let Some((summary, why)) = problem {
            diags.push(
                Diagnostic::error(summary, format!("{} gives {v:?}, which {why}", given_by(var)))
                    .at(AttributePath::root(name)),
            );
        }
        v
    };
    let resource_manager_endpoint = endpoint("resource_manager_endpoint", arm);
    let authority_host = endpoint("authority_host", login);
    let cfg = Settings {
        subscription_id: text("subscription_id"),
        tenant_id: text("tenant_id"),
        client_id: text("client_id"),
        client_secret: text("client_secret").map(Sensitive::new),
        use_oidc,
        oidc_token: text("oidc_token").map(Sensitive::new),
        oidc_token_file_path: text("oidc_token_file_path"),
        use_msi,
        use_cli,
        environment,
        resource_manager_endpoint,
        authority_host,
    };
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(cfg)
    }
}

/// Where a setting's value came from, for error messages: the provider
/// block, or the environment variable a user would otherwise look for in
/// vain in the configuration.
fn given_by(var: Option<&str>) -> String {
    match var {
        Some(v) => format!("The environment variable {v}"),
        None => "The provider block".to_string(),
    }
}

/// Served without TLS (`--debug`, or Terraform's `TF_DISABLE_PLUGIN_TLS`),
/// the provider can be configured by any process on the machine. It then
/// talks only to the endpoints the environment names: otherwise a local
/// process could point `authority_host` at itself and receive the client
/// secret or OIDC token from the environment.
pub fn check_debug_endpoints(config: &Settings, env: &dyn Fn(&str) -> Option<String>) -> Result<(), Diagnostics> {
    let mut empty: std::collections::BTreeMap<String, Value> =
        SETTINGS.iter().map(|s| (s.name.to_string(), Value::Null)).collect();
    empty.insert("environment".into(), Value::string(&config.environment));
    let from_env = resolve(&Value::Object(empty), env)?;
    let mut diags = Diagnostics::new();
    for (name, configured, expected) in [
        ("resource_manager_endpoint", &config.resource_manager_endpoint, &from_env.resource_manager_endpoint),
        ("authority_host", &config.authority_host, &from_env.authority_host),
    ] {
        if configured.trim_end_matches('/') != expected.trim_end_matches('/') {
            diags.push(
                Diagnostic::error(
                    format!("{name} cannot be changed in debug mode"),
                    format!(
                        "This provider is served without TLS (--debug), so any process on this machine can \
                         configure it; it only uses the {name} of its environment ({expected}), never {configured:?} \
                         from a provider block. Set ARM_{} in the provider's environment instead.",
                        name.to_ascii_uppercase()
                    ),
                )
                .at(AttributePath::root(name)),
            );
        }
    }
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, Value)]) -> Value {
        let mut m: std::collections::BTreeMap<String, Value> =
            SETTINGS.iter().map(|s| (s.name.to_string(), Value::Null)).collect();
        for (k, v) in pairs {
            m.insert(k.to_string(), v.clone());
        }
        Value::Object(m)
    }

    #[test]
    fn empty_block_and_no_environment_is_fine() {
        let c = resolve(&config(&[]), &|_| None).expect("resolves");
        assert!(c.use_cli);
        assert_eq!(c.environment, "public");
        assert_eq!(c.resource_manager_endpoint, "https://management.azure.com/");
    }

    #[test]
    fn environment_variables_fill_in_and_config_wins() {
        let env = |k: &str| match k {
            "ARM_SUBSCRIPTION_ID" => Some("sub-from-env".to_string()),
            "TFC_WORKLOAD_IDENTITY_TOKEN" => Some("tfc-token".to_string()),
            "ARM_USE_CLI" => Some("false".to_string()),
            "ARM_ENVIRONMENT" => Some("China".to_string()),
            _ => None,
        };
        let c = resolve(&config(&[("subscription_id", Value::string("sub-from-config"))]), &env).expect("resolves");
        assert_eq!(c.subscription_id.as_deref(), Some("sub-from-config"));
        assert_eq!(c.oidc_token.as_ref().map(|t| t.expose().as_str()), Some("tfc-token"));
        assert!(!c.use_cli);
        assert_eq!(c.resource_manager_endpoint, "https://management.chinacloudapi.cn/");
    }

    #[test]
    fn plain_http_endpoints_are_refused() {
        let err = resolve(&config(&[("resource_manager_endpoint", Value::string("http://127.0.0.1:1"))]), &|_| None)
            .expect_err("refused");
        assert!(err.iter().any(|d| d.path == Some(AttributePath::root("resource_manager_endpoint"))));
    }

    #[test]
    fn errors_name_the_environment_variable_a_value_came_from() {
        let env = |k: &str| match k {
            "ARM_RESOURCE_MANAGER_ENDPOINT" => Some("https://".to_string()),
            "ARM_AUTHORITY_HOST" => Some("http://login.example/".to_string()),
            "ARM_USE_MSI" => Some("maybe".to_string()),
            "ARM_ENVIRONMENT" => Some("mars".to_string()),
            _ => None,
        };
        let err = resolve(&config(&[]), &env).expect_err("refused");
        for (attribute, var) in [
            ("resource_manager_endpoint", "ARM_RESOURCE_MANAGER_ENDPOINT"),
            ("authority_host", "ARM_AUTHORITY_HOST"),
            ("use_msi", "ARM_USE_MSI"),
            ("environment", "ARM_ENVIRONMENT"),
        ] {
            let d = err.iter().find(|d| d.path == Some(AttributePath::root(attribute))).expect(attribute);
            assert!(d.detail.contains(var), "{attribute}: {}", d.detail);
        }
        // A password in an endpoint is refused without being printed.
        let env = |k: &str| (k == "ARM_AUTHORITY_HOST").then(|| "https://user:hunter2@login.example/".to_string());
        let err = resolve(&config(&[]), &env).expect_err("refused");
        assert!(err.iter().all(|d| !d.detail.contains("hunter2") && !d.summary.contains("hunter2")), "{err:?}");
        assert!(err.iter().any(|d| d.detail.contains("ARM_AUTHORITY_HOST")), "{err:?}");
        // From the block, the block is named.
        let err = resolve(&config(&[("resource_manager_endpoint", Value::string("https://a b"))]), &|_| None)
            .expect_err("refused");
        assert!(err.iter().any(|d| d.detail.starts_with("The provider block gives")), "{err:?}");
    }

    #[test]
    fn debug_mode_keeps_the_environments_endpoints() {
        let env = |k: &str| match k {
            "ARM_AUTHORITY_HOST" => Some("https://login.example.com/".to_string()),
            _ => None,
        };
        let with = |pairs: &[(&str, Value)]| resolve(&config(pairs), &env).expect("resolves");
        assert!(check_debug_endpoints(&with(&[]), &env).is_ok());
        let evil = with(&[("authority_host", Value::string("https://evil.example/"))]);
        let err = check_debug_endpoints(&evil, &env).expect_err("refused");
        assert!(err.iter().any(|d| d.path == Some(AttributePath::root("authority_host"))));
        let local = with(&[("resource_manager_endpoint", Value::string("https://localhost:8443"))]);
        assert!(check_debug_endpoints(&local, &env).is_err(), "loopback is no exception");
        let same = with(&[("authority_host", Value::string("https://login.example.com"))]);
        assert!(check_debug_endpoints(&same, &env).is_ok(), "the environment's own, spelled otherwise");
    }

    /// Every provider setting is documented in docs/index.md.
    #[test]
    fn every_provider_setting_is_documented() {
        let file = format!("{}/docs/index.md", env!("CARGO_MANIFEST_DIR"));
        let doc = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
        for a in &schema().block.attributes {
            assert!(doc.contains(&format!("`{}`", a.name)), "{file} does not document `{}`", a.name);
        }
    }

    #[test]
    fn secrets_do_not_print() {
        let c = resolve(&config(&[("client_secret", Value::string("hunter2"))]), &|_| None).expect("resolves");
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
