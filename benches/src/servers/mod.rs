//! The server roles: the tonic backend and the gateway under test.

mod experiments;
mod hand;
pub mod services;

use std::net::SocketAddr;

use gateway_e2e::e2e::echo::v1::echo_service_gateway;
use gateway_e2e::e2e::echo::v1::echo_service_server::EchoServiceServer;
use gateway_e2e::e2e::stream::v1::streaming_test_gateway;
use gateway_e2e::e2e::stream::v1::streaming_test_server::StreamingTestServer;
use gateway_e2e::services::Echo;
use gateway_runtime::streaming::WebSocketConfig;
use gateway_runtime::{Direct, Gateway, RouterExt, Transport};
use tokio::net::{TcpListener, TcpSocket};
use tonic::transport::Channel;

use crate::contender::Contender;
use crate::role;
use crate::servers::services::BenchStreams;

/// A loopback listener with a backlog deep enough for thousands of
/// connections opened at once (tokio's `bind` uses 1024).
fn listen() -> TcpListener {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_reuseaddr(true).expect("SO_REUSEADDR");
    socket
        .bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .expect("bind loopback");
    socket.listen(4096).expect("listen")
}

/// `gateway-bench backend`: the tonic server the remote contenders call.
pub fn backend_main() {
    role::exit_with_parent();
    crate::procstat::raise_nofile_limit();
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime.block_on(async {
        let listener = listen();
        role::announce_ready(listener.local_addr().unwrap());
        // tonic leaves HTTP/2 `max_concurrent_streams` unlimited, so that
        // 10 000 SSE streams fit on the gateway's one connection.
        tonic::transport::Server::builder()
            .add_service(EchoServiceServer::new(Echo))
            .add_service(StreamingTestServer::new(BenchStreams))
            .serve_with_incoming(
                tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true)),
            )
            .await
            .expect("tonic server");
    });
}

/// `gateway-bench serve CONTENDER [BACKEND_ADDR]`: the gateway under test.
pub fn gateway_main(args: &[String]) {
    role::exit_with_parent();
    crate::procstat::raise_nofile_limit();
    let contender = args
        .first()
        .and_then(|name| Contender::from_name(name))
        .expect("serve CONTENDER");
    let backend: Option<SocketAddr> = args.get(1).map(|a| a.parse().expect("backend address"));
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime.block_on(async move {
        let app = app(contender, backend).await;
        let listener = listen();
        role::announce_ready(listener.local_addr().unwrap());
        // Every contender behind the runtime's `serve`, as users are told
        // to run it (timeouts, TCP_NODELAY, peer address), with the
        // connection cap above the largest run (10 000 SSE streams).
        let mut config = gateway_runtime::serve::ServeConfig::default().max_connections(20_000);
        if contender == Contender::GenRemoteSmallReadBuf {
            config = config.http1_max_buf_size(8 * 1024);
        }
        gateway_runtime::serve::serve(listener, app, config)
            .await
            .expect("server");
    });
}

/// The gateway of one contender. Every contender answers the same paths,
/// so the load generator does not know which one it talks to.
async fn app(contender: Contender, backend: Option<SocketAddr>) -> axum::Router {
    // No default values in responses: the generated gateway then writes
    // exactly what the serde baseline writes (see `payload`).
    let gateway = Gateway::builder()
        .emit_defaults(false)
        .websocket(WebSocketConfig::default())
        .build();
    match contender {
        Contender::GenRemoteMetrics => {
            if !cfg!(feature = "runtime-metrics") {
                eprintln!(
                    "note: this executable has no `runtime-metrics`: the recorder gets no runtime metrics"
                );
            }
            install_recorder();
            let channel = connect(backend.expect("remote contenders need a backend")).await;
            generated(channel.clone(), channel, &gateway)
        }
        Contender::GenRemote | Contender::GenRemoteSmallReadBuf => {
            let channel = connect(backend.expect("remote contenders need a backend")).await;
            generated(channel.clone(), channel, &gateway)
        }
        Contender::GenInProcess => generated(
            EchoServiceServer::new(Echo),
            StreamingTestServer::new(BenchStreams),
            &gateway,
        ),
        Contender::GenDirect => axum::Router::new()
            .merge(echo_service_gateway::direct_router(
                Direct::new(Echo),
                &gateway,
            ))
            .merge(streaming_test_gateway::direct_router(
                Direct::new(BenchStreams),
                &gateway,
            ))
            .with_gateway_fallbacks(&gateway),
        Contender::Hand => hand::router(connect(backend.expect("hand needs a backend")).await),
        Contender::BoxedCall => experiments::boxed_call_router(
            connect(backend.expect("experiments need a backend")).await,
            &gateway,
        ),
        Contender::HandSmallBuffer => experiments::small_buffer_ws_router(
            connect(backend.expect("experiments need a backend")).await,
        ),
        Contender::Tonic => unreachable!("tonic-direct has no gateway"),
        Contender::IssueInProcess => unreachable!("served by the executable of the issue's time"),
    }
}

/// Installs the Prometheus recorder the runtime's metrics go to, as the
/// example does, with its upkeep (histogram maintenance) on an interval.
fn install_recorder() {
    let handle = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .expect("one recorder per process");
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            handle.run_upkeep();
        }
    });
}

/// The generated routers of both services, as an application would merge
/// them.
fn generated<E: Transport, S: Transport>(echo: E, streams: S, gateway: &Gateway) -> axum::Router {
    axum::Router::new()
        .merge(echo_service_gateway::router(echo, gateway))
        .merge(streaming_test_gateway::router(streams, gateway))
        .with_gateway_fallbacks(gateway)
}

/// One tonic `Channel` (one HTTP/2 connection) to the backend, shared by
/// every request, as a gateway would hold it.
pub async fn connect(addr: SocketAddr) -> Channel {
    tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .tcp_nodelay(true)
        .connect()
        .await
        .expect("connect to the backend")
}
