//! Ephemeral resource `aksudr_cluster_credentials` (Terraform 1.10+): a
//! cluster's kubeconfig, fetched while Terraform runs and never written to
//! state or plan, to configure the kubernetes or helm provider. Older
//! Terraform does not see it; `aksudr_cluster`'s `kube_config*` attributes
//! remain for them, at the price of the kubeconfig in state.

use async_trait::async_trait;
use base64::Engine as _;

use super::cluster::kubeconfig_field;
use super::{arm_error, object, str_attr};
use crate::arm::ids::ManagedClusterId;
use crate::arm::AKS_API_VERSION as AKS_API;
use crate::context::ProviderData;
use crate::tf::data_source::{EphemeralResource, Opened};
use crate::tf::diag::{AttributePath, Diagnostic, Diagnostics};
use crate::tf::schema::{Attribute, Block, Schema};
use crate::tf::value::Value;

pub const TYPE_NAME: &str = "aksudr_cluster_credentials";

/// How long fetching the credentials may take.
const OPEN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

fn check_cluster_id(s: &str) -> Result<(), String> {
    ManagedClusterId::parse(s).map(|_| ()).map_err(|e| e.to_string())
}

pub struct ClusterCredentials {
    schema: Schema,
}

impl ClusterCredentials {
    pub fn new() -> Self {
        let secret = |name: &'static str, what: &str| Attribute::string(name, what).computed().sensitive();
        let block = Block::new(
            "A cluster's kubeconfig and its parts, fetched while Terraform runs and never stored in state or plan \
             (Terraform 1.10 and later). Use it to configure the kubernetes or helm provider.",
        )
        .attr(
            Attribute::string("cluster_id", "The ARM ID of the cluster (`aksudr_cluster.<name>.id`).")
                .required()
                .check(check_cluster_id),
        )
        .attr(
            Attribute::bool(
                "admin",
                "Fetch the cluster admin's credentials (listClusterAdminCredential) instead of the cluster user's \
             (listClusterUserCredential). Default false. Clusters with local accounts disabled refuse it.",
            )
            .optional(),
        )
        .attr(secret("kube_config_raw", "The kubeconfig. Sensitive."))
        .attr(Attribute::string("host", "The API server's URL.").computed())
        .attr(secret("cluster_ca_certificate", "The cluster CA certificate, base64-encoded PEM. Sensitive."))
        .attr(secret(
            "client_certificate",
            "The client certificate, base64-encoded PEM; null when the kubeconfig has none. Sensitive.",
        ))
        .attr(secret("client_key", "The client key, base64-encoded PEM; null when the kubeconfig has none. Sensitive."))
        .attr(secret("token", "The bearer token; null when the kubeconfig has none. Sensitive."));
        ClusterCredentials { schema: Schema::new(0, block) }
    }
}

impl ClusterCredentials {
    /// The result for a cluster that does not exist yet: the arguments as
    /// configured, every credential unknown.
    fn unknown_until_apply(&self, config: &Value, raw_id: &str) -> Value {
        object([
            ("cluster_id", Value::string(raw_id)),
            ("admin", config.attr("admin").cloned().unwrap_or(Value::Null)),
            ("host", Value::Unknown),
            ("cluster_ca_certificate", Value::Unknown),
            ("client_certificate", Value::Unknown),
            ("client_key", Value::Unknown),
            ("token", Value::Unknown),
            ("kube_config_raw", Value::Unknown),
        ])
    }
}

impl Default for ClusterCredentials {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl EphemeralResource<ProviderData> for ClusterCredentials {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }

    async fn open(&self, data: &ProviderData, config: &Value) -> Result<Opened, Diagnostics> {
        let raw_id = str_attr(config, "cluster_id").unwrap_or_default();
        let id = ManagedClusterId::parse_insensitive(raw_id).map_err(|e| {
            Diagnostics::from(
                Diagnostic::error("Invalid cluster ID", e.to_string()).at(AttributePath::root("cluster_id")),
            )
        })?;
        let admin = config.attr("admin").and_then(Value::as_bool).unwrap_or(false);
        let action_name = if admin { "listClusterAdminCredential" } else { "listClusterUserCredential" };
        let action = format!("listing the credentials of AKS cluster {}/{}", id.resource_group, id.name);
        let until = tokio::time::Instant::now() + OPEN_TIMEOUT;
        let answer = match data.arm.post(&format!("{id}/{action_name}"), AKS_API, until).await {
            Ok(a) => a,
            // A cluster this very plan creates: Terraform opens the resource
            // while planning (its `cluster_id` is known at plan), before the
            // cluster exists. Its credentials are unknown until apply, where
            // Terraform opens it again once the cluster is created;
            // Terraform accepts unknown computed values in an ephemeral
            // result as it does in a plan (objchange.AssertPlanValid).
            // Only while planning: at apply a cluster that is not there is
            // an error, never credentials left unknown for the consumer.
            Err(e)
                if e.is_not_found()
                    && !data.activity.applying()
                    && data.projection().planned_cluster(&id.to_string()).is_some() =>
            {
                crate::log::info!(
                    "cluster credentials unknown until apply: this plan creates the cluster",
                    cluster = id.to_string()
                );
                return Ok(Opened { result: self.unknown_until_apply(config, raw_id), private: None });
            }
            Err(e) => return Err(arm_error(&action, e)),
        };
        let encoded = answer.pointer("/kubeconfigs/0/value").and_then(|v| v.as_str()).unwrap_or_default();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .filter(|k| !k.trim().is_empty())
            .ok_or_else(|| {
                Diagnostics::from(Diagnostic::error(
                    "No kubeconfig from Azure",
                    format!("While {action}: the answer held no kubeconfig."),
                ))
            })?;
        let field = |key: &str| kubeconfig_field(&raw, key).map(Value::String).unwrap_or(Value::Null);
        let result = object([
            ("cluster_id", Value::string(raw_id)),
            ("admin", config.attr("admin").cloned().unwrap_or(Value::Null)),
            ("host", field("server:")),
            ("cluster_ca_certificate", field("certificate-authority-data:")),
            ("client_certificate", field("client-certificate-data:")),
            ("client_key", field("client-key-data:")),
            ("token", field("token:")),
            ("kube_config_raw", Value::String(raw)),
        ]);
        Ok(Opened { result, private: None })
    }
}
