//! The ARM client: one HTTP connection pool shared by the credential and
//! every ARM call, with the request pipeline Azure's SDKs use — bearer token,
//! client request ID, retries with backoff that honour `Retry-After`, and
//! waiting on long-running operations (see `lro`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use azure_core::credentials::TokenCredential;
use reqwest::header::HeaderMap;
use reqwest::Method;
use tokio::sync::OnceCell;
use tokio::time::Instant;

use super::credentials;
use super::endpoint::Endpoint;
use super::error::{is_gone, parse_error_body, ArmError};
use super::settings::Settings;
use crate::log;
use crate::tf::stop::StopSignal;

/// The most of a response body that is read: far above any ARM document
/// this provider reads (a route table with 400 routes is ~200 KiB).
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// `User-Agent` of every request.
pub const USER_AGENT: &str = concat!("terraform-provider-aksudr/", env!("CARGO_PKG_VERSION"));

/// How hard to try before giving up on one request.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// First backoff; doubled each retry, with jitter, up to `max_delay`.
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Poll interval of a long-running operation that gives no `Retry-After`.
    pub default_poll: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            base_delay: Duration::from_millis(800),
            max_delay: Duration::from_secs(60),
            default_poll: Duration::from_secs(5),
        }
    }
}

/// A response read in full.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    pub fn json(&self, url: &str) -> Result<serde_json::Value, ArmError> {
        if self.body.is_empty() {
            return Ok(serde_json::Value::Null);
        }
        serde_json::from_slice(&self.body)
            .map_err(|e| ArmError::Decode { url: url.to_string(), message: format!("body is not JSON: {e}") })
    }
    /// How long the server asks to wait: `retry-after-ms` or
    /// `x-ms-retry-after-ms` (milliseconds, Azure's finer form, preferred
    /// when present), else `Retry-After` as seconds or as an HTTP date.
    /// Capped at an hour so that no answer can push a wait out of range.
    pub fn retry_after(&self) -> Option<Duration> {
        const CAP: Duration = Duration::from_secs(3600);
        let ms = ["retry-after-ms", "x-ms-retry-after-ms"]
            .iter()
            .find_map(|h| self.header(h).and_then(|v| v.trim().parse::<u64>().ok()))
            .map(Duration::from_millis);
        let retry_after = || {
            let v = self.header("retry-after")?.trim();
            if let Ok(secs) = v.parse::<u64>() {
                return Some(Duration::from_secs(secs.min(CAP.as_secs())));
            }
            let at = time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc2822).ok()?;
            let wait = at - time::OffsetDateTime::now_utc();
            Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
        };
        ms.or_else(retry_after).map(|d| d.min(CAP))
    }
}

/// Talks to Azure Resource Manager on behalf of every resource.
pub struct ArmClient {
    pub(super) http: reqwest::Client,
    endpoint: Endpoint,
    config: Settings,
    credential: OnceCell<(credentials::Method, Arc<dyn TokenCredential>)>,
    pub(super) stop: StopSignal,
    pub(super) policy: RetryPolicy,
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Writes (PUT, PATCH, DELETE) sent so far: reads cached before the
    /// latest write are not reused.
    writes: std::sync::atomic::AtomicU64,
}

/// How many times a token is asked for before a transient failure is
/// reported.
const TOKEN_ATTEMPTS: u32 = 3;

impl std::fmt::Debug for ArmClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArmClient").field("endpoint", &self.endpoint.base()).finish_non_exhaustive()
    }
}

/// Extra roots from `SSL_CERT_FILE` and `SSL_CERT_DIR`, as Go's TLS stack
/// (and so Terraform's other providers) honours them.
fn extra_roots() -> Vec<reqwest::Certificate> {
    let mut pems = Vec::new();
    if let Ok(file) = std::env::var("SSL_CERT_FILE") {
        if let Ok(bytes) = std::fs::read(&file) {
            pems.push(bytes);
        }
    }
    if let Ok(dir) = std::env::var("SSL_CERT_DIR") {
        for d in dir.split(':') {
            if let Ok(entries) = std::fs::read_dir(d) {
                for e in entries.flatten() {
                    if let Ok(bytes) = std::fs::read(e.path()) {
                        pems.push(bytes);
                    }
                }
            }
        }
    }
    pems.iter().filter_map(|p| reqwest::Certificate::from_pem_bundle(p).ok()).flatten().collect()
}

impl ArmClient {
    /// Builds the client; no network traffic and no credential yet.
    pub fn new(config: Settings, stop: StopSignal) -> Result<ArmClient, ArmError> {
        let http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(Duration::from_secs(30))
            .read_timeout(Duration::from_secs(120))
            .redirect(reqwest::redirect::Policy::none())
            .tls_certs_merge(extra_roots())
            .build()
            .map_err(|e| ArmError::Credential(format!("building the HTTP client: {e}")))?;
        let endpoint = Endpoint::parse(&config.resource_manager_endpoint)?;
        Ok(ArmClient {
            http,
            endpoint,
            config,
            credential: OnceCell::new(),
            stop,
            policy: RetryPolicy::default(),
            locks: Mutex::new(HashMap::new()),
            writes: std::sync::atomic::AtomicU64::new(0),
        })
    }

    pub fn with_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    pub fn subscription_id(&self) -> Option<&str> {
        self.config.subscription_id.as_deref()
    }

    /// Counts writes this client has started, and again when their
    /// operations end; a read cached under an older number may miss one.
    pub fn write_generation(&self) -> u64 {
        self.writes.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub(super) fn count_write(&self) {
        self.writes.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// A lock serialising writes to one object (a route table and its
    /// routes and associations): Azure's network provider answers concurrent
    /// writes to one route table with 409 AnotherOperationInProgress.
    pub async fn lock(&self, key: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let m = {
            let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
            locks.entry(key.to_ascii_lowercase()).or_default().clone()
        };
        m.lock_owned().await
    }

    /// A token for ARM, obtained before `deadline` (the credential may run
    /// `az` or call the login endpoint, either of which can hang).
    /// A token request that failed transiently (the login endpoint
    /// unreachable or failing) is tried again, [`TOKEN_ATTEMPTS`] times in
    /// all: fewer than ARM requests get, since every RPC waiting on a token
    /// waits through them, and a mistyped authority host must not stall a
    /// plan for minutes.
    async fn token(&self, deadline: Instant) -> Result<String, ArmError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result =
                tokio::time::timeout_at(deadline, self.token_unbounded()).await.map_err(|_| ArmError::Timeout)?;
            match result {
                Err(e @ ArmError::CredentialUnavailable(_))
                    if attempt < TOKEN_ATTEMPTS.min(self.policy.max_attempts) =>
                {
                    log::warn!("no token for now, retrying", error = e.to_string(), attempt = attempt);
                    self.sleep_until(Instant::now() + self.backoff(attempt), deadline).await?;
                }
                other => return other,
            }
        }
    }

    async fn token_unbounded(&self) -> Result<String, ArmError> {
        let (method, cred) = self
            .credential
            .get_or_try_init(|| async {
                let method = credentials::choose(&self.config)?;
                log::info!("authenticating to Azure", method = format!("{method:?}"));
                Ok::<_, ArmError>((method, credentials::build(method, &self.config, &self.http)?))
            })
            .await?;
        let token = self
            .stop
            .or_stopped(cred.get_token(&[self.endpoint.scope()], None))
            .await
            .map_err(|_| ArmError::Stopped)?
            .map_err(|e| credentials::token_error(*method, &self.config, &e))?;
        Ok(token.token.secret().to_string())
    }

    /// Whether `url` is on the Resource Manager endpoint itself: operation
    /// URLs come from response headers, and the bearer token must never
    /// follow one anywhere else (see [`Endpoint::same_origin`]).
    pub fn same_origin(&self, url: &str) -> bool {
        self.endpoint.same_origin(url)
    }

    /// The full URL of an ARM path (an ID or an ID plus action).
    pub fn url(&self, path: &str, api_version: &str) -> String {
        self.endpoint.url(path, api_version)
    }

    /// The URL of an ARM path, checked to address exactly that path on the
    /// endpoint (see [`Endpoint::resource_url`]); nothing is sent otherwise.
    pub fn resource_url(&self, path: &str, api_version: &str) -> Result<String, ArmError> {
        self.endpoint.resource_url(path, api_version).inspect_err(|_| {
            log::error!("refused to send a request to an unsafe path", path = path);
        })
    }

    /// Sends one request with retries; returns the final response whatever
    /// its status.
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        body: Option<&serde_json::Value>,
        headers: &[(&str, &str)],
        deadline: Instant,
    ) -> Result<Response, ArmError> {
        self.send_with(method, url, body, headers, deadline, true).await
    }

    /// [`ArmClient::send`]; with `retry_server_errors` false a 5xx answer
    /// is returned at once, for writes whose callers must find out whether
    /// the server committed them before sending again.
    async fn send_with(
        &self,
        method: Method,
        url: &str,
        body: Option<&serde_json::Value>,
        headers: &[(&str, &str)],
        deadline: Instant,
        retry_server_errors: bool,
    ) -> Result<Response, ArmError> {
        if matches!(method, Method::PUT | Method::PATCH | Method::DELETE) {
            self.count_write();
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let token = self.token(deadline).await?;
            let request_id = uuid::Uuid::new_v4().to_string();
            let mut req = self
                .http
                .request(method.clone(), url)
                .bearer_auth(token)
                .header("x-ms-client-request-id", &request_id)
                .header("accept", "application/json");
            for (k, v) in headers {
                req = req.header(*k, *v);
            }
            if let Some(b) = body {
                req = req.json(b);
            }
            log::debug!("ARM request", method = method.as_str(), url = url, attempt = attempt, request_id = request_id);
            let outcome = self.stop.or_stopped(tokio::time::timeout_at(deadline, async {
                let mut resp = req.send().await?;
                let status = resp.status().as_u16();
                let headers = resp.headers().clone();
                // ARM's answers here are small documents; a body past the
                // cap is cut (and then fails to decode) rather than read
                // into memory whole.
                let mut body = Vec::new();
                while let Some(chunk) = resp.chunk().await? {
                    let room = MAX_BODY_BYTES.saturating_sub(body.len());
                    body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                    if chunk.len() > room {
                        log::warn!("response body over the size cap; cut", url = url, cap = MAX_BODY_BYTES);
                        break;
                    }
                }
                Ok::<_, reqwest::Error>(Response { status, headers, body })
            }));
            let wait = match outcome.await {
                Err(_) => return Err(ArmError::Stopped),
                Ok(Err(_)) => return Err(ArmError::Timeout),
                // A write whose request went out and whose answer was lost
                // is not retried blindly: the caller finds out what Azure
                // did (a create by reading the object; an update by sending
                // the same idempotent PUT again, whose If-Match, if any,
                // tells).
                Ok(Ok(Err(e))) if method == Method::PUT && !e.is_connect() => {
                    return Err(ArmError::Unanswered {
                        method: method.to_string(),
                        url: url.to_string(),
                        message: super::error::cause_chain(&e),
                    });
                }
                Ok(Ok(Err(e))) => {
                    let err = ArmError::Transport {
                        method: method.to_string(),
                        url: url.to_string(),
                        message: super::error::cause_chain(&e),
                    };
                    if attempt >= self.policy.max_attempts {
                        return Err(err);
                    }
                    log::warn!("ARM request failed, retrying", error = err.to_string(), attempt = attempt);
                    self.backoff(attempt)
                }
                Ok(Ok(Ok(resp))) => {
                    log::debug!("ARM response", status = resp.status, url = url, request_id = request_id);
                    let server_error = resp.status >= 500;
                    if !self.retryable(&resp)
                        || attempt >= self.policy.max_attempts
                        || (server_error && !retry_server_errors)
                    {
                        return Ok(resp);
                    }
                    let wait = resp.retry_after().unwrap_or_else(|| self.backoff(attempt));
                    log::warn!(
                        "ARM asked to retry",
                        status = resp.status,
                        code = parse_error_body(resp.status, &resp.body, None).code().unwrap_or_default(),
                        wait_ms = wait.as_millis() as u64,
                        attempt = attempt
                    );
                    wait
                }
            };
            self.sleep_until(Instant::now() + wait, deadline).await?;
        }
    }

    /// Throttling, transient server errors, and the network provider's
    /// "try again" conflicts.
    fn retryable(&self, r: &Response) -> bool {
        match r.status {
            429 | 500 | 502 | 503 | 504 => true,
            409 => parse_error_body(409, &r.body, None).code().is_some_and(|c| {
                c.eq_ignore_ascii_case("AnotherOperationInProgress") || c.eq_ignore_ascii_case("RetryableError")
            }),
            _ => false,
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.policy.base_delay.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let capped = exp.min(self.policy.max_delay);
        // Full jitter over the upper half keeps parallel retries apart.
        let half = capped / 2;
        half + half.mul_f64(rand::random::<f64>())
    }

    /// Waits until `until`, failing when `deadline` comes first or the
    /// provider is stopped.
    pub(super) async fn sleep_until(&self, until: Instant, deadline: Instant) -> Result<(), ArmError> {
        // A wait that would end past the deadline ends at it: the operation
        // gets its whole time, and the time-out is reported when it is due.
        self.stop.or_stopped(tokio::time::sleep_until(until.min(deadline))).await.map_err(|_| ArmError::Stopped)?;
        if until > deadline {
            return Err(ArmError::Timeout);
        }
        Ok(())
    }

    /// Fails with ARM's error unless the status is one of `ok`.
    pub fn ensure_status(&self, resp: &Response, ok: &[u16]) -> Result<(), ArmError> {
        if ok.contains(&resp.status) {
            Ok(())
        } else {
            let correlation = resp.header("x-ms-correlation-request-id").map(str::to_string);
            Err(parse_error_body(resp.status, &resp.body, correlation))
        }
    }

    /// GET of a resource; `None` when it does not exist.
    pub async fn get(
        &self,
        path: &str,
        api_version: &str,
        deadline: Instant,
    ) -> Result<Option<serde_json::Value>, ArmError> {
        let url = self.resource_url(path, api_version)?;
        let resp = self.send(Method::GET, &url, None, &[], deadline).await?;
        if is_gone(resp.status, &resp.body) {
            return Ok(None);
        }
        self.ensure_status(&resp, &[200])?;
        resp.json(&url).map(Some)
    }

    /// PUT (an update, or a create of something whose absence was just
    /// checked) and wait for the operation to finish. `if_match` guards
    /// against overwriting someone else's change.
    pub async fn put(
        &self,
        path: &str,
        api_version: &str,
        body: &serde_json::Value,
        if_match: Option<&str>,
        deadline: Instant,
    ) -> Result<(), ArmError> {
        let (resp, url) = self.put_accepted(path, api_version, body, if_match, deadline).await?;
        self.wait(&resp, &url, deadline).await
    }

    /// Starts a PUT and returns once ARM accepted it, without waiting for
    /// the operation (the caller records the object first, then waits with
    /// [`ArmClient::wait`]).
    ///
    /// When the answer is lost or the server fails (5xx), the same PUT is
    /// sent again: a PUT carries the whole desired object, so a second one
    /// changes nothing that the first did not. With `if_match`, a first PUT
    /// that landed makes the second fail with 412; that 412 comes back as
    /// [`ArmError::Unanswered`] (the outcome is unknown), for the caller to
    /// resolve by reading, while a 412 to a first attempt means someone
    /// else changed the object.
    pub async fn put_accepted(
        &self,
        path: &str,
        api_version: &str,
        body: &serde_json::Value,
        if_match: Option<&str>,
        deadline: Instant,
    ) -> Result<(Response, String), ArmError> {
        let url = self.resource_url(path, api_version)?;
        let headers: Vec<(&str, &str)> = if_match.map(|e| vec![("if-match", e)]).unwrap_or_default();
        // Whether an earlier sending may have landed unseen.
        let mut ambiguous = false;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let last = attempt >= self.policy.max_attempts;
            match self.send_with(Method::PUT, &url, Some(body), &headers, deadline, false).await {
                Err(e @ ArmError::Unanswered { .. }) if !last => {
                    log::warn!("the answer to a PUT was lost; sending it again", error = e.to_string());
                    ambiguous = true;
                }
                Err(e) => return Err(e),
                Ok(resp) if resp.status >= 500 && !last => {
                    log::warn!("a PUT failed on the server; sending it again", status = resp.status);
                    ambiguous = true;
                }
                Ok(resp) if resp.status == 412 && ambiguous => {
                    return Err(unanswered(&url, "a resent PUT met 412, its first sending may have landed"));
                }
                Ok(resp) => {
                    self.ensure_status(&resp, &[200, 201, 202])?;
                    return Ok((resp, url));
                }
            }
            self.sleep_until(Instant::now() + self.backoff(attempt), deadline).await?;
        }
    }

    /// Starts the PUT that creates `path` (known not to exist a moment
    /// ago), with `If-None-Match: *`, and returns once ARM accepted it.
    /// When the answer is lost or the server fails (5xx), the object is
    /// read: if it exists now, ARM took this PUT, and waiting follows the
    /// object's `provisioningState`; only if it does not is the PUT sent
    /// again. (A blind retry would meet its own object: 412 here, and AKS
    /// answers a second PUT during the first one's operation with 409.)
    /// Errors for which [`ArmError::may_have_applied`] holds leave the
    /// outcome unknown.
    pub async fn put_create(
        &self,
        path: &str,
        api_version: &str,
        body: &serde_json::Value,
        deadline: Instant,
    ) -> Result<(Response, String), ArmError> {
        let url = self.resource_url(path, api_version)?;
        let headers = [("if-none-match", "*")];
        let mut attempt = 0;
        loop {
            attempt += 1;
            let last = attempt >= self.policy.max_attempts;
            let ambiguous = match self.send_with(Method::PUT, &url, Some(body), &headers, deadline, false).await {
                Err(e @ ArmError::Unanswered { .. }) if !last => e,
                Err(e) => return Err(e),
                Ok(resp) if resp.status >= 500 && !last => self.error_of(&resp),
                // Only after an attempt whose outcome is unknown can a 412
                // be our own object; a first attempt's 412 is someone else's.
                Ok(resp) if resp.status == 412 && attempt > 1 => {
                    unanswered(&url, "a resent create met 412, its first sending may have landed")
                }
                Ok(resp) => {
                    self.ensure_status(&resp, &[200, 201, 202])?;
                    return Ok((resp, url));
                }
            };
            log::warn!("the outcome of a create is unknown; reading the object", error = ambiguous.to_string());
            let seen = match self.send(Method::GET, &url, None, &[], deadline).await {
                Ok(seen) => seen,
                Err(e) => return Err(unanswered(&url, &format!("{ambiguous}; reading the object then failed: {e}"))),
            };
            if seen.status == 200 {
                log::info!("the create was applied", url = url);
                return Ok((Response { status: 201, headers: HeaderMap::new(), body: seen.body }, url));
            }
            if !is_gone(seen.status, &seen.body) {
                let e = self.error_of(&seen);
                return Err(unanswered(&url, &format!("{ambiguous}; reading the object then failed: {e}")));
            }
            self.sleep_until(Instant::now() + self.backoff(attempt), deadline).await?;
        }
    }

    /// ARM's error in a response.
    fn error_of(&self, resp: &Response) -> ArmError {
        let correlation = resp.header("x-ms-correlation-request-id").map(str::to_string);
        parse_error_body(resp.status, &resp.body, correlation)
    }

    /// DELETE and wait; an object already gone is fine.
    pub async fn delete(&self, path: &str, api_version: &str, deadline: Instant) -> Result<(), ArmError> {
        let url = self.resource_url(path, api_version)?;
        let resp = self.send(Method::DELETE, &url, None, &[], deadline).await?;
        if resp.status == 204 || is_gone(resp.status, &resp.body) {
            self.count_write();
            return Ok(());
        }
        self.ensure_status(&resp, &[200, 202])?;
        self.wait_delete(&resp, &url, deadline).await
    }

    /// POST of an action (e.g. `listClusterUserCredential`) returning JSON.
    pub async fn post(&self, path: &str, api_version: &str, deadline: Instant) -> Result<serde_json::Value, ArmError> {
        let url = self.resource_url(path, api_version)?;
        let resp = self.send(Method::POST, &url, None, &[], deadline).await?;
        self.ensure_status(&resp, &[200])?;
        resp.json(&url)
    }
}

/// A PUT whose outcome is unknown.
fn unanswered(url: &str, message: &str) -> ArmError {
    ArmError::Unanswered { method: "PUT".into(), url: url.to_string(), message: message.to_string() }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn response(headers: &[(&'static str, &str)]) -> Response {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(*k, v.parse().expect("header value"));
        }
        Response { status: 429, headers: map, body: Vec::new() }
    }

    #[test]
    fn retry_after_in_every_form() {
        assert_eq!(response(&[("retry-after", "7")]).retry_after(), Some(Duration::from_secs(7)));
        assert_eq!(response(&[("retry-after", "99999999")]).retry_after(), Some(Duration::from_secs(3600)));
        assert_eq!(
            response(&[("retry-after", "7"), ("retry-after-ms", "250")]).retry_after(),
            Some(Duration::from_millis(250))
        );
        assert_eq!(response(&[("x-ms-retry-after-ms", "1500")]).retry_after(), Some(Duration::from_millis(1500)));
        let in_a_minute = time::OffsetDateTime::now_utc() + time::Duration::seconds(60);
        let date = in_a_minute.format(&time::format_description::well_known::Rfc2822).expect("formats");
        let wait = response(&[("retry-after", &date)]).retry_after().expect("a date");
        assert!(wait > Duration::from_secs(55) && wait <= Duration::from_secs(60), "{wait:?}");
        assert_eq!(
            response(&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")]).retry_after(),
            Some(Duration::ZERO),
            "a date in the past: no wait"
        );
        assert_eq!(response(&[("retry-after", "soon")]).retry_after(), None);
        assert_eq!(response(&[]).retry_after(), None);
    }

    #[test]
    fn only_arm_not_found_errors_mean_gone() {
        assert!(is_gone(404, br#"{"error":{"code":"ResourceNotFound","message":"x"}}"#));
        assert!(is_gone(404, br#"{"code":"NotFound","message":"x"}"#));
        assert!(is_gone(404, br#"{"error":{"code":"ResourceGroupNotFound"}}"#));
        assert!(!is_gone(404, b"<html>404 Not Found</html>"));
        assert!(!is_gone(404, b""));
        assert!(!is_gone(404, br#"{"error":{"code":"SubscriptionNotFound"}}"#));
        assert!(!is_gone(200, br#"{"error":{"code":"NotFound"}}"#));
    }
}
