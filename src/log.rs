//! hclog-compatible JSON log lines on stderr, which go-plugin forwards into
//! Terraform's own log.
//!
//! go-plugin (on Terraform's side) reads every stderr line of the plugin, and
//! a line that parses as a JSON object is re-logged with its `@level`,
//! `@message` and `@timestamp` plus the remaining keys as key/value pairs;
//! anything else is logged verbatim at debug level. This module writes those
//! objects, one per line, in the shape hclog's JSON format and
//! terraform-plugin-log produce:
//!
//! ```json
//! {"@level":"debug","@message":"reading cluster","@module":"provider","@timestamp":"2026-11-26T13:04:05.123456Z","@caller":"src/rpc.rs:42","resource":"aksudr_cluster"}
//! ```
//!
//! Use the macros, which skip evaluating their fields when the level is off:
//!
//! ```
//! use aksudr::log;
//! log::info!("configured provider");
//! log::debug!("read resource", type_name = "aksudr_cluster", attempt = 2);
//! log::log!(log::Level::Trace, "sdk.proto", "received request", rpc = "ReadResource");
//! ```
//!
//! Field values are anything `serde::Serialize`. **Never log secrets**:
//! credentials, tokens, private keys and the like must be wrapped in
//! [`Sensitive`] (whose every rendering is `(sensitive)`) before they go near
//! a log call or a `Debug`/`Display` format.

pub mod bridge;

use std::fmt;
use std::io::Write as _;
use std::sync::OnceLock;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use time::OffsetDateTime;

/// Module name for the provider's own messages, as terraform-plugin-log
/// uses (Terraform prefixes it with the plugin's name).
pub const MODULE_PROVIDER: &str = "provider";
/// Module name for protocol plumbing (requests in and responses out), as
/// terraform-plugin-go uses.
pub const MODULE_SDK_PROTO: &str = "sdk.proto";

/// Severity of a log line, least severe first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Very detailed: every request and response.
    Trace,
    /// Detail useful when debugging.
    Debug,
    /// Normal progress worth noting.
    Info,
    /// Something odd that did not stop the operation.
    Warn,
    /// An operation failed.
    Error,
}

impl Level {
    /// The lower-case name hclog writes as `@level`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Works out the least severe level to write from the values of
/// `TF_LOG_PROVIDER` and `TF_LOG`; `None` means logging is off.
///
/// `TF_LOG_PROVIDER` wins over `TF_LOG` when set and non-empty, as in
/// Terraform. `JSON` means trace (Terraform's JSON log format logs
/// everything). Any other unrecognised non-empty value also means trace,
/// because Terraform treats e.g. `TF_LOG=1` as "log everything". With
/// neither set, the threshold is info; Terraform drops provider lines
/// anyway unless its own logging is on.
pub fn parse_threshold(tf_log_provider: Option<&str>, tf_log: Option<&str>) -> Option<Level> {
    let chosen = [tf_log_provider, tf_log].into_iter().flatten().map(str::trim).find(|v| !v.is_empty());
    let Some(value) = chosen else {
        return Some(Level::Info);
    };
    match value.to_ascii_uppercase().as_str() {
        "OFF" => None,
        "ERROR" => Some(Level::Error),
        "WARN" => Some(Level::Warn),
        "INFO" => Some(Level::Info),
        "DEBUG" => Some(Level::Debug),
        _ => Some(Level::Trace),
    }
}

/// The threshold in force, read from the environment on first use.
pub fn threshold() -> Option<Level> {
    static THRESHOLD: OnceLock<Option<Level>> = OnceLock::new();
    *THRESHOLD.get_or_init(|| {
        let provider = std::env::var("TF_LOG_PROVIDER").ok();
        let global = std::env::var("TF_LOG").ok();
        parse_threshold(provider.as_deref(), global.as_deref())
    })
}

/// Whether a line at `level` would be written.
pub fn enabled(level: Level) -> bool {
    threshold().is_some_and(|min| level >= min)
}

/// One log line before formatting.
#[derive(Clone, Debug)]
pub struct Record<'a> {
    /// Severity.
    pub level: Level,
    /// `@module`: [`MODULE_PROVIDER`], [`MODULE_SDK_PROTO`], ...
    pub module: &'a str,
    /// The message text; a fixed description, with variable parts in fields.
    pub message: &'a str,
    /// `@caller`, `file:line` of the log call, when known.
    pub caller: Option<&'a str>,
    /// Extra key/value pairs, written after the `@` keys in this order.
    pub fields: &'a [(&'a str, Value)],
}

/// Keys hclog itself writes; a field with one of these names is written
/// as `_` + name so it cannot overwrite them.
const RESERVED: [&str; 5] = ["@level", "@message", "@module", "@timestamp", "@caller"];

/// Formats `record` as one JSON line (with the trailing newline) stamped
/// with `now`, which is converted to UTC.
pub fn format_line(record: &Record<'_>, now: OffsetDateTime) -> String {
    let mut obj = Map::new();
    obj.insert("@level".into(), Value::from(record.level.as_str()));
    obj.insert("@message".into(), Value::from(record.message));
    obj.insert("@module".into(), Value::from(record.module));
    obj.insert("@timestamp".into(), Value::from(format_timestamp(now)));
    if let Some(caller) = record.caller {
        obj.insert("@caller".into(), Value::from(caller));
    }
    for (key, value) in record.fields {
        let key = if RESERVED.contains(key) { format!("_{key}") } else { (*key).to_owned() };
        obj.insert(key, value.clone());
    }
    // serde_json escapes control characters, so a message containing a
    // newline still yields exactly one line.
    let mut line = Value::Object(obj).to_string();
    line.push('\n');
    line
}

/// Formats a time like Go's `2006-01-02T15:04:05.000000Z07:00` in UTC,
/// the layout go-plugin parses `@timestamp` with (exactly six fractional
/// digits, `Z` for UTC).
pub fn format_timestamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
    // Formatting a UTC date with numeric components cannot fail short of a
    // year outside 0..=9999; fall back to RFC 3339 rather than panic.
    t.format(&format).unwrap_or_else(|_| t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default())
}

/// The RPC a task is serving, for its log lines.
#[derive(Clone, Debug)]
pub struct RpcScope {
    /// The tfplugin6 RPC, e.g. `ReadResource`.
    pub rpc: &'static str,
    /// The resource, data source or ephemeral resource type it is about.
    pub type_name: String,
}

tokio::task_local! {
    static RPC: RpcScope;
}

/// Runs `f` as the serving of one RPC (a task-local scope, which works as
/// the RPC's span): every line logged while it runs, the provider's own and
/// its dependencies' events in the same task, carries `tf_rpc` and
/// `tf_resource_type`, the names terraform-plugin-framework uses. (Events
/// of tasks that dependencies spawn, such as connection tasks, do not.)
pub async fn in_rpc<F: std::future::Future>(rpc: &'static str, type_name: &str, f: F) -> F::Output {
    RPC.scope(RpcScope { rpc, type_name: type_name.to_string() }, f).await
}

/// The current RPC's fields, when a task serves one.
fn rpc_fields() -> Vec<(&'static str, Value)> {
    RPC.try_with(|s| vec![("tf_rpc", Value::from(s.rpc)), ("tf_resource_type", Value::from(s.type_name.clone()))])
        .unwrap_or_default()
}

/// Writes `record` to stderr if its level is enabled, as a single write
/// under the stderr lock so concurrent lines never interleave. Inside an
/// RPC ([`in_rpc`]) the line carries the RPC's fields.
pub fn emit(record: &Record<'_>) {
    if !enabled(record.level) {
        return;
    }
    let scope = rpc_fields();
    if scope.is_empty() || record.fields.iter().any(|(k, _)| *k == "tf_rpc") {
        return write_line(record);
    }
    let mut fields = scope;
    fields.extend(record.fields.iter().cloned());
    write_line(&Record { fields: &fields, ..record.clone() });
}

fn write_line(record: &Record<'_>) {
    let line = format_line(record, OffsetDateTime::now_utc());
    let stderr = std::io::stderr();
    let mut lock = stderr.lock();
    // A closed stderr leaves nowhere to report the failure.
    let _ = lock.write_all(line.as_bytes());
    let _ = lock.flush();
}

/// Converts a field value for a [`Record`]; used by the macros. A value
/// that fails to serialise is logged as a description of the failure.
pub fn value<T: Serialize + ?Sized>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or_else(|e| Value::from(format!("(unloggable value: {e})")))
}

#[doc(hidden)]
#[macro_export]
macro_rules! __aksudr_log {
    ($level:expr, $module:expr, $msg:expr $(, $key:ident = $val:expr)* $(,)?) => {{
        let level: $crate::log::Level = $level;
        if $crate::log::enabled(level) {
            $crate::log::emit(&$crate::log::Record {
                level,
                module: $module,
                message: ::core::convert::AsRef::<str>::as_ref(&$msg),
                caller: ::core::option::Option::Some(::core::concat!(
                    ::core::file!(),
                    ":",
                    ::core::line!()
                )),
                fields: &[$((::core::stringify!($key), $crate::log::value(&$val))),*],
            });
        }
    }};
}

#[doc(hidden)]
#[macro_export]
macro_rules! __aksudr_trace {
    ($($t:tt)+) => { $crate::__aksudr_log!($crate::log::Level::Trace, $crate::log::MODULE_PROVIDER, $($t)+) };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __aksudr_debug {
    ($($t:tt)+) => { $crate::__aksudr_log!($crate::log::Level::Debug, $crate::log::MODULE_PROVIDER, $($t)+) };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __aksudr_info {
    ($($t:tt)+) => { $crate::__aksudr_log!($crate::log::Level::Info, $crate::log::MODULE_PROVIDER, $($t)+) };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __aksudr_warn {
    ($($t:tt)+) => { $crate::__aksudr_log!($crate::log::Level::Warn, $crate::log::MODULE_PROVIDER, $($t)+) };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __aksudr_error {
    ($($t:tt)+) => { $crate::__aksudr_log!($crate::log::Level::Error, $crate::log::MODULE_PROVIDER, $($t)+) };
}

/// `debug!(message, key = value, ...)` in module `provider`.
pub use crate::__aksudr_debug as debug;
/// `error!(message, key = value, ...)` in module `provider`.
pub use crate::__aksudr_error as error;
/// `info!(message, key = value, ...)` in module `provider`.
pub use crate::__aksudr_info as info;
/// `log!(level, module, message, key = value, ...)`: a line for any module.
pub use crate::__aksudr_log as log;
/// `trace!(message, key = value, ...)` in module `provider`.
pub use crate::__aksudr_trace as trace;
/// `warn!(message, key = value, ...)` in module `provider`.
pub use crate::__aksudr_warn as warn;

/// A value that must never appear in logs or error text: `Display`,
/// `Debug` and `Serialize` all render it as `(sensitive)`. Reach the value
/// itself only through [`Sensitive::expose`] / [`Sensitive::into_inner`],
/// at the one place that needs it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Sensitive<T>(T);

impl<T> Sensitive<T> {
    /// What every rendering of a `Sensitive` shows.
    pub const PLACEHOLDER: &'static str = "(sensitive)";

    /// Wraps a secret.
    pub fn new(value: T) -> Self {
        Sensitive(value)
    }

    /// The secret itself, for the code that has to use it.
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// Unwraps the secret.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> From<T> for Sensitive<T> {
    fn from(value: T) -> Self {
        Sensitive(value)
    }
}

impl<T> fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::PLACEHOLDER)
    }
}

impl<T> fmt::Display for Sensitive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::PLACEHOLDER)
    }
}

impl<T> Serialize for Sensitive<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(Self::PLACEHOLDER)
    }
}

/// Reads the plain value, so secrets can sit in deserialised config.
impl<'de, T: Deserialize<'de>> Deserialize<'de> for Sensitive<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(Sensitive)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn threshold_from_env_values() {
        assert_eq!(parse_threshold(None, None), Some(Level::Info));
        assert_eq!(parse_threshold(Some(""), Some(" ")), Some(Level::Info));
        assert_eq!(parse_threshold(None, Some("debug")), Some(Level::Debug));
        assert_eq!(parse_threshold(None, Some("JSON")), Some(Level::Trace));
        assert_eq!(parse_threshold(None, Some("TRACE")), Some(Level::Trace));
        assert_eq!(parse_threshold(None, Some("1")), Some(Level::Trace));
        assert_eq!(parse_threshold(None, Some("OFF")), None);
        assert_eq!(parse_threshold(Some("ERROR"), Some("TRACE")), Some(Level::Error));
        assert_eq!(parse_threshold(Some("off"), Some("TRACE")), None);
        assert_eq!(parse_threshold(Some(""), Some("WARN")), Some(Level::Warn));
        assert_eq!(parse_threshold(Some("Info"), None), Some(Level::Info));
    }

    #[test]
    fn levels_order_by_severity() {
        assert!(Level::Trace < Level::Debug);
        assert!(Level::Debug < Level::Info);
        assert!(Level::Info < Level::Warn);
        assert!(Level::Warn < Level::Error);
    }

    #[test]
    fn timestamp_matches_go_layout() {
        let t = datetime!(2026-11-26 13:04:05.123456789 UTC);
        assert_eq!(format_timestamp(t), "2026-11-26T13:04:05.123456Z");
        let whole = datetime!(2026-01-02 03:04:05 UTC);
        assert_eq!(format_timestamp(whole), "2026-01-02T03:04:05.000000Z");
        let offset = datetime!(2026-01-02 03:04:05 +02:00);
        assert_eq!(format_timestamp(offset), "2026-01-02T01:04:05.000000Z");
    }

    #[test]
    fn line_is_one_json_object_with_hclog_keys_first() {
        let fields = [("rpc", value("ReadResource")), ("attempt", value(&3)), ("@level", value("spoof"))];
        let rec = Record {
            level: Level::Warn,
            module: MODULE_SDK_PROTO,
            message: "line one\nline two",
            caller: Some("src/x.rs:1"),
            fields: &fields,
        };
        let line = format_line(&rec, datetime!(2026-11-26 13:04:05.5 UTC));
        assert!(line.ends_with('\n'));
        assert_eq!(line.matches('\n').count(), 1);
        assert_eq!(
            line,
            concat!(
                r#"{"@level":"warn","@message":"line one\nline two","@module":"sdk.proto","#,
                r#""@timestamp":"2026-11-26T13:04:05.500000Z","@caller":"src/x.rs:1","#,
                r#""rpc":"ReadResource","attempt":3,"_@level":"spoof"}"#,
                "\n"
            )
        );
    }

    #[test]
    fn sensitive_never_renders_its_value() {
        let s = Sensitive::new("hunter2".to_string());
        assert_eq!(format!("{s}"), "(sensitive)");
        assert_eq!(format!("{s:?}"), "(sensitive)");
        assert_eq!(value(&s), Value::from("(sensitive)"));
        assert_eq!(s.expose(), "hunter2");
        let parsed: Sensitive<String> = serde_json::from_str(r#""pw""#).unwrap();
        assert_eq!(parsed.into_inner(), "pw");
    }

    #[test]
    fn macros_expand_with_and_without_fields() {
        // Output goes to the test's stderr; this checks the macro forms
        // compile and run.
        info!("plain");
        debug!(String::from("owned message"), n = 1, s = "x",);
        warn!("with sensitive", secret = Sensitive::new("pw"));
        error!("e");
        trace!("t", v = vec![1, 2]);
        log!(Level::Info, MODULE_SDK_PROTO, "proto", rpc = "GetMetadata");
    }
}
