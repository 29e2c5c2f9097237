//! go-plugin AutoMTLS on the plugin side: a throw-away server certificate
//! and a TLS config that admits only the client certificate Terraform
//! announced in `PLUGIN_CLIENT_CERT`.

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{aws_lc_rs, CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, SignatureScheme};

use super::PluginError;

/// The server's certificate and private key for one run of the plugin.
pub struct ServerIdentity {
    /// The certificate, advertised to Terraform in the handshake line.
    pub cert: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
}

impl std::fmt::Debug for ServerIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerIdentity").field("cert_len", &self.cert.len()).finish_non_exhaustive()
    }
}

/// Makes a fresh self-signed ECDSA P-256 certificate for `localhost`.
///
/// go-plugin's client trusts exactly the certificate from the handshake
/// line and dials with server name `localhost`, so the SAN must be
/// `localhost`; nothing else about it matters to Terraform. Go's verifier
/// accepts a leaf that is itself in the root pool, and rustls/webpki
/// require the leaf not to be a CA, so it is a plain end-entity.
pub fn generate_server_identity() -> Result<ServerIdentity, PluginError> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()])?;
    params.subject_alt_names.push(rcgen::SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()));
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(rcgen::DnType::CommonName, "localhost");
    dn.push(rcgen::DnType::OrganizationName, super::BINARY_NAME);
    params.distinguished_name = dn;
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    // The certificate lives as long as this process; a day of slack either
    // side covers clock adjustments during a long apply.
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(366);
    let cert = params.self_signed(&key)?;
    Ok(ServerIdentity {
        cert: cert.der().clone(),
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    })
}

/// The crypto provider for this layer. aws-lc-rs, because Terraform's
/// AutoMTLS client key is ECDSA P-521, which ring cannot verify.
pub fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(aws_lc_rs::default_provider())
}

/// rustls server config for AutoMTLS: TLS 1.2 or 1.3 (go-plugin's floor
/// is 1.2), ALPN `h2` (grpc-go refuses a TLS connection without it), and
/// a client certificate required and checked by [`ExactClientCert`].
pub fn server_config(
    identity: ServerIdentity,
    client_certs: Vec<CertificateDer<'static>>,
) -> Result<Arc<rustls::ServerConfig>, PluginError> {
    let provider = crypto_provider();
    let verifier = ExactClientCert::new(client_certs, &provider);
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_client_cert_verifier(Arc::new(verifier))
        .with_single_cert(vec![identity.cert], identity.key)?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(config))
}

/// Accepts a client only if its end-entity certificate is byte-for-byte
/// one of the expected certificates, and checks the handshake signature
/// made with that certificate's key.
///
/// The standard WebPKI verifier cannot be used: go-plugin's client
/// certificate is self-signed with basicConstraints CA:true, which webpki
/// rejects as an end-entity. Exact comparison is what go-plugin's pool of
/// one self-signed certificate amounts to anyway; validity dates are not
/// checked because the certificate was minted by our parent process for
/// this run.
#[derive(Debug)]
pub struct ExactClientCert {
    expected: Vec<CertificateDer<'static>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ExactClientCert {
    /// A verifier admitting exactly `expected`, checking signatures with
    /// `provider`'s algorithms.
    pub fn new(expected: Vec<CertificateDer<'static>>, provider: &CryptoProvider) -> Self {
        ExactClientCert { expected, algorithms: provider.signature_verification_algorithms }
    }
}

impl ClientCertVerifier for ExactClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        // An empty CA list tells the client to send whatever it has, which
        // is what Go's TLS client does with its single certificate.
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if self.expected.iter().any(|c| c.as_ref() == end_entity.as_ref()) {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(CertificateError::ApplicationVerificationFailure))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn server_identity_is_valid_for_localhost() {
        let id = generate_server_identity().unwrap();
        // webpki accepts it as an end-entity for "localhost" when it is its
        // own trust anchor, which is how go-plugin's client treats it.
        let mut roots = rustls::RootCertStore::empty();
        roots.add(id.cert.clone()).unwrap();
        let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), crypto_provider())
            .build()
            .unwrap();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        rustls::client::danger::ServerCertVerifier::verify_server_cert(
            verifier.as_ref(),
            &id.cert,
            &[],
            &name,
            &[],
            UnixTime::now(),
        )
        .unwrap();
        server_config(id, vec![]).unwrap();
    }

    #[test]
    fn exact_verifier_compares_bytes() {
        let a = generate_server_identity().unwrap().cert;
        let b = generate_server_identity().unwrap().cert;
        let v = ExactClientCert::new(vec![a.clone()], &crypto_provider());
        assert!(v.verify_client_cert(&a, &[], UnixTime::now()).is_ok());
        assert!(v.verify_client_cert(&b, &[], UnixTime::now()).is_err());
        assert!(v.client_auth_mandatory());
        assert!(v.root_hint_subjects().is_empty());
        assert!(v.supported_verify_schemes().contains(&SignatureScheme::ECDSA_NISTP521_SHA512));
    }
}
