//! The simulator's view of one HTTP exchange: a buffered request and a JSON response, kept
//! independent of hyper so handlers stay plain functions.

use serde_json::Value;

use crate::error::ArmError;

/// A buffered request as the handlers see it.
#[derive(Debug, Clone)]
pub(crate) struct Req {
    pub method: String,
    /// The request target exactly as received (path and query), for recordings.
    pub raw_target: String,
    /// Percent-decoded path.
    pub path: String,
    /// Raw query string (without `?`), as received.
    pub raw_query: String,
    pub query: Vec<(String, String)>,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Req {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn api_version(&self) -> Option<&str> {
        self.query_param("api-version")
    }

    /// The body parsed as JSON; an empty body is `Null`.
    pub fn json(&self) -> Result<Value, ArmError> {
        if self.body.iter().all(|b| b.is_ascii_whitespace()) {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&self.body).map_err(|e| {
            ArmError::invalid_request_format(format!(
                "Cannot parse the request. The request content is not valid JSON: {e}"
            ))
        })
    }

    /// The body parsed as a JSON object (what every PUT/PATCH here expects).
    pub fn json_object(&self) -> Result<serde_json::Map<String, Value>, ArmError> {
        match self.json()? {
            Value::Object(m) => Ok(m),
            _ => Err(ArmError::invalid_request_format(
                "Cannot parse the request. The request content must be a JSON object.",
            )),
        }
    }
}

/// A response: status, extra headers and an optional JSON body.
#[derive(Debug, Clone)]
pub(crate) struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Option<Value>,
}

impl Resp {
    pub fn json(status: u16, body: Value) -> Self {
        Resp { status, headers: Vec::new(), body: Some(body) }
    }

    pub fn empty(status: u16) -> Self {
        Resp { status, headers: Vec::new(), body: None }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub fn from_error(e: &ArmError) -> Self {
        let mut r = Resp::json(e.status, e.body());
        r.headers.extend(e.headers.iter().cloned());
        r
    }
}

/// Handler result: errors become ARM error responses.
pub(crate) type HResult = Result<Resp, ArmError>;

/// Decodes `%XX` escapes (and `+` as space when `plus_is_space`); invalid escapes stay literal.
pub(crate) fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses `a=b&c=d` (query strings and form bodies).
pub(crate) fn parse_form(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes() {
        assert_eq!(percent_decode("a%2Fb+c", true), "a/b c");
        assert_eq!(percent_decode("a%2fb+c", false), "a/b+c");
        assert_eq!(percent_decode("100%", false), "100%");
        assert_eq!(percent_decode("%zz", false), "%zz");
        let f = parse_form("grant_type=client_credentials&scope=https%3A%2F%2Fx%2F.default&e");
        assert_eq!(f[1].1, "https://x/.default");
        assert_eq!(f[2], ("e".to_string(), String::new()));
    }
}
