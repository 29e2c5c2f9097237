//! Runs the built binary the way Terraform does (go-plugin handshake,
//! AutoMTLS with a P-521 CA-flagged client certificate) and by hand.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io;
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aksudr::pb::plugin::grpc_controller_client::GrpcControllerClient;
use aksudr::pb::plugin::grpc_stdio_client::GrpcStdioClient;
use aksudr::pb::plugin::Empty;
use base64::Engine as _;
use rustls::client::ResolvesClientCert;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::sign::CertifiedKey;
use rustls::SignatureScheme;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, ChildStdout, Command};
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

const BIN: &str = env!("CARGO_BIN_EXE_terraform-provider-aksudr");
const COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
const COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// Bound on how long any single step may take before the test fails; it
/// is a failure limit, never a wait for readiness.
const STEP: Duration = Duration::from_secs(10);

/// A client identity shaped like the one go-plugin's AutoMTLS makes for
/// Terraform: self-signed ECDSA P-521, basicConstraints CA:true.
struct ClientIdentity {
    cert: CertificateDer<'static>,
    key_der: Vec<u8>,
    pem: String,
}

fn terraform_like_client_identity() -> ClientIdentity {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyEncipherment,
        rcgen::KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages =
        vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth, rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    params.distinguished_name.push(rcgen::DnType::OrganizationName, "HashiCorp");
    params.distinguished_name.push(rcgen::DnType::CommonName, "localhost");
    let cert = params.self_signed(&key).unwrap();
    ClientIdentity { cert: cert.der().clone(), key_der: key.serialize_der(), pem: cert.pem() }
}

/// A running plugin process with its stdout open and stderr collected.
struct Plugin {
    child: Child,
    stdout: BufReader<ChildStdout>,
    stderr: tokio::task::JoinHandle<String>,
}

impl Plugin {
    fn spawn(args: &[&str], env: &[(&str, &str)]) -> Plugin {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .env_remove(COOKIE_KEY)
            .env_remove("PLUGIN_CLIENT_CERT")
            .env_remove("PLUGIN_MIN_PORT")
            .env_remove("PLUGIN_MAX_PORT")
            .env_remove("PLUGIN_PROTOCOL_VERSIONS")
            .env("TF_LOG", "TRACE")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut stderr_pipe = child.stderr.take().unwrap();
        let stderr = tokio::spawn(async move {
            let mut s = String::new();
            let _ = stderr_pipe.read_to_string(&mut s).await;
            s
        });
        Plugin { child, stdout, stderr }
    }

    /// Starts the plugin as Terraform would, with AutoMTLS for `client`.
    fn spawn_mtls(client: &ClientIdentity) -> Plugin {
        Plugin::spawn(
            &[],
            &[(COOKIE_KEY, COOKIE), ("PLUGIN_PROTOCOL_VERSIONS", "5,6"), ("PLUGIN_CLIENT_CERT", &client.pem)],
        )
    }

    async fn line(&mut self) -> String {
        let mut line = String::new();
        let n = tokio::time::timeout(STEP, self.stdout.read_line(&mut line))
            .await
            .expect("timed out reading plugin stdout")
            .unwrap();
        assert!(n > 0, "plugin closed stdout early");
        line
    }

    fn pid(&self) -> u32 {
        self.child.id().unwrap()
    }

    /// Waits for exit within `limit`; returns the exit status, what was
    /// left on stdout, and all of stderr.
    async fn exit_within(mut self, limit: Duration) -> (std::process::ExitStatus, String, String) {
        let status = tokio::time::timeout(limit, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("plugin did not exit within {limit:?}"))
            .unwrap();
        let mut rest = String::new();
        self.stdout.read_to_string(&mut rest).await.unwrap();
        let stderr = self.stderr.await.unwrap();
        (status, rest, stderr)
    }
}

/// The handshake line's fields, checked for shape.
struct Handshake {
    addr: SocketAddr,
    server_cert: Option<CertificateDer<'static>>,
}

fn parse_handshake(line: &str) -> Handshake {
    assert!(line.ends_with('\n'), "handshake line not terminated: {line:?}");
    let fields: Vec<&str> = line.trim_end_matches('\n').split('|').collect();
    assert_eq!(fields.len(), 6, "{line:?}");
    assert_eq!(fields[0], "1");
    assert_eq!(fields[1], "6");
    assert_eq!(fields[2], "tcp");
    assert_eq!(fields[4], "grpc");
    let addr: SocketAddr = fields[3].parse().unwrap();
    assert!(addr.ip().is_loopback());
    assert!(!fields[5].contains('='), "certificate must be unpadded base64");
    let server_cert = (!fields[5].is_empty())
        .then(|| CertificateDer::from(base64::engine::general_purpose::STANDARD_NO_PAD.decode(fields[5]).unwrap()));
    Handshake { addr, server_cert }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// What the test client presents: a certificate chain with the key it
/// signs with. Built without rustls's key/certificate consistency check,
/// so a test can pair a certificate with someone else's key.
fn presented(cert: &CertificateDer<'static>, key_der: &[u8]) -> Arc<CertifiedKey> {
    let key = provider()
        .key_provider
        .load_private_key(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_der.to_vec())))
        .unwrap();
    Arc::new(CertifiedKey::new(vec![cert.clone()], key))
}

/// Always offers the same client certificate (or none).
#[derive(Debug)]
struct FixedClientCert(Option<Arc<CertifiedKey>>);

impl ResolvesClientCert for FixedClientCert {
    fn resolve(&self, _hints: &[&[u8]], _schemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        self.0.clone()
    }

    fn has_certs(&self) -> bool {
        self.0.is_some()
    }
}

/// A rustls client trusting exactly the advertised server certificate,
/// dialling `localhost` with ALPN h2 like go-plugin's client.
fn client_tls(
    server_cert: &CertificateDer<'static>,
    client_cert: Option<Arc<CertifiedKey>>,
    version: &'static rustls::SupportedProtocolVersion,
) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(server_cert.clone()).unwrap();
    let mut config = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[version])
        .unwrap()
        .with_root_certificates(roots)
        .with_client_cert_resolver(Arc::new(FixedClientCert(client_cert)));
    config.alpn_protocols = vec![b"h2".to_vec()];
    Arc::new(config)
}

/// A gRPC channel over our own TCP + rustls connector. Connection errors
/// surface from the first RPC (or from here).
async fn tls_channel(addr: SocketAddr, config: Arc<rustls::ClientConfig>) -> Result<Channel, tonic::transport::Error> {
    let connector = tower::service_fn(move |_uri: tonic::codegen::http::Uri| {
        let config = config.clone();
        async move {
            let tcp = tokio::net::TcpStream::connect(addr).await?;
            let name = ServerName::try_from("localhost").map_err(io::Error::other)?;
            let tls = tokio_rustls::TlsConnector::from(config).connect(name, tcp).await?;
            assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
            Ok::<_, io::Error>(hyper_util::rt::TokioIo::new(tls))
        }
    });
    Endpoint::from_static("http://localhost").connect_timeout(STEP).connect_with_connector(connector).await
}

async fn plain_channel(addr: SocketAddr) -> Channel {
    Endpoint::from_shared(format!("http://{addr}")).unwrap().connect_timeout(STEP).connect().await.unwrap()
}

/// go-plugin's client pings with a health check for service "plugin".
async fn check_plugin_health(channel: Channel) -> Result<ServingStatus, tonic::Status> {
    let reply =
        tokio::time::timeout(STEP, HealthClient::new(channel).check(HealthCheckRequest { service: "plugin".into() }))
            .await
            .expect("health check timed out")?;
    Ok(reply.into_inner().status())
}

async fn healthy_over_tls(
    hs: &Handshake,
    identity: &ClientIdentity,
    version: &'static rustls::SupportedProtocolVersion,
) -> Channel {
    let cert = hs.server_cert.as_ref().expect("TLS handshake line must carry a certificate");
    let me = presented(&identity.cert, &identity.key_der);
    let channel = tls_channel(hs.addr, client_tls(cert, Some(me), version)).await.unwrap();
    assert_eq!(check_plugin_health(channel.clone()).await.unwrap(), ServingStatus::Serving);
    channel
}

fn send_signal(pid: u32, sig: &str) {
    let ok = std::process::Command::new("kill").args([sig, &pid.to_string()]).status().unwrap().success();
    assert!(ok, "kill {sig} {pid} failed");
}

#[tokio::test]
async fn without_cookie_explains_and_exits_1() {
    let started = Instant::now();
    let plugin = Plugin::spawn(&[], &[]);
    let (status, stdout, stderr) = plugin.exit_within(STEP).await;
    assert_eq!(status.code(), Some(1));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(stdout, "", "nothing may reach stdout");
    assert!(stderr.contains("terraform-provider-aksudr, a Terraform provider plugin"), "{stderr}");
    assert!(stderr.contains("not by hand"), "{stderr}");
    assert!(stderr.contains("--debug"), "{stderr}");
}

#[tokio::test]
async fn without_protocol_6_explains_and_exits_1() {
    let plugin = Plugin::spawn(&[], &[(COOKIE_KEY, COOKIE), ("PLUGIN_PROTOCOL_VERSIONS", "4,5")]);
    let (status, stdout, stderr) = plugin.exit_within(STEP).await;
    assert_eq!(status.code(), Some(1));
    assert_eq!(stdout, "");
    assert!(stderr.contains("protocol version 6"), "{stderr}");
}

/// The whole Terraform lifecycle over TLS 1.3 (what Terraform's Go client
/// negotiates): handshake, health, stdio stream, Ctrl-C ignored, Shutdown
/// ends the process with 0 well within go-plugin's 2 s.
#[tokio::test]
async fn mtls_handshake_health_and_shutdown() {
    let client = terraform_like_client_identity();
    let mut plugin = Plugin::spawn_mtls(&client);
    let hs = parse_handshake(&plugin.line().await);
    let channel = healthy_over_tls(&hs, &client, &rustls::version::TLS13).await;

    // go-plugin opens the stdio stream and keeps it open; it must not
    // produce data or end before shutdown.
    let mut stdio = GrpcStdioClient::new(channel.clone()).stream_stdio(()).await.unwrap().into_inner();

    // Terraform forwards Ctrl-C to the plugin's process group and then stops
    // the provider over gRPC; the plugin must survive the signal.
    send_signal(plugin.pid(), "-INT");
    assert_eq!(check_plugin_health(channel.clone()).await.unwrap(), ServingStatus::Serving);

    let asked = Instant::now();
    GrpcControllerClient::new(channel).shutdown(Empty {}).await.unwrap();
    // The idle stdio stream ends cleanly (or with the connection) at shutdown.
    let next = tokio::time::timeout(STEP, stdio.message()).await.unwrap();
    assert!(matches!(next, Ok(None) | Err(_)), "{next:?}");
    let (status, rest, stderr) = plugin.exit_within(Duration::from_secs(2)).await;
    assert!(asked.elapsed() < Duration::from_secs(2));
    assert_eq!(status.code(), Some(0), "{status:?}\n{stderr}");
    assert_eq!(rest, "", "stdout must carry only the handshake line");
    // Every stderr line is one hclog JSON object.
    for l in stderr.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
        assert!(v["@level"].is_string() && v["@message"].is_string(), "{l}");
    }
}

#[tokio::test]
async fn mtls_over_tls12_works_too() {
    let client = terraform_like_client_identity();
    let mut plugin = Plugin::spawn_mtls(&client);
    let hs = parse_handshake(&plugin.line().await);
    let channel = healthy_over_tls(&hs, &client, &rustls::version::TLS12).await;
    GrpcControllerClient::new(channel).shutdown(Empty {}).await.unwrap();
    let (status, _, stderr) = plugin.exit_within(Duration::from_secs(2)).await;
    assert_eq!(status.code(), Some(0), "{stderr}");
}

/// A client presenting any other certificate, none, or the right one
/// without its private key gets no service,
/// and the failed handshakes do not stop the server from serving the
/// right client afterwards.
#[tokio::test]
async fn refuses_other_or_missing_client_certificate() {
    let client = terraform_like_client_identity();
    let intruder = terraform_like_client_identity();
    let mut plugin = Plugin::spawn_mtls(&client);
    let hs = parse_handshake(&plugin.line().await);
    let cert = hs.server_cert.clone().unwrap();

    let attempts = [
        ("another certificate", Some(presented(&intruder.cert, &intruder.key_der))),
        ("no certificate", None),
        // The expected certificate, but signing with a key that is not its
        // own: the handshake signature check must catch it.
        ("the certificate without its key", Some(presented(&client.cert, &intruder.key_der))),
    ];
    for version in [&rustls::version::TLS13, &rustls::version::TLS12] {
        for (what, offered) in &attempts {
            let config = client_tls(&cert, offered.clone(), version);
            let refused = match tls_channel(hs.addr, config).await {
                Err(_) => true,
                Ok(channel) => check_plugin_health(channel).await.is_err(),
            };
            assert!(refused, "served a client with {what} over {version:?}");
        }
    }

    let channel = healthy_over_tls(&hs, &client, &rustls::version::TLS13).await;
    GrpcControllerClient::new(channel).shutdown(Empty {}).await.unwrap();
    let (status, _, stderr) = plugin.exit_within(Duration::from_secs(2)).await;
    assert_eq!(status.code(), Some(0));
    assert!(stderr.contains("TLS handshake failed"), "{stderr}");
}

/// A client that connects and never speaks TLS must not block others.
#[tokio::test]
async fn stalled_client_does_not_block_others() {
    let client = terraform_like_client_identity();
    let mut plugin = Plugin::spawn_mtls(&client);
    let hs = parse_handshake(&plugin.line().await);
    let _stalled = tokio::net::TcpStream::connect(hs.addr).await.unwrap();
    let channel = healthy_over_tls(&hs, &client, &rustls::version::TLS13).await;
    GrpcControllerClient::new(channel).shutdown(Empty {}).await.unwrap();
    let (status, _, _) = plugin.exit_within(Duration::from_secs(2)).await;
    assert_eq!(status.code(), Some(0));
}

/// SIGTERM (what a supervisor or go-plugin's last resort sends first) ends
/// the plugin gracefully with 0.
#[tokio::test]
async fn sigterm_exits_cleanly() {
    let client = terraform_like_client_identity();
    let mut plugin = Plugin::spawn_mtls(&client);
    let hs = parse_handshake(&plugin.line().await);
    healthy_over_tls(&hs, &client, &rustls::version::TLS13).await;
    send_signal(plugin.pid(), "-TERM");
    let (status, _, _) = plugin.exit_within(Duration::from_secs(2)).await;
    assert_eq!(status.code(), Some(0));
}

#[tokio::test]
async fn plaintext_without_client_cert() {
    let mut plugin = Plugin::spawn(&[], &[(COOKIE_KEY, COOKIE)]);
    let hs = parse_handshake(&plugin.line().await);
    assert!(hs.server_cert.is_none());
    let channel = plain_channel(hs.addr).await;
    assert_eq!(check_plugin_health(channel.clone()).await.unwrap(), ServingStatus::Serving);
    GrpcControllerClient::new(channel).shutdown(Empty {}).await.unwrap();
    let (status, _, _) = plugin.exit_within(Duration::from_secs(2)).await;
    assert_eq!(status.code(), Some(0));
}

/// `--debug`: no cookie needed, prints a TF_REATTACH_PROVIDERS line,
/// serves plaintext across Shutdown calls (many Terraform runs) and stops
/// on Ctrl-C.
#[tokio::test]
async fn debug_mode_prints_reattach_and_serves_until_interrupted() {
    let mut plugin = Plugin::spawn(&["--debug"], &[]);
    let reattach = loop {
        let line = plugin.line().await;
        if let Some(rest) = line.strip_prefix("TF_REATTACH_PROVIDERS='") {
            break rest.trim_end().trim_end_matches('\'').to_string();
        }
    };
    let v: serde_json::Value = serde_json::from_str(&reattach).unwrap();
    let entry = &v["registry.terraform.io/aksudr/aksudr"];
    assert_eq!(entry["Protocol"], "grpc");
    assert_eq!(entry["ProtocolVersion"], 6);
    assert_eq!(entry["Test"], true);
    assert_eq!(entry["Pid"], plugin.pid());
    assert_eq!(entry["Addr"]["Network"], "tcp");
    let addr: SocketAddr = entry["Addr"]["String"].as_str().unwrap().parse().unwrap();

    let channel = plain_channel(addr).await;
    assert_eq!(check_plugin_health(channel.clone()).await.unwrap(), ServingStatus::Serving);
    GrpcControllerClient::new(channel.clone()).shutdown(Empty {}).await.unwrap();
    assert_eq!(check_plugin_health(channel).await.unwrap(), ServingStatus::Serving);

    send_signal(plugin.pid(), "-INT");
    let (status, _, stderr) = plugin.exit_within(Duration::from_secs(2)).await;
    assert_eq!(status.code(), Some(0), "{stderr}");
}
