//! Data source `aksudr_egress_requirements`: the network and application
//! rules that Microsoft documents for AKS behind a firewall, as lists that
//! map onto firewall policy rule collections. No Azure call: the table below
//! is the data, each entry citing the section of the article it comes from.

use async_trait::async_trait;

use super::{normalize_location, object, str_attr};
use crate::context::ProviderData;
use crate::tf::data_source::DataSource;
use crate::tf::diag::Diagnostics;
use crate::tf::schema::{Attribute, Block, Schema};
use crate::tf::value::{Type, Value};

pub const TYPE_NAME: &str = "aksudr_egress_requirements";

/// The article the table follows, and when it was last compared with it.
pub const ARTICLE: &str = "https://learn.microsoft.com/azure/aks/outbound-rules-control-egress";
/// The article's `ms.date` when last checked.
pub const ARTICLE_DATE: &str = "2026-06-18";
/// When the table was last compared with the article.
pub const CHECKED_ON: &str = "2026-12-04";

/// When a rule applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum When {
    /// Every cluster.
    Always,
    /// Clusters with a public API server only.
    PublicOnly,
    /// With this add-on or feature (a value of `addons`).
    With(&'static str),
}

/// One documented rule; `<location>` in a destination is the cluster's
/// region.
struct Rule {
    name: &'static str,
    /// `Tcp`/`Udp` for network rules; `Https`/`Http` for application rules.
    protocol: &'static str,
    port: u16,
    /// Network rules: service tags; application rules: FQDNs.
    addresses: &'static [&'static str],
    /// Network rules by FQDN (Azure Firewall needs DNS proxy for these).
    fqdns: &'static [&'static str],
    when: When,
    /// The article's section heading.
    section: &'static str,
}

const NETWORK: &str = "Azure Global required network rules";
const FQDN: &str = "Azure Global required FQDN / application rules";

const NETWORK_RULES: &[Rule] = &[
    Rule { name: "aks-tunnel-udp", protocol: "UDP", port: 1194, addresses: &["AzureCloud.<location>"], fqdns: &[], when: When::PublicOnly, section: NETWORK },
    Rule { name: "aks-tunnel-tcp", protocol: "TCP", port: 9000, addresses: &["AzureCloud.<location>"], fqdns: &[], when: When::PublicOnly, section: NETWORK },
    Rule { name: "aks-ntp", protocol: "UDP", port: 123, addresses: &[], fqdns: &["ntp.ubuntu.com"], when: When::Always, section: NETWORK },
    Rule {
        name: "azure-monitor",
        protocol: "TCP",
        port: 443,
        addresses: &["AzureMonitor"],
        fqdns: &[],
        when: When::With("azure_monitor"),
        section: "Azure Monitor - Managed Prometheus, Container Insights, and Azure Monitor Application Insights Autoinstrumentation: Required network rules",
    },
];

const APPLICATION_RULES: &[Rule] = &[
    Rule { name: "aks-api-server", protocol: "Https", port: 443, addresses: &["*.hcp.<location>.azmk8s.io"], fqdns: &[], when: When::PublicOnly, section: FQDN },
    Rule {
        name: "aks-required",
        protocol: "Https",
        port: 443,
        addresses: &[
            "mcr.microsoft.com",
            "*.data.mcr.microsoft.com",
            "mcr-0001.mcr-msedge.net",
            "management.azure.com",
            "login.microsoftonline.com",
            "packages.microsoft.com",
            "acs-mirror.azureedge.net",
            "packages.aks.azure.com",
        ],
        fqdns: &[],
        when: When::Always,
        section: FQDN,
    },
    Rule {
        name: "os-updates-http",
        protocol: "Http",
        port: 80,
        addresses: &["security.ubuntu.com", "azure.archive.ubuntu.com", "changelogs.ubuntu.com"],
        fqdns: &[],
        when: When::With("os_updates"),
        section: "Optional recommended FQDN / application rules for AKS clusters",
    },
    Rule {
        name: "os-updates-https",
        protocol: "Https",
        port: 443,
        addresses: &["snapshot.ubuntu.com"],
        fqdns: &[],
        when: When::With("os_updates"),
        section: "Optional recommended FQDN / application rules for AKS clusters",
    },
    Rule {
        name: "gpu",
        protocol: "Https",
        port: 443,
        addresses: &["nvidia.github.io", "us.download.nvidia.com", "download.docker.com"],
        fqdns: &[],
        when: When::With("gpu"),
        section: "GPU enabled AKS clusters required FQDN / application rules",
    },
    Rule {
        name: "windows-https",
        protocol: "Https",
        port: 443,
        addresses: &["onegetcdn.azureedge.net", "go.microsoft.com"],
        fqdns: &[],
        when: When::With("windows_node_pools"),
        section: "Windows Server based node pools required FQDN / application rules",
    },
    Rule {
        name: "windows-http",
        protocol: "Http",
        port: 80,
        addresses: &["*.mp.microsoft.com", "www.msftconnecttest.com", "ctldl.windowsupdate.com"],
        fqdns: &[],
        when: When::With("windows_node_pools"),
        section: "Windows Server based node pools required FQDN / application rules",
    },
    Rule {
        name: "workload-identity",
        protocol: "Https",
        port: 443,
        addresses: &["login.microsoftonline.com"],
        fqdns: &[],
        when: When::With("workload_identity"),
        section: "Workload identity required FQDN / application rules",
    },
    Rule {
        name: "defender",
        protocol: "Https",
        port: 443,
        addresses: &[
            "login.microsoftonline.com",
            "*.ods.opinsights.azure.com",
            "*.oms.opinsights.azure.com",
            "*.cloud.defender.microsoft.com",
        ],
        fqdns: &[],
        when: When::With("defender"),
        section: "Microsoft Defender for Containers required FQDN / application rules",
    },
    Rule {
        name: "key-vault-secrets-provider",
        protocol: "Https",
        port: 443,
        addresses: &["vault.azure.net"],
        fqdns: &[],
        when: When::With("key_vault_secrets_provider"),
        section: "Azure Key Vault provider for Secrets Store CSI Driver required FQDN / application rules",
    },
    Rule {
        name: "azure-monitor",
        protocol: "Https",
        port: 443,
        addresses: &[
            "*.ods.opinsights.azure.com",
            "*.oms.opinsights.azure.com",
            "dc.services.visualstudio.com",
            "*.in.applicationinsights.azure.com",
            "*.monitoring.azure.com",
            "login.microsoftonline.com",
            "global.handler.control.monitor.azure.com",
            "*.ingest.monitor.azure.com",
            "*.metrics.ingest.monitor.azure.com",
            "<location>.handler.control.monitor.azure.com",
        ],
        fqdns: &[],
        when: When::With("azure_monitor"),
        section: "Azure Monitor - Managed Prometheus, Container Insights, and Azure Monitor Application Insights Autoinstrumentation: Azure public cloud required FQDN / application rules",
    },
    Rule {
        name: "azure-policy",
        protocol: "Https",
        port: 443,
        addresses: &["data.policy.core.windows.net", "store.policy.core.windows.net", "dc.services.visualstudio.com"],
        fqdns: &[],
        when: When::With("azure_policy"),
        section: "Azure Policy required FQDN / application rules",
    },
    Rule {
        name: "cost-analysis",
        protocol: "Https",
        port: 443,
        addresses: &["management.azure.com", "login.microsoftonline.com"],
        fqdns: &[],
        when: When::With("cost_analysis"),
        section: "AKS cost analysis add-on required FQDN / application rules",
    },
    Rule {
        name: "cluster-extensions",
        protocol: "Https",
        port: 443,
        addresses: &[
            "<location>.dp.kubernetesconfiguration.azure.com",
            "mcr.microsoft.com",
            "*.data.mcr.microsoft.com",
            "arcmktplaceprod.azurecr.io",
            "arcmktplaceprod.centralindia.data.azurecr.io",
            "arcmktplaceprod.japaneast.data.azurecr.io",
            "arcmktplaceprod.westus2.data.azurecr.io",
            "arcmktplaceprod.westeurope.data.azurecr.io",
            "arcmktplaceprod.eastus.data.azurecr.io",
            "*.ingestion.msftcloudes.com",
            "*.microsoftmetrics.com",
            "marketplaceapi.microsoft.com",
        ],
        fqdns: &[],
        when: When::With("cluster_extensions"),
        section: "Cluster extensions required FQDN / application rules",
    },
];

/// The values `addons` accepts.
pub const ADDONS: &[&str] = &[
    "azure_monitor",
    "azure_policy",
    "cluster_extensions",
    "cost_analysis",
    "defender",
    "gpu",
    "key_vault_secrets_provider",
    "os_updates",
    "windows_node_pools",
    "workload_identity",
];

fn strings(items: impl IntoIterator<Item = String>) -> Value {
    Value::List(items.into_iter().map(Value::String).collect())
}

fn network_type() -> Type {
    let list = || Type::list(Type::String);
    Type::Object(
        [
            ("name", Type::String),
            ("protocols", list()),
            ("destination_ports", list()),
            ("destination_addresses", list()),
            ("destination_fqdns", list()),
            ("source", Type::String),
        ]
        .map(|(k, t)| (k.to_string(), t))
        .into(),
    )
}

fn application_type() -> Type {
    let protocol =
        Type::Object([("type", Type::String), ("port", Type::Number)].map(|(k, t)| (k.to_string(), t)).into());
    Type::Object(
        [
            ("name", Type::String),
            ("protocols", Type::list(protocol)),
            ("destination_fqdns", Type::list(Type::String)),
            ("source", Type::String),
        ]
        .map(|(k, t)| (k.to_string(), t))
        .into(),
    )
}

/// A region name: letters and digits once spaces are dropped (`West
/// Europe`, `westeurope`); it is written into FQDNs and service tags.
fn check_location(s: &str) -> Result<(), String> {
    let n = normalize_location(s);
    if n.is_empty() || !n.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()) {
        return Err(format!("{s:?} is not an Azure region name such as \"westeurope\" or \"West Europe\"."));
    }
    Ok(())
}

fn check_addon(s: &str) -> Result<(), String> {
    if ADDONS.contains(&s) {
        Ok(())
    } else {
        Err(format!("{s:?} is not a known add-on; use one of: {}.", ADDONS.join(", ")))
    }
}

pub struct EgressRequirementsData {
    schema: Schema,
}

impl EgressRequirementsData {
    pub fn new() -> Self {
        let block = Block::new(
            "The network and application (FQDN) rules that Microsoft documents for AKS clusters behind a firewall \
             (\"Outbound network and FQDN rules for AKS clusters\"), as lists that map onto firewall policy rule \
             collections. Reads nothing from Azure.",
        )
        .attr(
            Attribute::string("location", "The cluster's region, e.g. `westeurope` (fills `<location>` in the rules).")
                .required()
                .check(check_location),
        )
        .attr(
            Attribute::bool(
                "private_cluster",
                "Whether the API server is private: the node-to-API-server tunnel (UDP 1194, TCP 9000) and \
             `*.hcp.<location>.azmk8s.io` are then not needed. Default false.",
            )
            .optional(),
        )
        .attr(
            Attribute::of_type(
                "addons",
                Type::set(Type::String),
                "Add-ons and features whose rules to include: `azure_monitor`, `azure_policy`, `cluster_extensions`, \
                 `cost_analysis`, `defender`, `gpu`, `key_vault_secrets_provider`, `os_updates` (Ubuntu security \
                 updates, recommended), `windows_node_pools`, `workload_identity`.",
            )
            .optional()
            .check(check_addon),
        )
        .attr(
            Attribute::of_type(
                "network_rules",
                Type::list(network_type()),
                "Network rules: `name`, `protocols`, `destination_ports`, `destination_addresses` (service tags), \
                 `destination_fqdns` (Azure Firewall needs DNS proxy for these), `source` (the article's section).",
            )
            .computed(),
        )
        .attr(
            Attribute::of_type(
                "application_rules",
                Type::list(application_type()),
                "Application rules: `name`, `protocols` (`type`, `port`), `destination_fqdns`, `source`.",
            )
            .computed(),
        )
        .attr(
            Attribute::string_list(
                "fqdn_tags",
                "Azure Firewall FQDN tags that cover the required FQDNs: `AzureKubernetesService`.",
            )
            .computed(),
        )
        .attr(
            Attribute::string("documentation", "The article followed, its date, and when it was last checked.")
                .computed(),
        );
        EgressRequirementsData { schema: Schema::new(0, block) }
    }
}

impl Default for EgressRequirementsData {
    fn default() -> Self {
        Self::new()
    }
}

fn applies(rule: &Rule, private: bool, addons: &[&str]) -> bool {
    match rule.when {
        When::Always => true,
        When::PublicOnly => !private,
        When::With(addon) => addons.contains(&addon),
    }
}

fn source(rule: &Rule) -> Value {
    Value::String(format!("{ARTICLE} — {}", rule.section))
}

#[async_trait]
impl DataSource<ProviderData> for EgressRequirementsData {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }
    fn schema(&self) -> &Schema {
        &self.schema
    }

    async fn read(&self, _data: Option<&ProviderData>, config: &Value) -> Result<Value, Diagnostics> {
        let location = normalize_location(str_attr(config, "location").unwrap_or_default());
        let private = config.attr("private_cluster").and_then(Value::as_bool).unwrap_or(false);
        let addons: Vec<&str> = config
            .attr("addons")
            .and_then(Value::elements)
            .unwrap_or_default()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let at = |s: &str| s.replace("<location>", &location);
        let network: Vec<Value> = NETWORK_RULES
            .iter()
            .filter(|r| applies(r, private, &addons))
            .map(|r| {
                object([
                    ("name", Value::string(r.name)),
                    ("protocols", strings([r.protocol.to_string()])),
                    ("destination_ports", strings([r.port.to_string()])),
                    ("destination_addresses", strings(r.addresses.iter().map(|a| at(a)))),
                    ("destination_fqdns", strings(r.fqdns.iter().map(|a| at(a)))),
                    ("source", source(r)),
                ])
            })
            .collect();
        let application: Vec<Value> = APPLICATION_RULES
            .iter()
            .filter(|r| applies(r, private, &addons))
            .map(|r| {
                let protocol = object([("type", Value::string(r.protocol)), ("port", Value::int(i64::from(r.port)))]);
                object([
                    ("name", Value::string(r.name)),
                    ("protocols", Value::List(vec![protocol])),
                    ("destination_fqdns", strings(r.addresses.iter().map(|a| at(a)))),
                    ("source", source(r)),
                ])
            })
            .collect();
        Ok(object([
            ("location", config.attr("location").cloned().unwrap_or(Value::Null)),
            ("private_cluster", config.attr("private_cluster").cloned().unwrap_or(Value::Null)),
            ("addons", config.attr("addons").cloned().unwrap_or(Value::Null)),
            ("network_rules", Value::List(network)),
            ("application_rules", Value::List(application)),
            ("fqdn_tags", strings(["AzureKubernetesService".to_string()])),
            (
                "documentation",
                Value::String(format!("{ARTICLE} (ms.date {ARTICLE_DATE}), compared with this table on {CHECKED_ON}")),
            ),
        ]))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// docs/data-sources/egress_requirements.md lists every destination of
    /// the table, every add-on, and the dates: docs and output agree.
    #[test]
    fn the_docs_list_every_destination() {
        let file = format!("{}/docs/data-sources/egress_requirements.md", env!("CARGO_MANIFEST_DIR"));
        let doc = std::fs::read_to_string(&file).unwrap();
        for rule in NETWORK_RULES.iter().chain(APPLICATION_RULES) {
            for d in rule.addresses.iter().chain(rule.fqdns) {
                assert!(doc.contains(&format!("`{d}`")), "{file} does not list `{d}` ({})", rule.name);
            }
            assert!(doc.contains(rule.section.split(':').next().unwrap_or(rule.section)), "{}", rule.section);
        }
        for a in ADDONS {
            assert!(doc.contains(&format!("`{a}`")), "{file} does not list add-on `{a}`");
        }
        assert!(doc.contains(CHECKED_ON) && doc.contains(ARTICLE_DATE));
    }

    #[test]
    fn locations() {
        assert!(check_location("West Europe").is_ok() && check_location("uaenorth").is_ok());
        for bad in ["", " ", "west-europe", "*", "a.b", "westeurope\u{200b}"] {
            assert!(check_location(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn private_clusters_and_addons() {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let d = EgressRequirementsData::new();
        let mut config = object([
            ("location", Value::string("West Europe")),
            ("private_cluster", Value::Bool(false)),
            ("addons", Value::Set(vec![Value::string("azure_monitor")])),
        ]);
        let v = rt.block_on(d.read(None, &config)).unwrap();
        let text = format!("{v:?}");
        assert!(text.contains("*.hcp.westeurope.azmk8s.io") && text.contains("AzureCloud.westeurope"));
        assert!(text.contains("westeurope.handler.control.monitor.azure.com") && text.contains("AzureMonitor"));
        config.set_attr("private_cluster", Value::Bool(true));
        config.set_attr("addons", Value::Null);
        let text = format!("{:?}", rt.block_on(d.read(None, &config)).unwrap());
        assert!(!text.contains("azmk8s.io") && !text.contains("AzureCloud") && !text.contains("AzureMonitor"));
        assert!(text.contains("mcr.microsoft.com") && text.contains("ntp.ubuntu.com"));
    }
}
