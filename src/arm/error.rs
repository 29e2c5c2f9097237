//! Errors of the ARM layer, one variant per way a call can fail: the
//! transport, the service (with ARM's code and message), a long-running
//! operation that ended badly, decoding, credentials, time and cancellation.

/// Why an ARM call failed.
#[derive(Clone, Debug, thiserror::Error)]
pub enum ArmError {
    /// No usable answer: connection refused or reset, TLS failure, timeout
    /// of one attempt.
    #[error("{method} {url}: {message}")]
    Transport { method: String, url: String, message: String },

    /// A PUT was sent but its answer was lost (connection reset after the
    /// request went out): Azure may or may not have applied it.
    #[error("{method} {url}: the answer was lost after the request was sent ({message}); Azure may have applied it")]
    Unanswered { method: String, url: String, message: String },

    /// ARM answered with an error status and (usually) an error body.
    #[error("{}", service_text(*status, code, message, target.as_deref(), correlation_id.as_deref()))]
    Service { status: u16, code: String, message: String, target: Option<String>, correlation_id: Option<String> },

    /// A long-running operation ended `Failed` or `Canceled`.
    #[error("the operation ended {status}: {code}: {message}{}", correlation_suffix(correlation_id.as_deref()))]
    OperationFailed { status: String, code: String, message: String, correlation_id: Option<String> },

    /// ARM's answer was not what its API promises.
    #[error("unexpected response from {url}: {message}")]
    Decode { url: String, message: String },

    /// No token could be obtained, and trying again will not help: the
    /// configuration is incomplete, or the identity platform refused it.
    #[error("{0}")]
    Credential(String),

    /// No token could be obtained for now: the login endpoint could not be
    /// reached or failed (5xx, 429, a timeout).
    #[error("{0}")]
    CredentialUnavailable(String),

    /// The operation's timeout ran out.
    #[error(
        "the operation's timeout ran out (raise it in the resource's timeouts block); it may still complete in Azure"
    )]
    Timeout,

    /// A request the client refused to send: its path is not exactly the
    /// ARM ID it was built from (a name that would change the URL).
    #[error("refusing to send a request for {0:?}: it is not a well-formed ARM resource path")]
    UnsafePath(String),

    /// Terraform asked the provider to stop (Ctrl-C).
    #[error("cancelled: Terraform asked the provider to stop")]
    Stopped,
}

fn correlation_suffix(c: Option<&str>) -> String {
    c.map(|c| format!(" (x-ms-correlation-request-id {c})")).unwrap_or_default()
}

fn service_text(status: u16, code: &str, message: &str, target: Option<&str>, correlation: Option<&str>) -> String {
    let target = target.map(|t| format!(" (target {t})")).unwrap_or_default();
    format!("HTTP {status} {code}: {message}{target}{}", correlation_suffix(correlation))
}

impl ArmError {
    /// The ARM error code, when ARM gave one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ArmError::Service { code, .. } | ArmError::OperationFailed { code, .. } => Some(code),
            _ => None,
        }
    }
    pub fn status(&self) -> Option<u16> {
        match self {
            ArmError::Service { status, .. } => Some(*status),
            _ => None,
        }
    }
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// Whether no token could be had, for whatever reason.
    pub fn is_credential(&self) -> bool {
        matches!(self, ArmError::Credential(_) | ArmError::CredentialUnavailable(_))
    }

    /// Whether the same call may well succeed later: Azure or the login
    /// endpoint unreachable or failing (after the client's retries), or out
    /// of time. A refusal (4xx, a refused credential, bad configuration) is
    /// not transient.
    pub fn is_transient(&self) -> bool {
        match self {
            ArmError::Transport { .. }
            | ArmError::Unanswered { .. }
            | ArmError::CredentialUnavailable(_)
            | ArmError::Timeout => true,
            ArmError::Service { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }

    /// Whether a write that failed this way may have been applied by Azure
    /// all the same: its answer was lost, it was cut short while under way
    /// (Ctrl-C, SIGTERM, the timeout), or the server failed (5xx) after
    /// perhaps committing it. A create that fails so keeps the object in
    /// the state (tainted); if it does not exist, the next refresh drops it.
    pub fn may_have_applied(&self) -> bool {
        match self {
            ArmError::Unanswered { .. } | ArmError::Stopped | ArmError::Timeout => true,
            ArmError::Service { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

/// An error and its causes on one line, each said once: a top-level
/// message alone (reqwest's "error sending request") hides the reason, such
/// as a refused connection or an untrusted certificate, and azure_identity
/// repeats its source's text in its own message.
pub fn cause_chain(e: &(dyn std::error::Error + 'static)) -> String {
    // azure_identity ends its message with a troubleshooting link; the
    // causes read better before it.
    let top = e.to_string();
    let (top, link) = match top.split_once("\nTo troubleshoot, visit ") {
        Some((t, l)) => (t.to_string(), Some(l.trim().to_string())),
        None => (top.clone(), None),
    };
    let mut out = top.trim().to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let text = c.to_string();
        let text = text.trim();
        if !text.is_empty() && !out.contains(text) {
            out.push_str(": ");
            out.push_str(text);
        }
        cur = c.source();
    }
    if let Some(link) = link {
        out.push_str(&format!(" (troubleshooting: {link})"));
    }
    out
}

/// ARM error codes that say the object (or its parent, its resource group)
/// does not exist.
const NOT_FOUND_CODES: &[&str] = &["ResourceNotFound", "NotFound", "ParentResourceNotFound", "ResourceGroupNotFound"];

/// Whether an answer says for certain that the object is gone: a 404 whose
/// body is ARM's JSON error with a not-found code. Any other 404 (a proxy's
/// HTML page, `SubscriptionNotFound`, a wrong endpoint) is an error, so that
/// an object is never dropped from state on a misunderstanding.
pub fn is_gone(status: u16, body: &[u8]) -> bool {
    if status != 404 {
        return false;
    }
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) else { return false };
    let inner = json.get("error").filter(|e| e.is_object()).unwrap_or(&json);
    inner
        .get("code")
        .and_then(|c| c.as_str())
        .is_some_and(|c| NOT_FOUND_CODES.iter().any(|n| n.eq_ignore_ascii_case(c)))
}

/// Parses an ARM error body. ARM wraps errors as `{"error": {...}}`; AKS has
/// been seen answering with the bare object `{"code", "message"}`. Both
/// shapes are accepted.
pub fn parse_error_body(status: u16, body: &[u8], correlation_id: Option<String>) -> ArmError {
    let json: serde_json::Value = serde_json::from_slice(body).unwrap_or(serde_json::Value::Null);
    let inner = json.get("error").filter(|e| e.is_object()).unwrap_or(&json);
    let text = |k: &str| inner.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let code = text("code").unwrap_or_else(|| default_code(status).to_string());
    let message = text("message").unwrap_or_else(|| {
        let raw = String::from_utf8_lossy(body);
        let raw = raw.trim();
        if raw.is_empty() {
            "(no error message)".to_string()
        } else {
            raw.chars().take(500).collect()
        }
    });
    // Nested details often carry the actual reason (e.g. a policy denial);
    // a few are enough, and the message stays readable.
    let mut message: String = message.chars().take(2000).collect();
    if let Some(details) = inner.get("details").and_then(|d| d.as_array()) {
        for d in details.iter().take(10) {
            if let (Some(c), Some(m)) =
                (d.get("code").and_then(|v| v.as_str()), d.get("message").and_then(|v| v.as_str()))
            {
                message.push_str(&format!("; {c}: {m}"));
            }
        }
    }
    ArmError::Service { status, code, message, target: text("target"), correlation_id }
}

fn default_code(status: u16) -> &'static str {
    match status {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        409 => "Conflict",
        412 => "PreconditionFailed",
        429 => "TooManyRequests",
        _ => "UnexpectedStatus",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_error_shapes_parse() {
        let wrapped = br#"{"error":{"code":"RouteTableInvalidNextHop","message":"bad hop","target":"routes"}}"#;
        let flat = br#"{"code":"ExistingRouteTableNotAssociatedWithSubnet","message":"no table"}"#;
        let e = parse_error_body(400, wrapped, Some("corr".into()));
        assert_eq!(e.code(), Some("RouteTableInvalidNextHop"));
        assert!(e.to_string().contains("(target routes)") && e.to_string().contains("corr"), "{e}");
        let e = parse_error_body(400, flat, None);
        assert_eq!(e.code(), Some("ExistingRouteTableNotAssociatedWithSubnet"));
        let e = parse_error_body(503, b"<html>busy</html>", None);
        assert_eq!(e.code(), Some("UnexpectedStatus"));
        assert!(e.to_string().contains("busy"));
    }

    #[test]
    fn details_are_appended() {
        let body = br#"{"error":{"code":"RequestDisallowedByPolicy","message":"denied","details":[{"code":"Policy","message":"no udr"}]}}"#;
        assert!(parse_error_body(403, body, None).to_string().contains("Policy: no udr"));
    }
}
