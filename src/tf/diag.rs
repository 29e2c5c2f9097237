//! Diagnostics and attribute paths: how user problems travel back to
//! Terraform, which prints them with the offending configuration line.

use std::fmt;

/// One step into a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Attr(String),
    Key(String),
    Index(i64),
}

/// A path to an attribute, such as `network_profile[0].outbound_type`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AttributePath(pub Vec<Step>);

impl AttributePath {
    /// The path of a top-level attribute.
    pub fn root(name: &str) -> AttributePath {
        AttributePath(vec![Step::Attr(name.to_string())])
    }
    /// Parses the dotted form used in code: `a.b[0].c`, `tags["k"]` is not
    /// supported (map keys are added with [`AttributePath::key`]).
    pub fn parse(dotted: &str) -> AttributePath {
        let mut steps = Vec::new();
        for part in dotted.split('.') {
            let mut rest = part;
            if let Some(i) = rest.find('[') {
                steps.push(Step::Attr(rest[..i].to_string()));
                rest = &rest[i..];
                while let Some(end) = rest.find(']') {
                    if let Ok(n) = rest[1..end].parse() {
                        steps.push(Step::Index(n));
                    }
                    rest = &rest[end + 1..];
                    if !rest.starts_with('[') {
                        break;
                    }
                }
            } else if !rest.is_empty() {
                steps.push(Step::Attr(rest.to_string()));
            }
        }
        AttributePath(steps)
    }
    pub fn attr(mut self, name: &str) -> Self {
        self.0.push(Step::Attr(name.to_string()));
        self
    }
    pub fn index(mut self, i: i64) -> Self {
        self.0.push(Step::Index(i));
        self
    }
    pub fn key(mut self, k: &str) -> Self {
        self.0.push(Step::Key(k.to_string()));
        self
    }
}

impl fmt::Display for AttributePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            match s {
                Step::Attr(a) if i == 0 => write!(f, "{a}")?,
                Step::Attr(a) => write!(f, ".{a}")?,
                Step::Key(k) => write!(f, "[{k:?}]")?,
                Step::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// A problem for the user: what went wrong (summary), why and how to fix it
/// (detail), and where (path).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub summary: String,
    pub detail: String,
    pub path: Option<AttributePath>,
}

impl Diagnostic {
    pub fn error(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Error, summary: summary.into(), detail: detail.into(), path: None }
    }
    pub fn warning(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Warning, summary: summary.into(), detail: detail.into(), path: None }
    }
    /// Attaches the path of the attribute the problem is about.
    pub fn at(mut self, path: AttributePath) -> Self {
        self.path = Some(path);
        self
    }
}

/// An ordered collection of diagnostics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn new() -> Self {
        Diagnostics(Vec::new())
    }
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }
    /// Adds `other`'s diagnostics except errors on a path that already has
    /// one: a user fixing an attribute needs the most specific message, not
    /// every layer's opinion of it.
    pub fn extend_unless_reported(&mut self, other: Diagnostics) {
        for d in other.0 {
            let dup = d.severity == Severity::Error
                && d.path.is_some()
                && self.0.iter().any(|e| e.severity == Severity::Error && e.path == d.path);
            if !dup {
                self.0.push(d);
            }
        }
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Diagnostics(vec![d])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display_paths() {
        for p in ["name", "network_profile[0].outbound_type", "identity[0].identity_ids[2]"] {
            assert_eq!(AttributePath::parse(p).to_string(), p);
        }
        assert_eq!(
            AttributePath::parse("a[1].b").0,
            vec![Step::Attr("a".into()), Step::Index(1), Step::Attr("b".into())]
        );
    }
}
