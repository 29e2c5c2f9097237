//! The Microsoft identity platform stand-in: the v2.0 token endpoint for client-credential
//! grants (secret or JWT assertion), the discovery documents MSAL-style clients fetch first,
//! and bearer-token checks on ARM requests.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

use crate::error::ArmError;
use crate::guid::IdGen;
use crate::http::{parse_form, Req, Resp};

/// The assertion type a `client_assertion` must declare.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Which credentials the token endpoint accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthConfig {
    /// The only client id granted tokens.
    pub client_id: String,
    /// The secret accepted for `client_secret` grants.
    pub client_secret: String,
    /// `None`: any syntactically valid JWT (three base64url parts) is accepted as
    /// `client_assertion`; `Some(a)`: only exactly `a`.
    pub client_assertion: Option<String>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            client_id: "11111111-1111-1111-1111-111111111111".into(),
            client_secret: "armsim-secret".into(),
            client_assertion: None,
        }
    }
}

/// Issued tokens and the accepted credentials.
#[derive(Debug)]
pub(crate) struct Auth {
    pub config: AuthConfig,
    /// Issued tokens and their audience (`None`: any, for admin-issued ones).
    tokens: Mutex<HashMap<String, Option<String>>>,
}

/// Endpoints of the identity platform the simulator answers.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum AuthPath {
    Token(String),
    OpenIdConfig(String),
    InstanceDiscovery,
    Keys,
}

/// Recognises identity-platform paths (`/{tenant}/oauth2/v2.0/token`, …).
pub(crate) fn classify(path: &str) -> Option<AuthPath> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segs.as_slice() {
        [t, o, v, tok] if o.eq_ignore_ascii_case("oauth2") && *v == "v2.0" && tok.eq_ignore_ascii_case("token") => {
            Some(AuthPath::Token(t.to_string()))
        }
        [t, v, wk, oc] if *v == "v2.0" && *wk == ".well-known" && *oc == "openid-configuration" => {
            Some(AuthPath::OpenIdConfig(t.to_string()))
        }
        [_, d, i] if d.eq_ignore_ascii_case("discovery") && i.eq_ignore_ascii_case("instance") => {
            Some(AuthPath::InstanceDiscovery)
        }
        [_, d, v, k] if d.eq_ignore_ascii_case("discovery") && *v == "v2.0" && *k == "keys" => Some(AuthPath::Keys),
        _ => None,
    }
}

/// An error in the identity platform's shape.
fn aad_error(status: u16, error: &str, aadsts: u32, description: &str, ids: &IdGen) -> Resp {
    let trace = ids.guid();
    Resp::json(
        status,
        json!({
            "error": error,
            "error_description": format!("AADSTS{aadsts}: {description} Trace ID: {trace}"),
            "error_codes": [aadsts],
            "timestamp": crate::lro::rfc3339(time::OffsetDateTime::now_utc()),
            "trace_id": trace,
            "correlation_id": ids.guid(),
        }),
    )
}

/// A syntactically valid compact JWS: three non-empty base64url parts, the first two JSON.
fn is_jwt(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty()) {
        return false;
    }
    let json_part = |p: &str| {
        URL_SAFE_NO_PAD
            .decode(p.trim_end_matches('='))
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .is_some_and(|v| v.is_object())
    };
    json_part(parts[0]) && json_part(parts[1]) && URL_SAFE_NO_PAD.decode(parts[2].trim_end_matches('=')).is_ok()
}

impl Auth {
    pub fn new(config: AuthConfig) -> Self {
        Auth { config, tokens: Mutex::new(HashMap::new()) }
    }

    /// Mints a token that ARM requests will accept.
    pub fn issue(&self, ids: &IdGen) -> String {
        self.issue_for(ids, None)
    }

    /// Mints a token for `audience` (the resource of the requested scope).
    fn issue_for(&self, ids: &IdGen, audience: Option<String>) -> String {
        let token = format!("armsim.{}", ids.opaque(4));
        if let Ok(mut t) = self.tokens.lock() {
            t.insert(token.clone(), audience);
        }
        token
    }

    /// Checks the `Authorization` header of an ARM request. ARM distinguishes a missing
    /// header (`AuthenticationFailed`) from a token it cannot validate
    /// (`InvalidAuthenticationToken`); both are 401 with a `WWW-Authenticate` challenge.
    pub fn check(&self, req: &Req, base_url: &str) -> Result<(), ArmError> {
        let challenge = |desc: &str| {
            format!(
                "Bearer authorization_uri=\"{base_url}/00000000-0000-0000-0000-000000000000\", \
                 error=\"invalid_token\", error_description=\"{desc}\""
            )
        };
        let Some(h) = req.header("authorization") else {
            return Err(ArmError::new(
                401,
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is missing.",
            )
            .with_header(
                "WWW-Authenticate",
                challenge("The authentication failed because of missing 'Authorization' header."),
            ));
        };
        let token = match h.split_once(' ') {
            Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") && !t.trim().is_empty() => t.trim(),
            _ => {
                return Err(ArmError::new(
                    401,
                    "AuthenticationFailed",
                    "Authentication failed. The 'Authorization' header is provided in an invalid format.",
                )
                .with_header(
                    "WWW-Authenticate",
                    challenge("The authentication failed because of invalid 'Authorization' header format."),
                ))
            }
        };
        let audience = self.tokens.lock().ok().and_then(|t| t.get(token).cloned());
        let arm = base_url.trim_end_matches('/');
        match audience {
            Some(None) => Ok(()),
            Some(Some(aud)) if aud.trim_end_matches('/').eq_ignore_ascii_case(arm) => Ok(()),
            // ARM's answer to a token for another resource (Graph, Key Vault,
            // the same host on another port).
            Some(Some(aud)) => Err(ArmError::new(
                401,
                "InvalidAuthenticationTokenAudience",
                format!(
                    "The access token has been obtained for wrong audience or resource '{aud}'. It should exactly \
                     match with one of the allowed audiences '{arm}', '{arm}/'."
                ),
            )
            .with_header("WWW-Authenticate", challenge("The access token has been obtained for wrong audience."))),
            None => Err(ArmError::new(401, "InvalidAuthenticationToken", "The access token is invalid.")
                .with_header("WWW-Authenticate", challenge("The access token is invalid."))),
        }
    }

    /// Serves the identity-platform endpoints.
    pub fn handle(&self, which: AuthPath, req: &Req, base_url: &str, ids: &IdGen) -> Resp {
        match which {
            AuthPath::Token(_) if req.method != "POST" => {
                aad_error(405, "invalid_request", 900561, "The endpoint only accepts POST requests.", ids)
            }
            AuthPath::Token(tenant) => self.token(&tenant, req, ids),
            AuthPath::OpenIdConfig(tenant) => Resp::json(
                200,
                json!({
                    "token_endpoint": format!("{base_url}/{tenant}/oauth2/v2.0/token"),
                    "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
                    "jwks_uri": format!("{base_url}/{tenant}/discovery/v2.0/keys"),
                    "response_modes_supported": ["query", "fragment", "form_post"],
                    "subject_types_supported": ["pairwise"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                    "scopes_supported": ["openid", "profile", "email", "offline_access"],
                    "issuer": format!("{base_url}/{tenant}/v2.0"),
                    "authorization_endpoint": format!("{base_url}/{tenant}/oauth2/v2.0/authorize"),
                    "device_authorization_endpoint": format!("{base_url}/{tenant}/oauth2/v2.0/devicecode"),
                    "end_session_endpoint": format!("{base_url}/{tenant}/oauth2/v2.0/logout"),
                    "tenant_region_scope": "EU",
                    "cloud_instance_name": "microsoftonline.com",
                }),
            ),
            AuthPath::InstanceDiscovery => {
                let host = base_url.trim_start_matches("https://").to_string();
                let tenant = req
                    .query_param("authorization_endpoint")
                    .and_then(|a| a.trim_start_matches("https://").split('/').nth(1))
                    .unwrap_or("common")
                    .to_string();
                Resp::json(
                    200,
                    json!({
                        "tenant_discovery_endpoint": format!("{base_url}/{tenant}/v2.0/.well-known/openid-configuration"),
                        "api-version": "1.1",
                        "metadata": [{
                            "preferred_network": host,
                            "preferred_cache": host,
                            "aliases": [host],
                        }],
                    }),
                )
            }
            AuthPath::Keys => Resp::json(200, json!({ "keys": [] })),
        }
    }

    fn token(&self, tenant: &str, req: &Req, ids: &IdGen) -> Resp {
        let form = parse_form(&String::from_utf8_lossy(&req.body));
        let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty());
        let missing = |p: &str| {
            aad_error(
                400,
                "invalid_request",
                900144,
                &format!("The request body must contain the following parameter: '{p}'."),
                ids,
            )
        };
        let Some(grant) = get("grant_type") else {
            return missing("grant_type");
        };
        if grant != "client_credentials" {
            return aad_error(
                400,
                "unsupported_grant_type",
                70003,
                &format!("The app requested an unsupported grant type '{grant}'."),
                ids,
            );
        }
        let Some(client_id) = get("client_id") else {
            return missing("client_id");
        };
        let Some(scope) = get("scope") else {
            return missing("scope");
        };
        if !scope.split(' ').all(|s| s.ends_with("/.default")) {
            return aad_error(
                400,
                "invalid_scope",
                1002012,
                &format!("The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."),
                ids,
            );
        }
        if client_id != self.config.client_id {
            return aad_error(
                400,
                "unauthorized_client",
                700016,
                &format!("Application with identifier '{client_id}' was not found in the directory '{tenant}'."),
                ids,
            );
        }
        if let Some(assertion) = get("client_assertion") {
            if get("client_assertion_type") != Some(JWT_BEARER) {
                return aad_error(
                    400,
                    "invalid_request",
                    700023,
                    &format!("client_assertion_type must be '{JWT_BEARER}'."),
                    ids,
                );
            }
            if !is_jwt(assertion) {
                return aad_error(401, "invalid_client", 50027, "JWT token is invalid or malformed.", ids);
            }
            if self.config.client_assertion.as_deref().is_some_and(|a| a != assertion) {
                return aad_error(401, "invalid_client", 700027, "Client assertion failed signature validation.", ids);
            }
        } else if let Some(secret) = get("client_secret") {
            if secret != self.config.client_secret {
                return aad_error(
                    401,
                    "invalid_client",
                    7000215,
                    &format!("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."),
                    ids,
                );
            }
        } else {
            return aad_error(
                401,
                "invalid_client",
                7000216,
                "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
                ids,
            );
        }
        let audience = scope.split(' ').next().map(|s| s.trim_end_matches("/.default").to_string());
        let token = self.issue_for(ids, audience);
        Resp::json(
            200,
            json!({
                "token_type": "Bearer",
                "expires_in": 3599,
                "ext_expires_in": 3599,
                "access_token": token,
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_paths() {
        assert_eq!(classify("/t/oauth2/v2.0/token"), Some(AuthPath::Token("t".into())));
        assert_eq!(classify("/t/v2.0/.well-known/openid-configuration"), Some(AuthPath::OpenIdConfig("t".into())));
        assert_eq!(classify("/common/discovery/instance"), Some(AuthPath::InstanceDiscovery));
        assert_eq!(classify("/subscriptions/x"), None);
    }

    #[test]
    fn jwt_shape() {
        let h = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256"}"#);
        let p = URL_SAFE_NO_PAD.encode(br#"{"sub":"x"}"#);
        assert!(is_jwt(&format!("{h}.{p}.c2ln")));
        assert!(!is_jwt(&format!("{h}.{p}")));
        assert!(!is_jwt("a.b.c"));
        assert!(!is_jwt(&format!("{h}.{p}.")));
    }
}
