//! The gRPC server Terraform talks to: the provider service plus the side
//! services go-plugin expects, over plain TCP or AutoMTLS.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tonic::transport::server::{Connected, TcpConnectInfo};
use tonic::{Request, Response, Status};

use super::handshake::{handshake_line, PortRange};
use super::{tls, PluginError};
use crate::log;
use crate::pb::plugin::grpc_controller_server::{GrpcController, GrpcControllerServer};
use crate::pb::plugin::grpc_stdio_server::{GrpcStdio, GrpcStdioServer};
use crate::pb::plugin::{Empty, StdioData};
use crate::pb::tfplugin6::provider_server::{Provider, ProviderServer};
use crate::tf::stop::StopSignal;

/// Largest request message accepted. terraform-plugin-go raises gRPC's 4 MiB
/// default to 256 MiB because schemas and states of large configurations
/// exceed it.
pub const MAX_RECV_MESSAGE_BYTES: usize = 256 << 20;

/// A client that has not finished its TLS handshake by then is dropped, so
/// stalled connections do not pile up.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Back-off after a failed `accept` (e.g. out of file descriptors), so the
/// loop does not spin while the condition lasts.
const ACCEPT_ERROR_BACKOFF: Duration = Duration::from_millis(50);

/// go-plugin's client waits 2 s for the process to exit after Shutdown,
/// then kills it; stop waiting for connections to drain well before that.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_millis(1500);

/// Connections that finished their TLS handshake, queued for tonic.
const READY_QUEUE: usize = 16;

/// A bound listener with its TLS setup, ready to print the handshake line
/// and serve.
pub struct PluginListener {
    tcp: TcpListener,
    addr: SocketAddr,
    tls: Option<(TlsAcceptor, CertificateDer<'static>)>,
}

impl std::fmt::Debug for PluginListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginListener").field("addr", &self.addr).field("tls", &self.tls.is_some()).finish()
    }
}

impl PluginListener {
    /// Listens on 127.0.0.1 at the first free port of `ports`. With
    /// `client_certs`, generates a server certificate and requires TLS with
    /// one of those client certificates; without, serves plaintext.
    pub async fn bind(
        ports: PortRange,
        client_certs: Option<Vec<CertificateDer<'static>>>,
    ) -> Result<Self, PluginError> {
        let tcp = bind_in_range(ports).await?;
        let addr = tcp.local_addr().map_err(|source| PluginError::Bind { min: ports.min, max: ports.max, source })?;
        let tls = match client_certs {
            None => None,
            Some(certs) => {
                let identity = tls::generate_server_identity()?;
                let cert = identity.cert.clone();
                let config = tls::server_config(identity, certs)?;
                Some((TlsAcceptor::from(config), cert))
            }
        };
        Ok(PluginListener { tcp, addr, tls })
    }

    /// The address bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server certificate clients must trust, when serving TLS.
    pub fn server_certificate(&self) -> Option<&CertificateDer<'static>> {
        self.tls.as_ref().map(|(_, cert)| cert)
    }

    /// The go-plugin handshake line for this listener (without newline).
    pub fn handshake_line(&self) -> String {
        handshake_line(self.addr, self.server_certificate().map(|c| c.as_ref()))
    }
}

/// go-plugin tries the ports in order and takes the first that binds.
async fn bind_in_range(ports: PortRange) -> Result<TcpListener, PluginError> {
    let mut last_err = io::Error::new(io::ErrorKind::AddrInUse, "no port in range");
    for port in ports.min..=ports.max {
        match TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await {
            Ok(l) => return Ok(l),
            Err(e) => last_err = e,
        }
    }
    Err(PluginError::Bind { min: ports.min, max: ports.max, source: last_err })
}

/// How [`serve`] ends.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Setting this stops the server gracefully; the caller sets it on
    /// signals, and the `Shutdown` RPC sets it when
    /// [`shutdown_rpc_exits`](ServeOptions::shutdown_rpc_exits).
    pub shutdown: StopSignal,
    /// Whether go-plugin's `GRPCController.Shutdown` stops the server.
    /// True under Terraform; false in debug mode, where one server outlives
    /// many Terraform runs until Ctrl-C.
    pub shutdown_rpc_exits: bool,
    /// How long after shutdown starts to wait for open requests and
    /// connections before returning anyway.
    pub grace: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions { shutdown: StopSignal::new(), shutdown_rpc_exits: true, grace: DEFAULT_SHUTDOWN_GRACE }
    }
}

/// Serves `provider` as `tfplugin6.Provider`, with go-plugin's
/// `plugin.GRPCController`, `plugin.GRPCStdio` and the gRPC health service
/// (reporting `plugin` as SERVING, which go-plugin's client checks), until
/// `options.shutdown` is set. Returns once the server has drained or the
/// grace period has passed.
pub async fn serve<P: Provider>(
    provider: P,
    listener: PluginListener,
    options: ServeOptions,
) -> Result<(), PluginError> {
    let ServeOptions { shutdown, shutdown_rpc_exits, grace } = options;

    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter.set_service_status("plugin", tonic_health::ServingStatus::Serving).await;

    let controller = Controller { shutdown: shutdown.clone(), exits: shutdown_rpc_exits };
    let stdio = Stdio { shutdown: shutdown.clone() };

    let (ready_tx, mut ready_rx) = mpsc::channel::<Conn>(READY_QUEUE);
    let acceptor = listener.tls.map(|(acceptor, _)| acceptor);
    let accept_task = tokio::spawn(accept_loop(listener.tcp, acceptor, ready_tx));
    let incoming = futures::stream::poll_fn(move |cx| ready_rx.poll_recv(cx).map(|conn| conn.map(Ok::<_, io::Error>)));

    let router = tonic::transport::Server::builder()
        .add_service(health)
        .add_service(GrpcControllerServer::new(controller))
        .add_service(GrpcStdioServer::new(stdio))
        .add_service(ProviderServer::new(provider).max_decoding_message_size(MAX_RECV_MESSAGE_BYTES));
    let stopped = {
        let shutdown = shutdown.clone();
        async move { shutdown.stopped().await }
    };
    let serving = router.serve_with_incoming_shutdown(incoming, stopped);
    let deadline = async {
        shutdown.stopped().await;
        tokio::time::sleep(grace).await;
    };

    let result = tokio::select! {
        r = serving => r.map_err(PluginError::from),
        () = deadline => {
            log::warn!(
                "requests still open after shutdown grace period; exiting anyway",
                grace_ms = grace.as_millis() as u64
            );
            Ok(())
        }
    };
    accept_task.abort();
    result
}

/// Accepts TCP connections and hands them to tonic, doing TLS handshakes
/// in their own tasks so one slow or hostile client cannot hold up others.
/// A failed handshake is logged and dropped; the loop goes on.
async fn accept_loop(tcp: TcpListener, tls: Option<TlsAcceptor>, ready: mpsc::Sender<Conn>) {
    loop {
        let (stream, peer) = match tcp.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                log::debug!("accept failed", error = e.to_string());
                tokio::time::sleep(ACCEPT_ERROR_BACKOFF).await;
                continue;
            }
        };
        // gRPC traffic is many small frames; Nagle only adds latency.
        let _ = stream.set_nodelay(true);
        match &tls {
            None => {
                if ready.send(Conn::Plain(stream)).await.is_err() {
                    return;
                }
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                let ready = ready.clone();
                tokio::spawn(async move {
                    let peer = peer.to_string();
                    match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls_stream)) => {
                            // An error means the server is shutting down.
                            let _ = ready.send(Conn::Tls(Box::new(tls_stream))).await;
                        }
                        Ok(Err(e)) => {
                            log::debug!("TLS handshake failed", peer = peer, error = e.to_string());
                        }
                        Err(_) => {
                            log::debug!("TLS handshake timed out", peer = peer);
                        }
                    }
                });
            }
        }
    }
}

/// A connection as tonic sees it: plain TCP (debug mode, or no
/// `PLUGIN_CLIENT_CERT`) or TLS over TCP.
enum Conn {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
}

impl Conn {
    fn tcp(&self) -> &TcpStream {
        match self {
            Conn::Plain(s) => s,
            Conn::Tls(s) => s.get_ref().0,
        }
    }
}

impl Connected for Conn {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> TcpConnectInfo {
        let tcp = self.tcp();
        TcpConnectInfo { local_addr: tcp.local_addr().ok(), remote_addr: tcp.peer_addr().ok() }
    }
}

impl AsyncRead for Conn {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Conn::Plain(s) => s.is_write_vectored(),
            Conn::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// `plugin.GRPCController`: go-plugin's client calls Shutdown when
/// Terraform is done with the provider, then kills the process if it has
/// not exited within 2 s.
struct Controller {
    shutdown: StopSignal,
    exits: bool,
}

#[tonic::async_trait]
impl GrpcController for Controller {
    async fn shutdown(&self, _request: Request<Empty>) -> Result<Response<Empty>, Status> {
        if self.exits {
            log::debug!("received Shutdown from Terraform; exiting");
            self.shutdown.stop();
        } else {
            log::debug!("received Shutdown in debug mode; still serving until interrupted");
        }
        Ok(Response::new(Empty {}))
    }
}

/// `plugin.GRPCStdio`: go-plugin's client opens this stream to receive the
/// plugin's stdout/stderr. Our logs go to stderr directly, which go-plugin
/// also reads, so the stream carries nothing; it ends at shutdown so it
/// does not hold up the graceful drain.
struct Stdio {
    shutdown: StopSignal,
}

#[tonic::async_trait]
impl GrpcStdio for Stdio {
    async fn stream_stdio(
        &self,
        _request: Request<()>,
    ) -> Result<Response<tonic::codegen::BoxStream<StdioData>>, Status> {
        let shutdown = self.shutdown.clone();
        let idle = futures::stream::unfold(shutdown, |shutdown| async move {
            shutdown.stopped().await;
            None::<(Result<StdioData, Status>, StopSignal)>
        });
        Ok(Response::new(Box::pin(idle)))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::pb::plugin::grpc_controller_client::GrpcControllerClient;
    use crate::pb::tfplugin6::get_metadata;
    use crate::pb::tfplugin6::provider_client::ProviderClient;
    use std::time::Instant;
    use tokio::sync::Notify;

    /// GetMetadata never answers; it tells the test when it has started.
    struct HangingProvider {
        entered: std::sync::Arc<Notify>,
    }

    #[tonic::async_trait]
    impl Provider for HangingProvider {
        async fn get_metadata(
            &self,
            _request: Request<get_metadata::Request>,
        ) -> Result<Response<get_metadata::Response>, Status> {
            self.entered.notify_one();
            std::future::pending().await
        }
    }

    async fn channel(addr: SocketAddr) -> tonic::transport::Channel {
        tonic::transport::Endpoint::from_shared(format!("http://{addr}")).unwrap().connect().await.unwrap()
    }

    #[tokio::test]
    async fn shutdown_returns_within_grace_despite_a_hung_request() {
        let listener = PluginListener::bind(PortRange::ANY, None).await.unwrap();
        let addr = listener.local_addr();
        let entered = std::sync::Arc::new(Notify::new());
        let provider = HangingProvider { entered: entered.clone() };
        let grace = Duration::from_millis(300);
        let server = tokio::spawn(serve(provider, listener, ServeOptions { grace, ..ServeOptions::default() }));
        let ch = channel(addr).await;
        let hung = tokio::spawn({
            let ch = ch.clone();
            async move { ProviderClient::new(ch).get_metadata(get_metadata::Request {}).await }
        });
        entered.notified().await;
        let asked = Instant::now();
        GrpcControllerClient::new(ch).shutdown(Empty {}).await.unwrap();
        tokio::time::timeout(Duration::from_secs(2), server)
            .await
            .expect("serve did not return after Shutdown")
            .unwrap()
            .unwrap();
        let took = asked.elapsed();
        assert!(took >= grace, "returned before the grace period: {took:?}");
        assert!(took < Duration::from_secs(2), "{took:?}");
        hung.abort();
    }

    #[tokio::test]
    async fn port_range_is_honoured() {
        let busy = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let port = busy.local_addr().unwrap().port();
        let only_busy = PortRange { min: port, max: port };
        assert!(matches!(PluginListener::bind(only_busy, None).await, Err(PluginError::Bind { .. })));
        let from_busy = PortRange { min: port, max: u16::MAX };
        let l = PluginListener::bind(from_busy, None).await.unwrap();
        assert!(l.local_addr().port() > port);
        assert!(l.local_addr().ip().is_loopback());
        assert!(l.handshake_line().ends_with("|grpc|"));
    }
}
