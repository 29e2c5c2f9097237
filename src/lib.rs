//! terraform-provider-aksudr: a Terraform provider for AKS clusters whose
//! egress leaves through a user-defined route table to a firewall or NVA.
//!
//! Layers, each depending only on those below it (the `layering` test
//! checks every import):
//!
//! * `plugin` (go-plugin handshake, TLS, signals) and `rpc` (one function
//!   per tfplugin6 call, generic over any `tf::provider::Provider`): they
//!   know the framework, never this provider's types; `main.rs` joins them
//!   to `provider`.
//! * `provider`: the provider block, its environment fallbacks, and the
//!   registry of resource types.
//! * `resources`: one file per resource type.
//! * `context`: what a configured provider hands every resource (the ARM
//!   client, the plan's projected network).
//! * `rules` (the UDR rules, pure) and `arm` (Azure Resource Manager: client,
//!   settings, typed IDs), side by side.
//! * `tf`: the framework — values, codecs, schemas, diagnostics, planning,
//!   the `Resource` and `Provider` traits, the stop signal.
//! * `log` (hclog lines) and `pb` (generated protobuf code) serve all.
pub mod arm;
pub mod context;
pub mod log;
pub mod pb;
pub mod plugin;
pub mod provider;
pub mod resources;
pub mod rpc;
pub mod rules;
pub mod tf;

/// The layering above holds: a test reads every module's source and fails
/// on an import from a layer it must not depend on (`make test` runs it).
#[cfg(test)]
mod layering {
    use std::collections::BTreeSet;
    use std::path::Path;

    /// Each layer and what it may import from the crate besides itself.
    const LAYERS: &[(&str, &[&str])] = &[
        ("log", &[]),
        ("pb", &[]),
        ("tf", &["log"]),
        ("rules", &["tf", "log"]),
        ("arm", &["tf", "log"]),
        ("context", &["arm", "rules", "tf", "log"]),
        ("resources", &["context", "arm", "rules", "tf", "log"]),
        ("provider", &["resources", "context", "arm", "rules", "tf", "log"]),
        ("rpc", &["tf", "log", "pb"]),
        ("plugin", &["tf", "log", "pb"]),
    ];

    /// The crate's top-level modules a source text imports (`crate::x`,
    /// `crate::{x, y::z}`); the log macros count as `log`.
    fn imports(text: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let code: String =
            text.lines().filter(|l| !l.trim_start().starts_with("//")).map(|l| format!("{l}\n")).collect();
        let text = code.as_str();
        for (i, _) in text.match_indices("crate::") {
            let rest = &text[i + "crate::".len()..];
            let items: Vec<&str> = match rest.strip_prefix('{') {
                Some(group) => group.split('}').next().unwrap_or_default().split(',').collect(),
                None => vec![rest],
            };
            for item in items {
                let name: String = item.trim().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                if name.starts_with("__aksudr_") {
                    out.insert("log".to_string());
                } else if !name.is_empty() && name != "self" {
                    out.insert(name);
                }
            }
        }
        out
    }

    fn sources(path: &Path, out: &mut Vec<std::path::PathBuf>) {
        if path.is_dir() {
            for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
                sources(&entry.path(), out);
            }
        } else if path.is_file() && path.extension().is_some_and(|e| e == "rs") {
            out.push(path.to_path_buf());
        }
    }

    #[test]
    fn no_layer_imports_from_above() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut violations = Vec::new();
        for (layer, allowed) in LAYERS {
            let mut files = Vec::new();
            sources(&src.join(layer), &mut files);
            sources(&src.join(format!("{layer}.rs")), &mut files);
            assert!(!files.is_empty() || *layer == "pb", "no sources for layer {layer}");
            for file in files {
                let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
                for dep in imports(&text) {
                    if dep != *layer && !allowed.contains(&dep.as_str()) {
                        violations.push(format!("{} imports crate::{dep}", file.display()));
                    }
                }
            }
        }
        assert!(violations.is_empty(), "imports against the layering:\n{}", violations.join("\n"));
    }

    #[test]
    fn imports_are_found() {
        let found = imports("use crate::arm::X;\nuse crate::{log, tf::value};\ncrate::__aksudr_info!(x);");
        assert_eq!(found.into_iter().collect::<Vec<_>>(), ["arm", "log", "tf"]);
    }
}
