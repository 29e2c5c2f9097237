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

impl Method {
    /// The method as a user configures it, for messages.
    fn describe(self) -> &'static str {
        match self {
            Method::ClientSecret => "client secret (client_secret / ARM_CLIENT_SECRET)",
            Method::Oidc => "OIDC (use_oidc / ARM_USE_OIDC)",
            Method::ManagedIdentity => "managed identity (use_msi / ARM_USE_MSI)",
            Method::AzureCli => "Azure CLI (use_cli / ARM_USE_CLI)",
        }
    }

    /// What to check when the identity platform refuses this method.
    fn refused_hint(self) -> &'static str {
        match self {
            Method::ClientSecret => {
                "Check client_secret (ARM_CLIENT_SECRET), and that it belongs to client_id (ARM_CLIENT_ID) in \
                 tenant_id (ARM_TENANT_ID) and has not expired."
            }
            Method::Oidc => {
                "Check the OIDC token (oidc_token / ARM_OIDC_TOKEN / TFC_WORKLOAD_IDENTITY_TOKEN, or \
                 oidc_token_file_path / ARM_OIDC_TOKEN_FILE_PATH), and that client_id (ARM_CLIENT_ID) in tenant_id \
                 (ARM_TENANT_ID) has a federated credential for its issuer and subject."
            }
            Method::ManagedIdentity => {
                "Check that this machine has a managed identity, and for a user-assigned one that client_id \
                 (ARM_CLIENT_ID) names it."
            }
            Method::AzureCli => {
                "Run `az login` (and `az account set`), or configure another method: client_secret \
                 (ARM_CLIENT_SECRET), use_oidc (ARM_USE_OIDC) or use_msi (ARM_USE_MSI)."
            }
        }
    }
}

/// Methods the configuration asked for but left incomplete, so that a later
/// method was used: said when that one fails, since the user meant these.
pub fn incomplete_requests(cfg: &Settings) -> Vec<&'static str> {
    let has_ids = cfg.tenant_id.is_some() && cfg.client_id.is_some();
    let mut out = Vec::new();
    if cfg.client_secret.is_some() && !has_ids {
        out.push("client_secret is set, but tenant_id and client_id (ARM_TENANT_ID, ARM_CLIENT_ID) are also needed");
    }
    if cfg.use_oidc && !(has_ids && (cfg.oidc_token.is_some() || cfg.oidc_token_file_path.is_some())) {
        out.push(
            "use_oidc (ARM_USE_OIDC) is set, but OIDC needs tenant_id, client_id and a token (oidc_token, \
             oidc_token_file_path, ARM_OIDC_TOKEN, ARM_OIDC_TOKEN_FILE_PATH or TFC_WORKLOAD_IDENTITY_TOKEN)",
        );
    }
    out
}

/// A failed token request as an error that names the method, the cause
/// chain (host, `connection refused`, the TLS verdict, the AADSTS code) and
/// what to fix; transient when the login endpoint was unreachable or failing.
pub fn token_error(method: Method, cfg: &Settings, e: &(dyn std::error::Error + 'static)) -> ArmError {
    let chain = super::error::cause_chain(e);
    // The managed identity endpoint and `az` do not use the authority host.
    let uses_authority = matches!(method, Method::ClientSecret | Method::Oidc);
    let mut message = if uses_authority {
        format!("{}: no token from {}: {chain}", method.describe(), cfg.authority_host)
    } else {
        format!("{}: no token: {chain}", method.describe())
    };
    let transient = is_transient(e, &chain);
    if transient && uses_authority {
        message.push_str(&format!(
            "\nThe login endpoint could not be reached or failed; check authority_host (ARM_AUTHORITY_HOST, now {}) \
             and the network, or try again.",
            cfg.authority_host
        ));
    } else if transient {
        message.push_str("\nThe identity endpoint could not be reached or failed; try again.");
    } else if chain.contains(UNTRUSTED_CERTIFICATE) {
        message.push_str(
            "\nThe login endpoint's certificate is not trusted here: point SSL_CERT_FILE or SSL_CERT_DIR at the CA \
             that issued it (a TLS-inspecting proxy's, for example), or check authority_host (ARM_AUTHORITY_HOST).",
        );
    } else {
        message.push('\n');
        message.push_str(method.refused_hint());
    }
    let incomplete = incomplete_requests(cfg);
    if !incomplete.is_empty() {
        message.push_str(&format!(
            "\n{} was tried because of what the configuration lacks:\n  - {}",
            method.describe(),
            incomplete.join("\n  - ")
        ));
    }
    if transient {
        ArmError::CredentialUnavailable(message)
    } else {
        ArmError::Credential(message)
    }
}

/// How rustls says it does not trust the server's certificate.
const UNTRUSTED_CERTIFICATE: &str = "invalid peer certificate";

/// Whether a token request failed in a way a retry may fix: no answer
/// (connection refused or reset, a timeout) or a 5xx/429 answer. A 4xx
/// answer (AADSTS codes), a certificate the client does not trust and a
/// configuration error are not.
fn is_transient(e: &(dyn std::error::Error + 'static), chain: &str) -> bool {
    // rustls's verdict on the server's certificate (`invalid peer
    // certificate: UnknownIssuer`) reaches us only as text through reqwest
    // and hyper; a wrong CA does not fix itself.
    if chain.contains(UNTRUSTED_CERTIFICATE) {
        return false;
    }
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cur {
        if let Some(a) = c.downcast_ref::<azure_core::Error>() {
            if let Some(status) = a.http_status() {
                let status = u16::from(status);
                return status >= 500 || status == 429;
            }
            // azure_identity parses the login endpoint's error body before
            // it looks at the status: a gateway's HTML 502 or an empty 503
            // ends up as a decoding error without one. No verdict on the
            // credential, then.
            if matches!(a.kind(), azure_core::error::ErrorKind::DataConversion) {
                return true;
            }
        }
        if let Some(r) = c.downcast_ref::<reqwest::Error>() {
            if r.is_connect() || r.is_timeout() {
                return true;
            }
        }
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as K;
            if matches!(
                io.kind(),
                K::ConnectionRefused | K::ConnectionReset | K::ConnectionAborted | K::TimedOut | K::UnexpectedEof
            ) {
                return true;
            }
        }
        cur = c.source();
    }
    false
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
    fn token_failures_name_the_method_and_are_classified() {
        let cfg = Settings {
            authority_host: "https://login.example/".into(),
            use_oidc: true,
            tenant_id: Some("t".into()),
            client_id: Some("c".into()),
            ..Default::default()
        };
        // An answer refusing the credential: not transient.
        let refused = azure_core::Error::with_error(
            azure_core::error::ErrorKind::Credential,
            azure_core::Error::new(
                azure_core::error::ErrorKind::HttpResponse {
                    status: azure_core::http::StatusCode::Unauthorized,
                    error_code: Some("7000215".into()),
                    raw_response: None,
                },
                "AADSTS7000215: Invalid client secret provided.",
            ),
            "ClientSecretCredential authentication failed. AADSTS7000215: Invalid client secret provided.",
        );
        let e = token_error(Method::ClientSecret, &cfg, &refused);
        assert!(matches!(e, ArmError::Credential(_)), "{e:?}");
        let text = e.to_string();
        for needle in ["ARM_CLIENT_SECRET", "AADSTS7000215", "https://login.example/"] {
            assert!(text.contains(needle), "{needle}: {text}");
        }
        assert_eq!(text.matches("Invalid client secret provided").count(), 1, "said once: {text}");
        // The same from a login endpoint in trouble: transient.
        let busy = azure_core::Error::with_error(
            azure_core::error::ErrorKind::Credential,
            azure_core::Error::new(
                azure_core::error::ErrorKind::HttpResponse {
                    status: azure_core::http::StatusCode::ServiceUnavailable,
                    error_code: None,
                    raw_response: None,
                },
                "busy",
            ),
            "ClientSecretCredential authentication failed. busy",
        );
        assert!(token_error(Method::ClientSecret, &cfg, &busy).is_transient());
        // A body the identity library could not decode (a gateway's page).
        let garbled = azure_core::Error::with_error(
            azure_core::error::ErrorKind::Credential,
            azure_core::Error::with_message(azure_core::error::ErrorKind::DataConversion, "expected value at line 1"),
            "ClientSecretCredential authentication failed. expected value at line 1",
        );
        assert!(token_error(Method::ClientSecret, &cfg, &garbled).is_transient());
        // Connection refused, under azure_core's wrapping.
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused (os error 111)");
        let refused_conn =
            azure_core::Error::with_error(azure_core::error::ErrorKind::Io, io, "failed to execute request");
        let e = token_error(Method::Oidc, &cfg, &refused_conn);
        assert!(e.is_transient(), "{e:?}");
        let text = e.to_string();
        assert!(text.contains("Connection refused") && text.contains("ARM_AUTHORITY_HOST"), "{text}");
        let e = token_error(Method::AzureCli, &cfg, &refused_conn);
        let text = e.to_string();
        assert!(!text.contains("ARM_AUTHORITY_HOST"), "az does not use it: {text}");
        // use_oidc was set without a token, so the CLI was tried: both are said.
        assert!(text.contains("Azure CLI") && text.contains("use_oidc (ARM_USE_OIDC) is set"), "{text}");
        // An untrusted certificate is no passing trouble.
        let tls = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "invalid peer certificate: UnknownIssuer");
        let e = token_error(Method::ClientSecret, &cfg, &tls);
        assert!(!e.is_transient());
        assert!(e.to_string().contains("SSL_CERT_FILE") && e.to_string().contains("UnknownIssuer"), "{e}");
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
