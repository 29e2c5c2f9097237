//! Recording of ARM exchanges as traffic files in the format `oav validate-traffic` reads:
//! one JSON document per exchange with `liveRequest` and `liveResponse`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{json, Map, Value};

use crate::http::{Req, Resp};

/// Writes one file per recorded exchange into a directory.
#[derive(Debug)]
pub(crate) struct Recorder {
    dir: PathBuf,
    seq: AtomicU64,
}

/// Headers never written to a recording: credentials.
const REDACTED: &[&str] = &["authorization", "cookie", "proxy-authorization"];

impl Recorder {
    pub fn new(dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(Recorder { dir: dir.to_path_buf(), seq: AtomicU64::new(1) })
    }

    /// Records an exchange; `base_url` makes the recorded URL absolute.
    pub fn record(&self, base_url: &str, req: &Req, resp: &Resp) -> std::io::Result<PathBuf> {
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        let doc = exchange(base_url, req, resp);
        let path = self.dir.join(file_name(n, req));
        let text = serde_json::to_string_pretty(&doc).map_err(std::io::Error::other)?;
        std::fs::write(&path, text)?;
        Ok(path)
    }
}

/// `00012-PUT-routeTables-rt.json`: ordered, and readable at a glance.
fn file_name(n: u64, req: &Req) -> String {
    let tail: Vec<&str> =
        req.path.trim_matches('/').rsplit('/').take(2).collect::<Vec<_>>().into_iter().rev().collect();
    let tail: String = tail
        .join("-")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '_' })
        .collect();
    format!("{n:05}-{}-{tail}.json", req.method)
}

/// The traffic document for one exchange.
pub(crate) fn exchange(base_url: &str, req: &Req, resp: &Resp) -> Value {
    let mut req_headers = Map::new();
    for (k, v) in &req.headers {
        if !REDACTED.contains(&k.as_str()) {
            req_headers.insert(k.clone(), json!(v));
        }
    }
    let req_body = if req.body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&req.body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&req.body).into_owned()))
    };
    let mut resp_headers = Map::new();
    if resp.body.is_some() {
        resp_headers.insert("Content-Type".into(), json!("application/json; charset=utf-8"));
    }
    for (k, v) in &resp.headers {
        resp_headers.insert(k.clone(), json!(v));
    }
    json!({
        "liveRequest": {
            "method": req.method,
            "url": format!("{base_url}{}", req.raw_target),
            "headers": req_headers,
            "body": req_body,
        },
        "liveResponse": {
            "statusCode": resp.status.to_string(),
            "headers": resp_headers,
            "body": resp.body.clone().unwrap_or(Value::Null),
        },
    })
}
