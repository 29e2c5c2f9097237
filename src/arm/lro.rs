//! Waiting for ARM's long-running operations. The order follows Azure's
//! guidelines and the SDKs: the `Azure-AsyncOperation` status resource
//! first, else the `Location` resource, else the resource's own
//! `provisioningState`; each poll honours `Retry-After`.

use reqwest::Method;
use tokio::time::Instant;

use super::client::{ArmClient, Response};
use super::error::ArmError;
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

impl ArmClient {
    /// Waits for the operation that `initial` (the answer to a PUT or PATCH
    /// of `resource_url`) started.
    pub async fn wait(&self, initial: &Response, resource_url: &str, deadline: Instant) -> Result<(), ArmError> {
        let result = self.wait_op(initial, resource_url, false, deadline).await;
        // A read cached while the write was under way may predate it.
        self.count_write();
        result
    }

    /// Waits for the operation that `initial` (the answer to a DELETE of
    /// `resource_url`) started: done when the operation says so or, without
    /// an operation resource, when the resource answers "not found".
    pub async fn wait_delete(&self, initial: &Response, resource_url: &str, deadline: Instant) -> Result<(), ArmError> {
        let result = self.wait_op(initial, resource_url, true, deadline).await;
        self.count_write();
        result
    }

    async fn wait_op(
        &self,
        initial: &Response,
        resource_url: &str,
        deleting: bool,
        deadline: Instant,
    ) -> Result<(), ArmError> {
        for header in ["azure-asyncoperation", "location"] {
            if let Some(url) = initial.header(header).filter(|u| !self.same_origin(u)) {
                return Err(ArmError::Decode {
                    url: resource_url.to_string(),
                    message: format!(
                        "the {header} header points to {url}, outside the Resource Manager endpoint; \
                         the request's token is not sent there"
                    ),
                });
            }
        }
        if let Some(op) = initial.header("azure-asyncoperation").map(str::to_string) {
            return self.poll_async_operation(&op, initial, deadline).await;
        }
        if let Some(loc) = initial.header("location").map(str::to_string) {
            if initial.status == 202 {
                return self.poll_location(&loc, initial, deleting, deadline).await;
            }
        }
        // A DELETE accepted (202) without an operation to follow: done once
        // the resource itself is gone, not at once.
        if deleting && initial.status == 202 {
            return self.poll_until_gone(resource_url, initial, deadline).await;
        }
        // No operation resource: a synchronous answer, or a PUT whose body's
        // provisioningState says whether it is done (older network APIs).
        let body = initial.json(resource_url)?;
        match provisioning_state(&body).map(|s| (s, terminal(s))) {
            None | Some((_, Some(true))) => Ok(()),
            Some((s, Some(false))) => Err(failure(s, &body, initial)),
            Some((_, None)) => self.poll_provisioning_state(resource_url, initial, deadline).await,
        }
    }

    /// Waits before the next poll as the last answer asks. `first`: the
    /// wait after the initial answer, which may be none at all (an
    /// operation already done); every later one is at least
    /// [`MIN_POLL`], so a server answering `Retry-After: 0` (or a date
    /// past) is not polled in a tight loop until the deadline.
    async fn pause(&self, last: &Response, deadline: Instant, first: bool) -> Result<(), ArmError> {
        let wait = last.retry_after().unwrap_or(self.policy.default_poll);
        let wait = if first { wait } else { wait.max(MIN_POLL) };
        self.sleep_until(Instant::now() + wait, deadline).await
    }

    async fn poll_async_operation(&self, url: &str, initial: &Response, deadline: Instant) -> Result<(), ArmError> {
        self.pause(initial, deadline, true).await?;
        loop {
            let resp = self.send(Method::GET, url, None, &[], deadline).await?;
            self.ensure_status(&resp, &[200])?;
            let body = resp.json(url)?;
            let status = body.get("status").and_then(|v| v.as_str()).unwrap_or("InProgress").to_string();
            log::debug!("operation status", status = status, url = url);
            match terminal(&status) {
                Some(true) => return Ok(()),
                Some(false) => return Err(failure(&status, &body, &resp)),
                None => self.pause(&resp, deadline, false).await?,
            }
        }
    }

    async fn poll_location(
        &self,
        url: &str,
        initial: &Response,
        deleting: bool,
        deadline: Instant,
    ) -> Result<(), ArmError> {
        self.pause(initial, deadline, true).await?;
        loop {
            let resp = self.send(Method::GET, url, None, &[], deadline).await?;
            match resp.status {
                202 => self.pause(&resp, deadline, false).await?,
                200 | 201 | 204 => return Ok(()),
                // A deleted resource's Location may answer 404 once gone;
                // for a PUT, a 404 is no success but an error.
                404 if deleting => return Ok(()),
                _ => return self.ensure_status(&resp, &[200]),
            }
        }
    }

    async fn poll_until_gone(&self, url: &str, initial: &Response, deadline: Instant) -> Result<(), ArmError> {
        self.pause(initial, deadline, true).await?;
        loop {
            let resp = self.send(Method::GET, url, None, &[], deadline).await?;
            if super::error::is_gone(resp.status, &resp.body) {
                return Ok(());
            }
            self.ensure_status(&resp, &[200])?;
            let body = resp.json(url)?;
            if let Some(state) = provisioning_state(&body) {
                if terminal(state) == Some(false) {
                    return Err(failure(state, &body, &resp));
                }
            }
            self.pause(&resp, deadline, false).await?;
        }
    }

    async fn poll_provisioning_state(&self, url: &str, initial: &Response, deadline: Instant) -> Result<(), ArmError> {
        self.pause(initial, deadline, true).await?;
        loop {
            let resp = self.send(Method::GET, url, None, &[], deadline).await?;
            self.ensure_status(&resp, &[200])?;
            let body = resp.json(url)?;
            let state = provisioning_state(&body).unwrap_or("Succeeded").to_string();
            match terminal(&state) {
                Some(true) => return Ok(()),
                Some(false) => return Err(failure(&state, &body, &resp)),
                None => self.pause(&resp, deadline, false).await?,
            }
        }
    }
}
