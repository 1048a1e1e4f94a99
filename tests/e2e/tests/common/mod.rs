//! Fixtures: the gateway in front of the test services, over loopback, with
//! either backend.

#![allow(dead_code)]

pub mod truth;

use std::net::SocketAddr;

use gateway_e2e::e2e::awkward::abc_service_gateway;
use gateway_e2e::e2e::awkward::abc_service_server::AbcServiceServer;
use gateway_e2e::e2e::echo::v1::echo_service_gateway;
use gateway_e2e::e2e::echo::v1::echo_service_server::EchoServiceServer;
use gateway_e2e::e2e::proto2::proto2_service_gateway;
use gateway_e2e::e2e::proto2::proto2_service_server::Proto2ServiceServer;
use gateway_e2e::e2e::stream::v1::streaming_test_gateway;
use gateway_e2e::e2e::stream::v1::streaming_test_server::StreamingTestServer;
use gateway_e2e::proto2::Proto2;
use gateway_e2e::serve::{spawn_grpc, spawn_http};
use gateway_e2e::services::{Awkward, Echo};
use gateway_e2e::streaming::Streams;
use gateway_runtime::{Direct, Gateway, RouterExt};

/// Which way the gateway reaches the services.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    /// A tonic `Channel` to a gRPC server on loopback.
    Remote,
    /// `foo_gateway::router(FooServer::new(service))`: no network hop.
    InProcess,
    /// `foo_gateway::direct_router(Direct::new(service))`: the service
    /// called directly, no protobuf.
    Direct,
}

/// A running gateway and an HTTP client for it.
pub struct Env {
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    /// Whether responses are held to the OpenAPI documents, which give JSON
    /// names: not with `use_proto_names`.
    pub truth: bool,
}

/// The app: both services' routers merged, with the JSON fallbacks.
pub async fn app(backend: Backend, gateway: &Gateway) -> axum::Router {
    let (echo, awkward, streams, proto2) = match backend {
        Backend::Remote => {
            let grpc = spawn_grpc().await;
            let channel = tonic::transport::Endpoint::from_shared(format!("http://{grpc}"))
                .unwrap()
                .connect()
                .await
                .unwrap();
            (
                echo_service_gateway::router(channel.clone(), gateway),
                abc_service_gateway::router(channel.clone(), gateway),
                streaming_test_gateway::router(channel.clone(), gateway),
                proto2_service_gateway::router(channel, gateway),
            )
        }
        Backend::InProcess => (
            echo_service_gateway::router(EchoServiceServer::new(Echo), gateway),
            abc_service_gateway::router(AbcServiceServer::new(Awkward), gateway),
            streaming_test_gateway::router(StreamingTestServer::new(Streams), gateway),
            proto2_service_gateway::router(Proto2ServiceServer::new(Proto2), gateway),
        ),
        Backend::Direct => (
            echo_service_gateway::direct_router(Direct::new(Echo), gateway),
            abc_service_gateway::direct_router(Direct::new(Awkward), gateway),
            streaming_test_gateway::direct_router(Direct::new(Streams), gateway),
            proto2_service_gateway::direct_router(Direct::new(Proto2), gateway),
        ),
    };
    axum::Router::new()
        .merge(echo)
        .merge(awkward)
        .merge(streams)
        .merge(proto2)
        .with_gateway_fallbacks(gateway)
}

impl Env {
    pub async fn start(backend: Backend, gateway: Gateway) -> Env {
        let truth = !gateway.json_options().use_proto_names;
        let addr = spawn_http(app(backend, &gateway).await).await;
        Env {
            addr,
            http: reqwest::Client::new(),
            truth,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Sends a request; returns status, headers and body text.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> (u16, reqwest::header::HeaderMap, String) {
        let mut request = self.http.request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            self.url(path),
        );
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        if let Some(body) = body {
            request = request.body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap();
        let content_type = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if self.truth {
            truth::check_response(method, path, status, content_type, &body);
        }
        (status, headers, body)
    }

    pub async fn get(&self, path: &str) -> (u16, String) {
        let (s, _, b) = self.send("GET", path, None, &[]).await;
        (s, b)
    }

    pub async fn post(&self, path: &str, body: &str) -> (u16, String) {
        let (s, _, b) = self.send("POST", path, Some(body), &[]).await;
        (s, b)
    }
}

/// A gateway that leaves default values out, for short exact bodies.
pub fn sparse() -> Gateway {
    Gateway::builder().emit_defaults(false).build()
}

/// Runs a test body against every backend (the name is from when there
/// were two).
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $gateway:expr, |$env:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test]
            async fn remote() {
                let $env = common::Env::start(common::Backend::Remote, $gateway).await;
                $body
            }

            #[tokio::test]
            async fn in_process() {
                let $env = common::Env::start(common::Backend::InProcess, $gateway).await;
                $body
            }

            #[tokio::test]
            async fn direct() {
                let $env = common::Env::start(common::Backend::Direct, $gateway).await;
                $body
            }
        }
    };
}

/// The next text frame of a WebSocket (over HTTP/1.1 or HTTP/2), skipping
/// pings and pongs, or the close frame's code and reason as `Err`.
pub async fn next_text<S>(ws: &mut S) -> Result<String, (u16, String)>
where
    S: futures_util::Stream<
            Item = Result<
                tokio_tungstenite::tungstenite::Message,
                tokio_tungstenite::tungstenite::Error,
            >,
        > + Unpin,
{
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        let message = tokio::time::timeout(std::time::Duration::from_secs(60), ws.next())
            .await
            .expect("a frame")
            .expect("open")
            .unwrap();
        match message {
            Message::Text(t) => return Ok(t.to_string()),
            Message::Close(Some(frame)) => {
                return Err((u16::from(frame.code), frame.reason.to_string()));
            }
            Message::Close(None) => return Err((1005, String::new())),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected {other:?}"),
        }
    }
}
