//! The provider executable outside terraform: run by hand it refuses and
//! says what it is; given go-plugin's handshake environment it announces a
//! protocol-6 gRPC endpoint on loopback and serves HTTP/2 over mutual TLS
//! with the certificate it announced, accepting a client certificate shaped
//! like the one terraform sends.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use base64::Engine as _;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::harness::{provider_bin, MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE};

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(60);

fn provider() -> Command {
    let mut cmd = Command::new(provider_bin());
    for (key, _) in std::env::vars_os() {
        let k = key.to_string_lossy();
        if k.starts_with("PLUGIN_") || k.starts_with("TF_") {
            cmd.env_remove(&key);
        }
    }
    cmd.stdin(Stdio::null());
    cmd
}

#[track_caller]
fn run_by_hand(cookie: Option<&str>) -> (Option<i32>, String) {
    let mut cmd = provider();
    if let Some(cookie) = cookie {
        cmd.env(MAGIC_COOKIE_KEY, cookie);
    }
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {}: {e}", provider_bin().display()));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code(), text)
}

#[test]
fn run_by_hand_exits_1_and_explains() {
    let (code, text) = run_by_hand(None);
    assert_eq!(code, Some(1), "output:\n{text}");
    let lower = text.to_lowercase();
    assert!(
        lower.contains("plugin") && lower.contains("terraform"),
        "should explain that it is a Terraform plugin:\n{text}"
    );
}

#[test]
fn wrong_cookie_is_refused() {
    let (code, text) = run_by_hand(Some("not-the-cookie"));
    assert_eq!(code, Some(1), "output:\n{text}");
}

/// A client certificate shaped like the one go-plugin makes for terraform:
/// self-signed ECDSA P-521 with SHA-512, marked as a CA, for client and
/// server auth. A stock WebPKI verifier rejects such a CA certificate as an
/// end-entity certificate, so the provider has to pin it instead.
struct ClientCert {
    pem: String,
    der: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
}

fn go_plugin_client_cert() -> ClientCert {
    let fail = |e: rcgen::Error| -> ! { panic!("cannot make a client certificate: {e}") };
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).unwrap_or_else(|e| fail(e));
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap_or_else(|e| fail(e));
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyEncipherment,
        rcgen::KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages =
        vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth, rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.self_signed(&key).unwrap_or_else(|e| fail(e));
    ClientCert { pem: cert.pem(), der: cert.der().clone(), key: PrivatePkcs8KeyDer::from(key.serialize_der()).into() }
}

/// Kills the provider even when an assertion fails first.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What the provider announced on stdout.
struct Announced {
    network: String,
    address: String,
    server_cert: Vec<u8>,
}

/// Starts the provider as terraform would, offering `protocols`, and checks
/// the handshake line it answers with.
fn handshake(protocols: &str, client: &ClientCert) -> (Running, Announced) {
    let mut cmd = provider();
    cmd.env(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE)
        .env("PLUGIN_PROTOCOL_VERSIONS", protocols)
        .env("PLUGIN_MIN_PORT", "10000")
        .env("PLUGIN_MAX_PORT", "25000")
        .env("PLUGIN_CLIENT_CERT", &client.pem)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut running = Running(cmd.spawn().unwrap_or_else(|e| panic!("cannot start {}: {e}", provider_bin().display())));

    let stdout = running.0.stdout.take().map(BufReader::new);
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut line = String::new();
        if let Some(mut stdout) = stdout {
            let _ = stdout.read_line(&mut line);
        }
        let _ = tx.send(line);
    });
    let line = match rx.recv_timeout(HANDSHAKE_TIMEOUT) {
        Ok(line) if !line.is_empty() => line,
        other => panic!("no handshake line on stdout: {other:?}"),
    };

    let fields: Vec<&str> = line.trim_end().split('|').collect();
    assert!(fields.len() >= 6, "handshake {line:?} has too few fields");
    assert_eq!(fields[0], "1", "go-plugin core protocol in {line:?}");
    assert_eq!(fields[1], "6", "Terraform plugin protocol in {line:?}");
    assert_eq!(fields[4], "grpc", "{line:?}");
    match fields[2] {
        "tcp" => assert!(
            fields[3].starts_with("127.0.0.1:") || fields[3].starts_with("[::1]:"),
            "must listen on loopback only: {line:?}"
        ),
        "unix" => {}
        other => panic!("unknown network {other:?} in {line:?}"),
    }
    // base64 DER; go-plugin leaves out the padding.
    let server_cert = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(fields[5].trim_end_matches('='))
        .unwrap_or_else(|e| panic!("certificate field is not base64 ({e}): {line:?}"));
    assert_eq!(server_cert.first(), Some(&0x30), "certificate is not DER: {line:?}");
    let announced = Announced { network: fields[2].to_string(), address: fields[3].to_string(), server_cert };
    (running, announced)
}

/// Trusts exactly the certificate the provider announced, as go-plugin does.
#[derive(Debug)]
struct PinnedServer(Vec<u8>);

fn algorithms() -> rustls::crypto::WebPkiSupportedAlgorithms {
    rustls::crypto::aws_lc_rs::default_provider().signature_verification_algorithms
}

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.0.as_slice() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General("server presented another certificate than it announced".into()))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &algorithms())
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &algorithms())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        algorithms().supported_schemes()
    }
}

/// Connects with mutual TLS, presenting `client`, and returns the type of the
/// server's first HTTP/2 frame. A rejected client certificate shows up here
/// as a TLS alert.
fn http2_over_mtls(announced: &Announced, client: &ClientCert) -> Result<u8, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| {
            b.dangerous()
                .with_custom_certificate_verifier(Arc::new(PinnedServer(announced.server_cert.clone())))
                .with_client_auth_cert(vec![client.der.clone()], client.key.clone_key())
        })
        .unwrap_or_else(|e| panic!("TLS client configuration: {e}"));
    config.alpn_protocols = vec![b"h2".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("tokio runtime: {e}"));
    let result = runtime.block_on(async {
        let exchange = async {
            if announced.network == "unix" {
                let stream = tokio::net::UnixStream::connect(&announced.address).await?;
                first_http2_frame(&connector, stream).await
            } else {
                let stream = tokio::net::TcpStream::connect(&announced.address).await?;
                first_http2_frame(&connector, stream).await
            }
        };
        tokio::time::timeout(HANDSHAKE_TIMEOUT, exchange).await
    });
    match result {
        Ok(answer) => answer.map_err(|e| e.to_string()),
        Err(_) => panic!("no HTTP/2 answer within {HANDSHAKE_TIMEOUT:?}"),
    }
}

/// After the client preface, an HTTP/2 server's first frame is SETTINGS.
fn assert_serves_http2_over_mtls(announced: &Announced, client: &ClientCert) {
    match http2_over_mtls(announced, client) {
        Ok(frame_type) => assert_eq!(frame_type, 0x4, "the server's first HTTP/2 frame should be SETTINGS"),
        Err(e) => panic!(
            "mutual TLS with a go-plugin-shaped client certificate failed: {e} \
             (terraform's client certificate is a self-signed CA certificate: pin it, \
             do not verify it as a WebPKI chain)"
        ),
    }
}

async fn first_http2_frame<S>(connector: &tokio_rustls::TlsConnector, stream: S) -> std::io::Result<u8>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let name = ServerName::try_from("localhost").map_err(std::io::Error::other)?.to_owned();
    let mut tls = connector.connect(name, stream).await?;
    // Client preface, then an empty SETTINGS frame.
    tls.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await?;
    tls.write_all(&[0, 0, 0, 0x4, 0, 0, 0, 0, 0]).await?;
    tls.flush().await?;
    let mut header = [0u8; 9];
    tls.read_exact(&mut header).await?;
    Ok(header[3])
}

#[test]
fn handshake_and_mtls_with_current_terraform_offer() {
    // Terraform 1.11 offers its protocols in ascending order.
    let client = go_plugin_client_cert();
    let (_running, announced) = handshake("5,6", &client);
    assert_serves_http2_over_mtls(&announced, &client);
}

#[test]
fn handshake_and_mtls_with_terraform_1_0_offer() {
    // Terraform 1.0 lists its preferred version first.
    let client = go_plugin_client_cert();
    let (_running, announced) = handshake("6,5", &client);
    assert_serves_http2_over_mtls(&announced, &client);
}

#[test]
fn mtls_refuses_a_client_with_another_certificate() {
    // Only the process that started the provider may talk to it.
    let client = go_plugin_client_cert();
    let (_running, announced) = handshake("5,6", &client);
    let stranger = go_plugin_client_cert();
    if let Ok(frame_type) = http2_over_mtls(&announced, &stranger) {
        panic!("a client with another certificate got an HTTP/2 frame (type {frame_type})");
    }
}

/// `--debug` serves without TLS, so any local process could configure the
/// provider: a provider block may not send the environment's credentials
/// to an endpoint of its choosing. Terraform attaches through the printed
/// TF_REATTACH_PROVIDERS line; the environment's own endpoints still work.
#[test]
fn debug_mode_refuses_endpoints_other_than_the_environments() {
    let az = crate::harness::Azure::start();
    let mut cmd = provider();
    cmd.arg("--debug").stdout(Stdio::piped()).stderr(Stdio::null());
    for (k, v) in az.secret_env() {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start --debug: {e}"));
    let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("TF_REATTACH_PROVIDERS='") {
                let _ = tx.send(rest.trim_end_matches('\'').to_string());
            }
        }
    });
    let reattach = rx.recv_timeout(HANDSHAKE_TIMEOUT);
    let _kill = KillOnDrop(child);
    let reattach = reattach.unwrap_or_else(|e| panic!("no TF_REATTACH_PROVIDERS line: {e}"));
    let table = r#"resource "aksudr_route_table" "rt" {
  name                = "rt-debug"
  resource_group_name = "rg-egress"
  location            = "westeurope"
}
"#;
    let evil = crate::harness::config(table).replace(
        "provider \"aksudr\" {}",
        "provider \"aksudr\" {\n  authority_host = \"https://login.evil.example/\"\n}",
    );
    let wd = crate::harness::Workdir::new(&evil).envs(az.secret_env()).env("TF_REATTACH_PROVIDERS", &reattach);
    wd.init();
    let out = wd.terraform(&["apply", "-input=false", "-auto-approve"]);
    out.assert_failure();
    assert!(out.stderr.contains("authority_host cannot be changed in debug mode"), "{}", out.stderr);
    assert!(az.sim.resource(&crate::harness::route_table_id("rt-debug")).is_none());

    let mut fine = wd;
    fine.rewrite(&crate::harness::config(table));
    fine.apply();
    assert!(az.sim.resource(&crate::harness::route_table_id("rt-debug")).is_some());
}

/// Kills the debug-mode provider when the test ends, however it ends.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
