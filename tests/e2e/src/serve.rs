//! Serving on loopback: a tonic server, and the gateway through the
//! runtime's `serve` (timeouts, TCP_NODELAY, peer addresses for
//! `x-forwarded-for`).

use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;

use crate::e2e::awkward::abc_service_server::AbcServiceServer;
use crate::e2e::echo::v1::echo_service_server::EchoServiceServer;
use crate::e2e::proto2::proto2_service_server::Proto2ServiceServer;
use crate::e2e::stream::v1::streaming_test_server::StreamingTestServer;
use crate::proto2::Proto2;
use crate::services::{Awkward, Echo};
use crate::streaming::Streams;

/// Starts the test gRPC services on 127.0.0.1 and returns the address.
pub async fn spawn_grpc() -> SocketAddr {
    spawn_grpc_routes(
        tonic::service::Routes::new(EchoServiceServer::new(Echo))
            .add_service(AbcServiceServer::new(Awkward))
            .add_service(StreamingTestServer::new(Streams))
            .add_service(Proto2ServiceServer::new(Proto2)),
    )
    .await
}

/// Starts a tonic server for `routes` on 127.0.0.1 and returns the address.
pub async fn spawn_grpc_routes(routes: tonic::service::Routes) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .tcp_nodelay(true)
            .add_routes(routes)
            .serve_with_incoming(TcpListenerStream::new(listener))
            .await
            .unwrap();
    });
    addr
}

/// Serves an axum app on 127.0.0.1 (HTTP/1.1 and h2c) with the runtime's
/// `serve` and its default settings, and returns the address.
pub async fn spawn_http(app: axum::Router) -> SocketAddr {
    spawn_http_with(app, gateway_runtime::serve::ServeConfig::default()).await
}

/// [`spawn_http`] with these server settings.
pub async fn spawn_http_with(
    app: axum::Router,
    config: gateway_runtime::serve::ServeConfig,
) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        gateway_runtime::serve::serve(listener, app, config)
            .await
            .unwrap();
    });
    addr
}
