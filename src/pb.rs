//! Code generated from `proto/` by `build.rs`; nothing else lives here.
#![allow(clippy::all, clippy::pedantic, missing_docs, unreachable_pub)]

/// Terraform plugin protocol 6.
pub mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}

/// go-plugin's side services (controller, stdio).
pub mod plugin {
    tonic::include_proto!("plugin");
}
