//! Chooses how to authenticate, in azurerm's order — client secret, OIDC
//! client assertion, managed identity, Azure CLI — and builds that
//! credential on the provider's one HTTP client. Tokens are cached in memory
//! by azure_identity and refreshed before they expire.

use std::sync::Arc;

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::{Secret, TokenCredential};
use azure_core::http::{ClientMethodOptions, ClientOptions, RetryOptions, Transport};
use azure_identity::{
    AzureCliCredential, AzureCliCredentialOptions, ClientAssertion, ClientAssertionCredential,
    ClientAssertionCredentialOptions, ClientSecretCredential, ClientSecretCredentialOptions, ManagedIdentityCredential,
    ManagedIdentityCredentialOptions, UserAssignedId,
};

use super::error::ArmError;
use super::settings::Settings;
use crate::log::Sensitive;

/// Which way of authenticating was chosen, for logs and messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    ClientSecret,
    Oidc,
    ManagedIdentity,
    AzureCli,
}

/// Picks the first method the configuration supports; the error lists every
/// method and what it lacked.
pub fn choose(cfg: &Settings) -> Result<Method, ArmError> {
    let mut tried = Vec::new();
    let has_ids = cfg.tenant_id.is_some() && cfg.client_id.is_some();
    if cfg.client_secret.is_some() {
        if has_ids {
            return Ok(Method::ClientSecret);
        }
        tried.push("client secret: client_secret is set, but tenant_id and client_id (ARM_TENANT_ID, ARM_CLIENT_ID) are also needed");
    } else {
        tried.push("client secret: no client_secret (ARM_CLIENT_SECRET)");
    }
    let has_oidc_token = cfg.oidc_token.is_some() || cfg.oidc_token_file_path.is_some();
    if cfg.use_oidc {
        if has_ids && has_oidc_token {
            return Ok(Method::Oidc);
        }
        tried.push("OIDC: use_oidc is set, but it needs tenant_id, client_id and a token (oidc_token, oidc_token_file_path, ARM_OIDC_TOKEN or TFC_WORKLOAD_IDENTITY_TOKEN)");
    } else {
        tried.push("OIDC: use_oidc (ARM_USE_OIDC) is not set");
    }
    if cfg.use_msi {
        return Ok(Method::ManagedIdentity);
    }
    tried.push("managed identity: use_msi (ARM_USE_MSI) is not set");
    if cfg.use_cli {
        return Ok(Method::AzureCli);
    }
    tried.push("Azure CLI: use_cli is false");
    Err(ArmError::Credential(format!(
        "no way to authenticate to Azure was configured. Tried, in order:\n  - {}",
        tried.join("\n  - ")
    )))
}

/// An OIDC token given directly, or read from a file at each request (the
/// file is rotated by the CI system that writes it).
#[derive(Debug)]
struct OidcAssertion {
    token: Option<Sensitive<String>>,
    file: Option<String>,
}

#[async_trait::async_trait]
impl ClientAssertion for OidcAssertion {
    async fn secret(&self, _: Option<ClientMethodOptions<'_>>) -> azure_core::Result<String> {
        if let Some(t) = &self.token {
            return Ok(t.expose().clone());
        }
        let path = self.file.as_deref().unwrap_or_default();
        match tokio::fs::read_to_string(path).await {
            Ok(s) => Ok(s.trim().to_string()),
            Err(e) => Err(azure_core::Error::with_message(
                azure_core::error::ErrorKind::Credential,
                format!("reading the OIDC token file {path}: {e}"),
            )),
        }
    }
}

fn client_options(http: &reqwest::Client, authority_host: &str) -> ClientOptions {
    let mut cloud = CustomConfiguration::default();
    cloud.authority_host = authority_host.to_string();
    ClientOptions {
        transport: Some(Transport::new(Arc::new(http.clone()))),
        cloud: Some(Arc::new(CloudConfiguration::Custom(cloud))),
        // Our own pipeline retries ARM calls; a token request that fails is
        // reported at once rather than after azure_core's minute of retries,
        // which also hides the cause (see the research in docs/design.md).
        retry: RetryOptions::none(),
        ..Default::default()
    }
}

fn identity_error(what: &str, e: azure_core::Error) -> ArmError {
    ArmError::Credential(format!("{what}: {e}"))
}

/// Builds the credential for `method`.
pub fn build(method: Method, cfg: &Settings, http: &reqwest::Client) -> Result<Arc<dyn TokenCredential>, ArmError> {
    let opts = client_options(http, &cfg.authority_host);
    let tenant = cfg.tenant_id.clone().unwrap_or_default();
    let client_id = cfg.client_id.clone().unwrap_or_default();
    Ok(match method {
        Method::ClientSecret => {
            let secret = cfg.client_secret.as_ref().map(|s| s.expose().clone()).unwrap_or_default();
            ClientSecretCredential::new(
                &tenant,
                client_id,
                Secret::new(secret),
                Some(ClientSecretCredentialOptions { client_options: opts }),
            )
            .map_err(|e| identity_error("setting up the client secret credential", e))?
        }
        Method::Oidc => {
            let assertion = OidcAssertion { token: cfg.oidc_token.clone(), file: cfg.oidc_token_file_path.clone() };
            ClientAssertionCredential::new(
                tenant,
                client_id,
                assertion,
                Some(ClientAssertionCredentialOptions { client_options: opts }),
            )
            .map_err(|e| identity_error("setting up the OIDC credential", e))?
        }
        Method::ManagedIdentity => ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
            user_assigned_id: cfg.client_id.clone().map(UserAssignedId::ClientId),
            client_options: opts,
        }))
        .map_err(|e| identity_error("setting up the managed identity credential", e))?,
        Method::AzureCli => AzureCliCredential::new(Some(AzureCliCredentialOptions {
            tenant_id: cfg.tenant_id.clone(),
            subscription: cfg.subscription_id.clone(),
            ..Default::default()
        }))
        .map_err(|e| identity_error("setting up the Azure CLI credential", e))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> Settings {
        Settings { use_cli: true, ..Default::default() }
    }

    #[test]
    fn azurerm_order() {
        let mut c = cfg();
        assert_eq!(choose(&c).ok(), Some(Method::AzureCli));
        c.use_msi = true;
        assert_eq!(choose(&c).ok(), Some(Method::ManagedIdentity));
        c.use_oidc = true;
        c.tenant_id = Some("t".into());
        c.client_id = Some("c".into());
        c.oidc_token = Some(Sensitive::new("jwt".into()));
        assert_eq!(choose(&c).ok(), Some(Method::Oidc));
        c.client_secret = Some(Sensitive::new("s".into()));
        assert_eq!(choose(&c).ok(), Some(Method::ClientSecret));
    }

    #[test]
    fn nothing_configured_lists_what_was_tried() {
        let c = Settings { use_cli: false, ..Default::default() };
        let e = choose(&c).expect_err("no method").to_string();
        for m in ["client secret", "OIDC", "managed identity", "Azure CLI"] {
            assert!(e.contains(m), "{e}");
        }
    }
}
