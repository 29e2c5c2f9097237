//! The error the value codecs return, and the words their messages use for
//! types and values.

use super::diag::{AttributePath, Diagnostic, Step};
use super::value::{Type, Value};

/// Deepest nesting of collections, objects, tuples and dynamic wrappers the
/// codecs accept, so that hostile input cannot exhaust the stack.
pub(crate) const MAX_DEPTH: usize = 64;

/// A value or type that could not be decoded or encoded: what went wrong
/// and where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", at_prefix(.path))]
pub struct CodecError {
    /// Where in the value the problem is; empty for the value as a whole.
    pub path: AttributePath,
    /// What went wrong, without the path.
    pub message: String,
}

fn at_prefix(path: &AttributePath) -> String {
    if path.0.is_empty() {
        String::new()
    } else {
        format!("at {path}: ")
    }
}

impl CodecError {
    pub fn new(path: AttributePath, message: impl Into<String>) -> CodecError {
        CodecError { path, message: message.into() }
    }

    pub(crate) fn at(steps: &[Step], message: impl Into<String>) -> CodecError {
        CodecError::new(AttributePath(steps.to_vec()), message)
    }

    /// An error diagnostic with the given summary, the message as detail,
    /// and the path attached when there is one.
    pub fn to_diagnostic(&self, summary: impl Into<String>) -> Diagnostic {
        let d = Diagnostic::error(summary, self.message.clone());
        if self.path.0.is_empty() {
            d
        } else {
            d.at(self.path.clone())
        }
    }
}

/// The name of a type's kind, as cty's messages spell it.
pub(crate) fn type_kind(ty: &Type) -> &'static str {
    match ty {
        Type::Bool => "bool",
        Type::Number => "number",
        Type::String => "string",
        Type::Dynamic => "dynamic",
        Type::List(_) => "list",
        Type::Set(_) => "set",
        Type::Map(_) => "map",
        Type::Object(_) => "object",
        Type::Tuple(_) => "tuple",
    }
}

/// The name of a value's variant.
pub(crate) fn value_kind(v: &Value) -> &'static str {
    match v {
        Value::Unknown => "unknown",
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::List(_) => "list",
        Value::Set(_) => "set",
        Value::Map(_) => "map",
        Value::Object(_) => "object",
        Value::Tuple(_) => "tuple",
        Value::Dynamic(_) => "dynamic",
    }
}

/// The start of a possibly long text, for quoting untrusted input in a
/// message without echoing all of it.
pub(crate) fn preview(text: &str) -> String {
    const MAX_CHARS: usize = 40;
    match text.char_indices().nth(MAX_CHARS) {
        Some((end, _)) => format!("{:?}...", &text[..end]),
        None => format!("{text:?}"),
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)] // a failed expectation is a failed test
mod tests {
    use super::*;
    use crate::tf::diag::Severity;

    #[test]
    fn message_names_the_path_when_there_is_one() {
        let e = CodecError::new(AttributePath::parse("network_profile[0].outbound_type"), "expected string");
        assert_eq!(e.to_string(), "at network_profile[0].outbound_type: expected string");
        assert_eq!(CodecError::at(&[], "bad input").to_string(), "bad input");
    }

    #[test]
    fn diagnostic_carries_message_and_path() {
        let e = CodecError::new(AttributePath::root("name"), "expected string");
        let d = e.to_diagnostic("Invalid value");
        assert_eq!(d.severity, Severity::Error);
        assert_eq!(d.detail, "expected string");
        assert_eq!(d.path, Some(AttributePath::root("name")));
        assert_eq!(CodecError::at(&[], "x").to_diagnostic("s").path, None);
    }

    #[test]
    fn preview_truncates_on_char_boundaries() {
        assert_eq!(preview("abc"), "\"abc\"");
        let long = "é".repeat(100);
        assert_eq!(preview(&long), format!("{:?}...", "é".repeat(40)));
    }
}
