//! Fault injection rules: failing, delaying or dropping matching requests, and making the
//! next matching write's long-running operation fail.

use regex::Regex;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::http::Req;

/// How an injected fault answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultStatus {
    /// Answer with this HTTP status and an ARM error body.
    Status(u16),
    /// Close the connection without answering.
    Drop,
    /// Carry the request out, then close the connection without answering:
    /// the write is committed and the client never learns it (a reset
    /// after ARM accepted a PUT).
    CommitThenDrop,
}

impl Serialize for FaultStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            FaultStatus::Status(c) => s.serialize_u16(*c),
            FaultStatus::Drop => s.serialize_str("drop"),
            FaultStatus::CommitThenDrop => s.serialize_str("commit-then-drop"),
        }
    }
}

impl<'de> Deserialize<'de> for FaultStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Code(u16),
            Word(String),
        }
        match Raw::deserialize(d)? {
            Raw::Code(c) if (100..=599).contains(&c) => Ok(FaultStatus::Status(c)),
            Raw::Code(c) => Err(serde::de::Error::custom(format!("status {c} out of range"))),
            Raw::Word(w) if w.eq_ignore_ascii_case("drop") => Ok(FaultStatus::Drop),
            Raw::Word(w) if w.eq_ignore_ascii_case("commit-then-drop") => Ok(FaultStatus::CommitThenDrop),
            Raw::Word(w) => match w.parse::<u16>() {
                Ok(c) if (100..=599).contains(&c) => Ok(FaultStatus::Status(c)),
                _ => Err(serde::de::Error::custom(format!(
                    "status must be an HTTP status code, \"drop\" or \"commit-then-drop\", not {w:?}"
                ))),
            },
        }
    }
}

fn one() -> u32 {
    1
}

/// Fail the next `count` requests matching `method` (any if absent) and `path_regex`
/// (searched in the request path, e.g. `"routes/"`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Fault {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    pub path_regex: String,
    #[serde(default = "one")]
    pub count: u32,
    pub status: FaultStatus,
    /// Seconds for a `Retry-After` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// How `retry_after` is written: `seconds` (default), `http-date`
    /// (`Retry-After: <IMF-fixdate>`), or `ms` (`retry-after-ms`, the
    /// seconds times 1000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_format: Option<String>,
    /// Error code in the body; defaults by status (`TooManyRequests`, `InternalServerError`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Let this many matching requests through first (e.g. a create's
    /// existence check, to fail the read after the write).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub skip: u32,
    /// Dormant until a PUT to a matching path has been received (to fail
    /// the reads that follow a write, however many came before it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub after_write: bool,
    /// Carry the request out first, then answer with `status` (a write
    /// that committed although the answer is an error, as a gateway's 504
    /// can be).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub commit_first: bool,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Fault {
    /// A fault answering `status` for the next request matching `path_regex`.
    pub fn new(path_regex: impl Into<String>, status: FaultStatus) -> Self {
        Fault {
            method: None,
            path_regex: path_regex.into(),
            count: 1,
            status,
            retry_after: None,
            retry_after_format: None,
            code: None,
            message: None,
            skip: 0,
            after_write: false,
            commit_first: false,
        }
    }

    /// Carries the request out before answering with the fault.
    pub fn commit_first(mut self) -> Self {
        self.commit_first = true;
        self
    }

    /// Applies only once a PUT to a matching path has been received.
    pub fn after_write(mut self) -> Self {
        self.after_write = true;
        self
    }

    /// Lets the first `n` matching requests through.
    pub fn skip(mut self, n: u32) -> Self {
        self.skip = n;
        self
    }

    /// Only requests with this method match.
    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.method = Some(method.into());
        self
    }

    /// Applies to the next `count` matching requests.
    pub fn count(mut self, count: u32) -> Self {
        self.count = count;
        self
    }

    /// Adds `Retry-After: secs`.
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    /// Writes `retry_after` as `seconds`, `http-date` or `ms`.
    pub fn retry_after_format(mut self, format: &str) -> Self {
        self.retry_after_format = Some(format.to_string());
        self
    }

    /// Sets the error code and message of the body.
    pub fn error(mut self, code: impl Into<String>, message: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self.message = Some(message.into());
        self
    }
}

/// Delay matching requests by `delay_ms` (the next `count` of them, or all if absent).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Latency {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    pub path_regex: String,
    pub delay_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// Delay the answer instead of the handling: the request is carried out
    /// (and logged) at once, and its answer leaves `delay_ms` later — a
    /// committed write whose answer is still on its way.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub after_commit: bool,
}

/// Make the long-running operation started by the next `count` matching writes end `Failed`
/// with `code` and `message`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LroFailure {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    pub path_regex: String,
    pub code: String,
    pub message: String,
    #[serde(default = "one")]
    pub count: u32,
}

/// A rule with its compiled pattern and remaining uses (`None` = unlimited).
#[derive(Debug)]
pub(crate) struct Rule<T> {
    pub spec: T,
    method: Option<String>,
    re: Regex,
    remaining: Option<u32>,
    /// Matching requests still to let through before the rule applies.
    skip: u32,
    /// False while the rule waits for a PUT to a matching path.
    armed: bool,
}

impl<T> Rule<T> {
    pub fn new(spec: T, method: Option<&str>, path_regex: &str, count: Option<u32>) -> Result<Self, String> {
        let re = Regex::new(path_regex).map_err(|e| format!("invalid path_regex: {e}"))?;
        Ok(Rule { spec, method: method.map(str::to_ascii_uppercase), re, remaining: count, skip: 0, armed: true })
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        self.armed
            && self.remaining != Some(0)
            && self.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self.re.is_match(path)
    }
}

/// Finds the first rule matching the request, uses it up once, and returns its spec.
pub(crate) fn take_match<T: Clone>(rules: &mut Vec<Rule<T>>, method: &str, path: &str) -> Option<T> {
    let idx = rules.iter().position(|r| r.matches(method, path))?;
    let rule = &mut rules[idx];
    if rule.skip > 0 {
        rule.skip -= 1;
        return None;
    }
    let spec = rule.spec.clone();
    if let Some(n) = rule.remaining.as_mut() {
        *n -= 1;
        if *n == 0 {
            rules.remove(idx);
        }
    }
    Some(spec)
}

/// The request-level rules (faults and latency); LRO failures live with the operations.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    pub faults: Vec<Rule<Fault>>,
    pub latency: Vec<Rule<Latency>>,
}

impl Faults {
    pub fn add_fault(&mut self, f: Fault) -> Result<(), String> {
        let mut rule = Rule::new(f.clone(), f.method.as_deref(), &f.path_regex, Some(f.count))?;
        rule.skip = f.skip;
        rule.armed = !f.after_write;
        self.faults.push(rule);
        Ok(())
    }

    pub fn add_latency(&mut self, l: Latency) -> Result<(), String> {
        let rule = Rule::new(l.clone(), l.method.as_deref(), &l.path_regex, l.count)?;
        self.latency.push(rule);
        Ok(())
    }

    pub fn take_fault(&mut self, req: &Req) -> Option<Fault> {
        let found = take_match(&mut self.faults, &req.method, &req.path);
        // A write arms the rules waiting for one on their path.
        if req.method == "PUT" {
            for r in self.faults.iter_mut().filter(|r| !r.armed && r.re.is_match(&req.path)) {
                r.armed = true;
            }
        }
        found
    }

    /// The total delay of every latency rule matching the request, before
    /// handling it (`after_commit` false) or before answering (true).
    pub fn take_latency(&mut self, req: &Req, after_commit: bool) -> u64 {
        let mut total = 0;
        let mut kept = Vec::new();
        for mut r in std::mem::take(&mut self.latency) {
            if r.spec.after_commit == after_commit && r.matches(&req.method, &req.path) {
                total += r.spec.delay_ms;
                if let Some(n) = r.remaining.as_mut() {
                    *n -= 1;
                }
            }
            if r.remaining != Some(0) {
                kept.push(r);
            }
        }
        self.latency = kept;
        total
    }
}

/// The default error code for an injected status, as ARM would name it.
pub(crate) fn default_code(status: u16) -> &'static str {
    match status {
        429 => "TooManyRequests",
        500 => "InternalServerError",
        502 => "BadGateway",
        503 => "ServiceUnavailable",
        504 => "GatewayTimeout",
        409 => "Conflict",
        400 => "BadRequest",
        _ => "InjectedFault",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_serde() -> Result<(), serde_json::Error> {
        let f: Fault = serde_json::from_str(r#"{"path_regex":"x","status":"drop"}"#)?;
        assert_eq!(f.status, FaultStatus::Drop);
        assert_eq!(f.count, 1);
        let f: Fault = serde_json::from_str(r#"{"path_regex":"x","status":429,"count":2}"#)?;
        assert_eq!(f.status, FaultStatus::Status(429));
        assert!(serde_json::from_str::<Fault>(r#"{"path_regex":"x","status":"nope"}"#).is_err());
        assert_eq!(serde_json::to_value(FaultStatus::Drop)?, serde_json::json!("drop"));
        Ok(())
    }

    #[test]
    fn rules_are_used_up() -> Result<(), String> {
        let mut rules = vec![Rule::new(1, Some("put"), "routes/", Some(2))?];
        assert_eq!(take_match(&mut rules, "GET", "/a/routes/x"), None);
        assert_eq!(take_match(&mut rules, "PUT", "/a/routes/x"), Some(1));
        assert_eq!(take_match(&mut rules, "PUT", "/a/routes/x"), Some(1));
        assert_eq!(take_match(&mut rules, "PUT", "/a/routes/x"), None);
        Ok(())
    }
}
