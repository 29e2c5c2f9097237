//! The Resource Manager endpoint and the URLs of requests to it: a request
//! goes out only if its URL addresses exactly the ARM path it was built
//! from, on this endpoint, and the bearer token never follows a URL off it.

use super::error::ArmError;
use super::ids::is_safe_path;

/// A Resource Manager endpoint, parsed once.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// Without a trailing `/`.
    base: String,
    /// The endpoint's own path (usually empty), which every request URL's
    /// path starts with.
    base_path: String,
    /// The token scope: the endpoint's audience plus `/.default`.
    scope: String,
}

impl Endpoint {
    /// Parses the configured endpoint.
    pub fn parse(configured: &str) -> Result<Endpoint, ArmError> {
        let base = configured.trim_end_matches('/').to_string();
        let parsed = reqwest::Url::parse(&base)
            .map_err(|e| ArmError::Credential(format!("the Resource Manager endpoint {base:?}: {e}")))?;
        let base_path = parsed.path().trim_end_matches('/').to_string();
        let scope = format!("{}/.default", arm_audience(&parsed));
        Ok(Endpoint { base, base_path, scope })
    }

    /// The endpoint as configured, without a trailing `/`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The scope tokens are asked for.
    pub fn scope(&self) -> &str {
        &self.scope
    }

    /// Whether `url` is on this endpoint (same scheme, host and effective
    /// port, compared as parsed URLs so that `https://management.azure.com:443`
    /// and `https://MANAGEMENT.azure.com` are the same origin).
    pub fn same_origin(&self, url: &str) -> bool {
        origin(url).is_some_and(|o| Some(o) == origin(&self.base))
    }

    /// The full URL of an ARM path (an ID or an ID plus action).
    pub fn url(&self, path: &str, api_version: &str) -> String {
        format!("{}{}?api-version={}", self.base, path, api_version)
    }

    /// The URL of an ARM path, checked to address exactly that path on the
    /// endpoint: every segment a name Azure allows, and the URL parser's
    /// view of the path equal to it.
    pub fn resource_url(&self, path: &str, api_version: &str) -> Result<String, ArmError> {
        let url = self.url(path, api_version);
        let exact = reqwest::Url::parse(&url).is_ok_and(|u| {
            percent_decode(u.path()) == format!("{}{path}", self.base_path)
                && u.query().is_some_and(|q| q.starts_with("api-version="))
        });
        if !is_safe_path(path) || !exact || !self.same_origin(&url) {
            return Err(ArmError::UnsafePath(path.to_string()));
        }
        Ok(url)
    }
}

/// The token audience of a Resource Manager endpoint: public Azure's
/// endpoint is `management.azure.com`, whose audience is the same URL. A
/// port written out that is the scheme's default is not part of it.
fn arm_audience(endpoint: &reqwest::Url) -> String {
    let host = endpoint.host_str().unwrap_or_default();
    let base = match endpoint.port() {
        Some(p) => format!("{}://{host}:{p}", endpoint.scheme()),
        None => format!("{}://{host}", endpoint.scheme()),
    };
    format!("{base}{}", endpoint.path().trim_end_matches('/'))
}

/// Scheme, host and effective port of an `https` URL.
fn origin(url: &str) -> Option<(String, String, u16)> {
    let u = reqwest::Url::parse(url).ok()?;
    if u.scheme() != "https" {
        return None;
    }
    Some((u.scheme().to_string(), u.host_str()?.to_ascii_lowercase(), u.port_or_known_default()?))
}

/// `%XX` escapes decoded (as a URL parser leaves non-ASCII names), so a
/// path can be compared with the ID it was built from.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(endpoint: &str) -> Endpoint {
        Endpoint::parse(endpoint).expect("endpoint")
    }

    #[test]
    fn origins_compare_as_parsed_urls() {
        for endpoint in
            ["https://management.azure.com", "https://management.azure.com:443/", "https://MANAGEMENT.Azure.com"]
        {
            let c = client(endpoint);
            assert!(
                c.same_origin("https://management.azure.com/subscriptions/s/operations/1?api-version=x"),
                "{endpoint}"
            );
            assert!(c.same_origin("https://management.azure.com:443/x"), "{endpoint}");
            assert!(!c.same_origin("https://management.azure.com.evil.example/x"), "{endpoint}");
            assert!(!c.same_origin("https://management.azure.com:8443/x"), "{endpoint}");
            assert!(!c.same_origin("http://management.azure.com/x"), "{endpoint}");
            assert!(!c.same_origin("https://evil.example/?https://management.azure.com"), "{endpoint}");
            assert_eq!(c.scope(), "https://management.azure.com/.default", "{endpoint}");
        }
    }

    #[test]
    fn request_urls_address_exactly_their_path() {
        let c = client("https://management.azure.com:443");
        let good = "/subscriptions/s/resourceGroups/rg-ü/providers/Microsoft.Network/routeTables/rt";
        let url = c.resource_url(good, "2024-07-01").expect("a plain ID is sent");
        assert!(url.starts_with("https://management.azure.com:443/subscriptions/"), "{url}");
        for bad in [
            "/subscriptions/s/resourceGroups/rg\\..\\..\\x/providers/Microsoft.Network/routeTables/rt",
            "/subscriptions/s/resourceGroups/rg/../../x",
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/routeTables/rt?x=1",
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/routeTables/%2e%2e",
            "//evil.example/x",
            "@evil.example/x",
        ] {
            assert!(matches!(c.resource_url(bad, "v"), Err(ArmError::UnsafePath(_))), "{bad}");
        }
        let c = client("https://arm.example.com/prefix/");
        let url = c.resource_url("/subscriptions/s", "v").expect("under the endpoint's path");
        assert_eq!(url, "https://arm.example.com/prefix/subscriptions/s?api-version=v");
    }
}
