//! Ephemeral resource `aksudr_cluster_credentials` (Terraform 1.10+): a
//! cluster's kubeconfig, fetched while Terraform runs and never written to
//! state or plan, to configure the kubernetes or helm provider. Older
//! Terraform does not see it; `aksudr_cluster`'s `kube_config*` attributes
//! remain for them, at the price of the kubeconfig in state.

use async_trait::async_trait;
use base64::Engine as _;

use super::arm_error;
use super::cluster::kubeconfig_field;
use crate::arm::ids::ManagedClusterId;
use crate::arm::AKS_API_VERSION as AKS_API;
use crate::context::ProviderData;
use crate::tf::data_source::{EphemeralResource, Opened};
use crate::tf::diag::{AttributePath, Diagnostic, Diagnostics};
use crate::tf::model::{Model, Val};
use crate::tf::schema::Schema;
use crate::tf::value::Value;

pub const TYPE_NAME: &str = "aksudr_cluster_credentials";

/// How long fetching the credentials may take.
const OPEN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

fn check_cluster_id(s: &str) -> Result<(), String> {
    ManagedClusterId::parse(s).map(|_| ()).map_err(|e| e.to_string())
}

/// The ephemeral resource's schema and value.
#[derive(Clone, Debug, Default, PartialEq, Model)]
#[tf(description = "A cluster's kubeconfig and its parts, fetched while Terraform runs and never stored in state or \
     plan (Terraform 1.10 and later). Use it to configure the kubernetes or helm provider.")]
struct CredentialsModel {
    #[tf(
        description = "The ARM ID of the cluster (`aksudr_cluster.<name>.id`).",
        build = required().check(check_cluster_id)
    )]
    cluster_id: Val<String>,
    #[tf(
        description = "Fetch the cluster admin's credentials (listClusterAdminCredential) instead of the cluster \
                       user's (listClusterUserCredential). Default false. Clusters with local accounts disabled \
                       refuse it.",
        build = optional()
    )]
    admin: Val<bool>,
    #[tf(description = "The kubeconfig. Sensitive.", build = computed().sensitive())]
    kube_config_raw: Val<String>,
    #[tf(description = "The API server's URL.", build = computed())]
    host: Val<String>,
    #[tf(description = "The cluster CA certificate, base64-encoded PEM. Sensitive.", build = computed().sensitive())]
    cluster_ca_certificate: Val<String>,
    #[tf(
        description = "The client certificate, base64-encoded PEM; null when the kubeconfig has none. Sensitive.",
        build = computed().sensitive()
    )]
    client_certificate: Val<String>,
    #[tf(
        description = "The client key, base64-encoded PEM; null when the kubeconfig has none. Sensitive.",
        build = computed().sensitive()
    )]
    client_key: Val<String>,
    #[tf(description = "The bearer token; null when the kubeconfig has none. Sensitive.", build = computed().sensitive())]
    token: Val<String>,
}

pub struct ClusterCredentials {
    schema: Schema,
}

impl ClusterCredentials {
    pub fn new() -> Self {
        ClusterCredentials { schema: Schema::new(0, CredentialsModel::block()) }
    }

    /// The result for a cluster that does not exist yet: the arguments as
    /// configured, every credential unknown.
    fn unknown_until_apply(config: CredentialsModel) -> Value {
        CredentialsModel {
            kube_config_raw: Val::Unknown,
            host: Val::Unknown,
            cluster_ca_certificate: Val::Unknown,
            client_certificate: Val::Unknown,
            client_key: Val::Unknown,
            token: Val::Unknown,
            ..config
        }
        .to_value()
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
        let config = CredentialsModel::from_value(config)
            .map_err(|e| Diagnostics::from(e.diagnostic("Unexpected configuration")))?;
        let raw_id = config.cluster_id.known().cloned().unwrap_or_default();
        let id = ManagedClusterId::parse_insensitive(&raw_id).map_err(|e| {
            Diagnostics::from(
                Diagnostic::error("Invalid cluster ID", e.to_string()).at(AttributePath::root("cluster_id")),
            )
        })?;
        let admin = config.admin.known().copied().unwrap_or(false);
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
                return Ok(Opened { result: Self::unknown_until_apply(config), private: None });
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
        let field = |key: &str| kubeconfig_field(&raw, key).map_or(Val::Null, Val::Known);
        let result = CredentialsModel {
            host: field("server:"),
            cluster_ca_certificate: field("certificate-authority-data:"),
            client_certificate: field("client-certificate-data:"),
            client_key: field("client-key-data:"),
            token: field("token:"),
            kube_config_raw: Val::Known(raw),
            ..config
        }
        .to_value();
        Ok(Opened { result, private: None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tf::model::check_model;

    #[test]
    fn the_model_is_the_schema() {
        assert_eq!(check_model::<CredentialsModel>(), Ok(()));
    }
}
