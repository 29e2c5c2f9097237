//! The events of the provider's dependencies reach Terraform's log: those
//! sent through `tracing` (azure_identity, azure_core, tonic, h2, hyper)
//! by one subscriber layer, those sent through `log` (reqwest,
//! rustls-platform-verifier) by one `log_facade::Log`. Both write each
//! event as the provider's own log lines are written, with `@module`
//! `provider.<crate>`, at the level `TF_LOG` / `TF_LOG_PROVIDER` asks for,
//! the RPC it happened in (`tf_rpc`, `tf_resource_type`), and secrets
//! masked.

use serde_json::Value;
use tracing::field::{Field, Visit};
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt as _};

use super::{emit, enabled, rpc_fields, threshold, Level, Record};

/// Installs the layer as the process's `tracing` subscriber and the relay
/// as its `log` logger; a second call (or another subscriber or logger set
/// first) changes nothing.
pub fn install() {
    let subscriber = tracing_subscriber::registry().with(HclogLayer);
    let _ = tracing::subscriber::set_global_default(subscriber);
    if log_facade::set_logger(&LogRelay).is_ok() {
        // The `log` macros test this before formatting anything, so with
        // logging off a dependency's log line costs one comparison.
        log_facade::set_max_level(match threshold() {
            None => log_facade::LevelFilter::Off,
            Some(Level::Trace) => log_facade::LevelFilter::Trace,
            Some(Level::Debug) => log_facade::LevelFilter::Debug,
            Some(Level::Info) => log_facade::LevelFilter::Info,
            Some(Level::Warn) => log_facade::LevelFilter::Warn,
            Some(Level::Error) => log_facade::LevelFilter::Error,
        });
    }
}

fn level_of(meta: &Metadata<'_>) -> Level {
    match *meta.level() {
        tracing::Level::TRACE => Level::Trace,
        tracing::Level::DEBUG => Level::Debug,
        tracing::Level::INFO => Level::Info,
        tracing::Level::WARN => Level::Warn,
        tracing::Level::ERROR => Level::Error,
    }
}

/// Crates whose debug and trace events describe every frame and header
/// block (which may carry the `Authorization` header) and would bury the
/// provider's own lines: their events are taken from info level up only.
const WIRE_CRATES: &[&str] = &["h2", "hyper", "hyper_util", "rustls", "tokio_rustls", "tower"];

/// Field names whose values are never written.
const SECRET_NAMES: &[&str] =
    &["token", "secret", "password", "authorization", "assertion", "credential", "cookie", "key", "kubeconfig"];

fn crate_of(target: &str) -> &str {
    target.split("::").next().unwrap_or(target)
}

/// Crates whose trace events dump bytes as they cross the socket (reqwest's
/// verbose connection log), request headers included: taken from debug up.
const BYTE_DUMP_CRATES: &[&str] = &["reqwest"];

fn admitted(meta: &Metadata<'_>) -> bool {
    admitted_at(level_of(meta), meta.target())
}

fn admitted_at(level: Level, target: &str) -> bool {
    let krate = crate_of(target);
    if level < Level::Info && WIRE_CRATES.contains(&krate) {
        return false;
    }
    if level < Level::Debug && BYTE_DUMP_CRATES.contains(&krate) {
        return false;
    }
    enabled(level)
}

/// Whether a text looks like a credential: a bearer or basic
/// authorization, a JWT, a PEM key (also base64-encoded, as kubeconfigs
/// carry them), a client secret or a SAS signature in a query string.
fn looks_secret(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    ["bearer ", "basic ", "private key", "client_secret=", "client_assertion=", "sig="]
        .iter()
        .any(|p| lower.contains(p))
        || text.contains("eyJ")
        || text.contains("LS0tLS1CRUdJTi")
}

#[derive(Default)]
struct Fields {
    message: Option<String>,
    fields: Vec<(String, Value)>,
}

impl Fields {
    fn add(&mut self, field: &Field, value: Value) {
        let name = field.name();
        let lower = name.to_ascii_lowercase();
        let value = match value {
            _ if SECRET_NAMES.iter().any(|s| lower.contains(s)) => Value::from("(sensitive)"),
            Value::String(s) if looks_secret(&s) => Value::from("(sensitive)"),
            v => v,
        };
        if name == "message" {
            self.message = Some(value.as_str().map(str::to_string).unwrap_or_else(|| value.to_string()));
        } else {
            self.fields.push((name.to_string(), value));
        }
    }
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        // `write!`, not `format!`: a Debug impl that fails must not panic
        // inside a dependency's task.
        use std::fmt::Write as _;
        let mut text = String::new();
        let _ = write!(text, "{value:?}");
        self.add(field, Value::from(text));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.add(field, Value::from(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.add(field, Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.add(field, Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.add(field, Value::from(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.add(field, Value::from(value.to_string()));
    }
}

struct HclogLayer;

impl<S: Subscriber> Layer<S> for HclogLayer {
    fn enabled(&self, meta: &Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        admitted(meta)
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        if !admitted(meta) {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let message = fields.message.take().unwrap_or_else(|| meta.name().to_string());
        let mut all: Vec<(&str, Value)> = rpc_fields();
        all.extend(fields.fields.iter().map(|(k, v)| (k.as_str(), v.clone())));
        relay(level_of(meta), meta.target(), meta.file().zip(meta.line()), message, &all);
    }
}

/// Writes one dependency's event: its text withheld when it looks like a
/// credential, its crate as the module, its source location as the caller.
fn relay(level: Level, target: &str, location: Option<(&str, u32)>, message: String, fields: &[(&str, Value)]) {
    let message =
        if looks_secret(&message) { "(event text withheld: it looked like a credential)".to_string() } else { message };
    let module = format!("provider.{}", crate_of(target));
    let caller = location.map(|(file, line)| format!("{file}:{line}"));
    emit(&Record { level, module: &module, message: &message, caller: caller.as_deref(), fields });
}

/// Relays the `log` crate's records; a record carries only its text, which
/// is withheld when it looks like a credential.
struct LogRelay;

fn level_of_log(level: log_facade::Level) -> Level {
    match level {
        log_facade::Level::Trace => Level::Trace,
        log_facade::Level::Debug => Level::Debug,
        log_facade::Level::Info => Level::Info,
        log_facade::Level::Warn => Level::Warn,
        log_facade::Level::Error => Level::Error,
    }
}

impl log_facade::Log for LogRelay {
    fn enabled(&self, meta: &log_facade::Metadata<'_>) -> bool {
        admitted_at(level_of_log(meta.level()), meta.target())
    }

    fn log(&self, record: &log_facade::Record<'_>) {
        let level = level_of_log(record.level());
        if !admitted_at(level, record.target()) {
            return;
        }
        use std::fmt::Write as _;
        let mut message = String::new();
        let _ = write!(message, "{}", record.args());
        relay(level, record.target(), record.file().zip(record.line()), message, &rpc_fields());
    }

    fn flush(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_recognised() {
        for secret in [
            "Bearer abc",
            "authorization: bearer abc",
            "eyJhbGciOiJIUzI1NiJ9.x.y",
            "-----BEGIN PRIVATE KEY-----",
            "LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQ==",
            "a&client_secret=s",
            "https://x.blob.core.windows.net/c?sv=1&sig=abc",
        ] {
            assert!(looks_secret(secret), "{secret}");
        }
        assert!(!looks_secret("GET https://management.azure.com/subscriptions/x"));
        assert_eq!(crate_of("azure_identity::credentials"), "azure_identity");
    }

    #[test]
    fn wire_level_events_are_left_out_whatever_tf_log_says() {
        // Filtered before the TF_LOG threshold is consulted, so these hold
        // with logging on or off.
        assert!(!admitted_at(Level::Trace, "reqwest::connect"));
        assert!(!admitted_at(Level::Debug, "h2::codec"));
        assert!(!admitted_at(Level::Trace, "rustls::client"));
    }
}
