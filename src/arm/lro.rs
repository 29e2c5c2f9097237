//! ARM's long-running operations. An [`Operation`] is a value: built from
//! the answer to a write, it says which URL to poll, and judges each poll's
//! answer (running, done, failed) without any I/O; [`ArmClient::wait`]
//! drives it, pausing as each answer asks. The order follows Azure's
//! guidelines and the SDKs: the `Azure-AsyncOperation` status resource
//! first, else the `Location` resource, else the resource's own
//! `provisioningState`; each poll honours `Retry-After`.

use reqwest::Method;
use tokio::time::Instant;

use super::client::{ArmClient, Response};
use super::error::{is_gone, parse_error_body, ArmError};
use crate::log;

/// A status that ends an operation; ARM spells the cancelled state both
/// ways (`Canceled` in the guidelines, `Cancelled` in some services).
fn terminal(status: &str) -> Option<bool> {
    match status.to_ascii_lowercase().as_str() {
        "succeeded" => Some(true),
        "failed" | "canceled" | "cancelled" => Some(false),
        _ => None,
    }
}

/// The least wait between two polls of one operation.
const MIN_POLL: std::time::Duration = std::time::Duration::from_secs(1);

fn provisioning_state(body: &serde_json::Value) -> Option<&str> {
    body.pointer("/properties/provisioningState").and_then(|v| v.as_str())
}

fn failure(status: &str, body: &serde_json::Value, resp: &Response) -> ArmError {
    let err = body.get("error").unwrap_or(body);
    let text = |k: &str| err.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_string();
    ArmError::OperationFailed {
        status: status.to_string(),
        code: Some(text("code")).filter(|c| !c.is_empty()).unwrap_or_else(|| "OperationFailed".into()),
        message: Some(text("message")).filter(|m| !m.is_empty()).unwrap_or_else(|| "(no message)".into()),
        correlation_id: resp.header("x-ms-correlation-request-id").map(str::to_string),
    }
}

/// ARM's error for an answer whose status is not one of `ok`.
fn expect_status(resp: &Response, ok: &[u16]) -> Result<(), ArmError> {
    if ok.contains(&resp.status) {
        return Ok(());
    }
    let correlation = resp.header("x-ms-correlation-request-id").map(str::to_string);
    Err(parse_error_body(resp.status, &resp.body, correlation))
}

/// How an operation's progress is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Poll {
    /// GET the `Azure-AsyncOperation` status resource: `{"status": …}`.
    AsyncOperation(String),
    /// GET the `Location` URL: 202 while running, 200/201/204 when done
    /// (and 404 once a deleted resource is gone).
    Location(String),
    /// GET the resource until ARM says it is gone: a DELETE accepted (202)
    /// without an operation to follow.
    UntilGone(String),
    /// GET the resource until its `provisioningState` ends: a PUT answered
    /// without an operation resource but with a state still under way
    /// (older network APIs).
    ProvisioningState(String),
}

/// What one poll says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    Running,
    Done,
}

/// An operation ARM has accepted and not finished.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation {
    pub poll: Poll,
    deleting: bool,
}

impl Operation {
    /// The operation that `initial`, the answer to a write of
    /// `resource_url`, started; `None` when that answer says it is over
    /// already. `same_origin` tells whether a URL is on the Resource
    /// Manager endpoint: the token is never sent anywhere else, so an
    /// operation header pointing elsewhere is an error.
    pub fn start(
        initial: &Response,
        resource_url: &str,
        deleting: bool,
        same_origin: impl Fn(&str) -> bool,
    ) -> Result<Option<Operation>, ArmError> {
        for header in ["azure-asyncoperation", "location"] {
            if let Some(url) = initial.header(header).filter(|u| !same_origin(u)) {
                return Err(ArmError::Decode {
                    url: resource_url.to_string(),
                    message: format!(
                        "the {header} header points to {url}, outside the Resource Manager endpoint; \
                         the request's token is not sent there"
                    ),
                });
            }
        }
        let op = |poll| Ok(Some(Operation { poll, deleting }));
        if let Some(url) = initial.header("azure-asyncoperation") {
            return op(Poll::AsyncOperation(url.to_string()));
        }
        // A Location on a 200/201 is the created resource's address, not an
        // operation to follow.
        if let (Some(url), 202) = (initial.header("location"), initial.status) {
            return op(Poll::Location(url.to_string()));
        }
        // A DELETE accepted without an operation to follow: done once the
        // resource itself is gone, not at once.
        if deleting && initial.status == 202 {
            return op(Poll::UntilGone(resource_url.to_string()));
        }
        let body = initial.json(resource_url)?;
        match provisioning_state(&body).map(|s| (s, terminal(s))) {
            None | Some((_, Some(true))) => Ok(None),
            Some((s, Some(false))) => Err(failure(s, &body, initial)),
            Some((_, None)) => op(Poll::ProvisioningState(resource_url.to_string())),
        }
    }

    /// The URL to GET next.
    pub fn url(&self) -> &str {
        match &self.poll {
            Poll::AsyncOperation(u) | Poll::Location(u) | Poll::UntilGone(u) | Poll::ProvisioningState(u) => u,
        }
    }

    /// Judges the answer to one poll.
    pub fn observe(&self, resp: &Response) -> Result<Progress, ArmError> {
        let url = self.url();
        match &self.poll {
            Poll::AsyncOperation(_) => {
                expect_status(resp, &[200])?;
                let body = resp.json(url)?;
                let status = body.get("status").and_then(|v| v.as_str()).unwrap_or("InProgress");
                log::debug!("operation status", status = status, url = url);
                match terminal(status) {
                    Some(true) => Ok(Progress::Done),
                    Some(false) => Err(failure(status, &body, resp)),
                    None => Ok(Progress::Running),
                }
            }
            Poll::Location(_) => match resp.status {
                202 => Ok(Progress::Running),
                200 | 201 | 204 => Ok(Progress::Done),
                // For a PUT a 404 is no success but an error.
                404 if self.deleting => Ok(Progress::Done),
                _ => expect_status(resp, &[200]).map(|()| Progress::Done),
            },
            Poll::UntilGone(_) => {
                if is_gone(resp.status, &resp.body) {
                    return Ok(Progress::Done);
                }
                expect_status(resp, &[200])?;
                let body = resp.json(url)?;
                match provisioning_state(&body) {
                    Some(state) if terminal(state) == Some(false) => Err(failure(state, &body, resp)),
                    _ => Ok(Progress::Running),
                }
            }
            Poll::ProvisioningState(_) => {
                expect_status(resp, &[200])?;
                let body = resp.json(url)?;
                let state = provisioning_state(&body).unwrap_or("Succeeded");
                match terminal(state) {
                    Some(true) => Ok(Progress::Done),
                    Some(false) => Err(failure(state, &body, resp)),
                    None => Ok(Progress::Running),
                }
            }
        }
    }
}

/// How long to wait before the next poll, after `last`: as the answer asks
/// (`Retry-After` and its millisecond forms), else `default`. `first`: the
/// wait after the initial answer, which may be none at all (an operation
/// already done); every later one is at least [`MIN_POLL`], so a server
/// answering `Retry-After: 0` (or a date past) is not polled in a tight
/// loop until the deadline.
pub fn pause_after(last: &Response, default: std::time::Duration, first: bool) -> std::time::Duration {
    let wait = last.retry_after().unwrap_or(default);
    if first {
        wait
    } else {
        wait.max(MIN_POLL)
    }
}

impl ArmClient {
    /// Waits for the operation that `initial` (the answer to a PUT or PATCH
    /// of `resource_url`) started.
    pub async fn wait(&self, initial: &Response, resource_url: &str, deadline: Instant) -> Result<(), ArmError> {
        let result = self.follow(initial, resource_url, false, deadline).await;
        // A read cached while the write was under way may predate it.
        self.count_write();
        result
    }

    /// Waits for the operation that `initial` (the answer to a DELETE of
    /// `resource_url`) started: done when the operation says so or, without
    /// an operation resource, when the resource answers "not found".
    pub async fn wait_delete(&self, initial: &Response, resource_url: &str, deadline: Instant) -> Result<(), ArmError> {
        let result = self.follow(initial, resource_url, true, deadline).await;
        self.count_write();
        result
    }

    async fn follow(
        &self,
        initial: &Response,
        resource_url: &str,
        deleting: bool,
        deadline: Instant,
    ) -> Result<(), ArmError> {
        let Some(op) = Operation::start(initial, resource_url, deleting, |u| self.same_origin(u))? else {
            return Ok(());
        };
        let mut wait = pause_after(initial, self.policy.default_poll, true);
        loop {
            self.sleep_until(Instant::now() + wait, deadline).await?;
            let resp = self.send(Method::GET, op.url(), None, &[], deadline).await?;
            match op.observe(&resp)? {
                Progress::Done => return Ok(()),
                Progress::Running => wait = pause_after(&resp, self.policy.default_poll, false),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

    use super::*;

    const RESOURCE: &str = "https://arm.example/subscriptions/s/resourceGroups/rg/providers/P/t/x";
    const OP: &str = "https://arm.example/subscriptions/s/providers/P/locations/l/operations/1";

    fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> Response {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(
                HeaderName::from_bytes(k.as_bytes()).expect("header name"),
                HeaderValue::from_str(v).expect("header value"),
            );
        }
        Response { status, headers: map, body: body.as_bytes().to_vec() }
    }

    fn ours(url: &str) -> bool {
        url.starts_with("https://arm.example/")
    }

    fn start(initial: &Response, deleting: bool) -> Result<Option<Operation>, ArmError> {
        Operation::start(initial, RESOURCE, deleting, ours)
    }

    #[test]
    fn azure_async_operation_is_followed_first() {
        let initial = answer(201, &[("azure-asyncoperation", OP), ("location", "https://arm.example/other")], r#"{}"#);
        let op = start(&initial, false).expect("ok").expect("an operation");
        assert_eq!(op.poll, Poll::AsyncOperation(OP.into()));
        assert_eq!(op.observe(&answer(200, &[], r#"{"status":"InProgress"}"#)).ok(), Some(Progress::Running));
        // No status yet counts as under way.
        assert_eq!(op.observe(&answer(200, &[], r#"{}"#)).ok(), Some(Progress::Running));
        assert_eq!(op.observe(&answer(200, &[], r#"{"status":"Succeeded"}"#)).ok(), Some(Progress::Done));
        for ended in ["Failed", "Canceled", "Cancelled"] {
            let body = format!(r#"{{"status":"{ended}","error":{{"code":"Boom","message":"it broke"}}}}"#);
            let err = op.observe(&answer(200, &[("x-ms-correlation-request-id", "c-1")], &body)).expect_err(ended);
            assert!(
                matches!(&err, ArmError::OperationFailed { code, correlation_id, .. }
                if code == "Boom" && correlation_id.as_deref() == Some("c-1")),
                "{err:?}"
            );
        }
        // The status resource itself failing is ARM's error, not "running".
        let err = op.observe(&answer(404, &[], r#"{"error":{"code":"NotFound","message":"gone"}}"#)).expect_err("404");
        assert_eq!(err.code(), Some("NotFound"));
    }

    #[test]
    fn location_is_followed_on_a_202() {
        let op = start(&answer(202, &[("location", OP)], ""), false).expect("ok").expect("an operation");
        assert_eq!(op.poll, Poll::Location(OP.into()));
        assert_eq!(op.observe(&answer(202, &[], "")).ok(), Some(Progress::Running));
        for done in [200, 201, 204] {
            assert_eq!(op.observe(&answer(done, &[], "")).ok(), Some(Progress::Done), "{done}");
        }
        // A 404 ends a delete, but is an error for a PUT.
        assert!(op.observe(&answer(404, &[], r#"{"error":{"code":"NotFound"}}"#)).is_err());
        let deleting = start(&answer(202, &[("location", OP)], ""), true).expect("ok").expect("an operation");
        assert_eq!(deleting.observe(&answer(404, &[], "")).ok(), Some(Progress::Done));
        assert!(op.observe(&answer(500, &[], "oops")).is_err());
        // On a 200/201 a Location is the resource's address: nothing to follow.
        assert_eq!(start(&answer(201, &[("location", OP)], r#"{"properties":{}}"#), false).ok(), Some(None));
    }

    #[test]
    fn a_202_delete_without_headers_waits_until_the_resource_is_gone() {
        let op = start(&answer(202, &[], ""), true).expect("ok").expect("an operation");
        assert_eq!(op.poll, Poll::UntilGone(RESOURCE.into()));
        let still = answer(200, &[], r#"{"properties":{"provisioningState":"Deleting"}}"#);
        assert_eq!(op.observe(&still).ok(), Some(Progress::Running));
        let gone = answer(404, &[], r#"{"error":{"code":"ResourceNotFound","message":"gone"}}"#);
        assert_eq!(op.observe(&gone).ok(), Some(Progress::Done));
        // A 404 that is not ARM's "not found" (a proxy's page) is an error.
        assert!(op.observe(&answer(404, &[], "<html>not here</html>")).is_err());
        let failed = answer(200, &[], r#"{"properties":{"provisioningState":"Failed"}}"#);
        assert!(matches!(op.observe(&failed), Err(ArmError::OperationFailed { .. })));
        // A 202 to a PUT without headers is judged on its body.
        assert_eq!(
            start(&answer(202, &[], r#"{"properties":{"provisioningState":"Succeeded"}}"#), false).ok(),
            Some(None)
        );
    }

    #[test]
    fn provisioning_state_of_the_answer_itself() {
        // Done at once: none, or a terminal success.
        assert_eq!(start(&answer(200, &[], r#"{"properties":{}}"#), false).ok(), Some(None));
        assert_eq!(start(&answer(200, &[], ""), false).ok(), Some(None));
        assert_eq!(
            start(&answer(201, &[], r#"{"properties":{"provisioningState":"Succeeded"}}"#), false).ok(),
            Some(None)
        );
        let failed = start(&answer(200, &[], r#"{"properties":{"provisioningState":"Failed"}}"#), false);
        assert!(matches!(failed, Err(ArmError::OperationFailed { .. })), "{failed:?}");
        // Under way: the resource is polled until its state ends.
        let op = start(&answer(201, &[], r#"{"properties":{"provisioningState":"Updating"}}"#), false)
            .expect("ok")
            .expect("an operation");
        assert_eq!(op.poll, Poll::ProvisioningState(RESOURCE.into()));
        let updating = answer(200, &[], r#"{"properties":{"provisioningState":"Updating"}}"#);
        assert_eq!(op.observe(&updating).ok(), Some(Progress::Running));
        let done = answer(200, &[], r#"{"properties":{"provisioningState":"Succeeded"}}"#);
        assert_eq!(op.observe(&done).ok(), Some(Progress::Done));
        assert!(op.observe(&answer(200, &[], "not json")).is_err());
    }

    #[test]
    fn operation_urls_off_the_endpoint_are_refused() {
        for header in ["azure-asyncoperation", "location"] {
            let initial = answer(202, &[(header, "https://evil.example/steal")], "");
            let err = start(&initial, false).expect_err(header);
            assert!(err.to_string().contains("outside the Resource Manager endpoint"), "{err}");
        }
    }

    #[test]
    fn each_retry_after_form_sets_the_pause() {
        let default = Duration::from_secs(5);
        let seconds = answer(202, &[("retry-after", "7")], "");
        assert_eq!(pause_after(&seconds, default, false), Duration::from_secs(7));
        let ms = answer(202, &[("retry-after", "7"), ("retry-after-ms", "1500")], "");
        assert_eq!(pause_after(&ms, default, false), Duration::from_millis(1500), "milliseconds win");
        let x_ms = answer(202, &[("x-ms-retry-after-ms", "2500")], "");
        assert_eq!(pause_after(&x_ms, default, false), Duration::from_millis(2500));
        let later = (time::OffsetDateTime::now_utc() + time::Duration::seconds(30))
            .format(&time::format_description::well_known::Rfc2822)
            .expect("date");
        let date = answer(202, &[("retry-after", &later)], "");
        let wait = pause_after(&date, default, false);
        assert!(wait > Duration::from_secs(25) && wait <= Duration::from_secs(30), "{wait:?}");
        let none = answer(202, &[], "");
        assert_eq!(pause_after(&none, default, false), default);
        // Zero, or a date past: at once after the write, at least a second
        // between polls.
        let zero = answer(202, &[("retry-after", "0")], "");
        assert_eq!(pause_after(&zero, default, true), Duration::ZERO);
        assert_eq!(pause_after(&zero, default, false), MIN_POLL);
        let past = answer(202, &[("retry-after", "Mon, 01 Jan 2001 00:00:00 GMT")], "");
        assert_eq!(pause_after(&past, default, false), MIN_POLL);
        // Absurd values are capped at an hour.
        let huge = answer(202, &[("retry-after", "99999999")], "");
        assert_eq!(pause_after(&huge, default, false), Duration::from_secs(3600));
        let garbage = answer(202, &[("retry-after", "soon")], "");
        assert_eq!(pause_after(&garbage, default, false), default);
    }
}
