//! The provider executable outside terraform: run by hand it refuses and
//! says what it is; given go-plugin's handshake environment it announces a
//! protocol-6 gRPC endpoint on loopback with its TLS certificate.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use base64::Engine as _;

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
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", provider_bin().display()));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
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

/// Kills the provider even when an assertion fails first.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A client certificate shaped like the one go-plugin makes for terraform:
/// self-signed ECDSA P-521 with SHA-512, marked as a CA, for client and
/// server auth. Its CA flag is what a stock WebPKI verifier rejects as an
/// end-entity certificate, so the provider has to pin it instead.
fn go_plugin_client_cert() -> String {
    let fail = |e: rcgen::Error| -> ! { panic!("cannot make a client certificate: {e}") };
    let key =
        rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).unwrap_or_else(|e| fail(e));
    let mut params =
        rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap_or_else(|e| fail(e));
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyEncipherment,
        rcgen::KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages = vec![
        rcgen::ExtendedKeyUsagePurpose::ClientAuth,
        rcgen::ExtendedKeyUsagePurpose::ServerAuth,
    ];
    params.self_signed(&key).unwrap_or_else(|e| fail(e)).pem()
}

/// Starts the provider as terraform would, offering `protocols`, and checks
/// the line it answers with.
fn assert_handshake(protocols: &str) {
    let mut cmd = provider();
    cmd.env(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE)
        .env("PLUGIN_PROTOCOL_VERSIONS", protocols)
        .env("PLUGIN_MIN_PORT", "10000")
        .env("PLUGIN_MAX_PORT", "25000")
        .env("PLUGIN_CLIENT_CERT", go_plugin_client_cert())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut running = Running(
        cmd.spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", provider_bin().display())),
    );

    let stdout = running.0.stdout.take().map(BufReader::new);
    let mut stderr = running.0.stderr.take();
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
        other => {
            drop(running);
            let mut err = String::new();
            if let Some(s) = stderr.as_mut() {
                let _ = s.read_to_string(&mut err);
            }
            panic!("no handshake line on stdout ({other:?}); stderr:\n{err}");
        }
    };

    let fields: Vec<&str> = line.trim_end().split('|').collect();
    assert!(fields.len() >= 6, "handshake {line:?} has too few fields");
    assert_eq!(fields[0], "1", "go-plugin core protocol in {line:?}");
    assert_eq!(fields[1], "6", "Terraform plugin protocol in {line:?}");
    assert_eq!(fields[4], "grpc", "{line:?}");
    match fields[2] {
        "tcp" => {
            let addr = fields[3];
            assert!(
                addr.starts_with("127.0.0.1:") || addr.starts_with("[::1]:"),
                "must listen on loopback only: {line:?}"
            );
            TcpStream::connect(addr).unwrap_or_else(|e| panic!("cannot connect to {addr}: {e}"));
        }
        "unix" => assert!(
            std::path::Path::new(fields[3]).exists(),
            "socket {} does not exist",
            fields[3]
        ),
        other => panic!("unknown network {other:?} in {line:?}"),
    }
    // The server's certificate, base64 DER (go-plugin leaves out padding).
    let der = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(fields[5].trim_end_matches('='))
        .unwrap_or_else(|e| panic!("certificate field is not base64 ({e}): {line:?}"));
    assert_eq!(der.first(), Some(&0x30), "certificate is not DER: {line:?}");
}

#[test]
fn handshake_picks_protocol_6_from_current_terraform() {
    // What Terraform 1.11 offers.
    assert_handshake("5,6");
}

#[test]
fn handshake_picks_protocol_6_from_terraform_1_0() {
    // Terraform 1.0 lists its preferred version first.
    assert_handshake("6,5");
}
