//! The go-plugin handshake: what Terraform tells the plugin through the
//! environment, and the lines the plugin prints back on stdout.

use std::net::SocketAddr;

use base64::Engine as _;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::CertificateDer;

use super::PluginError;

/// Environment variable whose presence (with [`MAGIC_COOKIE_VALUE`]) shows
/// the process was started by Terraform; Terraform's fixed handshake config.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
/// Terraform's magic cookie value, the same for every provider.
pub const MAGIC_COOKIE_VALUE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// go-plugin's own protocol version, the first field of the handshake line.
pub const CORE_PROTOCOL_VERSION: u32 = 1;
/// The Terraform plugin protocol this provider speaks (tfplugin6).
pub const APP_PROTOCOL_VERSION: u32 = 6;
/// The name Terraform knows the binary by.
pub const BINARY_NAME: &str = "terraform-provider-aksudr";
/// The provider's registry address, used as the key in
/// `TF_REATTACH_PROVIDERS`.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/aksudr/aksudr";

/// Ports the listener may use; both ends inclusive, `0..=0` meaning "any
/// free port".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortRange {
    /// Lowest port to try.
    pub min: u16,
    /// Highest port to try.
    pub max: u16,
}

impl PortRange {
    /// Any free port, chosen by the operating system.
    pub const ANY: PortRange = PortRange { min: 0, max: 0 };
}

/// Everything the plugin takes from Terraform's environment.
#[derive(Clone, Debug)]
pub struct HandshakeConfig {
    /// Where to listen.
    pub ports: PortRange,
    /// Terraform's AutoMTLS client certificate(s), from
    /// `PLUGIN_CLIENT_CERT`; `None` means serve without TLS.
    pub client_certs: Option<Vec<CertificateDer<'static>>>,
}

impl HandshakeConfig {
    /// Reads the handshake environment through `get` (normally
    /// `std::env::var(..).ok()`), failing when the process was not started
    /// by Terraform or Terraform cannot speak protocol 6.
    pub fn from_env<F>(get: F) -> Result<Self, PluginError>
    where
        F: Fn(&str) -> Option<String>,
    {
        if get(MAGIC_COOKIE_KEY).as_deref() != Some(MAGIC_COOKIE_VALUE) {
            return Err(PluginError::NotStartedByTerraform);
        }
        if let Some(offered) = non_empty(get("PLUGIN_PROTOCOL_VERSIONS")) {
            // go-plugin skips entries that are not numbers rather than
            // failing the whole list.
            let speaks_ours =
                offered.split(',').filter_map(|v| v.trim().parse::<u32>().ok()).any(|v| v == APP_PROTOCOL_VERSION);
            if !speaks_ours {
                return Err(PluginError::UnsupportedProtocol { offered });
            }
        }
        let ports = port_range(non_empty(get("PLUGIN_MIN_PORT")), non_empty(get("PLUGIN_MAX_PORT")))?;
        let client_certs = match non_empty(get("PLUGIN_CLIENT_CERT")) {
            None => None,
            Some(pem) => Some(parse_client_certs(&pem)?),
        };
        Ok(HandshakeConfig { ports, client_certs })
    }
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty())
}

/// go-plugin tries each port from `PLUGIN_MIN_PORT` to `PLUGIN_MAX_PORT`;
/// with neither set it lets the system pick. With only one bound set we
/// take the rest of the port space on the other side, rather than fail as
/// go-plugin would.
fn port_range(min: Option<String>, max: Option<String>) -> Result<PortRange, PluginError> {
    if min.is_none() && max.is_none() {
        return Ok(PortRange::ANY);
    }
    let parse = |name: &'static str, v: Option<String>, default: u16| match v {
        None => Ok(default),
        Some(s) => {
            s.trim().parse::<u16>().map_err(|e| PluginError::InvalidEnv { name, value: s, reason: e.to_string() })
        }
    };
    let lo = parse("PLUGIN_MIN_PORT", min, 1)?;
    let hi = parse("PLUGIN_MAX_PORT", max, u16::MAX)?;
    if lo > hi {
        return Err(PluginError::InvalidEnv {
            name: "PLUGIN_MIN_PORT",
            value: lo.to_string(),
            reason: format!("greater than PLUGIN_MAX_PORT ({hi})"),
        });
    }
    Ok(PortRange { min: lo, max: hi })
}

/// Parses the PEM in `PLUGIN_CLIENT_CERT`. go-plugin's own server adds every
/// certificate in it to the accepted pool, so we accept each of them too.
fn parse_client_certs(pem: &str) -> Result<Vec<CertificateDer<'static>>, PluginError> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes()).collect::<Result<Vec<_>, _>>().map_err(|e| {
        PluginError::InvalidEnv { name: "PLUGIN_CLIENT_CERT", value: "(PEM)".into(), reason: e.to_string() }
    })?;
    if certs.is_empty() {
        return Err(PluginError::InvalidEnv {
            name: "PLUGIN_CLIENT_CERT",
            value: "(PEM)".into(),
            reason: "no CERTIFICATE block found".into(),
        });
    }
    Ok(certs)
}

/// The go-plugin handshake line (without the newline):
/// `CORE|APP|tcp|ADDR|grpc|CERT`, where CERT is the server certificate's
/// DER in unpadded standard base64 (go-plugin decodes it with
/// `base64.RawStdEncoding`), empty without TLS.
pub fn handshake_line(addr: SocketAddr, server_cert_der: Option<&[u8]>) -> String {
    let cert =
        server_cert_der.map(|der| base64::engine::general_purpose::STANDARD_NO_PAD.encode(der)).unwrap_or_default();
    format!("{CORE_PROTOCOL_VERSION}|{APP_PROTOCOL_VERSION}|tcp|{addr}|grpc|{cert}")
}

/// The JSON value for `TF_REATTACH_PROVIDERS` that points Terraform at a
/// provider already running (debug mode). `Test: true` tells Terraform not
/// to kill the process when it is done with it.
pub fn reattach_json(addr: SocketAddr, pid: u32) -> String {
    let value = serde_json::json!({
        PROVIDER_ADDRESS: {
            "Protocol": "grpc",
            "ProtocolVersion": APP_PROTOCOL_VERSION,
            "Pid": pid,
            "Test": true,
            "Addr": { "Network": "tcp", "String": addr.to_string() },
        }
    });
    value.to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    const COOKIE: (&str, &str) = (MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE);

    fn test_cert_pem() -> String {
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec!["client".to_string()]).unwrap();
        params.self_signed(&key).unwrap().pem()
    }

    #[test]
    fn cookie_is_required() {
        assert!(matches!(HandshakeConfig::from_env(env(&[])), Err(PluginError::NotStartedByTerraform)));
        assert!(matches!(
            HandshakeConfig::from_env(env(&[(MAGIC_COOKIE_KEY, "nope")])),
            Err(PluginError::NotStartedByTerraform)
        ));
        let cfg = HandshakeConfig::from_env(env(&[COOKIE])).unwrap();
        assert_eq!(cfg.ports, PortRange::ANY);
        assert!(cfg.client_certs.is_none());
    }

    #[test]
    fn protocol_versions_must_include_6() {
        for ok in ["6", "5,6", " 5 , 6 ", "x,6", ""] {
            let r = HandshakeConfig::from_env(env(&[COOKIE, ("PLUGIN_PROTOCOL_VERSIONS", ok)]));
            assert!(r.is_ok(), "{ok:?}");
        }
        for bad in ["5", "4,5", "60", "x"] {
            let r = HandshakeConfig::from_env(env(&[COOKIE, ("PLUGIN_PROTOCOL_VERSIONS", bad)]));
            assert!(matches!(r, Err(PluginError::UnsupportedProtocol { ref offered }) if offered == bad), "{bad:?}");
        }
    }

    #[test]
    fn port_range_from_env() {
        let get = |pairs: &[(&str, &str)]| {
            let mut all = vec![COOKIE];
            all.extend_from_slice(pairs);
            HandshakeConfig::from_env(env(&all)).map(|c| c.ports)
        };
        assert_eq!(
            get(&[("PLUGIN_MIN_PORT", "10000"), ("PLUGIN_MAX_PORT", "25000")]).unwrap(),
            PortRange { min: 10000, max: 25000 }
        );
        assert_eq!(get(&[("PLUGIN_MIN_PORT", "20000")]).unwrap(), PortRange { min: 20000, max: 65535 });
        assert_eq!(get(&[("PLUGIN_MAX_PORT", "3000")]).unwrap(), PortRange { min: 1, max: 3000 });
        assert!(get(&[("PLUGIN_MIN_PORT", "abc")]).is_err());
        assert!(get(&[("PLUGIN_MAX_PORT", "70000")]).is_err());
        assert!(get(&[("PLUGIN_MIN_PORT", "9"), ("PLUGIN_MAX_PORT", "8")]).is_err());
    }

    #[test]
    fn client_cert_pem_is_parsed() {
        let pem = test_cert_pem();
        let two = format!("{pem}{}", test_cert_pem());
        let cfg = HandshakeConfig::from_env(env(&[COOKIE, ("PLUGIN_CLIENT_CERT", &pem)])).unwrap();
        assert_eq!(cfg.client_certs.unwrap().len(), 1);
        let cfg = HandshakeConfig::from_env(env(&[COOKIE, ("PLUGIN_CLIENT_CERT", &two)])).unwrap();
        assert_eq!(cfg.client_certs.unwrap().len(), 2);
        let r = HandshakeConfig::from_env(env(&[COOKIE, ("PLUGIN_CLIENT_CERT", "garbage")]));
        assert!(matches!(r, Err(PluginError::InvalidEnv { name: "PLUGIN_CLIENT_CERT", .. })));
    }

    #[test]
    fn handshake_line_format() {
        let addr: SocketAddr = "127.0.0.1:41234".parse().unwrap();
        assert_eq!(handshake_line(addr, None), "1|6|tcp|127.0.0.1:41234|grpc|");
        // 4 bytes encode to 6 characters without the "==" padding.
        assert_eq!(handshake_line(addr, Some(&[0xde, 0xad, 0xbe, 0xef])), "1|6|tcp|127.0.0.1:41234|grpc|3q2+7w");
    }

    #[test]
    fn reattach_json_shape() {
        let addr: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        assert_eq!(
            reattach_json(addr, 42),
            r#"{"registry.terraform.io/aksudr/aksudr":{"Protocol":"grpc","ProtocolVersion":6,"Pid":42,"Test":true,"Addr":{"Network":"tcp","String":"127.0.0.1:5000"}}}"#
        );
    }
}
